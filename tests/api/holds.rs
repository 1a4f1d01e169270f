//! Holds on both databases: quality's signed decision (release from hold,
//! discard), for the whole hold or some of its vials; a vial held in
//! quarantine whose lot is released meanwhile comes back available; and
//! every refusal (role, reason, signature, site, a decided vial) changes
//! nothing.

use chrono::Duration;
use serde_json::{Value, json};

use crate::helpers::{STAFF_PASSWORD, TestApp};
use crate::on_both_databases;
use crate::story::{Team, id, signed};
use crate::temperature::{push, warm_spell};

on_both_databases!(
    quality_releases_part_of_a_hold_and_discards_the_rest,
    a_hold_decision_is_refused_without_role_reason_signature_or_site,
    the_unit_page_draws_the_chart_and_quality_decides_there,
);

/// A quarantined lot of three vials in a box of a tank that then warmed
/// for 20 minutes: returns (lot, vials, hold).
async fn held_quarantine(app: &TestApp, team: &Team, donor: &str) -> (Value, Vec<Value>, Value) {
    held_by_excursion(app, team, donor, 3).await
}

/// A quarantined lot of `count` vials stored in a box of a tank that then
/// warmed for 20 minutes: returns (lot, vials, hold).
pub async fn held_by_excursion(
    app: &TestApp,
    team: &Team,
    donor: &str,
    count: u32,
) -> (Value, Vec<Value>, Value) {
    let (lot, vials) = app.quarantined_lot(team, donor, count).await;
    let boxed = app.storage_box(team, donor, 9, 9).await;
    for (i, v) in vials.iter().enumerate() {
        app.store(team, &id(v), &id(&boxed), &format!("A{}", i + 1))
            .await
            .expect(200);
    }
    let unit = app
        .get(&format!("/api/v1/storage/{}", id(&boxed)), Some(&team.lab))
        .await
        .expect(200);
    let rack = app
        .get(
            &format!("/api/v1/storage/{}", unit["parent_id"].as_str().unwrap()),
            Some(&team.lab),
        )
        .await
        .expect(200);
    let tank = json!({ "id": rack["parent_id"] });
    app.clock.advance(Duration::minutes(1));
    let start = app.clock.now();
    app.clock.advance(Duration::minutes(25));
    let recorded = push(app, &team.lab, &tank, warm_spell(start, 20)).await;
    let hold_id = recorded["holds"][0]["hold_id"]
        .as_str()
        .expect("a hold")
        .to_owned();
    let hold = app
        .get(&format!("/api/v1/holds/{hold_id}"), Some(&team.quality))
        .await
        .expect(200);
    assert_eq!(hold["vial_count"], count, "{hold}");
    (lot, vials, hold)
}

async fn status(app: &TestApp, team: &Team, vial: &Value) -> Value {
    app.get(&format!("/api/v1/vials/{}", id(vial)), Some(&team.lab))
        .await
        .expect(200)["status"]
        .clone()
}

async fn quality_releases_part_of_a_hold_and_discards_the_rest(app: TestApp) {
    let team = app.team().await;
    let (lot, vials, hold) = held_quarantine(&app, &team, "UCD-H001").await;
    let hold_id = id(&hold);
    for v in hold["vials"].as_array().unwrap() {
        assert_eq!(v["held_from"], "quarantine");
    }
    // one released while its lot is still in quarantine: back to quarantine
    let first = app
        .post(
            &format!("/api/v1/holds/{hold_id}/release"),
            Some(&team.quality),
            signed(json!({ "reason": "mapped position stayed below -150 °C", "vial_ids": [id(&vials[0])] })),
        )
        .await
        .expect(200);
    assert_eq!(first["status"], "open", "two vials still await a decision");
    assert_eq!(status(&app, &team, &vials[0]).await, "quarantine");
    // the lot is released: the held vials stay held
    app.release(&team, &id(&lot)).await.expect(200);
    assert_eq!(status(&app, &team, &vials[0]).await, "available");
    assert_eq!(status(&app, &team, &vials[1]).await, "on_hold");
    // released from hold now: available, the lot being released
    app.post(
        &format!("/api/v1/holds/{hold_id}/release"),
        Some(&team.quality),
        signed(json!({ "reason": "mapped position stayed below -150 °C", "vial_ids": [id(&vials[1])] })),
    )
    .await
    .expect(200);
    assert_eq!(status(&app, &team, &vials[1]).await, "available");
    // the last is discarded: it leaves its box
    let decided = app
        .post(
            &format!("/api/v1/holds/{hold_id}/discard"),
            Some(&team.quality),
            signed(json!({ "reason": "top of the rack: warmed past -135 °C" })),
        )
        .await
        .expect(200);
    assert_eq!(decided["status"], "decided", "{decided}");
    assert_eq!(decided["decision"], "mixed");
    let discarded = app
        .get(&format!("/api/v1/vials/{}", id(&vials[2])), Some(&team.lab))
        .await
        .expect(200);
    assert_eq!(discarded["status"], "discarded");
    assert_eq!(discarded["location"], json!(null));
    let by_code: Vec<(&str, &str)> = decided["vials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["decision"].as_str().unwrap(),
                v["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        by_code,
        [
            ("released", "available"),
            ("released", "available"),
            ("discarded", "discarded")
        ]
    );
    // decided is decided
    app.post(
        &format!("/api/v1/holds/{hold_id}/release"),
        Some(&team.quality),
        signed(json!({ "reason": "again" })),
    )
    .await
    .expect_error(409, "invalid_state");
    let open = app
        .get("/api/v1/holds?status=open", Some(&team.quality))
        .await
        .expect(200);
    assert_eq!(open["items"], json!([]));
    let all = app
        .get("/api/v1/holds?status=decided&limit=1", Some(&team.lab))
        .await
        .expect(200);
    assert_eq!(all["items"][0]["id"], hold["id"]);
    assert_eq!(all["next_cursor"], json!(null));
    // the decisions are signed events of the hold
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
    assert_eq!(
        actions,
        [
            "hold.opened",
            "hold.released",
            "hold.released",
            "hold.discarded"
        ]
    );
    assert_eq!(audit[3]["details"]["signature"]["meaning"], "approval");
    let verified = app.verify_ledger(&team).await;
    assert_eq!(verified["ok"], true, "{verified}");
}

async fn a_hold_decision_is_refused_without_role_reason_signature_or_site(app: TestApp) {
    let team = app.team().await;
    let (_, vials, hold) = held_quarantine(&app, &team, "UCD-H002").await;
    let release = format!("/api/v1/holds/{}/release", id(&hold));
    let discard = format!("/api/v1/holds/{}/discard", id(&hold));
    let reason = json!({ "reason": "probe fault" });
    // the lab does not decide
    app.post(&release, Some(&team.lab), signed(reason.clone()))
        .await
        .expect_error(403, "forbidden");
    // a reason is needed
    app.post(
        &release,
        Some(&team.quality),
        signed(json!({ "reason": "  " })),
    )
    .await
    .expect_error(422, "invalid_field");
    app.post(&discard, Some(&team.quality), signed(json!({})))
        .await
        .expect_error(400, "malformed_request");
    // a signature that is not the signer's
    app.post(
        &release,
        Some(&team.quality),
        json!({ "reason": "probe fault", "signature": { "password": "not-mine-at-all", "meaning": "approval" } }),
    )
    .await
    .expect_error(401, "signature_invalid");
    // a vial not in the hold
    app.post(
        &release,
        Some(&team.quality),
        signed(json!({ "reason": "probe fault", "vial_ids": [uuid::Uuid::now_v7()] })),
    )
    .await
    .expect_error(422, "invalid_field");
    // an unknown hold
    app.post(
        &format!("/api/v1/holds/{}/release", uuid::Uuid::now_v7()),
        Some(&team.quality),
        signed(reason.clone()),
    )
    .await
    .expect_error(404, "not_found");
    // a quality officer of another site only
    let admin = app.admin_token().await;
    let ward = app
        .post(
            "/api/v1/sites",
            Some(&admin),
            json!({ "name": "Ward 7", "kind": "clinical", "facility_code": "B7777", "time_zone": "Asia/Shanghai" }),
        )
        .await
        .expect(201);
    let (other_id, other) = app.staff("qa.ward7", "quality").await;
    app.post(
        &format!("/api/v1/users/{other_id}/sites"),
        Some(&admin),
        json!({ "site_id": ward["id"] }),
    )
    .await
    .expect(200);
    // made after the second site, the account works only where it is granted
    let refused = app
        .post(
            &release,
            Some(&other),
            json!({ "reason": "probe fault", "signature": { "password": STAFF_PASSWORD, "meaning": "approval" } }),
        )
        .await;
    assert_eq!(refused.status.as_u16(), 403, "{:#}", refused.body);
    assert_eq!(refused.body["error"]["code"], "not_your_site");
    // nothing changed
    for v in &vials {
        assert_eq!(status(&app, &team, v).await, "on_hold");
    }
    let unchanged = app
        .get(&format!("/api/v1/holds/{}", id(&hold)), Some(&team.quality))
        .await
        .expect(200);
    assert_eq!(unchanged["status"], "open");
    assert!(
        unchanged["vials"]
            .as_array()
            .unwrap()
            .iter()
            .all(|v| v["decision"].is_null())
    );
    app.verify_ledger(&team).await;
}

async fn the_unit_page_draws_the_chart_and_quality_decides_there(app: TestApp) {
    use crate::web::{csrf, page, sign_in, submit};
    let team = app.team().await;
    let (_, vials, hold) = held_quarantine(&app, &team, "UCD-H003").await;
    let tank = hold["source_id"].as_str().unwrap().to_owned();
    let hold_id = id(&hold);
    let quality = sign_in(&app, "qa.officer").await;
    let (status, html) = page(&app, &format!("/storage/{tank}"), &quality).await;
    assert_eq!(status.as_u16(), 200, "{html}");
    for part in [
        "<svg class=\"temperature-chart\"",
        "class=\"readings\"",
        "class=\"limit\"",
        "stroke-dasharray",
        "class=\"excursion\"",
        "data-holds=\"true\"",
        "+08:00",
        "Vials on hold",
    ] {
        assert!(html.contains(part), "{part} missing from the unit's page");
    }
    let release = format!("/holds/{hold_id}/release");
    assert!(
        html.contains(&format!("action=\"{release}\"")),
        "quality sees the form"
    );
    // the lab sees the chart and the hold, not the forms
    let lab = sign_in(&app, "lab.tech").await;
    let (_, lab_html) = page(&app, &format!("/storage/{tank}"), &lab).await;
    assert!(lab_html.contains("temperature-chart"));
    assert!(!lab_html.contains(&release), "no decision form for the lab");
    // the box map shows the held vials in their own shade
    let stored = app
        .get(&format!("/api/v1/vials/{}", id(&vials[0])), Some(&team.lab))
        .await
        .expect(200);
    let box_id = stored["location"]["box_id"].as_str().unwrap().to_owned();
    let (_, box_html) = page(&app, &format!("/storage/{box_id}"), &lab).await;
    assert!(
        box_html.contains("on hold after a temperature excursion"),
        "the held shade's words"
    );
    // a wrong password sends the form back and changes nothing
    let token = csrf(&html);
    let (status, location, _) = submit(
        &app,
        &quality,
        &release,
        &[
            ("csrf", &token),
            ("reason", "probe fault"),
            ("password", "not-the-password"),
            ("meaning", "released from hold"),
        ],
    )
    .await;
    assert_eq!(status.as_u16(), 303);
    assert!(location.contains("error="), "{location}");
    assert_eq!(status_of(&app, &team, &vials[0]).await, "on_hold");
    // signed, the whole hold is released
    let (status, location, _) = submit(
        &app,
        &quality,
        &release,
        &[
            ("csrf", &token),
            ("reason", "probe fault"),
            ("password", STAFF_PASSWORD),
            ("meaning", "released from hold"),
        ],
    )
    .await;
    assert_eq!(status.as_u16(), 303);
    assert!(
        location.starts_with(&format!("/storage/{tank}?ok=")),
        "{location}"
    );
    for v in &vials {
        assert_eq!(status_of(&app, &team, v).await, "quarantine");
    }
    let (_, after) = page(&app, &format!("/storage/{tank}"), &quality).await;
    assert!(!after.contains(&release), "no open hold left");
    app.verify_ledger(&team).await;
}

async fn status_of(app: &TestApp, team: &Team, vial: &Value) -> Value {
    status(app, team, vial).await
}
