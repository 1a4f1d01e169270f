//! Dose orders: the weight-based calculation, reserving whole vials from one
//! released lot without ever handing a vial to two doses, thawing with the
//! post-thaw counts, the pharmacist's signed verification, cancelling.
//!
//! Reservation is one transaction. On SQLite the single writer serialises
//! it; on PostgreSQL each order locks its patient row (so one patient's
//! orders are numbered one at a time) and picks vials with `FOR UPDATE SKIP
//! LOCKED` (so concurrent orders take disjoint vials). Either way the
//! status change is conditional (`WHERE status = 'available'`) and its row
//! count is checked: a vial cannot be reserved twice.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, LockBehavior, LockType};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde_json::json;
use uuid::Uuid;

use crate::db::WriteTxn;
use crate::domain::dose::{
    DoseTarget, Preparation, ThawCount, below_viability, dose_target, prepare, vials_needed,
};
use crate::domain::lifecycle::{DoseAction, DoseStatus, LotStatus, VialStatus, dose_transition};
use crate::domain::patient::{ScheduleRefused, next_infusion};
use crate::domain::protocol::Protocol;
use crate::domain::storage::location_path;
use crate::entities::{dose, dose_vial, infusion, lot, patient, thaw_count, vial, weight};
use crate::error::{AppError, AppResult, VialViability};
use crate::services::Actor;
use crate::services::donors::{internal, not_in_future};
use crate::services::ledger::{self, NewEvent};
use crate::services::signatures::{self, VerifiedSignature};
use crate::services::{patients, protocol, storage, vials};
use crate::state::AppState;

/// Doses that hold their patient: one at a time.
const OPEN: [DoseStatus; 4] = [
    DoseStatus::Reserved,
    DoseStatus::Thawed,
    DoseStatus::Verified,
    DoseStatus::Infusing,
];

/// What the calculator is asked.
#[derive(Debug, Clone, Copy, Default)]
pub struct CalculationInput {
    pub patient_id: Option<Uuid>,
    pub weight_g: Option<i64>,
    pub dose_per_kg: Option<i64>,
    pub lot_id: Option<Uuid>,
}

/// A lot that can (or, asked for, cannot) serve a dose.
#[derive(Debug, Clone)]
pub struct LotOption {
    pub lot: lot::Model,
    pub vials_needed: i64,
    pub available: i64,
}

/// The calculator's answer, with its working.
#[derive(Debug, Clone)]
pub struct Calculation {
    pub protocol_version: i32,
    pub weight: Option<weight::Model>,
    pub target: DoseTarget,
    pub recovery_pct: i32,
    pub lot: Option<LotOption>,
    pub steps: Vec<String>,
}

/// Works out a dose without changing anything.
pub async fn calculate(state: &AppState, input: CalculationInput) -> AppResult<Calculation> {
    let db = state.db.conn();
    let now = state.clock.now();
    let current = protocol::current(db).await?;
    let rules = &current.protocol;
    let (weight_g, weight) = match (input.patient_id, input.weight_g) {
        (Some(patient_id), None) => {
            patients::find(db, patient_id).await?;
            let weight = fresh_weight(db, rules, patient_id, now).await?;
            (weight.weight_g, Some(weight))
        }
        (None, Some(weight_g)) => {
            plausible(rules, weight_g)?;
            (weight_g, None)
        }
        _ => {
            return Err(AppError::invalid(
                "patient_id",
                "give either a patient_id (its latest weight is used) or a weight_kg",
            ));
        }
    };
    let dose_per_kg = input.dose_per_kg.unwrap_or(rules.dose_cells_per_kg);
    if !(1..=10_000_000_000).contains(&dose_per_kg) {
        return Err(AppError::invalid("dose_per_kg", "1 to 10^10 cells per kg"));
    }
    let target = dose_target(dose_per_kg, weight_g, rules.dose_tolerance_pct);
    let lot = match input.lot_id {
        Some(lot_id) => {
            let lot = lot::Entity::find_by_id(lot_id)
                .one(db)
                .await?
                .ok_or_else(|| AppError::not_found("lot", lot_id))?;
            let cells_per_vial = lot.cells_per_vial.ok_or_else(|| {
                AppError::invalid("lot_id", "the lot is not frozen into vials yet")
            })?;
            let available = available_counts(db, &[lot_id]).await?;
            Some(LotOption {
                vials_needed: vials_needed(
                    target.target_cells,
                    cells_per_vial,
                    rules.post_thaw_recovery_pct,
                ),
                available: available.get(&lot_id).copied().unwrap_or(0),
                lot,
            })
        }
        None => choose_lot(db, rules, &target, now).await?,
    };
    let steps = working(rules, &target, weight.as_ref(), lot.as_ref());
    Ok(Calculation {
        protocol_version: current.version,
        weight,
        target,
        recovery_pct: rules.post_thaw_recovery_pct,
        lot,
        steps,
    })
}

/// The calculation step by step, for the pharmacist's worksheet.
fn working(
    rules: &Protocol,
    target: &DoseTarget,
    weight: Option<&weight::Model>,
    lot: Option<&LotOption>,
) -> Vec<String> {
    let mut steps = Vec::new();
    match weight {
        Some(w) => steps.push(format!(
            "weight {} {} measured {} = {} g",
            w.value,
            w.unit,
            w.measured_at.format("%Y-%m-%d %H:%M UTC"),
            target.weight_g
        )),
        None => steps.push(format!("weight {} g", target.weight_g)),
    }
    steps.push(format!(
        "target = {} cells/kg × {} g ÷ 1000 = {} viable cells",
        target.dose_per_kg, target.weight_g, target.target_cells
    ));
    steps.push(format!(
        "accepted = target ± {} % = {} to {} cells",
        target.tolerance_pct, target.min_cells, target.max_cells
    ));
    if let Some(option) = lot {
        let per_vial = option.lot.cells_per_vial.unwrap_or_default();
        steps.push(format!(
            "vials = ⌈{} ÷ ({} cells × {} % recovery)⌉ = {} from lot {} ({} available)",
            target.target_cells,
            per_vial,
            rules.post_thaw_recovery_pct,
            option.vials_needed,
            option.lot.code,
            option.available
        ));
    }
    steps
}

fn plausible(rules: &Protocol, weight_g: i64) -> AppResult<()> {
    if !(rules.weight_min_g..=rules.weight_max_g).contains(&weight_g) {
        return Err(AppError::ImplausibleWeight {
            weight_g,
            min_g: rules.weight_min_g,
            max_g: rules.weight_max_g,
        });
    }
    Ok(())
}

/// The latest weight, if measured within the protocol's validity.
async fn fresh_weight(
    db: &impl ConnectionTrait,
    rules: &Protocol,
    patient_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<weight::Model> {
    let weight = patients::latest_weight(db, patient_id)
        .await?
        .ok_or(AppError::NoWeight)?;
    if weight.measured_at < now - Duration::days(i64::from(rules.weight_valid_days)) {
        return Err(AppError::StaleWeight {
            measured_at: weight.measured_at,
            valid_days: rules.weight_valid_days,
        });
    }
    Ok(weight)
}

/// Available vials per lot.
async fn available_counts(
    db: &impl ConnectionTrait,
    lot_ids: &[Uuid],
) -> AppResult<HashMap<Uuid, i64>> {
    if lot_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let counts: Vec<(Uuid, i64)> = vial::Entity::find()
        .select_only()
        .column(vial::Column::LotId)
        .column_as(vial::Column::Id.count(), "n")
        .filter(vial::Column::LotId.is_in(lot_ids.iter().copied()))
        .filter(vial::Column::Status.eq(VialStatus::Available.as_str()))
        .group_by(vial::Column::LotId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(counts.into_iter().collect())
}

/// Released, unexpired, frozen lots, first-expiring first.
async fn candidate_lots(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> AppResult<Vec<lot::Model>> {
    Ok(lot::Entity::find()
        .filter(lot::Column::Status.eq(LotStatus::Released.as_str()))
        .filter(lot::Column::ExpiresAt.gt(now))
        .filter(lot::Column::CellsPerVial.is_not_null())
        .order_by_asc(lot::Column::ExpiresAt)
        .order_by_asc(lot::Column::Code)
        .all(db)
        .await?)
}

/// The first-expiring lot with enough available vials (two queries).
async fn choose_lot(
    db: &impl ConnectionTrait,
    rules: &Protocol,
    target: &DoseTarget,
    now: DateTime<Utc>,
) -> AppResult<Option<LotOption>> {
    let lots = candidate_lots(db, now).await?;
    let ids: Vec<Uuid> = lots.iter().map(|l| l.id).collect();
    let available = available_counts(db, &ids).await?;
    Ok(lots.into_iter().find_map(|lot| {
        let needed = vials_needed(
            target.target_cells,
            lot.cells_per_vial?,
            rules.post_thaw_recovery_pct,
        );
        let available = available.get(&lot.id).copied().unwrap_or(0);
        (available >= needed).then_some(LotOption {
            lot,
            vials_needed: needed,
            available,
        })
    }))
}

/// A dose with what it is made of.
#[derive(Debug, Clone)]
pub struct DoseRecord {
    pub dose: dose::Model,
    pub subject_code: String,
    pub lot: lot::Model,
    /// The vials in the dose now, by code.
    pub vials: Vec<vial::Model>,
    /// Vials that left the dose (replaced), with why.
    pub removed: Vec<(vial::Model, String)>,
    pub counts: Vec<thaw_count::Model>,
    pub infusion: Option<infusion::Model>,
    /// Infusions the protocol gives each patient.
    pub infusions_total: i32,
    /// When a thawed product must have started infusing.
    pub use_by: Option<DateTime<Utc>>,
}

impl DoseRecord {
    pub fn status(&self) -> AppResult<DoseStatus> {
        self.dose.status.parse().map_err(internal)
    }
}

/// Orders a dose for the patient's next infusion and reserves its vials.
pub async fn order(
    state: &AppState,
    actor: &Actor,
    patient_id: Uuid,
    lot_id: Option<Uuid>,
) -> AppResult<DoseRecord> {
    let now = state.clock.now();
    let txn = state.db.write().await?;
    let postgres = txn.get_database_backend() == DbBackend::Postgres;
    let mut find_patient = patient::Entity::find_by_id(patient_id);
    if postgres {
        find_patient = find_patient.lock_exclusive();
    }
    let patient = find_patient
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("patient", patient_id))?;
    let current = protocol::current(&txn).await?;
    let rules = &current.protocol;
    if let Some(open) = dose::Entity::find()
        .filter(dose::Column::PatientId.eq(patient_id))
        .filter(dose::Column::Status.is_in(OPEN.map(DoseStatus::as_str)))
        .one(&txn)
        .await?
    {
        return Err(AppError::DoseInProgress {
            dose_id: open.id,
            code: open.code,
        });
    }
    let started = infusion_starts(&txn, patient_id).await?;
    let infusion_number = next_infusion(rules, &started, now).map_err(schedule_error)?;
    let weight = fresh_weight(&txn, rules, patient_id, now).await?;
    let target = dose_target(
        rules.dose_cells_per_kg,
        weight.weight_g,
        rules.dose_tolerance_pct,
    );

    let candidates = match lot_id {
        Some(lot_id) => {
            let lot = lot::Entity::find_by_id(lot_id)
                .one(&txn)
                .await?
                .ok_or_else(|| AppError::not_found("lot", lot_id))?;
            if lot.status != LotStatus::Released.as_str() {
                return Err(AppError::LotNotReleased {
                    lot_id,
                    code: lot.code,
                    status: lot.status,
                });
            }
            if lot.expires_at <= now {
                return Err(AppError::LotExpired {
                    expires_at: lot.expires_at,
                });
            }
            vec![lot]
        }
        None => candidate_lots(&txn, now).await?,
    };
    let mut reserved = None;
    let mut shortfall = None;
    for lot in candidates {
        let Some(cells_per_vial) = lot.cells_per_vial else {
            continue;
        };
        let needed = vials_needed(
            target.target_cells,
            cells_per_vial,
            rules.post_thaw_recovery_pct,
        );
        match reserve(&txn, lot.id, needed).await? {
            Reserve::Done(vials) => {
                reserved = Some((lot, needed, vials));
                break;
            }
            Reserve::Short(available) => {
                shortfall.get_or_insert((needed, lot.id, available));
            }
        }
    }
    let Some((lot, needed, vials)) = reserved else {
        let (needed, lot, available) = match shortfall {
            Some((needed, lot, available)) => (needed, Some(lot), Some(available)),
            None => (0, None, None),
        };
        return Err(AppError::InsufficientStock {
            needed,
            lot_id: lot_id.and(lot),
            available: lot_id.and(available),
        });
    };

    let ordinal = dose::Entity::find()
        .filter(dose::Column::PatientId.eq(patient_id))
        .count(&txn)
        .await?
        + 1;
    if ordinal > 99 {
        return Err(AppError::Exhausted(format!(
            "patient {} already has 99 dose orders",
            patient.subject_code
        )));
    }
    let model = dose::Model {
        id: Uuid::now_v7(),
        code: format!("{}-D{ordinal:02}", patient.subject_code),
        patient_id,
        infusion_number,
        protocol_version: current.version,
        weight_id: weight.id,
        weight_g: weight.weight_g,
        dose_per_kg: target.dose_per_kg,
        target_cells: target.target_cells,
        min_cells: target.min_cells,
        max_cells: target.max_cells,
        lot_id: lot.id,
        cells_per_vial: lot.cells_per_vial.unwrap_or_default(),
        vials_needed: i32::try_from(needed).unwrap_or(i32::MAX),
        status: DoseStatus::Reserved.as_str().to_owned(),
        thawed_at: None,
        concentration_cells_per_ml: None,
        available_ul: None,
        volume_ul: None,
        cells_to_administer: None,
        verified_at: None,
        verified_by: None,
        cancelled_at: None,
        cancel_reason: None,
        created_at: now,
        created_by: actor.id,
    };
    dose::Entity::insert(active(&model))
        .exec_without_returning(&txn)
        .await?;
    dose_vial::Entity::insert_many(vials.iter().map(|v| dose_vial::ActiveModel {
        dose_id: Set(model.id),
        vial_id: Set(v.id),
        reserved_at: Set(now),
        removed_at: Set(None),
        removed_reason: Set(None),
    }))
    .exec_without_returning(&txn)
    .await?;
    let mut events = vec![
        NewEvent::new("dose.ordered", "dose", model.id).details(json!({
            "code": model.code,
            "patient_id": patient_id,
            "subject_code": patient.subject_code,
            "infusion_number": infusion_number,
            "protocol_version": current.version,
            "weight_id": weight.id,
            "weight_g": weight.weight_g,
            "weight_measured_at": weight.measured_at,
            "dose_per_kg": target.dose_per_kg,
            "target_cells": target.target_cells,
            "min_cells": target.min_cells,
            "max_cells": target.max_cells,
            "lot_id": lot.id,
            "lot_code": lot.code,
            "vials": vials.iter().map(|v| &v.code).collect::<Vec<_>>(),
        })),
    ];
    events.extend(vials.iter().map(|v| {
        NewEvent::new("vial.reserved", "vial", v.id).details(json!({
            "code": v.code,
            "from": VialStatus::Available,
            "to": VialStatus::Reserved,
            "dose_id": model.id,
            "dose_code": model.code,
        }))
    }));
    ledger::append_many(&txn, actor, now, events).await?;
    txn.commit().await?;
    Ok(DoseRecord {
        dose: model,
        subject_code: patient.subject_code,
        lot,
        vials: vials
            .into_iter()
            .map(|mut v| {
                v.status = VialStatus::Reserved.as_str().to_owned();
                v
            })
            .collect(),
        removed: Vec::new(),
        counts: Vec::new(),
        infusion: None,
        infusions_total: rules.infusions,
        use_by: None,
    })
}

enum Reserve {
    Done(Vec<vial::Model>),
    /// Not enough: how many were available.
    Short(i64),
}

/// Reserves `count` available vials of the lot, by code.
async fn reserve(txn: &WriteTxn, lot_id: Uuid, count: i64) -> AppResult<Reserve> {
    let mut find = vial::Entity::find()
        .filter(vial::Column::LotId.eq(lot_id))
        .filter(vial::Column::Status.eq(VialStatus::Available.as_str()))
        .order_by_asc(vial::Column::Code)
        .limit(u64::try_from(count).unwrap_or(0));
    if txn.get_database_backend() == DbBackend::Postgres {
        find = find.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let vials = find.all(txn).await?;
    if (vials.len() as i64) < count {
        return Ok(Reserve::Short(vials.len() as i64));
    }
    let ids: Vec<Uuid> = vials.iter().map(|v| v.id).collect();
    vials::transition_all(
        txn,
        &ids,
        &[VialStatus::Available],
        VialStatus::Reserved,
        false,
        ("lot", lot_id),
    )
    .await?;
    Ok(Reserve::Done(vials))
}

fn schedule_error(refused: ScheduleRefused) -> AppError {
    match refused {
        ScheduleRefused::LimitReached { limit } => AppError::InfusionLimitReached { limit },
        ScheduleRefused::OutsideWindow {
            first_infusion_at,
            closed_at,
            window_days,
        } => AppError::OutsideWindow {
            first_infusion_at,
            closed_at,
            window_days,
        },
    }
}

/// When the patient's infusions started.
pub async fn infusion_starts(
    db: &impl ConnectionTrait,
    patient_id: Uuid,
) -> AppResult<Vec<DateTime<Utc>>> {
    Ok(infusion::Entity::find()
        .select_only()
        .column(infusion::Column::StartedAt)
        .filter(infusion::Column::PatientId.eq(patient_id))
        .into_tuple()
        .all(db)
        .await?)
}

fn active(model: &dose::Model) -> dose::ActiveModel {
    dose::ActiveModel {
        id: Set(model.id),
        code: Set(model.code.clone()),
        patient_id: Set(model.patient_id),
        infusion_number: Set(model.infusion_number),
        protocol_version: Set(model.protocol_version),
        weight_id: Set(model.weight_id),
        weight_g: Set(model.weight_g),
        dose_per_kg: Set(model.dose_per_kg),
        target_cells: Set(model.target_cells),
        min_cells: Set(model.min_cells),
        max_cells: Set(model.max_cells),
        lot_id: Set(model.lot_id),
        cells_per_vial: Set(model.cells_per_vial),
        vials_needed: Set(model.vials_needed),
        status: Set(model.status.clone()),
        thawed_at: Set(model.thawed_at),
        concentration_cells_per_ml: Set(model.concentration_cells_per_ml),
        available_ul: Set(model.available_ul),
        volume_ul: Set(model.volume_ul),
        cells_to_administer: Set(model.cells_to_administer),
        verified_at: Set(model.verified_at),
        verified_by: Set(model.verified_by),
        cancelled_at: Set(model.cancelled_at),
        cancel_reason: Set(model.cancel_reason.clone()),
        created_at: Set(model.created_at),
        created_by: Set(model.created_by),
    }
}

/// One vial's count after thaw, as sent.
#[derive(Debug, Clone, Copy)]
pub struct VialCount {
    pub vial_id: Uuid,
    pub viable_cells_per_ml: i64,
    pub viability_tenths: i32,
}

/// Records the post-thaw counts and works out the volume to give. Any vial
/// below the minimum viability, or a volume whose cells fall outside the
/// accepted range, refuses the whole thaw and changes nothing.
pub async fn thaw(
    state: &AppState,
    actor: &Actor,
    dose_id: Uuid,
    counts: &[VialCount],
    thawed_at: DateTime<Utc>,
) -> AppResult<DoseRecord> {
    let now = state.clock.now();
    not_in_future("thawed_at", thawed_at, now)?;
    for count in counts {
        if !(0..=10_000_000_000).contains(&count.viable_cells_per_ml) {
            return Err(AppError::invalid(
                "viable_cells_per_ml",
                "0 to 10^10 viable cells per mL",
            ));
        }
    }
    let txn = state.db.write().await?;
    let mut record = load(&txn, dose_id, true).await?;
    let from = record.status()?;
    let to = dose_transition(from, DoseAction::Thaw)?;
    if thawed_at < record.dose.created_at - Duration::hours(24) {
        return Err(AppError::invalid(
            "thawed_at",
            "more than a day before the dose was ordered",
        ));
    }
    let by_id: HashMap<Uuid, &VialCount> = counts.iter().map(|c| (c.vial_id, c)).collect();
    let expected: Vec<Uuid> = record.vials.iter().map(|v| v.id).collect();
    if by_id.len() != counts.len()
        || counts.len() != expected.len()
        || !expected.iter().all(|id| by_id.contains_key(id))
    {
        return Err(AppError::invalid(
            "vials",
            format!(
                "one count for each vial of the dose: {}",
                record
                    .vials
                    .iter()
                    .map(|v| v.code.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    let rules = protocol::version(&txn, record.dose.protocol_version).await?;
    let thaw_counts: Vec<ThawCount> = record
        .vials
        .iter()
        .map(|v| ThawCount {
            viable_cells_per_ml: by_id[&v.id].viable_cells_per_ml,
            viability_tenths: by_id[&v.id].viability_tenths,
            volume_ul: v.volume_ul,
        })
        .collect();
    let low = below_viability(&thaw_counts, rules.min_viability_pct);
    if !low.is_empty() {
        return Err(AppError::ViabilityTooLow {
            min_pct: rules.min_viability_pct,
            vials: low
                .into_iter()
                .map(|i| VialViability {
                    vial_id: record.vials[i].id,
                    code: record.vials[i].code.clone(),
                    viability_pct: crate::domain::patient::tenths_display(
                        thaw_counts[i].viability_tenths,
                    ),
                })
                .collect(),
        });
    }
    let target = target_of(&record.dose);
    let preparation: Preparation =
        prepare(&target, &thaw_counts).map_err(AppError::DoseOutOfRange)?;

    let changed = dose::Entity::update_many()
        .col_expr(dose::Column::Status, Expr::value(to.as_str()))
        .col_expr(dose::Column::ThawedAt, Expr::value(thawed_at))
        .col_expr(
            dose::Column::ConcentrationCellsPerMl,
            Expr::value(preparation.concentration_cells_per_ml),
        )
        .col_expr(
            dose::Column::AvailableUl,
            Expr::value(preparation.available_ul),
        )
        .col_expr(dose::Column::VolumeUl, Expr::value(preparation.volume_ul))
        .col_expr(
            dose::Column::CellsToAdminister,
            Expr::value(preparation.cells_to_administer),
        )
        .filter(dose::Column::Id.eq(dose_id))
        .filter(dose::Column::Status.eq(from.as_str()))
        .exec(&txn)
        .await?;
    if changed.rows_affected != 1 {
        return Err(AppError::ConcurrentChange {
            kind: "dose",
            id: dose_id,
        });
    }
    // A thawed vial has left the freezer for good: its position is free.
    vials::transition_all(
        &txn,
        &expected,
        &[VialStatus::Reserved],
        VialStatus::Thawed,
        true,
        ("dose", dose_id),
    )
    .await?;
    let rows: Vec<thaw_count::Model> = record
        .vials
        .iter()
        .zip(&thaw_counts)
        .map(|(v, c)| thaw_count::Model {
            id: Uuid::now_v7(),
            dose_id,
            vial_id: v.id,
            viable_cells_per_ml: c.viable_cells_per_ml,
            viability_tenths: c.viability_tenths,
            volume_ul: c.volume_ul,
            thawed_at,
            recorded_at: now,
            recorded_by: actor.id,
        })
        .collect();
    thaw_count::Entity::insert_many(rows.iter().map(|r| thaw_count::ActiveModel {
        id: Set(r.id),
        dose_id: Set(r.dose_id),
        vial_id: Set(r.vial_id),
        viable_cells_per_ml: Set(r.viable_cells_per_ml),
        viability_tenths: Set(r.viability_tenths),
        volume_ul: Set(r.volume_ul),
        thawed_at: Set(r.thawed_at),
        recorded_at: Set(r.recorded_at),
        recorded_by: Set(r.recorded_by),
    }))
    .exec_without_returning(&txn)
    .await?;
    let mut events = vec![
        NewEvent::new("dose.thawed", "dose", dose_id).details(json!({
            "code": record.dose.code,
            "from": from,
            "to": to,
            "thawed_at": thawed_at,
            "counts": rows.iter().zip(&record.vials).map(|(r, v)| json!({
                "vial_id": v.id,
                "code": v.code,
                "viable_cells_per_ml": r.viable_cells_per_ml,
                "viability_tenths": r.viability_tenths,
                "volume_ul": r.volume_ul,
            })).collect::<Vec<_>>(),
            "preparation": preparation,
        })),
    ];
    for v in &record.vials {
        let from_location = match (v.box_id, &v.position) {
            (Some(box_id), Some(position)) => {
                let unit = storage::unit(state, box_id).await?;
                Some(location_path([unit.path.as_str()], Some(position)))
            }
            _ => None,
        };
        events.push(
            NewEvent::new("vial.thawed", "vial", v.id)
                .moved(from_location, None)
                .details(json!({
                    "code": v.code,
                    "from": VialStatus::Reserved,
                    "to": VialStatus::Thawed,
                    "dose_id": dose_id,
                    "thawed_at": thawed_at,
                })),
        );
    }
    ledger::append_many(&txn, actor, now, events).await?;
    txn.commit().await?;
    record.dose.status = to.as_str().to_owned();
    record.dose.thawed_at = Some(thawed_at);
    record.dose.concentration_cells_per_ml = Some(preparation.concentration_cells_per_ml);
    record.dose.available_ul = Some(preparation.available_ul);
    record.dose.volume_ul = Some(preparation.volume_ul);
    record.dose.cells_to_administer = Some(preparation.cells_to_administer);
    for v in &mut record.vials {
        v.status = VialStatus::Thawed.as_str().to_owned();
        v.box_id = None;
        v.position = None;
    }
    record.counts = rows;
    record.use_by = Some(crate::domain::dose::use_by(
        thawed_at,
        rules.post_thaw_shelf_life_minutes,
    ));
    Ok(record)
}

/// The target the dose was ordered with.
pub fn target_of(dose: &dose::Model) -> DoseTarget {
    DoseTarget {
        weight_g: dose.weight_g,
        dose_per_kg: dose.dose_per_kg,
        target_cells: dose.target_cells,
        min_cells: dose.min_cells,
        max_cells: dose.max_cells,
        tolerance_pct: 0,
    }
}

/// The pharmacist's signed check of the prepared dose.
pub async fn verify(
    state: &AppState,
    signature: &VerifiedSignature,
    dose_id: Uuid,
) -> AppResult<DoseRecord> {
    let now = state.clock.now();
    let txn = state.db.write().await?;
    let mut record = load(&txn, dose_id, true).await?;
    let from = record.status()?;
    let to = dose_transition(from, DoseAction::Verify)?;
    let signer = signature.signer.user_id;
    set_status(&txn, dose_id, from, to, |update| {
        update
            .col_expr(dose::Column::VerifiedAt, Expr::value(now))
            .col_expr(dose::Column::VerifiedBy, Expr::value(signer))
    })
    .await?;
    signatures::append_signed(
        &txn,
        signature,
        now,
        NewEvent::new("dose.verified", "dose", dose_id).details(json!({
            "code": record.dose.code,
            "from": from,
            "to": to,
            "subject_code": record.subject_code,
            "infusion_number": record.dose.infusion_number,
            "volume_ul": record.dose.volume_ul,
            "cells_to_administer": record.dose.cells_to_administer,
            "min_cells": record.dose.min_cells,
            "max_cells": record.dose.max_cells,
            "vials": record.vials.iter().map(|v| &v.code).collect::<Vec<_>>(),
        })),
    )
    .await?;
    txn.commit().await?;
    record.dose.status = to.as_str().to_owned();
    record.dose.verified_at = Some(now);
    record.dose.verified_by = Some(signer);
    Ok(record)
}

/// Cancels a dose before its infusion. Unthawed vials go back to
/// `available`; thawed ones stay thawed (they cannot go back to storage)
/// until the lab discards them.
pub async fn cancel(
    state: &AppState,
    actor: &Actor,
    dose_id: Uuid,
    reason: &str,
) -> AppResult<DoseRecord> {
    let reason = crate::services::lots::required_reason(reason)?.to_owned();
    let now = state.clock.now();
    let txn = state.db.write().await?;
    let mut record = load(&txn, dose_id, true).await?;
    let from = record.status()?;
    let to = dose_transition(from, DoseAction::Cancel)?;
    let cancel_reason = reason.clone();
    set_status(&txn, dose_id, from, to, move |update| {
        update
            .col_expr(dose::Column::CancelledAt, Expr::value(now))
            .col_expr(dose::Column::CancelReason, Expr::value(cancel_reason))
    })
    .await?;
    let returned: Vec<&vial::Model> = record
        .vials
        .iter()
        .filter(|v| v.status == VialStatus::Reserved.as_str())
        .collect();
    let ids: Vec<Uuid> = returned.iter().map(|v| v.id).collect();
    vials::transition_all(
        &txn,
        &ids,
        &[VialStatus::Reserved],
        VialStatus::Available,
        false,
        ("dose", dose_id),
    )
    .await?;
    let thawed: Vec<&String> = record
        .vials
        .iter()
        .filter(|v| v.status == VialStatus::Thawed.as_str())
        .map(|v| &v.code)
        .collect();
    let mut events = vec![
        NewEvent::new("dose.cancelled", "dose", dose_id).details(json!({
            "code": record.dose.code,
            "from": from,
            "to": to,
            "reason": reason,
            "vials_returned": returned.iter().map(|v| &v.code).collect::<Vec<_>>(),
            "thawed_vials_to_discard": thawed,
        })),
    ];
    events.extend(returned.iter().map(|v| {
        NewEvent::new("vial.unreserved", "vial", v.id).details(json!({
            "code": v.code,
            "from": VialStatus::Reserved,
            "to": VialStatus::Available,
            "dose_id": dose_id,
            "reason": reason,
        }))
    }));
    ledger::append_many(&txn, actor, now, events).await?;
    txn.commit().await?;
    record.dose.status = to.as_str().to_owned();
    record.dose.cancelled_at = Some(now);
    record.dose.cancel_reason = Some(reason);
    for v in &mut record.vials {
        if ids.contains(&v.id) {
            v.status = VialStatus::Available.as_str().to_owned();
        }
    }
    Ok(record)
}

/// Discards one reserved vial of the dose (signed, with the reason: a
/// failed count, a cracked vial) and reserves another from the same lot.
pub async fn replace_vial(
    state: &AppState,
    signature: &VerifiedSignature,
    dose_id: Uuid,
    vial_id: Uuid,
    reason: &str,
) -> AppResult<DoseRecord> {
    let reason = crate::services::lots::required_reason(reason)?.to_owned();
    let now = state.clock.now();
    let txn = state.db.write().await?;
    let record = load(&txn, dose_id, true).await?;
    let from = record.status()?;
    dose_transition(from, DoseAction::ReplaceVial)?;
    let Some(old) = record.vials.iter().find(|v| v.id == vial_id) else {
        return Err(AppError::invalid("vial_id", "not one of the dose's vials"));
    };
    let Reserve::Done(mut fresh) = reserve(&txn, record.lot.id, 1).await? else {
        return Err(AppError::InsufficientStock {
            needed: 1,
            lot_id: Some(record.lot.id),
            available: Some(0),
        });
    };
    let replacement = fresh.remove(0);
    vials::transition_all(
        &txn,
        &[vial_id],
        &[VialStatus::Reserved],
        VialStatus::Discarded,
        true,
        ("vial", vial_id),
    )
    .await?;
    dose_vial::Entity::update_many()
        .col_expr(dose_vial::Column::RemovedAt, Expr::value(now))
        .col_expr(
            dose_vial::Column::RemovedReason,
            Expr::value(reason.clone()),
        )
        .filter(dose_vial::Column::DoseId.eq(dose_id))
        .filter(dose_vial::Column::VialId.eq(vial_id))
        .exec(&txn)
        .await?;
    dose_vial::Entity::insert(dose_vial::ActiveModel {
        dose_id: Set(dose_id),
        vial_id: Set(replacement.id),
        reserved_at: Set(now),
        removed_at: Set(None),
        removed_reason: Set(None),
    })
    .exec_without_returning(&txn)
    .await?;
    let from_location = match (old.box_id, &old.position) {
        (Some(box_id), Some(position)) => {
            let unit = storage::unit(state, box_id).await?;
            Some(location_path([unit.path.as_str()], Some(position)))
        }
        _ => None,
    };
    signatures::append_signed(
        &txn,
        signature,
        now,
        NewEvent::new("vial.discarded", "vial", vial_id)
            .moved(from_location, None)
            .details(json!({
                "code": old.code,
                "from": VialStatus::Reserved,
                "to": VialStatus::Discarded,
                "reason": reason,
                "dose_id": dose_id,
            })),
    )
    .await?;
    ledger::append_many(
        &txn,
        &signature.signer.actor(),
        now,
        vec![
            NewEvent::new("vial.reserved", "vial", replacement.id).details(json!({
                "code": replacement.code,
                "from": VialStatus::Available,
                "to": VialStatus::Reserved,
                "dose_id": dose_id,
                "dose_code": record.dose.code,
            })),
            NewEvent::new("dose.vial_replaced", "dose", dose_id).details(json!({
                "code": record.dose.code,
                "removed": old.code,
                "added": replacement.code,
                "reason": reason,
            })),
        ],
    )
    .await?;
    txn.commit().await?;
    load(state.db.conn(), dose_id, false).await
}

async fn set_status(
    txn: &WriteTxn,
    dose_id: Uuid,
    from: DoseStatus,
    to: DoseStatus,
    extra: impl FnOnce(sea_orm::UpdateMany<dose::Entity>) -> sea_orm::UpdateMany<dose::Entity>,
) -> AppResult<()> {
    let update = dose::Entity::update_many()
        .col_expr(dose::Column::Status, Expr::value(to.as_str()))
        .filter(dose::Column::Id.eq(dose_id))
        .filter(dose::Column::Status.eq(from.as_str()));
    let changed = extra(update).exec(txn).await?;
    if changed.rows_affected != 1 {
        return Err(AppError::ConcurrentChange {
            kind: "dose",
            id: dose_id,
        });
    }
    Ok(())
}

pub async fn get(state: &AppState, id: Uuid) -> AppResult<DoseRecord> {
    load(state.db.conn(), id, false).await
}

/// The dose with this code.
pub async fn by_code(db: &impl ConnectionTrait, code: &str) -> AppResult<Option<dose::Model>> {
    Ok(dose::Entity::find()
        .filter(dose::Column::Code.eq(code))
        .one(db)
        .await?)
}

/// Loads a dose and what it is made of; `lock` takes the dose row for
/// update on PostgreSQL (inside a write transaction).
pub async fn load(db: &impl ConnectionTrait, id: Uuid, lock: bool) -> AppResult<DoseRecord> {
    let mut find = dose::Entity::find_by_id(id);
    if lock && db.get_database_backend() == DbBackend::Postgres {
        find = find.lock_exclusive();
    }
    let dose = find
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("dose", id))?;
    let patient = patients::find(db, dose.patient_id).await?;
    let lot = lot::Entity::find_by_id(dose.lot_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("lot", dose.lot_id))?;
    let links = dose_vial::Entity::find()
        .filter(dose_vial::Column::DoseId.eq(id))
        .all(db)
        .await?;
    let vial_ids: Vec<Uuid> = links.iter().map(|l| l.vial_id).collect();
    let mut vials: BTreeMap<Uuid, vial::Model> = vial::Entity::find()
        .filter(vial::Column::Id.is_in(vial_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|v| (v.id, v))
        .collect();
    let mut current = Vec::new();
    let mut removed = Vec::new();
    for link in links {
        if let Some(v) = vials.remove(&link.vial_id) {
            match link.removed_at {
                None => current.push(v),
                Some(_) => removed.push((v, link.removed_reason.unwrap_or_default())),
            }
        }
    }
    current.sort_by(|a, b| a.code.cmp(&b.code));
    let counts = thaw_count::Entity::find()
        .filter(thaw_count::Column::DoseId.eq(id))
        .order_by_asc(thaw_count::Column::RecordedAt)
        .all(db)
        .await?;
    let infusion = infusion::Entity::find()
        .filter(infusion::Column::DoseId.eq(id))
        .one(db)
        .await?;
    let rules = protocol::version(db, dose.protocol_version).await?;
    Ok(DoseRecord {
        use_by: dose
            .thawed_at
            .map(|t| crate::domain::dose::use_by(t, rules.post_thaw_shelf_life_minutes)),
        infusions_total: rules.infusions,
        subject_code: patient.subject_code,
        dose,
        lot,
        vials: current,
        removed,
        counts,
        infusion,
    })
}
