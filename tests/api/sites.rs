//! Sites on both databases: the default site a one-site install starts
//! with (its facility code and zone from the configuration, its creation
//! in the ledger), sites the administrator adds, who works where, and the
//! site every new tank, lot and patient belongs to: the only one of the
//! person making it, or the one they name among theirs.

use serde_json::{Value, json};

use crate::clinic::eligible_criteria;
use crate::helpers::TestApp;
use crate::on_both_databases;
use crate::story::{id, rfc3339};

on_both_databases!(
    a_one_site_install_has_the_default_site_from_its_configuration,
    the_administrator_adds_sites_and_refusals_change_nothing,
    the_administrator_says_who_works_where,
    new_records_belong_to_the_site_of_whoever_makes_them,
    a_vial_is_stored_and_dosed_only_at_its_site,
    a_record_of_another_site_is_scanned_to_see_where_it_is,
    two_administrators_racing_for_one_facility_code,
);

const DEFAULT_SITE: &str = "00000000-0000-7000-8000-000000000001";

pub async fn site(app: &TestApp, admin: &str, name: &str, code: &str, kind: &str) -> Value {
    app.post(
        "/api/v1/sites",
        Some(admin),
        json!({ "name": name, "kind": kind, "facility_code": code, "time_zone": "Asia/Shanghai" }),
    )
    .await
    .expect(201)
}

async fn a_one_site_install_has_the_default_site_from_its_configuration(app: TestApp) {
    let team = app.team().await;
    let sites = app.get("/api/v1/sites", Some(&team.lab)).await.expect(200);
    let items = sites["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{sites}");
    let default = &items[0];
    assert_eq!(default["id"], DEFAULT_SITE);
    assert_eq!(default["default"], true);
    assert_eq!(default["kind"], "combined");
    assert_eq!(default["facility_code"], "A9999");
    assert_eq!(default["time_zone"], "Asia/Shanghai", "the configured zone");
    assert_eq!(sites["next_cursor"], json!(null));
    // its creation is in the ledger, once
    let quality = &team.quality;
    let audit = app
        .get(
            &format!("/api/v1/audit?subject_id={DEFAULT_SITE}"),
            Some(quality),
        )
        .await
        .expect(200);
    let created: Vec<&Value> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "site.created")
        .collect();
    assert_eq!(created.len(), 1, "{audit}");
    assert_eq!(created[0]["details"]["time_zone"], "Asia/Shanghai");
    // every account works there: the lab's tank is at the default site
    let tank = app
        .post(
            "/api/v1/storage",
            Some(&team.lab),
            json!({ "name": "Tank S", "kind": "tank" }),
        )
        .await
        .expect(201);
    assert_eq!(tank["site_id"], DEFAULT_SITE);
}

async fn the_administrator_adds_sites_and_refusals_change_nothing(app: TestApp) {
    let team = app.team().await;
    let admin = app.admin_token().await;
    let ward = site(&app, &admin, "Ward 3", "B1234", "clinical").await;
    assert_eq!(ward["default"], false);
    assert_eq!(ward["kind"], "clinical");
    let got = app
        .get(&format!("/api/v1/sites/{}", id(&ward)), Some(&team.lab))
        .await
        .expect(200);
    assert_eq!(got["name"], "Ward 3");

    let body = |name: &str, kind: &str, code: &str, zone: &str| json!({ "name": name, "kind": kind, "facility_code": code, "time_zone": zone });
    // only the administrator adds sites
    app.post(
        "/api/v1/sites",
        Some(&team.lab),
        body("Lab 2", "manufacturing", "C1234", "UTC"),
    )
    .await
    .expect_error(403, "forbidden");
    for (refused, status, code) in [
        (
            body("Ward 3", "clinical", "C1234", "UTC"),
            409,
            "site_taken",
        ),
        (
            body("Ward 4", "clinical", "B1234", "UTC"),
            409,
            "site_taken",
        ),
        (body("", "clinical", "C1234", "UTC"), 422, "invalid_field"),
        (
            body("Ward 4", "hospital", "C1234", "UTC"),
            422,
            "invalid_field",
        ),
        (
            body("Ward 4", "clinical", "c1234", "UTC"),
            422,
            "invalid_field",
        ),
        (
            body("Ward 4", "clinical", "C12345", "UTC"),
            422,
            "invalid_field",
        ),
        (
            body("Ward 4", "clinical", "C1234", "Mars/Olympus"),
            422,
            "invalid_field",
        ),
    ] {
        app.post("/api/v1/sites", Some(&admin), refused.clone())
            .await
            .expect_error(status, code);
    }
    app.post(
        "/api/v1/sites",
        Some(&admin),
        json!({ "name": "Ward 4", "kind": "clinical", "facility_code": "C1234", "time_zone": "UTC", "extra": 1 }),
    )
    .await
    .expect_error(400, "malformed_request");
    let all = app.get("/api/v1/sites", Some(&team.lab)).await.expect(200);
    assert_eq!(all["items"].as_array().unwrap().len(), 2, "nothing added");

    // a page at a time, by facility code; q finds a code's start
    let first = app
        .get("/api/v1/sites?limit=1", Some(&team.lab))
        .await
        .expect(200);
    assert_eq!(first["items"][0]["facility_code"], "A9999");
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let second = app
        .get(
            &format!("/api/v1/sites?limit=1&cursor={cursor}"),
            Some(&team.lab),
        )
        .await
        .expect(200);
    assert_eq!(second["items"][0]["facility_code"], "B1234");
    assert_eq!(second["next_cursor"], json!(null));
    let found = app
        .get("/api/v1/sites?q=b12", Some(&team.lab))
        .await
        .expect(200);
    assert_eq!(found["items"].as_array().unwrap().len(), 1);
    app.get(
        "/api/v1/sites/00000000-0000-7000-8000-0000000000ff",
        Some(&team.lab),
    )
    .await
    .expect_error(404, "not_found");
}

async fn the_administrator_says_who_works_where(app: TestApp) {
    let team = app.team().await;
    let admin = app.admin_token().await;
    let ward = site(&app, &admin, "Ward 3", "B1234", "clinical").await;
    // with two sites, a new account works nowhere until told
    let (nurse_id, _) = app.staff("nurse.two", "clinician").await;
    let path = format!("/api/v1/users/{nurse_id}/sites");
    let none = app.get(&path, Some(&admin)).await.expect(200);
    assert_eq!(none["sites"], json!([]));
    let granted = app
        .post(&path, Some(&admin), json!({ "site_id": id(&ward) }))
        .await
        .expect(200);
    assert_eq!(granted["sites"][0]["name"], "Ward 3");
    // given twice: nothing would change
    app.post(&path, Some(&admin), json!({ "site_id": id(&ward) }))
        .await
        .expect_error(422, "invalid_field");
    app.post(&path, Some(&team.lab), json!({ "site_id": id(&ward) }))
        .await
        .expect_error(403, "forbidden");
    app.post(
        &path,
        Some(&admin),
        json!({ "site_id": "00000000-0000-7000-8000-0000000000ff" }),
    )
    .await
    .expect_error(404, "not_found");
    // revoked with a reason, once
    let revoke = format!("{path}/{}/revoke", id(&ward));
    app.post(&revoke, Some(&admin), json!({ "reason": "" }))
        .await
        .expect_error(422, "invalid_field");
    let revoked = app
        .post(
            &revoke,
            Some(&admin),
            json!({ "reason": "moved to the day unit" }),
        )
        .await
        .expect(200);
    assert_eq!(revoked["sites"], json!([]));
    app.post(&revoke, Some(&admin), json!({ "reason": "again" }))
        .await
        .expect_error(422, "invalid_field");
    // and given again
    app.post(&path, Some(&admin), json!({ "site_id": id(&ward) }))
        .await
        .expect(200);
    let audit = app
        .get(
            &format!("/api/v1/audit?subject_id={nurse_id}"),
            Some(&team.quality),
        )
        .await
        .expect(200);
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    for action in ["user.site_granted", "user.site_revoked"] {
        assert!(actions.contains(&action), "{action}: {actions:?}");
    }
}

async fn new_records_belong_to_the_site_of_whoever_makes_them(app: TestApp) {
    let team = app.team().await;
    let clinic = app.clinic().await;
    let admin = app.admin_token().await;
    let ward = site(&app, &admin, "Ward 3", "B1234", "clinical").await;
    let other = site(&app, &admin, "Store 9", "D1234", "storage").await;
    // the lab works at both the default site and the ward
    let (lab_id, _) = {
        let me = app
            .get("/api/v1/users/me", Some(&team.lab))
            .await
            .expect(200);
        (id(&me), ())
    };
    app.post(
        &format!("/api/v1/users/{lab_id}/sites"),
        Some(&admin),
        json!({ "site_id": id(&ward) }),
    )
    .await
    .expect(200);
    let tank = |body: Value| app.post("/api/v1/storage", Some(&team.lab), body);
    tank(json!({ "name": "Tank W", "kind": "tank" }))
        .await
        .expect_error(422, "site_required");
    tank(json!({ "name": "Tank W", "kind": "tank", "site_id": id(&other) }))
        .await
        .expect_error(403, "not_your_site");
    let made = tank(json!({ "name": "Tank W", "kind": "tank", "site_id": id(&ward) }))
        .await
        .expect(201);
    assert_eq!(made["site_id"], ward["id"]);
    // a rack is at its tank's site; naming another is refused
    tank(json!({ "name": "Rack A", "kind": "rack", "parent_id": id(&made), "site_id": DEFAULT_SITE }))
        .await
        .expect_error(422, "invalid_field");
    let rack = tank(json!({ "name": "Rack A", "kind": "rack", "parent_id": id(&made) }))
        .await
        .expect(201);
    assert_eq!(rack["site_id"], ward["id"]);
    let units = app
        .get("/api/v1/storage", Some(&team.lab))
        .await
        .expect(200);
    let tanks = units
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["name"] == "Tank W")
        .count();
    assert_eq!(tanks, 1, "the refused tanks were not made");

    // a lot is made at the maker's site: named when they have several
    let (_, donation) = app.eligible_donor(&team, "UCD-S001").await;
    let lot = |site: Option<&str>| {
        let mut body = json!({
            "donation_id": id(&donation),
            "product_code": "S1395",
            "passage": 4,
            "manufactured_at": rfc3339(app.days_ago(5)),
            "expires_at": rfc3339(app.days_ago(5) + chrono::Duration::days(365)),
        });
        if let Some(site) = site {
            body["site_id"] = json!(site);
        }
        app.post("/api/v1/lots", Some(&team.lab), body)
    };
    lot(None).await.expect_error(422, "site_required");
    lot(Some(&id(&other)))
        .await
        .expect_error(403, "not_your_site");
    let made = lot(Some(DEFAULT_SITE)).await.expect(201);
    let lots = app.get("/api/v1/lots", Some(&team.lab)).await.expect(200);
    assert_eq!(lots["items"].as_array().unwrap().len(), 1, "{made}");

    // a patient belongs to the enrolling clinician's site
    let patient = app.patient(&clinic, "PV-S01").await;
    assert_eq!(patient["site_id"], DEFAULT_SITE);
    let me = app
        .get("/api/v1/users/me", Some(&clinic.clinician))
        .await
        .expect(200);
    app.post(
        &format!("/api/v1/users/{}/sites", id(&me)),
        Some(&admin),
        json!({ "site_id": id(&ward) }),
    )
    .await
    .expect(200);
    let enrol = |site: Option<&str>| {
        let mut body = json!({
            "subject_code": "PV-S02",
            "birth_date": "1980-05-17",
            "sex": "female",
            "enrolled_at": rfc3339(app.days_ago(3)),
            "baseline_pasi": 14.2,
            "criteria": eligible_criteria(),
        });
        if let Some(site) = site {
            body["site_id"] = json!(site);
        }
        app.post("/api/v1/patients", Some(&clinic.clinician), body)
    };
    enrol(None).await.expect_error(422, "site_required");
    let at_ward = enrol(Some(&id(&ward))).await.expect(201);
    assert_eq!(at_ward["site_id"], ward["id"]);
}

async fn a_vial_is_stored_and_dosed_only_at_its_site(app: TestApp) {
    let team = app.team().await;
    let clinic = app.clinic().await;
    // stock and a patient at the default site, made while it is the only one
    let (_, vials) = app.dosing_stock(&team, "UCD-S002", 12, 200).await;
    let home_box = app.storage_box(&team, "H", 9, 9).await;
    let admin = app.admin_token().await;
    let ward = site(&app, &admin, "Ward 3", "B1234", "clinical").await;
    let grant = |user: &Value| {
        let path = format!("/api/v1/users/{}/sites", id(user));
        let admin = admin.clone();
        let ward = id(&ward);
        let app = &app;
        async move {
            app.post(&path, Some(&admin), json!({ "site_id": ward }))
                .await
                .expect(200);
        }
    };
    let me = |token: &str| {
        let token = token.to_owned();
        let app = &app;
        async move { app.get("/api/v1/users/me", Some(&token)).await.expect(200) }
    };
    grant(&me(&team.lab).await).await;
    let tank = app
        .post(
            "/api/v1/storage",
            Some(&team.lab),
            json!({ "name": "Ward tank", "kind": "tank", "site_id": id(&ward) }),
        )
        .await
        .expect(201);
    let ward_box = app
        .post(
            "/api/v1/storage",
            Some(&team.lab),
            json!({ "name": "Ward box", "kind": "box", "parent_id": id(&tank), "rows": 9, "cols": 9 }),
        )
        .await
        .expect(201);
    assert_eq!(ward_box["site_id"], ward["id"]);

    // the vial is at the default site: not into the ward's box
    let vial = id(&vials[0]);
    app.store(&team, &vial, &id(&ward_box), "A1")
        .await
        .expect_error(422, "wrong_site");
    let unmoved = app
        .get(&format!("/api/v1/vials/{vial}"), Some(&team.lab))
        .await
        .expect(200);
    assert_eq!(unmoved["location"], json!(null), "nothing changed");
    app.store(&team, &vial, &id(&home_box), "A1")
        .await
        .expect(200);
    // someone who works only at the ward stores nothing at the default site
    let (_, ward_lab) = app.staff("lab.ward", "lab").await;
    grant(&me(&ward_lab).await).await;
    app.post(
        &format!("/api/v1/vials/{}/store", id(&vials[1])),
        Some(&ward_lab),
        json!({ "box_id": id(&home_box), "position": "A2" }),
    )
    .await
    .expect_error(403, "not_your_site");

    // a patient of the ward is not dosed from the default site's stock,
    // nor by a pharmacist who does not work there
    grant(&me(&clinic.clinician).await).await;
    let patient = app
        .post(
            "/api/v1/patients",
            Some(&clinic.clinician),
            json!({
                "subject_code": "PV-S09",
                "birth_date": "1980-05-17",
                "sex": "female",
                "enrolled_at": rfc3339(app.days_ago(3)),
                "baseline_pasi": 14.2,
                "criteria": eligible_criteria(),
                "site_id": id(&ward),
            }),
        )
        .await
        .expect(201);
    let patient_id = id(&patient);
    app.weigh(&clinic, &patient_id, json!(70), "kg", 1)
        .await
        .expect(201);
    app.order(&clinic, &patient_id)
        .await
        .expect_error(403, "not_your_site");
    grant(&me(&clinic.pharmacist).await).await;
    app.order(&clinic, &patient_id)
        .await
        .expect_error(422, "insufficient_stock");
    let reserved = app
        .get("/api/v1/vials?status=reserved", Some(&team.lab))
        .await
        .expect(200);
    assert_eq!(reserved["items"], json!([]), "no vial was reserved");
    // a patient of the default site is dosed from its stock as before
    let home = app
        .post(
            "/api/v1/patients",
            Some(&clinic.clinician),
            json!({
                "subject_code": "PV-S10",
                "birth_date": "1980-05-17",
                "sex": "female",
                "enrolled_at": rfc3339(app.days_ago(3)),
                "baseline_pasi": 14.2,
                "criteria": eligible_criteria(),
                "site_id": DEFAULT_SITE,
            }),
        )
        .await
        .expect(201);
    app.weigh(&clinic, &id(&home), json!(70), "kg", 1)
        .await
        .expect(201);
    let dose = app.order(&clinic, &id(&home)).await.expect(201);
    assert_eq!(dose["status"], "reserved");
    // the ledger, replayed, agrees with every table
    let report = app.verify_ledger(&team).await;
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["replay"]["differences"], 0, "{report}");
}

async fn a_record_of_another_site_is_scanned_to_see_where_it_is(app: TestApp) {
    let team = app.team().await;
    let (_, vials) = app.released_lot(&team, "UCD-S003", 2).await;
    let home_box = app.storage_box(&team, "H", 9, 9).await;
    app.store(&team, &id(&vials[0]), &id(&home_box), "B4")
        .await
        .expect(200);
    let admin = app.admin_token().await;
    let ward = site(&app, &admin, "Ward 3", "B1234", "clinical").await;
    // a lab technician of the ward only
    let (ward_lab_id, ward_lab) = app.staff("lab.ward", "lab").await;
    app.post(
        &format!("/api/v1/users/{ward_lab_id}/sites"),
        Some(&admin),
        json!({ "site_id": id(&ward) }),
    )
    .await
    .expect(200);
    let payload = format!("CT1:V:{}", vials[0]["code"].as_str().unwrap());
    let scan = |token: &str| {
        let token = token.to_owned();
        let payload = payload.clone();
        let app = &app;
        async move {
            app.post("/api/v1/scan", Some(&token), json!({ "payload": payload }))
                .await
                .expect(200)
        }
    };
    let here = scan(&team.lab).await;
    assert_eq!(
        here["allowed_actions"],
        json!(["move", "discard", "print_label", "history", "trace"])
    );
    assert_eq!(here["details"]["site_id"], DEFAULT_SITE);
    assert_eq!(here["details"]["site"], "Main site");
    let there = scan(&ward_lab).await;
    assert_eq!(there["allowed_actions"], json!(["history", "trace"]));
    assert_eq!(
        there["details"]["location"]["path"], "Tank H › Rack A › Box 1 › B4",
        "where it is, said"
    );
    let summary = there["summary"].as_str().unwrap();
    assert!(summary.ends_with(" · at Main site"), "{summary}");
    // and the box: looked at, nothing stored into it from the ward
    let the_box = app
        .post(
            "/api/v1/scan",
            Some(&ward_lab),
            json!({ "payload": format!("CT1:B:{}", id(&home_box).to_ascii_uppercase()) }),
        )
        .await
        .expect(200);
    assert_eq!(the_box["allowed_actions"], json!(["open"]));
    // the scan station says so in words
    let page = crate::web::sign_in(&app, "lab.ward").await;
    let (_, html) = crate::web::page(
        &app,
        &format!("/scan?q={}", vials[0]["code"].as_str().unwrap()),
        &page,
    )
    .await;
    assert!(
        html.contains(
            "This is held at Main site: it can be looked at here, not moved, reserved or given."
        ),
        "{html}"
    );
    assert!(!html.contains("id=\"scan-next\""), "no box is asked for");
}

async fn two_administrators_racing_for_one_facility_code(app: TestApp) {
    let admin = app.admin_token().await;
    let body = |name: &str| json!({ "name": name, "kind": "clinical", "facility_code": "B1234", "time_zone": "UTC" });
    let (a, b) = tokio::join!(
        app.post("/api/v1/sites", Some(&admin), body("Ward 3")),
        app.post("/api/v1/sites", Some(&admin), body("Ward 4"))
    );
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409], "{} {}", a.body, b.body);
    let lost = if a.status.as_u16() == 409 { a } else { b };
    let details = lost.expect_error(409, "site_taken");
    assert_eq!(
        details["field"], "facility_code",
        "the clash is named: {details}"
    );
    assert_eq!(details["value"], "B1234");
}
