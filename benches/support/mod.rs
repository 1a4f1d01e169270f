//! What the benchmarks share: the real application on a fresh SQLite file
//! (or the PostgreSQL of `CELLTRAIL_BENCH_PG_URL`), and a small closed-loop
//! HTTP load generator that reports throughput and latency percentiles.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use celltrail::Application;
use celltrail::clock::Clock;
use celltrail::config::Settings;
use celltrail::state::AppState;

pub const ADMIN_PASSWORD: &str = "admin-password-for-benchmarks";

pub struct BenchApp {
    pub base: String,
    pub state: AppState,
    _dir: tempfile::TempDir,
}

/// Serves the app on a fresh SQLite file in a temporary directory.
pub async fn spawn_sqlite() -> BenchApp {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("bench.db").display()
    );
    let mut settings = Settings::for_database(url);
    settings.admin_password = Some(ADMIN_PASSWORD.into());
    let app = Application::build(settings, Clock::system()).await.unwrap();
    let base = format!("http://{}", app.local_addr());
    let state = app.state().clone();
    tokio::spawn(app.run_until(std::future::pending()));
    BenchApp {
        base,
        state,
        _dir: dir,
    }
}

pub async fn login(client: &reqwest::Client, base: &str, username: &str, password: &str) -> String {
    let body: serde_json::Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["token"].as_str().expect("login works").to_owned()
}

#[derive(Debug, Clone)]
pub struct LoadReport {
    pub label: String,
    pub requests: usize,
    pub errors: usize,
    pub per_second: f64,
    pub p50: Duration,
    pub p99: Duration,
}

impl std::fmt::Display for LoadReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:<28} {:>9.0} req/s  p50 {:>7.0} µs  p99 {:>7.0} µs  ({} requests, {} errors)",
            self.label,
            self.per_second,
            self.p50.as_secs_f64() * 1e6,
            self.p99.as_secs_f64() * 1e6,
            self.requests,
            self.errors
        )
    }
}

/// `connections` clients, each sending `make_request()` back to back for
/// `duration`; every answer must have status `expect`.
pub async fn closed_loop<F>(
    label: &str,
    connections: usize,
    duration: Duration,
    expect: u16,
    make_request: F,
) -> LoadReport
where
    F: Fn() -> reqwest::RequestBuilder + Send + Sync + 'static,
{
    let make_request = Arc::new(make_request);
    let deadline = Instant::now() + duration;
    let started = Instant::now();
    let workers: Vec<_> = (0..connections)
        .map(|_| {
            let make_request = make_request.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(65_536);
                let mut errors = 0usize;
                while Instant::now() < deadline {
                    let sent = Instant::now();
                    match make_request().send().await {
                        Ok(response) => {
                            let ok = response.status().as_u16() == expect;
                            let _ = response.bytes().await;
                            if ok {
                                latencies.push(sent.elapsed());
                            } else {
                                errors += 1;
                            }
                        }
                        Err(_) => errors += 1,
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut errors = 0;
    for worker in workers {
        let (mut l, e) = worker.await.unwrap();
        latencies.append(&mut l);
        errors += e;
    }
    let elapsed = started.elapsed();
    latencies.sort_unstable();
    let pick = |q: f64| {
        latencies
            .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    LoadReport {
        label: label.to_owned(),
        requests: latencies.len(),
        errors,
        per_second: latencies.len() as f64 / elapsed.as_secs_f64(),
        p50: pick(0.50),
        p99: pick(0.99),
    }
}

pub fn client(connections: usize) -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .build()
        .unwrap()
}
