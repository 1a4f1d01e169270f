//! Custody writes and ledger verification on SQLite (a file, WAL,
//! `synchronous=FULL`, exactly as `celltrail serve` opens it), and custody
//! writes on PostgreSQL, in one run:
//!
//! 1. plain single-row INSERT commits through the same sea-orm connection
//!    (the baseline) against custody writes: a vial moved between two box
//!    positions through `services::vials::store`, each its own transaction
//!    with its state change and its ledger event. Rounds alternate so
//!    machine noise hits both.
//! 2. verifying a ledger of `BENCH_EVENTS` (default 1,000,000) events, as
//!    `verify-audit` does (the chain, and the events replayed against the
//!    tables), against reading the same events row by row through sea-orm
//!    (how verification read them before it read SQLite a page per query)
//!    and against the chain alone. The filler is vial moves,
//!    the commonest event, each with the details the replay reads, ending
//!    where the table says the vial is.
//!
//! With `CELLTRAIL_BENCH_PG_URL` (or `CELLTRAIL_TEST_PG_URL`) naming a
//! PostgreSQL server, the moves are measured there too, against plain
//! INSERT commits on the same database: a fresh database is created for the
//! run and dropped after.
//!
//! `cargo bench --bench custody`. `BENCH_SECONDS` sets a round (default 3).

mod support;

use std::time::{Duration, Instant};

use chrono::Utc;
use sea_orm::{ColumnTrait, Statement};
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::json;
use uuid::Uuid;

use celltrail::clock::Clock;
use celltrail::config::Settings;
use celltrail::domain::storage::StorageKind;
use celltrail::entities::custody_event;
use celltrail::services::ledger::{self, NewEvent};
use celltrail::services::{Actor, donations, donors, lots, storage, vials};
use celltrail::state::AppState;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run());
}

async fn run() {
    let seconds: u64 = env_or("BENCH_SECONDS", 3);
    let events: u64 = env_or("BENCH_EVENTS", 1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("bench.db").display()
    );
    let state = celltrail::open(Settings::for_database(url), Clock::system())
        .await
        .unwrap();
    let actor = Actor::system("bench");
    let (vial_id, box_id) = one_stored_vial(&state, &actor).await;
    let round = Duration::from_secs(seconds);
    println!("SQLite file, WAL, synchronous=FULL; {seconds} s rounds, one writer");
    moves_against_inserts(&state, &actor, vial_id, box_id, round).await;

    let pg = std::env::var("CELLTRAIL_BENCH_PG_URL")
        .or_else(|_| std::env::var("CELLTRAIL_TEST_PG_URL"))
        .ok();
    match pg {
        Some(server) => {
            let app = support::spawn_postgres(&server).await;
            let (vial_id, box_id) = one_stored_vial(&app.state, &actor).await;
            println!("PostgreSQL (a fresh database); {seconds} s rounds, one writer");
            moves_against_inserts(&app.state, &actor, vial_id, box_id, round).await;
        }
        None => println!("PostgreSQL: skipped (set CELLTRAIL_BENCH_PG_URL)\n"),
    }

    let have = ledger::verify(&state.db).await.unwrap().events;
    fill_ledger(&state, &actor, vial_id, box_id, events.saturating_sub(have)).await;
    let mut reads = Vec::new();
    let mut chains = Vec::new();
    let mut verifies = Vec::new();
    let mut seconds_1m = Vec::new();
    let mut rows = 0;
    for _ in 0..3 {
        let started = Instant::now();
        let read = read_all(&state).await;
        reads.push(read as f64 / started.elapsed().as_secs_f64());
        let started = Instant::now();
        let chain = ledger::verify_chain(&state.db).await.unwrap();
        chains.push(chain.events as f64 / started.elapsed().as_secs_f64());
        assert!(chain.ok, "the benchmark's own chain verifies");
        let started = Instant::now();
        let report = ledger::verify(&state.db).await.unwrap();
        let took = started.elapsed().as_secs_f64();
        verifies.push(report.events as f64 / took);
        seconds_1m.push(took * 1e6 / report.events as f64);
        assert!(
            report.ok,
            "the benchmark's own ledger verifies: {:?}",
            report.problems()
        );
        assert_eq!(report.events, read);
        rows = report.replay.as_ref().map_or(0, |r| r.rows_compared);
    }
    for figures in [&mut reads, &mut chains, &mut verifies, &mut seconds_1m] {
        figures.sort_by(f64::total_cmp);
    }
    println!(
        "ledger of {} events ({rows} rows compared)\nread row by row        {:>9.0} events/s\nchain only             {:>9.0} events/s\nverify (chain+replay)  {:>9.0} events/s\nverify ÷ row-by-row read:  {:.2}\n1M events verify in {:.2} s (target < 5 s)",
        events.max(have),
        reads[1],
        chains[1],
        verifies[1],
        verifies[1] / reads[1],
        seconds_1m[1]
    );
}

/// Plain INSERT commits against vial moves on the state's database, in
/// three alternating rounds; prints each and the median ratio.
async fn moves_against_inserts(
    state: &AppState,
    actor: &Actor,
    vial_id: Uuid,
    box_id: Uuid,
    round: Duration,
) {
    let key = match state.db.backend() {
        DbBackend::Postgres => "BIGSERIAL",
        _ => "INTEGER",
    };
    state
        .db
        .conn()
        .execute_unprepared(&format!(
            "CREATE TABLE bench_plain (id {key} PRIMARY KEY, note TEXT NOT NULL)"
        ))
        .await
        .unwrap();
    let mut ratios = Vec::new();
    for _ in 0..3 {
        let plain = plain_inserts(state, round).await;
        let in_txn = inserts_in_write_transactions(state, round).await;
        let custody = custody_writes(state, actor, vial_id, box_id, round).await;
        println!(
            "plain INSERT commits   {plain:>8.0}/s\n  (the same INSERT in celltrail's write transaction: {in_txn:.0}/s)\ncustody writes (move)  {custody:>8.0}/s   ({:.0} % of plain)",
            100.0 * custody / plain
        );
        ratios.push(custody / plain);
    }
    ratios.sort_by(f64::total_cmp);
    println!(
        "custody writes ÷ plain INSERT commits: median {:.2} (rounds {:.2}–{:.2}; target ≥ 0.60)\n",
        ratios[1], ratios[0], ratios[2]
    );
}

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// A donor, a donation, a lot frozen into one vial, and a box with the vial
/// in A1: everything a move needs, made through the services.
async fn one_stored_vial(state: &AppState, actor: &Actor) -> (Uuid, Uuid) {
    let now = Utc::now();
    let day = chrono::Duration::days(1);
    let donor = donors::register(state, actor, "BENCH-1", now - day * 3)
        .await
        .unwrap();
    let donation = donations::create(state, actor, donor.donor.id, now - day * 2, now - day * 2)
        .await
        .unwrap();
    let lot = lots::create(
        state,
        actor,
        lots::NewLot {
            donation_id: donation.id,
            product_code: "S1395",
            passage: 3,
            manufactured_at: now - day,
            expires_at: now + day * 365,
            site_id: None,
        },
    )
    .await
    .unwrap();
    let (_, frozen) = lots::freeze(
        state,
        actor,
        lot.lot.id,
        lots::Freezing {
            vial_count: 1,
            cells_per_vial: 10_000_000,
            volume_ul: 1_000,
            frozen_at: now,
        },
    )
    .await
    .unwrap();
    let unit = |name, kind, parent_id, size: Option<i32>| storage::NewUnit {
        name,
        kind,
        parent_id,
        rows: size,
        cols: size,
        site_id: None,
    };
    let tank = storage::create(state, actor, unit("T1", StorageKind::Tank, None, None))
        .await
        .unwrap();
    let rack = storage::create(
        state,
        actor,
        unit("R1", StorageKind::Rack, Some(tank.id), None),
    )
    .await
    .unwrap();
    let the_box = storage::create(
        state,
        actor,
        unit("B1", StorageKind::Box, Some(rack.id), Some(9)),
    )
    .await
    .unwrap();
    vials::store(state, actor, frozen[0].id, the_box.id, "A1")
        .await
        .unwrap();
    (frozen[0].id, the_box.id)
}

async fn plain_inserts(state: &AppState, round: Duration) -> f64 {
    let conn = state.db.conn();
    let deadline = Instant::now() + round;
    let started = Instant::now();
    let mut done = 0u64;
    while Instant::now() < deadline {
        conn.execute_raw(Statement::from_sql_and_values(
            state.db.backend(),
            "INSERT INTO bench_plain (note) VALUES ($1)",
            ["vial moved".into()],
        ))
        .await
        .unwrap();
        done += 1;
    }
    done as f64 / started.elapsed().as_secs_f64()
}

/// The baseline INSERT, but inside `Db::write` (BEGIN [IMMEDIATE] … COMMIT),
/// for context: the cost of the transaction around every custody write.
async fn inserts_in_write_transactions(state: &AppState, round: Duration) -> f64 {
    let deadline = Instant::now() + round;
    let started = Instant::now();
    let mut done = 0u64;
    while Instant::now() < deadline {
        let txn = state.db.write().await.unwrap();
        txn.execute_raw(Statement::from_sql_and_values(
            state.db.backend(),
            "INSERT INTO bench_plain (note) VALUES ($1)",
            ["vial moved".into()],
        ))
        .await
        .unwrap();
        txn.commit().await.unwrap();
        done += 1;
    }
    done as f64 / started.elapsed().as_secs_f64()
}

async fn custody_writes(
    state: &AppState,
    actor: &Actor,
    vial_id: Uuid,
    box_id: Uuid,
    round: Duration,
) -> f64 {
    let deadline = Instant::now() + round;
    let started = Instant::now();
    let mut done = 0u64;
    while Instant::now() < deadline {
        let to = if done.is_multiple_of(2) { "B2" } else { "A1" };
        vials::store(state, actor, vial_id, box_id, to)
            .await
            .unwrap();
        done += 1;
    }
    // back where every round starts
    if !done.is_multiple_of(2) {
        vials::store(state, actor, vial_id, box_id, "A1")
            .await
            .unwrap();
    }
    done as f64 / started.elapsed().as_secs_f64()
}

/// Appends vial moves between A1 and B2 in batches of 1,000 per
/// transaction, as `vials::store` writes them, ending in A1 where the table
/// has the vial.
async fn fill_ledger(state: &AppState, actor: &Actor, vial_id: Uuid, box_id: Uuid, count: u64) {
    let started = Instant::now();
    let count = count - count % 2;
    let code = celltrail::entities::vial::Entity::find_by_id(vial_id)
        .one(state.db.conn())
        .await
        .unwrap()
        .unwrap()
        .code;
    let mut left = count;
    while left > 0 {
        let batch = left.min(1_000);
        let txn = state.db.write().await.unwrap();
        let events = (0..batch)
            .map(|n| {
                let (from, to) = if (count - left + n).is_multiple_of(2) {
                    ("A1", "B2")
                } else {
                    ("B2", "A1")
                };
                NewEvent::new("vial.moved", "vial", vial_id)
                    .moved(
                        Some(format!("T1 / R1 / B1 {from}")),
                        Some(format!("T1 / R1 / B1 {to}")),
                    )
                    .details(json!({
                        "code": code,
                        "status": "quarantine",
                        "from_box_id": box_id,
                        "from_position": from,
                        "box_id": box_id,
                        "position": to,
                    }))
            })
            .collect();
        ledger::append_many(&txn, actor, state.clock.now(), events)
            .await
            .unwrap();
        txn.commit().await.unwrap();
        left -= batch;
    }
    println!(
        "appended {count} events in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// Reads every event row by row through sea-orm, without hashing.
async fn read_all(state: &AppState) -> u64 {
    let mut after = i64::MIN;
    let mut total = 0u64;
    loop {
        let batch = custody_event::Entity::find()
            .filter(custody_event::Column::Seq.gt(after))
            .order_by_asc(custody_event::Column::Seq)
            .limit(10_000)
            .all(state.db.conn())
            .await
            .unwrap();
        let Some(last) = batch.last() else { break };
        after = last.seq;
        total += batch.len() as u64;
    }
    total
}
