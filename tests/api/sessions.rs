//! Sessions served from memory (`services::sessions`): once an instance has
//! seen a session it answers without reading it again, and every way a
//! session ends (sign-out, password change, lock, deactivation, a password
//! reset from the command line, expiry) is refused at once on the instance
//! that ended it and within a second on every other: a second instance on
//! the same PostgreSQL, or the command line on the same SQLite file.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{ADMIN_PASSWORD, STAFF_PASSWORD, TestApp, token_of};
use crate::processes::{Client, ServerProcess};
use crate::{on_both_databases, on_postgresql};

on_both_databases!(
    every_ending_of_a_kept_session_is_refused_at_once,
    a_password_reset_from_the_command_line_reaches_the_server_within_a_second,
);
on_postgresql!(a_session_ended_on_one_instance_is_refused_by_the_other_within_a_second);

/// Uses `token` until this instance keeps its session (the session epoch is
/// read within a moment of start). Asked of the cache for this token, not
/// by its size: the epoch watcher may empty the cache after a revocation.
async fn kept(app: &TestApp, token: &str) {
    let started = Instant::now();
    loop {
        app.get("/api/v1/users/me", Some(token)).await.expect(200);
        if celltrail::services::auth::kept_in_memory(&app.state, token) {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the session was never kept in memory"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// How long until `get` answers 401, asking every 20 ms for up to 5 s.
async fn until_refused<F, Fut>(mut get: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = u16>,
{
    let started = Instant::now();
    loop {
        let status = get().await;
        if status == 401 {
            return started.elapsed();
        }
        assert_eq!(status, 200);
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the ended session was still accepted after 5 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn every_ending_of_a_kept_session_is_refused_at_once(app: TestApp) {
    // served from memory: the second request reads no session row
    let (_, lab) = app.staff("kept.lab", "lab").await;
    kept(&app, &lab).await;
    let me = app.get("/api/v1/users/me", Some(&lab)).await.expect(200);
    assert_eq!(me["username"], "kept.lab");

    // sign-out
    app.post("/api/v1/auth/logout", Some(&lab), json!({}))
        .await
        .expect(204);
    app.get("/api/v1/users/me", Some(&lab))
        .await
        .expect_error(401, "unauthenticated");

    // a password change ends the other sessions, not the one changing it
    let first = token_of(app.login("kept.lab", STAFF_PASSWORD).await);
    let second = token_of(app.login("kept.lab", STAFF_PASSWORD).await);
    kept(&app, &first).await;
    kept(&app, &second).await;
    app.post(
        "/api/v1/users/me/password",
        Some(&first),
        json!({"current_password": STAFF_PASSWORD, "new_password": "a-new-password-9"}),
    )
    .await
    .expect(204);
    app.get("/api/v1/users/me", Some(&second))
        .await
        .expect_error(401, "unauthenticated");
    app.get("/api/v1/users/me", Some(&first)).await.expect(200);

    // five wrong passwords in a session lock the account and end it
    for _ in 0..5 {
        app.post(
            "/api/v1/users/me/password",
            Some(&first),
            json!({"current_password": "not-it", "new_password": "another-password-9"}),
        )
        .await
        .expect_error(401, "invalid_credentials");
    }
    app.get("/api/v1/users/me", Some(&first))
        .await
        .expect_error(401, "unauthenticated");

    // deactivation
    let (other_id, other) = app.staff("kept.other", "lab").await;
    kept(&app, &other).await;
    let admin = app.admin_token().await;
    app.post(
        &format!("/api/v1/users/{other_id}/deactivate"),
        Some(&admin),
        json!({"reason": "left the unit", "signature": TestApp::signature(ADMIN_PASSWORD, "approval")}),
    )
    .await
    .expect(200);
    app.get("/api/v1/users/me", Some(&other))
        .await
        .expect_error(401, "unauthenticated");

    // expiry is judged on the server's clock at each request, kept or not
    let (_, late) = app.staff("kept.late", "lab").await;
    kept(&app, &late).await;
    let ttl = chrono::Duration::from_std(app.state.settings.token_ttl).unwrap();
    app.clock.advance(ttl + chrono::Duration::seconds(1));
    let expired = app
        .get("/api/v1/users/me", Some(&late))
        .await
        .expect_error(401, "unauthenticated");
    assert_eq!(expired["reason"], "token_expired");
}

async fn a_password_reset_from_the_command_line_reaches_the_server_within_a_second(app: TestApp) {
    let (_, token) = app.staff("kept.reset", "lab").await;
    kept(&app, &token).await;
    let mut reset = Command::new(env!("CARGO_BIN_EXE_celltrail"));
    reset
        .env("DATABASE_URL", &app.database_url)
        .env_remove("CELLTRAIL_ADMIN_PASSWORD")
        .env("RUST_LOG", "warn")
        .args([
            "admin",
            "reset-password",
            "--username",
            "kept.reset",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = reset.spawn().expect("the binary starts");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"a-reset-password-1\n")
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let took = until_refused(|| async {
        app.get("/api/v1/users/me", Some(&token))
            .await
            .status
            .as_u16()
    })
    .await;
    assert!(took <= Duration::from_secs(1), "refused after {took:?}");
    token_of(app.login("kept.reset", "a-reset-password-1").await);
}

async fn a_session_ended_on_one_instance_is_refused_by_the_other_within_a_second(app: TestApp) {
    let b_files = tempfile::tempdir().unwrap();
    let b = ServerProcess::start(
        &app.database_url,
        &app.files.path().join("celltrail-ledger.key"),
        &b_files.path().join("checkpoints"),
        &b_files.path().join("serve.log"),
    );
    let client = Client::new();
    let on_b = |token: String| {
        let client = &client;
        let base = b.base.clone();
        async move {
            client
                .get(&base, "/api/v1/users/me", &token)
                .await
                .expect("B answers")
                .0
        }
    };
    let mut took = Vec::new();

    // signed out on A: B, which kept the session, refuses it within 1 s
    let (_, token) = app.staff("two.lab", "lab").await;
    kept(&app, &token).await;
    for _ in 0..3 {
        assert_eq!(on_b(token.clone()).await, 200);
    }
    app.post("/api/v1/auth/logout", Some(&token), json!({}))
        .await
        .expect(204);
    took.push(until_refused(|| on_b(token.clone())).await);

    // deactivated on B: A refuses within 1 s
    let (id, token) = app.staff("two.other", "lab").await;
    kept(&app, &token).await;
    assert_eq!(on_b(token.clone()).await, 200);
    let admin = client.login(&b.base, "admin", ADMIN_PASSWORD).await;
    let (status, body) = client
        .post(
            &b.base,
            &format!("/api/v1/users/{id}/deactivate"),
            &admin,
            json!({"reason": "left", "signature": {"password": ADMIN_PASSWORD, "meaning": "approval"}}),
        )
        .await
        .expect("B answers");
    assert_eq!(status, 200, "{body}");
    assert_eq!(on_b(token.clone()).await, 401, "at once on B");
    took.push(
        until_refused(|| async {
            app.get("/api/v1/users/me", Some(&token))
                .await
                .status
                .as_u16()
        })
        .await,
    );

    // a password changed on A ends the other session, which B kept
    let (_, first) = app.staff("two.third", "lab").await;
    let second = token_of(app.login("two.third", STAFF_PASSWORD).await);
    assert_eq!(on_b(second.clone()).await, 200);
    app.post(
        "/api/v1/users/me/password",
        Some(&first),
        json!({"current_password": STAFF_PASSWORD, "new_password": "a-new-password-9"}),
    )
    .await
    .expect(204);
    took.push(until_refused(|| on_b(second.clone())).await);

    for t in &took {
        assert!(*t <= Duration::from_secs(1), "refused after {took:?}");
    }
    assert_eq!(b.errors(), Vec::<String>::new(), "instance B logged errors");
}
