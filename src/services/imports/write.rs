//! Writing one chunk of an import: its storage units, donors (with
//! screening and quality's decision), donations, lots (with QC), vials in
//! their positions, and every record's custody events, in one write
//! transaction with the import's progress. The events are the ones the
//! normal flow writes (`donor.registered`, `lot.frozen`, `vial.stored`, …),
//! so the ledger's replay and the history pages read them as they are;
//! each carries `"imported": {"file_sha256", "row"}`.

use std::collections::{BTreeMap, HashMap};

use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use super::facts::Units;
use crate::db::WriteTxn;
use crate::domain::codes::VialCode;
use crate::domain::din::FacilityCode;
use crate::domain::donor::Eligibility;
use crate::domain::import::Bank;
use crate::domain::import::plan::Chunk;
use crate::domain::lifecycle::{LotStatus, VialStatus};
use crate::domain::quantity::{Cells, Microlitres};
use crate::domain::storage::{StorageKind, location_path};
use crate::entities::{
    din_sequence, donation, donor, import, lot, qc_result, screening_result, storage_unit, vial,
};
use crate::error::{AppError, AppResult};
use crate::services::Actor;
use crate::services::ledger::{self, NewEvent};
use crate::state::AppState;

/// What an import created, so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = ImportSummary)]
pub struct Summary {
    pub donors: u64,
    pub donations: u64,
    pub lots: u64,
    pub vials: u64,
    pub storage_units: u64,
    pub screening_results: u64,
    pub qc_results: u64,
    pub lots_released: u64,
}

/// Who and what a run writes with.
pub struct Writer<'a> {
    pub state: &'a AppState,
    pub import: &'a import::Model,
    pub bank: &'a Bank,
    /// The lab person importing: the actor of the records' events.
    pub lab: &'a Actor,
    /// The quality officer whose signature accepted the import: the actor
    /// of the eligibility decisions and releases it carries.
    pub signer: &'a Actor,
    /// Points at the signed acceptance (`import.accepted`).
    pub acceptance: Value,
    pub facility: &'a FacilityCode,
}

/// Records known so far (in the database or written by earlier chunks).
#[derive(Debug, Default)]
pub struct Known {
    pub donors: HashMap<String, Uuid>,
    pub donations: HashMap<String, Uuid>,
    pub units: Units,
}

/// Rows per multi-row INSERT: a vial has 18 columns, far below both
/// engines' parameter limits.
const ROWS_PER_INSERT: usize = 1000;

macro_rules! insert_all {
    ($txn:expr, $entity:ty, $models:expr) => {{
        let models: Vec<_> = $models;
        for part in models.chunks(ROWS_PER_INSERT) {
            <$entity>::insert_many(part.iter().map(|m| m.clone().into_active_model()))
                .exec_without_returning($txn)
                .await?;
        }
    }};
}

/// Writes chunk number `index` (0-based) and moves the import's progress
/// past it, in one transaction.
pub async fn chunk(
    w: &Writer<'_>,
    known: &mut Known,
    chunk: &Chunk,
    index: usize,
    summary: &mut Summary,
) -> AppResult<()> {
    let now = w.state.clock.now();
    let lab_id = w
        .lab
        .id
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("an import is made by a person")))?;
    let signer_id = w
        .signer
        .id
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("an import is accepted by a person")))?;
    let sha = w.import.file_sha256.as_str();
    let mark = |row: usize| json!({ "file_sha256": sha, "row": row });
    let with = |mut details: Value, row: usize| {
        if let Value::Object(map) = &mut details {
            map.insert("imported".into(), mark(row));
        }
        details
    };
    let release = w.import.release_lots;
    let bank = w.bank;
    let site_id = w.import.site_id;

    let mut units: Vec<storage_unit::Model> = Vec::new();
    let mut donors: Vec<donor::Model> = Vec::new();
    let mut screenings: Vec<screening_result::Model> = Vec::new();
    let mut donations: Vec<donation::Model> = Vec::new();
    let mut lots: Vec<lot::Model> = Vec::new();
    let mut qcs: Vec<qc_result::Model> = Vec::new();
    let mut vials: Vec<vial::Model> = Vec::new();
    let mut lab_events: Vec<NewEvent> = Vec::new();
    let mut quality_events: Vec<NewEvent> = Vec::new();
    let mut own_sequences: BTreeMap<u8, u32> = BTreeMap::new();
    let mut boxes: HashMap<usize, (Uuid, String)> = HashMap::new();

    for &l in &chunk.lots {
        let lot_entry = &bank.lots[l];
        let donation_entry = &bank.donations[lot_entry.donation];
        let donor_entry = &bank.donors[donation_entry.donor];

        // the donor, once
        let donor_id = match known.donors.get(&donor_entry.code) {
            Some(id) => *id,
            None => {
                let id = Uuid::now_v7();
                let decided = donor_entry.eligibility != Eligibility::Pending;
                donors.push(donor::Model {
                    id,
                    code: donor_entry.code.clone(),
                    consent_at: donor_entry.consent_at,
                    eligibility: donor_entry.eligibility,
                    eligibility_reason: donor_entry.eligibility_reason.clone(),
                    eligibility_decided_at: decided.then_some(now),
                    eligibility_decided_by: decided.then_some(signer_id),
                    created_at: now,
                });
                lab_events.push(NewEvent::new("donor.registered", "donor", id).details(with(
                    json!({ "code": donor_entry.code, "consent_at": donor_entry.consent_at }),
                    donor_entry.row,
                )));
                let mut screening_ids = Vec::new();
                for (test, outcome) in &donor_entry.screening {
                    let screening_id = Uuid::now_v7();
                    screening_ids.push(screening_id);
                    let tested_at = donor_entry.screened_at.unwrap_or(donor_entry.consent_at);
                    screenings.push(screening_result::Model {
                        id: screening_id,
                        donor_id: id,
                        test: *test,
                        result: *outcome,
                        specimen: donor_entry.specimen,
                        tested_at,
                        recorded_at: now,
                        recorded_by: lab_id,
                        invalidated_at: None,
                        invalidated_by: None,
                        invalidation_reason: None,
                    });
                    lab_events.push(
                        NewEvent::new("donor.screening_recorded", "donor", id).details(with(
                            json!({
                                "screening_id": screening_id,
                                "test": test,
                                "result": outcome,
                                "specimen": donor_entry.specimen,
                                "tested_at": tested_at,
                            }),
                            donor_entry.row,
                        )),
                    );
                }
                if decided {
                    quality_events.push(
                        NewEvent::new("donor.eligibility_decided", "donor", id).details(with(
                            json!({
                                "from": Eligibility::Pending,
                                "decision": donor_entry.eligibility,
                                "reason": donor_entry.eligibility_reason,
                                "screening_ids": screening_ids,
                                "accepted_by": w.acceptance,
                            }),
                            donor_entry.row,
                        )),
                    );
                }
                known.donors.insert(donor_entry.code.clone(), id);
                summary.donors += 1;
                summary.screening_results += donor_entry.screening.len() as u64;
                id
            }
        };

        // the donation, once
        let din = donation_entry.din.compact();
        let donation_id = match known.donations.get(&din) {
            Some(id) => *id,
            None => {
                let id = Uuid::now_v7();
                let check = donation_entry.din.check_character().to_string();
                donations.push(donation::Model {
                    id,
                    donor_id,
                    din: din.clone(),
                    check_character: check.clone(),
                    collected_at: donation_entry.collected_at,
                    received_at: donation_entry.received_at,
                    created_at: now,
                });
                lab_events.push(
                    NewEvent::new("donation.received", "donation", id).details(with(
                        json!({
                            "din": din,
                            "check_character": check,
                            "donor_id": donor_id,
                            "collected_at": donation_entry.collected_at,
                            "received_at": donation_entry.received_at,
                            "facility_code": donation_entry.din.facility().as_str(),
                        }),
                        donation_entry.row,
                    )),
                );
                if donation_entry.din.facility() == w.facility {
                    let seq = own_sequences.entry(donation_entry.din.year()).or_default();
                    *seq = Ord::max(*seq, donation_entry.din.sequence());
                }
                known.donations.insert(din.clone(), id);
                summary.donations += 1;
                id
            }
        };

        // the lot, its QC, frozen into its vials
        let lot_id = Uuid::now_v7();
        let count = lot_entry.vials.len();
        let cells = Cells::parse(lot_entry.cells_per_vial).map_err(AppError::internal)?;
        let volume = Microlitres::parse(lot_entry.volume_ul).map_err(AppError::internal)?;
        lots.push(lot::Model {
            id: lot_id,
            donation_id,
            code: lot_entry.code.clone(),
            din: din.clone(),
            product_code: lot_entry.product_code.clone(),
            passage: lot_entry.passage,
            manufactured_at: lot_entry.manufactured_at,
            expires_at: lot_entry.expires_at,
            status: if release {
                LotStatus::Released
            } else {
                LotStatus::Quarantine
            },
            frozen_at: Some(lot_entry.frozen_at),
            cells_per_vial: Some(cells),
            volume_ul: Some(volume),
            vial_count: Some(count as i32),
            created_at: now,
            site_id,
        });
        lab_events.push(NewEvent::new("lot.created", "lot", lot_id).details(with(
            json!({
                "code": lot_entry.code,
                "donation_id": donation_id,
                "din": din,
                "product_code": lot_entry.product_code,
                "passage": lot_entry.passage,
                "manufactured_at": lot_entry.manufactured_at,
                "expires_at": lot_entry.expires_at,
                "site_id": site_id,
            }),
            lot_entry.row,
        )));
        let mut qc_ids = Vec::new();
        for qc in &lot_entry.qc {
            let qc_id = Uuid::now_v7();
            qc_ids.push(qc_id);
            qcs.push(qc_result::Model {
                id: qc_id,
                lot_id,
                test: qc.test.clone(),
                value: qc.value.clone(),
                unit: qc.unit.clone(),
                pass: qc.pass,
                specification: qc.specification.clone(),
                recorded_at: now,
                recorded_by: lab_id,
                investigation: None,
                investigation_reason: None,
                investigated_at: None,
                investigated_by: None,
            });
            lab_events.push(
                NewEvent::new("lot.qc_recorded", "lot", lot_id).details(with(
                    json!({
                        "qc_result_id": qc_id,
                        "test": qc.test,
                        "value": qc.value,
                        "unit": qc.unit,
                        "pass": qc.pass,
                        "specification": qc.specification,
                    }),
                    lot_entry.row,
                )),
            );
        }
        summary.qc_results += lot_entry.qc.len() as u64;
        lab_events.push(NewEvent::new("lot.frozen", "lot", lot_id).details(with(
            json!({
                "from": LotStatus::InProcess,
                "to": LotStatus::Quarantine,
                "vial_count": count,
                "cells_per_vial": lot_entry.cells_per_vial,
                "volume_ul": lot_entry.volume_ul,
                "frozen_at": lot_entry.frozen_at,
            }),
            lot_entry.row,
        )));
        let mut vial_events = Vec::with_capacity(count * 2);
        let mut released = Vec::new();
        for v in &lot_entry.vials {
            let (box_id, box_path) = match boxes.get(&v.storage_box) {
                Some(found) => found.clone(),
                None => {
                    let found = ensure_box(known, bank, v.storage_box, site_id, now, &mut units);
                    boxes.insert(v.storage_box, found.clone());
                    found
                }
            };
            let id = Uuid::now_v7();
            let position = v.position.to_string();
            vials.push(vial::Model {
                id,
                lot_id,
                code: VialCode::from_stored(v.code.clone()),
                din: din.clone(),
                status: if release {
                    VialStatus::Available
                } else {
                    VialStatus::Quarantine
                },
                cells_per_vial: cells,
                volume_ul: volume,
                frozen_at: lot_entry.frozen_at,
                box_id: Some(box_id),
                position: Some(position.clone()),
                labels_issued: 0,
                created_at: now,
                previous_box_id: None,
                previous_position: None,
                site_id,
                shipment_id: None,
                held_from: None,
            });
            vial_events.push(NewEvent::new("vial.frozen", "vial", id).details(with(
                json!({
                    "code": v.code,
                    "lot_id": lot_id,
                    "status": VialStatus::Quarantine,
                    "cells_per_vial": lot_entry.cells_per_vial,
                    "volume_ul": lot_entry.volume_ul,
                }),
                v.row,
            )));
            vial_events.push(
                NewEvent::new("vial.stored", "vial", id)
                    .moved(
                        None,
                        Some(location_path([box_path.as_str()], Some(&position))),
                    )
                    .details(with(
                        json!({
                            "code": v.code,
                            "status": VialStatus::Quarantine,
                            "from_box_id": Value::Null,
                            "from_position": Value::Null,
                            "box_id": box_id,
                            "position": position,
                        }),
                        v.row,
                    )),
            );
            if release {
                released.push(NewEvent::new("vial.released", "vial", id).details(with(
                    json!({
                        "from": VialStatus::Quarantine,
                        "to": VialStatus::Available,
                        "lot_id": lot_id,
                    }),
                    v.row,
                )));
            }
        }
        lab_events.append(&mut vial_events);
        if release {
            quality_events.push(NewEvent::new("lot.released", "lot", lot_id).details(with(
                json!({
                    "from": LotStatus::Quarantine,
                    "to": LotStatus::Released,
                    "donor_id": donor_id,
                    "qc_result_ids": qc_ids,
                    "vials_released": count,
                    "accepted_by": w.acceptance,
                }),
                lot_entry.row,
            )));
            quality_events.append(&mut released);
            summary.lots_released += 1;
        }
        summary.lots += 1;
        summary.vials += count as u64;
    }
    summary.storage_units += units.len() as u64;
    let mut unit_events = Vec::with_capacity(units.len());
    for unit in &units {
        unit_events.push(
            NewEvent::new("storage.created", "storage", unit.id).details(json!({
                "name": unit.name,
                "kind": unit.kind,
                "parent_id": unit.parent_id,
                "rows": unit.rows,
                "cols": unit.cols,
                "path": unit_path(known, unit),
                "site_id": site_id,
                "imported": { "file_sha256": sha },
            })),
        );
    }
    unit_events.append(&mut lab_events);
    let lab_events = unit_events;

    let txn = w.state.db.write().await?;
    // Progress first: the guard makes a second runner of the same file
    // (another instance) stop here instead of writing the chunk twice.
    let moved = import::Entity::update_many()
        .col_expr(import::Column::ChunksDone, Expr::value(index as i32 + 1))
        .col_expr(
            import::Column::RowsDone,
            Expr::col(import::Column::RowsDone).add(chunk.vials as i32),
        )
        .col_expr(
            import::Column::Summary,
            Expr::value(serde_json::to_string(summary).map_err(AppError::internal)?),
        )
        .filter(import::Column::Id.eq(w.import.id))
        .filter(import::Column::ChunksDone.eq(index as i32))
        .exec(&txn)
        .await?;
    if moved.rows_affected != 1 {
        return Err(AppError::ConcurrentChange {
            kind: "import",
            id: w.import.id,
        });
    }
    insert_all!(&txn, storage_unit::Entity, units);
    insert_all!(&txn, donor::Entity, donors);
    insert_all!(&txn, screening_result::Entity, screenings);
    insert_all!(&txn, donation::Entity, donations);
    insert_all!(&txn, lot::Entity, lots);
    insert_all!(&txn, qc_result::Entity, qcs);
    insert_all!(&txn, vial::Entity, vials);
    for (year, sequence) in own_sequences {
        bump_sequence(&txn, w.facility, year, sequence).await?;
    }
    ledger::append_many(&txn, w.lab, now, lab_events).await?;
    ledger::append_many(&txn, w.signer, now, quality_events).await?;
    txn.commit().await?;
    Ok(())
}

/// The box of the file's box `index`, created with its tank and rack
/// where they are missing; its id and path.
fn ensure_box(
    known: &mut Known,
    bank: &Bank,
    index: usize,
    site_id: Uuid,
    now: chrono::DateTime<chrono::Utc>,
    units: &mut Vec<storage_unit::Model>,
) -> (Uuid, String) {
    let entry = &bank.boxes[index];
    let mut levels: Vec<(&str, StorageKind, Option<i32>, Option<i32>)> =
        vec![(entry.path.tank.as_str(), StorageKind::Tank, None, None)];
    if let Some(rack) = &entry.path.rack {
        levels.push((rack.as_str(), StorageKind::Rack, None, None));
    }
    levels.push((
        entry.path.name.as_str(),
        StorageKind::Box,
        Some(i32::from(entry.rows)),
        Some(i32::from(entry.cols)),
    ));
    let mut parent: Option<Uuid> = None;
    let mut names: Vec<String> = Vec::new();
    for (name, kind, rows, cols) in levels {
        names.push(name.to_owned());
        let key = (parent, name.to_owned());
        let id = match known.units.by_name.get(&key) {
            Some(unit) => unit.id,
            None => {
                let unit = storage_unit::Model {
                    id: Uuid::now_v7(),
                    name: name.to_owned(),
                    kind,
                    parent_id: parent,
                    rows,
                    cols,
                    created_at: now,
                    site_id,
                };
                units.push(unit.clone());
                known.units.by_name.insert(key, unit.clone());
                unit.id
            }
        };
        parent = Some(id);
    }
    (
        parent.unwrap_or_default(),
        location_path(names.iter().map(String::as_str), None),
    )
}

/// A unit's full path, from the units known.
fn unit_path(known: &Known, unit: &storage_unit::Model) -> String {
    let by_id: HashMap<Uuid, &storage_unit::Model> =
        known.units.by_name.values().map(|u| (u.id, u)).collect();
    let mut names = vec![unit.name.as_str()];
    let mut parent = unit.parent_id;
    while let Some(id) = parent {
        let Some(p) = by_id.get(&id) else { break };
        names.push(p.name.as_str());
        parent = p.parent_id;
    }
    names.reverse();
    location_path(names, None)
}

/// A DIN of this installation's own facility, imported, moves the
/// facility's sequence for its year past it: the numbers celltrail
/// assigns next never collide with it.
async fn bump_sequence(
    txn: &WriteTxn,
    facility: &FacilityCode,
    year: u8,
    sequence: u32,
) -> AppResult<()> {
    din_sequence::Entity::insert(din_sequence::ActiveModel {
        facility_code: Set(facility.as_str().to_owned()),
        din_year: Set(i32::from(year)),
        last_sequence: Set(sequence as i32),
    })
    .on_conflict(
        OnConflict::columns([
            din_sequence::Column::FacilityCode,
            din_sequence::Column::DinYear,
        ])
        .value(
            din_sequence::Column::LastSequence,
            Expr::cust(
                "CASE WHEN din_sequences.last_sequence < excluded.last_sequence \
                 THEN excluded.last_sequence ELSE din_sequences.last_sequence END",
            ),
        )
        .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    Ok(())
}
