//! Dose orders with vial reservation under 8 concurrent clients, on SQLite
//! and on PostgreSQL, and the calculator's latency, each against a baseline
//! measured in the same run on the same database:
//!
//! - `POST /api/v1/doses` (each a new patient's first dose: protocol,
//!   patient lock, schedule, weight, lot choice, reservation of 2 vials,
//!   dose row, 3 ledger events) against plain single-row INSERT commits
//!   through the same pool, 8 at a time;
//! - `POST /api/v1/doses/{id}/thaw` (the post-thaw counts of the doses the
//!   orders round reserved: every check of the counts, the preparation, the
//!   vials thawed and out of storage, the counts and ledger events) against
//!   the same INSERT commits;
//! - `POST /api/v1/dose-calculations` (a patient's latest weight) p50/p99
//!   against `GET /healthz` p50/p99.
//!
//! `cargo bench --bench doses`. PostgreSQL runs when
//! `CELLTRAIL_BENCH_PG_URL` (or `CELLTRAIL_TEST_PG_URL`) names a server; a
//! fresh database is created and dropped. `BENCH_SECONDS` (default 3),
//! `BENCH_PATIENTS` (default 8000) size the run.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use futures::future::join_all;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use support::clinic::{Staff, enrol_weighed, released_lot, staff};
use support::{BenchApp, client, closed_loop, spawn_postgres, spawn_sqlite};

const CLIENTS: usize = 8;
/// Each round is cut into this many slices, alternating with the baseline.
const SLICES: u32 = 6;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run());
}

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

async fn run() {
    let seconds = env_or("BENCH_SECONDS", 3);
    let patients = env_or("BENCH_PATIENTS", 8000) as usize;
    let round = Duration::from_secs(seconds);
    let app = spawn_sqlite().await;
    bench(
        "SQLite (file, WAL, synchronous=FULL)",
        &app,
        patients,
        round,
    )
    .await;
    let pg = std::env::var("CELLTRAIL_BENCH_PG_URL")
        .or_else(|_| std::env::var("CELLTRAIL_TEST_PG_URL"))
        .ok();
    match pg {
        Some(url) => {
            let app = spawn_postgres(&url).await;
            bench("PostgreSQL", &app, patients, round).await;
        }
        None => println!("\nPostgreSQL: skipped (set CELLTRAIL_BENCH_PG_URL)"),
    }
}

async fn bench(label: &str, app: &BenchApp, patients: usize, round: Duration) {
    println!("\n{label}: {CLIENTS} clients, {} s rounds", round.as_secs());
    let http = client(64);
    let tokens = staff(app, &http).await;
    let started = Instant::now();
    released_lot(app, &http, &tokens, patients * 2).await;
    let ids = enrol(app, &http, &tokens, patients).await;
    println!(
        "set up {patients} weighed patients and {} vials in {:.1} s",
        patients * 2,
        started.elapsed().as_secs_f64()
    );

    // The baseline: plain single-row INSERT commits, 8 at a time. The
    // machines are shared and noisy, so the baseline and each measured
    // path run in alternating slices of the round: whatever the machine
    // does to one, it does to the other.
    let conn = app.state.db.conn().clone();
    conn.execute_unprepared("CREATE TABLE bench_plain (id BIGINT PRIMARY KEY, note TEXT NOT NULL)")
        .await
        .unwrap();
    let counter = Arc::new(AtomicUsize::new(0));
    let slice = round / SLICES;

    // dose orders: every request a different patient
    let next = Arc::new(AtomicUsize::new(0));
    let ids = Arc::new(ids);
    let (mut plain, mut orders) = (Tally::default(), Tally::default());
    let mut order_ratios = Vec::new();
    for _ in 0..SLICES {
        let baseline = insert_commits(&conn, &counter, slice).await;
        let baseline_rate = baseline.per_second;
        plain.add(baseline);
        let (c, n, list, base, token) = (
            http.clone(),
            next.clone(),
            ids.clone(),
            app.base.clone(),
            tokens.pharmacist.clone(),
        );
        let measured = closed_loop("POST /api/v1/doses", CLIENTS, slice, 201, move || {
            let i = n.fetch_add(1, Ordering::Relaxed);
            let patient = list.get(i).cloned().unwrap_or_default();
            c.post(format!("{base}/api/v1/doses"))
                .bearer_auth(&token)
                .json(&json!({ "patient_id": patient }))
        })
        .await;
        order_ratios.push(measured.per_second / baseline_rate.max(f64::MIN_POSITIVE));
        orders.add(measured);
    }
    println!(
        "plain INSERT commits   {:>8.0}/s\nPOST /api/v1/doses     {:>8.0}/s ({} orders, {} errors)",
        plain.rate(),
        orders.rate(),
        orders.requests,
        orders.errors
    );
    if next.load(Ordering::Relaxed) > ids.len() {
        println!("  (ran out of patients: raise BENCH_PATIENTS; the rate is still valid)");
    }
    println!(
        "dose orders ÷ plain INSERT commits: {:.2} over the round; by slice median {} (target ≥ 0.50)",
        orders.rate() / plain.rate(),
        spread(&mut order_ratios)
    );

    // thaws: every request the post-thaw counts of one reserved dose, until
    // the slices end or every dose the orders reserved is thawed
    let reserved = Arc::new(reserved_doses(app).await);
    let taken = Arc::new(AtomicUsize::new(0));
    let (mut plain, mut thaws) = (Tally::default(), Tally::default());
    for _ in 0..SLICES {
        if taken.load(Ordering::Relaxed) >= reserved.len() {
            break;
        }
        plain.add(insert_commits(&conn, &counter, slice).await);
        let (c, base, token) = (http.clone(), app.base.clone(), tokens.pharmacist.clone());
        thaws.add(
            drain(
                "POST /api/v1/doses/{id}/thaw",
                CLIENTS,
                slice,
                reserved.clone(),
                taken.clone(),
                move |(dose, vials): &(String, Vec<String>)| {
                    let counts: Vec<Value> = vials
                        .iter()
                        .map(|v| json!({ "vial_id": v, "viable_cells_per_ml": 16_000_000, "viability_pct": "91.5" }))
                        .collect();
                    c.post(format!("{base}/api/v1/doses/{dose}/thaw"))
                        .bearer_auth(&token)
                        .json(&json!({ "vials": counts, "thawed_at": Utc::now() }))
                },
            )
            .await,
        );
    }
    println!(
        "plain INSERT commits   {:>8.0}/s\nPOST /api/v1/doses/{{id}}/thaw {:>8.0}/s ({} thaws of {} reserved doses, {} errors)",
        plain.rate(),
        thaws.rate(),
        thaws.requests,
        reserved.len(),
        thaws.errors
    );
    println!(
        "thaws ÷ plain INSERT commits: {:.2}",
        thaws.rate() / plain.rate()
    );
    let report = celltrail::services::ledger::verify(&app.state.db)
        .await
        .unwrap();
    assert!(report.ok, "the ledger verifies after the run");

    // the calculator against the framework
    let (c, base) = (http.clone(), app.base.clone());
    let health = closed_loop("GET /healthz", CLIENTS, round, 200, move || {
        c.get(format!("{base}/healthz"))
    })
    .await;
    let (c, base, token, list) = (
        http.clone(),
        app.base.clone(),
        tokens.pharmacist.clone(),
        ids.clone(),
    );
    let k = Arc::new(AtomicUsize::new(0));
    let calc = closed_loop(
        "POST /api/v1/dose-calculations",
        CLIENTS,
        round,
        200,
        move || {
            let i = k.fetch_add(1, Ordering::Relaxed) % list.len();
            c.post(format!("{base}/api/v1/dose-calculations"))
                .bearer_auth(&token)
                .json(&json!({ "patient_id": list[i] }))
        },
    )
    .await;
    println!("{health}\n{calc}");
    println!(
        "calculator ÷ healthz latency: p50 {:.1}×, p99 {:.1}×",
        calc.p50.as_secs_f64() / health.p50.as_secs_f64(),
        calc.p99.as_secs_f64() / health.p99.as_secs_f64()
    );
}

/// `median (min–max)` of the figures.
fn spread(figures: &mut [f64]) -> String {
    figures.sort_by(f64::total_cmp);
    match figures {
        [] => "none".to_owned(),
        [.., _] => format!(
            "{:.2} ({:.2}–{:.2}, {} slices)",
            figures[figures.len() / 2],
            figures[0],
            figures[figures.len() - 1],
            figures.len()
        ),
    }
}

/// Requests and time over several slices of a round.
#[derive(Default)]
struct Tally {
    requests: usize,
    errors: usize,
    seconds: f64,
}

impl Tally {
    fn add(&mut self, report: support::LoadReport) {
        self.requests += report.requests;
        self.errors += report.errors;
        self.seconds += report.requests as f64 / report.per_second.max(f64::MIN_POSITIVE);
    }

    fn rate(&self) -> f64 {
        self.requests as f64 / self.seconds.max(f64::MIN_POSITIVE)
    }
}

/// Plain single-row INSERT commits, `CLIENTS` at a time, for `slice`.
async fn insert_commits(
    conn: &sea_orm::DatabaseConnection,
    counter: &Arc<AtomicUsize>,
    slice: Duration,
) -> support::LoadReport {
    let deadline = Instant::now() + slice;
    let begun = Instant::now();
    let before = counter.load(Ordering::Relaxed);
    let writers = (0..CLIENTS).map(|_| {
        let (conn, counter) = (conn.clone(), counter.clone());
        async move {
            while Instant::now() < deadline {
                let n = counter.fetch_add(1, Ordering::Relaxed) as i64;
                let backend = conn.get_database_backend();
                conn.execute_raw(Statement::from_sql_and_values(
                    backend,
                    "INSERT INTO bench_plain (id, note) VALUES ($1, $2)",
                    [n.into(), "dose ordered".into()],
                ))
                .await
                .unwrap();
            }
        }
    });
    join_all(writers).await;
    let done = counter.load(Ordering::Relaxed) - before;
    support::LoadReport {
        label: "plain INSERT commits".into(),
        requests: done,
        errors: 0,
        per_second: done as f64 / begun.elapsed().as_secs_f64(),
        p50: Duration::ZERO,
        p99: Duration::ZERO,
    }
}

/// `clients` workers sending one request per item until the items or the
/// round run out; the rate is over the time it took.
async fn drain<T, F>(
    label: &str,
    clients: usize,
    round: Duration,
    items: Arc<Vec<T>>,
    next: Arc<AtomicUsize>,
    make: F,
) -> support::LoadReport
where
    T: Send + Sync + 'static,
    F: Fn(&T) -> reqwest::RequestBuilder + Send + Sync + 'static,
{
    let make = Arc::new(make);
    let deadline = Instant::now() + round;
    let started = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|_| {
            let (make, next, items) = (make.clone(), next.clone(), items.clone());
            tokio::spawn(async move {
                let (mut latencies, mut errors) = (Vec::new(), 0usize);
                while Instant::now() < deadline {
                    let Some(item) = items.get(next.fetch_add(1, Ordering::Relaxed)) else {
                        break;
                    };
                    let sent = Instant::now();
                    match make(item).send().await {
                        Ok(r) if r.status().is_success() => {
                            let _ = r.bytes().await;
                            latencies.push(sent.elapsed());
                        }
                        _ => errors += 1,
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    let (mut latencies, mut errors) = (Vec::new(), 0);
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
    support::LoadReport {
        label: label.to_owned(),
        requests: latencies.len(),
        errors,
        per_second: latencies.len() as f64 / elapsed.as_secs_f64(),
        p50: pick(0.50),
        p99: pick(0.99),
    }
}

/// Every reserved dose with its vials, as the orders round left them.
async fn reserved_doses(app: &BenchApp) -> Vec<(String, Vec<String>)> {
    use celltrail::entities::{dose, dose_vial};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let db = app.state.db.conn();
    let doses = dose::Entity::find()
        .filter(dose::Column::Status.eq("reserved"))
        .all(db)
        .await
        .unwrap();
    let links = dose_vial::Entity::find().all(db).await.unwrap();
    doses
        .into_iter()
        .map(|d| {
            let vials = links
                .iter()
                .filter(|l| l.dose_id == d.id && l.removed_at.is_none())
                .map(|l| l.vial_id.to_string())
                .collect();
            (d.id.to_string(), vials)
        })
        .collect()
}

/// `n` eligible patients weighed 40 kg, enrolled 8 at a time.
async fn enrol(app: &BenchApp, http: &reqwest::Client, t: &Staff, n: usize) -> Vec<String> {
    let next = Arc::new(AtomicUsize::new(0));
    let workers = (0..CLIENTS).map(|_| {
        let (http, base, token, next) = (
            http.clone(),
            app.base.clone(),
            t.clinician.clone(),
            next.clone(),
        );
        async move {
            let mut ids = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return ids;
                }
                let id = enrol_weighed(&http, &base, &token, &format!("B-{i:05}")).await;
                ids.push(id);
            }
        }
    });
    join_all(workers).await.into_iter().flatten().collect()
}
