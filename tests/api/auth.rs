//! Signing in and out, tokens, the lock after wrong passwords in a session
//! (the slowing down of wrong sign-ins is in `lockout`).

use chrono::Duration;
use serde_json::json;

use crate::helpers::{ADMIN_PASSWORD, STAFF_PASSWORD, TestApp, token_of};
use crate::on_both_databases;

on_both_databases!(
    the_right_password_returns_a_token_that_works,
    a_wrong_password_and_an_unknown_user_look_the_same,
    five_wrong_passwords_in_a_session_lock_the_account_for_fifteen_minutes,
    a_good_login_starts_the_count_afresh,
    tokens_expire_after_their_lifetime,
    logout_revokes_the_token,
    forged_missing_and_malformed_tokens_are_refused,
    changing_a_password_needs_the_current_one_and_ends_other_sessions,
);

async fn the_right_password_returns_a_token_that_works(app: TestApp) {
    let body = app.login("admin", ADMIN_PASSWORD).await.expect(200);
    assert_eq!(body["user"]["username"], "admin");
    assert_eq!(body["user"]["role"], "admin");
    let expires_at: chrono::DateTime<chrono::Utc> =
        body["expires_at"].as_str().unwrap().parse().unwrap();
    let lifetime = expires_at - app.clock.now();
    assert!(lifetime > Duration::hours(11) && lifetime <= Duration::hours(12));
    let token = body["token"].as_str().unwrap();
    let me = app.get("/api/v1/users/me", Some(token)).await.expect(200);
    assert_eq!(me["username"], "admin");
    assert_eq!(me["full_name"], "Administrator");
    assert_eq!(me["role"], "admin");
    // usernames are not case-sensitive
    app.login("ADMIN", ADMIN_PASSWORD).await.expect(200);
}

async fn a_wrong_password_and_an_unknown_user_look_the_same(app: TestApp) {
    let wrong = app
        .login("admin", "not-the-password")
        .await
        .expect_error(401, "invalid_credentials");
    let unknown = app
        .login("nobody", "not-the-password")
        .await
        .expect_error(401, "invalid_credentials");
    let invalid_name = app
        .login("x", "not-the-password")
        .await
        .expect_error(401, "invalid_credentials");
    assert_eq!(wrong, unknown);
    assert_eq!(unknown, invalid_name);
}

async fn five_wrong_passwords_in_a_session_lock_the_account_for_fifteen_minutes(app: TestApp) {
    let (id, token) = app.staff("lab.tech", "lab").await;
    let change = |current: &str| {
        app.post(
            "/api/v1/users/me/password",
            Some(&token),
            json!({"current_password": current, "new_password": "a-brand-new-password"}),
        )
    };
    for _ in 0..5 {
        change("wrong-password")
            .await
            .expect_error(401, "invalid_credentials");
    }
    // the lock ended the session, and the right password tells that the
    // account is locked
    app.get("/api/v1/users/me", Some(&token))
        .await
        .expect_error(401, "unauthenticated");
    let details = app
        .login("lab.tech", STAFF_PASSWORD)
        .await
        .expect_error(401, "account_locked");
    assert!(details["locked_until"].is_string());
    // a wrong one reads as any wrong password
    app.login("lab.tech", "wrong-password")
        .await
        .expect_error(401, "invalid_credentials");
    app.clock.advance(Duration::minutes(14));
    app.login("lab.tech", STAFF_PASSWORD)
        .await
        .expect_error(401, "account_locked");
    app.clock
        .advance(Duration::minutes(1) + Duration::seconds(1));
    token_of(app.login("lab.tech", STAFF_PASSWORD).await);

    // the lock is in the ledger, with the sessions it ended
    let events = celltrail::services::ledger::events_of(&app.state.db, "user", id)
        .await
        .unwrap();
    let actions: Vec<_> = events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["user.created", "user.locked"]);
    let details: serde_json::Value = serde_json::from_str(&events[1].details).unwrap();
    assert_eq!(details["sessions_ended"], 1);
    assert!(details["locked_until"].is_string());
}

async fn a_good_login_starts_the_count_afresh(app: TestApp) {
    app.staff("pharm", "pharmacist").await;
    for _ in 0..4 {
        app.login("pharm", "wrong-password")
            .await
            .expect_error(401, "invalid_credentials");
    }
    token_of(app.login("pharm", STAFF_PASSWORD).await);
    for _ in 0..4 {
        app.login("pharm", "wrong-password")
            .await
            .expect_error(401, "invalid_credentials");
    }
    token_of(app.login("pharm", STAFF_PASSWORD).await);
}

async fn tokens_expire_after_their_lifetime(app: TestApp) {
    let token = app.admin_token().await;
    app.clock
        .advance(Duration::hours(12) - Duration::seconds(5));
    app.get("/api/v1/users/me", Some(&token)).await.expect(200);
    app.clock.advance(Duration::seconds(6));
    let details = app
        .get("/api/v1/users/me", Some(&token))
        .await
        .expect_error(401, "unauthenticated");
    assert_eq!(details["reason"], "token_expired");
}

async fn logout_revokes_the_token(app: TestApp) {
    let token = app.admin_token().await;
    let other = app.admin_token().await;
    let answer = app
        .post("/api/v1/auth/logout", Some(&token), json!({}))
        .await;
    assert_eq!(answer.status, 204);
    let details = app
        .get("/api/v1/users/me", Some(&token))
        .await
        .expect_error(401, "unauthenticated");
    assert_eq!(details["reason"], "token_revoked");
    // another session of the same user lives on
    app.get("/api/v1/users/me", Some(&other)).await.expect(200);
    // logging out twice is refused: the token is dead
    app.post("/api/v1/auth/logout", Some(&token), json!({}))
        .await
        .expect_error(401, "unauthenticated");
}

async fn forged_missing_and_malformed_tokens_are_refused(app: TestApp) {
    let real = app.admin_token().await;
    let details = app
        .get("/api/v1/users/me", None)
        .await
        .expect_error(401, "unauthenticated");
    assert_eq!(details["reason"], "missing_token");
    let forged = format!("ct_{}", "ab".repeat(32));
    let mut flipped = real.clone();
    let last = flipped.pop().unwrap();
    flipped.push(if last == '0' { '1' } else { '0' });
    for token in [forged.as_str(), flipped.as_str(), "", "ct_", "' OR 1=1 --"] {
        let details = app
            .get("/api/v1/users/me", Some(token))
            .await
            .expect_error(401, "unauthenticated");
        assert_eq!(details["reason"], "invalid_token", "{token:?}");
    }
    // a token under another scheme
    app.send(
        app.client
            .get(app.url("/api/v1/users/me"))
            .header("authorization", format!("Basic {real}")),
    )
    .await
    .expect_error(401, "unauthenticated");
}

async fn changing_a_password_needs_the_current_one_and_ends_other_sessions(app: TestApp) {
    app.staff("nurse", "clinician").await;
    let first = token_of(app.login("nurse", STAFF_PASSWORD).await);
    let second = token_of(app.login("nurse", STAFF_PASSWORD).await);
    let path = "/api/v1/users/me/password";
    app.post(
        path,
        Some(&first),
        json!({"current_password": "not-my-password", "new_password": "a-brand-new-password"}),
    )
    .await
    .expect_error(401, "invalid_credentials");
    app.post(
        path,
        Some(&first),
        json!({"current_password": STAFF_PASSWORD, "new_password": "short"}),
    )
    .await
    .expect_error(422, "weak_password");
    let answer = app
        .post(
            path,
            Some(&first),
            json!({"current_password": STAFF_PASSWORD, "new_password": "a-brand-new-password"}),
        )
        .await;
    assert_eq!(answer.status, 204, "{:#}", answer.body);
    app.get("/api/v1/users/me", Some(&first)).await.expect(200);
    app.get("/api/v1/users/me", Some(&second))
        .await
        .expect_error(401, "unauthenticated");
    app.login("nurse", STAFF_PASSWORD)
        .await
        .expect_error(401, "invalid_credentials");
    token_of(app.login("nurse", "a-brand-new-password").await);
}
