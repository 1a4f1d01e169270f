//! Importing a bank (issue 16): 100,000 vials (`BENCH_IMPORT_VIALS`) in
//! 1,000 lots of 100, stored in 9×9 boxes, ten boxes to a rack and ten
//! racks to a tank, imported into a fresh SQLite database with the
//! service the command line calls (`services::imports::import_file`:
//! every row checked against the file and the database, then written in
//! chunks of 5,000 vials with every record's custody events). The issue's
//! bar: under 60 s.
//!
//! The baseline, measured in the same run on a second fresh database: the
//! same rows (storage units, donors, donations, lots, vials) inserted with
//! plain batched inserts in one transaction, and each vial's two events
//! (frozen, stored) appended with `ledger::append_many`: what writing the
//! records costs without reading, checking or the other events.
//!
//! `cargo bench --bench import`.

mod support;

use std::time::Instant;

use sea_orm::{EntityTrait, IntoActiveModel};
use serde_json::json;

use celltrail::domain::accounts::Role;
use celltrail::domain::import::sample::Sample;
use celltrail::entities::{donation, donor, lot, storage_unit, vial};
use celltrail::services::imports::{self, DEFAULT_CHUNK_VIALS, Outcome};
use celltrail::services::ledger::{self, NewEvent};
use celltrail::services::signatures::{self, SignatureInput};
use celltrail::services::{Actor, accounts};
use celltrail::state::AppState;

use support::spawn_sqlite;

const BAR_SECONDS: f64 = 60.0;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run());
}

async fn run() {
    let vials: usize = std::env::var("BENCH_IMPORT_VIALS")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(100_000);
    let lots = (vials / 100).max(1);
    let app = spawn_sqlite().await;
    let state = &app.state;
    let system = Actor::system("bench");
    for (username, role) in [("lab.bench", "lab"), ("qa.bench", "quality")] {
        accounts::create(
            state,
            &system,
            accounts::NewAccount {
                username,
                full_name: username,
                role,
                password: "bench-password-for-imports",
            },
        )
        .await
        .unwrap();
    }
    let lab = imports::person(state, "lab.bench", Role::Lab)
        .await
        .unwrap()
        .actor();
    let signer = imports::person(state, "qa.bench", Role::Quality)
        .await
        .unwrap();
    let signature = signatures::verify(
        state,
        &signer,
        &SignatureInput {
            password: "bench-password-for-imports".into(),
            meaning: "accepted for import".into(),
        },
    )
    .await
    .unwrap();
    let made = Instant::now();
    let text = Sample::new(lots, 100, state.clock.now()).csv();
    println!(
        "file: {} rows, {:.1} MB, generated in {:.1} s",
        lots * 100,
        text.len() as f64 / 1e6,
        made.elapsed().as_secs_f64()
    );

    let started = Instant::now();
    let outcome = imports::import_file(
        state,
        &lab,
        &signature,
        imports::FileImport {
            bytes: text.as_bytes(),
            file_name: Some("bench.csv"),
            release: false,
            chunk_vials: DEFAULT_CHUNK_VIALS,
            site: None,
        },
        |p| {
            if p.chunks_done % 5 == 0 || p.chunks_done == p.chunks_total {
                println!(
                    "  chunk {}/{}: {} vials",
                    p.chunks_done, p.chunks_total, p.rows_done
                );
            }
        },
    )
    .await
    .unwrap();
    let import_seconds = started.elapsed().as_secs_f64();
    let Outcome::Imported(_, summary) = outcome else {
        panic!("a fresh database imports");
    };
    println!(
        "import: {} vials, {} lots, {} storage units in {import_seconds:.1} s ({:.0} vials/s)",
        summary.vials,
        summary.lots,
        summary.storage_units,
        summary.vials as f64 / import_seconds
    );

    let baseline_seconds = baseline(state).await;
    println!(
        "baseline (the same rows with plain batched inserts, each vial's two events appended): {baseline_seconds:.1} s"
    );
    println!(
        "ratio import / baseline: {:.2}×; the bar: under {BAR_SECONDS} s: {}",
        import_seconds / baseline_seconds,
        if import_seconds < BAR_SECONDS {
            "met"
        } else {
            "MISSED"
        }
    );
}

/// The imported rows written again into a fresh database, as plainly as
/// the engine allows; seconds taken.
async fn baseline(from: &AppState) -> f64 {
    let db = from.db.conn();
    let units = storage_unit::Entity::find().all(db).await.unwrap();
    let donors = donor::Entity::find().all(db).await.unwrap();
    let donations = donation::Entity::find().all(db).await.unwrap();
    let lots = lot::Entity::find().all(db).await.unwrap();
    let vials = vial::Entity::find().all(db).await.unwrap();
    let target = spawn_sqlite().await;
    let state = &target.state;
    let actor = Actor::system("bench");
    let started = Instant::now();
    let txn = state.db.write().await.unwrap();
    macro_rules! insert_all {
        ($entity:ty, $rows:expr) => {
            for part in $rows.chunks(1000) {
                <$entity>::insert_many(part.iter().map(|m| m.clone().into_active_model()))
                    .exec_without_returning(&txn)
                    .await
                    .unwrap();
            }
        };
    }
    // tanks, racks, boxes: parents first
    let mut ordered = units.clone();
    ordered.sort_by_key(|u| match u.kind.as_str() {
        "tank" => 0,
        "rack" => 1,
        _ => 2,
    });
    insert_all!(storage_unit::Entity, ordered);
    insert_all!(donor::Entity, donors);
    insert_all!(donation::Entity, donations);
    insert_all!(lot::Entity, lots);
    insert_all!(vial::Entity, vials);
    let events: Vec<NewEvent> = vials
        .iter()
        .flat_map(|v| {
            [
                NewEvent::new("vial.frozen", "vial", v.id).details(json!({
                    "code": v.code, "lot_id": v.lot_id, "status": v.status,
                    "cells_per_vial": v.cells_per_vial, "volume_ul": v.volume_ul,
                })),
                NewEvent::new("vial.stored", "vial", v.id).details(json!({
                    "code": v.code, "box_id": v.box_id, "position": v.position,
                })),
            ]
        })
        .collect();
    ledger::append_many(&txn, &actor, state.clock.now(), events)
        .await
        .unwrap();
    txn.commit().await.unwrap();
    started.elapsed().as_secs_f64()
}
