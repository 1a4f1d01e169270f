//! Requests per second of `GET /healthz` (the framework alone: the
//! baseline) against `GET /api/v1/users/me` (the bearer token resolved to
//! its session: read from the database once, then kept in memory by the
//! instance, `services::sessions`), in one run, alternating rounds so
//! machine noise hits both.
//!
//! `cargo bench --bench http` (release build). `BENCH_SECONDS` sets the
//! length of a round (default 5), `BENCH_CONNECTIONS` the concurrency (64).

mod support;

use std::time::Duration;

use support::{ADMIN_PASSWORD, client, closed_loop, login, spawn_sqlite};

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
        .unwrap_or(5);
    let connections: usize = std::env::var("BENCH_CONNECTIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(64);
    let app = spawn_sqlite().await;
    let http = client(connections);
    let token = login(&http, &app.base, "admin", ADMIN_PASSWORD).await;
    let round = Duration::from_secs(seconds);

    println!("SQLite, {connections} connections, {seconds} s rounds");
    let mut ratios = Vec::new();
    for _ in 0..3 {
        let (c, base) = (http.clone(), app.base.clone());
        let health = closed_loop("GET /healthz", connections, round, 200, move || {
            c.get(format!("{base}/healthz"))
        })
        .await;
        let (c, base, t) = (http.clone(), app.base.clone(), token.clone());
        let me = closed_loop("GET /api/v1/users/me", connections, round, 200, move || {
            c.get(format!("{base}/api/v1/users/me")).bearer_auth(&t)
        })
        .await;
        println!("{health}\n{me}");
        ratios.push(me.per_second / health.per_second);
    }
    ratios.sort_by(f64::total_cmp);
    println!(
        "users/me ÷ healthz throughput: median {:.2} (rounds: {})",
        ratios[1],
        ratios
            .iter()
            .map(|r| format!("{r:.2}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
}
