//! The cell lab's day in the browser, over HTTP on both databases: a lot
//! started from a donation, its QC entered and judged, frozen into vials,
//! its label sheet issued and reconciled, storage set up, and the lot
//! released by quality; each refusal changes nothing (checked through the
//! API) and says why in words.

use chrono::{Duration, FixedOffset};
use reqwest::StatusCode;
use reqwest::header::{ACCEPT_LANGUAGE, COOKIE};
use serde_json::Value;

use crate::helpers::{STAFF_PASSWORD, TestApp};
use crate::on_both_databases;
use crate::story::{QC_PASSING, Team, id};
use crate::web::{browser, csrf, page, sign_in, submit};

on_both_databases!(
    a_lot_goes_from_donation_to_release_through_the_lab_s_forms,
    refused_lab_forms_change_nothing_and_say_why,
    the_lab_s_pages_speak_chinese,
);

/// A time as the site's date-and-time field sends it (Beijing, UTC+8).
fn beijing(app: &TestApp, days_ago: i64) -> String {
    let at = app
        .days_ago(days_ago)
        .with_timezone(&FixedOffset::east_opt(8 * 3600).unwrap());
    at.format("%Y-%m-%dT%H:%M").to_string()
}

/// A form sent back with its refusal: the page it returns to, shown.
async fn refused(app: &TestApp, cookie: &str, path: &str, fields: &[(&str, &str)]) -> String {
    let (status, location, body) = submit(app, cookie, path, fields).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    assert!(location.contains("error="), "{location}");
    let (status, html) = page(app, &location, cookie).await;
    assert_eq!(status, StatusCode::OK);
    let message = html
        .split("class=\"msg bad\" role=\"alert\">")
        .nth(1)
        .and_then(|rest| rest.split("</div>").next())
        .expect("the refusal in words")
        .to_owned();
    for hint in [
        "invalid_",
        "_id",
        "rows:",
        "vial_count",
        "volume_ul",
        "{",
        "\"error\"",
    ] {
        assert!(!message.contains(hint), "{message}");
    }
    message
}

async fn lot_of(app: &TestApp, team: &Team, lot_id: &str) -> Value {
    app.get(&format!("/api/v1/lots/{lot_id}"), Some(&team.lab))
        .await
        .expect(200)
}

async fn vials_of(app: &TestApp, team: &Team, lot_id: &str) -> Vec<Value> {
    let page = app
        .get(&format!("/api/v1/vials?lot_id={lot_id}"), Some(&team.lab))
        .await
        .expect(200);
    page["items"].as_array().cloned().unwrap_or_default()
}

async fn units(app: &TestApp, team: &Team) -> Vec<Value> {
    app.get("/api/v1/storage", Some(&team.lab))
        .await
        .expect(200)
        .as_array()
        .unwrap()
        .clone()
}

/// Starts a lot by the form; answers its id.
async fn new_lot_by_form(app: &TestApp, lab: &str, donation_id: &str) -> String {
    let (status, html) = page(app, &format!("/lots/new?donation={donation_id}"), lab).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let token = csrf(&html);
    let expires = (app.clock.now() + Duration::days(360))
        .format("%Y-%m-%d")
        .to_string();
    let made = beijing(app, 5);
    let (status, location, _) = submit(
        app,
        lab,
        "/lots/new",
        &[
            ("csrf", &token),
            ("donation_id", donation_id),
            ("product_code", "S1395"),
            ("passage", "4"),
            ("manufactured_at", &made),
            ("expires_at", &expires),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        location.starts_with("/lots/") && location.contains("?ok="),
        "{location}"
    );
    location["/lots/".len()..]
        .split('?')
        .next()
        .unwrap()
        .to_owned()
}

async fn a_lot_goes_from_donation_to_release_through_the_lab_s_forms(app: TestApp) {
    let team = app.team().await;
    let (_, donation) = app.eligible_donor(&team, "UCD-7001").await;
    let lab = sign_in(&app, "lab.tech").await;

    // the donation's DIN on the form, then the new lot's page
    let (_, html) = page(&app, &format!("/lots/new?donation={}", id(&donation)), &lab).await;
    assert!(
        html.contains(donation["din_display"].as_str().unwrap()),
        "{html}"
    );
    let lot_id = new_lot_by_form(&app, &lab, &id(&donation)).await;
    let lot = lot_of(&app, &team, &lot_id).await;
    assert_eq!(lot["status"], "in_process");
    assert_eq!(lot["passage"], 4);

    // every test of the specification has its form, judged as typed by the site's script
    let (_, html) = page(&app, &format!("/lots/{lot_id}"), &lab).await;
    assert!(html.contains("id=\"qc-entry\""));
    assert_eq!(
        html.matches(&format!("action=\"/lots/{lot_id}/qc\""))
            .count(),
        12
    );
    assert!(html.contains("src=\"/assets/qc.js\""));
    let script = browser()
        .get(app.url("/assets/qc.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(script.status(), StatusCode::OK);
    assert!(
        script.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    let token = csrf(&html);
    for (test, value, unit) in QC_PASSING {
        let (status, location, _) = submit(
            &app,
            &lab,
            &format!("/lots/{lot_id}/qc"),
            &[
                ("csrf", &token),
                ("test", test),
                ("value", value),
                ("unit", unit.unwrap_or("")),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert!(location.contains("?ok="), "{test}: {location}");
    }
    // a retest that fails is recorded as failing, and the history keeps both
    let (_, location, _) = submit(
        &app,
        &lab,
        &format!("/lots/{lot_id}/qc"),
        &[
            ("csrf", &token),
            ("test", "cd90"),
            ("value", "90"),
            ("unit", "%"),
        ],
    )
    .await;
    assert!(
        location.contains("?error="),
        "a failing result is shown in red: {location}"
    );
    let (_, location, _) = submit(
        &app,
        &lab,
        &format!("/lots/{lot_id}/qc"),
        &[
            ("csrf", &token),
            ("test", "cd90"),
            ("value", "97.5"),
            ("unit", "%"),
        ],
    )
    .await;
    assert!(location.contains("?ok="));
    let lot = lot_of(&app, &team, &lot_id).await;
    assert_eq!(lot["qc"].as_array().unwrap().len(), 14);
    assert_eq!(lot["qc_standing"]["missing"], serde_json::json!([]));
    assert_eq!(lot["qc_standing"]["failed"], serde_json::json!([]));
    let (_, html) = page(&app, &format!("/lots/{lot_id}"), &lab).await;
    assert!(
        html.contains(">90 %<") && html.contains(">97.5 %<"),
        "both cd90 results are shown"
    );
    // cd90 98.7, retested at 90, retested again at 97.5
    assert_eq!(html.matches("retested ").count(), 2);

    // frozen into vials: 1.5 mL is 1500 µL, exactly
    let frozen_at = beijing(&app, 4);
    let (status, location, _) = submit(
        &app,
        &lab,
        &format!("/lots/{lot_id}/freeze"),
        &[
            ("csrf", &token),
            ("vial_count", "3"),
            ("cells_per_vial", "10 000 000"),
            ("volume", "1.5"),
            ("volume_unit", "ml"),
            ("frozen_at", &frozen_at),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(location.contains("?ok="), "{location}");
    let lot = lot_of(&app, &team, &lot_id).await;
    assert_eq!(lot["status"], "quarantine");
    assert_eq!(lot["vial_count"], 3);
    assert_eq!(lot["cells_per_vial"], 10_000_000);
    assert_eq!(lot["volume_ul"], 1500);

    // the label sheet: its issue is recorded first, then the PDF is offered
    let (_, html) = page(&app, &format!("/lots/{lot_id}"), &lab).await;
    assert!(
        html.contains("3 vials; 0 of them have labels issued"),
        "{html}"
    );
    assert!(
        !html.contains("labels.pdf"),
        "no sheet before its issue is recorded"
    );
    let (status, location, _) = submit(
        &app,
        &lab,
        &format!("/lots/{lot_id}/label-issues"),
        &[("csrf", &token), ("count", "1")],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(location.contains("?ok="), "{location}");
    for vial in vials_of(&app, &team, &lot_id).await {
        assert_eq!(vial["labels_issued"], 1, "{vial}");
    }
    let (_, html) = page(&app, &format!("/lots/{lot_id}"), &lab).await;
    assert!(
        html.contains("3 vials; 3 of them have labels issued (3 labels in all)."),
        "{html}"
    );
    assert!(html.contains("lab.tech issued 1 label(s) for each of 3 vials"));
    assert!(html.contains(&format!("href=\"/api/v1/lots/{lot_id}/labels.pdf\"")));
    let sheet = browser()
        .get(app.url(&format!("/api/v1/lots/{lot_id}/labels.pdf")))
        .header(COOKIE, &lab)
        .send()
        .await
        .unwrap();
    assert_eq!(sheet.status(), StatusCode::OK);
    assert_eq!(sheet.headers()["content-type"], "application/pdf");
    assert!(sheet.bytes().await.unwrap().starts_with(b"%PDF"));
    // the vials are stored from the scan station
    let first = &vials_of(&app, &team, &lot_id).await[0];
    assert!(html.contains(&format!(
        "href=\"/scan?q={}\"",
        first["code"].as_str().unwrap()
    )));

    // storage: a tank, a rack in it, a box of 9 × 9 in the rack
    let (status, html) = page(&app, "/storage", &lab).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("href=\"/storage/new\""));
    let (_, html) = page(&app, "/storage/new", &lab).await;
    let token = csrf(&html);
    let mut parent = String::new();
    for (kind, name, rows, cols) in [
        ("tank", "Tank 7", "", ""),
        ("rack", "Rack A", "", ""),
        ("box", "Box 1", "9", "9"),
    ] {
        let (status, location, _) = submit(
            &app,
            &lab,
            "/storage/new",
            &[
                ("csrf", &token),
                ("kind", kind),
                ("parent_id", &parent),
                ("name", name),
                ("rows", rows),
                ("cols", cols),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert!(
            location.starts_with("/storage/") && location.contains("?ok="),
            "{location}"
        );
        parent = location["/storage/".len()..]
            .split('?')
            .next()
            .unwrap()
            .to_owned();
        let (status, html) = page(&app, &location, &lab).await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("Added Tank 7"), "{html}");
        // racks and boxes are added from the unit they go into
        assert_eq!(
            html.contains(&format!("href=\"/storage/new?parent={parent}\"")),
            kind != "box"
        );
    }
    let made = units(&app, &team).await;
    let the_box = made.iter().find(|u| u["kind"] == "box").unwrap();
    assert_eq!(the_box["path"], "Tank 7 › Rack A › Box 1");
    assert_eq!(
        (the_box["rows"].as_u64(), the_box["cols"].as_u64()),
        (Some(9), Some(9))
    );

    // the scan station the lot's link opens stores the vial in the new box, and moves it
    let code = first["code"].as_str().unwrap();
    let (_, html) = page(&app, &format!("/scan?q={code}"), &lab).await;
    assert!(
        html.contains(&format!("action=\"/vials/{}/store\"", id(first))),
        "{html}"
    );
    let token = csrf(&html);
    for position in ["A1", "B2"] {
        let (status, location, _) = submit(
            &app,
            &lab,
            &format!("/vials/{}/store", id(first)),
            &[
                ("csrf", &token),
                ("box_id", the_box["id"].as_str().unwrap()),
                ("position", position),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert!(location.contains("?ok="), "{location}");
        let vial = app
            .get(&format!("/api/v1/vials/{}", id(first)), Some(&team.lab))
            .await
            .expect(200);
        assert!(
            vial.to_string().contains(&format!("Box 1 › {position}")),
            "{vial}"
        );
    }

    // released by quality on the lot's page
    let quality = sign_in(&app, "qa.officer").await;
    let (_, html) = page(&app, &format!("/lots/{lot_id}"), &quality).await;
    assert!(
        !html.contains("id=\"qc-entry\""),
        "QC is the lab's to enter"
    );
    let token = csrf(&html);
    let (status, location, _) = submit(
        &app,
        &quality,
        &format!("/lots/{lot_id}/release"),
        &[
            ("csrf", &token),
            ("password", STAFF_PASSWORD),
            ("meaning", "released for clinical use"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(location.contains("?ok="), "{location}");
    assert_eq!(lot_of(&app, &team, &lot_id).await["status"], "released");
}

async fn refused_lab_forms_change_nothing_and_say_why(app: TestApp) {
    let team = app.team().await;
    let (_, donation) = app.eligible_donor(&team, "UCD-7002").await;
    let lab = sign_in(&app, "lab.tech").await;

    // a DIN typed from the label starts a lot too; an unknown one is said in words
    let (_, html) = page(&app, "/lots/new", &lab).await;
    let token = csrf(&html);
    let made = beijing(&app, 5);
    let expires = (app.clock.now() + Duration::days(360))
        .format("%Y-%m-%d")
        .to_string();
    let din = donation["din_display"].as_str().unwrap();
    let message = refused(
        &app,
        &lab,
        "/lots/new",
        &[
            ("csrf", &token),
            ("din", "not a din"),
            ("product_code", "S1395"),
            ("passage", "4"),
            ("manufactured_at", &made),
            ("expires_at", &expires),
        ],
    )
    .await;
    assert!(!message.is_empty());
    let (status, location, _) = submit(
        &app,
        &lab,
        "/lots/new",
        &[
            ("csrf", &token),
            ("din", din),
            ("product_code", "S1395"),
            ("passage", "4"),
            ("manufactured_at", &made),
            ("expires_at", &expires),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{location}");
    assert!(location.contains("?ok="), "{location}");
    let lot_id = location["/lots/".len()..]
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let lot_path = format!("/lots/{lot_id}");

    // a QC value that cannot be read is not recorded
    let message = refused(
        &app,
        &lab,
        &format!("{lot_path}/qc"),
        &[
            ("csrf", &token),
            ("test", "viability"),
            ("value", "9O.5"),
            ("unit", "%"),
        ],
    )
    .await;
    assert!(message.contains("“9O.5” was not recorded"), "{message}");
    assert_eq!(
        lot_of(&app, &team, &lot_id).await["qc"],
        serde_json::json!([])
    );

    // a volume far from a cryovial's is asked about in words, and nothing is frozen
    let frozen_at = beijing(&app, 4);
    let freeze = |volume: &'static str, unit: &'static str| {
        vec![
            ("vial_count", "2"),
            ("cells_per_vial", "10000000"),
            ("volume", volume),
            ("volume_unit", unit),
        ]
    };
    let mut slip = freeze("1", "ul");
    slip.extend([("csrf", token.as_str()), ("frozen_at", frozen_at.as_str())]);
    let (status, _, html) = submit(&app, &lab, &format!("{lot_path}/freeze"), &slip).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("Each vial would hold 1 µL (0.001 mL)"),
        "{html}"
    );
    assert!(html.contains("name=\"confirm\" value=\"true\""));
    assert_eq!(lot_of(&app, &team, &lot_id).await["status"], "in_process");
    let mut no_unit = freeze("1", "");
    no_unit.extend([("csrf", token.as_str()), ("frozen_at", frozen_at.as_str())]);
    let message = refused(&app, &lab, &format!("{lot_path}/freeze"), &no_unit).await;
    assert!(message.contains("millilitres or microlitres"), "{message}");
    let mut right = freeze("1", "ml");
    right.extend([("csrf", token.as_str()), ("frozen_at", frozen_at.as_str())]);
    let (_, location, _) = submit(&app, &lab, &format!("{lot_path}/freeze"), &right).await;
    assert!(location.contains("?ok="), "{location}");

    // freezing twice
    let message = refused(&app, &lab, &format!("{lot_path}/freeze"), &right).await;
    assert_eq!(
        message,
        "The lot was not frozen: it is no longer in process (its status is quarantine), and a lot is frozen only once."
    );
    let lot = lot_of(&app, &team, &lot_id).await;
    assert_eq!(
        (lot["vial_count"].as_i64(), lot["volume_ul"].as_i64()),
        (Some(2), Some(1000))
    );
    assert_eq!(vials_of(&app, &team, &lot_id).await.len(), 2);

    // the label sheet is the lab's to issue: quality is refused, nothing is recorded
    let quality = sign_in(&app, "qa.officer").await;
    let (_, html) = page(&app, &lot_path, &quality).await;
    assert!(
        !html.contains("/label-issues\""),
        "quality is not offered the form"
    );
    let quality_token = csrf(&html);
    let (status, _, html) = submit(
        &app,
        &quality,
        &format!("{lot_path}/label-issues"),
        &[("csrf", &quality_token), ("count", "1")],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains("Not for your role"), "{html}");
    for vial in vials_of(&app, &team, &lot_id).await {
        assert_eq!(vial["labels_issued"], 0);
    }
    // a count that cannot be read, and a reprint without its reason
    let message = refused(
        &app,
        &lab,
        &format!("{lot_path}/label-issues"),
        &[("csrf", &token), ("count", "one")],
    )
    .await;
    assert!(message.starts_with("No labels were issued:"), "{message}");
    let (_, location, _) = submit(
        &app,
        &lab,
        &format!("{lot_path}/label-issues"),
        &[("csrf", &token), ("count", "1")],
    )
    .await;
    assert!(location.contains("?ok="));
    let message = refused(
        &app,
        &lab,
        &format!("{lot_path}/label-issues"),
        &[("csrf", &token), ("count", "1")],
    )
    .await;
    assert!(message.contains("reprint needs a reason"), "{message}");
    for vial in vials_of(&app, &team, &lot_id).await {
        assert_eq!(vial["labels_issued"], 1);
    }

    // storage: a box grid of 0 or of absurd size, a unit under the wrong kind of parent
    let tank = app
        .post(
            "/api/v1/storage",
            Some(&team.lab),
            serde_json::json!({"name": "Tank 9", "kind": "tank"}),
        )
        .await
        .expect(201);
    let tank_id = id(&tank);
    let before = units(&app, &team).await.len();
    for (rows, cols, words) in [
        ("0", "9", "a box has 1-26 rows and 1-30 columns"),
        ("1000", "1000", "a box has 1-26 rows and 1-30 columns"),
        ("99999999999", "9", "the rows and columns could not be read"),
    ] {
        let message = refused(
            &app,
            &lab,
            "/storage/new",
            &[
                ("csrf", &token),
                ("kind", "box"),
                ("parent_id", &tank_id),
                ("name", "Box 1"),
                ("rows", rows),
                ("cols", cols),
            ],
        )
        .await;
        assert!(message.to_lowercase().contains(words), "{message}");
    }
    let the_box = app
        .post(
            "/api/v1/storage",
            Some(&team.lab),
            serde_json::json!({"name": "Box 2", "kind": "box", "parent_id": tank_id, "rows": 9, "cols": 9}),
        )
        .await
        .expect(201);
    let message = refused(
        &app,
        &lab,
        "/storage/new",
        &[
            ("csrf", &token),
            ("kind", "rack"),
            ("parent_id", &id(&the_box)),
            ("name", "Rack Z"),
        ],
    )
    .await;
    assert!(
        message.to_lowercase().contains("a rack goes into a tank"),
        "{message}"
    );
    let message = refused(
        &app,
        &lab,
        "/storage/new",
        &[
            ("csrf", &token),
            ("kind", "tank"),
            ("parent_id", &tank_id),
            ("name", "Tank 10"),
        ],
    )
    .await;
    assert!(
        message.to_lowercase().contains("a tank stands alone"),
        "{message}"
    );
    assert_eq!(
        units(&app, &team).await.len(),
        before + 1,
        "only the API's box was added"
    );
}

async fn the_lab_s_pages_speak_chinese(app: TestApp) {
    let team = app.team().await;
    let (_, donation) = app.eligible_donor(&team, "UCD-7003").await;
    let lot = app.lot(&team, &id(&donation)).await;
    let lab = sign_in(&app, "lab.tech").await;
    for (path, words) in [
        (
            format!("/lots/{}", id(&lot)),
            ["录入质检结果", "分装冻存", "毫升（mL）"],
        ),
        (
            "/storage/new".to_owned(),
            ["添加存储位置", "液氮罐", "冻存盒的格子"],
        ),
        (
            format!("/lots/new?donation={}", id(&donation)),
            ["新建批次", "代次", "创建批次"],
        ),
    ] {
        let response = browser()
            .get(app.url(&path))
            .header(COOKIE, &lab)
            .header(ACCEPT_LANGUAGE, "zh-CN,zh;q=0.9")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let html = response.text().await.unwrap();
        assert!(html.contains("lang=\"zh-CN\""), "{html}");
        for w in words {
            assert!(html.contains(w), "{path}: {w}");
        }
    }
    // codes stay as they are
    let (_, html) = page(&app, &format!("/lots/{}", id(&lot)), &lab).await;
    assert!(html.contains(lot["code"].as_str().unwrap()));

    // the mL/µL question in Chinese, then frozen as confirmed: 0.05 mL is 50 µL
    let token = csrf(&html);
    let frozen_at = beijing(&app, 4);
    let mut fields = vec![
        ("csrf", token.as_str()),
        ("vial_count", "2"),
        ("cells_per_vial", "10000000"),
        ("volume", "0.05"),
        ("volume_unit", "ml"),
        ("frozen_at", frozen_at.as_str()),
    ];
    let asked = browser()
        .post(app.url(&format!("/lots/{}/freeze", id(&lot))))
        .header(COOKIE, &lab)
        .header(ACCEPT_LANGUAGE, "zh-CN")
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(asked.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = asked.text().await.unwrap();
    assert!(html.contains("每管将装 50 µL（0.05 mL）"), "{html}");
    assert!(html.contains("是，按所填内容冻存"));
    assert_eq!(lot_of(&app, &team, &id(&lot)).await["status"], "in_process");
    fields.push(("confirm", "true"));
    let (status, location, _) =
        submit(&app, &lab, &format!("/lots/{}/freeze", id(&lot)), &fields).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(location.contains("?ok="), "{location}");
    assert_eq!(lot_of(&app, &team, &id(&lot)).await["volume_ul"], 50);
}
