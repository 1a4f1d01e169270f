//! Requests per second and latency of `GET /healthz` (the framework alone:
//! the baseline) against `GET /api/v1/users/me` (the bearer token resolved
//! to its session: read from the database once, then kept in memory by the
//! instance, `services::sessions`) and `POST /api/v1/dose-calculations`
//! for a patient (the protocol in force from memory, the latest weight, the
//! lots with their available vials: two queries), in one run, alternating
//! rounds so machine noise hits all.
//!
//! Measured twice: served in the bench's own process, then by the release
//! binary (`target/release/celltrail serve` on the same SQLite file) with
//! this process as the load generator outside it. Both log at `info`, as
//! a deployed server does (`BENCH_LOG=off`: no logging).
//!
//! `cargo bench --bench http` (release build). `BENCH_SECONDS` sets the
//! length of a round (default 2), `BENCH_CONNECTIONS` the concurrency (64);
//! every comparison is also run with one connection (latency).

mod support;

use std::time::Duration;

use serde_json::json;
use support::{ADMIN_PASSWORD, Load, alternate, client, clinic, compare, login, spawn_sqlite};

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run());
}

async fn run() {
    let seconds: u64 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2);
    let connections: usize = std::env::var("BENCH_CONNECTIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(64);
    let app = spawn_sqlite().await;
    let http = client(connections);
    let token = login(&http, &app.base, "admin", ADMIN_PASSWORD).await;
    let staff = clinic::staff(&app, &http).await;
    clinic::released_lot(&app, &http, &staff, 96).await;
    let patient = clinic::weighed_patient(&app, &http, &staff, "B-00001").await;
    let round = Duration::from_secs(seconds);

    let pharmacist = staff.pharmacist.clone();
    let loads = [
        Load::new("GET /healthz", 200, |c, base| {
            c.get(format!("{base}/healthz"))
        }),
        Load::new("GET /api/v1/users/me", 200, move |c, base| {
            c.get(format!("{base}/api/v1/users/me")).bearer_auth(&token)
        }),
        Load::new("POST /api/v1/dose-calculations", 200, move |c, base| {
            c.post(format!("{base}/api/v1/dose-calculations"))
                .bearer_auth(&pharmacist)
                .json(&json!({ "patient_id": patient }))
        }),
    ];
    let logging = if support::logging() {
        "logging at info"
    } else {
        "logging off"
    };
    let mut summary = Vec::new();
    for outside in [false, true] {
        let binary = if outside {
            Some(support::spawn_binary(&app).await)
        } else {
            None
        };
        let (server, base) = match &binary {
            Some(b) => ("release binary, load from outside", b.base.clone()),
            None => ("in process", app.base.clone()),
        };
        for n in [connections, 1] {
            println!("SQLite, {server}, {logging}, {n} connection(s), {seconds} s rounds");
            let reports = alternate(&http, &base, &loads, n, round, 3).await;
            summary.push(format!(
                "[{server}, {n} conn.] {}",
                compare("users/me ÷ healthz", &reports[1], &reports[0])
            ));
            summary.push(format!(
                "[{server}, {n} conn.] {}",
                compare("calculator ÷ healthz", &reports[2], &reports[0])
            ));
        }
    }
    println!("\nMedians of 3 rounds (range), each ratio within its round:");
    for line in summary {
        println!("{line}");
    }
    println!("targets: users/me ≥ 0.5× requests/s; calculator p50 ≤ 5× healthz's");
}
