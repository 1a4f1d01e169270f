//! Lots: QC against the specification, freezing, release and rejection.

use chrono::Duration;
use serde_json::json;

use crate::helpers::TestApp;
use crate::on_both_databases;
use crate::story::{QC_PASSING, id, rfc3339, signed};

on_both_databases!(
    from_donor_to_released_vials_in_storage,
    qc_results_are_judged_against_the_specification,
    release_needs_complete_passing_qc,
    release_needs_an_eligible_donor_with_clean_screening,
    release_refuses_expired_lots_and_wrong_states,
    release_is_signed_by_quality_only,
    a_rejected_lot_cannot_be_released,
    freezing_checks_its_numbers_and_happens_once,
    the_freeze_answer_is_the_lot_as_it_reads_back,
);

async fn from_donor_to_released_vials_in_storage(app: TestApp) {
    let team = app.team().await;
    let (donor, donation) = app.eligible_donor(&team, "UCD-1000").await;
    assert_eq!(donor["eligibility"], "eligible");
    let lot = app.lot(&team, &id(&donation)).await;
    let din = donation["din"].as_str().unwrap();
    assert_eq!(lot["code"], format!("{din}-L01"));
    assert_eq!(lot["status"], "in_process");
    assert_eq!(lot["qc_standing"]["missing"].as_array().unwrap().len(), 12);
    app.pass_all_qc(&team, &id(&lot)).await;
    let frozen = app.freeze(&team, &id(&lot), 6).await;
    assert_eq!(frozen["lot"]["status"], "quarantine");
    let vials = frozen["vials"].as_array().unwrap();
    assert_eq!(vials.len(), 6);
    for (n, vial) in vials.iter().enumerate() {
        assert_eq!(vial["code"], format!("{din}-L01-V{:03}", n + 1));
        assert_eq!(vial["status"], "quarantine");
    }
    let released = app.release(&team, &id(&lot)).await.expect(200);
    assert_eq!(released["status"], "released");
    assert_eq!(released["vial_counts"], json!({"available": 6}));
    assert!(
        released["qc_standing"]["missing"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    let the_box = app.storage_box(&team, "1", 9, 9).await;
    for (vial, position) in vials.iter().zip(["A1", "A2", "A3", "B1", "B2", "I9"]) {
        let stored = app
            .store(&team, &id(vial), &id(&the_box), position)
            .await
            .expect(200);
        assert_eq!(stored["status"], "available");
        assert_eq!(
            stored["location"]["path"],
            format!("Tank 1 › Rack A › Box 1 › {position}")
        );
    }
    let vial = app
        .get(
            &format!("/api/v1/vials/{}", id(&vials[0])),
            Some(&team.quality),
        )
        .await
        .expect(200);
    assert_eq!(vial["din"], din);
    assert_eq!(vial["lot_id"], lot["id"]);
    assert_eq!(vial["cells_per_vial"], 10_000_000);
    assert_eq!(vial["volume_ul"], 1000);
    assert_eq!(vial["location"]["box_id"], the_box["id"]);
    assert_eq!(vial["location"]["position"], "A1");
    let available = app
        .get(
            &format!("/api/v1/vials?lot_id={}&status=available", id(&lot)),
            Some(&team.lab),
        )
        .await
        .expect(200);
    assert_eq!(available["items"].as_array().unwrap().len(), 6);
    let fetched = app
        .get(&format!("/api/v1/lots/{}", id(&lot)), Some(&team.lab))
        .await
        .expect(200);
    assert_eq!(fetched["qc"].as_array().unwrap().len(), 12);
    assert_eq!(fetched["vial_counts"], json!({"available": 6}));
    let report = app.verify_ledger(&team).await;
    assert_eq!(report["ok"], true);
}

async fn qc_results_are_judged_against_the_specification(app: TestApp) {
    let team = app.team().await;
    let (_, donation) = app.eligible_donor(&team, "UCD-1100").await;
    let lot = id(&app.lot(&team, &id(&donation)).await);
    let pass = |v: serde_json::Value| v["pass"].as_bool().unwrap();
    assert!(pass(
        app.qc(&team, &lot, "cd73", "95", Some("%"))
            .await
            .expect(201)
    ));
    assert!(!pass(
        app.qc(&team, &lot, "cd73", "94.9", Some("%"))
            .await
            .expect(201)
    ));
    assert!(!pass(
        app.qc(&team, &lot, "endotoxin", "0.5", Some("EU/mL"))
            .await
            .expect(201)
    ));
    let result = app
        .qc(&team, &lot, "sterility", "Positive", None)
        .await
        .expect(201);
    assert_eq!(result["pass"], false);
    assert_eq!(result["value"], "positive");
    assert_eq!(result["specification"], "negative");
    // a JSON number is a value too
    let result = app
        .post(
            &format!("/api/v1/lots/{lot}/qc"),
            Some(&team.lab),
            json!({"test": "cd34", "value": 1.5, "unit": "%"}),
        )
        .await
        .expect(201);
    assert_eq!(result["value"], "1.5");
    assert_eq!(result["specification"], "≤ 2");
    // what cannot be judged is refused, naming why
    let details = app
        .qc(&team, &lot, "cd200", "1", Some("%"))
        .await
        .expect_error(422, "unknown_qc_test");
    assert!(
        details["known_tests"]
            .as_array()
            .unwrap()
            .contains(&json!("hla_dr"))
    );
    let details = app
        .qc(&team, &lot, "endotoxin", "0.1", Some("%"))
        .await
        .expect_error(422, "unit_mismatch");
    assert_eq!(details["expected_unit"], "EU/mL");
    app.qc(&team, &lot, "viability", "about 90", Some("%"))
        .await
        .expect_error(422, "invalid_qc_value");
    app.qc(&team, &lot, "viability", "-5", Some("%"))
        .await
        .expect_error(422, "invalid_qc_value");
    app.qc(&team, &lot, "sterility", "clean", None)
        .await
        .expect_error(422, "invalid_qc_value");
    app.post(
        &format!("/api/v1/lots/{}/qc", uuid::Uuid::nil()),
        Some(&team.lab),
        json!({"test": "cd73", "value": "99", "unit": "%"}),
    )
    .await
    .expect_error(404, "not_found");
    // the quality officer judges; the lab records
    app.post(
        &format!("/api/v1/lots/{lot}/qc"),
        Some(&team.quality),
        json!({"test": "cd73", "value": "99", "unit": "%"}),
    )
    .await
    .expect_error(403, "forbidden");
}

async fn release_needs_complete_passing_qc(app: TestApp) {
    let team = app.team().await;
    let (_, donation) = app.eligible_donor(&team, "UCD-1200").await;
    let lot = id(&app.lot(&team, &id(&donation)).await);
    for (test, value, unit) in QC_PASSING
        .iter()
        .filter(|(t, _, _)| *t != "mycoplasma" && *t != "cd19")
    {
        app.qc(&team, &lot, test, value, *unit).await.expect(201);
    }
    app.freeze(&team, &lot, 2).await;
    let details = app
        .release(&team, &lot)
        .await
        .expect_error(422, "qc_incomplete");
    assert_eq!(details["missing"], json!(["mycoplasma", "cd19"]));

    app.qc(&team, &lot, "mycoplasma", "negative", None)
        .await
        .expect(201);
    app.qc(&team, &lot, "cd19", "3.5", Some("%"))
        .await
        .expect(201);
    let details = app
        .release(&team, &lot)
        .await
        .expect_error(422, "qc_failed");
    assert_eq!(details["failed"], json!(["cd19"]));
    // the latest result counts: a passing retest clears the failure
    app.qc(&team, &lot, "cd19", "1.0", Some("%"))
        .await
        .expect(201);
    let released = app.release(&team, &lot).await.expect(200);
    assert_eq!(released["status"], "released");
    // the failing result stays on record
    assert!(
        released["qc"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["test"] == "cd19" && r["pass"] == false)
    );
}

async fn release_needs_an_eligible_donor_with_clean_screening(app: TestApp) {
    let team = app.team().await;
    // a donor still pending
    let donor = app.register_donor(&team, "UCD-1300").await;
    let donation = app.donation(&team, &id(&donor)).await;
    let lot = id(&app.lot(&team, &id(&donation)).await);
    app.pass_all_qc(&team, &lot).await;
    app.freeze(&team, &lot, 2).await;
    let details = app
        .release(&team, &lot)
        .await
        .expect_error(422, "donor_not_eligible");
    assert_eq!(details["eligibility"], "pending");
    assert_eq!(details["donor_id"], donor["id"]);

    // an eligible donor with a reactive result recorded after the decision:
    // the result makes the donor ineligible there and then (1271.80(d))
    let (donor, donation) = app.eligible_donor(&team, "UCD-1301").await;
    let lot = id(&app.lot(&team, &id(&donation)).await);
    app.pass_all_qc(&team, &lot).await;
    app.freeze(&team, &lot, 2).await;
    app.screen(&team, &id(&donor), "hiv", "positive", app.days_ago(19))
        .await;
    let details = app
        .release(&team, &lot)
        .await
        .expect_error(422, "donor_not_eligible");
    assert_eq!(details["eligibility"], "ineligible");
    assert_eq!(details["screening"]["reactive"], json!(["hiv"]));
    let lot_now = app
        .get(&format!("/api/v1/lots/{lot}"), Some(&team.quality))
        .await
        .expect(200);
    assert_eq!(lot_now["status"], "quarantine");
    assert_eq!(lot_now["vial_counts"], json!({"quarantine": 2}));
}

async fn release_refuses_expired_lots_and_wrong_states(app: TestApp) {
    let team = app.team().await;
    let (_, donation) = app.eligible_donor(&team, "UCD-1400").await;
    // in process: not frozen yet
    let lot = id(&app.lot(&team, &id(&donation)).await);
    app.pass_all_qc(&team, &lot).await;
    let details = app
        .release(&team, &lot)
        .await
        .expect_error(409, "invalid_state");
    assert_eq!(
        details,
        json!({"kind": "lot", "status": "in_process", "action": "release"})
    );
    app.freeze(&team, &lot, 1).await;
    app.release(&team, &lot).await.expect(200);
    app.release(&team, &lot)
        .await
        .expect_error(409, "invalid_state");

    // an expired lot
    let expiring = app
        .post(
            "/api/v1/lots",
            Some(&team.lab),
            json!({
                "donation_id": id(&donation),
                "product_code": "S1395",
                "passage": 3,
                "manufactured_at": rfc3339(app.days_ago(10)),
                "expires_at": rfc3339(app.clock.now() + Duration::hours(1)),
            }),
        )
        .await
        .expect(201);
    assert_eq!(
        expiring["code"],
        format!("{}-L02", donation["din"].as_str().unwrap())
    );
    let expiring = id(&expiring);
    app.pass_all_qc(&team, &expiring).await;
    app.freeze(&team, &expiring, 1).await;
    app.clock.advance(Duration::hours(2));
    let details = app
        .release(&team, &expiring)
        .await
        .expect_error(422, "lot_expired");
    assert!(details["expires_at"].is_string());
    app.release(&team, &uuid::Uuid::nil().to_string())
        .await
        .expect_error(404, "not_found");
}

async fn release_is_signed_by_quality_only(app: TestApp) {
    let team = app.team().await;
    let (lot, _) = app.quarantined_lot(&team, "UCD-1500", 2).await;
    let lot = id(&lot);
    let path = format!("/api/v1/lots/{lot}/release");
    app.post(&path, Some(&team.lab), signed(json!({})))
        .await
        .expect_error(403, "forbidden");
    app.post(
        &path,
        Some(&team.quality),
        json!({"signature": {"password": "wrong-password", "meaning": "release"}}),
    )
    .await
    .expect_error(401, "signature_invalid");
    app.post(&path, Some(&team.quality), json!({}))
        .await
        .expect_error(400, "malformed_request");
    let unchanged = app
        .get(&format!("/api/v1/lots/{lot}"), Some(&team.quality))
        .await
        .expect(200);
    assert_eq!(unchanged["status"], "quarantine");
    assert_eq!(unchanged["vial_counts"], json!({"quarantine": 2}));

    app.post(&path, Some(&team.quality), json!({"signature": {"password": crate::helpers::STAFF_PASSWORD, "meaning": "released for clinical use"}}))
        .await
        .expect(200);
    let events = app
        .get(
            &format!("/api/v1/audit?subject_kind=lot&subject_id={lot}"),
            Some(&team.lab),
        )
        .await
        .expect(200);
    let release = events
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "lot.released")
        .unwrap();
    assert_eq!(release["actor_username"], "qa.officer");
    assert_eq!(
        release["details"]["signature"]["meaning"],
        "released for clinical use"
    );
    assert_eq!(
        release["details"]["signature"]["full_name"],
        "qa.officer (test)"
    );
    assert_eq!(release["details"]["vials_released"], 2);
    assert_eq!(
        release["details"]["qc_result_ids"]
            .as_array()
            .unwrap()
            .len(),
        12
    );
}

async fn a_rejected_lot_cannot_be_released(app: TestApp) {
    let team = app.team().await;
    let (lot, _) = app.quarantined_lot(&team, "UCD-1600", 2).await;
    let lot = id(&lot);
    let path = format!("/api/v1/lots/{lot}/reject");
    app.post(&path, Some(&team.quality), signed(json!({"reason": " "})))
        .await
        .expect_error(422, "invalid_field");
    app.post(
        &path,
        Some(&team.lab),
        signed(json!({"reason": "contaminated"})),
    )
    .await
    .expect_error(403, "forbidden");
    let rejected = app
        .post(
            &path,
            Some(&team.quality),
            signed(json!({"reason": "sterility retest positive"})),
        )
        .await
        .expect(200);
    assert_eq!(rejected["status"], "rejected");
    app.release(&team, &lot)
        .await
        .expect_error(409, "invalid_state");
    app.post(
        &path,
        Some(&team.quality),
        signed(json!({"reason": "again"})),
    )
    .await
    .expect_error(409, "invalid_state");
}

async fn freezing_checks_its_numbers_and_happens_once(app: TestApp) {
    let team = app.team().await;
    let (_, donation) = app.eligible_donor(&team, "UCD-1700").await;
    let lot = id(&app.lot(&team, &id(&donation)).await);
    let freeze = |body: serde_json::Value| {
        app.post(&format!("/api/v1/lots/{lot}/freeze"), Some(&team.lab), body)
    };
    let base = json!({"vial_count": 4, "cells_per_vial": 10_000_000, "volume_ul": 1000, "frozen_at": rfc3339(app.days_ago(1))});
    for (field, value) in [
        ("vial_count", json!(0)),
        ("vial_count", json!(1000)),
        ("cells_per_vial", json!(0)),
        ("volume_ul", json!(-1)),
    ] {
        let mut body = base.clone();
        body[field] = value;
        let details = freeze(body).await.expect_error(422, "invalid_field");
        assert_eq!(details["field"], field);
    }
    let mut early = base.clone();
    early["frozen_at"] = json!(rfc3339(app.days_ago(30)));
    freeze(early).await.expect_error(422, "invalid_field");
    // a time typed without its time or its offset is refused in words
    let day = app.days_ago(1).format("%Y-%m-%d").to_string();
    for (typed, words) in [
        (day.clone(), "is a date without a time"),
        (format!("{day}T09:30:00"), "has no offset from UTC"),
        (format!("{day} at 9:30"), "is not a date and time"),
    ] {
        let mut body = base.clone();
        body["frozen_at"] = json!(typed);
        let answer = freeze(body).await;
        let message = answer.body["error"]["message"].as_str().unwrap().to_owned();
        let details = answer.expect_error(422, "invalid_field");
        assert_eq!(details["field"], "frozen_at");
        assert!(message.contains(words), "{typed}: {message}");
        assert!(
            message.contains(&format!("{typed:?}"))
                && message.contains("such as 2026-11-26T09:30:00+08:00"),
            "{message}"
        );
    }
    let mut fractional = base.clone();
    fractional["cells_per_vial"] = json!(1.5);
    freeze(fractional)
        .await
        .expect_error(400, "malformed_request");
    // a quality officer does not freeze
    app.post(
        &format!("/api/v1/lots/{lot}/freeze"),
        Some(&team.quality),
        base.clone(),
    )
    .await
    .expect_error(403, "forbidden");
    freeze(base.clone()).await.expect(201);
    let details = freeze(base).await.expect_error(409, "invalid_state");
    assert_eq!(details["status"], "quarantine");
    let lot_now = app
        .get(&format!("/api/v1/lots/{lot}"), Some(&team.lab))
        .await
        .expect(200);
    assert_eq!(lot_now["vial_counts"], json!({"quarantine": 4}));
    assert_eq!(lot_now["vial_count"], 4);
}

async fn the_freeze_answer_is_the_lot_as_it_reads_back(app: TestApp) {
    let team = app.team().await;
    let (_, donation) = app.eligible_donor(&team, "UCD-1800").await;
    let lot = id(&app.lot(&team, &id(&donation)).await);
    app.pass_all_qc(&team, &lot).await;
    let frozen = app.freeze(&team, &lot, 3).await;
    assert_eq!(frozen["lot"]["status"], "quarantine");
    assert_eq!(
        frozen["lot"]["qc"].as_array().unwrap().len(),
        QC_PASSING.len()
    );
    assert_eq!(frozen["lot"]["vial_counts"], json!({"quarantine": 3}));
    assert_eq!(
        frozen["lot"]["qc_standing"]["missing"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    // the same lot, to the field, that GET answers
    let read_back = app
        .get(&format!("/api/v1/lots/{lot}"), Some(&team.lab))
        .await
        .expect(200);
    assert_eq!(frozen["lot"], read_back);
}
