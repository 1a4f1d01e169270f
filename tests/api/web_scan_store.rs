//! Storing by scanning, on both databases: a box's label resolves to the
//! box (where it is, how full, the next free position); at the scan
//! station a vial scanned and then its box's label bring up the box's grid,
//! the next free position focused, taken positions never offered. And a
//! page form sent twice (a double click, a resend) is done once.

use chrono::{DateTime, Duration, Utc};
use reqwest::StatusCode;
use reqwest::header::COOKIE;
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::on_both_databases;
use crate::story::id;
use crate::web::{browser, page, sign_in, submit};

on_both_databases!(
    a_box_label_names_the_box_and_where_the_next_vial_goes,
    a_vial_then_its_box_brings_up_the_grid_and_stores_it_there,
    a_page_form_sent_twice_is_done_once,
);

fn box_payload(the_box: &Value) -> String {
    format!("CT1:B:{}", id(the_box).to_ascii_uppercase())
}

/// The whole key a page's first form carries: the session's CSRF token
/// and the form's own token.
fn form_key(html: &str) -> String {
    let at = html
        .find("name=\"csrf\" value=\"")
        .expect("a form with its key")
        + 19;
    let end = html[at..].find('"').unwrap();
    html[at..at + end].to_owned()
}

async fn a_box_label_names_the_box_and_where_the_next_vial_goes(app: TestApp) {
    let team = app.team().await;
    let (_, vials) = app.quarantined_lot(&team, "UCD-B001", 2).await;
    let the_box = app.storage_box(&team, "B", 2, 2).await;
    app.store(&team, &id(&vials[0]), &id(&the_box), "A1")
        .await
        .expect(200);
    let scan = |token: &str, payload: String| {
        let token = token.to_owned();
        let app = &app;
        async move {
            app.post("/api/v1/scan", Some(&token), json!({ "payload": payload }))
                .await
        }
    };
    let lab = scan(&team.lab, box_payload(&the_box)).await.expect(200);
    assert_eq!(lab["kind"], "box");
    assert_eq!(lab["id"], the_box["id"]);
    assert_eq!(lab["status"], "has_room");
    assert_eq!(lab["details"]["path"], "Tank B › Rack A › Box 1");
    assert_eq!(lab["details"]["vials"], 1);
    assert_eq!(lab["details"]["free"], 3);
    assert_eq!(lab["details"]["next_free"], "A2");
    assert_eq!(
        lab["allowed_actions"],
        json!(["open", "store_here", "print_label"])
    );
    let summary = lab["summary"].as_str().unwrap();
    assert!(summary.contains("next free A2"), "{summary}");
    // typed in lower case, as a keyboard might
    let typed = scan(&team.lab, box_payload(&the_box).to_lowercase())
        .await
        .expect(200);
    assert_eq!(typed["id"], the_box["id"]);
    // quality looks, it does not store
    let quality = scan(&team.quality, box_payload(&the_box)).await.expect(200);
    assert_eq!(quality["allowed_actions"], json!(["open"]));

    // a full box says so and offers no storing
    let small = app.storage_box(&team, "C", 1, 1).await;
    app.store(&team, &id(&vials[1]), &id(&small), "A1")
        .await
        .expect(200);
    let full = scan(&team.lab, box_payload(&small)).await.expect(200);
    assert_eq!(full["status"], "full");
    assert_eq!(full["details"]["next_free"], json!(null));
    assert_eq!(full["allowed_actions"], json!(["open", "print_label"]));

    // what is not a box's label is refused in words
    let rack = the_box["parent_id"].as_str().unwrap().to_ascii_uppercase();
    for (payload, status, code) in [
        (format!("CT1:B:{rack}"), 404, "unknown_code"),
        (
            "CT1:B:0190F000-0000-7000-8000-000000000000".to_owned(),
            404,
            "unknown_code",
        ),
        ("CT1:B:NOT-A-BOX".to_owned(), 404, "unknown_code"),
        ("CT1:B:".to_owned(), 400, "malformed_payload"),
    ] {
        scan(&team.lab, payload.clone())
            .await
            .expect_error(status, code);
    }
}

async fn a_vial_then_its_box_brings_up_the_grid_and_stores_it_there(app: TestApp) {
    let team = app.team().await;
    let (_, vials) = app.quarantined_lot(&team, "UCD-B002", 3).await;
    let the_box = app.storage_box(&team, "D", 2, 3).await;
    app.store(&team, &id(&vials[0]), &id(&the_box), "A1")
        .await
        .expect(200);
    let lab = sign_in(&app, "lab.tech").await;
    let vial = &vials[1];
    let vial_id = id(vial);

    // the vial first: the station asks for its box
    let (status, html) = page(
        &app,
        &format!("/scan?q={}", vial["code"].as_str().unwrap()),
        &lab,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("Next: scan the label of the box it goes into."),
        "{html}"
    );
    assert!(html.contains(&format!("name=\"vial\" value=\"{vial_id}\"")));
    assert!(html.contains("Now scan the label of the box"), "{html}");

    // then the box: its grid, the next free position focused
    let placing_path = format!(
        "/scan?vial={vial_id}&q={}",
        box_payload(&the_box).replace(':', "%3A")
    );
    let (status, html) = page(&app, &placing_path, &lab).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"placing\""), "{html}");
    assert!(html.contains("into Tank D › Rack A › Box 1"), "{html}");
    assert!(html.contains(&format!("action=\"/vials/{vial_id}/store\"")));
    assert!(
        html.contains("type=\"submit\" name=\"position\" value=\"A2\" class=\"next\" autofocus"),
        "{html}"
    );
    // a taken position is shown, not offered
    assert!(html.contains("class=\"taken\" disabled"), "{html}");
    assert!(!html.contains("name=\"position\" value=\"A1\""));
    assert!(html.contains("Press Enter to put it in A2"), "{html}");

    // Enter: the next free position
    let key = form_key(&html);
    let (status, to, _) = submit(
        &app,
        &lab,
        &format!("/vials/{vial_id}/store"),
        &[
            ("csrf", key.as_str()),
            ("back", placing_path.as_str()),
            ("box_id", id(&the_box).as_str()),
            ("position", "A2"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{to}");
    assert!(to.starts_with("/scan?ok="), "{to}");
    let stored = app
        .get(&format!("/api/v1/vials/{vial_id}"), Some(&team.lab))
        .await
        .expect(200);
    assert_eq!(stored["location"]["position"], "A2");
    assert_eq!(stored["location"]["box_id"], the_box["id"]);

    // the third vial into a position someone else just took: refused in
    // words, nothing changes
    let third = id(&vials[2]);
    let (_, html) = page(
        &app,
        &format!(
            "/scan?vial={third}&q={}",
            box_payload(&the_box).replace(':', "%3A")
        ),
        &lab,
    )
    .await;
    let key = form_key(&html);
    let back = format!("/scan?vial={third}");
    let (status, to, _) = submit(
        &app,
        &lab,
        &format!("/vials/{third}/store"),
        &[
            ("csrf", key.as_str()),
            ("back", back.as_str()),
            ("box_id", id(&the_box).as_str()),
            ("position", "A2"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(to.starts_with("/scan?vial="), "{to}");
    let (_, html) = page(&app, &to, &lab).await;
    assert!(html.contains("A2"), "{html}");
    let unstored = app
        .get(&format!("/api/v1/vials/{third}"), Some(&team.lab))
        .await
        .expect(200);
    assert_eq!(unstored["location"], json!(null));

    // moving a stored vial: where it is now is said and marked
    let (_, html) = page(
        &app,
        &format!(
            "/scan?vial={vial_id}&q={}",
            box_payload(&the_box).replace(':', "%3A")
        ),
        &lab,
    )
    .await;
    assert!(
        html.contains("It is now in Tank D › Rack A › Box 1 › A2."),
        "{html}"
    );
    assert!(html.contains("class=\"here\" disabled"), "{html}");

    // quality scanning a box with a vial waiting sees the box, no grid
    let quality = sign_in(&app, "qa.officer").await;
    let (_, html) = page(&app, &placing_path, &quality).await;
    assert!(!html.contains("id=\"placing\""), "{html}");
    assert!(html.contains(&format!("href=\"/storage/{}\"", id(&the_box))));
}

/// A time as the site's date-and-time field sends it (Beijing, UTC+8).
fn site(t: DateTime<Utc>) -> String {
    (t + Duration::hours(8))
        .format("%Y-%m-%dT%H:%M")
        .to_string()
}

async fn a_page_form_sent_twice_is_done_once(app: TestApp) {
    let team = app.team().await;
    let (donor, _) = app.eligible_donor(&team, "UCD-B003").await;
    let donor_id = id(&donor);
    let lab = sign_in(&app, "lab.tech").await;
    let donations = || async {
        app.get(&format!("/api/v1/donors/{donor_id}"), Some(&team.lab))
            .await
            .expect(200)["donations"]
            .as_array()
            .unwrap()
            .len()
    };
    let before = donations().await;
    let path = format!("/donors/{donor_id}/donations");
    let collected = site(app.days_ago(2));
    let received = site(app.days_ago(2) + Duration::hours(2));
    let fields = |key: &str| {
        vec![
            ("csrf".to_owned(), key.to_owned()),
            ("collected_at".to_owned(), collected.clone()),
            ("received_at".to_owned(), received.clone()),
        ]
    };
    let send = |key: String| {
        let fields = fields(&key);
        let lab = lab.clone();
        let app = &app;
        let path = path.clone();
        async move {
            let response = browser()
                .post(app.url(&path))
                .header(COOKIE, lab)
                .form(&fields)
                .send()
                .await
                .unwrap();
            let status = response.status();
            (status, response.text().await.unwrap())
        }
    };
    let donor_page = format!("/donors/{donor_id}");

    // one after the other: the second is answered "sent already"
    let (_, html) = page(&app, &donor_page, &lab).await;
    let key = form_key(&html);
    assert_eq!(key.len(), 32 + 1 + 24, "{key}");
    assert_eq!(send(key.clone()).await.0, StatusCode::SEE_OTHER);
    let (status, html) = send(key.clone()).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(html.contains("This form was sent already"), "{html}");
    assert!(html.contains("It was done once and not again."), "{html}");
    assert_eq!(donations().await, before + 1);

    // two at once: one is done, the other is refused
    let (_, html) = page(&app, &donor_page, &lab).await;
    let key = form_key(&html);
    let (a, b) = tokio::join!(send(key.clone()), send(key.clone()));
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::SEE_OTHER, StatusCode::CONFLICT]);
    assert_eq!(donations().await, before + 2);

    // each form of a page has its own token, and each page load new ones
    let (_, first) = page(&app, &donor_page, &lab).await;
    let (_, second) = page(&app, &donor_page, &lab).await;
    assert_ne!(form_key(&first), form_key(&second));

    // a refused sending uses its token up; the page it returns to has a
    // fresh one that works
    let (_, html) = page(&app, &donor_page, &lab).await;
    let key = form_key(&html);
    let backwards = browser()
        .post(app.url(&path))
        .header(COOKIE, &lab)
        .form(&[
            ("csrf", key.as_str()),
            ("collected_at", received.as_str()),
            ("received_at", collected.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(backwards.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        donations().await,
        before + 2,
        "a refused form changed nothing"
    );
    let (_, html) = page(&app, &donor_page, &lab).await;
    assert_eq!(send(form_key(&html)).await.0, StatusCode::SEE_OTHER);
    assert_eq!(donations().await, before + 3);

    // a key of the session without a form token (a scripted client of the
    // pages) still works, as before
    assert_eq!(send(key[..32].to_owned()).await.0, StatusCode::SEE_OTHER);
    assert_eq!(donations().await, before + 4);
}
