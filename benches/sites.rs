//! Sites at scale (issue 15): does a site's work slow down when it shares
//! one database with nineteen others? Two databases are filled in the same
//! run, on the same server, and kept open together:
//!
//! - the baseline: one site's worth of data. Site A made `V` vials
//!   (`BENCH_SITE_VIALS`, default 100,000) in lots of 100 and shipped them
//!   all to site B in `V / 10` shipments of 10 vials, each received: the
//!   vials are in boxes at B, A's boxes they left are empty;
//! - twenty sites, each with the same: site `s` made `V` vials and shipped
//!   them to site `s + 1` (the last to the first), so every site holds
//!   the `V` vials of the one before it (`20 V` vials and `2 V`
//!   shipments in all: 2,000,000 and 200,000 at the default).
//!
//! The rows are inserted in bulk, as `benches/trace.rs` does, and agree
//! with one another: each lot has its donation and donor and is at the
//! site that made it; each vial is in a box of the site it was received
//! at, with that site as its own, and names the box at the sending site it
//! left; each shipment is `received`, with its packing list
//! (`shipment_items`: received, into that box and position) and its
//! pick-up and arrival hand-overs. Codes are real: a lot's DIN carries
//! its maker's facility number, so a site's lots and vials are together in
//! code order, and shipment numbers go up in turn across the sites. No
//! custody ledger is written for the bulk rows: the lists never read it.
//! PostgreSQL is given `ANALYZE` after loading, as autovacuum would within
//! a minute.
//!
//! What is timed, with the same services the routes call:
//!
//! - the lists of one site (`SiteScope::Only([site])`, an account of that
//!   site): the lots of the sending site, the vials (all, and available
//!   ones) of the receiving site, the shipments of the sending site; each
//!   its first page (50) and a deep page (the cursor a third of the way
//!   into that site's records). Baseline: A's lots and shipments, B's
//!   vials. Twenty sites: site 10's lots and shipments, site 11's vials.
//!   A site there sees exactly what A or B sees in the baseline, except
//!   that its shipments list holds both directions (`2 V / 10` rows,
//!   where A's holds `V / 10`): the comparison is, if anything, harder on
//!   the twenty sites;
//! - the receipt scan: in each database one shipment, `arrived` at the
//!   receiving site (B; site 11) with 40 vials in transit, is scanned in
//!   vial by vial into an empty box there by a lab account of that site
//!   (`services::shipments::scan_in`, ledgered as in service).
//!
//! Each figure is a median of 40 reads (or of the 40 scans), after warm-up
//! reads; the two databases are read in alternation, five reads at a time,
//! so that the machine's noise falls on both alike. The bar:
//! twenty sites within 1.5× of the baseline.
//!
//! `cargo bench --bench sites`: PostgreSQL at `BENCH_SITE_VIALS` when
//! `CELLTRAIL_BENCH_PG_URL` (or `CELLTRAIL_TEST_PG_URL`) is set, and SQLite
//! at `BENCH_SQLITE_SITE_VIALS` (default 10,000; `0` leaves SQLite out:
//! an SQLite install is one site, measured here for information).
//! `BENCH_EXPLAIN=1` prints the PostgreSQL plans of the lists' queries;
//! `BENCH_TRY_INDEXES=1` then adds `(site_id, code)` indexes to the two
//! databases (not to the migrations) and times the lists again.

mod support;

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, IntoActiveModel};
use uuid::Uuid;

use celltrail::domain::codes::VialCode;
use celltrail::domain::din::{Din, FacilityCode};
use celltrail::domain::donor::Eligibility;
use celltrail::domain::lifecycle::{LotStatus, VialStatus};
use celltrail::domain::paging::PageRequest;
use celltrail::domain::quantity::{Cells, Microlitres};
use celltrail::domain::shipment::{HandoverKind, ShipmentStatus};
use celltrail::domain::site::SiteKind;
use celltrail::domain::storage::StorageKind;
use celltrail::entities::{
    donation, donor, lot, shipment, shipment_handover, shipment_item, shipping_container, site,
    storage_unit, vial,
};
use celltrail::services::shipments::{self, ReceiptScanOutcome};
use celltrail::services::{Actor, accounts, lists, sites};
use celltrail::state::AppState;
use support::{BenchApp, spawn_postgres, spawn_sqlite};

const VIALS_PER_LOT: usize = 100;
const VIALS_PER_SHIPMENT: usize = 10;
const SHIPMENTS_PER_LOT: usize = VIALS_PER_LOT / VIALS_PER_SHIPMENT;
const LOTS_PER_BATCH: usize = 100;
const BOXES_PER_RACK: usize = 100;
const SITES: usize = 20;
const SCAN_VIALS: usize = 40;
const PAGE: u64 = 50;
/// Reads per figure, after `WARM_UP`, in rounds of `PER_ROUND` per database.
const READS: usize = 40;
const WARM_UP: usize = 5;
const PER_ROUND: usize = 5;
const BAR: f64 = 1.5;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run());
}

fn env_vials(name: &str, default: usize) -> usize {
    let vials = std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default);
    // whole lots, and enough of them for a deep page after the third
    match vials {
        0 => 0,
        v => (v / VIALS_PER_LOT).max(6) * VIALS_PER_LOT,
    }
}

async fn run() {
    let pg = std::env::var("CELLTRAIL_BENCH_PG_URL")
        .or_else(|_| std::env::var("CELLTRAIL_TEST_PG_URL"))
        .ok();
    let pg_vials = env_vials("BENCH_SITE_VIALS", 100_000);
    let sqlite_vials = env_vials("BENCH_SQLITE_SITE_VIALS", 10_000);
    let mut failed = Vec::new();
    if let Some(url) = &pg {
        let baseline = spawn_postgres(url).await;
        let many = spawn_postgres(url).await;
        failed.extend(compare("PostgreSQL", &baseline, &many, pg_vials).await);
    } else {
        println!("PostgreSQL: not measured (set CELLTRAIL_BENCH_PG_URL)");
    }
    if sqlite_vials > 0 {
        let baseline = spawn_sqlite().await;
        let many = spawn_sqlite().await;
        failed.extend(compare("SQLite", &baseline, &many, sqlite_vials).await);
    }
    if failed.is_empty() {
        println!("\nevery ratio within {BAR}×");
    } else {
        println!("\nover {BAR}×: {}", failed.join("; "));
    }
}

/// Fills both databases, times both, prints the table; returns what
/// missed the bar.
async fn compare(engine: &str, baseline: &BenchApp, many: &BenchApp, vials: usize) -> Vec<String> {
    println!("\n{engine}: {vials} vials a site");
    let base = load(engine, baseline, 1, vials).await;
    let wide = load(engine, many, SITES, vials).await;
    let mut rows = Vec::new();
    for case in LIST_CASES {
        for deep in [false, true] {
            let (b, w) = time_list(&baseline.state, &base, &many.state, &wide, case, deep).await;
            let page = if deep { "deep page" } else { "first page" };
            rows.push((format!("{case}, {page}"), b, w));
        }
    }
    let (b, w) = time_scans(&baseline.state, &base, &many.state, &wide).await;
    rows.push(("receipt scan (one vial)".into(), b, w));
    let explaining = std::env::var("BENCH_EXPLAIN").is_ok_and(|v| v == "1");
    if explaining && engine == "PostgreSQL" {
        explain(&many.state, &wide, "20 sites, as the migrations index").await;
    }
    // the indexes proposed for the lists, tried on these databases only
    let mut tried = Vec::new();
    if std::env::var("BENCH_TRY_INDEXES").is_ok_and(|v| v == "1") {
        for app in [baseline, many] {
            for sql in PROPOSED_INDEXES {
                app.state.db.conn().execute_unprepared(sql).await.unwrap();
            }
            if engine == "PostgreSQL" {
                app.state
                    .db
                    .conn()
                    .execute_unprepared("ANALYZE")
                    .await
                    .unwrap();
            }
        }
        for case in LIST_CASES {
            for deep in [false, true] {
                let (b, w) =
                    time_list(&baseline.state, &base, &many.state, &wide, case, deep).await;
                let page = if deep { "deep page" } else { "first page" };
                tried.push((format!("{case}, {page}"), b, w));
            }
        }
        if explaining && engine == "PostgreSQL" {
            explain(&many.state, &wide, "20 sites, with the proposed indexes").await;
        }
    }
    println!(
        "\n{engine}, {vials} vials a site: baseline (1 site's worth, {} vials) against {SITES} sites ({} vials)",
        vials + SCAN_VIALS,
        SITES * vials + SCAN_VIALS
    );
    println!(
        "  {:<32} {:>12} {:>12} {:>8}",
        "median of 40", "baseline", "20 sites", "ratio"
    );
    let mut failed = Vec::new();
    for (name, b, w) in rows {
        let ratio = w.as_secs_f64() / b.as_secs_f64();
        let over = ratio > BAR;
        println!(
            "  {name:<32} {:>9.3} ms {:>9.3} ms {:>7.2}×{}",
            b.as_secs_f64() * 1e3,
            w.as_secs_f64() * 1e3,
            ratio,
            if over { "  over the bar" } else { "" }
        );
        if over {
            failed.push(format!("{engine} {name} {ratio:.2}×"));
        }
    }
    if !tried.is_empty() {
        println!("  with the proposed indexes (not in the migrations):");
        for sql in PROPOSED_INDEXES {
            println!("    {sql}");
        }
        for (name, b, w) in tried {
            println!(
                "  {name:<32} {:>9.3} ms {:>9.3} ms {:>7.2}×",
                b.as_secs_f64() * 1e3,
                w.as_secs_f64() * 1e3,
                w.as_secs_f64() / b.as_secs_f64(),
            );
        }
    }
    failed
}

/// `BENCH_TRY_INDEXES=1`: what the lists would take with a site's records
/// in code order in one index (measured on the bench's databases only).
const PROPOSED_INDEXES: [&str; 3] = [
    "CREATE INDEX bench_lots_site_code ON lots (site_id, code)",
    "CREATE INDEX bench_vials_site_code ON vials (site_id, code)",
    "CREATE INDEX bench_vials_site_status_code ON vials (site_id, status, code)",
];

/// `BENCH_EXPLAIN=1` (PostgreSQL): the plans of the lists' queries as
/// `services::lists` writes them (first and deep page), and as they could
/// be written: the vials with `site_id = ANY(…)` ordered by site then code
/// (for one site, code order; the planner cannot drop the site from the
/// order, so only a `(site_id, code)` index gives it), the shipments as
/// two ordered scans, one a direction.
async fn explain(state: &AppState, loaded: &Loaded, label: &str) {
    use sea_orm::{DbBackend, Statement};
    let (sender, receiver) = (loaded.sender, loaded.receiver);
    let page = PAGE + 1;
    let mut queries = Vec::new();
    for (cursor, which) in [(None, "first page"), (Some(()), "deep page")] {
        let after = |c: &str| match cursor {
            Some(()) => format!(" AND code > '{c}'"),
            None => String::new(),
        };
        queries.push((
            format!("lots, {which}"),
            format!(
                "SELECT * FROM lots WHERE site_id IN ('{sender}'){} ORDER BY code LIMIT {page}",
                after(&loaded.lot_cursor)
            ),
        ));
        queries.push((
            format!("vials, {which}"),
            format!(
                "SELECT * FROM vials WHERE site_id IN ('{receiver}'){} ORDER BY code LIMIT {page}",
                after(&loaded.vial_cursor)
            ),
        ));
        queries.push((
            format!("available vials, {which}"),
            format!(
                "SELECT * FROM vials WHERE site_id IN ('{receiver}') AND status = 'available'{} \
                 ORDER BY code LIMIT {page}",
                after(&loaded.vial_cursor)
            ),
        ));
        queries.push((
            format!("vials, site = ANY, ordered by site then code, {which}"),
            format!(
                "SELECT * FROM vials WHERE site_id = ANY(ARRAY['{receiver}']::uuid[]){} \
                 ORDER BY site_id, code LIMIT {page}",
                after(&loaded.vial_cursor)
            ),
        ));
        queries.push((
            format!("available vials, site = ANY, ordered by site, status, code, {which}"),
            format!(
                "SELECT * FROM vials WHERE site_id = ANY(ARRAY['{receiver}']::uuid[]) \
                 AND status = 'available'{} \
                 ORDER BY site_id, status, code LIMIT {page}",
                after(&loaded.vial_cursor)
            ),
        ));
        queries.push((
            format!("shipments, {which}"),
            format!(
                "SELECT * FROM shipments WHERE (from_site_id IN ('{sender}') \
                 OR to_site_id IN ('{sender}')){} ORDER BY code LIMIT {page}",
                after(&loaded.shipment_cursor)
            ),
        ));
        queries.push((
            format!("shipments as two ordered scans, {which}"),
            format!(
                "SELECT * FROM ((SELECT * FROM shipments WHERE from_site_id IN ('{sender}'){c} \
                 ORDER BY code LIMIT {page}) UNION ALL (SELECT * FROM shipments \
                 WHERE to_site_id IN ('{sender}') AND NOT from_site_id IN ('{sender}'){c} \
                 ORDER BY code LIMIT {page})) AS both_ways ORDER BY code LIMIT {page}",
                c = after(&loaded.shipment_cursor)
            ),
        ));
    }
    println!("\n  plans, {label}:");
    for (name, sql) in queries {
        println!("  {name}:");
        let plan = state
            .db
            .conn()
            .query_all_raw(Statement::from_string(
                DbBackend::Postgres,
                format!("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {sql}"),
            ))
            .await
            .unwrap();
        for row in plan {
            let line: String = row.try_get("", "QUERY PLAN").unwrap();
            println!("    {line}");
        }
    }
}

const LIST_CASES: [&str; 4] = ["lots", "vials", "available vials", "shipments"];

/// What the timing needs to know of a filled database.
struct Loaded {
    /// The site whose lots and shipments are listed, sending the scanned
    /// shipment.
    sender: Uuid,
    /// The site whose vials are listed, receiving the scanned shipment.
    receiver: Uuid,
    /// Cursors a third of the way in: a lot of the sender, a vial at the
    /// receiver, a shipment of the sender.
    lot_cursor: String,
    vial_cursor: String,
    shipment_cursor: String,
    scan: ScanSetup,
}

struct ScanSetup {
    actor: Actor,
    shipment_id: Uuid,
    box_id: Uuid,
    codes: Vec<String>,
}

fn facility(site: usize) -> FacilityCode {
    FacilityCode::parse(&format!("B{:04}", site + 1)).unwrap()
}

fn lot_code(site: usize, lot: usize) -> String {
    let din = Din::new(facility(site), 26, lot as u32 + 1).unwrap();
    format!("{}-L01", din.compact())
}

fn shipment_code(number: usize) -> String {
    format!("SH-2026-{number:04}")
}

/// The shipment number of the `k`th shipment of `site`: numbers go up in
/// turn across the `sites`.
fn shipment_number(site: usize, k: usize, sites: usize) -> usize {
    k * sites + site + 1
}

/// Fills `app` with `sites` sites' worth (one: A shipping to B).
async fn load(engine: &str, app: &BenchApp, sites_made: usize, vials: usize) -> Loaded {
    let started = Instant::now();
    let state = &app.state;
    let (rows, loaded) = generate(state, sites_made, vials).await;
    if engine == "PostgreSQL" {
        state.db.conn().execute_unprepared("ANALYZE").await.unwrap();
    }
    let took = started.elapsed();
    println!(
        "  {engine}, {sites_made} site(s): {rows} rows in {:.1} s ({:.0} rows/s)",
        took.as_secs_f64(),
        rows as f64 / took.as_secs_f64()
    );
    loaded
}

async fn generate(state: &AppState, made: usize, vials: usize) -> (usize, Loaded) {
    let now = Utc::now();
    let day = chrono::Duration::days(1);
    let lots = vials / VIALS_PER_LOT;
    let system = Actor::system("generator");
    let receiver_account = accounts::create(
        state,
        &system,
        accounts::NewAccount {
            username: "receiver",
            full_name: "Receiving Lab",
            role: "lab",
            password: "receiver-password-for-benchmarks",
        },
    )
    .await
    .unwrap();
    // the sites: with one, A and the B it ships to
    let all_sites = if made == 1 { 2 } else { made };
    let destination = |s: usize| (s + 1) % all_sites;
    let mut site_ids = Vec::new();
    let mut tanks = Vec::new();
    let mut containers = Vec::new();
    let mut rows = 0usize;
    {
        let (mut site_rows, mut units, mut shippers) = (Vec::new(), Vec::new(), Vec::new());
        for s in 0..all_sites {
            let id = Uuid::now_v7();
            site_ids.push(id);
            site_rows.push(site::Model {
                id,
                name: format!("Site {}", facility(s).as_str()),
                kind: SiteKind::Combined,
                facility_code: facility(s).as_str().to_owned(),
                time_zone: "UTC".into(),
                created_at: now - day * 400,
            });
            let tank = Uuid::now_v7();
            tanks.push(tank);
            units.push(unit(
                tank,
                format!("Tank {}", facility(s).as_str()),
                StorageKind::Tank,
                None,
                id,
                now,
            ));
            let container = Uuid::now_v7();
            containers.push(container);
            shippers.push(shipping_container::Model {
                id: container,
                code: format!("DS-{}", facility(s).as_str()),
                site_id: id,
                labels_issued: 1,
                created_at: now - day * 400,
            });
        }
        // a sending site's shipper is where its last shipment went
        for (s, shipper) in shippers.iter_mut().enumerate().take(made) {
            shipper.site_id = site_ids[destination(s)];
        }
        rows += site_rows.len() + units.len() + shippers.len();
        let txn = state.db.write().await.unwrap();
        insert(&txn, site_rows).await;
        insert(&txn, units).await;
        insert(&txn, shippers).await;
        txn.commit().await.unwrap();
    }
    let user = receiver_account.id;
    for s in 0..made {
        let to = destination(s);
        let (from_site, to_site) = (site_ids[s], site_ids[to]);
        let fin = facility(s);
        let mut rack_out = None;
        let mut rack_in = None;
        for batch in (0..lots).collect::<Vec<_>>().chunks(LOTS_PER_BATCH) {
            let (mut donors, mut donations, mut lot_rows, mut units) =
                (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            let (mut vial_rows, mut shipment_rows, mut items, mut handovers) =
                (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            for &i in batch {
                if i % BOXES_PER_RACK == 0 {
                    let out = Uuid::now_v7();
                    let into = Uuid::now_v7();
                    let n = i / BOXES_PER_RACK;
                    units.push(unit(
                        out,
                        format!("Rack {n}"),
                        StorageKind::Rack,
                        Some(tanks[s]),
                        from_site,
                        now,
                    ));
                    units.push(unit(
                        into,
                        format!("Rack {} {n}", fin.as_str()),
                        StorageKind::Rack,
                        Some(tanks[to]),
                        to_site,
                        now,
                    ));
                    rack_out = Some(out);
                    rack_in = Some(into);
                }
                let din = Din::new(fin.clone(), 26, i as u32 + 1).unwrap();
                let donor_id = Uuid::now_v7();
                donors.push(donor::Model {
                    id: donor_id,
                    code: format!("{}-{i:06}", fin.as_str()),
                    consent_at: now - day * 300,
                    eligibility: Eligibility::Eligible,
                    eligibility_reason: None,
                    eligibility_decided_at: Some(now - day * 290),
                    eligibility_decided_by: Some(user),
                    created_at: now - day * 300,
                });
                let donation_id = Uuid::now_v7();
                donations.push(donation::Model {
                    id: donation_id,
                    donor_id,
                    din: din.compact(),
                    check_character: din.check_character().to_string(),
                    collected_at: now - day * 295,
                    received_at: now - day * 295,
                    created_at: now - day * 295,
                });
                let lot_id = Uuid::now_v7();
                lot_rows.push(lot_model(
                    lot_id,
                    donation_id,
                    &din,
                    VIALS_PER_LOT,
                    from_site,
                    now,
                ));
                let (box_out, box_in) = (Uuid::now_v7(), Uuid::now_v7());
                let box_name = format!("Box {i}");
                units.push(boxed(box_out, box_name.clone(), rack_out, from_site, now));
                units.push(boxed(box_in, box_name, rack_in, to_site, now));
                let mut lot_vials = Vec::with_capacity(VIALS_PER_LOT);
                for n in 0..VIALS_PER_LOT {
                    let position = position(n);
                    let mut v = vial_model(lot_id, &din, n, to_site, now);
                    v.box_id = Some(box_in);
                    v.position = Some(position.clone());
                    v.previous_box_id = Some(box_out);
                    v.previous_position = Some(position);
                    lot_vials.push(v);
                }
                for k in 0..SHIPMENTS_PER_LOT {
                    let id = Uuid::now_v7();
                    let sent = now - day * 100 + chrono::Duration::minutes((i * 10 + k) as i64);
                    let arrived = sent + day;
                    shipment_rows.push(shipment::Model {
                        id,
                        code: shipment_code(shipment_number(s, i * SHIPMENTS_PER_LOT + k, made)),
                        from_site_id: from_site,
                        to_site_id: to_site,
                        container_id: containers[s],
                        status: ShipmentStatus::Received,
                        created_by: user,
                        created_at: sent,
                        sealed_at: Some(sent),
                        picked_up_at: Some(sent),
                        arrived_at: Some(arrived),
                        received_at: Some(arrived),
                    });
                    for v in &lot_vials[k * VIALS_PER_SHIPMENT..(k + 1) * VIALS_PER_SHIPMENT] {
                        items.push(shipment_item::Model {
                            shipment_id: id,
                            vial_id: v.id,
                            packed_at: sent,
                            received_at: Some(arrived),
                            received_by: Some(user),
                            box_id: v.box_id,
                            position: v.position.clone(),
                            missing_reason: None,
                        });
                    }
                    for (kind, at) in [
                        (HandoverKind::PickUp, sent),
                        (HandoverKind::Arrival, arrived),
                    ] {
                        handovers.push(shipment_handover::Model {
                            id: Uuid::now_v7(),
                            shipment_id: id,
                            kind,
                            party: "Courier, Cold Chain Ltd".into(),
                            recorded_by: user,
                            at,
                        });
                    }
                }
                vial_rows.extend(lot_vials);
            }
            rows += donors.len()
                + donations.len()
                + lot_rows.len()
                + units.len()
                + vial_rows.len()
                + shipment_rows.len()
                + items.len()
                + handovers.len();
            let txn = state.db.write().await.unwrap();
            insert(&txn, donors).await;
            insert(&txn, donations).await;
            insert(&txn, lot_rows).await;
            insert(&txn, units).await;
            insert(&txn, vial_rows).await;
            insert(&txn, shipment_rows).await;
            insert(&txn, items).await;
            insert(&txn, handovers).await;
            txn.commit().await.unwrap();
        }
        eprint!("\r  generated site {}/{made}", s + 1);
    }
    eprintln!();
    // the scanned shipment: the sender's extra lot of 40 vials, arrived
    let sender = if made == 1 { 0 } else { made / 2 };
    let receiver = destination(sender);
    let (from_site, to_site) = (site_ids[sender], site_ids[receiver]);
    let fin = facility(sender);
    let din = Din::new(fin.clone(), 26, lots as u32 + 1).unwrap();
    let donor_id = Uuid::now_v7();
    let donation_id = Uuid::now_v7();
    let lot_id = Uuid::now_v7();
    let source_box = Uuid::now_v7();
    let receipt_box = Uuid::now_v7();
    let container = Uuid::now_v7();
    let shipment_id = Uuid::now_v7();
    let sent = now - chrono::Duration::hours(30);
    let arrived = now - chrono::Duration::hours(2);
    let mut scan_vials = Vec::new();
    let mut items = Vec::new();
    for n in 0..SCAN_VIALS {
        let mut v = vial_model(lot_id, &din, n, from_site, now);
        v.status = VialStatus::InTransit;
        v.shipment_id = Some(shipment_id);
        v.previous_box_id = Some(source_box);
        v.previous_position = Some(position(n));
        items.push(shipment_item::Model {
            shipment_id,
            vial_id: v.id,
            packed_at: sent,
            received_at: None,
            received_by: None,
            box_id: None,
            position: None,
            missing_reason: None,
        });
        scan_vials.push(v);
    }
    let codes: Vec<String> = scan_vials.iter().map(|v| v.code.to_string()).collect();
    let txn = state.db.write().await.unwrap();
    insert(
        &txn,
        vec![donor::Model {
            id: donor_id,
            code: format!("{}-SCAN", fin.as_str()),
            consent_at: now - day * 300,
            eligibility: Eligibility::Eligible,
            eligibility_reason: None,
            eligibility_decided_at: Some(now - day * 290),
            eligibility_decided_by: Some(user),
            created_at: now - day * 300,
        }],
    )
    .await;
    insert(
        &txn,
        vec![donation::Model {
            id: donation_id,
            donor_id,
            din: din.compact(),
            check_character: din.check_character().to_string(),
            collected_at: now - day * 295,
            received_at: now - day * 295,
            created_at: now - day * 295,
        }],
    )
    .await;
    insert(
        &txn,
        vec![lot_model(
            lot_id,
            donation_id,
            &din,
            SCAN_VIALS,
            from_site,
            now,
        )],
    )
    .await;
    insert(
        &txn,
        vec![
            boxed(
                source_box,
                "Shipping source".into(),
                Some(tanks[sender]),
                from_site,
                now,
            ),
            boxed(
                receipt_box,
                "Receipt".into(),
                Some(tanks[receiver]),
                to_site,
                now,
            ),
        ],
    )
    .await;
    insert(&txn, scan_vials).await;
    insert(
        &txn,
        vec![shipping_container::Model {
            id: container,
            code: "DS-SCAN".into(),
            site_id: from_site,
            labels_issued: 1,
            created_at: now - day * 400,
        }],
    )
    .await;
    insert(
        &txn,
        vec![shipment::Model {
            id: shipment_id,
            code: shipment_code(made * lots * SHIPMENTS_PER_LOT + 1),
            from_site_id: from_site,
            to_site_id: to_site,
            container_id: container,
            status: ShipmentStatus::Arrived,
            created_by: user,
            created_at: sent,
            sealed_at: Some(sent),
            picked_up_at: Some(sent),
            arrived_at: Some(arrived),
            received_at: None,
        }],
    )
    .await;
    insert(&txn, items).await;
    insert(
        &txn,
        [
            (HandoverKind::PickUp, sent),
            (HandoverKind::Arrival, arrived),
        ]
        .into_iter()
        .map(|(kind, at)| shipment_handover::Model {
            id: Uuid::now_v7(),
            shipment_id,
            kind,
            party: "Courier, Cold Chain Ltd".into(),
            recorded_by: user,
            at,
        })
        .collect(),
    )
    .await;
    txn.commit().await.unwrap();
    rows += 2 * SCAN_VIALS + 9;
    sites::grant(state, &system, user, to_site).await.unwrap();
    let actor = Actor {
        id: Some(user),
        username: receiver_account.username.clone(),
        full_name: receiver_account.full_name.clone(),
        role: Some(receiver_account.role),
    };
    let third = lots / 3;
    let loaded = Loaded {
        sender: from_site,
        receiver: to_site,
        lot_cursor: lot_code(sender, third),
        vial_cursor: VialCode::new(&lot_code(sender, third), 50).to_string(),
        shipment_cursor: shipment_code(shipment_number(sender, third * SHIPMENTS_PER_LOT, made)),
        scan: ScanSetup {
            actor,
            shipment_id,
            box_id: receipt_box,
            codes,
        },
    };
    (rows, loaded)
}

fn unit(
    id: Uuid,
    name: String,
    kind: StorageKind,
    parent_id: Option<Uuid>,
    site_id: Uuid,
    now: DateTime<Utc>,
) -> storage_unit::Model {
    storage_unit::Model {
        id,
        name,
        kind,
        parent_id,
        rows: None,
        cols: None,
        created_at: now - chrono::Duration::days(400),
        site_id,
    }
}

/// A 10 × 10 box.
fn boxed(
    id: Uuid,
    name: String,
    parent_id: Option<Uuid>,
    site_id: Uuid,
    now: DateTime<Utc>,
) -> storage_unit::Model {
    storage_unit::Model {
        rows: Some(10),
        cols: Some(10),
        ..unit(id, name, StorageKind::Box, parent_id, site_id, now)
    }
}

/// The `n`th position of a 10 × 10 box, row by row.
fn position(n: usize) -> String {
    format!("{}{}", char::from(b'A' + (n / 10) as u8), n % 10 + 1)
}

fn lot_model(
    id: Uuid,
    donation_id: Uuid,
    din: &Din,
    vials: usize,
    site_id: Uuid,
    now: DateTime<Utc>,
) -> lot::Model {
    let day = chrono::Duration::days(1);
    lot::Model {
        id,
        donation_id,
        code: format!("{}-L01", din.compact()),
        din: din.compact(),
        product_code: "S1395".into(),
        passage: 3,
        manufactured_at: now - day * 290,
        expires_at: now + day * 400,
        status: LotStatus::Released,
        frozen_at: Some(now - day * 289),
        cells_per_vial: Some(Cells::parse(25_000_000).unwrap()),
        volume_ul: Some(Microlitres::parse(1_500).unwrap()),
        vial_count: Some(vials as i32),
        created_at: now - day * 290,
        site_id,
    }
}

/// The `n`th (0-based) vial of the lot of `din`, available, out of storage.
fn vial_model(lot_id: Uuid, din: &Din, n: usize, site_id: Uuid, now: DateTime<Utc>) -> vial::Model {
    let day = chrono::Duration::days(1);
    vial::Model {
        id: Uuid::now_v7(),
        lot_id,
        code: VialCode::new(&format!("{}-L01", din.compact()), n as u32 + 1),
        din: din.compact(),
        status: VialStatus::Available,
        cells_per_vial: Cells::parse(25_000_000).unwrap(),
        volume_ul: Microlitres::parse(1_500).unwrap(),
        frozen_at: now - day * 289,
        box_id: None,
        position: None,
        labels_issued: 1,
        created_at: now - day * 289,
        previous_box_id: None,
        previous_position: None,
        site_id,
        shipment_id: None,
        held_from: None,
    }
}

/// One read of `case` in a filled database: the number of items.
async fn read_list(state: &AppState, loaded: &Loaded, case: &str, deep: bool) -> usize {
    let at = |site: Uuid| lists::SiteScope::Only(vec![site]);
    let page = |cursor: &String| PageRequest {
        search: None,
        limit: PAGE,
        after: deep.then(|| cursor.clone()),
    };
    match case {
        "lots" => lists::lots(
            state,
            &at(loaded.sender),
            &Default::default(),
            &page(&loaded.lot_cursor),
        )
        .await
        .unwrap()
        .items
        .len(),
        "vials" => lists::vials(
            state,
            &at(loaded.receiver),
            &Default::default(),
            &page(&loaded.vial_cursor),
        )
        .await
        .unwrap()
        .items
        .len(),
        "available vials" => {
            let filter = lists::VialFilter {
                status: Some(VialStatus::Available),
                ..Default::default()
            };
            lists::vials(
                state,
                &at(loaded.receiver),
                &filter,
                &page(&loaded.vial_cursor),
            )
            .await
            .unwrap()
            .items
            .len()
        }
        _ => lists::shipments(
            state,
            &at(loaded.sender),
            None,
            &page(&loaded.shipment_cursor),
        )
        .await
        .unwrap()
        .items
        .len(),
    }
}

/// Medians of `READS` reads of one page in each database, read in turn.
async fn time_list(
    base_state: &AppState,
    base: &Loaded,
    wide_state: &AppState,
    wide: &Loaded,
    case: &str,
    deep: bool,
) -> (Duration, Duration) {
    let dbs = [(base_state, base), (wide_state, wide)];
    // the same page in both: full at the default scale (a small run may
    // have fewer lots than a page)
    let mut expected = None;
    for (state, loaded) in dbs {
        for _ in 0..WARM_UP {
            let items = read_list(state, loaded, case, deep).await;
            assert!(items > 0, "{case}: an empty page");
            assert_eq!(
                *expected.get_or_insert(items),
                items,
                "{case}: the same page size"
            );
        }
    }
    let expected = expected.unwrap();
    if expected < PAGE as usize {
        println!("  ({case}: {expected} items a page at this scale, not {PAGE})");
    }
    let mut times = [Vec::new(), Vec::new()];
    while times[1].len() < READS {
        for (k, (state, loaded)) in dbs.into_iter().enumerate() {
            for _ in 0..PER_ROUND {
                let started = Instant::now();
                let items = read_list(state, loaded, case, deep).await;
                times[k].push(started.elapsed());
                assert_eq!(items, expected, "{case}: the same page size");
            }
        }
    }
    (median(&mut times[0]), median(&mut times[1]))
}

/// The 40 vials of each database's arrived shipment scanned in, one of
/// each in turn; the medians.
async fn time_scans(
    base_state: &AppState,
    base: &Loaded,
    wide_state: &AppState,
    wide: &Loaded,
) -> (Duration, Duration) {
    let mut times = [Vec::new(), Vec::new()];
    for n in 0..SCAN_VIALS {
        for (k, (state, loaded)) in [(base_state, base), (wide_state, wide)]
            .into_iter()
            .enumerate()
        {
            let scan = &loaded.scan;
            let started = Instant::now();
            let done = shipments::scan_in(
                state,
                &scan.actor,
                scan.shipment_id,
                &format!("CT1:V:{}", scan.codes[n]),
                scan.box_id,
                &position(n),
            )
            .await
            .unwrap();
            times[k].push(started.elapsed());
            assert_eq!(done.outcome, ReceiptScanOutcome::Received);
        }
    }
    (median(&mut times[0]), median(&mut times[1]))
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// Inserts models in chunks well below both engines' parameter limits.
async fn insert<M, A, E>(txn: &celltrail::db::WriteTxn, models: Vec<M>)
where
    M: IntoActiveModel<A>,
    A: ActiveModelTrait<Entity = E> + Send,
    E: EntityTrait,
{
    let mut models = models.into_iter().peekable();
    while models.peek().is_some() {
        let chunk: Vec<A> = models
            .by_ref()
            .take(1000)
            .map(|m| m.into_active_model().reset_all())
            .collect();
        E::insert_many(chunk)
            .exec_without_returning(txn)
            .await
            .unwrap();
    }
}
