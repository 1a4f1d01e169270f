//! Dose orders: the weight-based calculation, reserving whole vials from one
//! released lot without ever handing a vial to two doses, the post-thaw
//! counts (always recorded: a count is a fact about thawed vials), the
//! pharmacist's signed verification, cancelling, replacing a vial.
//!
//! Every step after the order re-judges what can expire on the server's
//! clock at that moment: the lot (expired, recalled), the weight (voided,
//! older than the protocol allows) and the thawed product's shelf life. A
//! time a client sends never makes an expired product valid.
//!
//! Reservation is one transaction. On SQLite the single writer serialises
//! it; on PostgreSQL each order locks its patient row (so one patient's
//! orders are numbered one at a time) and picks vials with `FOR UPDATE SKIP
//! LOCKED` (so concurrent orders take disjoint vials). Either way the
//! status change is conditional (`WHERE status = 'available'`) and its row
//! count is checked: a vial cannot be reserved twice.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, LockBehavior, LockType};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde_json::json;
use uuid::Uuid;

use crate::db::WriteTxn;
use crate::domain::dose::{
    CountJudgement, CountRules, DoseTarget, Preparation, ThawCount, dose_target, judge_counts,
    prepare, recovery_tenths, vials_needed,
};
use crate::domain::lifecycle::{
    DoseAction, DoseStatus, LotStatus, VialStatus, count_outcome, dose_transition,
};
use crate::domain::patient::{ScheduleRefused, next_infusion, tenths_display};
use crate::domain::protocol::Protocol;
use crate::domain::storage::location_path;
use crate::domain::zone::SiteZone;
use crate::entities::{dose, dose_vial, infusion, lot, patient, thaw_count, vial, weight};
use crate::error::{AppError, AppResult, ImplausibleVial, VialViability};
use crate::services::Actor;
use crate::services::donors::{CLOCK_SKEW, internal, not_in_future};
use crate::services::ledger::{self, NewEvent};
use crate::services::lots::required_reason;
use crate::services::signatures::{self, VerifiedSignature};
use crate::services::{patients, protocol, storage, vials};
use crate::state::AppState;

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
            let needed = vials_for(&lot, &target, rules).ok_or_else(|| {
                AppError::invalid("lot_id", "the lot is not frozen into vials yet")
            })?;
            let available = available_counts(db, &[lot_id]).await?;
            Some(LotOption {
                vials_needed: needed,
                available: available.get(&lot_id).copied().unwrap_or(0),
                lot,
            })
        }
        None => choose_lot(db, rules, &target, now).await?,
    };
    let steps = working(
        rules,
        &target,
        weight.as_ref(),
        lot.as_ref(),
        state.settings.timezone,
    );
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
    zone: SiteZone,
) -> Vec<String> {
    let mut steps = Vec::new();
    match weight {
        Some(w) => steps.push(format!(
            "weight {} {} measured {} = {} g",
            w.value,
            w.unit,
            zone.minute(w.measured_at),
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
            "vials = ⌈{} ÷ ({} cells × {} % recovery)⌉ = {} from lot {} ({} available, expires {})",
            target.target_cells,
            per_vial,
            rules.post_thaw_recovery_pct,
            option.vials_needed,
            option.lot.code,
            option.available,
            zone.day(option.lot.expires_at),
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

/// The latest weight that is not voided, if measured within the protocol's
/// validity at `at`.
async fn fresh_weight(
    db: &impl ConnectionTrait,
    rules: &Protocol,
    patient_id: Uuid,
    at: DateTime<Utc>,
) -> AppResult<weight::Model> {
    let weight = patients::latest_weight(db, patient_id)
        .await?
        .ok_or(AppError::NoWeight)?;
    weight_still_valid(rules, &weight, at)?;
    Ok(weight)
}

/// A weight is used only unvoided and measured within the protocol's days.
fn weight_still_valid(
    rules: &Protocol,
    weight: &weight::Model,
    at: DateTime<Utc>,
) -> AppResult<()> {
    if weight.voided_at.is_some() {
        return Err(AppError::WeightVoided {
            weight_id: weight.id,
            weight_g: weight.weight_g,
        });
    }
    if weight.measured_at < at - Duration::days(i64::from(rules.weight_valid_days)) {
        return Err(AppError::StaleWeight {
            measured_at: weight.measured_at,
            valid_days: rules.weight_valid_days,
        });
    }
    Ok(())
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

/// The vials of `lot` a dose of `target` needs, allowing for the
/// protocol's post-thaw recovery; `None` for a lot not frozen into vials.
fn vials_for(lot: &lot::Model, target: &DoseTarget, rules: &Protocol) -> Option<i64> {
    lot.cells_per_vial.map(|cells_per_vial| {
        vials_needed(
            target.target_cells,
            cells_per_vial,
            rules.post_thaw_recovery_pct,
        )
    })
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
        let needed = vials_for(&lot, target, rules)?;
        let available = available.get(&lot.id).copied().unwrap_or(0);
        (available >= needed).then_some(LotOption {
            lot,
            vials_needed: needed,
            available,
        })
    }))
}

/// Why the lots that are not candidates could not serve a dose.
#[derive(Debug, Default)]
struct Blocked {
    /// The refusal naming a lot that holds enough vials but is not yet
    /// released (first: release makes it serve), else the first-expiring
    /// such lot that is recalled or expired.
    could_have_served: Option<AppError>,
    /// The vials the dose needs from the first of those lots, when none
    /// holds enough: the need a shortage names.
    needed: Option<i64>,
}

/// The frozen lots a dose may not come from (recalled, in quarantine, or
/// released but expired): when one of them held the vials the dose needs,
/// the pharmacist is told that lot's state rather than of a shortage of
/// lots that do not exist (issue 12).
async fn blocked_lots(
    db: &impl ConnectionTrait,
    rules: &Protocol,
    target: &DoseTarget,
    now: DateTime<Utc>,
) -> AppResult<Blocked> {
    use sea_orm::Condition;
    let lots = lot::Entity::find()
        .filter(lot::Column::CellsPerVial.is_not_null())
        .filter(
            Condition::any()
                .add(lot::Column::Status.eq(LotStatus::Recalled.as_str()))
                .add(lot::Column::Status.eq(LotStatus::Quarantine.as_str()))
                .add(
                    Condition::all()
                        .add(lot::Column::Status.eq(LotStatus::Released.as_str()))
                        .add(lot::Column::ExpiresAt.lte(now)),
                ),
        )
        .order_by_asc(lot::Column::ExpiresAt)
        .order_by_asc(lot::Column::Code)
        .all(db)
        .await?;
    if lots.is_empty() {
        return Ok(Blocked::default());
    }
    // a lot awaiting release is named first: released, it serves
    let mut lots = lots;
    lots.sort_by_key(|lot| !(lot.status == LotStatus::Quarantine.as_str() && lot.expires_at > now));
    // the vials each lot would have offered but for its state
    let held: HashMap<Uuid, i64> = vial::Entity::find()
        .select_only()
        .column(vial::Column::LotId)
        .column_as(vial::Column::Id.count(), "n")
        .filter(vial::Column::LotId.is_in(lots.iter().map(|l| l.id)))
        .filter(vial::Column::Status.is_in([
            VialStatus::Available.as_str(),
            VialStatus::Quarantine.as_str(),
            VialStatus::Recalled.as_str(),
        ]))
        .group_by(vial::Column::LotId)
        .into_tuple::<(Uuid, i64)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let mut blocked = Blocked::default();
    for lot in &lots {
        let Some(needed) = vials_for(lot, target, rules) else {
            continue;
        };
        blocked.needed.get_or_insert(needed);
        if held.get(&lot.id).copied().unwrap_or(0) >= needed
            && let Err(refusal) = lot_usable(lot, now)
        {
            blocked.could_have_served = Some(refusal);
            break;
        }
    }
    Ok(blocked)
}

/// A lot may serve a dose at `at` only released and unexpired.
pub(crate) fn lot_usable(lot: &lot::Model, at: DateTime<Utc>) -> AppResult<()> {
    if lot.status == LotStatus::Recalled.as_str() {
        return Err(AppError::LotRecalled {
            lot_id: lot.id,
            code: lot.code.clone(),
        });
    }
    if lot.status != LotStatus::Released.as_str() {
        return Err(AppError::LotNotReleased {
            lot_id: lot.id,
            code: lot.code.clone(),
            status: lot.status.clone(),
        });
    }
    if lot.expires_at <= at {
        return Err(AppError::LotExpired {
            lot_id: lot.id,
            code: lot.code.clone(),
            expires_at: lot.expires_at,
        });
    }
    Ok(())
}

/// A dose with what it is made of.
#[derive(Debug, Clone)]
pub struct DoseRecord {
    pub dose: dose::Model,
    pub subject_code: String,
    /// The patient's second identifier, printed (never encoded) on the bag.
    pub birth_date: NaiveDate,
    pub lot: lot::Model,
    /// The weight the dose was computed from.
    pub weight: weight::Model,
    /// The vials in the dose now, by code.
    pub vials: Vec<vial::Model>,
    /// Vials that left the dose (replaced), with why.
    pub removed: Vec<(vial::Model, String)>,
    /// Every count recorded, oldest first (superseded ones too).
    pub counts: Vec<thaw_count::Model>,
    pub infusion: Option<infusion::Model>,
    /// Infusions the protocol gives each patient.
    pub infusions_total: i32,
    /// When a thawed product must have started infusing.
    pub use_by: Option<DateTime<Utc>>,
    /// The protocol version the dose was ordered under.
    pub rules: std::sync::Arc<Protocol>,
}

impl DoseRecord {
    pub fn status(&self) -> AppResult<DoseStatus> {
        self.dose.status.parse().map_err(internal)
    }

    /// The count of a vial that no later count supersedes.
    pub fn current_count(&self, vial_id: Uuid) -> Option<&thaw_count::Model> {
        let superseded: HashSet<Uuid> =
            self.counts.iter().filter_map(|c| c.supersedes_id).collect();
        self.counts
            .iter()
            .rev()
            .find(|c| c.vial_id == vial_id && !superseded.contains(&c.id))
    }

    /// Whether a count was superseded by a signed correction.
    pub fn is_superseded(&self, count_id: Uuid) -> bool {
        self.counts
            .iter()
            .any(|c| c.supersedes_id == Some(count_id))
    }
}

/// Re-checks, at `at`, what can go stale between the order and the bedside:
/// the lot (recalled, expired) and the weight (voided, too old).
pub(crate) fn still_usable(record: &DoseRecord, at: DateTime<Utc>) -> AppResult<()> {
    lot_usable(&record.lot, at)?;
    weight_still_valid(&record.rules, &record.weight, at)
}

/// Refuses a thawed product past its shelf life at `at`.
pub(crate) fn within_shelf_life(record: &DoseRecord, at: DateTime<Utc>) -> AppResult<()> {
    if let (Some(thawed_at), Some(use_by)) = (record.dose.thawed_at, record.use_by)
        && at > use_by
    {
        return Err(AppError::ThawedProductExpired { thawed_at, use_by });
    }
    Ok(())
}

/// The schedule's answer for an infusion at `at`: its number, or why not
/// (on the site's calendar: Day 1 is the first infusion's local date).
pub(crate) fn schedule(
    rules: &Protocol,
    zone: SiteZone,
    starts: &[DateTime<Utc>],
    at: DateTime<Utc>,
) -> AppResult<i32> {
    let days: Vec<NaiveDate> = starts.iter().map(|t| zone.date(*t)).collect();
    next_infusion(rules, &days, zone.date(at)).map_err(|refused| match refused {
        ScheduleRefused::LimitReached { limit } => AppError::InfusionLimitReached { limit },
        ScheduleRefused::OutsideWindow {
            first_day,
            last_day,
            window_days,
        } => AppError::OutsideWindow {
            first_infusion_at: starts.iter().min().copied().unwrap_or(at),
            closed_at: zone.start_of(last_day + Duration::days(1)),
            window_days,
            first_day,
            last_day,
        },
        ScheduleRefused::TooSoon {
            previous_day,
            earliest,
            min_interval_days,
        } => AppError::TooSoon {
            previous_day,
            earliest,
            min_interval_days,
        },
    })
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
        .filter(dose::Column::Status.is_in(DoseStatus::OPEN.map(DoseStatus::as_str)))
        .one(&txn)
        .await?
    {
        return Err(AppError::DoseInProgress {
            dose_id: open.id,
            code: open.code,
        });
    }
    let started = infusion_starts(&txn, patient_id).await?;
    let infusion_number = schedule(rules, state.settings.timezone, &started, now)?;
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
            lot_usable(&lot, now)?;
            vec![lot]
        }
        None => candidate_lots(&txn, now).await?,
    };
    let mut reserved = None;
    let mut shortfall = None;
    let mut any_available = false;
    for lot in candidates {
        let Some(needed) = vials_for(&lot, &target, rules) else {
            continue;
        };
        match reserve(&txn, lot.id, needed).await? {
            Reserve::Done(vials) => {
                reserved = Some((lot, needed, vials));
                break;
            }
            Reserve::Short(available) => {
                any_available |= available > 0;
                shortfall.get_or_insert((needed, lot.id, available));
            }
        }
    }
    let Some((lot, needed, vials)) = reserved else {
        // A usable lot that is short is a shortage, whatever other lots
        // were blocked; only when no usable lot had any vial is the lot
        // that could have served named.
        let blocked = if lot_id.is_none() && !any_available {
            blocked_lots(&txn, rules, &target, now).await?
        } else {
            Blocked::default()
        };
        if let Some(refusal) = blocked.could_have_served {
            return Err(refusal);
        }
        let (needed, lot, available) = match shortfall {
            Some((needed, lot, available)) => (Some(needed), Some(lot), Some(available)),
            None => (blocked.needed, None, None),
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
    // D01 … D99, then D100 and on: codes never run out (cancelled orders
    // count too, so a code is never reused)
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
        count_failure: None,
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
            "lot_expires_at": lot.expires_at,
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
        birth_date: patient.birth_date,
        lot,
        weight,
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
        rules: std::sync::Arc::new(current.protocol),
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
        count_failure: Set(model.count_failure.clone()),
    }
}

/// One vial's count after thaw, as sent.
#[derive(Debug, Clone)]
pub struct VialCount {
    pub vial_id: Uuid,
    pub viable_cells_per_ml: i64,
    /// Floored from the exact text.
    pub viability_tenths: i32,
    /// The viability as entered.
    pub viability_text: String,
    /// A person confirms an implausible count…
    pub confirm: bool,
    /// …and says why it is right.
    pub reason: Option<String>,
}

/// Counts to record for a dose.
#[derive(Debug, Clone)]
pub struct Counting {
    pub counts: Vec<VialCount>,
    /// When the vials not counted before were thawed; the server's now when
    /// not given. Never in the future.
    pub thawed_at: Option<DateTime<Utc>>,
    /// Corrections of counts already recorded are signed, with a reason.
    pub correction: Option<(VerifiedSignature, String)>,
}

/// Records post-thaw counts: the first counts of the dose's reserved vials
/// (which thaws them) and, signed, corrections of counts already recorded
/// (which supersede them; both are kept). Counting needs a thawed vial, so
/// a well-formed count is always recorded and its vials become `thawed`
/// for good, whatever the judgement. Then every vial's count is judged
/// (viability, plausible recovery, distance from the median), and the dose
/// on the server's clock (lot recalled or expired, weight voided or stale,
/// shelf life); if everything passes and the volume holds a dose in range
/// the dose is `thawed`, else `count_failed` and the answer is the refusal
/// wrapped in [`AppError::CountsRecorded`]. A malformed request (a count
/// missing, a vial not of the dose, a correction unsigned) changes nothing.
pub async fn thaw(
    state: &AppState,
    actor: &Actor,
    dose_id: Uuid,
    counting: Counting,
) -> AppResult<DoseRecord> {
    let now = state.clock.now();
    let thawed_at = counting.thawed_at.unwrap_or(now);
    not_in_future("thawed_at", thawed_at, now)?;
    let mut seen = HashSet::new();
    for count in &counting.counts {
        if !(0..=10_000_000_000).contains(&count.viable_cells_per_ml) {
            return Err(AppError::invalid(
                "viable_cells_per_ml",
                "0 to 10^10 viable cells per mL",
            ));
        }
        if count.confirm {
            let reason = count.reason.as_deref().unwrap_or("");
            required_reason(reason).map_err(|_| {
                AppError::invalid(
                    "reason",
                    "confirming an implausible count needs the reason it is right",
                )
            })?;
        }
        if !seen.insert(count.vial_id) {
            return Err(AppError::invalid("vials", "a vial is counted twice"));
        }
    }
    let correction_reason = match &counting.correction {
        Some((_, reason)) => Some(required_reason(reason)?.to_owned()),
        None => None,
    };
    let txn = state.db.write().await?;
    let mut record = load(state, &txn, dose_id, true).await?;
    let from = record.status()?;
    dose_transition(from, DoseAction::Thaw)?;
    let by_id: HashMap<Uuid, &VialCount> = counting.counts.iter().map(|c| (c.vial_id, c)).collect();
    let codes = |status: VialStatus| -> Vec<&str> {
        record
            .vials
            .iter()
            .filter(|v| v.status == status.as_str())
            .map(|v| v.code.as_str())
            .collect()
    };
    let uncounted = codes(VialStatus::Reserved);
    if by_id
        .keys()
        .any(|id| !record.vials.iter().any(|v| v.id == *id))
    {
        return Err(AppError::invalid(
            "vials",
            format!(
                "a count is for a vial that is not in this dose; its vials are {}",
                record
                    .vials
                    .iter()
                    .map(|v| v.code.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    let missing: Vec<&str> = record
        .vials
        .iter()
        .filter(|v| v.status == VialStatus::Reserved.as_str() && !by_id.contains_key(&v.id))
        .map(|v| v.code.as_str())
        .collect();
    if !missing.is_empty() {
        return Err(AppError::invalid(
            "vials",
            format!(
                "one count for each vial not counted yet: {} (missing {})",
                uncounted.join(", "),
                missing.join(", ")
            ),
        ));
    }
    let corrected: Vec<&vial::Model> = record
        .vials
        .iter()
        .filter(|v| v.status != VialStatus::Reserved.as_str() && by_id.contains_key(&v.id))
        .collect();
    if counting.counts.is_empty() {
        return Err(AppError::invalid(
            "vials",
            "no count: the dose's counts are recorded; correct one with a signed recount",
        ));
    }
    if !corrected.is_empty() && counting.correction.is_none() {
        return Err(AppError::invalid(
            "signature",
            format!(
                "{} already counted: a correction of a recorded count is signed, with a reason",
                corrected
                    .iter()
                    .map(|v| v.code.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    if !uncounted.is_empty() && thawed_at < record.dose.created_at - CLOCK_SKEW {
        return Err(AppError::invalid(
            "thawed_at",
            "before the dose's vials were reserved",
        ));
    }
    let rules = record.rules.clone();

    // The new rows: first counts of reserved vials, corrections of others.
    let mut rows = Vec::with_capacity(counting.counts.len());
    let mut newly_thawed = Vec::new();
    for v in &record.vials {
        let Some(count) = by_id.get(&v.id) else {
            continue;
        };
        let previous = record.current_count(v.id).cloned();
        let first = v.status == VialStatus::Reserved.as_str();
        if first {
            newly_thawed.push(v.clone());
        }
        rows.push(thaw_count::Model {
            id: Uuid::now_v7(),
            dose_id,
            vial_id: v.id,
            viable_cells_per_ml: count.viable_cells_per_ml,
            viability_tenths: count.viability_tenths,
            volume_ul: v.volume_ul,
            thawed_at: match (&previous, first) {
                (Some(p), false) => p.thawed_at,
                _ => thawed_at,
            },
            recorded_at: now,
            recorded_by: actor.id,
            recovery_tenths: Some(recovery_tenths(
                count.viable_cells_per_ml,
                v.volume_ul,
                v.cells_per_vial,
            )),
            failure: None,
            confirmed: count.confirm,
            confirm_reason: count
                .confirm
                .then(|| count.reason.as_deref().unwrap_or("").trim().to_owned()),
            supersedes_id: if first { None } else { previous.map(|p| p.id) },
            correction_reason: if first {
                None
            } else {
                correction_reason.clone()
            },
            viability_text: Some(count.viability_text.clone()),
        });
    }

    // Every vial of the dose with its count as it now stands.
    let current: Vec<(&vial::Model, thaw_count::Model)> = record
        .vials
        .iter()
        .map(|v| {
            let count = rows
                .iter()
                .find(|r| r.vial_id == v.id)
                .cloned()
                .or_else(|| record.current_count(v.id).cloned())
                .ok_or_else(|| {
                    internal(format!(
                        "vial {} of dose {} has no count",
                        v.code, record.dose.code
                    ))
                })?;
            Ok((v, count))
        })
        .collect::<AppResult<_>>()?;
    let thaw_counts: Vec<ThawCount> = current
        .iter()
        .map(|(_, c)| ThawCount {
            viable_cells_per_ml: c.viable_cells_per_ml,
            viability_tenths: c.viability_tenths,
            volume_ul: c.volume_ul,
        })
        .collect();
    let frozen: Vec<i64> = current.iter().map(|(v, _)| v.cells_per_vial).collect();
    let judged = judge_counts(
        &thaw_counts,
        &frozen,
        CountRules {
            min_viability_pct: rules.min_viability_pct,
            recovery_min_pct: rules.plausible_recovery_min_pct,
            recovery_max_pct: rules.plausible_recovery_max_pct,
            spread_max_pct: rules.count_spread_max_pct,
        },
    );
    for row in &mut rows {
        if let Some(i) = current.iter().position(|(v, _)| v.id == row.vial_id) {
            row.failure = count_failure(&judged[i], row.confirmed).map(str::to_owned);
        }
    }
    let thawed_first = current.iter().map(|(_, c)| c.thawed_at).min();
    record.dose.thawed_at = thawed_first;
    record.use_by =
        thawed_first.map(|t| crate::domain::dose::use_by(t, rules.post_thaw_shelf_life_minutes));
    let (preparation, refusal) = match judge_dose(&record, &current, &judged, now) {
        Some(refusal) => (None, Some(refusal)),
        None => match prepare(&target_of(&record.dose), &thaw_counts) {
            Ok(preparation) => (Some(preparation), None),
            Err(error) => (None, Some(AppError::DoseOutOfRange(error))),
        },
    };
    finish_thaw(
        state,
        txn,
        actor,
        record,
        from,
        rows,
        newly_thawed,
        counting.correction,
        preparation,
        refusal,
        now,
    )
    .await
}

/// Why a vial's count keeps it out of the dose, as the refusal's code.
fn count_failure(judged: &CountJudgement, confirmed: bool) -> Option<&'static str> {
    if judged.viability_low {
        Some("viability_too_low")
    } else if judged.implausible() && !confirmed {
        Some("implausible_count")
    } else {
        None
    }
}

/// The first reason the dose cannot be prepared from these counts now.
fn judge_dose(
    record: &DoseRecord,
    current: &[(&vial::Model, thaw_count::Model)],
    judged: &[CountJudgement],
    now: DateTime<Utc>,
) -> Option<AppError> {
    if let Err(error) = still_usable(record, now) {
        return Some(error);
    }
    if let Err(error) = within_shelf_life(record, now) {
        return Some(error);
    }
    let rules = &record.rules;
    let low: Vec<VialViability> = current
        .iter()
        .zip(judged)
        .filter(|(_, j)| j.viability_low)
        .map(|((v, c), _)| VialViability {
            vial_id: v.id,
            code: v.code.clone(),
            viability_pct: tenths_display(c.viability_tenths),
        })
        .collect();
    if !low.is_empty() {
        return Some(AppError::ViabilityTooLow {
            min_pct: rules.min_viability_pct,
            vials: low,
        });
    }
    let implausible: Vec<ImplausibleVial> = current
        .iter()
        .zip(judged)
        .filter(|((_, c), j)| j.implausible() && !c.confirmed)
        .map(|((v, c), j)| ImplausibleVial {
            vial_id: v.id,
            code: v.code.clone(),
            viable_cells_per_ml: c.viable_cells_per_ml,
            cells_frozen: v.cells_per_vial,
            recovery_pct: tenths_text(j.recovery_tenths),
            recovery_outside_range: j.recovery_implausible,
            median_deviation_pct: j.spread_tenths.map(tenths_text),
        })
        .collect();
    if !implausible.is_empty() {
        return Some(AppError::ImplausibleCount {
            vials: implausible,
            recovery_min_pct: rules.plausible_recovery_min_pct,
            recovery_max_pct: rules.plausible_recovery_max_pct,
            spread_max_pct: rules.count_spread_max_pct,
        });
    }
    None
}

fn tenths_text(tenths: i64) -> String {
    format!("{}.{}", tenths / 10, tenths % 10)
}

/// Writes what the counts decided, in the transaction that recorded them.
#[allow(clippy::too_many_arguments)]
async fn finish_thaw(
    state: &AppState,
    txn: WriteTxn,
    actor: &Actor,
    mut record: DoseRecord,
    from: DoseStatus,
    rows: Vec<thaw_count::Model>,
    newly_thawed: Vec<vial::Model>,
    correction: Option<(VerifiedSignature, String)>,
    preparation: Option<Preparation>,
    refusal: Option<AppError>,
    now: DateTime<Utc>,
) -> AppResult<DoseRecord> {
    let dose_id = record.dose.id;
    let to = count_outcome(refusal.is_none() && preparation.is_some());
    let failure = refusal.as_ref().map(|e| e.code().to_owned());
    let column = |value: Option<i64>| Expr::value(value);
    let changed = dose::Entity::update_many()
        .col_expr(dose::Column::Status, Expr::value(to.as_str()))
        .col_expr(dose::Column::ThawedAt, Expr::value(record.dose.thawed_at))
        .col_expr(
            dose::Column::ConcentrationCellsPerMl,
            column(preparation.map(|p| p.concentration_cells_per_ml)),
        )
        .col_expr(
            dose::Column::AvailableUl,
            column(preparation.map(|p| p.available_ul)),
        )
        .col_expr(
            dose::Column::VolumeUl,
            column(preparation.map(|p| p.volume_ul)),
        )
        .col_expr(
            dose::Column::CellsToAdminister,
            column(preparation.map(|p| p.cells_to_administer)),
        )
        .col_expr(dose::Column::CountFailure, Expr::value(failure.clone()))
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
    let thawed_ids: Vec<Uuid> = newly_thawed.iter().map(|v| v.id).collect();
    vials::transition_all(
        &txn,
        &thawed_ids,
        &[VialStatus::Reserved],
        VialStatus::Thawed,
        true,
        ("dose", dose_id),
    )
    .await?;
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
        recovery_tenths: Set(r.recovery_tenths),
        failure: Set(r.failure.clone()),
        confirmed: Set(r.confirmed),
        confirm_reason: Set(r.confirm_reason.clone()),
        supersedes_id: Set(r.supersedes_id),
        correction_reason: Set(r.correction_reason.clone()),
        viability_text: Set(r.viability_text.clone()),
    }))
    .exec_without_returning(&txn)
    .await?;
    let code_of = |vial_id: Uuid| {
        record
            .vials
            .iter()
            .find(|v| v.id == vial_id)
            .map(|v| v.code.clone())
            .unwrap_or_default()
    };
    let action = if rows.iter().any(|r| r.supersedes_id.is_some()) {
        "dose.count_corrected"
    } else {
        "dose.thawed"
    };
    let event = NewEvent::new(action, "dose", dose_id).details(json!({
        "code": record.dose.code,
        "from": from,
        "to": to,
        "thawed_at": record.dose.thawed_at,
        "use_by": record.use_by,
        "counts": rows.iter().map(|r| json!({
            "count_id": r.id,
            "vial_id": r.vial_id,
            "code": code_of(r.vial_id),
            "viable_cells_per_ml": r.viable_cells_per_ml,
            "viability_tenths": r.viability_tenths,
            "viability_as_entered": r.viability_text,
            "volume_ul": r.volume_ul,
            "thawed_at": r.thawed_at,
            "recovery_tenths": r.recovery_tenths,
            "failure": r.failure,
            "confirmed": r.confirmed,
            "confirm_reason": r.confirm_reason,
            "supersedes_id": r.supersedes_id,
        })).collect::<Vec<_>>(),
        "correction_reason": correction.as_ref().map(|(_, reason)| reason),
        "preparation": preparation,
        "failure": failure,
    }));
    let mut events = Vec::with_capacity(newly_thawed.len() + 1);
    for v in &newly_thawed {
        let from_location = match (v.box_id, &v.position) {
            (Some(box_id), Some(position)) => {
                let unit = storage::unit(state, box_id).await?;
                Some(location_path([unit.path.as_str()], Some(position)))
            }
            _ => None,
        };
        let thawed_at = rows.iter().find(|r| r.vial_id == v.id).map(|r| r.thawed_at);
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
    // One statement for every event, unless a signature binds the dose's.
    let actor = match &correction {
        Some((signature, _)) => {
            signatures::append_signed(&txn, signature, now, event).await?;
            signature.signer.actor()
        }
        None => {
            events.insert(0, event);
            actor.clone()
        }
    };
    ledger::append_many(&txn, &actor, now, events).await?;
    txn.commit().await?;
    record.dose.status = to.as_str().to_owned();
    record.dose.count_failure = failure;
    record.dose.concentration_cells_per_ml = preparation.map(|p| p.concentration_cells_per_ml);
    record.dose.available_ul = preparation.map(|p| p.available_ul);
    record.dose.volume_ul = preparation.map(|p| p.volume_ul);
    record.dose.cells_to_administer = preparation.map(|p| p.cells_to_administer);
    for v in &mut record.vials {
        if thawed_ids.contains(&v.id) {
            v.status = VialStatus::Thawed.as_str().to_owned();
            v.box_id = None;
            v.position = None;
        }
    }
    record.counts.extend(rows);
    match refusal {
        None => Ok(record),
        Some(inner) => Err(AppError::CountsRecorded {
            inner: Box::new(inner),
            dose_id,
            dose_status: to.as_str().to_owned(),
        }),
    }
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

/// The pharmacist's signed check of the prepared dose, on the server's
/// clock: the lot still released and unexpired, the weight still valid,
/// the product within its shelf life, and (protocol
/// `independent_verification`) a pharmacist other than whoever counted.
pub async fn verify(
    state: &AppState,
    signature: &VerifiedSignature,
    dose_id: Uuid,
) -> AppResult<DoseRecord> {
    let now = state.clock.now();
    let txn = state.db.write().await?;
    let mut record = load(state, &txn, dose_id, true).await?;
    let from = record.status()?;
    let to = dose_transition(from, DoseAction::Verify)?;
    still_usable(&record, now)?;
    within_shelf_life(&record, now)?;
    let signer = signature.signer.user_id;
    if record.rules.independent_verification
        && record.counts.iter().any(|c| c.recorded_by == Some(signer))
    {
        return Err(AppError::SamePerson { user_id: signer });
    }
    set_status(&txn, dose_id, from, to, |update| {
        update
            .col_expr(dose::Column::VerifiedAt, Expr::value(now))
            .col_expr(dose::Column::VerifiedBy, Expr::value(signer))
    })
    .await?;
    let counted_by: Vec<Uuid> = {
        let mut ids: Vec<Uuid> = record.counts.iter().filter_map(|c| c.recorded_by).collect();
        ids.sort();
        ids.dedup();
        ids
    };
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
            "use_by": record.use_by,
            "lot_expires_at": record.lot.expires_at,
            "weight_measured_at": record.weight.measured_at,
            "counted_by": counted_by,
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
/// `available`; thawed ones are discarded (they never go back into stock),
/// with the reason.
pub async fn cancel(
    state: &AppState,
    actor: &Actor,
    dose_id: Uuid,
    reason: &str,
) -> AppResult<DoseRecord> {
    let reason = required_reason(reason)?.to_owned();
    let now = state.clock.now();
    let txn = state.db.write().await?;
    let mut record = load(state, &txn, dose_id, true).await?;
    let from = record.status()?;
    let to = dose_transition(from, DoseAction::Cancel)?;
    let cancel_reason = reason.clone();
    set_status(&txn, dose_id, from, to, move |update| {
        update
            .col_expr(dose::Column::CancelledAt, Expr::value(now))
            .col_expr(dose::Column::CancelReason, Expr::value(cancel_reason))
    })
    .await?;
    let events = release_vials(&txn, &record.vials, dose_id, &reason).await?;
    let (returned, discarded) = (events.returned.clone(), events.discarded.clone());
    let mut all = vec![
        NewEvent::new("dose.cancelled", "dose", dose_id).details(json!({
            "code": record.dose.code,
            "from": from,
            "to": to,
            "reason": reason,
            "vials_returned": returned,
            "vials_discarded": discarded,
        })),
    ];
    all.extend(events.events);
    ledger::append_many(&txn, actor, now, all).await?;
    txn.commit().await?;
    record.dose.status = to.as_str().to_owned();
    record.dose.cancelled_at = Some(now);
    record.dose.cancel_reason = Some(reason);
    for v in &mut record.vials {
        if returned.contains(&v.code) {
            v.status = VialStatus::Available.as_str().to_owned();
        } else if discarded.contains(&v.code) {
            v.status = VialStatus::Discarded.as_str().to_owned();
        }
    }
    Ok(record)
}

/// What cancelling did to a dose's vials.
pub(crate) struct Released {
    pub returned: Vec<String>,
    pub discarded: Vec<String>,
    pub events: Vec<NewEvent>,
}

/// The vials of a cancelled dose: reserved ones back to `available`,
/// thawed ones `discarded` with the reason (out of the freezer, they can
/// only be destroyed).
pub(crate) async fn release_vials(
    txn: &impl ConnectionTrait,
    vials: &[vial::Model],
    dose_id: Uuid,
    reason: &str,
) -> AppResult<Released> {
    let of = |status: VialStatus| -> Vec<&vial::Model> {
        vials
            .iter()
            .filter(|v| v.status == status.as_str())
            .collect()
    };
    let (reserved, thawed) = (of(VialStatus::Reserved), of(VialStatus::Thawed));
    let ids = |list: &[&vial::Model]| list.iter().map(|v| v.id).collect::<Vec<_>>();
    vials::transition_all(
        txn,
        &ids(&reserved),
        &[VialStatus::Reserved],
        VialStatus::Available,
        false,
        ("dose", dose_id),
    )
    .await?;
    vials::transition_all(
        txn,
        &ids(&thawed),
        &[VialStatus::Thawed],
        VialStatus::Discarded,
        true,
        ("dose", dose_id),
    )
    .await?;
    let mut events: Vec<NewEvent> = reserved
        .iter()
        .map(|v| {
            NewEvent::new("vial.unreserved", "vial", v.id).details(json!({
                "code": v.code,
                "from": VialStatus::Reserved,
                "to": VialStatus::Available,
                "dose_id": dose_id,
                "reason": reason,
            }))
        })
        .collect();
    events.extend(thawed.iter().map(|v| {
        NewEvent::new("vial.discarded", "vial", v.id).details(json!({
            "code": v.code,
            "from": VialStatus::Thawed,
            "to": VialStatus::Discarded,
            "dose_id": dose_id,
            "reason": format!("thawed for a dose that was cancelled: {reason}"),
        }))
    }));
    Ok(Released {
        returned: reserved.iter().map(|v| v.code.clone()).collect(),
        discarded: thawed.iter().map(|v| v.code.clone()).collect(),
        events,
    })
}

/// Discards one vial of the dose (signed, with the reason: a failed count,
/// a cracked vial) and reserves another from the same lot, which must
/// still be usable. A reserved dose stays reserved; a dose whose counts
/// failed stays so until the new vial is counted.
pub async fn replace_vial(
    state: &AppState,
    signature: &VerifiedSignature,
    dose_id: Uuid,
    vial_id: Uuid,
    reason: &str,
) -> AppResult<DoseRecord> {
    let reason = required_reason(reason)?.to_owned();
    let now = state.clock.now();
    let txn = state.db.write().await?;
    let record = load(state, &txn, dose_id, true).await?;
    let from = record.status()?;
    dose_transition(from, DoseAction::ReplaceVial)?;
    let Some(old) = record.vials.iter().find(|v| v.id == vial_id) else {
        return Err(AppError::invalid("vial_id", "not one of the dose's vials"));
    };
    lot_usable(&record.lot, now)?;
    let Reserve::Done(mut fresh) = reserve(&txn, record.lot.id, 1).await? else {
        return Err(AppError::InsufficientStock {
            needed: Some(1),
            lot_id: Some(record.lot.id),
            available: Some(0),
        });
    };
    let replacement = fresh.remove(0);
    let was: VialStatus = old.status.parse().map_err(internal)?;
    vials::transition_all(
        &txn,
        &[vial_id],
        &[VialStatus::Reserved, VialStatus::Thawed],
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
                "from": was,
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
    load(state, state.db.conn(), dose_id, false).await
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
    load(state, state.db.conn(), id, false).await
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
pub async fn load(
    state: &AppState,
    db: &impl ConnectionTrait,
    id: Uuid,
    lock: bool,
) -> AppResult<DoseRecord> {
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
    let weight = weight::Entity::find_by_id(dose.weight_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("weight", dose.weight_id))?;
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
        .order_by_asc(thaw_count::Column::Id)
        .all(db)
        .await?;
    // only a dose at or past the bedside has an infusion
    let at_bedside = [DoseStatus::Infusing, DoseStatus::Infused]
        .iter()
        .any(|s| s.as_str() == dose.status);
    let infusion = if at_bedside {
        infusion::Entity::find()
            .filter(infusion::Column::DoseId.eq(id))
            .one(db)
            .await?
    } else {
        None
    };
    let rules = protocol::cached_version(state, db, dose.protocol_version).await?;
    Ok(DoseRecord {
        use_by: dose
            .thawed_at
            .map(|t| crate::domain::dose::use_by(t, rules.post_thaw_shelf_life_minutes)),
        infusions_total: rules.infusions,
        subject_code: patient.subject_code,
        birth_date: patient.birth_date,
        dose,
        lot,
        weight,
        vials: current,
        removed,
        counts,
        infusion,
        rules,
    })
}
