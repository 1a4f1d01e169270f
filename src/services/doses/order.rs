//! Ordering a dose: the schedule's answer, reserving whole vials from one
//! lot (never a vial to two doses), and undoing a reservation (cancelling,
//! a recall).

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, LockBehavior, LockType};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::json;
use uuid::Uuid;

use crate::db::WriteTxn;
use crate::domain::codes::DoseCode;
use crate::domain::dose::{DoseTarget, dose_target};
use crate::domain::lifecycle::{DoseAction, DoseStatus, LotStatus, VialStatus, dose_transition};
use crate::domain::patient::{ScheduleRefused, next_infusion};
use crate::domain::protocol::Protocol;
use crate::domain::reason::Reason;
use crate::domain::zone::SiteZone;
use crate::entities::{dose, dose_vial, infusion, lot, patient, vial};
use crate::error::{AppError, AppResult};
use crate::services::Actor;
use crate::services::ledger::{self, NewEvent};
use crate::services::store;
use crate::services::{protocol, vials};
use crate::state::AppState;

use super::calculator::{candidate_lots, fresh_weight, vials_for};
use super::{DoseRecord, load, lot_usable, set_status};

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
                .add(lot::Column::Status.eq(LotStatus::Recalled))
                .add(lot::Column::Status.eq(LotStatus::Quarantine))
                .add(
                    Condition::all()
                        .add(lot::Column::Status.eq(LotStatus::Released))
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
    lots.sort_by_key(|lot| !(lot.status == LotStatus::Quarantine && lot.expires_at > now));
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
            code: open.code.into(),
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
            let lot = store::find_or_404::<lot::Entity>(&txn, lot_id).await?;
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
        code: DoseCode::new(&patient.subject_code, ordinal as u32),
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
        status: DoseStatus::Reserved,
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
    dose::Entity::insert(model.clone().into_active_model())
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
        subject_code: patient.subject_code.into(),
        birth_date: patient.birth_date,
        lot,
        weight,
        vials: vials
            .into_iter()
            .map(|mut v| {
                v.status = VialStatus::Reserved;
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

pub(super) enum Reserve {
    Done(Vec<vial::Model>),
    /// Not enough: how many were available.
    Short(i64),
}

/// Reserves `count` available vials of the lot, by code.
pub(super) async fn reserve(txn: &WriteTxn, lot_id: Uuid, count: i64) -> AppResult<Reserve> {
    let mut find = vial::Entity::find()
        .filter(vial::Column::LotId.eq(lot_id))
        .filter(vial::Column::Status.eq(VialStatus::Available))
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

/// Cancels a dose before its infusion. Unthawed vials go back to
/// `available`; thawed ones are discarded (they never go back into stock),
/// with the reason.
pub async fn cancel(
    state: &AppState,
    actor: &Actor,
    dose_id: Uuid,
    reason: &str,
) -> AppResult<DoseRecord> {
    let reason = Reason::parse(reason)?.into_inner();
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
    record.dose.status = to;
    record.dose.cancelled_at = Some(now);
    record.dose.cancel_reason = Some(reason);
    for v in &mut record.vials {
        if returned.iter().any(|c| *c == *v.code) {
            v.status = VialStatus::Available;
        } else if discarded.iter().any(|c| *c == *v.code) {
            v.status = VialStatus::Discarded;
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
        vials.iter().filter(|v| v.status == status).collect()
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
        returned: reserved.iter().map(|v| v.code.to_string()).collect(),
        discarded: thawed.iter().map(|v| v.code.to_string()).collect(),
        events,
    })
}
