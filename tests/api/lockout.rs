//! Wrong sign-ins are slowed down per username and per client address and
//! never lock anyone out (issue 11, "lockout as a weapon"); a lock comes
//! only from wrong passwords in a signed-in session, ends the sessions, and
//! an administrator unlocks it, signed. Clients at other addresses are
//! other loopback addresses (127.0.0.2 …), which the server sees as the
//! socket's peer.

use std::net::IpAddr;

use chrono::Duration;
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use celltrail::Application;
use celltrail::config::Settings;
use celltrail::entities::sign_in_failure;
use celltrail::services::ledger;

use crate::helpers::{ADMIN_PASSWORD, Answer, STAFF_PASSWORD, TestApp, token_of};
use crate::on_both_databases;
use crate::web::{browser, csrf, page, post_sign_in};

on_both_databases!(
    a_guesser_elsewhere_keeps_the_administrator_out_a_minute_at_most,
    unknown_and_existing_names_answer_alike,
    delays_grow_per_name_and_per_address,
    failed_sign_ins_survive_a_restart,
    an_administrator_unlocks_a_locked_account_signed_and_in_the_ledger,
    a_lock_ends_the_accounts_sessions,
    the_administrators_home_page_shows_failed_sign_ins_and_unlocks,
);

/// A client whose connections come from `from` (a loopback address).
fn client_at(from: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(from.parse::<IpAddr>().expect("an address"))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client")
}

async fn login_at(app: &TestApp, base: &str, from: &str, name: &str, password: &str) -> Answer {
    app.send(
        client_at(from)
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({ "username": name, "password": password })),
    )
    .await
}

async fn login_from(app: &TestApp, from: &str, name: &str, password: &str) -> Answer {
    login_at(app, &app.base, from, name, password).await
}

/// Makes `n` wrong-password sign-ins with `name` from `from` that count,
/// waiting out (on the app's clock) every delay met on the way.
async fn fail(app: &TestApp, from: &str, name: &str, n: usize) {
    let mut counted = 0;
    while counted < n {
        let answer = login_from(app, from, name, "wrong-password").await;
        match answer.body["error"]["code"].as_str() {
            Some("invalid_credentials") => counted += 1,
            Some("account_locked") => {
                let wait = answer.body["error"]["details"]["retry_after_seconds"]
                    .as_i64()
                    .expect("a wait");
                app.clock.advance(Duration::seconds(wait));
            }
            _ => panic!("unexpected answer: {:#}", answer.body),
        }
    }
}

/// A refusal to wait: 401 `account_locked`, with `Retry-After` equal to
/// `details.retry_after_seconds`; returns the seconds and the error.
#[track_caller]
fn slowed(answer: Answer) -> (i64, Value) {
    let header = answer
        .headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i64>().ok());
    let error = answer.body["error"].clone();
    let details = answer.expect_error(401, "account_locked");
    let seconds = details["retry_after_seconds"].as_i64().expect("seconds");
    assert_eq!(header, Some(seconds), "Retry-After is the same wait");
    assert!(details["locked_until"].is_string(), "{details:#}");
    (seconds, error)
}

#[track_caller]
fn assert_wait(seconds: i64, expected: i64) {
    // a second or two may pass between the failure and the next request
    assert!(
        (expected - 2..=expected).contains(&seconds) && seconds >= 1,
        "waited {seconds} s, expected about {expected} s"
    );
}

async fn actions_of(app: &TestApp, id: &str) -> Vec<String> {
    ledger::events_of(&app.state.db, "user", id.parse().unwrap())
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect()
}

async fn a_guesser_elsewhere_keeps_the_administrator_out_a_minute_at_most(app: TestApp) {
    let admin_session = app.admin_token().await;
    let me = app
        .get("/api/v1/users/me", Some(&admin_session))
        .await
        .expect(200);
    let admin_id = me["id"].as_str().unwrap().to_owned();

    // an anonymous guesser at 127.0.0.2 tries the administrator's name
    fail(&app, "127.0.0.2", "admin", 15).await;
    // the administrator, elsewhere, waits at most the name's minute
    let (wait, _) = slowed(login_from(&app, "127.0.0.1", "admin", ADMIN_PASSWORD).await);
    assert!((1..=60).contains(&wait), "{wait}");
    app.clock.advance(Duration::seconds(wait));
    token_of(login_from(&app, "127.0.0.1", "admin", ADMIN_PASSWORD).await);

    // the guesser goes on: their own address now waits a quarter of an
    // hour, for any name
    fail(&app, "127.0.0.2", "admin", 10).await;
    let (wait, _) = slowed(login_from(&app, "127.0.0.2", "admin", "another-guess").await);
    assert_wait(wait, 15 * 60);
    let (wait, _) = slowed(login_from(&app, "127.0.0.2", "someone.else", "a-guess").await);
    assert_wait(wait, 15 * 60);
    // while the administrator waits at most a minute, and is then in
    let refused = login_from(&app, "127.0.0.1", "admin", ADMIN_PASSWORD).await;
    if refused.status == StatusCode::UNAUTHORIZED {
        let (wait, _) = slowed(refused);
        assert!((1..=60).contains(&wait), "{wait}");
        app.clock.advance(Duration::seconds(wait));
    }
    token_of(login_from(&app, "127.0.0.1", "admin", ADMIN_PASSWORD).await);

    // nothing was locked and no session ended
    app.get("/api/v1/users/me", Some(&admin_session))
        .await
        .expect(200);
    assert_eq!(actions_of(&app, &admin_id).await, ["user.created"]);
}

async fn unknown_and_existing_names_answer_alike(app: TestApp) {
    let (_, pharm) = app.staff("pharm", "pharmacist").await;
    app.staff("lab.tech", "lab").await;

    // slowed down: the same refusal for an account and for no account
    // (each looked at at once: waiting out one's delays runs the other's)
    fail(&app, "127.0.0.3", "no.such.person", 9).await;
    let (wait_unknown, unknown) =
        slowed(login_from(&app, "127.0.0.3", "no.such.person", "guess").await);
    assert_wait(wait_unknown, 16);
    fail(&app, "127.0.0.2", "lab.tech", 9).await;
    let (wait_known, known) = slowed(login_from(&app, "127.0.0.2", "lab.tech", "guess").await);
    assert_wait(wait_known, 16);
    let shape = |error: &Value| {
        let message: String = error["message"]
            .as_str()
            .unwrap()
            .chars()
            .map(|c| if c.is_ascii_digit() { '#' } else { c })
            .collect();
        let mut keys: Vec<String> = error["details"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        keys.sort();
        (error["code"].clone(), message, keys)
    };
    assert_eq!(shape(&known), shape(&unknown));
    // even with the right password, until the wait is over
    let (_, right) = slowed(login_from(&app, "127.0.0.2", "lab.tech", STAFF_PASSWORD).await);
    assert_eq!(shape(&right), shape(&unknown));

    // a locked account (wrong passwords in its session) reads as any
    // name with a wrong password; only its right password tells
    for _ in 0..5 {
        app.post(
            "/api/v1/users/me/password",
            Some(&pharm),
            json!({"current_password": "not-mine", "new_password": "a-brand-new-password"}),
        )
        .await
        .expect_error(401, "invalid_credentials");
    }
    let locked = login_from(&app, "127.0.0.4", "pharm", "a-guess")
        .await
        .expect(401);
    let nobody = login_from(&app, "127.0.0.4", "nobody.at.all", "a-guess")
        .await
        .expect(401);
    assert_eq!(locked, nobody);
    assert_eq!(locked["error"]["code"], "invalid_credentials");
    let (wait, _) = slowed(login_from(&app, "127.0.0.4", "pharm", STAFF_PASSWORD).await);
    assert!((14 * 60..=15 * 60).contains(&wait), "{wait}");

    // and a wrong password counts for an unknown name as for an account
    let count = |name: &'static str| {
        sign_in_failure::Entity::find()
            .filter(sign_in_failure::Column::Username.eq(name))
            .count(app.state.db.conn())
    };
    assert_eq!(count("pharm").await.unwrap(), 1);
    assert_eq!(count("nobody.at.all").await.unwrap(), 1);
}

async fn delays_grow_per_name_and_per_address(app: TestApp) {
    // per name: after 5 free failures, 1 s, 2 s, 4 s … up to a minute
    fail(&app, "127.0.0.2", "nurse.x", 7).await;
    for expected in [4, 8, 16, 32, 60, 60] {
        let (wait, _) = slowed(login_from(&app, "127.0.0.2", "nurse.x", "guess").await);
        assert_wait(wait, expected);
        app.clock.advance(Duration::seconds(wait));
        fail(&app, "127.0.0.2", "nurse.x", 1).await;
    }

    // per address: after 10 free failures, whatever the names, 1 s, 2 s …
    // up to 15 minutes
    for n in 0..14 {
        fail(&app, "127.0.0.3", &format!("spray.{n}"), 1).await;
    }
    let (wait, _) = slowed(login_from(&app, "127.0.0.3", "spray.99", "guess").await);
    assert_wait(wait, 16);
    // the same name from another address is not held up
    login_from(&app, "127.0.0.4", "spray.99", "guess")
        .await
        .expect_error(401, "invalid_credentials");
    for n in 14..24 {
        fail(&app, "127.0.0.3", &format!("spray.{n}"), 1).await;
    }
    let (wait, _) = slowed(login_from(&app, "127.0.0.3", "spray.99", "guess").await);
    assert_wait(wait, 15 * 60);

    // failures older than a day no longer count
    app.clock
        .advance(Duration::hours(24) + Duration::minutes(20));
    login_from(&app, "127.0.0.3", "spray.99", "guess")
        .await
        .expect_error(401, "invalid_credentials");
    login_from(&app, "127.0.0.2", "nurse.x", "guess")
        .await
        .expect_error(401, "invalid_credentials");
}

async fn failed_sign_ins_survive_a_restart(app: TestApp) {
    app.staff("lab.tech", "lab").await;
    fail(&app, "127.0.0.2", "lab.tech", 9).await;

    // a new instance on the same database knows nothing but what is stored
    let mut settings = Settings::for_database(app.database_url.clone());
    settings.admin_password = Some(ADMIN_PASSWORD.into());
    settings.ledger_key_file = app.files.path().join("celltrail-ledger.key");
    settings.checkpoint_dir = app.files.path().join("checkpoints");
    settings.db_max_connections = 4;
    settings.timezone = app.state.settings.timezone;
    let restarted = Application::build(settings, app.clock.clone())
        .await
        .expect("the second instance starts");
    let base = format!("http://{}", restarted.local_addr());
    let server = tokio::spawn(async move {
        restarted.run_until(std::future::pending()).await.ok();
    });

    let (wait, _) = slowed(login_at(&app, &base, "127.0.0.5", "lab.tech", STAFF_PASSWORD).await);
    assert_wait(wait, 16);
    let stored = sign_in_failure::Entity::find()
        .filter(sign_in_failure::Column::Username.eq("lab.tech"))
        .filter(sign_in_failure::Column::Address.eq("127.0.0.2"))
        .count(app.state.db.conn())
        .await
        .unwrap();
    assert_eq!(stored, 9);
    app.clock.advance(Duration::seconds(wait));
    token_of(login_at(&app, &base, "127.0.0.5", "lab.tech", STAFF_PASSWORD).await);
    server.abort();
}

async fn an_administrator_unlocks_a_locked_account_signed_and_in_the_ledger(app: TestApp) {
    let admin = app.admin_token().await;
    let (lab_id, lab) = app.staff("lab.tech", "lab").await;
    let (_, quality) = app.staff("qa.officer", "quality").await;
    let (_, other_admin) = {
        let created = app
            .post(
                "/api/v1/users",
                Some(&admin),
                json!({"username": "admin.two", "full_name": "Second Admin", "role": "admin", "password": STAFF_PASSWORD}),
            )
            .await
            .expect(201);
        (
            created,
            token_of(app.login("admin.two", STAFF_PASSWORD).await),
        )
    };
    // locked by wrong passwords in its session, and slowed by wrong sign-ins
    for _ in 0..5 {
        app.post(
            "/api/v1/users/me/password",
            Some(&lab),
            json!({"current_password": "not-mine", "new_password": "a-brand-new-password"}),
        )
        .await
        .expect_error(401, "invalid_credentials");
    }
    fail(&app, "127.0.0.2", "lab.tech", 6).await;
    let user = app
        .get(&format!("/api/v1/users/{lab_id}"), Some(&admin))
        .await
        .expect(200);
    assert!(user["locked_until"].is_string());

    let path = format!("/api/v1/users/{lab_id}/unlock");
    let body = |password: &str, reason: &str| json!({"reason": reason, "signature": TestApp::signature(password, "account unlocked")});
    // not for other roles, not for unknown accounts, not without a right
    // signature or a reason
    app.post(&path, Some(&quality), body(STAFF_PASSWORD, "asked"))
        .await
        .expect_error(403, "forbidden");
    app.post(&path, None, body(STAFF_PASSWORD, "asked"))
        .await
        .expect_error(401, "unauthenticated");
    app.post(
        &format!("/api/v1/users/{}/unlock", uuid::Uuid::now_v7()),
        Some(&admin),
        body(ADMIN_PASSWORD, "asked"),
    )
    .await
    .expect_error(404, "not_found");
    app.post(&path, Some(&admin), body("not-my-password", "asked"))
        .await
        .expect_error(401, "signature_invalid");
    app.post(&path, Some(&admin), body(ADMIN_PASSWORD, "  "))
        .await
        .expect_error(422, "invalid_field");
    app.post(
        "/api/v1/users/not-a-uuid/unlock",
        Some(&admin),
        body(ADMIN_PASSWORD, "asked"),
    )
    .await
    .expect_error(400, "malformed_request");
    slowed(login_from(&app, "127.0.0.1", "lab.tech", STAFF_PASSWORD).await);
    assert_eq!(
        actions_of(&app, &lab_id.to_string()).await,
        ["user.created", "user.locked"]
    );

    let unlocked = app
        .post(
            &path,
            Some(&admin),
            body(ADMIN_PASSWORD, "identity checked by phone"),
        )
        .await
        .expect(200);
    assert_eq!(unlocked["locked_until"], Value::Null);
    // in at once, from anywhere
    token_of(login_from(&app, "127.0.0.1", "lab.tech", STAFF_PASSWORD).await);

    let events = ledger::events_of(&app.state.db, "user", lab_id)
        .await
        .unwrap();
    let actions: Vec<_> = events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["user.created", "user.locked", "user.unlocked"]);
    let event = events.last().unwrap();
    assert_eq!(event.actor_username, "admin");
    let details: Value = serde_json::from_str(&event.details).unwrap();
    assert_eq!(details["reason"], "identity checked by phone");
    assert_eq!(details["locked_until"], Value::Null);
    assert_eq!(details["failed_logins"], 0);
    assert!(details["was_locked_until"].is_string());
    assert_eq!(details["sign_in_failures_cleared"], 6);
    assert_eq!(details["signature"]["signer"], "admin");
    assert_eq!(details["signature"]["meaning"], "account unlocked");

    // nothing left to unlock
    app.post(&path, Some(&other_admin), body(STAFF_PASSWORD, "again"))
        .await
        .expect_error(409, "account_not_locked");
    // slowed only (no lock): unlocking clears the failures
    fail(&app, "127.0.0.2", "lab.tech", 8).await;
    slowed(login_from(&app, "127.0.0.1", "lab.tech", STAFF_PASSWORD).await);
    let unlocked = app
        .post(&path, Some(&other_admin), body(STAFF_PASSWORD, "help desk"))
        .await
        .expect(200);
    assert_eq!(unlocked["locked_until"], Value::Null);
    token_of(login_from(&app, "127.0.0.1", "lab.tech", STAFF_PASSWORD).await);
    let events = ledger::events_of(&app.state.db, "user", lab_id)
        .await
        .unwrap();
    let details: Value = serde_json::from_str(&events.last().unwrap().details).unwrap();
    assert_eq!(details["was_locked_until"], Value::Null);
    assert_eq!(details["sign_in_failures_cleared"], 8);
    // the whole ledger still verifies
    let verify = app
        .get("/api/v1/audit/verify", Some(&quality))
        .await
        .expect(200);
    assert_eq!(verify["ok"], true, "{verify:#}");
}

async fn a_lock_ends_the_accounts_sessions(app: TestApp) {
    let (id, first) = app.staff("nurse", "clinician").await;
    let second = token_of(app.login("nurse", STAFF_PASSWORD).await);
    // four wrong signatures: still in
    for _ in 0..4 {
        app.post(
            "/api/v1/users/me/password",
            Some(&first),
            json!({"current_password": "not-mine", "new_password": "a-brand-new-password"}),
        )
        .await
        .expect_error(401, "invalid_credentials");
    }
    app.get("/api/v1/users/me", Some(&second)).await.expect(200);
    app.post(
        "/api/v1/users/me/password",
        Some(&first),
        json!({"current_password": "not-mine", "new_password": "a-brand-new-password"}),
    )
    .await
    .expect_error(401, "invalid_credentials");
    for token in [&first, &second] {
        let details = app
            .get("/api/v1/users/me", Some(token))
            .await
            .expect_error(401, "unauthenticated");
        assert_eq!(details["reason"], "token_revoked");
    }
    let events = ledger::events_of(&app.state.db, "user", id).await.unwrap();
    let details: Value = serde_json::from_str(&events.last().unwrap().details).unwrap();
    assert_eq!(events.last().unwrap().action, "user.locked");
    assert_eq!(details["sessions_ended"], 2);
}

async fn the_administrators_home_page_shows_failed_sign_ins_and_unlocks(app: TestApp) {
    let (lab_id, _) = app.staff("lab.tech", "lab").await;
    fail(&app, "127.0.0.2", "lab.tech", 9).await;
    fail(&app, "127.0.0.2", "ghost", 2).await;

    // the person slowed down reads a sentence, not a code
    let refused = post_sign_in(
        &app,
        &[("username", "lab.tech"), ("password", STAFF_PASSWORD)],
    )
    .await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let html = refused.text().await.unwrap();
    assert!(html.contains("Too many wrong passwords; wait 1"), "{html}");
    assert!(!html.contains("account_locked"));

    let signed_in =
        post_sign_in(&app, &[("username", "admin"), ("password", ADMIN_PASSWORD)]).await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    let cookie = signed_in.headers()[SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let (status, home) = page(&app, "/", &cookie).await;
    assert_eq!(status, StatusCode::OK);
    for text in [
        "Accounts locked or slowed down",
        "Failed sign-ins by username",
        "Failed sign-ins by address",
        "lab.tech",
        "ghost",
        "no such account",
        "127.0.0.2",
        // times in the site's zone
        "+08:00",
    ] {
        assert!(home.contains(text), "{text:?} missing");
    }
    let unlock_action = format!("/accounts/{lab_id}/unlock");
    assert!(home.contains(&unlock_action));
    let by_address = &home[home.find("id=\"failed-by-address\"").unwrap()..];
    assert!(
        by_address.contains(">11<"),
        "eleven failures from the address"
    );

    // the unlock button, signed
    let token = csrf(&home);
    let post = |password: &'static str| {
        browser()
            .post(app.url(&unlock_action))
            .header(COOKIE, &cookie)
            .form(&[
                ("csrf", token.as_str()),
                ("reason", "called the help desk"),
                ("password", password),
                ("meaning", "account unlocked"),
            ])
            .send()
    };
    let wrong = post("not-my-password").await.unwrap();
    assert_eq!(wrong.status(), StatusCode::SEE_OTHER);
    assert!(
        wrong.headers()[LOCATION]
            .to_str()
            .unwrap()
            .starts_with("/?error=")
    );
    let done = post(ADMIN_PASSWORD).await.unwrap();
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    let location = done.headers()[LOCATION].to_str().unwrap().to_owned();
    assert!(location.starts_with("/?ok="), "{location}");
    let (_, home) = page(&app, &location, &cookie).await;
    assert!(home.contains("lab.tech is unlocked"));
    assert!(!home.contains(&unlock_action), "no longer held");
    token_of(app.login("lab.tech", STAFF_PASSWORD).await);
    assert_eq!(
        actions_of(&app, &lab_id.to_string()).await,
        ["user.created", "user.unlocked"]
    );

    // staff do not see it
    let lab_cookie = crate::web::sign_in(&app, "lab.tech").await;
    let (_, lab_home) = page(&app, "/", &lab_cookie).await;
    assert!(!lab_home.contains("Failed sign-ins"));
    // nor may they unlock
    let refused = browser()
        .post(app.url(&unlock_action))
        .header(COOKIE, &lab_cookie)
        .form(&[
            ("csrf", csrf(&lab_home).as_str()),
            ("reason", "x"),
            ("password", STAFF_PASSWORD),
            ("meaning", "account unlocked"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
}
