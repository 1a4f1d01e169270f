//! The administrator's sites page: a site added by the form, an account
//! given access and its access ended with a reason, each checked through
//! the API; refusals said in words and changing nothing.

use serde_json::json;

use super::{account, admin_session, submit_and_read};
use crate::helpers::TestApp;
use crate::on_both_databases;
use crate::story::id;
use crate::web::{csrf, page};

on_both_databases!(
    the_administrator_adds_a_site_and_says_who_works_there,
    someone_at_two_sites_says_where_a_new_record_belongs,
);

async fn the_administrator_adds_a_site_and_says_who_works_there(app: TestApp) {
    app.team().await;
    let admin = admin_session(&app).await;
    let (_, accounts) = page(&app, "/accounts", &admin).await;
    assert!(
        accounts.contains("href=\"/accounts/sites\""),
        "the accounts page leads there"
    );
    let (_, html) = page(&app, "/accounts/sites", &admin).await;
    assert!(html.contains("Main site"), "{html}");
    let token = csrf(&html);

    let (location, html) = submit_and_read(
        &app,
        &admin,
        "/accounts/sites",
        &[
            ("csrf", &token),
            ("name", "Ward 3"),
            ("kind", "clinical"),
            ("facility_code", "B1234"),
            ("time_zone", "Asia/Shanghai"),
        ],
    )
    .await;
    assert!(location.starts_with("/accounts/sites?ok="), "{location}");
    assert!(html.contains("Ward 3 added"), "{html}");
    // refused in words: a taken facility code, an unknown zone
    for (fields, words) in [
        (
            [
                ("name", "Ward 4"),
                ("kind", "clinical"),
                ("facility_code", "B1234"),
                ("time_zone", "UTC"),
            ],
            "already the facility code of a site",
        ),
        (
            [
                ("name", "Ward 4"),
                ("kind", "clinical"),
                ("facility_code", "C1234"),
                ("time_zone", "Mars/Olympus"),
            ],
            "time zone",
        ),
    ] {
        let mut all = vec![("csrf", token.as_str())];
        all.extend(fields);
        let (location, html) = submit_and_read(&app, &admin, "/accounts/sites", &all).await;
        assert!(location.starts_with("/accounts/sites?error="), "{location}");
        assert!(html.contains(words), "{words}: {html}");
        assert!(
            !html.contains("facility_code:") && !html.contains("time_zone:"),
            "no field names"
        );
    }
    let admin_token = app.admin_token().await;
    let sites = app
        .get("/api/v1/sites", Some(&admin_token))
        .await
        .expect(200);
    assert_eq!(
        sites["items"].as_array().unwrap().len(),
        2,
        "nothing more was added"
    );
    let ward = sites["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "Ward 3")
        .unwrap()
        .clone();

    let lab = account(&app, "lab.tech").await.unwrap();
    let (_, html) = submit_and_read(
        &app,
        &admin,
        "/accounts/sites/grant",
        &[
            ("csrf", &token),
            ("user_id", &id(&lab)),
            ("site_id", &id(&ward)),
        ],
    )
    .await;
    assert!(html.contains("Access to Ward 3 given"), "{html}");
    let theirs = app
        .get(
            &format!("/api/v1/users/{}/sites", id(&lab)),
            Some(&admin_token),
        )
        .await
        .expect(200);
    assert_eq!(theirs["sites"].as_array().unwrap().len(), 2);
    // given again: refused in words
    let (location, _) = submit_and_read(
        &app,
        &admin,
        "/accounts/sites/grant",
        &[
            ("csrf", &token),
            ("user_id", &id(&lab)),
            ("site_id", &id(&ward)),
        ],
    )
    .await;
    assert!(location.contains("error="), "{location}");
    let (_, html) = submit_and_read(
        &app,
        &admin,
        &format!("/accounts/sites/{}/revoke", id(&ward)),
        &[
            ("csrf", &token),
            ("user_id", &id(&lab)),
            ("reason", "moved back to the cell lab"),
        ],
    )
    .await;
    assert!(html.contains("Access to Ward 3 ended"), "{html}");
    let theirs = app
        .get(
            &format!("/api/v1/users/{}/sites", id(&lab)),
            Some(&admin_token),
        )
        .await
        .expect(200);
    assert_eq!(theirs["sites"], json!([theirs["sites"][0].clone()]));
    // not a page for anyone else
    let (status, _) = page(
        &app,
        "/accounts/sites",
        &crate::web::sign_in(&app, "lab.tech").await,
    )
    .await;
    assert_eq!(status, reqwest::StatusCode::FORBIDDEN);
}

async fn someone_at_two_sites_says_where_a_new_record_belongs(app: TestApp) {
    app.team().await;
    app.clinic().await;
    let admin_token = app.admin_token().await;
    let ward = app
        .post(
            "/api/v1/sites",
            Some(&admin_token),
            json!({ "name": "Ward 3", "kind": "clinical", "facility_code": "B1234", "time_zone": "Asia/Shanghai" }),
        )
        .await
        .expect(201);
    let lab = account(&app, "lab.tech").await.unwrap();
    let cookie = crate::web::sign_in(&app, "lab.tech").await;
    // one site: no menu
    let (_, html) = page(&app, "/storage/new", &cookie).await;
    assert!(!html.contains("name=\"site_id\""), "{html}");
    app.post(
        &format!("/api/v1/users/{}/sites", id(&lab)),
        Some(&admin_token),
        json!({ "site_id": id(&ward) }),
    )
    .await
    .expect(200);
    let (_, html) = page(&app, "/storage/new", &cookie).await;
    assert!(
        html.contains("name=\"site_id\"") && html.contains("Ward 3 (B1234)"),
        "{html}"
    );
    let token = csrf(&html);
    // a tank without a site is refused in words, with the site it is made there
    let (location, html) = submit_and_read(
        &app,
        &cookie,
        "/storage/new",
        &[
            ("csrf", &token),
            ("kind", "tank"),
            ("name", "Tank W"),
            ("site_id", ""),
        ],
    )
    .await;
    assert!(location.contains("error="), "{location}");
    assert!(html.contains("choose the site"), "{html}");
    let (location, _) = submit_and_read(
        &app,
        &cookie,
        "/storage/new",
        &[
            ("csrf", &token),
            ("kind", "tank"),
            ("name", "Tank W"),
            ("site_id", &id(&ward)),
        ],
    )
    .await;
    let tank_id = location
        .trim_start_matches("/storage/")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let tank = app
        .get(
            &format!("/api/v1/storage/{tank_id}"),
            Some(&admin_token.clone()),
        )
        .await;
    let lab_token =
        crate::helpers::token_of(app.login("lab.tech", crate::helpers::STAFF_PASSWORD).await);
    let tank = if tank.status.is_success() {
        tank.body
    } else {
        app.get(&format!("/api/v1/storage/{tank_id}"), Some(&lab_token))
            .await
            .expect(200)
    };
    assert_eq!(
        tank["site_id"], ward["id"],
        "the tank is at the site chosen"
    );
    let (_, html) = page(&app, "/lots/new", &cookie).await;
    assert!(
        html.contains("name=\"site_id\" required"),
        "the new lot says where: {html}"
    );
    // and a clinician at two sites says where a patient is enrolled
    let nurse = account(&app, "nurse.one").await.unwrap();
    app.post(
        &format!("/api/v1/users/{}/sites", id(&nurse)),
        Some(&admin_token),
        json!({ "site_id": id(&ward) }),
    )
    .await
    .expect(200);
    let (_, html) = page(
        &app,
        "/patients/new",
        &crate::web::sign_in(&app, "nurse.one").await,
    )
    .await;
    assert!(
        html.contains("name=\"site_id\" required"),
        "enrolment says where: {html}"
    );
}
