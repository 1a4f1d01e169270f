//! Temperature readings on both databases: pushed as JSON and uploaded as
//! a logger's CSV, each kept once; an excursion longer than the allowed
//! minutes holds exactly the vials that were inside the unit (from the
//! ledger's record of where each vial was), and a held vial cannot be
//! reserved or thawed until quality releases it; who may send readings,
//! and for which unit.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::on_both_databases;
use crate::story::{Team, id, rfc3339, signed};

on_both_databases!(
    readings_are_kept_once_and_read_back_a_page_at_a_time,
    a_logger_file_is_read_and_every_problem_is_named_by_its_line,
    an_excursion_holds_exactly_the_vials_that_were_inside,
    a_short_excursion_is_an_alarm_and_holds_nothing,
    a_held_vial_cannot_be_reserved_or_thawed_until_released,
    readings_are_refused_to_the_wrong_people_and_from_the_future,
    a_shipper_excursion_holds_the_vials_it_carried,
    an_excursion_that_goes_on_holds_the_vials_put_in_meanwhile,
    a_held_vial_is_not_packed_into_a_shipper,
);

/// A tank with one box, returns (tank, box).
async fn tank_with_box(app: &TestApp, team: &Team, name: &str) -> (Value, Value) {
    let tank = app
        .post(
            "/api/v1/storage",
            Some(&team.lab),
            json!({ "name": format!("Tank {name}"), "kind": "tank" }),
        )
        .await
        .expect(201);
    let rack = app
        .post(
            "/api/v1/storage",
            Some(&team.lab),
            json!({ "name": "Rack A", "kind": "rack", "parent_id": tank["id"] }),
        )
        .await
        .expect(201);
    let boxed = app
        .post(
            "/api/v1/storage",
            Some(&team.lab),
            json!({ "name": "Box 1", "kind": "box", "parent_id": rack["id"], "rows": 9, "cols": 9 }),
        )
        .await
        .expect(201);
    (tank, boxed)
}

pub fn reading(at: DateTime<Utc>, celsius: &str) -> Value {
    json!({ "at": rfc3339(at), "celsius": celsius })
}

pub async fn push(app: &TestApp, token: &str, unit: &Value, readings: Vec<Value>) -> Value {
    app.post(
        &format!("/api/v1/storage/{}/temperature-readings", id(unit)),
        Some(token),
        json!({ "readings": readings }),
    )
    .await
    .expect(201)
}

/// A warm spell of `minutes` (readings every five minutes from `start`,
/// above −150 °C), cold before and after.
pub fn warm_spell(start: DateTime<Utc>, minutes: i64) -> Vec<Value> {
    let mut readings = vec![reading(start - Duration::minutes(5), "-190.00")];
    let mut t = 0;
    while t < minutes {
        readings.push(reading(start + Duration::minutes(t), "-121.50"));
        t += 5;
    }
    readings.push(reading(start + Duration::minutes(minutes), "-189.75"));
    readings
}

async fn vial(app: &TestApp, team: &Team, vial_id: &str) -> Value {
    app.get(&format!("/api/v1/vials/{vial_id}"), Some(&team.lab))
        .await
        .expect(200)
}

async fn readings_are_kept_once_and_read_back_a_page_at_a_time(app: TestApp) {
    let team = app.team().await;
    let (tank, _) = tank_with_box(&app, &team, "R").await;
    let t0 = app.clock.now() - Duration::hours(1);
    let path = format!("/api/v1/storage/{}/temperature-readings", id(&tank));
    let first = app
        .post(
            &path,
            Some(&team.lab),
            json!({ "readings": [
                reading(t0, "-190.5"),
                { "at": rfc3339(t0 + Duration::minutes(5)), "centi_celsius": -18_912 },
                reading(t0 + Duration::minutes(10), "−188.104"),
            ]}),
        )
        .await
        .expect(201);
    assert_eq!(first["accepted"], 3, "{first}");
    assert_eq!(first["duplicates"], 0);
    assert_eq!(first["limits"]["max_celsius"], "-150.00");
    assert_eq!(first["limits"]["allowed_minutes"], 10);
    assert_eq!(first["holds"], json!([]));
    // the monitoring system sends the last two again, and one new
    let again = push(
        &app,
        &team.quality,
        &tank,
        vec![
            json!({ "at": rfc3339(t0 + Duration::minutes(5)), "centi_celsius": -18_912 }),
            reading(t0 + Duration::minutes(10), "-188.10"),
            reading(t0 + Duration::minutes(15), "-187"),
        ],
    )
    .await;
    assert_eq!(again["accepted"], 1, "{again}");
    assert_eq!(again["duplicates"], 2);

    let page = app
        .get(&format!("{path}?limit=3"), Some(&team.lab))
        .await
        .expect(200);
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 3, "{page}");
    assert_eq!(items[0]["celsius"], "-190.50");
    assert_eq!(items[1]["centi_celsius"], -18_912);
    // finer than a hundredth is rounded toward warm
    assert_eq!(items[2]["celsius"], "-188.10");
    assert_eq!(items[0]["sent_via"], "api");
    let cursor = page["next_cursor"].as_str().expect("a next page");
    let rest = app
        .get(&format!("{path}?limit=3&cursor={cursor}"), Some(&team.lab))
        .await
        .expect(200);
    assert_eq!(rest["items"].as_array().unwrap().len(), 1, "{rest}");
    assert_eq!(rest["items"][0]["celsius"], "-187.00");
    assert_eq!(rest["next_cursor"], json!(null));
    // from and to, inclusive
    let from = rfc3339(t0 + Duration::minutes(5)).replace('+', "%2B");
    let to = rfc3339(t0 + Duration::minutes(10)).replace('+', "%2B");
    let window = app
        .get(&format!("{path}?from={from}&to={to}"), Some(&team.lab))
        .await
        .expect(200);
    assert_eq!(window["items"].as_array().unwrap().len(), 2, "{window}");

    // no floats, no half-readings: nothing recorded
    app.post(
        &path,
        Some(&team.lab),
        json!({ "readings": [{ "at": rfc3339(t0 + Duration::minutes(20)), "celsius": -151.2 }] }),
    )
    .await
    .expect_error(400, "malformed_request");
    let refused = app
        .post(
            &path,
            Some(&team.lab),
            json!({ "readings": [
                reading(t0 + Duration::minutes(20), "-151.2"),
                { "at": rfc3339(t0 + Duration::minutes(25)), "celsius": "-151.2", "centi_celsius": -15120 },
                reading(t0 + Duration::minutes(30), "cold"),
            ]}),
        )
        .await
        .expect_error(422, "invalid_readings");
    let problems = refused["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 2, "{refused}");
    assert!(
        problems[0].as_str().unwrap().starts_with("readings[1]: "),
        "{refused}"
    );
    assert!(
        problems[1].as_str().unwrap().starts_with("readings[2]: "),
        "{refused}"
    );
    let all = app.get(&path, Some(&team.lab)).await.expect(200);
    assert_eq!(
        all["items"].as_array().unwrap().len(),
        4,
        "nothing more: {all}"
    );
    app.verify_ledger(&team).await;
}

async fn a_logger_file_is_read_and_every_problem_is_named_by_its_line(app: TestApp) {
    let team = app.team().await;
    let (tank, _) = tank_with_box(&app, &team, "C").await;
    let path = format!("/api/v1/storage/{}/temperature-readings/csv", id(&tank));
    let t0 = (app.clock.now() - Duration::hours(2)).format("%Y-%m-%dT%H:%M:00Z");
    let t1 =
        (app.clock.now() - Duration::hours(2) + Duration::minutes(5)).format("%Y-%m-%dT%H:%M:00Z");
    let good = format!("time,temperature\n{t0},-190.2\n{t1},-189.9\n");
    let answer = app
        .send(
            app.client
                .post(app.url(&path))
                .bearer_auth(&team.lab)
                .header("content-type", "text/csv")
                .body(good.clone()),
        )
        .await
        .expect(201);
    assert_eq!(answer["accepted"], 2, "{answer}");
    // the same file again: nothing counted twice
    let again = app
        .send(
            app.client
                .post(app.url(&path))
                .bearer_auth(&team.lab)
                .body(good),
        )
        .await
        .expect(201);
    assert_eq!(
        (again["accepted"].clone(), again["duplicates"].clone()),
        (json!(0), json!(2))
    );

    let bad = format!("time,temperature\n{t0},-190.2\nyesterday,-189.9\n{t1},warm\n");
    let refused = app
        .send(
            app.client
                .post(app.url(&path))
                .bearer_auth(&team.lab)
                .body(bad),
        )
        .await
        .expect_error(422, "invalid_readings");
    let problems: Vec<&str> = refused["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert_eq!(problems.len(), 2, "{refused}");
    assert!(problems[0].starts_with("line 3: "), "{refused}");
    assert!(problems[1].starts_with("line 4: "), "{refused}");
    let empty = app
        .send(
            app.client
                .post(app.url(&path))
                .bearer_auth(&team.lab)
                .body(""),
        )
        .await
        .expect_error(422, "invalid_readings");
    assert!(!empty["problems"].as_array().unwrap().is_empty());
    let all = app
        .get(
            &format!("/api/v1/storage/{}/temperature-readings", id(&tank)),
            Some(&team.lab),
        )
        .await
        .expect(200);
    assert_eq!(
        all["items"].as_array().unwrap().len(),
        2,
        "nothing from the bad files"
    );
    // a pharmacist uploads nothing
    let (_, pharmacist) = app.staff("pharm.csv", "pharmacist").await;
    app.send(
        app.client
            .post(app.url(&path))
            .bearer_auth(&pharmacist)
            .body("time,temperature\n"),
    )
    .await
    .expect_error(403, "forbidden");
    app.verify_ledger(&team).await;
}

/// Codes of the hold's vials.
fn hold_codes(hold: &Value) -> BTreeSet<String> {
    hold["vials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["code"].as_str().unwrap().to_owned())
        .collect()
}

fn code(vial: &Value) -> String {
    vial["code"].as_str().unwrap().to_owned()
}

async fn an_excursion_holds_exactly_the_vials_that_were_inside(app: TestApp) {
    let team = app.team().await;
    let clinic = app.clinic().await;
    let (_, vials) = app.dosing_stock(&team, "UCD-T001", 8, 200).await;
    let (tank, warm_box) = tank_with_box(&app, &team, "W").await;
    let (_, other_box) = tank_with_box(&app, &team, "O").await;
    for (i, v) in vials.iter().enumerate() {
        app.store(&team, &id(v), &id(&warm_box), &format!("A{}", i + 1))
            .await
            .expect(200);
    }
    // four are reserved for a dose and thawed: they leave the tank
    let patient = app.weighed_patient(&clinic, "PV-T01", 70).await;
    let dose = app.order(&clinic, &id(&patient)).await.expect(201);
    let thawed: BTreeSet<String> = dose["vial_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(thawed.len(), 4, "{dose}");
    app.thaw(&clinic, &dose, 16_000_000, json!(90))
        .await
        .expect(200);
    let rest: Vec<&Value> = vials.iter().filter(|v| !thawed.contains(&id(v))).collect();
    let (moved_out, moved_in, stayed) = (rest[0], rest[1], [rest[2], rest[3]]);
    // one moves to another tank before the warm spell
    app.store(&team, &id(moved_out), &id(&other_box), "A1")
        .await
        .expect(200);
    app.store(&team, &id(moved_in), &id(&other_box), "A2")
        .await
        .expect(200);
    app.clock.advance(Duration::minutes(1));
    let start = app.clock.now();
    // one comes in during it
    app.clock.advance(Duration::minutes(10));
    app.store(&team, &id(moved_in), &id(&warm_box), "B1")
        .await
        .expect(200);
    app.clock.advance(Duration::minutes(10));
    let team = app.team_again().await;
    let recorded = push(&app, &team.lab, &tank, warm_spell(start, 20)).await;
    assert_eq!(
        recorded["excursions"].as_array().unwrap().len(),
        1,
        "{recorded}"
    );
    assert_eq!(recorded["excursions"][0]["holds"], true);
    assert_eq!(recorded["excursions"][0]["minutes"], 20);
    assert_eq!(recorded["excursions"][0]["peak_celsius"], "-121.50");
    let opened = recorded["holds"].as_array().unwrap();
    assert_eq!(opened.len(), 1, "{recorded}");
    assert_eq!(opened[0]["vials_held"].as_array().unwrap().len(), 3);
    // the thawed vials had left before: not even named
    assert_eq!(opened[0]["vials_inside_not_held"], json!([]));
    let hold_id = opened[0]["hold_id"].as_str().unwrap();
    let hold = app
        .get(&format!("/api/v1/holds/{hold_id}"), Some(&team.quality))
        .await
        .expect(200);
    let expected: BTreeSet<String> = [code(moved_in), code(stayed[0]), code(stayed[1])]
        .into_iter()
        .collect();
    assert_eq!(hold_codes(&hold), expected, "{hold}");
    assert_eq!(hold["status"], "open");
    assert_eq!(hold["cause"], "excursion");
    assert_eq!(hold["source_kind"], "unit");
    assert_eq!(hold["source_id"], tank["id"]);
    assert_eq!(hold["vial_count"], 3);
    assert_eq!(hold["limit_celsius"], "-150.00");
    for v in hold["vials"].as_array().unwrap() {
        assert_eq!(v["status"], "on_hold");
        assert_eq!(v["held_from"], "available");
    }
    assert_eq!(
        vial(&app, &team, &id(moved_out)).await["status"],
        "available"
    );
    assert_eq!(vial(&app, &team, &id(stayed[0])).await["status"], "on_hold");
    // the excursion and each held vial are in the ledger
    let audit = app
        .get(
            &format!("/api/v1/audit?subject_id={hold_id}"),
            Some(&team.quality),
        )
        .await
        .expect(200);
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["hold.opened"], "{audit}");
    let vial_audit = app
        .get(
            &format!("/api/v1/audit?subject_id={}", id(moved_in)),
            Some(&team.quality),
        )
        .await
        .expect(200);
    assert!(
        vial_audit
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "vial.held"
                && e["details"]["to"] == "on_hold"
                && e["details"]["hold_id"] == hold_id),
        "{vial_audit}"
    );
    // the same readings again open nothing new
    let again = push(&app, &team.lab, &tank, warm_spell(start, 20)).await;
    assert_eq!(again["accepted"], 0);
    assert_eq!(again["holds"], json!([]), "{again}");
    let open = app
        .get("/api/v1/holds?status=open", Some(&team.quality))
        .await
        .expect(200);
    assert_eq!(open["items"].as_array().unwrap().len(), 1, "{open}");
    let verified = app.verify_ledger(&team).await;
    assert_eq!(verified["ok"], true, "{verified}");
}

async fn a_short_excursion_is_an_alarm_and_holds_nothing(app: TestApp) {
    let team = app.team().await;
    let (_, vials) = app.released_lot(&team, "UCD-T002", 2).await;
    let (tank, boxed) = tank_with_box(&app, &team, "S").await;
    app.store(&team, &id(&vials[0]), &id(&boxed), "A1")
        .await
        .expect(200);
    app.clock.advance(Duration::minutes(1));
    let start = app.clock.now();
    app.clock.advance(Duration::minutes(30));
    // exactly the allowed ten minutes: an alarm, not a hold
    let recorded = push(&app, &team.lab, &tank, warm_spell(start, 10)).await;
    assert_eq!(recorded["excursions"][0]["holds"], false, "{recorded}");
    assert_eq!(recorded["holds"], json!([]));
    assert_eq!(
        vial(&app, &team, &id(&vials[0])).await["status"],
        "available"
    );
    // a unit with its own, stricter allowance holds after five minutes
    app.put(
        &format!("/api/v1/storage/{}/temperature-limits", id(&tank)),
        Some(&team.lab),
        json!({ "max_celsius": "-150", "allowed_minutes": 5 }),
    )
    .await
    .expect_error(403, "forbidden");
    let limits = app
        .put(
            &format!("/api/v1/storage/{}/temperature-limits", id(&tank)),
            Some(&team.quality),
            json!({ "max_celsius": "-150", "allowed_minutes": 5 }),
        )
        .await
        .expect(200);
    assert_eq!(limits["allowed_minutes"], 5);
    let later = start + Duration::minutes(20);
    let recorded = push(&app, &team.lab, &tank, warm_spell(later, 10)).await;
    assert_eq!(recorded["holds"].as_array().unwrap().len(), 1, "{recorded}");
    assert_eq!(vial(&app, &team, &id(&vials[0])).await["status"], "on_hold");
    // the vial never stored there is not held
    assert_eq!(
        vial(&app, &team, &id(&vials[1])).await["status"],
        "available"
    );
    app.verify_ledger(&team).await;
}

async fn a_held_vial_cannot_be_reserved_or_thawed_until_released(app: TestApp) {
    let team = app.team().await;
    let clinic = app.clinic().await;
    let (_, vials) = app.dosing_stock(&team, "UCD-T003", 4, 200).await;
    let (tank, boxed) = tank_with_box(&app, &team, "H").await;
    for (i, v) in vials.iter().enumerate() {
        app.store(&team, &id(v), &id(&boxed), &format!("A{}", i + 1))
            .await
            .expect(200);
    }
    let patient = app.weighed_patient(&clinic, "PV-T03", 70).await;
    app.clock.advance(Duration::minutes(1));
    let start = app.clock.now();
    app.clock.advance(Duration::minutes(20));
    let recorded = push(&app, &team.lab, &tank, warm_spell(start, 15)).await;
    let hold_id = recorded["holds"][0]["hold_id"].as_str().unwrap().to_owned();
    // not reserved: no stock
    app.order(&clinic, &id(&patient))
        .await
        .expect_error(422, "insufficient_stock");
    // the scan offers the pharmacist nothing to reserve
    let vial_body = vial(&app, &team, &id(&vials[0])).await;
    let scanned = app
        .post(
            "/api/v1/scan",
            Some(&clinic.pharmacist),
            json!({ "payload": vial_body["scan_payload"] }),
        )
        .await
        .expect(200);
    assert_eq!(scanned["status"], "on_hold");
    assert!(
        !scanned["allowed_actions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a == "reserve"),
        "{scanned}"
    );
    // released, they are available and reserved
    app.post(
        &format!("/api/v1/holds/{hold_id}/release"),
        Some(&team.quality),
        signed(json!({ "reason": "probe fault: tank log shows the vials stayed cold" })),
    )
    .await
    .expect(200);
    let dose = app.order(&clinic, &id(&patient)).await.expect(201);
    // a second excursion holds the reserved vials: no thaw
    app.clock.advance(Duration::minutes(1));
    let second = app.clock.now();
    app.clock.advance(Duration::minutes(20));
    let team = app.team_again().await;
    let recorded = push(&app, &team.lab, &tank, warm_spell(second, 15)).await;
    let hold_id = recorded["holds"][0]["hold_id"].as_str().unwrap().to_owned();
    let hold = app
        .get(&format!("/api/v1/holds/{hold_id}"), Some(&team.quality))
        .await
        .expect(200);
    for v in hold["vials"].as_array().unwrap() {
        assert_eq!(v["held_from"], "reserved", "{hold}");
    }
    // (the thaw refuses a held vial; today it names it "already counted",
    // as it does any vial not reserved: the wording is the dose service's)
    let refused = app.thaw(&clinic, &dose, 16_000_000, json!(90)).await;
    assert!(
        matches!(refused.status.as_u16(), 409 | 422),
        "{:#}",
        refused.body
    );
    let still = app
        .get(
            &format!("/api/v1/doses/{}", id(&dose)),
            Some(&clinic.pharmacist),
        )
        .await
        .expect(200);
    assert_eq!(still["status"], "reserved", "{still}");
    assert_eq!(vial(&app, &team, &id(&vials[0])).await["status"], "on_hold");
    // released, they are the dose's again, and thaw
    let released = app
        .post(
            &format!("/api/v1/holds/{hold_id}/release"),
            Some(&team.quality),
            signed(json!({ "reason": "stayed below -135 °C: within the product's validation" })),
        )
        .await
        .expect(200);
    for v in released["vials"].as_array().unwrap() {
        assert_eq!(v["status"], "reserved", "{released}");
    }
    app.thaw(&clinic, &dose, 16_000_000, json!(90))
        .await
        .expect(200);
    // the two holds, newest first, a page at a time
    let page = app
        .get("/api/v1/holds?limit=1", Some(&team.quality))
        .await
        .expect(200);
    assert_eq!(page["items"][0]["id"], json!(hold_id), "{page}");
    let cursor = page["next_cursor"].as_str().expect("a second page");
    let rest = app
        .get(
            &format!("/api/v1/holds?limit=1&cursor={cursor}"),
            Some(&team.quality),
        )
        .await
        .expect(200);
    assert_eq!(rest["items"].as_array().unwrap().len(), 1, "{rest}");
    assert_ne!(rest["items"][0]["id"], json!(hold_id));
    assert_eq!(rest["items"][0]["status"], "decided");
    assert_eq!(rest["next_cursor"], json!(null));
    app.get("/api/v1/holds?status=shut", Some(&team.quality))
        .await
        .expect_error(422, "invalid_field");
    app.verify_ledger(&team).await;
}

async fn readings_are_refused_to_the_wrong_people_and_from_the_future(app: TestApp) {
    let team = app.team().await;
    let (tank, _) = tank_with_box(&app, &team, "F").await;
    let path = format!("/api/v1/storage/{}/temperature-readings", id(&tank));
    let now = app.clock.now();
    let body = json!({ "readings": [reading(now - Duration::minutes(1), "-190")] });
    // a pharmacist, a clinician, the administrator: not theirs to send
    let (_, pharmacist) = app.staff("pharm.t", "pharmacist").await;
    app.post(&path, Some(&pharmacist), body.clone())
        .await
        .expect_error(403, "forbidden");
    let admin = app.admin_token().await;
    app.post(&path, Some(&admin), body.clone())
        .await
        .expect_error(403, "forbidden");
    app.post(&path, None, body.clone())
        .await
        .expect_error(401, "unauthenticated");
    // an unknown unit
    app.post(
        &format!(
            "/api/v1/storage/{}/temperature-readings",
            uuid::Uuid::now_v7()
        ),
        Some(&team.lab),
        body.clone(),
    )
    .await
    .expect_error(404, "not_found");
    // a unit of a site the lab technician does not work at
    let ward = app
        .post(
            "/api/v1/sites",
            Some(&admin),
            json!({ "name": "Ward 5", "kind": "clinical", "facility_code": "B5555", "time_zone": "Asia/Shanghai" }),
        )
        .await
        .expect(201);
    let (ward_lab_id, ward_lab) = app.staff("lab.ward5", "lab").await;
    app.post(
        &format!("/api/v1/users/{ward_lab_id}/sites"),
        Some(&admin),
        json!({ "site_id": ward["id"] }),
    )
    .await
    .expect(200);
    let ward_tank = app
        .post(
            "/api/v1/storage",
            Some(&ward_lab),
            json!({ "name": "Ward tank", "kind": "tank", "site_id": ward["id"] }),
        )
        .await
        .expect(201);
    let ward_path = format!("/api/v1/storage/{}/temperature-readings", id(&ward_tank));
    let me = app
        .get("/api/v1/users/me", Some(&team.lab))
        .await
        .expect(200);
    assert_ne!(me["id"], json!(ward_lab_id.to_string()));
    app.post(&ward_path, Some(&team.lab), body.clone())
        .await
        .expect_error(403, "not_your_site");
    app.post(&ward_path, Some(&ward_lab), body.clone())
        .await
        .expect(201);
    // the future (beyond five minutes of skew) is refused, by index
    let refused = app
        .post(
            &path,
            Some(&team.lab),
            json!({ "readings": [
                reading(now - Duration::minutes(2), "-190"),
                reading(now + Duration::minutes(4), "-190"),
                reading(now + Duration::minutes(30), "-190"),
            ]}),
        )
        .await
        .expect_error(422, "invalid_readings");
    let problems = refused["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{refused}");
    let problem = problems[0].as_str().unwrap();
    assert!(
        problem.starts_with("readings[2]: ") && problem.contains("future"),
        "{refused}"
    );
    app.post(&path, Some(&team.lab), json!({ "readings": [] }))
        .await
        .expect_error(422, "invalid_readings");
    let all = app.get(&path, Some(&team.lab)).await.expect(200);
    assert_eq!(all["items"], json!([]), "nothing recorded");
    app.verify_ledger(&team).await;
}

async fn a_shipper_excursion_holds_the_vials_it_carried(app: TestApp) {
    use celltrail::domain::temperature::{CentiCelsius, Reading};
    let team = app.team().await;
    let (_, vials) = app.released_lot(&team, "UCD-T004", 3).await;
    let carried: Vec<uuid::Uuid> = vials[..2].iter().map(|v| id(v).parse().unwrap()).collect();
    let start = app.clock.now() - Duration::hours(1);
    let readings: Vec<Reading> = [(-5, -19_000), (0, -14_000), (15, -13_000), (30, -19_500)]
        .into_iter()
        .map(|(minute, centi)| Reading {
            at: start + Duration::minutes(minute),
            temperature: CentiCelsius::new(centi).unwrap(),
        })
        .collect();
    let shipment = uuid::Uuid::now_v7();
    let site = uuid::Uuid::from_u128(0x0000_0000_0000_7000_8000_0000_0000_0001);
    let actor = celltrail::services::Actor::system("test");
    let recorded = celltrail::services::temperature::record_for_shipment(
        &app.state, &actor, shipment, site, &readings, &carried, None, "csv",
    )
    .await
    .expect("recorded");
    assert_eq!(recorded.accepted, 4);
    assert_eq!(recorded.holds.len(), 1);
    assert_eq!(recorded.holds[0].held.len(), 2);
    for v in &vials[..2] {
        assert_eq!(vial(&app, &team, &id(v)).await["status"], "on_hold");
    }
    assert_eq!(
        vial(&app, &team, &id(&vials[2])).await["status"],
        "available"
    );
    let holds = app
        .get("/api/v1/holds", Some(&team.quality))
        .await
        .expect(200);
    assert_eq!(holds["items"][0]["source_kind"], "shipment", "{holds}");
    app.verify_ledger(&team).await;
}

async fn an_excursion_that_goes_on_holds_the_vials_put_in_meanwhile(app: TestApp) {
    let team = app.team().await;
    let (_, vials) = app.released_lot(&team, "UCD-T005", 2).await;
    let (tank, boxed) = tank_with_box(&app, &team, "G").await;
    app.store(&team, &id(&vials[0]), &id(&boxed), "A1")
        .await
        .expect(200);
    app.clock.advance(Duration::minutes(1));
    let start = app.clock.now();
    app.clock.advance(Duration::minutes(20));
    // still warm at the last reading: an open excursion of 20 minutes
    let warm: Vec<Value> = std::iter::once(reading(start - Duration::minutes(5), "-190"))
        .chain((0..=4).map(|i| reading(start + Duration::minutes(5 * i), "-131.00")))
        .collect();
    let first = push(&app, &team.lab, &tank, warm).await;
    assert_eq!(
        first["excursions"][0]["back_within_limit"], false,
        "{first}"
    );
    assert_eq!(first["holds"].as_array().unwrap().len(), 1);
    let hold_id = first["holds"][0]["hold_id"].as_str().unwrap().to_owned();
    // a vial is put in while it is still warm, and the next reading is warm
    app.clock.advance(Duration::minutes(5));
    app.store(&team, &id(&vials[1]), &id(&boxed), "A2")
        .await
        .expect(200);
    app.clock.advance(Duration::minutes(5));
    let more = push(
        &app,
        &team.lab,
        &tank,
        vec![reading(start + Duration::minutes(30), "-129.50")],
    )
    .await;
    assert_eq!(
        more["holds"][0]["hold_id"],
        json!(hold_id),
        "the same hold: {more}"
    );
    assert_eq!(more["holds"][0]["vials_held"], json!([id(&vials[1])]));
    let hold = app
        .get(&format!("/api/v1/holds/{hold_id}"), Some(&team.quality))
        .await
        .expect(200);
    assert_eq!(hold["vial_count"], 2, "{hold}");
    assert_eq!(hold["peak_celsius"], "-129.50");
    assert_eq!(hold["back_within_limit"], false);
    assert_eq!(vial(&app, &team, &id(&vials[1])).await["status"], "on_hold");
    let audit = app
        .get(
            &format!("/api/v1/audit?subject_id={hold_id}"),
            Some(&team.quality),
        )
        .await
        .expect(200);
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["hold.opened", "hold.extended"]);
    app.verify_ledger(&team).await;
}

async fn a_held_vial_is_not_packed_into_a_shipper(app: TestApp) {
    let team = app.team().await;
    let (_, vials) = app.released_lot(&team, "UCD-T006", 1).await;
    let (tank, boxed) = tank_with_box(&app, &team, "P").await;
    app.store(&team, &id(&vials[0]), &id(&boxed), "A1")
        .await
        .expect(200);
    app.clock.advance(Duration::minutes(1));
    let start = app.clock.now();
    app.clock.advance(Duration::minutes(20));
    push(&app, &team.lab, &tank, warm_spell(start, 15)).await;
    let held = vial(&app, &team, &id(&vials[0])).await;
    assert_eq!(held["status"], "on_hold");
    let admin = app.admin_token().await;
    let ward = app
        .post(
            "/api/v1/sites",
            Some(&admin),
            json!({ "name": "Ward 9", "kind": "clinical", "facility_code": "B9999", "time_zone": "Asia/Shanghai" }),
        )
        .await
        .expect(201);
    let container = app
        .post(
            "/api/v1/shipping-containers",
            Some(&team.lab),
            json!({ "code": "DS-09" }),
        )
        .await
        .expect(201);
    let shipment = app
        .post(
            "/api/v1/shipments",
            Some(&team.lab),
            json!({ "to_site_id": ward["id"], "container_id": container["id"] }),
        )
        .await
        .expect(201);
    app.post(
        &format!("/api/v1/shipments/{}/pack", id(&shipment)),
        Some(&team.lab),
        json!({ "scanned": held["scan_payload"] }),
    )
    .await
    .expect_error(409, "invalid_state");
    assert_eq!(vial(&app, &team, &id(&vials[0])).await["status"], "on_hold");
    app.verify_ledger(&team).await;
}
