//! Signed corrections of typed fields (issue 16), over HTTP on both
//! databases: the record shows the new value, its history the old one with
//! the reason and the signer, the ledger holds the event and still replays
//! to the tables; what derives from the value follows; every refusal
//! changes nothing; two corrections racing from the same value, one wins;
//! and the lot page's "Correct" form.

use chrono::Duration;
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION};
use serde_json::{Value, json};

use crate::clinic::Clinic;
use crate::helpers::{STAFF_PASSWORD, TestApp};
use crate::on_both_databases;
use crate::story::{Team, id, rfc3339};
use crate::web::{browser, csrf, page, sign_in};

on_both_databases!(
    a_lab_corrects_a_lots_expiry_and_a_vials_volume,
    a_clinician_corrects_a_birth_date_and_a_dlqi_answer_and_outcomes_follow,
    a_donor_code_and_a_qc_value_are_corrected_and_the_ledger_replays,
    a_reserved_doses_vial_is_corrected_and_the_dose_is_named,
    a_corrected_expiry_is_judged_at_the_next_step,
    refused_corrections_change_nothing,
    two_corrections_racing_from_the_same_value_one_wins,
    a_lab_corrects_an_expiry_on_the_lot_page,
);

/// A correction's body, signed with the staff password.
fn correction(kind: &str, subject_id: &str, field: &str, value: Value, reason: &str) -> Value {
    json!({
        "subject_kind": kind,
        "subject_id": subject_id,
        "field": field,
        "value": value,
        "reason": reason,
        "signature": { "password": STAFF_PASSWORD, "meaning": "correction" },
    })
}

async fn history(app: &TestApp, token: &str, kind: &str, subject_id: &str) -> Value {
    app.get(
        &format!("/api/v1/corrections?subject_kind={kind}&subject_id={subject_id}"),
        Some(token),
    )
    .await
    .expect(200)
}

/// The subject's custody events with this action.
async fn ledgered(
    app: &TestApp,
    team: &Team,
    kind: &str,
    subject: &str,
    action: &str,
) -> Vec<Value> {
    app.get(
        &format!("/api/v1/audit?subject_kind={kind}&subject_id={subject}"),
        Some(&team.quality),
    )
    .await
    .expect(200)
    .as_array()
    .unwrap()
    .iter()
    .filter(|e| e["action"] == action)
    .cloned()
    .collect()
}

/// The ledger verifies and replays to the tables with no difference.
async fn replays(app: &TestApp, team: &Team) -> Value {
    let report = app.verify_ledger(team).await;
    assert_eq!(report["ok"], true, "{report:#}");
    assert_eq!(report["replay"]["differences"], 0, "{report:#}");
    report
}

async fn a_lab_corrects_a_lots_expiry_and_a_vials_volume(app: TestApp) {
    let team = app.team().await;
    let (lot, vials) = app.dosing_stock(&team, "UCD-C001", 4, 60).await;
    let lot_id = id(&lot);
    let old_expiry = lot["expires_at"].clone();
    let new_expiry = rfc3339(app.clock.now() + Duration::days(30));
    let made = app
        .post(
            "/api/v1/corrections",
            Some(&team.lab),
            correction(
                "lot",
                &lot_id,
                "expires_at",
                json!(new_expiry),
                "typed from the wrong batch record",
            ),
        )
        .await
        .expect(201);
    assert_eq!(made["field"], "expires_at");
    assert_eq!(made["subject_name"], lot["code"]);
    assert!(
        made["labels_to_reprint"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l.as_str().unwrap().contains("every vial label")),
        "{made}"
    );
    // the record shows the new value
    let now = app
        .get(&format!("/api/v1/lots/{lot_id}"), Some(&team.lab))
        .await
        .expect(200);
    let shown: chrono::DateTime<chrono::Utc> = now["expires_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        shown,
        new_expiry.parse::<chrono::DateTime<chrono::Utc>>().unwrap()
    );
    // its history: old, new, reason, signer
    let lot_history = history(&app, &team.quality, "lot", &lot_id).await;
    let entries = lot_history["corrections"].as_array().unwrap();
    assert_eq!(entries.len(), 1);
    let old: chrono::DateTime<chrono::Utc> =
        entries[0]["old_value"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        old,
        old_expiry
            .as_str()
            .unwrap()
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap()
    );
    assert_eq!(entries[0]["reason"], "typed from the wrong batch record");
    assert_eq!(entries[0]["signer"]["username"], "lab.tech");
    assert_eq!(entries[0]["signer"]["meaning"], "correction");
    // the ledger holds it, signed
    let events = ledgered(&app, &team, "lot", &lot_id, "lot.corrected").await;
    assert_eq!(events.len(), 1);
    let details = &events[0]["details"];
    assert_eq!(details["field"], "expires_at");
    assert_eq!(details["new"], entries[0]["new_value"]);
    assert_eq!(details["old"], entries[0]["old_value"]);
    assert_eq!(details["signature"]["signer"], "lab.tech");
    assert_eq!(events[0]["seq"], entries[0]["event_seq"]);

    // a vial's volume, per vial
    let vial_id = id(&vials[0]);
    let volume = crate::clinic::VOLUME_UL;
    let made = app
        .post(
            "/api/v1/corrections",
            Some(&team.lab),
            correction(
                "vial",
                &vial_id,
                "volume_ul",
                json!(900),
                "filled 0.9 mL, not 1.0",
            ),
        )
        .await
        .expect(201);
    assert_eq!(made["old_value"], volume);
    assert_eq!(made["new_value"], 900);
    let vial = app
        .get(&format!("/api/v1/vials/{vial_id}"), Some(&team.lab))
        .await
        .expect(200);
    assert_eq!(vial["volume_ul"], 900);
    let other = app
        .get(&format!("/api/v1/vials/{}", id(&vials[1])), Some(&team.lab))
        .await
        .expect(200);
    assert_eq!(other["volume_ul"], volume, "only that vial");
    let vial_history = history(&app, &team.lab, "vial", &vial_id).await;
    assert_eq!(vial_history["current"]["volume_ul"], 900);
    assert_eq!(vial_history["corrections"][0]["old_value"], volume);
    assert_eq!(
        vial_history["corrections"][0]["reason"],
        "filled 0.9 mL, not 1.0"
    );
    assert_eq!(
        ledgered(&app, &team, "vial", &vial_id, "vial.corrected")
            .await
            .len(),
        1
    );
    replays(&app, &team).await;
}

/// A DLQI of the patient, answered `answers`.
async fn dlqi(app: &TestApp, clinic: &Clinic, patient_id: &str, answers: Value) -> Value {
    app.post(
        &format!("/api/v1/patients/{patient_id}/assessments"),
        Some(&clinic.clinician),
        json!({ "kind": "dlqi", "assessed_at": rfc3339(app.clock.now()), "answers": answers }),
    )
    .await
    .expect(201)
}

async fn a_clinician_corrects_a_birth_date_and_a_dlqi_answer_and_outcomes_follow(app: TestApp) {
    let team = app.team().await;
    let clinic = app.clinic().await;
    let (lot, _) = app.dosing_stock(&team, "UCD-C002", 6, 60).await;
    let patient = app.weighed_patient(&clinic, "PV-C02", 60).await;
    let pid = id(&patient);
    let dose = app.prepared_dose(&clinic, &pid).await;
    app.infuse(&clinic, &patient, &dose).await;

    let made = app
        .post(
            "/api/v1/corrections",
            Some(&clinic.clinician),
            correction(
                "patient",
                &pid,
                "birth_date",
                json!("1981-05-17"),
                "year misread from the ID card",
            ),
        )
        .await
        .expect(201);
    assert_eq!(made["old_value"], "1980-05-17");
    assert!(
        made["labels_to_reprint"][0]
            .as_str()
            .unwrap()
            .contains("wristband"),
        "{made}"
    );
    let shown = app
        .get(&format!("/api/v1/patients/{pid}"), Some(&clinic.clinician))
        .await
        .expect(200);
    assert_eq!(shown["birth_date"], "1981-05-17");
    let patient_history = history(&app, &clinic.clinician, "patient", &pid).await;
    assert_eq!(patient_history["corrections"][0]["new_value"], "1981-05-17");
    assert_eq!(
        patient_history["corrections"][0]["signer"]["username"],
        "nurse.one"
    );

    // a DLQI answer: the score is recomputed, outcomes follow
    let scored = dlqi(&app, &clinic, &pid, json!([1, 0, 0, 1, 0, 0, 0, 0, 0, 0])).await;
    assert_eq!(scored["score"], 2);
    let outcomes_path = format!("/api/v1/lots/{}/outcomes", id(&lot));
    let before = app
        .get(&outcomes_path, Some(&clinic.clinician))
        .await
        .expect(200);
    assert_eq!(before["recipients"][0]["latest_dlqi"], 2, "{before}");
    let made = app
        .post(
            "/api/v1/corrections",
            Some(&clinic.clinician),
            correction(
                "assessment",
                &id(&scored),
                "answers[3]",
                json!(3),
                "answer 4 was 'very much'",
            ),
        )
        .await
        .expect(201);
    assert_eq!(
        (made["score_old"].clone(), made["score_new"].clone()),
        (json!(2), json!(4))
    );
    let after = app
        .get(&outcomes_path, Some(&clinic.clinician))
        .await
        .expect(200);
    assert_eq!(after["recipients"][0]["latest_dlqi"], 4, "{after}");
    let assessment_history = history(&app, &clinic.clinician, "assessment", &id(&scored)).await;
    assert_eq!(assessment_history["current"]["answers[3]"], 3);
    assert_eq!(assessment_history["corrections"][0]["old_value"], 1);
    let events = ledgered(&app, &team, "patient", &pid, "patient.assessment_corrected").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["details"]["score_new"], 4);
    assert_eq!(
        ledgered(&app, &team, "patient", &pid, "patient.corrected")
            .await
            .len(),
        1
    );
    // a PASI region's score: the PASI is recomputed (tenths)
    let region = json!({ "erythema": 1, "induration": 1, "desquamation": 1, "area": 2 });
    let pasi = app
        .post(
            &format!("/api/v1/patients/{pid}/assessments"),
            Some(&clinic.clinician),
            json!({
                "kind": "pasi",
                "assessed_at": rfc3339(app.clock.now()),
                "regions": { "head": region, "upper_limbs": region, "trunk": region, "lower_limbs": region },
            }),
        )
        .await
        .expect(201);
    let made = app
        .post(
            "/api/v1/corrections",
            Some(&clinic.clinician),
            correction(
                "assessment",
                &id(&pasi),
                "regions.trunk.area",
                json!(3),
                "area misjudged",
            ),
        )
        .await
        .expect(201);
    assert_eq!(
        made["score_new"].as_i64().unwrap() - made["score_old"].as_i64().unwrap(),
        9
    );
    // a PASI has no DLQI answers
    app.post(
        "/api/v1/corrections",
        Some(&clinic.clinician),
        correction("assessment", &id(&pasi), "answers[0]", json!(1), "typo"),
    )
    .await
    .expect_error(422, "field_not_correctable");
    replays(&app, &team).await;
}

async fn a_donor_code_and_a_qc_value_are_corrected_and_the_ledger_replays(app: TestApp) {
    let team = app.team().await;
    let (donor, donation) = app.eligible_donor(&team, "UCD-C003").await;
    let donor_id = id(&donor);
    app.post(
        "/api/v1/corrections",
        Some(&team.lab),
        correction(
            "donor",
            &donor_id,
            "code",
            json!("ucd-c030"),
            "digits transposed",
        ),
    )
    .await
    .expect(201);
    let shown = app
        .get(&format!("/api/v1/donors/{donor_id}"), Some(&team.lab))
        .await
        .expect(200);
    assert_eq!(shown["code"], "UCD-C030", "parsed as at entry");
    // a donation's arrival, an hour later than typed; before its collection,
    // refused as at entry
    let donation_id = id(&donation);
    let collected: chrono::DateTime<chrono::Utc> =
        donation["collected_at"].as_str().unwrap().parse().unwrap();
    app.post(
        "/api/v1/corrections",
        Some(&team.lab),
        correction(
            "donation",
            &donation_id,
            "received_at",
            json!(rfc3339(collected - Duration::hours(1))),
            "typo",
        ),
    )
    .await
    .expect_error(422, "invalid_field");
    let received = rfc3339(collected + Duration::hours(4));
    app.post(
        "/api/v1/corrections",
        Some(&team.lab),
        correction(
            "donation",
            &donation_id,
            "received_at",
            json!(received),
            "courier's log",
        ),
    )
    .await
    .expect(201);
    let donation_history = history(&app, &team.lab, "donation", &donation_id).await;
    let now: chrono::DateTime<chrono::Utc> = donation_history["current"]["received_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(now, collected + Duration::hours(4));
    assert_eq!(
        ledgered(&app, &team, "donation", &donation_id, "donation.corrected")
            .await
            .len(),
        1
    );
    // a QC result of a lot in process: judged again against its specification
    let lot = app.lot(&team, &id(&donation)).await;
    let lot_id = id(&lot);
    let result = app
        .qc(&team, &lot_id, "viability", "92.5", Some("%"))
        .await
        .expect(201);
    assert_eq!(result["pass"], true);
    let made = app
        .post(
            "/api/v1/corrections",
            Some(&team.lab),
            correction(
                "qc_result",
                &id(&result),
                "value",
                json!("72.5"),
                "first digit misread",
            ),
        )
        .await
        .expect(201);
    assert_eq!(made["new_value"], "72.5");
    let lot_now = app
        .get(&format!("/api/v1/lots/{lot_id}"), Some(&team.lab))
        .await
        .expect(200);
    let qc = lot_now["qc"]
        .as_array()
        .or(lot_now["qc_results"].as_array())
        .expect("the lot's QC results");
    let viability = qc.iter().find(|r| r["id"] == result["id"]).unwrap();
    assert_eq!(viability["value"], "72.5");
    assert_eq!(viability["pass"], false, "judged again");
    assert_eq!(
        ledgered(&app, &team, "lot", &lot_id, "lot.qc_corrected")
            .await
            .len(),
        1
    );
    assert_eq!(
        ledgered(&app, &team, "donor", &donor_id, "donor.corrected")
            .await
            .len(),
        1
    );
    replays(&app, &team).await;
}

async fn a_reserved_doses_vial_is_corrected_and_the_dose_is_named(app: TestApp) {
    let team = app.team().await;
    let clinic = app.clinic().await;
    app.dosing_stock(&team, "UCD-C004", 6, 60).await;
    let patient = app.weighed_patient(&clinic, "PV-C04", 60).await;
    let dose = app.order(&clinic, &id(&patient)).await.expect(201);
    let vial_id = dose["vial_ids"][0].as_str().unwrap().to_owned();
    // reserved, not yet prepared: allowed; the thaw reads the vial then
    let made = app
        .post(
            "/api/v1/corrections",
            Some(&team.lab),
            correction(
                "vial",
                &vial_id,
                "cells_per_vial",
                json!(9_000_000),
                "recount of the freezing bag",
            ),
        )
        .await
        .expect(201);
    assert_eq!(made["reserved_doses"], json!([dose["code"]]), "{made}");
    let vial = app
        .get(&format!("/api/v1/vials/{vial_id}"), Some(&team.lab))
        .await
        .expect(200);
    assert_eq!(vial["cells_per_vial"], 9_000_000);
    // the thaw judges the count against the corrected value: 16 × 10^6
    // viable cells/mL in 1.5 mL is no recovery of 9 × 10^6 frozen, and it
    // is flagged, naming the corrected cells
    let flagged = app
        .thaw(&clinic, &dose, 16_000_000, json!(92))
        .await
        .expect_error(422, "implausible_count");
    let counted = flagged["vials"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["vial_id"] == json!(vial_id))
        .cloned()
        .unwrap();
    assert_eq!(counted["cells_frozen"], 9_000_000, "{flagged}");
    replays(&app, &team).await;
}

/// What a refusal must leave as it was: the record and the ledger's head.
async fn state_of(app: &TestApp, team: &Team, path: &str) -> (Value, Value, Value) {
    let record = app.get(path, Some(&team.quality)).await.expect(200);
    let report = app.verify_ledger(team).await;
    (
        record,
        report["events"].clone(),
        report["head_hash"].clone(),
    )
}

async fn refused_corrections_change_nothing(app: TestApp) {
    let team = app.team().await;
    let clinic = app.clinic().await;
    let (lot, vials) = app.dosing_stock(&team, "UCD-C005", 6, 60).await;
    let patient = app.weighed_patient(&clinic, "PV-C05", 60).await;
    let pid = id(&patient);
    let dose = app.prepared_dose(&clinic, &pid).await;
    let lot_id = id(&lot);
    let lot_path = format!("/api/v1/lots/{lot_id}");
    let before = state_of(&app, &team, &lot_path).await;
    let later = json!(rfc3339(app.clock.now() + Duration::days(40)));
    let mut wrong_password = correction("lot", &lot_id, "expires_at", later.clone(), "typo");
    wrong_password["signature"]["password"] = json!("not my password");
    for (token, body, status, code) in [
        // the role that types it corrects it
        (
            &team.quality,
            correction("lot", &lot_id, "expires_at", later.clone(), "typo"),
            403,
            "forbidden",
        ),
        (
            &clinic.clinician,
            correction("lot", &lot_id, "expires_at", later.clone(), "typo"),
            403,
            "forbidden",
        ),
        (&team.lab, wrong_password, 401, "signature_invalid"),
        (
            &team.lab,
            correction("lot", &lot_id, "expires_at", later.clone(), "  "),
            422,
            "invalid_field",
        ),
        (
            &team.lab,
            correction("lot", &lot_id, "code", json!("X"), "typo"),
            422,
            "field_not_correctable",
        ),
        (
            &team.lab,
            correction("lot", &lot_id, "status", json!("released"), "typo"),
            422,
            "field_not_correctable",
        ),
        (
            &team.lab,
            correction(
                "lot",
                &lot_id,
                "expires_at",
                json!(rfc3339(app.days_ago(10))),
                "typo",
            ),
            422,
            "invalid_field",
        ),
        (
            &team.lab,
            correction("lot", &lot_id, "expires_at", json!("next week"), "typo"),
            422,
            "invalid_field",
        ),
        (
            &team.lab,
            correction("lot", &lot_id, "passage", json!(4), "typo"),
            409,
            "correction_changes_nothing",
        ),
        (
            &team.lab,
            correction("lot", &lot_id, "passage", json!(51), "typo"),
            422,
            "invalid_field",
        ),
    ] {
        let refused = app
            .post("/api/v1/corrections", Some(token), body)
            .await
            .expect_error(status, code);
        assert_eq!(state_of(&app, &team, &lot_path).await, before, "{refused}");
    }
    // an expiry that would make the prepared dose a use of an expired lot
    let refused = app
        .post(
            "/api/v1/corrections",
            Some(&team.lab),
            correction(
                "lot",
                &lot_id,
                "expires_at",
                json!(rfc3339(app.clock.now() - Duration::minutes(1))),
                "typo",
            ),
        )
        .await
        .expect_error(422, "correction_changes_dose");
    assert_eq!(refused["doses"][0]["code"], dose["code"], "{refused}");
    assert_eq!(state_of(&app, &team, &lot_path).await, before);

    // a vial of the thawed and verified dose: refused, naming the dose
    let thawed = dose["vial_ids"][0].as_str().unwrap().to_owned();
    let vial_path = format!("/api/v1/vials/{thawed}");
    let vial_before = state_of(&app, &team, &vial_path).await;
    for field in ["volume_ul", "cells_per_vial"] {
        let answer = app
            .post(
                "/api/v1/corrections",
                Some(&team.lab),
                correction("vial", &thawed, field, json!(800), "typo"),
            )
            .await;
        let refused = answer.body.clone();
        answer.expect_error(422, "correction_changes_dose");
        let named = &refused["error"]["details"]["doses"][0];
        assert_eq!(named["code"], dose["code"], "{refused}");
        assert_eq!(named["status"], "verified");
        assert!(
            refused["error"]["message"]
                .as_str()
                .unwrap()
                .contains(dose["code"].as_str().unwrap())
        );
        assert_eq!(state_of(&app, &team, &vial_path).await, vial_before);
    }
    // values refused as at entry
    let spare = vials
        .iter()
        .map(id)
        .find(|v| !dose["vial_ids"].as_array().unwrap().iter().any(|d| d == v))
        .unwrap();
    for value in [json!(1000.5), json!(0), json!(100_001), json!("a lot")] {
        app.post(
            "/api/v1/corrections",
            Some(&team.lab),
            correction("vial", &spare, "volume_ul", value, "typo"),
        )
        .await
        .expect_error(422, "invalid_field");
    }
    app.post(
        "/api/v1/corrections",
        Some(&team.lab),
        correction("vial", &spare, "code", json!("V-1"), "typo"),
    )
    .await
    .expect_error(422, "field_not_correctable");
    // a birth date that fails the protocol's ages at enrolment
    let patient_path = format!("/api/v1/patients/{pid}");
    let patient_before = state_of(&app, &team, &patient_path).await;
    let refused = app
        .post(
            "/api/v1/corrections",
            Some(&clinic.clinician),
            correction(
                "patient",
                &pid,
                "birth_date",
                json!(rfc3339(app.clock.now())[..10].to_owned()),
                "typo",
            ),
        )
        .await
        .expect_error(422, "invalid_field");
    assert_eq!(refused["field"], "birth_date");
    let too_young = (app.clock.now() - Duration::days(365 * 16))
        .date_naive()
        .to_string();
    let answer = app
        .post(
            "/api/v1/corrections",
            Some(&clinic.clinician),
            correction("patient", &pid, "birth_date", json!(too_young), "typo"),
        )
        .await;
    let refused = answer.body.clone();
    answer.expect_error(422, "invalid_field");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("protocol deviation"),
        "{refused}"
    );
    app.post(
        "/api/v1/corrections",
        Some(&team.lab),
        correction("patient", &pid, "sex", json!("male"), "typo"),
    )
    .await
    .expect_error(403, "forbidden");
    app.post(
        "/api/v1/corrections",
        Some(&clinic.clinician),
        correction("patient", &pid, "subject_code", json!("PV-C55"), "typo"),
    )
    .await
    .expect_error(422, "field_not_correctable");
    app.post(
        "/api/v1/corrections",
        Some(&clinic.clinician),
        correction(
            "patient",
            &uuid::Uuid::nil().to_string(),
            "sex",
            json!("male"),
            "typo",
        ),
    )
    .await
    .expect_error(404, "not_found");
    assert_eq!(state_of(&app, &team, &patient_path).await, patient_before);
    // nothing was corrected
    assert_eq!(
        history(&app, &team.lab, "lot", &lot_id).await["corrections"],
        json!([])
    );
    assert_eq!(
        history(&app, &team.lab, "patient", &pid).await["corrections"],
        json!([])
    );
    replays(&app, &team).await;
}

async fn two_corrections_racing_from_the_same_value_one_wins(app: TestApp) {
    let team = app.team().await;
    let (lot, _) = app.dosing_stock(&team, "UCD-C006", 2, 60).await;
    let lot_id = id(&lot);
    let from = lot["expires_at"].clone();
    let body = |days: i64| {
        let mut body = correction(
            "lot",
            &lot_id,
            "expires_at",
            json!(rfc3339(app.clock.now() + Duration::days(days))),
            "typo",
        );
        body["old_value"] = from.clone();
        body
    };
    let (a, b) = tokio::join!(
        app.post("/api/v1/corrections", Some(&team.lab), body(30)),
        app.post("/api/v1/corrections", Some(&team.lab), body(31)),
    );
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort();
    assert_eq!(statuses, [201, 409]);
    let loser = if a.status.as_u16() == 409 { a } else { b };
    assert_eq!(
        loser.body["error"]["code"], "concurrent_change",
        "{:?}",
        loser.body
    );
    let entries = history(&app, &team.lab, "lot", &lot_id).await["corrections"].clone();
    assert_eq!(entries.as_array().unwrap().len(), 1);
    assert_eq!(
        ledgered(&app, &team, "lot", &lot_id, "lot.corrected")
            .await
            .len(),
        1
    );
    replays(&app, &team).await;
}

async fn a_lab_corrects_an_expiry_on_the_lot_page(app: TestApp) {
    let team = app.team().await;
    let (lot, _) = app.dosing_stock(&team, "UCD-C007", 2, 60).await;
    let lot_id = id(&lot);
    let cookie = sign_in(&app, "lab.tech").await;
    let (status, html) = page(&app, &format!("/lots/{lot_id}"), &cookie).await;
    assert_eq!(status, StatusCode::OK);
    let form_path = format!("/corrections/lot/{lot_id}?field=expires_at");
    assert!(
        html.contains(&form_path.replace('&', "&amp;")) || html.contains(&form_path),
        "{html}"
    );
    let (status, html) = page(&app, &form_path, &cookie).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("Sign the correction"), "{html}");
    let token = csrf(&html);
    let post = |fields: Vec<(&'static str, String)>| {
        let pairs: Vec<(&str, String)> = fields;
        browser()
            .post(app.url(&format!("/corrections/lot/{lot_id}")))
            .header(COOKIE, cookie.clone())
            .form(&pairs)
            .send()
    };
    let new_expiry = app
        .state
        .settings
        .timezone
        .iso(app.clock.now() + Duration::days(20));
    let new_local: String = new_expiry.chars().take(16).collect();
    let fields = |reason: &str, password: &str| {
        vec![
            ("csrf", token.clone()),
            ("field", "expires_at".to_owned()),
            ("value", new_local.clone()),
            ("reason", reason.to_owned()),
            ("password", password.to_owned()),
            ("meaning", "correction".to_owned()),
        ]
    };
    // a refusal comes back as a sentence, and records nothing
    let refused = post(fields("typed from the wrong record", "wrong"))
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::SEE_OTHER);
    let to = refused.headers()[LOCATION].to_str().unwrap().to_owned();
    let (_, text) = page(&app, &to, &cookie).await;
    assert!(text.contains("password is not yours"), "{text}");
    assert_eq!(
        history(&app, &team.lab, "lot", &lot_id).await["corrections"],
        json!([])
    );
    let done = post(fields("typed from the wrong record", STAFF_PASSWORD))
        .await
        .unwrap();
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    let to = done.headers()[LOCATION].to_str().unwrap().to_owned();
    let (_, html) = page(&app, &to, &cookie).await;
    assert!(html.contains("typed from the wrong record"), "{html}");
    assert!(html.contains("reprint"), "{html}");
    // the field in words, never its column's name
    assert!(html.contains("Expiry corrected:"), "{html}");
    assert!(!html.contains(">expires_at<"), "{html}");
    // the lot page lists the history, with the signer, in site time
    let (_, html) = page(&app, &format!("/lots/{lot_id}"), &cookie).await;
    assert!(html.contains("typed from the wrong record"), "{html}");
    assert!(html.contains(&new_local.replace('T', " ")), "{html}");
    let entries = history(&app, &team.lab, "lot", &lot_id).await["corrections"].clone();
    assert_eq!(entries.as_array().unwrap().len(), 1);
    replays(&app, &team).await;
}

async fn a_corrected_expiry_is_judged_at_the_next_step(app: TestApp) {
    let team = app.team().await;
    let clinic = app.clinic().await;
    let (lot, _) = app.dosing_stock(&team, "UCD-C008", 6, 60).await;
    let patient = app.weighed_patient(&clinic, "PV-C08", 60).await;
    let dose = app.order(&clinic, &id(&patient)).await.expect(201);
    // the lot in fact expired a minute ago: a reserved dose is not prepared,
    // so the correction is made, and names the dose that will meet it
    let made = app
        .post(
            "/api/v1/corrections",
            Some(&team.lab),
            correction(
                "lot",
                &id(&lot),
                "expires_at",
                json!(rfc3339(app.clock.now() - Duration::minutes(1))),
                "expiry of the certificate of analysis",
            ),
        )
        .await
        .expect(201);
    assert_eq!(made["reserved_doses"], json!([dose["code"]]), "{made}");
    // the thaw judges the expiry on the server's clock: refused
    let refused = app
        .thaw(&clinic, &dose, 16_000_000, json!(92))
        .await
        .expect_error(422, "lot_expired");
    assert_eq!(refused["lot_id"], lot["id"]);
    replays(&app, &team).await;
}
