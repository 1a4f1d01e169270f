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
    _db: BenchDb,
}

/// What the benchmark's database is, so it goes away afterwards.
enum BenchDb {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { server_url: String, name: String },
}

impl Drop for BenchDb {
    fn drop(&mut self) {
        if let BenchDb::Postgres { server_url, name } = self {
            let (server_url, name) = (server_url.clone(), name.clone());
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(async {
                    use sea_orm::ConnectionTrait;
                    let server = sea_orm::Database::connect(server_url.as_str()).await?;
                    server
                        .execute_unprepared(&format!(
                            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                        ))
                        .await?;
                    server.close().await
                })
            })
            .join();
        }
    }
}

/// Serves the app on a fresh SQLite file in a temporary directory.
pub async fn spawn_sqlite() -> BenchApp {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("bench.db").display()
    );
    serve(url, BenchDb::Sqlite(dir)).await
}

/// Serves the app on a fresh PostgreSQL database on the server of
/// `server_url`, dropped when the `BenchApp` goes.
pub async fn spawn_postgres(server_url: &str) -> BenchApp {
    use sea_orm::ConnectionTrait;
    let name = format!("celltrail_bench_{}", uuid::Uuid::new_v4().simple());
    let server = sea_orm::Database::connect(server_url).await.unwrap();
    server
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await
        .unwrap();
    server.close().await.ok();
    let after_scheme = server_url.find("://").map_or(0, |i| i + 3);
    let host_end = server_url[after_scheme..]
        .find('/')
        .map_or(server_url.len(), |i| after_scheme + i);
    let url = format!("{}/{}", &server_url[..host_end], name);
    serve(
        url,
        BenchDb::Postgres {
            server_url: server_url.to_owned(),
            name,
        },
    )
    .await
}

async fn serve(url: String, db: BenchDb) -> BenchApp {
    if std::env::var_os("BENCH_LOG").is_some() {
        // failures inside the server, for finding why a request failed
        tracing_subscriber::fmt()
            .with_env_filter("error")
            .with_writer(std::io::stderr)
            .try_init()
            .ok();
    }
    let mut settings = Settings::for_database(url);
    settings.admin_password = Some(ADMIN_PASSWORD.into());
    let app = Application::build(settings, Clock::system()).await.unwrap();
    let base = format!("http://{}", app.local_addr());
    let state = app.state().clone();
    tokio::spawn(app.run_until(std::future::pending()));
    BenchApp {
        base,
        state,
        _db: db,
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
