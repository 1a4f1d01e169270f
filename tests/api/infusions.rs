//! Infusions: the bedside two-scan check, the post-thaw shelf life, the
//! protocol's six infusions in 56 days, adverse events, and the wristband
//! and dose labels read back as the payloads the check wants.

use chrono::Duration;
use serde_json::json;

use crate::clinic::Clinic;
use crate::helpers::{STAFF_PASSWORD, TestApp, token_of};
use crate::on_both_databases;
use crate::readback::decode_png;
use crate::story::id;

on_both_databases!(
    an_infusion_starts_only_when_both_scans_match,
    an_unverified_dose_is_not_infused,
    a_thawed_product_is_refused_after_three_hours,
    six_infusions_then_the_seventh_is_refused,
    no_infusion_after_the_window_closes,
    completing_records_volume_and_adverse_events,
    wristband_and_dose_labels_scan_back_to_the_bedside_check,
    only_clinicians_infuse,
);

async fn an_infusion_starts_only_when_both_scans_match(app: TestApp) {
    let team = app.team().await;
    let clinic = app.clinic().await;
    let (_, vials) = app.dosing_stock(&team, "UCD-8000", 6, 300).await;
    let patient = app.weighed_patient(&clinic, "PV-800", 40).await;
    let other = app.weighed_patient(&clinic, "PV-801", 40).await;
    let dose = app.prepared_dose(&clinic, &id(&patient)).await;
    let wristband = patient["scan_payload"].as_str().unwrap();
    let bag = dose["scan_payload"].as_str().unwrap();
    let vial_label = format!("CT1:V:{}", vials[0]["code"].as_str().unwrap());
    let cases = [
        // another patient's wristband
        (
            other["scan_payload"].as_str().unwrap(),
            bag,
            "patient_scan",
            "wrong_record",
        ),
        // a vial instead of the bag
        (wristband, vial_label.as_str(), "product_scan", "wrong_kind"),
        // the two labels the other way round
        (bag, wristband, "patient_scan", "wrong_kind"),
        // a typed code is not a scan
        ("PV-800", bag, "patient_scan", "unreadable"),
        // another dose of the same patient
        (
            wristband,
            "CT1:D:PV-800-D02",
            "product_scan",
            "wrong_record",
        ),
    ];
    for (patient_scan, product_scan, scan, problem) in cases {
        let details = app
            .start_infusion(&clinic, &dose, patient_scan, product_scan)
            .await
            .expect_error(422, "identity_mismatch");
        let mismatch = &details["mismatches"][0];
        assert_eq!(mismatch["scan"], scan, "{details}");
        assert_eq!(mismatch["problem"], problem, "{details}");
    }
    // every refusal is in the ledger, and nothing was infused
    let history = app
        .get(
            &format!("/api/v1/audit?subject_kind=dose&subject_id={}", id(&dose)),
            Some(&team.quality),
        )
        .await
        .expect(200);
    let mismatches = history
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "dose.identity_mismatch")
        .count();
    assert_eq!(mismatches, cases.len());
    let still = app
        .get(
            &format!("/api/v1/doses/{}", id(&dose)),
            Some(&clinic.clinician),
        )
        .await
        .expect(200);
    assert_eq!(still["status"], "verified");
    assert_eq!(still["infusion_id"], json!(null));
    // the right wristband and the right bag
    let started = app
        .start_infusion(&clinic, &dose, wristband, bag)
        .await
        .expect(201);
    assert_eq!(started["status"], "started");
    assert_eq!(started["infusion_number"], 1);
    assert_eq!(started["subject_code"], "PV-800");
    assert_eq!(app.verify_ledger(&team).await["ok"], true);
}

async fn an_unverified_dose_is_not_infused(app: TestApp) {
    let team = app.team().await;
    let clinic = app.clinic().await;
    app.dosing_stock(&team, "UCD-8100", 4, 300).await;
    let patient = app.weighed_patient(&clinic, "PV-810", 40).await;
    let dose = app.order(&clinic, &id(&patient)).await.expect(201);
    let scans = (
        patient["scan_payload"].as_str().unwrap(),
        dose["scan_payload"].as_str().unwrap(),
    );
    app.start_infusion(&clinic, &dose, scans.0, scans.1)
        .await
        .expect_error(409, "invalid_state");
    app.thaw(&clinic, &dose, 16_000_000, json!(90))
        .await
        .expect(200);
    app.start_infusion(&clinic, &dose, scans.0, scans.1)
        .await
        .expect_error(409, "invalid_state");
}

async fn a_thawed_product_is_refused_after_three_hours(app: TestApp) {
    let team = app.team().await;
    let clinic = app.clinic().await;
    app.dosing_stock(&team, "UCD-8200", 4, 300).await;
    let patient = app.weighed_patient(&clinic, "PV-820", 40).await;
    let dose = app.prepared_dose(&clinic, &id(&patient)).await;
    app.clock.advance(Duration::minutes(181));
    let details = app
        .start_infusion(
            &clinic,
            &dose,
            patient["scan_payload"].as_str().unwrap(),
            dose["scan_payload"].as_str().unwrap(),
        )
        .await
        .expect_error(422, "thawed_product_expired");
    assert_eq!(details["use_by"], dose["use_by"]);
}

async fn six_infusions_then_the_seventh_is_refused(app: TestApp) {
    let team = app.team().await;
    let mut clinic = app.clinic().await;
    app.dosing_stock(&team, "UCD-8300", 14, 300).await;
    let patient = app.weighed_patient(&clinic, "PV-830", 40).await;
    let pid = id(&patient);
    for number in 1..=6 {
        let dose = app.prepared_dose(&clinic, &pid).await;
        assert_eq!(dose["infusion_number"], number);
        let done = app.infuse(&clinic, &patient, &dose).await;
        assert_eq!(done["infusion_number"], number);
        assert_eq!(done["status"], "completed");
        // about every ten days, weighed again before each dose
        app.days_later(&mut clinic, 10).await;
        app.weigh(&clinic, &pid, json!(40), "kg", 1)
            .await
            .expect(201);
    }
    let details = app
        .order(&clinic, &pid)
        .await
        .expect_error(422, "infusion_limit_reached");
    assert_eq!(details["limit"], 6);
    let record = app
        .get(&format!("/api/v1/patients/{pid}"), Some(&clinic.clinician))
        .await
        .expect(200);
    assert_eq!(record["infusions_given"], 6);
    assert_eq!(record["infusions"].as_array().unwrap().len(), 6);
    assert!(record["window_closes_at"].is_string());
    let quality = token_of(app.login("qa.officer", STAFF_PASSWORD).await);
    let report = app
        .get("/api/v1/audit/verify", Some(&quality))
        .await
        .expect(200);
    assert_eq!(report["ok"], true);
}

async fn no_infusion_after_the_window_closes(app: TestApp) {
    let team = app.team().await;
    let mut clinic = app.clinic().await;
    app.dosing_stock(&team, "UCD-8400", 6, 300).await;
    let patient = app.weighed_patient(&clinic, "PV-840", 40).await;
    let pid = id(&patient);
    let dose = app.prepared_dose(&clinic, &pid).await;
    app.infuse(&clinic, &patient, &dose).await;
    app.days_later(&mut clinic, 57).await;
    app.weigh(&clinic, &pid, json!(40), "kg", 1)
        .await
        .expect(201);
    let details = app
        .order(&clinic, &pid)
        .await
        .expect_error(422, "outside_window");
    assert_eq!(details["window_days"], 56);
}

async fn completing_records_volume_and_adverse_events(app: TestApp) {
    let team = app.team().await;
    let clinic = app.clinic().await;
    app.dosing_stock(&team, "UCD-8500", 4, 300).await;
    let patient = app.weighed_patient(&clinic, "PV-850", 40).await;
    let dose = app.prepared_dose(&clinic, &id(&patient)).await;
    let started = app
        .start_infusion(
            &clinic,
            &dose,
            patient["scan_payload"].as_str().unwrap(),
            dose["scan_payload"].as_str().unwrap(),
        )
        .await
        .expect(201);
    let path = format!("/api/v1/infusions/{}/complete", id(&started));
    let now = app.clock.now();
    for (body, code) in [
        (
            json!({ "ended_at": now, "volume_infused_ul": 999_999 }),
            "invalid_field",
        ),
        (
            json!({ "ended_at": now - Duration::hours(1), "volume_infused_ul": 100 }),
            "invalid_field",
        ),
        (
            json!({ "ended_at": now, "volume_infused_ul": 100,
                    "adverse_events": [{ "term": "Fever", "grade": 6, "onset_at": now }] }),
            "invalid_field",
        ),
        (
            json!({ "ended_at": now, "volume_infused_ul": 100,
                    "adverse_events": [{ "term": "", "grade": 1, "onset_at": now }] }),
            "invalid_field",
        ),
    ] {
        app.post(&path, Some(&clinic.clinician), body)
            .await
            .expect_error(422, code);
    }
    let done = app
        .post(
            &path,
            Some(&clinic.clinician),
            json!({
                "ended_at": now,
                "volume_infused_ul": dose["volume_ul"],
                "adverse_events": [
                    { "term": "Infusion related reaction", "grade": 1, "onset_at": now },
                    { "term": "Headache", "grade": 2, "onset_at": now },
                ],
            }),
        )
        .await
        .expect(200);
    assert_eq!(done["status"], "completed");
    assert_eq!(done["adverse_events"].as_array().unwrap().len(), 2);
    assert_eq!(done["adverse_events"][1]["grade"], 2);
    for vial in dose["vial_ids"].as_array().unwrap() {
        let v = app
            .get(
                &format!("/api/v1/vials/{}", vial.as_str().unwrap()),
                Some(&team.lab),
            )
            .await
            .expect(200);
        assert_eq!(v["status"], "infused");
    }
    app.post(
        &path,
        Some(&clinic.clinician),
        json!({ "ended_at": now, "volume_infused_ul": 1 }),
    )
    .await
    .expect_error(409, "invalid_state");
    let record = app
        .get(
            &format!("/api/v1/patients/{}", id(&patient)),
            Some(&clinic.clinician),
        )
        .await
        .expect(200);
    assert_eq!(record["adverse_events"].as_array().unwrap().len(), 2);
    let fetched = app
        .get(
            &format!("/api/v1/infusions/{}", id(&started)),
            Some(&team.quality),
        )
        .await
        .expect(200);
    assert_eq!(fetched["volume_infused_ul"], dose["volume_ul"]);
}

async fn wristband_and_dose_labels_scan_back_to_the_bedside_check(app: TestApp) {
    let team = app.team().await;
    let clinic = app.clinic().await;
    app.dosing_stock(&team, "UCD-8600", 4, 300).await;
    let patient = app.weighed_patient(&clinic, "PV-860", 40).await;
    let dose = app.prepared_dose(&clinic, &id(&patient)).await;
    let (status, content_type, wristband) = app
        .get_bytes(
            &format!("/api/v1/patients/{}/wristband.png", id(&patient)),
            Some(&clinic.clinician),
        )
        .await;
    assert_eq!((status, content_type.as_str()), (200, "image/png"));
    let (status, _, bag) = app
        .get_bytes(
            &format!("/api/v1/doses/{}/label.png", id(&dose)),
            Some(&clinic.clinician),
        )
        .await;
    assert_eq!(status, 200);
    let patient_scan = decode_png(&wristband);
    let product_scan = decode_png(&bag);
    assert_eq!(patient_scan, [patient["scan_payload"].as_str().unwrap()]);
    assert_eq!(product_scan, [dose["scan_payload"].as_str().unwrap()]);
    // the wristband's QR carries the code only; its text adds the birth date
    let (_, _, svg) = app
        .get_bytes(
            &format!("/api/v1/patients/{}/wristband.svg", id(&patient)),
            Some(&clinic.clinician),
        )
        .await;
    let svg = String::from_utf8(svg).unwrap();
    assert!(svg.contains("PV-860"));
    assert!(svg.contains("1980-05-17"));
    assert!(!patient_scan[0].contains("1980"));
    // the bag label prints the volume to give and the use-by time
    let (_, _, zpl) = app
        .get_bytes(
            &format!("/api/v1/doses/{}/label.zpl", id(&dose)),
            Some(&clinic.clinician),
        )
        .await;
    let zpl = String::from_utf8(zpl).unwrap();
    assert!(zpl.contains("Give 2.5 mL"), "{zpl}");
    assert!(zpl.contains("USE BY"), "{zpl}");
    // what was read off the labels passes the bedside check
    app.start_infusion(&clinic, &dose, &patient_scan[0], &product_scan[0])
        .await
        .expect(201);
}

async fn only_clinicians_infuse(app: TestApp) {
    let team = app.team().await;
    let clinic = app.clinic().await;
    app.dosing_stock(&team, "UCD-8700", 4, 300).await;
    let patient = app.weighed_patient(&clinic, "PV-870", 40).await;
    let dose = app.prepared_dose(&clinic, &id(&patient)).await;
    for token in [&clinic.pharmacist, &team.lab, &team.quality] {
        let other = Clinic {
            pharmacist: String::new(),
            clinician: token.clone(),
            verifier: String::new(),
        };
        app.start_infusion(
            &other,
            &dose,
            patient["scan_payload"].as_str().unwrap(),
            dose["scan_payload"].as_str().unwrap(),
        )
        .await
        .expect_error(403, "forbidden");
    }
}
