//! What the benchmarks share: the real application on a fresh SQLite file
//! (or the PostgreSQL of `CELLTRAIL_BENCH_PG_URL`), served in the bench's
//! process or by the release binary as its own process
//! ([`spawn_binary`]), and a small closed-loop HTTP load generator that
//! reports throughput and latency percentiles.
//!
//! The server logs as a deployed one does, at `info` (a line per request),
//! to a file: `BENCH_LOG=off` turns logging off, to see what it costs.

#![allow(dead_code)]

pub mod clinic;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use celltrail::Application;
use celltrail::clock::Clock;
use celltrail::config::Settings;
use celltrail::state::AppState;

pub const ADMIN_PASSWORD: &str = "admin-password-for-benchmarks";

pub struct BenchApp {
    pub base: String,
    pub state: AppState,
    /// The database, as a second server process would be given it.
    pub database_url: String,
    /// The signing key and checkpoint log the instances share.
    pub files: tempfile::TempDir,
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

/// Whether the servers log (`BENCH_LOG=off`: they do not).
pub fn logging() -> bool {
    std::env::var("BENCH_LOG").map_or(true, |v| v != "off")
}

/// Where the servers' logs go, in a directory kept for the run.
pub fn log_dir() -> &'static std::path::Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().unwrap()).path()
}

/// The in-process server's logging: the served binary's own default
/// (`info`, a line per request, written by a thread of its own), into
/// `server.log`.
fn log_in_process() {
    static GUARD: OnceLock<Option<tracing_appender::non_blocking::WorkerGuard>> = OnceLock::new();
    GUARD.get_or_init(|| {
        logging().then(|| {
            let file = std::fs::File::create(log_dir().join("server.log")).unwrap();
            celltrail::telemetry::init_writing_to(celltrail::config::LogFormat::Text, file, false)
        })
    });
}

async fn serve(url: String, db: BenchDb) -> BenchApp {
    log_in_process();
    let files = tempfile::tempdir().unwrap();
    let mut settings = Settings::for_database(url.clone());
    settings.admin_password = Some(ADMIN_PASSWORD.into());
    settings.ledger_key_file = files.path().join("ledger.key");
    settings.checkpoint_dir = files.path().join("checkpoints");
    let app = Application::build(settings, Clock::system()).await.unwrap();
    let base = format!("http://{}", app.local_addr());
    let state = app.state().clone();
    tokio::spawn(app.run_until(std::future::pending()));
    BenchApp {
        base,
        state,
        database_url: url,
        files,
        _db: db,
    }
}

/// The release binary serving `app`'s database as a process of its own,
/// with its default logging (`info`, text) to a file: the load generator
/// (this process) is outside the server, as `wrk` would be.
pub struct ServerProcess {
    child: Child,
    pub base: String,
    pub log: PathBuf,
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `target/release/celltrail serve` on `app`'s database and waits
/// until it answers.
pub async fn spawn_binary(app: &BenchApp) -> ServerProcess {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log = log_dir().join(format!("binary-{port}.log"));
    let mut command = Command::new(env!("CARGO_BIN_EXE_celltrail"));
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("DATABASE_URL", &app.database_url)
        .env(
            "CELLTRAIL_LEDGER_KEY_FILE",
            app.files.path().join("ledger.key"),
        )
        .env(
            "CELLTRAIL_CHECKPOINT_DIR",
            app.files.path().join("checkpoints"),
        )
        .env("CELLTRAIL_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap());
    if !logging() {
        command.env("RUST_LOG", "off");
    }
    let child = command.spawn().expect("target/release/celltrail starts");
    let server = ServerProcess {
        child,
        base: format!("http://127.0.0.1:{port}"),
        log,
    };
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = http.get(format!("{}/healthz", server.base)).send().await
            && r.status().is_success()
        {
            return server;
        }
        assert!(
            Instant::now() < deadline,
            "the binary did not serve within a minute:\n{}",
            std::fs::read_to_string(&server.log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
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

/// A request the load generator sends, given its client and the server's
/// base URL.
pub type MakeRequest = Arc<dyn Fn(&reqwest::Client, &str) -> reqwest::RequestBuilder + Send + Sync>;

/// One path measured: what it is called, the status every answer must
/// have, and how to make its request.
#[derive(Clone)]
pub struct Load {
    pub label: &'static str,
    pub expect: u16,
    pub make: MakeRequest,
}

impl Load {
    pub fn new(
        label: &'static str,
        expect: u16,
        make: impl Fn(&reqwest::Client, &str) -> reqwest::RequestBuilder + Send + Sync + 'static,
    ) -> Load {
        Load {
            label,
            expect,
            make: Arc::new(make),
        }
    }
}

/// `rounds` rounds of every load in turn against the server at `base`,
/// each for `round` with `connections` clients (alternating, so the
/// machine's noise hits all); the reports by load, then by round.
pub async fn alternate(
    http: &reqwest::Client,
    base: &str,
    loads: &[Load],
    connections: usize,
    round: Duration,
    rounds: usize,
) -> Vec<Vec<LoadReport>> {
    let mut reports = vec![Vec::new(); loads.len()];
    for _ in 0..rounds {
        for (load, reports) in loads.iter().zip(&mut reports) {
            let (http, base, make) = (http.clone(), base.to_owned(), load.make.clone());
            let report = closed_loop(load.label, connections, round, load.expect, move || {
                make(&http, &base)
            })
            .await;
            println!("  {report}");
            reports.push(report);
        }
    }
    reports
}

/// The median of `values` and their range: `0.31 (0.28–0.35)`.
pub fn spread(values: &[f64]) -> String {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    format!(
        "{median:.2} ({:.2}–{:.2})",
        sorted[0],
        sorted[sorted.len() - 1]
    )
}

/// Per round, `f(measured) ÷ f(baseline)`.
pub fn ratios(
    measured: &[LoadReport],
    baseline: &[LoadReport],
    f: impl Fn(&LoadReport) -> f64,
) -> Vec<f64> {
    measured
        .iter()
        .zip(baseline)
        .map(|(m, b)| f(m) / f(b))
        .collect()
}

/// Throughput and latency ratios of `measured` to `baseline`, round by
/// round: medians with their range.
pub fn compare(name: &str, measured: &[LoadReport], baseline: &[LoadReport]) -> String {
    format!(
        "{name}: requests/s {}×, p50 {}×, p99 {}×",
        spread(&ratios(measured, baseline, |r| r.per_second)),
        spread(&ratios(measured, baseline, |r| r.p50.as_secs_f64())),
        spread(&ratios(measured, baseline, |r| r.p99.as_secs_f64())),
    )
}
