//! Clinical safety at the edges where real work meets the chain: a client's
//! clock, a slip of ten in a count, pounds typed as kilograms, µL for mL, a
//! thaw that fails, a recall during an infusion, one person checking their
//! own work, a reactive result followed by a negative retest. Each case is
//! refused or asked to be confirmed, and each refusal says so and changes
//! only what it must (a count is a fact: its vials are thawed).

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde_json::{Value, json};

use crate::clinic::{Clinic, eligible_criteria, signature};
use crate::helpers::TestApp;
use crate::on_both_databases;
use crate::story::{id, rfc3339, signed};

on_both_databases!(
    the_servers_clock_judges_the_thawed_product,
    a_late_entry_is_signed_judged_by_its_own_times_and_marked_everywhere,
    days_are_the_sites_calendar_days,
    lot_expiry_and_recall_are_judged_at_every_step,
    a_count_is_a_fact_and_thawed_vials_never_go_back,
    a_slip_of_ten_is_named_and_corrected_by_a_signed_recount,
    a_failed_vial_is_replaced_and_the_replacement_counted,
    the_pharmacist_who_counted_does_not_verify,
    weights_are_guarded_from_the_first_and_a_voided_weight_is_never_used,
    a_reactive_screening_result_is_not_undone_by_a_negative_retest,
    a_positive_sterility_result_blocks_release_until_investigated,
    the_bedside_wants_millilitres_and_exact_scans,
    a_vial_in_use_stays_and_a_recall_lets_a_running_infusion_finish,
    people_read_the_sites_time,
    pages_ask_in_words,
);

fn at(value: &Value) -> DateTime<Utc> {
    value
        .as_str()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .expect("an RFC 3339 time")
        .with_timezone(&Utc)
}

fn scans(patient: &Value, dose: &Value) -> (String, String) {
    (
        patient["scan_payload"].as_str().unwrap().to_owned(),
        dose["scan_payload"].as_str().unwrap().to_owned(),
    )
}

impl TestApp {
    fn dose<'a>(&'a self, clinic: &Clinic, dose: &Value) -> impl Future<Output = Value> + use<'a> {
        let (path, token) = (
            format!("/api/v1/doses/{}", id(dose)),
            clinic.pharmacist.clone(),
        );
        async move { self.get(&path, Some(&token)).await.expect(200) }
    }

    async fn vial_status(&self, clinic: &Clinic, vial_id: &Value) -> String {
        self.get(
            &format!("/api/v1/vials/{}", vial_id.as_str().unwrap()),
            Some(&clinic.pharmacist),
        )
        .await
        .expect(200)["status"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Counts for the dose's vials, one entry per vial: (cells/mL, viability).
    fn counts(&self, dose: &Value, per_vial: &[(i64, Value)]) -> Value {
        let vials: Vec<Value> = dose["vial_ids"]
            .as_array()
            .unwrap()
            .iter()
            .zip(per_vial)
            .map(|(v, (cells, viability))| {
                json!({ "vial_id": v, "viable_cells_per_ml": cells, "viability_pct": viability })
            })
            .collect();
        json!({ "vials": vials })
    }

    fn thaw_with<'a>(
        &'a self,
        clinic: &Clinic,
        dose: &Value,
        body: Value,
    ) -> impl Future<Output = crate::helpers::Answer> + use<'a> {
        self.post(
            &format!("/api/v1/doses/{}/thaw", id(dose)),
            Some(&clinic.pharmacist),
            body,
        )
    }

    fn complete<'a>(
        &'a self,
        clinic: &Clinic,
        infusion: &Value,
        body: Value,
    ) -> impl Future<Output = crate::helpers::Answer> + use<'a> {
        self.post(
            &format!("/api/v1/infusions/{}/complete", id(infusion)),
            Some(&clinic.clinician),
            body,
        )
    }
}

async fn the_servers_clock_judges_the_thawed_product(app: TestApp) {
    let team = app.team().await;
    let mut clinic = app.clinic().await;
    app.dosing_stock(&team, "UCD-9000", 8, 300).await;
    let patient = app.weighed_patient(&clinic, "PV-900", 40).await;
    let dose = app.prepared_dose(&clinic, &id(&patient)).await;
    let thawed_at = at(&dose["thawed_at"]);
    // five hours later the client says the infusion began an hour after thaw
    app.clock.advance(Duration::hours(5));
    app.sign_in_again(&mut clinic).await;
    let (wristband, bag) = scans(&patient, &dose);
    let claimed = app
        .post(
            "/api/v1/infusions",
            Some(&clinic.clinician),
            json!({
                "dose_id": dose["id"], "patient_scan": wristband, "product_scan": bag,
                "started_at": rfc3339(thawed_at + Duration::hours(1)),
            }),
        )
        .await
        .expect_error(422, "invalid_field");
    assert_eq!(claimed["field"], "started_at");
    // on the server's clock it is past the 3-hour shelf life
    let details = app
        .start_infusion(&clinic, &dose, &wristband, &bag)
        .await
        .expect_error(422, "thawed_product_expired");
    assert_eq!(at(&details["use_by"]), thawed_at + Duration::hours(3));
    assert_eq!(app.dose(&clinic, &dose).await["status"], "verified");
    // a clock a few minutes off is fine, even one that puts the start just
    // before the thaw: the time is recorded as sent
    let other = app.weighed_patient(&clinic, "PV-901", 40).await;
    let fresh = app.prepared_dose(&clinic, &id(&other)).await;
    let (wristband, bag) = scans(&other, &fresh);
    app.clock.advance(Duration::minutes(1));
    let four_minutes_ago = app.clock.now() - Duration::minutes(4);
    let started = app
        .post(
            "/api/v1/infusions",
            Some(&clinic.clinician),
            json!({
                "dose_id": fresh["id"], "patient_scan": wristband, "product_scan": bag,
                "started_at": rfc3339(four_minutes_ago),
            }),
        )
        .await
        .expect(201);
    assert_eq!(at(&started["started_at"]), four_minutes_ago);
    // verifying is judged on the server's clock too
    let third = app.weighed_patient(&clinic, "PV-902", 40).await;
    let counted = app.order(&clinic, &id(&third)).await.expect(201);
    app.thaw(&clinic, &counted, 16_000_000, json!(92))
        .await
        .expect(200);
    app.clock.advance(Duration::minutes(181));
    app.sign_in_again(&mut clinic).await;
    app.verify_dose(&clinic, &counted)
        .await
        .expect_error(422, "thawed_product_expired");
}

async fn a_late_entry_is_signed_judged_by_its_own_times_and_marked_everywhere(app: TestApp) {
    let team = app.team().await;
    let mut clinic = app.clinic().await;
    let (lot, _) = app.dosing_stock(&team, "UCD-9100", 4, 300).await;
    let patient = app.weighed_patient(&clinic, "PV-910", 40).await;
    let dose = app.prepared_dose(&clinic, &id(&patient)).await;
    let thawed_at = at(&dose["thawed_at"]);
    // the network was down; four hours later the nurse records what was given
    app.clock.advance(Duration::hours(4));
    app.sign_in_again(&mut clinic).await;
    let (wristband, bag) = scans(&patient, &dose);
    let late = |started_at: DateTime<Utc>, signed_too: bool| {
        let mut body = json!({
            "dose_id": dose["id"], "patient_scan": wristband, "product_scan": bag,
            "started_at": rfc3339(started_at),
            "late_entry": { "reason": "network outage 09:00-11:00" },
        });
        if signed_too {
            body["signature"] = signature("late entry of an infusion given");
        }
        app.post("/api/v1/infusions", Some(&clinic.clinician), body)
    };
    let unsigned = late(thawed_at + Duration::minutes(30), false)
        .await
        .expect_error(422, "invalid_field");
    assert_eq!(unsigned["field"], "signature");
    // judged against the times it claims: past the shelf life is refused
    late(thawed_at + Duration::minutes(185), true)
        .await
        .expect_error(422, "thawed_product_expired");
    late(thawed_at - Duration::minutes(5), true)
        .await
        .expect_error(422, "invalid_field");
    let started = late(thawed_at + Duration::minutes(30), true)
        .await
        .expect(201);
    assert_eq!(
        started["late_entry"]["reason"],
        "network outage 09:00-11:00"
    );
    assert_eq!(
        at(&started["started_at"]),
        thawed_at + Duration::minutes(30)
    );
    app.complete(
        &clinic,
        &started,
        json!({ "ended_at": rfc3339(thawed_at + Duration::minutes(75)), "volume_infused_ul": dose["volume_ul"] }),
    )
    .await
    .expect(200);
    // marked in every view
    let record = app
        .get(
            &format!("/api/v1/patients/{}", id(&patient)),
            Some(&clinic.clinician),
        )
        .await
        .expect(200);
    assert_eq!(record["infusions"][0]["late_entry"], true);
    let trace = app
        .get(
            &format!("/api/v1/trace/patients/{}", id(&patient)),
            Some(&team.quality),
        )
        .await
        .expect(200);
    assert_eq!(trace["doses"][0]["infusion"]["late_entry"], true);
    for path in [
        format!("/api/v1/trace/patients/{}?format=csv", id(&patient)),
        format!("/api/v1/trace/lots/{}?format=csv", id(&lot)),
    ] {
        let (status, _, csv) = app.get_bytes(&path, Some(&team.quality)).await;
        assert_eq!(status, 200);
        let csv = String::from_utf8(csv).unwrap();
        assert!(csv.lines().next().unwrap().contains("late_entry"), "{csv}");
        assert!(
            csv.contains("late entry: network outage 09:00-11:00"),
            "{csv}"
        );
    }
    let history = app
        .get(
            &format!(
                "/api/v1/audit?subject_kind=infusion&subject_id={}",
                id(&started)
            ),
            Some(&team.quality),
        )
        .await
        .expect(200);
    assert_eq!(history[0]["details"]["signature"]["signer"], "nurse.one");
    assert_eq!(
        history[0]["details"]["late_entry"]["reason"],
        "network outage 09:00-11:00"
    );
    assert_eq!(app.verify_ledger(&team).await["ok"], true);
}

async fn days_are_the_sites_calendar_days(app: TestApp) {
    let team = app.team().await;
    let mut clinic = app.clinic().await;
    // age is counted on the site's calendar: 01:00 in Beijing is 17:00 UTC
    // the day before, when this candidate was still 17
    let enrolled_at = (app.clock.now() - Duration::days(3))
        .date_naive()
        .and_hms_opt(17, 0, 0)
        .unwrap()
        .and_utc();
    let local_day = enrolled_at.date_naive() + Duration::days(1);
    let born = local_day
        .with_year(local_day.year() - 18)
        .unwrap_or_else(|| NaiveDate::from_ymd_opt(local_day.year() - 18, 3, 1).unwrap());
    app.post(
        "/api/v1/patients",
        Some(&clinic.clinician),
        json!({
            "subject_code": "PV-920", "birth_date": born, "sex": "male",
            "enrolled_at": rfc3339(enrolled_at), "baseline_pasi": 12,
            "criteria": eligible_criteria(),
        }),
    )
    .await
    .expect(201);
    app.dosing_stock(&team, "UCD-9200", 10, 300).await;
    // Day 1: 23:30 in Beijing (15:30 UTC)
    let day1 = (app.clock.now() + Duration::days(1))
        .date_naive()
        .and_hms_opt(15, 30, 0)
        .unwrap()
        .and_utc();
    app.clock.jump_to(day1);
    app.sign_in_again(&mut clinic).await;
    let patient = app.weighed_patient(&clinic, "PV-921", 40).await;
    let pid = id(&patient);
    let first = app.prepared_dose(&clinic, &pid).await;
    app.infuse(&clinic, &patient, &first).await;
    // Day 7, 23:00 in Beijing: six days after, one too few
    app.clock
        .jump_to(day1 + Duration::days(6) - Duration::minutes(30));
    app.sign_in_again(&mut clinic).await;
    app.weigh(&clinic, &pid, json!(40), "kg", 1)
        .await
        .expect(201);
    let details = app.order(&clinic, &pid).await.expect_error(422, "too_soon");
    let first_local = day1.date_naive();
    assert_eq!(details["previous_day"], json!(first_local));
    assert_eq!(details["earliest"], json!(first_local + Duration::days(7)));
    assert_eq!(details["min_interval_days"], 7);
    // Day 8, 00:30 in Beijing: 6 days and 1 hour later, but the seventh day
    app.clock
        .jump_to(day1 + Duration::days(6) + Duration::hours(1));
    app.sign_in_again(&mut clinic).await;
    let second = app.prepared_dose(&clinic, &pid).await;
    assert_eq!(second["infusion_number"], 2);
    app.infuse(&clinic, &patient, &second).await;
    // Day 56, 23:00: the last day an infusion may be given
    app.clock
        .jump_to(day1 + Duration::days(55) - Duration::minutes(30));
    app.sign_in_again(&mut clinic).await;
    app.weigh(&clinic, &pid, json!(40), "kg", 1)
        .await
        .expect(201);
    let last_day = app.order(&clinic, &pid).await.expect(201);
    app.post(
        &format!("/api/v1/doses/{}/cancel", id(&last_day)),
        Some(&clinic.pharmacist),
        json!({ "reason": "patient could not come" }),
    )
    .await
    .expect(200);
    // Day 57, 00:30: closed, although fewer than 56 × 24 hours have passed
    app.clock
        .jump_to(day1 + Duration::days(55) + Duration::hours(1));
    app.sign_in_again(&mut clinic).await;
    let details = app
        .order(&clinic, &pid)
        .await
        .expect_error(422, "outside_window");
    assert_eq!(details["first_day"], json!(first_local));
    assert_eq!(details["last_day"], json!(first_local + Duration::days(55)));
    assert_eq!(details["window_days"], 56);
    let record = app
        .get(&format!("/api/v1/patients/{pid}"), Some(&clinic.clinician))
        .await
        .expect(200);
    assert_eq!(
        record["window_last_day"],
        json!(first_local + Duration::days(55))
    );
}

async fn lot_expiry_and_recall_are_judged_at_every_step(app: TestApp) {
    let mut team = app.team().await;
    let mut clinic = app.clinic().await;
    // reserved before the lot expired, thawed after
    let (soon, _) = app.dosing_stock(&team, "UCD-9300", 2, 2).await;
    let patient = app.weighed_patient(&clinic, "PV-930", 40).await;
    let dose = app.order(&clinic, &id(&patient)).await.expect(201);
    assert_eq!(dose["lot_id"], soon["id"]);
    app.days_later(&mut clinic, 3).await;
    team = app.team_again().await;
    let details = app
        .thaw(&clinic, &dose, 16_000_000, json!(92))
        .await
        .expect_error(422, "lot_expired");
    assert_eq!(details["recorded"], true);
    assert_eq!(details["code"], soon["code"]);
    let now = app.dose(&clinic, &dose).await;
    assert_eq!(now["status"], "count_failed");
    assert_eq!(now["count_failure"], "lot_expired");
    // an expiry between the signature and the bedside
    let expires = app.clock.now() + Duration::minutes(90);
    let (_, _) = app.dosing_stock_until(&team, "UCD-9301", 2, expires).await;
    let other = app.weighed_patient(&clinic, "PV-931", 40).await;
    let ready = app.prepared_dose(&clinic, &id(&other)).await;
    app.clock.advance(Duration::minutes(100));
    app.sign_in_again(&mut clinic).await;
    let (wristband, bag) = scans(&other, &ready);
    app.start_infusion(&clinic, &ready, &wristband, &bag)
        .await
        .expect_error(422, "lot_expired");
    // and between the count and the signature
    let expires = app.clock.now() + Duration::minutes(30);
    app.dosing_stock_until(&team, "UCD-9302", 2, expires).await;
    let third = app.weighed_patient(&clinic, "PV-932", 40).await;
    let counted = app.order(&clinic, &id(&third)).await.expect(201);
    app.thaw(&clinic, &counted, 16_000_000, json!(92))
        .await
        .expect(200);
    app.clock.advance(Duration::minutes(40));
    app.sign_in_again(&mut clinic).await;
    app.verify_dose(&clinic, &counted)
        .await
        .expect_error(422, "lot_expired");
    // a recalled lot is refused by name
    let (recalled, _) = app.dosing_stock(&team, "UCD-9303", 4, 300).await;
    app.post(
        &format!("/api/v1/lots/{}/recall", id(&recalled)),
        Some(&team.quality),
        signed(json!({ "reason": "sterility retest positive" })),
    )
    .await
    .expect(200);
    let fourth = app.weighed_patient(&clinic, "PV-933", 40).await;
    let details = app
        .post(
            "/api/v1/doses",
            Some(&clinic.pharmacist),
            json!({ "patient_id": fourth["id"], "lot_id": recalled["id"] }),
        )
        .await
        .expect_error(422, "lot_recalled");
    assert_eq!(details["code"], recalled["code"]);
}

async fn a_count_is_a_fact_and_thawed_vials_never_go_back(app: TestApp) {
    let team = app.team().await;
    let clinic = app.clinic().await;
    let (lot, _) = app.dosing_stock(&team, "UCD-9400", 4, 300).await;
    let patient = app.weighed_patient(&clinic, "PV-940", 40).await;
    let dose = app.order(&clinic, &id(&patient)).await.expect(201);
    // 69.99999999999999999 % is below 70 %, read from the JSON text exactly
    // (sent as written: a JSON library would round it to 70.0 first)
    let raw = app
        .client
        .post(app.url(&format!("/api/v1/doses/{}/thaw", id(&dose))))
        .bearer_auth(&clinic.pharmacist)
        .header("content-type", "application/json")
        .body(format!(
            r#"{{"vials":[{{"vial_id":{},"viable_cells_per_ml":16000000,"viability_pct":69.99999999999999999}},{{"vial_id":{},"viable_cells_per_ml":16000000,"viability_pct":91.5}}]}}"#,
            dose["vial_ids"][0], dose["vial_ids"][1]
        ));
    let details = app.send(raw).await.expect_error(422, "viability_too_low");
    assert_eq!(details["recorded"], true);
    assert_eq!(details["dose_status"], "count_failed");
    assert_eq!(details["vials"][0]["viability_pct"], "69.9");
    let failed = app.dose(&clinic, &dose).await;
    assert_eq!(failed["status"], "count_failed");
    assert_eq!(failed["counts"].as_array().unwrap().len(), 2);
    assert_eq!(failed["counts"][0]["failure"], "viability_too_low");
    assert_eq!(
        failed["counts"][0]["viability_as_entered"],
        "69.99999999999999999"
    );
    for vial in failed["vials"].as_array().unwrap() {
        assert_eq!(vial["status"], "thawed");
    }
    assert!(
        failed["next_actions"]
            .as_array()
            .unwrap()
            .contains(&json!("replace_vial"))
    );
    // cancelling discards the thawed vials: they never return to stock
    let cancelled = app
        .post(
            &format!("/api/v1/doses/{}/cancel", id(&dose)),
            Some(&clinic.pharmacist),
            json!({ "reason": "viability too low" }),
        )
        .await
        .expect(200);
    for vial in cancelled["vials"].as_array().unwrap() {
        assert_eq!(vial["status"], "discarded");
        assert_eq!(app.vial_status(&clinic, &vial["id"]).await, "discarded");
    }
    let stock = app
        .get(
            &format!("/api/v1/vials?lot_id={}&status=available", id(&lot)),
            Some(&team.lab),
        )
        .await
        .expect(200);
    assert_eq!(
        stock["items"].as_array().unwrap().len(),
        2,
        "only the two never reserved"
    );
    assert_eq!(app.verify_ledger(&team).await["ok"], true);
}

async fn a_slip_of_ten_is_named_and_corrected_by_a_signed_recount(app: TestApp) {
    let team = app.team().await;
    let clinic = app.clinic().await;
    app.dosing_stock(&team, "UCD-9500", 4, 300).await;
    let patient = app.weighed_patient(&clinic, "PV-950", 40).await;
    let dose = app.order(&clinic, &id(&patient)).await.expect(201);
    let slipped = dose["vials"][1]["code"].clone();
    // 160 × 10^6/mL in 1.5 mL recovers 240 × 10^6 of the 25 × 10^6 frozen
    let details = app
        .thaw_with(
            &clinic,
            &dose,
            app.counts(&dose, &[(16_000_000, json!(92)), (160_000_000, json!(92))]),
        )
        .await
        .expect_error(422, "implausible_count");
    assert_eq!(details["recorded"], true);
    let named: Vec<_> = details["vials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["code"].clone())
        .collect();
    assert!(named.contains(&slipped), "{details}");
    let vial = details["vials"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["code"] == slipped)
        .unwrap();
    assert_eq!(vial["recovery_pct"], "960.0");
    assert_eq!(vial["recovery_outside_range"], true);
    assert_eq!(details["recovery_min_pct"], 40);
    assert_eq!(details["recovery_max_pct"], 110);
    // a count already recorded is corrected only with a signature
    let correction = json!({
        "vials": [{ "vial_id": dose["vial_ids"][1], "viable_cells_per_ml": 16_500_000, "viability_pct": 92 }],
    });
    let refused = app
        .thaw_with(&clinic, &dose, correction.clone())
        .await
        .expect_error(422, "invalid_field");
    assert_eq!(refused["field"], "signature");
    let mut signed_correction = correction;
    signed_correction["signature"] = signature("count corrected");
    signed_correction["correction_reason"] = json!("typed 160 for 16.5 (a slip of ten)");
    let corrected = app
        .thaw_with(&clinic, &dose, signed_correction)
        .await
        .expect(200);
    assert_eq!(corrected["status"], "thawed");
    let counts = corrected["counts"].as_array().unwrap();
    assert_eq!(counts.len(), 3, "both kept: {counts:?}");
    let old = counts
        .iter()
        .find(|c| c["viable_cells_per_ml"] == 160_000_000)
        .unwrap();
    let new = counts
        .iter()
        .find(|c| c["viable_cells_per_ml"] == 16_500_000)
        .unwrap();
    assert_eq!(old["superseded"], true);
    assert_eq!(old["current"], false);
    assert_eq!(new["supersedes_id"], old["id"]);
    assert_eq!(
        new["correction_reason"],
        "typed 160 for 16.5 (a slip of ten)"
    );
    // 32.5 × 10^6/mL pooled over 3 mL = 16.25; 40 × 10^6 is 2.5 mL
    assert_eq!(corrected["volume_ul"], 2500);
    // an unusual count that is right is confirmed with its reason
    let other = app.weighed_patient(&clinic, "PV-951", 40).await;
    let high = app.order(&clinic, &id(&other)).await.expect(201);
    let mut body = app.counts(&high, &[(19_000_000, json!(91)), (19_000_000, json!(90))]);
    for v in body["vials"].as_array_mut().unwrap() {
        v["confirm"] = json!(true);
    }
    app.thaw_with(&clinic, &high, body.clone())
        .await
        .expect_error(422, "invalid_field");
    assert_eq!(
        app.dose(&clinic, &high).await["status"],
        "reserved",
        "nothing recorded"
    );
    for v in body["vials"].as_array_mut().unwrap() {
        v["reason"] = json!("recounted twice on a second chamber, same result");
    }
    let confirmed = app.thaw_with(&clinic, &high, body).await.expect(200);
    assert_eq!(confirmed["counts"][0]["confirmed"], true);
    assert_eq!(confirmed["counts"][0]["recovery_pct"], "114.0");
    assert_eq!(app.verify_ledger(&team).await["ok"], true);
}

async fn a_failed_vial_is_replaced_and_the_replacement_counted(app: TestApp) {
    let team = app.team().await;
    let clinic = app.clinic().await;
    app.dosing_stock(&team, "UCD-9600", 4, 300).await;
    let patient = app.weighed_patient(&clinic, "PV-960", 40).await;
    let dose = app.order(&clinic, &id(&patient)).await.expect(201);
    let (good, bad) = (dose["vial_ids"][0].clone(), dose["vial_ids"][1].clone());
    app.thaw_with(
        &clinic,
        &dose,
        app.counts(&dose, &[(16_000_000, json!(92)), (16_000_000, json!(62))]),
    )
    .await
    .expect_error(422, "viability_too_low");
    let replaced = app
        .post(
            &format!("/api/v1/doses/{}/replace-vial", id(&dose)),
            Some(&clinic.pharmacist),
            json!({ "vial_id": bad, "reason": "viability 62 % on count", "signature": signature("vial discarded") }),
        )
        .await
        .expect(200);
    assert_eq!(replaced["status"], "count_failed");
    assert_eq!(app.vial_status(&clinic, &bad).await, "discarded");
    let fresh = replaced["vials"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["status"] == "reserved")
        .unwrap()["id"]
        .clone();
    // only the replacement is counted now; the good vial's count stands
    let done = app
        .thaw_with(
            &clinic,
            &replaced,
            json!({ "vials": [{ "vial_id": fresh, "viable_cells_per_ml": 16_000_000, "viability_pct": 90 }] }),
        )
        .await
        .expect(200);
    assert_eq!(done["status"], "thawed");
    assert_eq!(done["vial_ids"].as_array().unwrap().len(), 2);
    assert!(done["vial_ids"].as_array().unwrap().contains(&good));
    // the product's clock runs from the first thaw
    assert_eq!(done["thawed_at"], dose_counts_first_thaw(&done));
    app.verify_dose(&clinic, &done).await.expect(200);
}

fn dose_counts_first_thaw(dose: &Value) -> Value {
    dose["counts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| at(&c["thawed_at"]))
        .min()
        .map(|t| json!(t))
        .unwrap()
}

async fn the_pharmacist_who_counted_does_not_verify(app: TestApp) {
    let team = app.team().await;
    let clinic = app.clinic().await;
    app.dosing_stock(&team, "UCD-9700", 4, 300).await;
    let patient = app.weighed_patient(&clinic, "PV-970", 40).await;
    let dose = app.order(&clinic, &id(&patient)).await.expect(201);
    app.thaw(&clinic, &dose, 16_000_000, json!(92))
        .await
        .expect(200);
    let myself = Clinic {
        pharmacist: clinic.pharmacist.clone(),
        clinician: clinic.clinician.clone(),
        verifier: clinic.pharmacist.clone(),
    };
    app.verify_dose(&myself, &dose)
        .await
        .expect_error(422, "same_person");
    assert_eq!(app.dose(&clinic, &dose).await["status"], "thawed");
    let verified = app.verify_dose(&clinic, &dose).await.expect(200);
    assert_eq!(verified["status"], "verified");
    let history = app
        .get(
            &format!("/api/v1/audit?subject_kind=dose&subject_id={}", id(&dose)),
            Some(&team.quality),
        )
        .await
        .expect(200);
    let verified_event = history.as_array().unwrap().last().unwrap();
    assert_eq!(
        verified_event["details"]["signature"]["signer"],
        "pharm.two"
    );
}

async fn weights_are_guarded_from_the_first_and_a_voided_weight_is_never_used(app: TestApp) {
    app.team().await;
    let mut clinic = app.clinic().await;
    let enrol = |code: &str, extra: Value| {
        let mut body = json!({
            "subject_code": code, "birth_date": "1980-05-17", "sex": "female",
            "enrolled_at": rfc3339(app.days_ago(3)), "baseline_pasi": 14.2,
            "criteria": eligible_criteria(),
        });
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        app.post("/api/v1/patients", Some(&clinic.clinician), body)
    };
    let weigh = |pid: &str, value: Value, unit: &str, confirm: bool| {
        app.post(
            &format!("/api/v1/patients/{pid}/weights"),
            Some(&clinic.clinician),
            json!({ "value": value, "unit": unit, "measured_at": rfc3339(app.clock.now()), "confirm_change": confirm }),
        )
    };
    // the first weight, 154 "kg" typed from a scale in pounds
    let patient = enrol(
        "PV-980",
        json!({ "weight": { "value": 70, "unit": "kg" }, "height_cm": 170 }),
    )
    .await
    .expect(201);
    assert_eq!(patient["enrolment_weight"]["weight_g"], 70_000);
    assert_eq!(patient["height_cm"], "170.0");
    let pid = id(&patient);
    let answer = weigh(&pid, json!(154), "kg", false).await;
    let message = answer.body["error"]["message"].as_str().unwrap().to_owned();
    let details = answer.expect_error(422, "weight_change_unconfirmed");
    assert_eq!(details["compared_with"], "enrolment");
    assert_eq!(details["previous_g"], 70_000);
    assert_eq!(details["change_pct"], "120.0");
    assert!(
        details["likely_slip"].as_str().unwrap().contains("pounds"),
        "{details}"
    );
    assert!(message.contains("154 kg is 120.0 % more"), "{message}");
    // the same number in pounds is the patient's weight
    let right = weigh(&pid, json!(154), "lb", false).await.expect(201);
    assert_eq!(right["weight_g"], 69_853);
    // a body-mass index outside 12-60 is asked about too
    let thin = enrol("PV-981", json!({ "height_cm": 170 }))
        .await
        .expect(201);
    let details = weigh(&id(&thin), json!(34.6), "kg", false)
        .await
        .expect_error(422, "weight_change_unconfirmed");
    assert_eq!(details["concerns"][0]["reason"], "bmi");
    assert_eq!(details["concerns"][0]["bmi_tenths"], 119);
    weigh(&id(&thin), json!(34.6), "kg", true).await.expect(201);
    // a weight older than 30 days is still compared, at 20 %
    let back = app.patient(&clinic, "PV-982").await;
    weigh(&id(&back), json!(70), "kg", false).await.expect(201);
    app.days_later(&mut clinic, 35).await;
    let team = app.team_again().await;
    let weigh = |pid: &str, value: Value, unit: &str, confirm: bool| {
        app.post(
            &format!("/api/v1/patients/{pid}/weights"),
            Some(&clinic.clinician),
            json!({ "value": value, "unit": unit, "measured_at": rfc3339(app.clock.now()), "confirm_change": confirm }),
        )
    };
    let details = weigh(&id(&back), json!(85), "kg", false)
        .await
        .expect_error(422, "weight_change_unconfirmed");
    assert_eq!(details["threshold_pct"], 20);
    weigh(&id(&back), json!(83), "kg", false).await.expect(201);
    // a mistyped weight is voided, signed, and never used again
    let slip = weigh(&id(&back), json!(830), "kg", true).await;
    slip.expect_error(422, "implausible_weight");
    let slip = weigh(&id(&back), json!(183), "kg", true).await.expect(201);
    let calc = app
        .post(
            "/api/v1/dose-calculations",
            Some(&clinic.pharmacist),
            json!({ "patient_id": back["id"] }),
        )
        .await
        .expect(200);
    assert_eq!(calc["weight_g"], 183_000);
    let void_path = format!("/api/v1/patients/{}/weights/{}/void", id(&back), id(&slip));
    app.post(
        &void_path,
        Some(&team.lab),
        json!({ "reason": "x", "signature": signature("void") }),
    )
    .await
    .expect_error(403, "forbidden");
    app.post(&void_path, Some(&clinic.clinician), json!({ "reason": "typed 183 for 83", "signature": { "password": "wrong-password!", "meaning": "void" } }))
        .await
        .expect_error(401, "signature_invalid");
    let voided = app
        .post(
            &void_path,
            Some(&clinic.clinician),
            json!({ "reason": "typed 183 for 83", "signature": signature("weight voided") }),
        )
        .await
        .expect(200);
    assert_eq!(voided["voided"], true);
    assert_eq!(voided["void_reason"], "typed 183 for 83");
    app.post(
        &void_path,
        Some(&clinic.clinician),
        json!({ "reason": "again", "signature": signature("weight voided") }),
    )
    .await
    .expect_error(409, "invalid_state");
    let calc = app
        .post(
            "/api/v1/dose-calculations",
            Some(&clinic.pharmacist),
            json!({ "patient_id": back["id"] }),
        )
        .await
        .expect(200);
    assert_eq!(calc["weight_g"], 83_000, "the voided weight is never used");
    let record = app
        .get(
            &format!("/api/v1/patients/{}", id(&back)),
            Some(&clinic.clinician),
        )
        .await
        .expect(200);
    let shown: Vec<_> = record["weights"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| (w["weight_g"].clone(), w["voided"].clone()))
        .collect();
    assert!(shown.contains(&(json!(183_000), json!(true))), "{shown:?}");
    // a dose computed from a weight voided afterwards is not verified
    app.dosing_stock(&team, "UCD-9800", 8, 300).await;
    let dosed = app.weighed_patient(&clinic, "PV-983", 40).await;
    let dose = app.order(&clinic, &id(&dosed)).await.expect(201);
    app.thaw(&clinic, &dose, 16_000_000, json!(92))
        .await
        .expect(200);
    app.post(
        &format!(
            "/api/v1/patients/{}/weights/{}/void",
            id(&dosed),
            dose["weight_id"].as_str().unwrap()
        ),
        Some(&clinic.clinician),
        json!({ "reason": "scale not zeroed", "signature": signature("weight voided") }),
    )
    .await
    .expect(200);
    app.verify_dose(&clinic, &dose)
        .await
        .expect_error(422, "weight_voided");
    // the weight's freshness is judged again at the bedside
    let stale = app.patient(&clinic, "PV-984").await;
    app.weigh(&clinic, &id(&stale), json!(40), "kg", 24 * 7 - 1)
        .await
        .expect(201);
    let ready = app.prepared_dose(&clinic, &id(&stale)).await;
    app.clock.advance(Duration::hours(2));
    app.sign_in_again(&mut clinic).await;
    let (wristband, bag) = scans(&stale, &ready);
    app.start_infusion(&clinic, &ready, &wristband, &bag)
        .await
        .expect_error(422, "stale_weight");
}

async fn a_reactive_screening_result_is_not_undone_by_a_negative_retest(app: TestApp) {
    let team = app.team().await;
    let donor = app.register_donor(&team, "UCD-9900").await;
    let donor_id = id(&donor);
    app.donation(&team, &donor_id).await;
    for test in crate::story::REQUIRED_SCREENING {
        app.screen(&team, &donor_id, test, "negative", app.days_ago(21))
            .await;
    }
    let positive = app
        .screen(&team, &donor_id, "hiv", "positive", app.days_ago(20))
        .await;
    app.screen(&team, &donor_id, "hiv", "negative", app.days_ago(19))
        .await;
    let now = app
        .get(&format!("/api/v1/donors/{donor_id}"), Some(&team.quality))
        .await
        .expect(200);
    assert_eq!(now["eligibility"], "ineligible");
    assert_eq!(now["screening_gaps"]["reactive"], json!(["hiv"]));
    let decide = |decision: &str| {
        app.post(
            &format!("/api/v1/donors/{donor_id}/eligibility"),
            Some(&team.quality),
            signed(json!({ "decision": decision, "reason": "reactive HIV" })),
        )
    };
    let gaps = decide("eligible")
        .await
        .expect_error(422, "screening_incomplete");
    assert_eq!(gaps["reactive"], json!(["hiv"]));
    // only quality invalidates a result, signed, with the reason
    let path = format!(
        "/api/v1/donors/{donor_id}/screening/{}/invalidate",
        id(&positive)
    );
    app.post(
        &path,
        Some(&team.lab),
        signed(json!({ "reason": "mix-up" })),
    )
    .await
    .expect_error(403, "forbidden");
    app.post(&path, Some(&team.quality), signed(json!({ "reason": " " })))
        .await
        .expect_error(422, "invalid_field");
    let invalidated = app
        .post(
            &path,
            Some(&team.quality),
            signed(json!({ "reason": "specimen mix-up, deviation DV-2026-031" })),
        )
        .await
        .expect(200);
    assert_eq!(invalidated["eligibility"], "pending");
    let result = invalidated["screening"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == positive["id"])
        .unwrap();
    assert_eq!(result["invalidated"], true);
    assert_eq!(
        result["invalidation_reason"],
        "specimen mix-up, deviation DV-2026-031"
    );
    app.post(
        &path,
        Some(&team.quality),
        signed(json!({ "reason": "again" })),
    )
    .await
    .expect_error(409, "invalid_state");
    decide("eligible").await.expect(200);
    assert_eq!(app.verify_ledger(&team).await["ok"], true);
}

async fn a_positive_sterility_result_blocks_release_until_investigated(app: TestApp) {
    let team = app.team().await;
    let (lot, _) = app.quarantined_lot(&team, "UCD-9910", 4).await;
    let lot_id = id(&lot);
    let positive = app
        .qc(&team, &lot_id, "sterility", "positive", None)
        .await
        .expect(201);
    app.qc(&team, &lot_id, "sterility", "negative", None)
        .await
        .expect(201);
    let details = app
        .release(&team, &lot_id)
        .await
        .expect_error(422, "qc_failed");
    assert_eq!(details["investigation_required"], json!(["sterility"]));
    let path = format!("/api/v1/lots/{lot_id}/qc/{}/investigation", id(&positive));
    app.post(
        &path,
        Some(&team.lab),
        signed(json!({ "conclusion": "invalid_test", "reason": "x" })),
    )
    .await
    .expect_error(403, "forbidden");
    let passing = app
        .qc(&team, &lot_id, "cd90", "99", Some("%"))
        .await
        .expect(201);
    app.post(
        &format!("/api/v1/lots/{lot_id}/qc/{}/investigation", id(&passing)),
        Some(&team.quality),
        signed(json!({ "conclusion": "invalid_test", "reason": "x" })),
    )
    .await
    .expect_error(422, "invalid_field");
    let investigated = app
        .post(
            &path,
            Some(&team.quality),
            signed(json!({ "conclusion": "invalid_test", "reason": "environmental contamination of the sample, investigation INV-12" })),
        )
        .await
        .expect(200);
    let shown = investigated["qc"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == positive["id"])
        .unwrap();
    assert_eq!(shown["pass"], false);
    assert_eq!(shown["investigation"]["conclusion"], "invalid_test");
    assert!(
        investigated["qc_standing"]["failed"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    app.release(&team, &lot_id).await.expect(200);
    // a confirmed positive rejects the lot
    let (other, _) = app.quarantined_lot(&team, "UCD-9911", 4).await;
    let myco = app
        .qc(&team, &id(&other), "mycoplasma", "positive", None)
        .await
        .expect(201);
    let rejected = app
        .post(
            &format!("/api/v1/lots/{}/qc/{}/investigation", id(&other), id(&myco)),
            Some(&team.quality),
            signed(json!({ "conclusion": "confirmed", "reason": "confirmed by PCR" })),
        )
        .await
        .expect(200);
    assert_eq!(rejected["status"], "rejected");
    // decimals are read from their exact text, and detection limits judged
    let exact = app.post(
        &format!("/api/v1/lots/{}/qc", id(&other)),
        Some(&team.lab),
        json!({ "test": "cd73", "value": "94.99999999999999999", "unit": "%" }),
    );
    assert_eq!(exact.await.expect(201)["pass"], false);
    let raw = app
        .client
        .post(app.url(&format!("/api/v1/lots/{}/qc", id(&other))))
        .bearer_auth(&team.lab)
        .header("content-type", "application/json")
        .body(r#"{"test":"cd73","value":94.99999999999999999,"unit":"%"}"#);
    let judged = app.send(raw).await.expect(201);
    assert_eq!(judged["pass"], false, "{judged}");
    assert_eq!(judged["value"], "94.99999999999999999");
    let below = app
        .qc(&team, &id(&other), "endotoxin", "<0.25", Some("EU/mL"))
        .await
        .expect(201);
    assert_eq!(below["pass"], true);
    assert_eq!(below["value"], "<0.25");
    app.qc(&team, &id(&other), "endotoxin", "<1", Some("EU/mL"))
        .await
        .expect_error(422, "invalid_qc_value");
}

async fn the_bedside_wants_millilitres_and_exact_scans(app: TestApp) {
    let team = app.team().await;
    let clinic = app.clinic().await;
    app.dosing_stock(&team, "UCD-9920", 4, 300).await;
    let patient = app.weighed_patient(&clinic, "PV-992", 40).await;
    let dose = app.prepared_dose(&clinic, &id(&patient)).await;
    let (wristband, bag) = scans(&patient, &dose);
    // the right codes, typed by hand in lower case, are not scans
    let details = app
        .start_infusion(
            &clinic,
            &dose,
            &wristband.to_lowercase(),
            &bag.to_lowercase(),
        )
        .await
        .expect_error(422, "identity_mismatch");
    assert_eq!(details["mismatches"][0]["problem"], "not_scanned");
    assert_eq!(details["mismatches"][1]["problem"], "not_scanned");
    // a scanner's Enter after the label is still the label
    let started = app
        .start_infusion(&clinic, &dose, &format!("{wristband}\r\n"), &bag)
        .await
        .expect(201);
    let prepared = dose["volume_ul"].as_i64().unwrap();
    // "give 2.7 mL" typed as 2.7 into a field of µL is 3 µL
    let body = |volume: i64, confirm: Option<&str>| {
        let mut b = json!({ "ended_at": rfc3339(app.clock.now()), "volume_infused_ul": volume });
        if let Some(reason) = confirm {
            b["confirm_volume"] = json!(true);
            if !reason.is_empty() {
                b["volume_reason"] = json!(reason);
            }
        }
        b
    };
    let details = app
        .complete(&clinic, &started, body(3, None))
        .await
        .expect_error(422, "volume_unconfirmed");
    assert_eq!(details["volume_prepared_ul"], prepared);
    assert_eq!(details["tolerance_pct"], 10);
    app.complete(&clinic, &started, body(3, Some("")))
        .await
        .expect_error(422, "invalid_field");
    app.complete(&clinic, &started, body(prepared * 2, Some("flushed")))
        .await
        .expect_error(422, "invalid_field");
    // within 90-110 % needs nothing; outside, a reason
    let done = app
        .complete(
            &clinic,
            &started,
            body(prepared * 80 / 100, Some("infusion stopped early: rigors")),
        )
        .await
        .expect(200);
    assert_eq!(done["volume_infused_ul"], prepared * 80 / 100);
    let history = app
        .get(
            &format!(
                "/api/v1/audit?subject_kind=infusion&subject_id={}",
                id(&started)
            ),
            Some(&team.quality),
        )
        .await
        .expect(200);
    assert_eq!(
        history.as_array().unwrap().last().unwrap()["details"]["volume_confirmed"]["reason"],
        "infusion stopped early: rigors"
    );
}

async fn a_vial_in_use_stays_and_a_recall_lets_a_running_infusion_finish(app: TestApp) {
    let team = app.team().await;
    let clinic = app.clinic().await;
    let (lot, _) = app.dosing_stock(&team, "UCD-9930", 8, 300).await;
    let running = app.weighed_patient(&clinic, "PV-993", 40).await;
    let waiting = app.weighed_patient(&clinic, "PV-994", 40).await;
    let infusing = app.prepared_dose(&clinic, &id(&running)).await;
    let verified = app.prepared_dose(&clinic, &id(&waiting)).await;
    let discard = |vial: &Value| {
        app.post(
            &format!("/api/v1/vials/{}/discard", vial.as_str().unwrap()),
            Some(&team.lab),
            signed(json!({ "reason": "found on the bench" })),
        )
    };
    let details = discard(&verified["vial_ids"][0])
        .await
        .expect_error(409, "in_use");
    assert_eq!(details["dose_status"], "verified");
    let (wristband, bag) = scans(&running, &infusing);
    let started = app
        .start_infusion(&clinic, &infusing, &wristband, &bag)
        .await
        .expect(201);
    discard(&infusing["vial_ids"][0])
        .await
        .expect_error(409, "in_use");
    // the recall, during the infusion
    let recall = app
        .post(
            &format!("/api/v1/lots/{}/recall", id(&lot)),
            Some(&team.quality),
            signed(json!({ "reason": "sterility retest positive" })),
        )
        .await
        .expect(200);
    let to_discard = recall["thawed_vials_to_discard"].as_array().unwrap();
    for vial in infusing["vials"].as_array().unwrap() {
        assert!(!to_discard.contains(&vial["code"]), "{recall}");
    }
    for vial in verified["vials"].as_array().unwrap() {
        assert!(to_discard.contains(&vial["code"]), "{recall}");
        assert_eq!(app.vial_status(&clinic, &vial["id"]).await, "discarded");
    }
    assert_eq!(recall["infusions_in_progress"], json!([started["id"]]));
    let recipient = recall["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["subject_code"] == "PV-993")
        .expect("the running infusion's patient is named");
    assert_eq!(recipient["infusions"][0]["in_progress"], true);
    let cancelled = app.dose(&clinic, &verified).await;
    assert_eq!(cancelled["status"], "cancelled");
    assert!(
        cancelled["cancel_reason"]
            .as_str()
            .unwrap()
            .contains("sterility retest positive")
    );
    // the infusion is completed; what was given is a fact
    let done = app
        .complete(
            &clinic,
            &started,
            json!({ "ended_at": rfc3339(app.clock.now()), "volume_infused_ul": infusing["volume_ul"] }),
        )
        .await
        .expect(200);
    assert_eq!(done["status"], "completed");
    for vial in infusing["vial_ids"].as_array().unwrap() {
        assert_eq!(app.vial_status(&clinic, vial).await, "infused");
    }
    assert_eq!(app.verify_ledger(&team).await["ok"], true);
}

async fn people_read_the_sites_time(app: TestApp) {
    let team = app.team().await;
    let clinic = app.clinic().await;
    let (lot, _) = app.dosing_stock(&team, "UCD-9940", 4, 300).await;
    let patient = app.weighed_patient(&clinic, "PV-995", 40).await;
    let dose = app.prepared_dose(&clinic, &id(&patient)).await;
    // the API speaks UTC
    assert!(
        dose["use_by"].as_str().unwrap().ends_with('Z')
            || dose["use_by"].as_str().unwrap().ends_with("+00:00")
    );
    // the bag label: Beijing time with its offset, the second identifier,
    // the post-thaw viability and concentration (never in the QR)
    let (status, _, svg) = app
        .get_bytes(
            &format!("/api/v1/doses/{}/label.svg", id(&dose)),
            Some(&clinic.pharmacist),
        )
        .await;
    assert_eq!(status, 200);
    let svg = String::from_utf8(svg).unwrap();
    let use_by = at(&dose["use_by"]).with_timezone(&chrono_tz_shanghai());
    assert!(
        svg.contains(&use_by.format("%Y-%m-%d %H:%M +08:00").to_string()),
        "{svg}"
    );
    assert!(svg.contains("1980-05-17"), "{svg}");
    assert!(svg.contains("92.0 %"), "{svg}");
    assert!(svg.contains("/mL"), "{svg}");
    assert!(!svg.contains("UTC"));
    // the trace CSV is for people: local time with the offset
    app.infuse(&clinic, &patient, &dose).await;
    let (_, _, csv) = app
        .get_bytes(
            &format!("/api/v1/trace/lots/{}?format=csv", id(&lot)),
            Some(&team.quality),
        )
        .await;
    let csv = String::from_utf8(csv).unwrap();
    assert!(csv.contains("+08:00"), "{csv}");
    // pages: signed in through the browser form
    let cookie = crate::web::sign_in(&app, "pharm.one").await;
    let (status, html) = crate::web::page(&app, &format!("/doses/{}", id(&dose)), &cookie).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("+08:00"),
        "times on pages carry the site's offset"
    );
    assert!(!html.contains(" UTC"));
}

fn chrono_tz_shanghai() -> chrono::FixedOffset {
    chrono::FixedOffset::east_opt(8 * 3600).unwrap()
}

async fn pages_ask_in_words(app: TestApp) {
    use reqwest::header::{COOKIE, LOCATION};
    let team = app.team().await;
    let clinic = app.clinic().await;
    let patient = app.weighed_patient(&clinic, "PV-996", 70).await;
    let pid = id(&patient);
    let nurse = crate::web::sign_in(&app, "nurse.one").await;
    let (_, html) = crate::web::page(&app, &format!("/patients/{pid}"), &nurse).await;
    let csrf = crate::web::csrf(&html);
    let post = |path: String, form: Vec<(&'static str, String)>| {
        let nurse = nurse.clone();
        let url = app.url(&path);
        async move {
            let response = crate::web::browser()
                .post(url)
                .header(COOKIE, nurse)
                .form(&form)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let location = response
                .headers()
                .get(LOCATION)
                .map(|l| l.to_str().unwrap().to_owned());
            (status, location, response.text().await.unwrap())
        }
    };
    // 154 kg typed from a scale in pounds: a question, in words
    let (status, _, html) = post(
        format!("/patients/{pid}/weights"),
        vec![
            ("csrf", csrf.clone()),
            ("value", "154".into()),
            ("unit", "kg".into()),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        html.contains("154 kg is 120.0 % more than the last weight of 70 kg"),
        "{html}"
    );
    assert!(
        html.contains("was it typed in pounds? 154 lb would be 69.9 kg"),
        "{html}"
    );
    assert!(html.contains("Yes, 154 kg is right: record it"), "{html}");
    assert!(!html.contains("confirm_change:"), "no API hint on a page");
    assert!(
        !html.contains("weight_change_unconfirmed"),
        "no code on a page"
    );
    let (status, location, _) = post(
        format!("/patients/{pid}/weights"),
        vec![
            ("csrf", csrf.clone()),
            ("value", "154".into()),
            ("unit", "kg".into()),
            ("confirm_change", "true".into()),
        ],
    )
    .await;
    assert_eq!(status, 303);
    assert!(location.unwrap().contains("ok="));
    // a refusal on a page is a sentence, not a field name
    let (_, location, _) = post(
        format!("/patients/{pid}/weights"),
        vec![
            ("csrf", csrf.clone()),
            ("value", "7o".into()),
            ("unit", "kg".into()),
        ],
    )
    .await;
    let location = location.unwrap();
    assert!(
        location.contains("error=A%20positive%20decimal"),
        "{location}"
    );
    assert!(!location.contains("value%3A"), "{location}");
    // the bedside asks for mL, and a volume far from the bag is confirmed
    app.dosing_stock(&team, "UCD-9960", 6, 300).await;
    let other = app.weighed_patient(&clinic, "PV-997", 40).await;
    let dose = app.prepared_dose(&clinic, &id(&other)).await;
    let (wristband, bag) = scans(&other, &dose);
    let started = app
        .start_infusion(&clinic, &dose, &wristband, &bag)
        .await
        .expect(201);
    let (_, html) = crate::web::page(&app, &format!("/doses/{}/bedside", id(&dose)), &nurse).await;
    assert!(html.contains("Volume infused (mL, as on the bag)"));
    assert!(
        html.contains(&format!(
            "value=\"{}\"",
            dose["volume_ml"].as_str().unwrap()
        )),
        "{html}"
    );
    let complete = format!("/infusions/{}/complete", id(&started));
    let (status, _, html) = post(
        complete.clone(),
        vec![("csrf", csrf.clone()), ("volume_ml", "0.0025".into())],
    )
    .await;
    assert_eq!(status, 303, "0.0025 mL is not a whole number of µL: {html}");
    let (status, _, html) = post(
        complete.clone(),
        vec![("csrf", csrf.clone()), ("volume_ml", "0.025".into())],
    )
    .await;
    assert_eq!(status, 422);
    assert!(html.contains("is not what the bag holds"), "{html}");
    assert!(html.contains("confirm-volume"));
    let (status, location, _) = post(
        complete,
        vec![
            ("csrf", csrf.clone()),
            ("volume_ml", "2".into()),
            ("confirm_volume", "true".into()),
            ("volume_reason", "infusion stopped: rigors".into()),
        ],
    )
    .await;
    assert_eq!(status, 303);
    assert!(location.unwrap().contains("ok="));
    let infusion = app
        .get(
            &format!("/api/v1/infusions/{}", id(&started)),
            Some(&clinic.clinician),
        )
        .await
        .expect(200);
    assert_eq!(infusion["volume_infused_ul"], 2000);
}
