//! Patients: the protocol record, enrolment against its checklist, and
//! weights with the unit and slip guards.

use chrono::Duration;
use serde_json::json;

use crate::clinic::{eligible_criteria, signature};
use crate::helpers::TestApp;
use crate::on_both_databases;
use crate::story::id;

on_both_databases!(
    the_protocol_is_the_seed_trial_and_amendments_are_signed_versions,
    a_patient_is_enrolled_under_a_subject_code,
    every_failed_or_unanswered_criterion_is_listed_and_nothing_is_enrolled,
    subject_codes_are_unique_and_never_names,
    weights_are_whole_grams_in_either_unit,
    a_change_of_more_than_ten_percent_must_be_confirmed,
    only_clinicians_enrol_and_weigh,
);

async fn the_protocol_is_the_seed_trial_and_amendments_are_signed_versions(app: TestApp) {
    let team = app.team().await;
    let protocol = app
        .get("/api/v1/protocol", Some(&team.lab))
        .await
        .expect(200);
    assert_eq!(protocol["version"], 1);
    assert_eq!(protocol["trial_id"], "NCT02491658");
    assert_eq!(protocol["dose_cells_per_kg"], 1_000_000);
    assert_eq!(protocol["infusions"], 6);
    assert_eq!(protocol["window_days"], 56);
    assert_eq!(protocol["dose_tolerance_pct"], 10);
    assert_eq!(protocol["post_thaw_recovery_pct"], 80);
    assert_eq!(protocol["min_viability_pct"], 70);
    assert_eq!(protocol["post_thaw_shelf_life_minutes"], 180);
    assert_eq!(protocol["weight_valid_days"], 7);
    assert_eq!(
        (
            protocol["weight_min_g"].as_i64(),
            protocol["weight_max_g"].as_i64()
        ),
        (Some(30_000), Some(250_000))
    );
    assert_eq!(protocol["criteria"].as_array().unwrap().len(), 13);
    assert_eq!(protocol["qc_specification"].as_array().unwrap().len(), 12);

    // an amendment: the endotoxin limit tightened
    let mut amended = protocol.clone();
    for field in ["version", "effective_at", "recorded_by", "reason"] {
        amended.as_object_mut().unwrap().remove(field);
    }
    for entry in amended["qc_specification"].as_array_mut().unwrap() {
        if entry["test"] == "endotoxin" {
            entry["limit"] = json!("< 0.25");
        }
    }
    let body =
        json!({ "protocol": amended, "reason": "amendment 2", "signature": signature("approval") });
    app.put("/api/v1/protocol", Some(&team.lab), body.clone())
        .await
        .expect_error(403, "forbidden");
    let mut wrong = body.clone();
    wrong["signature"]["password"] = json!("not-my-password");
    app.put("/api/v1/protocol", Some(&team.quality), wrong)
        .await
        .expect_error(401, "signature_invalid");
    let v2 = app
        .put("/api/v1/protocol", Some(&team.quality), body.clone())
        .await
        .expect(200);
    assert_eq!(v2["version"], 2);
    assert_eq!(v2["reason"], "amendment 2");
    // the new limit judges the next QC result
    let (lot, _) = app.quarantined_lot(&team, "UCD-6000", 1).await;
    let result = app
        .qc(&team, &id(&lot), "endotoxin", "0.3", Some("EU/mL"))
        .await
        .expect(201);
    assert_eq!(result["pass"], false);
    // the same again changes nothing and is refused
    app.put("/api/v1/protocol", Some(&team.quality), body)
        .await
        .expect_error(422, "invalid_field");
    // nonsense is named
    let mut nonsense = amended.clone();
    nonsense["weight_max_g"] = json!(10_000);
    app.put(
        "/api/v1/protocol",
        Some(&team.quality),
        json!({ "protocol": nonsense, "reason": "typo", "signature": signature("approval") }),
    )
    .await
    .expect_error(422, "invalid_field");
    let history = app
        .get("/api/v1/audit?subject_kind=protocol", Some(&team.quality))
        .await
        .expect(200);
    let actions: Vec<_> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["protocol.seeded", "protocol.amended"]);
    let amendment = &history[1]["details"];
    assert_eq!(amendment["signature"]["signer"], "qa.officer");
    assert!(amendment["changes"]["qc_specification"].is_object());
}

async fn a_patient_is_enrolled_under_a_subject_code(app: TestApp) {
    let clinic = app.clinic().await;
    let patient = app.patient(&clinic, "pv-007").await;
    assert_eq!(patient["subject_code"], "PV-007");
    assert_eq!(patient["scan_payload"], "CT1:P:PV-007");
    assert_eq!(patient["baseline_pasi"], 14.2);
    assert_eq!(patient["infusions_given"], 0);
    assert_eq!(patient["infusions_total"], 6);
    assert_eq!(patient["protocol_version"], 1);
    let fetched = app
        .get(
            &format!("/api/v1/patients/{}", id(&patient)),
            Some(&clinic.pharmacist),
        )
        .await
        .expect(200);
    assert_eq!(fetched["criteria"], eligible_criteria());
    let list = app
        .get("/api/v1/patients", Some(&clinic.pharmacist))
        .await
        .expect(200);
    assert_eq!(list["items"][0]["subject_code"], "PV-007");
}

async fn every_failed_or_unanswered_criterion_is_listed_and_nothing_is_enrolled(app: TestApp) {
    let clinic = app.clinic().await;
    let mut criteria = eligible_criteria();
    criteria.as_object_mut().unwrap().remove("informed_consent");
    criteria["hbv_hcv_or_hiv"] = json!(true);
    criteria["pregnant_lactating_or_planning"] = json!(true);
    let details = app
        .enrol_answer(&clinic, "PV-100", criteria)
        .await
        .expect_error(422, "not_eligible");
    let failed: Vec<_> = details["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["criterion"].as_str().unwrap())
        .collect();
    assert_eq!(
        failed,
        [
            "informed_consent",
            "hbv_hcv_or_hiv",
            "pregnant_lactating_or_planning"
        ]
    );
    assert_eq!(details["criteria"][0]["answer"], json!(null));
    // age and baseline PASI are criteria too
    let young = app
        .post(
            "/api/v1/patients",
            Some(&clinic.clinician),
            json!({
                "subject_code": "PV-101",
                "birth_date": (app.clock.now() - Duration::days(17 * 366)).date_naive(),
                "sex": "male",
                "enrolled_at": app.clock.now(),
                "baseline_pasi": "7.9",
                "criteria": eligible_criteria(),
            }),
        )
        .await
        .expect_error(422, "not_eligible");
    assert_eq!(young["age"], 17);
    assert_eq!(young["baseline_pasi_tenths"], 79);
    // an unknown key is not silently ignored
    let mut extra = eligible_criteria();
    extra["likes_cats"] = json!(true);
    let details = app
        .enrol_answer(&clinic, "PV-102", extra)
        .await
        .expect_error(422, "not_eligible");
    assert_eq!(details["unknown_criteria"], json!(["likes_cats"]));
    // a PASI beyond 72 or with two decimals is not a PASI
    for pasi in [json!(72.1), json!("12.45"), json!(-1)] {
        app.post(
            "/api/v1/patients",
            Some(&clinic.clinician),
            json!({
                "subject_code": "PV-103", "birth_date": "1980-01-01", "sex": "female",
                "enrolled_at": app.clock.now(), "baseline_pasi": pasi, "criteria": eligible_criteria(),
            }),
        )
        .await
        .expect_error(422, "invalid_field");
    }
    let list = app
        .get("/api/v1/patients", Some(&clinic.clinician))
        .await
        .expect(200);
    assert_eq!(list, json!({"items": [], "next_cursor": null}));
}

async fn subject_codes_are_unique_and_never_names(app: TestApp) {
    let clinic = app.clinic().await;
    app.patient(&clinic, "PV-200").await;
    let details = app
        .enrol_answer(&clinic, "pv-200", eligible_criteria())
        .await
        .expect_error(409, "subject_code_taken");
    assert_eq!(details["subject_code"], "PV-200");
    app.enrol_answer(&clinic, "Jane Doe", eligible_criteria())
        .await
        .expect_error(422, "invalid_field");
    let mut body = json!({
        "subject_code": "PV-201", "birth_date": "1980-01-01", "sex": "unknown",
        "enrolled_at": app.clock.now(), "baseline_pasi": 12, "criteria": eligible_criteria(),
    });
    app.post("/api/v1/patients", Some(&clinic.clinician), body.clone())
        .await
        .expect_error(422, "invalid_field");
    body["sex"] = json!("female");
    body["criteria"]["informed_consent"] = json!("yes");
    app.post("/api/v1/patients", Some(&clinic.clinician), body)
        .await
        .expect_error(400, "malformed_request");
}

async fn weights_are_whole_grams_in_either_unit(app: TestApp) {
    let clinic = app.clinic().await;
    let patient = app.patient(&clinic, "PV-300").await;
    let pid = id(&patient);
    let kg = app
        .weigh(&clinic, &pid, json!(72.5), "kg", 48)
        .await
        .expect(201);
    assert_eq!(kg["weight_g"], 72_500);
    assert_eq!(kg["weight_kg"], "72.5");
    // 160 lb × 453.59237 g = 72 574.78 g, rounded to the gram
    let lb = app
        .weigh(&clinic, &pid, json!("160"), "lb", 24)
        .await
        .expect(201);
    assert_eq!(lb["weight_g"], 72_575);
    assert_eq!(lb["value"], "160");
    assert_eq!(lb["unit"], "lb");
    // a fraction of a gram rounds half up
    let fine = app
        .weigh(&clinic, &pid, json!("72.5005"), "kg", 12)
        .await
        .expect(201);
    assert_eq!(fine["weight_g"], 72_501);
    // the plausible range, inclusive at both ends
    for (value, status) in [("29.999", 422), ("30", 201), ("250", 201), ("250.001", 422)] {
        let answer = app.weigh(&clinic, &pid, json!(value), "kg", 6).await;
        if status == 422 {
            let details = answer.expect_error(422, "implausible_weight");
            assert_eq!(details["min_g"], 30_000);
        } else {
            answer.expect(201);
        }
    }
    // the unit is never guessed
    app.post(
        &format!("/api/v1/patients/{pid}/weights"),
        Some(&clinic.clinician),
        json!({ "value": 70, "measured_at": app.clock.now() }),
    )
    .await
    .expect_error(400, "malformed_request");
    app.post(
        &format!("/api/v1/patients/{pid}/weights"),
        Some(&clinic.clinician),
        json!({ "value": 70, "unit": "stone", "measured_at": app.clock.now() }),
    )
    .await
    .expect_error(400, "malformed_request");
    app.weigh(&clinic, &pid, json!("-70"), "kg", 1)
        .await
        .expect_error(422, "invalid_field");
}

async fn a_change_of_more_than_ten_percent_must_be_confirmed(app: TestApp) {
    let mut clinic = app.clinic().await;
    let patient = app.patient(&clinic, "PV-400").await;
    let path = format!("/api/v1/patients/{}/weights", id(&patient));
    let weigh = |value: f64, unit: &str, hours_ago: i64, confirm: bool| {
        app.post(
            &path,
            Some(&clinic.clinician),
            json!({
                "value": value, "unit": unit, "confirm_change": confirm,
                "measured_at": app.clock.now() - Duration::hours(hours_ago),
            }),
        )
    };
    weigh(70.0, "kg", 72, false).await.expect(201);
    weigh(77.0, "kg", 48, false).await.expect(201);
    // 77 kg entered as 77 lb: 34.9 kg, a slip the guard catches
    let details = weigh(77.0, "lb", 24, false)
        .await
        .expect_error(422, "weight_change_unconfirmed");
    assert_eq!(details["previous_g"], 77_000);
    assert_eq!(details["weight_g"], 34_927);
    assert_eq!(details["threshold_pct"], 10);
    // a real change, confirmed
    let confirmed = weigh(60.0, "kg", 24, true).await.expect(201);
    assert_eq!(confirmed["confirmed_change"], true);
    // "latest" is the latest measured, not the latest entered: a weight
    // measured earlier, entered now, does not become the latest
    weigh(76.0, "kg", 30, false).await.expect(201);
    let calc = app
        .post(
            "/api/v1/dose-calculations",
            Some(&clinic.pharmacist),
            json!({ "patient_id": patient["id"] }),
        )
        .await
        .expect(200);
    assert_eq!(calc["weight_g"], 60_000);
    // a weight older than the lookback is still compared, at 20 %
    app.days_later(&mut clinic, 40).await;
    let details = app
        .post(
            &path,
            Some(&clinic.clinician),
            json!({ "value": 80, "unit": "kg", "measured_at": app.clock.now() }),
        )
        .await
        .expect_error(422, "weight_change_unconfirmed");
    assert_eq!(details["previous_g"], 60_000);
    assert_eq!(details["threshold_pct"], 20);
    app.post(
        &path,
        Some(&clinic.clinician),
        json!({ "value": 70, "unit": "kg", "measured_at": app.clock.now() }),
    )
    .await
    .expect(201);
}

async fn only_clinicians_enrol_and_weigh(app: TestApp) {
    let team = app.team().await;
    let clinic = app.clinic().await;
    let patient = app.patient(&clinic, "PV-500").await;
    for token in [&team.lab, &clinic.pharmacist, &team.quality] {
        app.enrol_answer(
            &crate::clinic::Clinic {
                pharmacist: String::new(),
                clinician: token.clone(),
                verifier: String::new(),
            },
            "PV-501",
            eligible_criteria(),
        )
        .await
        .expect_error(403, "forbidden");
        app.post(
            &format!("/api/v1/patients/{}/weights", id(&patient)),
            Some(token),
            json!({ "value": 70, "unit": "kg", "measured_at": app.clock.now() }),
        )
        .await
        .expect_error(403, "forbidden");
    }
    app.get(&format!("/api/v1/patients/{}", id(&patient)), None)
        .await
        .expect_error(401, "unauthenticated");
}
