//! The pictures of a lot, through the real pages on both databases: its
//! trace with the recipients first, its outcomes as a waterfall with the
//! PASI 75 line, and the stock against expiry.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::TestApp;
use crate::on_both_databases;
use crate::story::{id, signed};
use crate::web::{page, sign_in};

on_both_databases!(
    a_lot_given_to_a_patient_is_drawn_recipient_first_with_its_outcome,
    the_stock_is_drawn_against_its_expiry_in_both_languages,
);

async fn a_lot_given_to_a_patient_is_drawn_recipient_first_with_its_outcome(app: TestApp) {
    let team = app.team().await;
    let clinic = app.clinic().await;
    let (lot, _) = app.dosing_stock(&team, "UCD-7101", 12, 60).await;
    let patient = app.weighed_patient(&clinic, "PV-7101", 70).await;
    let dose = app.prepared_dose(&clinic, &id(&patient)).await;
    app.infuse(&clinic, &patient, &dose).await;
    // baseline PASI at enrolment; a later one 80 % better
    let region = |r: [i32; 4]| json!({ "erythema": r[0], "induration": r[1], "desquamation": r[2], "area": r[3] });
    app.post(
        &format!("/api/v1/patients/{}/assessments", id(&patient)),
        Some(&clinic.clinician),
        json!({
            "kind": "pasi", "assessed_at": app.clock.now(),
            "regions": { "head": region([0; 4]), "upper_limbs": region([0; 4]), "trunk": region([1, 1, 0, 1]), "lower_limbs": region([0; 4]) },
        }),
    )
    .await
    .expect(201);
    let quality = sign_in(&app, "qa.officer").await;

    let (status, html) = page(&app, &format!("/trace/lots/{}", id(&lot)), &quality).await;
    assert_eq!(status, StatusCode::OK);
    let svg = html.split("<svg").nth(1).expect("the picture");
    let patient_at = svg.find("PV-7101").expect("the recipient in the picture");
    let unused_at = svg.find("given to nobody").expect("the rest as a count");
    assert!(patient_at < unused_at, "recipients come first");
    assert!(svg.contains(&format!("href=\"/doses/{}\"", id(&dose))));
    let given = dose["vial_ids"].as_array().map_or(0, Vec::len);
    assert!(given > 0);
    assert!(
        svg.contains(&format!("#1 ×{given}")),
        "infusion 1, its vials"
    );
    assert!(
        svg.contains(&format!("{} vials available", 12 - given)),
        "{svg}"
    );
    // the vials of the dose, named below the picture
    let first = dose["vials"][0]["code"].as_str().expect("a vial code");
    assert!(html.contains(first));

    let (status, html) = page(&app, &format!("/lots/{}/outcomes", id(&lot)), &quality).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("PASI 75"), "{html}");
    assert!(html.contains(&format!("href=\"/patients/{}\"", id(&patient))));
    assert!(html.contains("Grade 3"));
    assert!(!html.contains("No recipient has a PASI"), "{html}");

    // no notice before a recall; after it, who to tell and what
    let notice = format!("/lots/{}/recall-notice", id(&lot));
    let (status, html) = page(&app, &notice, &quality).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("has not been recalled"), "{html}");
    app.post(
        &format!("/api/v1/lots/{}/recall", id(&lot)),
        Some(&team.quality),
        signed(json!({ "reason": "Sterility retest positive" })),
    )
    .await
    .expect(200);
    let (_, html) = page(&app, &format!("/lots/{}", id(&lot)), &quality).await;
    assert!(
        html.contains(&format!("href=\"{notice}\"")),
        "the lot page leads to it"
    );
    let (status, html) = page(&app, &notice, &quality).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("One recipient to notify"), "{html}");
    assert!(html.contains(&format!("href=\"/patients/{}\"", id(&patient))));
    assert!(html.contains("Infusion 1, started"));
    assert!(
        html.contains("What to tell them") && html.contains("reason: Sterility retest positive")
    );
    assert!(html.contains("vials of this lot are held as recalled"));
    assert!(html.contains("data-print") && html.contains("/assets/print.js"));
    assert!(
        html.contains("@media print"),
        "printed without its header and buttons"
    );

    let unknown = format!("/lots/{}/outcomes", uuid::Uuid::new_v4());
    let (status, html) = page(&app, &unknown, &quality).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!html.contains("\"error\""), "a page, not JSON");
    let (status, _) = page(&app, "/lots/not-a-lot/outcomes", &quality).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

async fn the_stock_is_drawn_against_its_expiry_in_both_languages(app: TestApp) {
    let team = app.team().await;
    let (soon, _) = app.dosing_stock(&team, "UCD-7201", 3, 10).await;
    let (later, _) = app.dosing_stock(&team, "UCD-7202", 5, 200).await;
    let (held, _) = app.quarantined_lot(&team, "UCD-7203", 2).await;
    let lab = sign_in(&app, "lab.tech").await;
    let (status, html) = page(&app, "/stock", &lab).await;
    assert_eq!(status, StatusCode::OK);
    let code = |l: &serde_json::Value| l["code"].as_str().unwrap().to_owned();
    let soon_at = html.find(&code(&soon)).expect("the lot expiring soon");
    let later_at = html.find(&code(&later)).expect("the later lot");
    assert!(soon_at < later_at, "soonest expiry first");
    assert!(
        !html.contains(&code(&held)),
        "quarantined stock is not stock"
    );
    assert!(html.contains("3 vials · expires"), "{html}");
    assert!(html.contains("#a4161a"), "ten days left is red");

    app.put(
        "/api/v1/users/me/preferences",
        Some(&team.lab),
        json!({ "language": "zh-CN" }),
    )
    .await
    .expect(200);
    let (_, html) = page(&app, "/stock", &lab).await;
    assert!(html.contains("按有效期的库存"), "{html}");
    assert!(html.contains(&code(&soon)), "codes are never translated");
}
