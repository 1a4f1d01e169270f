//! Doses: the calculator at its edges, orders from the first-expiring lot,
//! the reservation race, thaw, verification, cancellation, replacement.

use futures::future::join_all;
use serde_json::json;

use crate::clinic::{Clinic, signature};
use crate::helpers::TestApp;
use crate::on_both_databases;
use crate::story::{id, signed};

on_both_databases!(
    the_calculator_is_exact_at_the_edges_of_plausible_weight,
    a_dose_needs_a_fresh_weight,
    a_dose_reserves_whole_vials_from_the_first_expiring_lot,
    six_orders_racing_for_stock_of_two_doses_give_two,
    thawing_works_out_the_volume_and_a_pharmacist_signs_it,
    low_viability_or_a_dose_out_of_range_is_recorded_and_holds_the_dose,
    a_failed_vial_is_replaced_from_the_same_lot,
    cancelling_returns_unthawed_vials_and_discards_thawed_ones,
    an_unreleased_lot_cannot_be_dosed_and_one_dose_at_a_time,
    only_pharmacists_order_thaw_and_verify,
    a_refused_order_names_the_lot_that_could_have_served,
);

async fn the_calculator_is_exact_at_the_edges_of_plausible_weight(app: TestApp) {
    let team = app.team().await;
    let clinic = app.clinic().await;
    let calc = |body: serde_json::Value| {
        app.post("/api/v1/dose-calculations", Some(&clinic.pharmacist), body)
    };
    let at_30 = calc(json!({ "weight_kg": 30 })).await.expect(200);
    assert_eq!(at_30["weight_g"], 30_000);
    assert_eq!(at_30["target_cells"], 30_000_000);
    assert_eq!(at_30["min_cells"], 27_000_000);
    assert_eq!(at_30["max_cells"], 33_000_000);
    let at_250 = calc(json!({ "weight_kg": "250" })).await.expect(200);
    assert_eq!(at_250["target_cells"], 250_000_000);
    assert_eq!(at_250["max_cells"], 275_000_000);
    // fractions of a gram round half up to the gram, then everything is exact
    let odd = calc(json!({ "weight_kg": "70.0005" })).await.expect(200);
    assert_eq!(odd["weight_g"], 70_001);
    assert_eq!(odd["target_cells"], 70_001_000);
    assert_eq!(odd["min_cells"], 63_000_900);
    assert_eq!(odd["max_cells"], 77_001_100);
    // another dose per kg for a what-if
    let half = calc(json!({ "weight_kg": 70, "dose_per_kg": 500_000 }))
        .await
        .expect(200);
    assert_eq!(half["target_cells"], 35_000_000);
    for weight in [json!(29.999), json!("250.001")] {
        calc(json!({ "weight_kg": weight }))
            .await
            .expect_error(422, "implausible_weight");
    }
    calc(json!({})).await.expect_error(422, "invalid_field");
    calc(json!({ "weight_kg": "seventy" }))
        .await
        .expect_error(422, "invalid_field");
    // with stock: ⌈70 × 10^6 ÷ (25 × 10^6 × 80 %)⌉ = 4 vials
    let (lot, _) = app.dosing_stock(&team, "UCD-7000", 3, 300).await;
    let with_lot = calc(json!({ "weight_kg": 70, "lot_id": lot["id"] }))
        .await
        .expect(200);
    assert_eq!(with_lot["vials_needed"], 4);
    assert_eq!(with_lot["available_vials"], 3);
    assert_eq!(with_lot["sufficient"], false);
    assert!(with_lot["steps"].as_array().unwrap().len() >= 3);
    let light = calc(json!({ "weight_kg": 40 })).await.expect(200);
    assert_eq!(light["vials_needed"], 2);
    assert_eq!(light["lot_id"], lot["id"]);
    // nothing was written
    let before = app.verify_ledger(&team).await["events"].clone();
    calc(json!({ "weight_kg": 40 })).await.expect(200);
    assert_eq!(app.verify_ledger(&team).await["events"], before);
}

async fn a_dose_needs_a_fresh_weight(app: TestApp) {
    let team = app.team().await;
    let clinic = app.clinic().await;
    app.dosing_stock(&team, "UCD-7100", 10, 300).await;
    let patient = app.patient(&clinic, "PV-700").await;
    let pid = id(&patient);
    app.order(&clinic, &pid)
        .await
        .expect_error(422, "no_weight");
    app.post(
        "/api/v1/dose-calculations",
        Some(&clinic.pharmacist),
        json!({ "patient_id": pid }),
    )
    .await
    .expect_error(422, "no_weight");
    app.weigh(&clinic, &pid, json!(40), "kg", 24 * 7 + 1)
        .await
        .expect(201);
    let details = app
        .order(&clinic, &pid)
        .await
        .expect_error(422, "stale_weight");
    assert_eq!(details["valid_days"], 7);
    app.weigh(&clinic, &pid, json!(40), "kg", 24 * 6)
        .await
        .expect(201);
    let dose = app.order(&clinic, &pid).await.expect(201);
    assert_eq!(dose["weight_g"], 40_000);
    assert_eq!(dose["infusion_number"], 1);
}

async fn a_dose_reserves_whole_vials_from_the_first_expiring_lot(app: TestApp) {
    let team = app.team().await;
    let clinic = app.clinic().await;
    let (later, _) = app.dosing_stock(&team, "UCD-7200", 4, 300).await;
    let (sooner, _) = app.dosing_stock(&team, "UCD-7201", 4, 100).await;
    let patient = app.weighed_patient(&clinic, "PV-720", 40).await;
    let dose = app.order(&clinic, &id(&patient)).await.expect(201);
    assert_eq!(dose["lot_id"], sooner["id"]);
    assert_eq!(dose["status"], "reserved");
    assert_eq!(dose["code"], "PV-720-D01");
    assert_eq!(dose["scan_payload"], "CT1:D:PV-720-D01");
    assert_eq!(dose["target_cells"], 40_000_000);
    assert_eq!(dose["vials_needed"], 2);
    assert_eq!(dose["vial_ids"].as_array().unwrap().len(), 2);
    for vial in dose["vials"].as_array().unwrap() {
        assert_eq!(vial["status"], "reserved");
        let fetched = app
            .get(&format!("/api/v1/vials/{}", id(vial)), Some(&team.lab))
            .await
            .expect(200);
        assert_eq!(fetched["status"], "reserved");
        assert_eq!(fetched["lot_id"], sooner["id"]);
    }
    // the pharmacist may ask for a lot
    app.post(
        &format!("/api/v1/doses/{}/cancel", id(&dose)),
        Some(&clinic.pharmacist),
        json!({ "reason": "wrong lot" }),
    )
    .await
    .expect(200);
    let chosen = app
        .post(
            "/api/v1/doses",
            Some(&clinic.pharmacist),
            json!({ "patient_id": patient["id"], "lot_id": later["id"] }),
        )
        .await
        .expect(201);
    assert_eq!(chosen["lot_id"], later["id"]);
    assert_eq!(chosen["code"], "PV-720-D02");
    assert_eq!(chosen["infusion_number"], 1);
    assert_eq!(app.verify_ledger(&team).await["ok"], true);
}

async fn six_orders_racing_for_stock_of_two_doses_give_two(app: TestApp) {
    let team = app.team().await;
    let clinic = app.clinic().await;
    // 4 vials: two doses of 2 for 40 kg patients
    let (lot, _) = app.dosing_stock(&team, "UCD-7300", 4, 300).await;
    let mut patients = Vec::new();
    for n in 0..6 {
        patients.push(app.weighed_patient(&clinic, &format!("PV-73{n}"), 40).await);
    }
    let orders = patients.iter().map(|p| {
        let (app, clinic) = (&app, &clinic);
        let pid = id(p);
        async move { app.order(clinic, &pid).await }
    });
    let answers = join_all(orders).await;
    let mut won = Vec::new();
    for answer in answers {
        if answer.status.as_u16() == 201 {
            won.push(answer.body);
        } else {
            let details = answer.expect_error(422, "insufficient_stock");
            assert_eq!(details["vials_needed"], 2, "{details}");
        }
    }
    assert_eq!(won.len(), 2);
    let mut vials: Vec<String> = won
        .iter()
        .flat_map(|d| {
            d["vial_ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_owned())
        })
        .collect();
    vials.sort();
    vials.dedup();
    assert_eq!(vials.len(), 4, "no vial in two doses");
    let stock = app
        .get(
            &format!("/api/v1/vials?lot_id={}&status=available", id(&lot)),
            Some(&team.lab),
        )
        .await
        .expect(200);
    assert_eq!(stock, json!({"items": [], "next_cursor": null}));
    assert_eq!(app.verify_ledger(&team).await["ok"], true);
}

async fn thawing_works_out_the_volume_and_a_pharmacist_signs_it(app: TestApp) {
    let team = app.team().await;
    let clinic = app.clinic().await;
    let (_, _) = app.dosing_stock(&team, "UCD-7400", 4, 300).await;
    let patient = app.weighed_patient(&clinic, "PV-740", 40).await;
    let dose = app.order(&clinic, &id(&patient)).await.expect(201);
    // two vials of 1.5 mL counted at 16 and 14 × 10^6 viable cells/mL:
    // 45 × 10^6 cells in 3 mL = 15 × 10^6/mL; 40 × 10^6 is 2.667 mL -> 2.7 mL
    let vials = dose["vial_ids"].as_array().unwrap();
    let thawed = app
        .post(
            &format!("/api/v1/doses/{}/thaw", id(&dose)),
            Some(&clinic.pharmacist),
            json!({
                "vials": [
                    { "vial_id": vials[0], "viable_cells_per_ml": 16_000_000, "viability_pct": 91.5 },
                    { "vial_id": vials[1], "viable_cells_per_ml": 14_000_000, "viability_pct": "88" },
                ],
                "thawed_at": app.clock.now(),
            }),
        )
        .await
        .expect(200);
    assert_eq!(thawed["status"], "thawed");
    assert_eq!(thawed["concentration_cells_per_ml"], 15_000_000);
    assert_eq!(thawed["available_ul"], 3000);
    assert_eq!(thawed["volume_ul"], 2700);
    assert_eq!(thawed["volume_ml"], "2.7");
    assert_eq!(thawed["cells_to_administer"], 40_500_000);
    assert_eq!(thawed["counts"][0]["viability_pct"], "91.5");
    assert!(thawed["use_by"].is_string());
    for vial in thawed["vials"].as_array().unwrap() {
        assert_eq!(vial["status"], "thawed");
        assert_eq!(vial["box_id"], json!(null));
    }
    // the signed check
    let path = format!("/api/v1/doses/{}/verify", id(&dose));
    app.post(
        &path,
        Some(&clinic.pharmacist),
        json!({ "signature": { "password": "not-my-password", "meaning": "verified" } }),
    )
    .await
    .expect_error(401, "signature_invalid");
    let verified = app.verify_dose(&clinic, &dose).await.expect(200);
    assert_eq!(verified["status"], "verified");
    assert!(verified["verified_at"].is_string());
    app.verify_dose(&clinic, &dose)
        .await
        .expect_error(409, "invalid_state");
    let history = app
        .get(
            &format!("/api/v1/audit?subject_kind=dose&subject_id={}", id(&dose)),
            Some(&team.quality),
        )
        .await
        .expect(200);
    let actions: Vec<_> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["dose.ordered", "dose.thawed", "dose.verified"]);
    // the second pharmacist signed: the one who counted never verifies
    assert_eq!(history[2]["details"]["signature"]["signer"], "pharm.two");
}

async fn low_viability_or_a_dose_out_of_range_is_recorded_and_holds_the_dose(app: TestApp) {
    let team = app.team().await;
    let clinic = app.clinic().await;
    app.dosing_stock(&team, "UCD-7500", 6, 300).await;
    let patient = app.weighed_patient(&clinic, "PV-750", 40).await;
    let dose = app.order(&clinic, &id(&patient)).await.expect(201);
    let before = app.verify_ledger(&team).await["events"].clone();
    // a malformed count changes nothing: a vial missing, a vial not the
    // dose's, an impossible number
    let path = format!("/api/v1/doses/{}/thaw", id(&dose));
    let mut body = app.thaw_body(&dose, 16_000_000, json!(90));
    body["vials"].as_array_mut().unwrap().pop();
    app.post(&path, Some(&clinic.pharmacist), body)
        .await
        .expect_error(422, "invalid_field");
    let mut body = app.thaw_body(&dose, 16_000_000, json!(90));
    body["vials"][0]["vial_id"] = json!(uuid::Uuid::now_v7());
    app.post(&path, Some(&clinic.pharmacist), body)
        .await
        .expect_error(422, "invalid_field");
    app.thaw(&clinic, &dose, -5, json!(90))
        .await
        .expect_error(422, "invalid_field");
    app.thaw(&clinic, &dose, 16_000_000, json!("101"))
        .await
        .expect_error(422, "invalid_field");
    assert_eq!(app.verify_ledger(&team).await["events"], before);
    let unchanged = app
        .get(
            &format!("/api/v1/doses/{}", id(&dose)),
            Some(&clinic.pharmacist),
        )
        .await
        .expect(200);
    assert_eq!(unchanged["status"], "reserved");
    assert_eq!(unchanged["counts"], json!([]));
    // a failing count is a fact: recorded, the vials thawed, the dose held
    let details = app
        .thaw(&clinic, &dose, 16_000_000, json!("69.9"))
        .await
        .expect_error(422, "viability_too_low");
    assert_eq!(details["min_pct"], 70);
    assert_eq!(details["vials"].as_array().unwrap().len(), 2);
    assert_eq!(details["vials"][0]["viability_pct"], "69.9");
    assert_eq!(details["recorded"], true);
    assert_eq!(details["dose_status"], "count_failed");
    // a mistyped viability corrected by a signed recount that passes
    let mut recount = app.thaw_body(&dose, 16_000_000, json!(70));
    recount["signature"] = signature("count corrected");
    recount["correction_reason"] = json!("read 69.9 off the wrong line");
    let passed = app
        .post(&path, Some(&clinic.pharmacist), recount)
        .await
        .expect(200);
    assert_eq!(passed["status"], "thawed");
    assert_eq!(passed["counts"].as_array().unwrap().len(), 4);
    // too few cells: 10 × 10^6/mL in 3 mL holds 30 × 10^6, below 36 × 10^6
    let other = app.weighed_patient(&clinic, "PV-751", 40).await;
    let short = app.order(&clinic, &id(&other)).await.expect(201);
    let details = app
        .thaw(&clinic, &short, 10_000_000, json!(90))
        .await
        .expect_error(422, "dose_out_of_range");
    assert_eq!(details["volume_ul"], 4000);
    assert_eq!(details["available_ul"], 3000);
    assert_eq!(details["recorded"], true);
    // so concentrated that 0.1 mL steps miss ±10 %: 500 × 10^6/mL, an
    // implausible count that someone confirmed
    let third = app.weighed_patient(&clinic, "PV-752", 40).await;
    let dense = app.order(&clinic, &id(&third)).await.expect(201);
    let mut body = app.thaw_body(&dense, 500_000_000, json!(90));
    for v in body["vials"].as_array_mut().unwrap() {
        v["confirm"] = json!(true);
        v["reason"] = json!("diluted after counting");
    }
    let details = app
        .post(
            &format!("/api/v1/doses/{}/thaw", id(&dense)),
            Some(&clinic.pharmacist),
            body,
        )
        .await
        .expect_error(422, "dose_out_of_range");
    assert_eq!(details["cells_to_administer"], 50_000_000);
    assert_eq!(details["max_cells"], 44_000_000);
    assert_eq!(app.verify_ledger(&team).await["ok"], true);
}

async fn a_failed_vial_is_replaced_from_the_same_lot(app: TestApp) {
    let team = app.team().await;
    let clinic = app.clinic().await;
    let (lot, _) = app.dosing_stock(&team, "UCD-7600", 3, 300).await;
    let patient = app.weighed_patient(&clinic, "PV-760", 40).await;
    let dose = app.order(&clinic, &id(&patient)).await.expect(201);
    let failed = dose["vial_ids"][0].clone();
    // the lab cannot discard a vial a dose counts on
    let details = app
        .post(
            &format!("/api/v1/vials/{}/discard", failed.as_str().unwrap()),
            Some(&team.lab),
            signed(json!({ "reason": "low viability" })),
        )
        .await
        .expect_error(409, "vial_reserved");
    assert_eq!(details["dose_code"], dose["code"]);
    let replaced = app
        .post(
            &format!("/api/v1/doses/{}/replace-vial", id(&dose)),
            Some(&clinic.pharmacist),
            json!({ "vial_id": failed, "reason": "viability 62 % on count", "signature": signature("discarded") }),
        )
        .await
        .expect(200);
    assert_eq!(replaced["vial_ids"].as_array().unwrap().len(), 2);
    assert!(!replaced["vial_ids"].as_array().unwrap().contains(&failed));
    assert_eq!(replaced["replaced_vials"][0]["id"], failed);
    assert_eq!(replaced["lot_id"], lot["id"]);
    let gone = app
        .get(
            &format!("/api/v1/vials/{}", failed.as_str().unwrap()),
            Some(&team.lab),
        )
        .await
        .expect(200);
    assert_eq!(gone["status"], "discarded");
    // the lot has no third vial left for another replacement
    app.post(
        &format!("/api/v1/doses/{}/replace-vial", id(&dose)),
        Some(&clinic.pharmacist),
        json!({ "vial_id": replaced["vial_ids"][0], "reason": "cracked", "signature": signature("discarded") }),
    )
    .await
    .expect_error(422, "insufficient_stock");
    app.thaw(&clinic, &replaced, 16_000_000, json!(90))
        .await
        .expect(200);
    assert_eq!(app.verify_ledger(&team).await["ok"], true);
}

async fn cancelling_returns_unthawed_vials_and_discards_thawed_ones(app: TestApp) {
    let team = app.team().await;
    let clinic = app.clinic().await;
    app.dosing_stock(&team, "UCD-7700", 4, 300).await;
    let patient = app.weighed_patient(&clinic, "PV-770", 40).await;
    let dose = app.order(&clinic, &id(&patient)).await.expect(201);
    let cancel = |dose: &serde_json::Value, reason: &str| {
        app.post(
            &format!("/api/v1/doses/{}/cancel", id(dose)),
            Some(&clinic.pharmacist),
            json!({ "reason": reason }),
        )
    };
    cancel(&dose, "  ").await.expect_error(422, "invalid_field");
    let cancelled = cancel(&dose, "patient unwell today").await.expect(200);
    assert_eq!(cancelled["status"], "cancelled");
    for vial in cancelled["vials"].as_array().unwrap() {
        assert_eq!(vial["status"], "available");
    }
    cancel(&dose, "again")
        .await
        .expect_error(409, "invalid_state");
    // after thaw the vials cannot go back: they are discarded, with the reason
    let again = app.order(&clinic, &id(&patient)).await.expect(201);
    app.thaw(&clinic, &again, 16_000_000, json!(90))
        .await
        .expect(200);
    let cancelled = cancel(&again, "infusion postponed").await.expect(200);
    let the_box = app.storage_box(&team, "7", 9, 9).await;
    for vial in cancelled["vials"].as_array().unwrap() {
        assert_eq!(vial["status"], "discarded");
        app.store(&team, &id(vial), &id(&the_box), "A1")
            .await
            .expect_error(409, "invalid_state");
    }
    let history = app
        .get(
            &format!("/api/v1/audit?subject_kind=dose&subject_id={}", id(&again)),
            Some(&team.quality),
        )
        .await
        .expect(200);
    assert_eq!(
        history.as_array().unwrap().last().unwrap()["details"]["vials_discarded"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

async fn an_unreleased_lot_cannot_be_dosed_and_one_dose_at_a_time(app: TestApp) {
    let team = app.team().await;
    let mut clinic = app.clinic().await;
    let (quarantined, _) = app.quarantined_lot(&team, "UCD-7800", 6).await;
    let patient = app.weighed_patient(&clinic, "PV-780", 40).await;
    let details = app
        .post(
            "/api/v1/doses",
            Some(&clinic.pharmacist),
            json!({ "patient_id": patient["id"], "lot_id": quarantined["id"] }),
        )
        .await
        .expect_error(422, "lot_not_released");
    assert_eq!(details["status"], "quarantine");
    // no released lot: the quarantined one, which holds the vials, is named
    let details = app
        .order(&clinic, &id(&patient))
        .await
        .expect_error(422, "lot_not_released");
    assert_eq!(details["code"], quarantined["code"]);
    assert_eq!(details["status"], "quarantine");
    app.dosing_stock(&team, "UCD-7801", 4, 300).await;
    let dose = app.order(&clinic, &id(&patient)).await.expect(201);
    let details = app
        .order(&clinic, &id(&patient))
        .await
        .expect_error(409, "dose_in_progress");
    assert_eq!(details["code"], dose["code"]);
    // an expired lot is refused by name
    let (soon, _) = app.dosing_stock(&team, "UCD-7802", 4, 2).await;
    app.days_later(&mut clinic, 3).await;
    let other = app.weighed_patient(&clinic, "PV-781", 40).await;
    app.post(
        "/api/v1/doses",
        Some(&clinic.pharmacist),
        json!({ "patient_id": other["id"], "lot_id": soon["id"] }),
    )
    .await
    .expect_error(422, "lot_expired");
}

async fn only_pharmacists_order_thaw_and_verify(app: TestApp) {
    let team = app.team().await;
    let clinic = app.clinic().await;
    app.dosing_stock(&team, "UCD-7900", 4, 300).await;
    let patient = app.weighed_patient(&clinic, "PV-790", 40).await;
    for token in [&team.lab, &clinic.clinician, &team.quality] {
        let other = Clinic {
            pharmacist: token.clone(),
            clinician: clinic.clinician.clone(),
            verifier: token.clone(),
        };
        app.order(&other, &id(&patient))
            .await
            .expect_error(403, "forbidden");
    }
    let dose = app.order(&clinic, &id(&patient)).await.expect(201);
    let lab = Clinic {
        pharmacist: team.lab.clone(),
        clinician: String::new(),
        verifier: team.lab.clone(),
    };
    app.thaw(&lab, &dose, 16_000_000, json!(90))
        .await
        .expect_error(403, "forbidden");
    app.thaw(&clinic, &dose, 16_000_000, json!(90))
        .await
        .expect(200);
    app.verify_dose(&lab, &dose)
        .await
        .expect_error(403, "forbidden");
    app.post(
        &format!("/api/v1/doses/{}/cancel", id(&dose)),
        Some(&team.lab),
        json!({ "reason": "x" }),
    )
    .await
    .expect_error(403, "forbidden");
}

async fn a_refused_order_names_the_lot_that_could_have_served(app: TestApp) {
    let team = app.team().await;
    let clinic = app.clinic().await;
    // 40 kg: 40 × 10^6 cells, 2 vials of 25 × 10^6 at 80 % recovery
    let patient = app.weighed_patient(&clinic, "PV-790", 40).await;
    let order = || app.order(&clinic, &id(&patient));
    let recall = |lot: serde_json::Value| {
        app.post(
            &format!("/api/v1/lots/{}/recall", id(&lot)),
            Some(&team.quality),
            signed(json!({ "reason": "sterility retest positive" })),
        )
    };
    // nothing was ever frozen: the need cannot be counted in vials, and
    // is never said to be 0
    let answer = order().await;
    let message = answer.body["error"]["message"].as_str().unwrap().to_owned();
    let details = answer.expect_error(422, "insufficient_stock");
    assert_eq!(details["vials_needed"], json!(null), "{details}");
    assert!(!message.contains(" 0 "), "{message}");
    // a recalled lot of one vial could not have served: a shortage, with
    // the real need
    let (small, _) = app.dosing_stock(&team, "UCD-7900", 1, 300).await;
    recall(small).await.expect(200);
    let answer = order().await;
    let message = answer.body["error"]["message"].as_str().unwrap().to_owned();
    let details = answer.expect_error(422, "insufficient_stock");
    assert_eq!(details["vials_needed"], 2, "{details}");
    assert!(message.contains("2 available vials"), "{message}");
    // a recalled lot that held enough is what stops the dose
    let (recalled, _) = app.dosing_stock(&team, "UCD-7901", 4, 300).await;
    recall(recalled.clone()).await.expect(200);
    let answer = order().await;
    let message = answer.body["error"]["message"].as_str().unwrap().to_owned();
    let details = answer.expect_error(422, "lot_recalled");
    assert_eq!(details["lot_id"], recalled["id"]);
    assert_eq!(details["code"], recalled["code"]);
    assert!(
        message.contains(recalled["code"].as_str().unwrap()) && message.contains("recalled"),
        "{message}"
    );
    // an expired lot that expires before the recalled one is named first
    let (expired, _) = app
        .dosing_stock_until(
            &team,
            "UCD-7902",
            4,
            app.clock.now() + chrono::Duration::hours(1),
        )
        .await;
    app.clock.advance(chrono::Duration::hours(2));
    let details = order().await.expect_error(422, "lot_expired");
    assert_eq!(details["code"], expired["code"]);
    // a lot awaiting release is named before both: released, it serves
    // (10^7 cells per vial: 5 vials for this dose)
    let (waiting, _) = app.quarantined_lot(&team, "UCD-7904", 5).await;
    let details = order().await.expect_error(422, "lot_not_released");
    assert_eq!(details["code"], waiting["code"]);
    assert_eq!(details["status"], "quarantine");
    // a released lot that is short is a shortage of that lot, whatever
    // blocked lots held: the pharmacist is not sent after an old recall
    app.dosing_stock(&team, "UCD-7905", 1, 300).await;
    let answer = order().await;
    let message = answer.body["error"]["message"].as_str().unwrap().to_owned();
    let details = answer.expect_error(422, "insufficient_stock");
    assert_eq!(details["vials_needed"], 2, "{details}");
    assert!(!message.contains("recalled"), "{message}");
    // stock that serves is used, refusals above changed nothing
    app.dosing_stock(&team, "UCD-7903", 2, 300).await;
    let dose = order().await.expect(201);
    assert_eq!(dose["vial_ids"].as_array().unwrap().len(), 2);
    assert_eq!(app.verify_ledger(&team).await["ok"], true);
}
