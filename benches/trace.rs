//! Trace at scale: a generator fills a fresh database with N vials and,
//! in proportion, donors, donations, lots (100 vials each, 12 QC results),
//! boxes, patients (each with six infusions from six lots), doses, infusions,
//! adverse events and a verifiable custody ledger; then lot, patient and
//! donor traces of a typical (middle) record are timed. Done at 10,000 and
//! at 1,000,000 vials, on SQLite and on PostgreSQL: the traces must not
//! slow down with the size of the database (indexes, not scans).
//!
//! `cargo bench --bench trace`. `BENCH_SCALES` (default `10000,1000000`),
//! PostgreSQL when `CELLTRAIL_BENCH_PG_URL` (or `CELLTRAIL_TEST_PG_URL`)
//! is set.

mod support;

use std::time::{Duration, Instant};

use chrono::Utc;
use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel};
use serde_json::json;
use uuid::Uuid;

use celltrail::domain::codes::{DoseCode, SubjectCode, VialCode};
use celltrail::domain::din::{Din, FacilityCode};
use celltrail::domain::donor::Eligibility;
use celltrail::domain::dose::WeightUnit;
use celltrail::domain::lifecycle::{DoseStatus, InfusionStatus, LotStatus, VialStatus};
use celltrail::domain::paging::PageRequest;
use celltrail::domain::patient::Sex;
use celltrail::domain::quantity::{Cells, CellsPerKg, Grams, Microlitres};
use celltrail::domain::storage::StorageKind;
use celltrail::entities::{
    adverse_event, donation, donor, dose, dose_vial, infusion, lot, patient, qc_result,
    storage_unit, vial, weight,
};
use celltrail::services::ledger::{self, NewEvent};
use celltrail::services::{Actor, accounts, lists, trace};
use celltrail::state::AppState;
use support::{BenchApp, spawn_postgres, spawn_sqlite};

const VIALS_PER_LOT: usize = 100;
const DOSES_PER_LOT: usize = 6;
const VIALS_PER_DOSE: usize = 4;
const LOTS_PER_BATCH: usize = 100;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run());
}

async fn run() {
    let scales: Vec<usize> = std::env::var("BENCH_SCALES")
        .unwrap_or_else(|_| "10000,1000000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let pg = std::env::var("CELLTRAIL_BENCH_PG_URL")
        .or_else(|_| std::env::var("CELLTRAIL_TEST_PG_URL"))
        .ok();
    let mut backends = vec!["SQLite"];
    if pg.is_some() {
        backends.push("PostgreSQL");
    }
    for backend in backends {
        let mut first: Option<[Duration; 3]> = None;
        let mut first_lists: Option<Vec<(&str, Duration, Duration)>> = None;
        for &vials in &scales {
            let app = match backend {
                "SQLite" => spawn_sqlite().await,
                _ => spawn_postgres(pg.as_deref().unwrap()).await,
            };
            let (rows, took) = generate(&app, vials).await;
            if backend == "PostgreSQL" {
                // What autovacuum does within a minute of a bulk load in a
                // running database: without statistics the planner takes a
                // table of a million rows for a small one and scans it.
                use sea_orm::ConnectionTrait;
                app.state
                    .db
                    .conn()
                    .execute_unprepared("ANALYZE")
                    .await
                    .unwrap();
            }
            println!(
                "\n{backend}, {vials} vials: generated {rows} rows in {:.1} s ({:.0} rows/s)",
                took.as_secs_f64(),
                rows as f64 / took.as_secs_f64()
            );
            let lots = vials / VIALS_PER_LOT;
            let times = time_traces(&app.state, lots).await;
            for (name, t) in ["lot", "patient", "donor"].iter().zip(&times) {
                print!("  {name} trace: median {:.2} ms", t.as_secs_f64() * 1e3);
                match first {
                    Some(base) => {
                        let i = ["lot", "patient", "donor"]
                            .iter()
                            .position(|n| n == name)
                            .unwrap();
                        println!(
                            "  ({:.2}× the {}-vial figure; target ≤ 1.5×)",
                            t.as_secs_f64() / base[i].as_secs_f64(),
                            scales[0]
                        );
                    }
                    None => println!(),
                }
            }
            first.get_or_insert(times);
            let lists = time_lists(&app.state, lots).await;
            for (i, (name, first_page, deep_page)) in lists.iter().enumerate() {
                print!(
                    "  {name}: first page {:.2} ms, deep page {:.2} ms",
                    first_page.as_secs_f64() * 1e3,
                    deep_page.as_secs_f64() * 1e3
                );
                match &first_lists {
                    Some(base) => {
                        let base: &Duration = &base[i].1;
                        println!(
                            "  ({:.2}× and {:.2}× the {}-vial first page; target ≤ 2×)",
                            first_page.as_secs_f64() / base.as_secs_f64(),
                            deep_page.as_secs_f64() / base.as_secs_f64(),
                            scales[0]
                        );
                    }
                    None => println!(),
                }
            }
            first_lists.get_or_insert(lists);
        }
    }
}

/// Medians of 40 runs of each trace for the middle lot, patient, donor.
async fn time_traces(state: &AppState, lots: usize) -> [Duration; 3] {
    use sea_orm::{ColumnTrait, QueryFilter};
    let middle = lots / 2;
    let code = format!("GEN-{middle:07}");
    let donor = donor::Entity::find()
        .filter(donor::Column::Code.eq(code))
        .one(state.db.conn())
        .await
        .unwrap()
        .unwrap();
    let lot = lot::Entity::find()
        .filter(lot::Column::Code.eq(lot_code(middle)))
        .one(state.db.conn())
        .await
        .unwrap()
        .unwrap();
    let patient = patient::Entity::find()
        .filter(patient::Column::SubjectCode.eq(subject(middle)))
        .one(state.db.conn())
        .await
        .unwrap()
        .unwrap();
    let check = trace::lot(state, lot.id).await.unwrap();
    assert_eq!(check.vials.len(), VIALS_PER_LOT);
    assert_eq!(check.recipients.len(), DOSES_PER_LOT);
    let check = trace::patient(state, patient.id).await.unwrap();
    assert_eq!(check.lots.len(), DOSES_PER_LOT);
    let mut medians = [Duration::ZERO; 3];
    for (i, which) in [0, 1, 2].iter().enumerate() {
        let mut times = Vec::new();
        for run in 0..45 {
            let started = Instant::now();
            match which {
                0 => drop(trace::lot(state, lot.id).await.unwrap()),
                1 => drop(trace::patient(state, patient.id).await.unwrap()),
                _ => drop(trace::donor(state, donor.id).await.unwrap()),
            }
            if run >= 5 {
                times.push(started.elapsed());
            }
        }
        times.sort();
        medians[i] = times[times.len() / 2];
    }
    medians
}

/// Medians of 40 reads of the first page (50 items) of each list, and of
/// a page a third of the way in (the cursor at that record's code),
/// through the same services the list routes call.
async fn time_lists(state: &AppState, lots: usize) -> Vec<(&'static str, Duration, Duration)> {
    // a third of the way in: deep, with more than a page after it
    let middle = lots / 3;
    let vial_code = format!("{}-V050", lot_code(middle));
    let cases: [(&str, String); 6] = [
        ("lots", lot_code(middle)),
        ("donors", format!("GEN-{middle:07}")),
        ("patients", subject(middle)),
        ("doses", format!("{}-D01", subject(middle))),
        ("vials", vial_code.clone()),
        ("available vials", vial_code),
    ];
    let mut out = Vec::new();
    for (name, middle_code) in cases {
        let mut medians = [Duration::ZERO; 2];
        for (k, after) in [None, Some(middle_code)].into_iter().enumerate() {
            // a one-site install's user: every record is at their site
            let sites = lists::SiteScope::Only(vec![celltrail::domain::site::DEFAULT_SITE_ID]);
            let page = PageRequest {
                search: None,
                limit: 50,
                after,
            };
            let mut times = Vec::new();
            for run in 0..45 {
                let started = Instant::now();
                let items = match name {
                    "lots" => lists::lots(state, &sites, &Default::default(), &page)
                        .await
                        .unwrap()
                        .items
                        .len(),
                    "donors" => lists::donors(state, None, &page).await.unwrap().items.len(),
                    "patients" => lists::patients(state, &sites, &page)
                        .await
                        .unwrap()
                        .items
                        .len(),
                    "doses" => lists::doses(state, &sites, &Default::default(), &page)
                        .await
                        .unwrap()
                        .items
                        .len(),
                    "vials" => lists::vials(state, &sites, &Default::default(), &page)
                        .await
                        .unwrap()
                        .items
                        .len(),
                    _ => {
                        let filter = lists::VialFilter {
                            status: Some(VialStatus::Available),
                            ..Default::default()
                        };
                        lists::vials(state, &sites, &filter, &page)
                            .await
                            .unwrap()
                            .items
                            .len()
                    }
                };
                assert_eq!(items, 50, "{name}: a full page");
                if run >= 5 {
                    times.push(started.elapsed());
                }
            }
            times.sort();
            medians[k] = times[times.len() / 2];
        }
        out.push((name, medians[0], medians[1]));
    }
    out
}

fn din(i: usize) -> Din {
    Din::new(
        FacilityCode::parse("A9999").unwrap(),
        (10 + i / 999_999) as u8,
        (i % 999_999 + 1) as u32,
    )
    .unwrap()
}

fn lot_code(i: usize) -> String {
    format!("{}-L01", din(i).compact())
}

fn subject(j: usize) -> String {
    format!("G-{j:07}")
}

/// Fills the database; returns rows written and the time taken.
async fn generate(app: &BenchApp, vials: usize) -> (usize, Duration) {
    let state = &app.state;
    let started = Instant::now();
    let user = accounts::create(
        state,
        &Actor::system("generator"),
        accounts::NewAccount {
            username: "generator",
            full_name: "Generator",
            role: "lab",
            password: "generator-password",
        },
    )
    .await
    .unwrap();
    let actor = Actor::system("generator");
    let now = Utc::now();
    let day = chrono::Duration::days(1);
    let lots = vials / VIALS_PER_LOT;
    let tank = storage_unit::Model {
        id: Uuid::now_v7(),
        name: "Tank G".into(),
        kind: StorageKind::Tank,
        parent_id: None,
        rows: None,
        cols: None,
        created_at: now,
        site_id: celltrail::domain::site::DEFAULT_SITE_ID,
    };
    let mut rows = 0usize;
    let txn = state.db.write().await.unwrap();
    insert(&txn, vec![tank.clone()]).await;
    txn.commit().await.unwrap();
    // patients first: patient j gets infusion k from lot j + k
    let mut patient_ids = Vec::with_capacity(lots);
    for chunk in (0..lots).collect::<Vec<_>>().chunks(2000) {
        let txn = state.db.write().await.unwrap();
        let mut ps = Vec::new();
        let mut ws = Vec::new();
        for &j in chunk {
            let id = Uuid::now_v7();
            patient_ids.push(id);
            ps.push(patient::Model {
                id,
                subject_code: SubjectCode::from_stored(subject(j)),
                birth_date: chrono::NaiveDate::from_ymd_opt(1980, 1, 1).unwrap(),
                sex: Sex::Female,
                enrolled_at: now - day * 200,
                baseline_pasi_tenths: 150,
                criteria: "{}".into(),
                protocol_version: 1,
                created_at: now - day * 200,
                created_by: Some(user.id),
                enrolment_weight_g: Some(Grams::parse(70_000).unwrap()),
                enrolment_weight_value: Some("70".into()),
                enrolment_weight_unit: Some(WeightUnit::Kg),
                height_mm: Some(1_700),
                site_id: celltrail::domain::site::DEFAULT_SITE_ID,
                coi: None,
            });
            ws.push(weight::Model {
                id: Uuid::now_v7(),
                patient_id: id,
                weight_g: Grams::parse(70_000).unwrap(),
                value: "70".into(),
                unit: WeightUnit::Kg,
                measured_at: now - day * 199,
                confirmed_change: false,
                recorded_at: now - day * 199,
                recorded_by: Some(user.id),
                voided_at: None,
                voided_by: None,
                void_reason: None,
            });
        }
        rows += ps.len() + ws.len();
        insert(&txn, ps).await;
        insert(&txn, ws).await;
        txn.commit().await.unwrap();
    }
    // doses name the weight they were computed from
    let weights: std::collections::HashMap<Uuid, Uuid> = weight::Entity::find()
        .all(state.db.conn())
        .await
        .unwrap()
        .into_iter()
        .map(|w| (w.patient_id, w.id))
        .collect();

    let mut rack = None;
    for batch in (0..lots).collect::<Vec<_>>().chunks(LOTS_PER_BATCH) {
        let txn = state.db.write().await.unwrap();
        let (mut donors, mut donations, mut lot_rows, mut qcs, mut boxes) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let (mut vial_rows, mut doses, mut links, mut infusions, mut aes) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut events = Vec::new();
        for &i in batch {
            if i % 100 == 0 {
                let r = storage_unit::Model {
                    id: Uuid::now_v7(),
                    name: format!("Rack {}", i / 100),
                    kind: StorageKind::Rack,
                    parent_id: Some(tank.id),
                    rows: None,
                    cols: None,
                    created_at: now,
                    site_id: celltrail::domain::site::DEFAULT_SITE_ID,
                };
                rack = Some(r.id);
                boxes.push(r);
            }
            let d = din(i);
            let donor_id = Uuid::now_v7();
            donors.push(donor::Model {
                id: donor_id,
                code: format!("GEN-{i:07}"),
                consent_at: now - day * 300,
                eligibility: Eligibility::Eligible,
                eligibility_reason: None,
                eligibility_decided_at: Some(now - day * 290),
                eligibility_decided_by: Some(user.id),
                created_at: now - day * 300,
            });
            let donation_id = Uuid::now_v7();
            donations.push(donation::Model {
                id: donation_id,
                donor_id,
                din: d.compact(),
                check_character: d.check_character().to_string(),
                collected_at: now - day * 295,
                received_at: now - day * 295,
                created_at: now - day * 295,
            });
            let lot_id = Uuid::now_v7();
            lot_rows.push(lot::Model {
                id: lot_id,
                donation_id,
                code: lot_code(i),
                din: d.compact(),
                product_code: "S1395".into(),
                passage: 3,
                manufactured_at: now - day * 290,
                expires_at: now + day * 400,
                status: LotStatus::Released,
                frozen_at: Some(now - day * 289),
                cells_per_vial: Some(Cells::parse(25_000_000).unwrap()),
                volume_ul: Some(Microlitres::parse(1_500).unwrap()),
                vial_count: Some(VIALS_PER_LOT as i32),
                created_at: now - day * 290,
                site_id: celltrail::domain::site::DEFAULT_SITE_ID,
            });
            for test in [
                "sterility",
                "mycoplasma",
                "endotoxin",
                "viability",
                "cd73",
                "cd90",
                "cd105",
                "cd34",
                "cd45",
                "cd14",
                "cd19",
                "hla_dr",
            ] {
                qcs.push(qc_result::Model {
                    id: Uuid::now_v7(),
                    lot_id,
                    test: test.into(),
                    value: "negative".into(),
                    unit: None,
                    pass: true,
                    specification: "negative".into(),
                    recorded_at: now - day * 289,
                    recorded_by: user.id,
                    investigation: None,
                    investigation_reason: None,
                    investigated_at: None,
                    investigated_by: None,
                });
            }
            let box_id = Uuid::now_v7();
            boxes.push(storage_unit::Model {
                id: box_id,
                name: format!("Box {i}"),
                kind: StorageKind::Box,
                parent_id: rack,
                rows: Some(10),
                cols: Some(10),
                created_at: now,
                site_id: celltrail::domain::site::DEFAULT_SITE_ID,
            });
            events.push(
                NewEvent::new("lot.released", "lot", lot_id)
                    .details(json!({ "code": lot_code(i) })),
            );
            let infused = DOSES_PER_LOT * VIALS_PER_DOSE;
            let mut lot_vials = Vec::new();
            for n in 0..VIALS_PER_LOT {
                let stored = n >= infused;
                let v = vial::Model {
                    id: Uuid::now_v7(),
                    lot_id,
                    code: VialCode::from_stored(format!("{}-V{:03}", lot_code(i), n + 1)),
                    din: d.compact(),
                    status: if stored {
                        VialStatus::Available
                    } else {
                        VialStatus::Infused
                    },
                    cells_per_vial: Cells::parse(25_000_000).unwrap(),
                    volume_ul: Microlitres::parse(1_500).unwrap(),
                    frozen_at: now - day * 289,
                    box_id: stored.then_some(box_id),
                    position: stored
                        .then(|| format!("{}{}", char::from(b'A' + (n / 10) as u8), n % 10 + 1)),
                    labels_issued: 1,
                    created_at: now - day * 289,
                    previous_box_id: None,
                    previous_position: None,
                    shipment_id: None,
                    held_from: None,
                    site_id: celltrail::domain::site::DEFAULT_SITE_ID,
                };
                events.push(
                    NewEvent::new("vial.frozen", "vial", v.id).details(json!({ "code": v.code })),
                );
                if stored {
                    events.push(
                        NewEvent::new("vial.stored", "vial", v.id)
                            .moved(None, Some(format!("Tank G › Box {i}")))
                            .details(json!({ "code": v.code })),
                    );
                }
                lot_vials.push(v);
            }
            // six doses from this lot, for patients i-5 … i (the k-th
            // infusion of patient i-k)
            for k in 0..DOSES_PER_LOT {
                let Some(j) = i.checked_sub(k) else { continue };
                let patient_id = patient_ids[j];
                let dose_id = Uuid::now_v7();
                let given_at = now - day * (150 - 9 * k as i32);
                doses.push(dose::Model {
                    id: dose_id,
                    code: DoseCode::from_stored(format!("{}-D{:02}", subject(j), k + 1)),
                    patient_id,
                    infusion_number: k as i32 + 1,
                    protocol_version: 1,
                    weight_id: weights[&patient_id],
                    weight_g: Grams::parse(70_000).unwrap(),
                    dose_per_kg: CellsPerKg::parse(1_000_000).unwrap(),
                    target_cells: Cells::parse(70_000_000).unwrap(),
                    min_cells: Cells::parse(63_000_000).unwrap(),
                    max_cells: Cells::parse(77_000_000).unwrap(),
                    lot_id,
                    cells_per_vial: Cells::parse(25_000_000).unwrap(),
                    vials_needed: VIALS_PER_DOSE as i32,
                    status: DoseStatus::Infused,
                    thawed_at: Some(given_at),
                    concentration_cells_per_ml: Some(16_000_000),
                    available_ul: Some(Microlitres::parse(6_000).unwrap()),
                    volume_ul: Some(Microlitres::parse(4_400).unwrap()),
                    cells_to_administer: Some(Cells::parse(70_400_000).unwrap()),
                    verified_at: Some(given_at),
                    verified_by: Some(user.id),
                    cancelled_at: None,
                    cancel_reason: None,
                    created_at: given_at,
                    created_by: Some(user.id),
                    count_failure: None,
                });
                for v in &lot_vials[k * VIALS_PER_DOSE..(k + 1) * VIALS_PER_DOSE] {
                    links.push(dose_vial::Model {
                        dose_id,
                        vial_id: v.id,
                        reserved_at: given_at,
                        removed_at: None,
                        removed_reason: None,
                    });
                }
                let infusion_id = Uuid::now_v7();
                infusions.push(infusion::Model {
                    id: infusion_id,
                    dose_id,
                    patient_id,
                    infusion_number: k as i32 + 1,
                    status: InfusionStatus::Completed,
                    started_at: given_at,
                    ended_at: Some(given_at),
                    volume_infused_ul: Some(Microlitres::parse(4_400).unwrap()),
                    patient_scan: format!("CT1:P:{}", subject(j)),
                    product_scan: format!("CT1:D:{}-D{:02}", subject(j), k + 1),
                    created_at: given_at,
                    created_by: Some(user.id),
                    completed_at: Some(given_at),
                    completed_by: Some(user.id),
                    late_entry: false,
                    late_reason: None,
                });
                events.push(
                    NewEvent::new("infusion.completed", "infusion", infusion_id)
                        .details(json!({ "subject_code": subject(j) })),
                );
                if (i + k) % 17 == 0 {
                    aes.push(adverse_event::Model {
                        id: Uuid::now_v7(),
                        infusion_id,
                        patient_id,
                        term: "Headache".into(),
                        grade: 1,
                        onset_at: given_at,
                        recorded_at: given_at,
                        recorded_by: Some(user.id),
                        corrects_id: None,
                        correction_reason: None,
                        signature_id: None,
                    });
                }
            }
            vial_rows.extend(lot_vials);
        }
        rows += donors.len()
            + donations.len()
            + lot_rows.len()
            + qcs.len()
            + boxes.len()
            + vial_rows.len()
            + doses.len()
            + links.len()
            + infusions.len()
            + aes.len()
            + events.len();
        insert(&txn, donors).await;
        insert(&txn, donations).await;
        insert(&txn, lot_rows).await;
        insert(&txn, qcs).await;
        insert(&txn, boxes).await;
        insert(&txn, vial_rows).await;
        insert(&txn, doses).await;
        insert(&txn, links).await;
        insert(&txn, infusions).await;
        insert(&txn, aes).await;
        ledger::append_many(&txn, &actor, now, events)
            .await
            .unwrap();
        txn.commit().await.unwrap();
    }
    (rows, started.elapsed())
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
