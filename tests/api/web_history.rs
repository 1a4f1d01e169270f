//! Every record's page shows its history from the ledger: who did what and
//! when in the site's time, in words, with the signature's meaning and the
//! reasons given, corrections marked as corrections.

use reqwest::StatusCode;
use serde_json::json;

use crate::clinic::signature;
use crate::helpers::TestApp;
use crate::on_both_databases;
use crate::story::id;
use crate::web::{page, sign_in};

on_both_databases!(record_pages_show_who_did_what_when_and_why);

/// The history section of a page.
fn history(html: &str) -> &str {
    html.split("id=\"history\"")
        .nth(1)
        .and_then(|rest| rest.split("</section>").next())
        .expect("the page has its history")
}

async fn record_pages_show_who_did_what_when_and_why(app: TestApp) {
    let team = app.team().await;
    let clinic = app.clinic().await;
    let (lot, vials) = app.dosing_stock(&team, "UCD-4001", 8, 300).await;
    let patient = app.weighed_patient(&clinic, "PV-401", 64).await;
    let slip = app
        .weigh(&clinic, &id(&patient), json!(46), "kg", 0)
        .await
        .expect(201);
    app.post(
        &format!(
            "/api/v1/patients/{}/weights/{}/void",
            id(&patient),
            id(&slip)
        ),
        Some(&clinic.clinician),
        json!({ "reason": "weighed in a wet gown", "signature": signature("weight voided") }),
    )
    .await
    .expect(200);
    let dose = app.order(&clinic, &id(&patient)).await.expect(201);
    app.post(
        &format!("/api/v1/doses/{}/cancel", id(&dose)),
        Some(&clinic.pharmacist),
        json!({ "reason": "ordered for the wrong day" }),
    )
    .await
    .expect(200);
    let quality = sign_in(&app, "qa.officer").await;

    // the lot: created, QC, frozen, released under a signature
    let (status, html) = page(&app, &format!("/lots/{}", id(&lot)), &quality).await;
    assert_eq!(status, StatusCode::OK);
    let lot_history = history(&html);
    for words in [
        "Lot created",
        "QC result recorded",
        "Frozen into vials",
        "Released",
        "Signed by qa.officer (test) (qa.officer), meaning “approval”",
        "+08:00",
    ] {
        assert!(
            lot_history.contains(words),
            "lot history says {words}: {lot_history}"
        );
    }
    // the dose: ordered and cancelled, with the reason
    let (_, html) = page(&app, &format!("/doses/{}", id(&dose)), &quality).await;
    let dose_history = history(&html);
    for words in [
        "Ordered, vials reserved",
        "Cancelled",
        "Reason: <q>ordered for the wrong day</q>",
        "pharm.one",
    ] {
        assert!(
            dose_history.contains(words),
            "dose history says {words}: {dose_history}"
        );
    }
    // newest first
    assert!(dose_history.find("Cancelled").unwrap() < dose_history.find("Ordered").unwrap());
    // the patient: the voided weight is a correction, signed, with its reason
    let (_, html) = page(&app, &format!("/patients/{}", id(&patient)), &quality).await;
    let patient_history = history(&html);
    for words in [
        "Enrolled",
        "Weight recorded",
        "Weight voided",
        "correction",
        "meaning “weight voided”",
        "Reason: <q>weighed in a wet gown</q>",
    ] {
        assert!(
            patient_history.contains(words),
            "patient history says {words}: {patient_history}"
        );
    }
    assert!(patient_history.contains("class=\"correction\""));
    // a vial: reserved, then back in stock
    let reserved = dose["vial_ids"][0].as_str().unwrap();
    let (_, html) = page(&app, &format!("/vials/{reserved}"), &quality).await;
    let vial_history = history(&html);
    for words in [
        "Frozen",
        "Released with its lot",
        "Reserved for a dose",
        "Returned to stock",
    ] {
        assert!(
            vial_history.contains(words),
            "vial history says {words}: {vial_history}"
        );
    }
    assert!(
        !vial_history.contains("vial.reserved"),
        "actions in words, not codes"
    );
    let _ = vials;
}
