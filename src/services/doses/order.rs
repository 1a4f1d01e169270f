//! Ordering a dose: the schedule's answer, the lot that can serve it and
//! the reservation of its whole vials (written by `reserve`; undone by
//! `cancel`).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::sea_query::{Asterisk, Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, FromQueryResult, IdenStatic, Iterable,
    QueryFilter, QueryOrder, QuerySelect, Statement,
};
use serde_json::json;
use uuid::Uuid;

use crate::db::WriteTxn;
use crate::domain::codes::DoseCode;
use crate::domain::dose::{DoseTarget, dose_target};
use crate::domain::lifecycle::{DoseStatus, LotStatus, VialStatus};
use crate::domain::patient::{ScheduleRefused, next_infusion};
use crate::domain::protocol::Protocol;
use crate::domain::quantity::CellsPerKg;
use crate::domain::zone::SiteZone;
use crate::entities::withdrawal_hold::{HoldStatus, WithdrawalDecision};
use crate::entities::{dose, infusion, lot, patient, vial, weight};
use crate::error::{AppError, AppResult};
use crate::services::Actor;
use crate::services::ledger::{self, NewEvent};
use crate::services::{protocol, sites};
use crate::state::AppState;

use super::calculator::{vials_for, weight_still_valid};
use super::reserve::{Reserve, insert_dose, reserve};
use super::{DoseRecord, lot_usable};

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
        .column_as(Expr::col(Asterisk).count(), "n")
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
///
/// Six statements in the transaction (`tests/api/doses.rs` counts them on
/// both engines): what the order needs of the patient (`OrderContext`),
/// what it needs of doses and lots (`StockContext`), the reservation (one
/// UPDATE that picks and reserves the vials), the dose, its vials, and the
/// ledger events. On PostgreSQL the dose and its vials are one statement,
/// so an append overtaken by another keeps it at six.
pub async fn order(
    state: &AppState,
    actor: &Actor,
    patient_id: Uuid,
    lot_id: Option<Uuid>,
) -> AppResult<DoseRecord> {
    let now = state.clock.now();
    let txn = state.db.write().await?;
    let context = OrderContext::read(&txn, patient_id).await?;
    let stock = StockContext::read(&txn, patient_id, lot_id, now).await?;
    let patient = context.patient;
    // the patient's doses are made at the patient's site, by its pharmacy
    sites::check_works_at(state, actor, patient.site_id).await?;
    if context.withdrawn {
        return Err(AppError::PatientWithdrawn {
            patient_id: patient.id,
            subject_code: patient.subject_code.to_string(),
        });
    }
    let rules = protocol::cached_version(state, &txn, context.protocol_version).await?;
    if let Some((id, code)) = stock.open_dose {
        return Err(AppError::DoseInProgress { dose_id: id, code });
    }
    let infusion_number = schedule(&rules, state.settings.timezone, &context.given, now)?;
    let weight = context.weight.ok_or(AppError::NoWeight)?;
    weight_still_valid(&rules, &weight, now)?;
    // the protocol's dose per kg was checked when the protocol was written
    let dose_per_kg = CellsPerKg::parse(rules.dose_cells_per_kg).map_err(AppError::broken)?;
    let target = dose_target(dose_per_kg, weight.weight_g, rules.dose_tolerance_pct);

    if let Some(lot_id) = lot_id {
        let lot = stock
            .lots
            .first()
            .ok_or_else(|| AppError::not_found("lot", lot_id))?;
        lot_usable(&lot.0, now)?;
        if stock.withdrawn.contains(&lot.0.id) {
            return Err(AppError::ConsentWithdrawn {
                lot_id: lot.0.id,
                code: lot.0.code.clone(),
            });
        }
    }
    // the first lot (first-expiring) that holds enough: reserved in one
    // statement; on PostgreSQL a concurrent order may have taken some of
    // its vials since they were counted, and the lots are then tried in
    // turn as they stand
    let mut shortfall = None;
    let mut any_available = false;
    let mut reserved = None;
    let mut candidates = stock.lots.into_iter();
    for (lot, available) in candidates.by_ref() {
        let Some(needed) = vials_for(&lot, &target, &rules) else {
            continue;
        };
        // below the cap the count is exact; at it, the lot holds at least
        // that many and the reservation finds out whether enough
        if available < needed && available < AVAILABLE_COUNTED_UP_TO {
            any_available |= available > 0;
            shortfall.get_or_insert((needed, lot.id, available));
            continue;
        }
        match reserve(&txn, lot.id, patient.site_id, needed).await? {
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
            blocked_lots(&txn, &rules, &target, now).await?
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

    let ordinal = stock.doses_ordered + 1;
    // D01 … D99, then D100 and on: codes never run out (cancelled orders
    // count too, so a code is never reused)
    let model = dose::Model {
        id: Uuid::now_v7(),
        code: DoseCode::new(&patient.subject_code, ordinal as u32),
        patient_id,
        infusion_number,
        protocol_version: context.protocol_version,
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
    insert_dose(&txn, &model, &vials, now).await?;
    let mut events = vec![
        NewEvent::new("dose.ordered", "dose", model.id).details(json!({
            "code": model.code,
            "patient_id": patient_id,
            "subject_code": patient.subject_code,
            "infusion_number": infusion_number,
            "protocol_version": context.protocol_version,
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
        coi: patient.coi.clone(),
        subject_code: patient.subject_code.into(),
        birth_date: patient.birth_date,
        lot,
        weight,
        vials,
        removed: Vec::new(),
        counts: Vec::new(),
        infusion: None,
        infusions_total: rules.infusions,
        use_by: None,
        rules,
    })
}

/// What an order needs of the patient, in one statement: the patient
/// (locked on PostgreSQL, so one patient's orders go one at a time), the
/// latest weight that is not voided, the infusions given (how many, the
/// first and the last: all the schedule reads) and the protocol version in
/// force.
struct OrderContext {
    patient: patient::Model,
    weight: Option<weight::Model>,
    /// Stands for the infusions' starts: as many, the same first and last.
    given: Vec<DateTime<Utc>>,
    protocol_version: i32,
    /// The patient withdrew from the trial.
    withdrawn: bool,
}

impl OrderContext {
    async fn read(txn: &WriteTxn, patient_id: Uuid) -> AppResult<OrderContext> {
        let backend = txn.get_database_backend();
        let sql = format!(
            "SELECT {}, {}, \
               (SELECT max(version) FROM protocol_versions) AS protocol_version, \
               (SELECT count(*) FROM infusions i WHERE i.patient_id = p.id) AS given, \
               (SELECT min(i.started_at) FROM infusions i WHERE i.patient_id = p.id) AS first_given, \
               (SELECT max(i.started_at) FROM infusions i WHERE i.patient_id = p.id) AS last_given, \
               (SELECT count(*) FROM patient_withdrawals pw WHERE pw.patient_id = p.id) AS withdrawn \
             FROM patients p \
             LEFT JOIN weights w ON w.id = (\
               SELECT l.id FROM weights l WHERE l.patient_id = p.id AND l.voided_at IS NULL \
               ORDER BY l.measured_at DESC, l.recorded_at DESC LIMIT 1) \
             WHERE p.id = $1{}",
            columns::<patient::Entity>("p"),
            columns::<weight::Entity>("w"),
            if backend == DbBackend::Postgres {
                " FOR UPDATE OF p"
            } else {
                ""
            }
        );
        let row = txn
            .query_one_raw(Statement::from_sql_and_values(
                backend,
                sql,
                [patient_id.into()],
            ))
            .await?
            .ok_or_else(|| AppError::not_found("patient", patient_id))?;
        let patient = patient::Model::from_query_result(&row, "p_")?;
        let weight = match row.try_get::<Option<Uuid>>("", "w_id")? {
            Some(_) => Some(weight::Model::from_query_result(&row, "w_")?),
            None => None,
        };
        let given: i64 = row.try_get("", "given")?;
        let first: Option<DateTime<Utc>> = row.try_get("", "first_given")?;
        let last: Option<DateTime<Utc>> = row.try_get("", "last_given")?;
        let given = match (first, last) {
            (Some(first), Some(last)) if given > 0 => std::iter::once(first)
                .chain(std::iter::repeat_n(last, (given - 1) as usize))
                .collect(),
            _ => Vec::new(),
        };
        let protocol_version: Option<i32> = row.try_get("", "protocol_version")?;
        let withdrawn: i64 = row.try_get("", "withdrawn")?;
        Ok(OrderContext {
            patient,
            weight,
            given,
            withdrawn: withdrawn > 0,
            protocol_version: protocol_version.ok_or_else(|| {
                AppError::internal(anyhow::anyhow!(
                    "no protocol is recorded; the start-up seeds one"
                ))
            })?,
        })
    }
}

/// What an order needs of doses and stock, in one statement read after
/// the patient is held (so a concurrent order of the same patient is
/// seen): the patient's open dose, how many doses were ever ordered for the
/// patient (the next code), and the lots a dose may come from with their
/// available vials, first-expiring first (or the lot asked for, whatever
/// its state).
struct StockContext {
    open_dose: Option<(Uuid, String)>,
    doses_ordered: i64,
    /// Each lot with its available vials, counted up to
    /// `AVAILABLE_COUNTED_UP_TO`.
    lots: Vec<(lot::Model, i64)>,
    /// The lots of `lots` a donor's consent withdrawal keeps from patients
    /// (held and undecided, or discarded by quality).
    withdrawn: HashSet<Uuid>,
}

/// How far an order counts a lot's available vials: far enough to tell,
/// for any dose of whole vials a protocol gives, that a lot is short
/// without trying it, and no further (counting a 16,000-vial lot to the
/// end took most of an order's time, under the write lock).
const AVAILABLE_COUNTED_UP_TO: i64 = 64;

impl StockContext {
    async fn read(
        txn: &WriteTxn,
        patient_id: Uuid,
        lot_id: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> AppResult<StockContext> {
        let backend = txn.get_database_backend();
        let open = DoseStatus::OPEN
            .iter()
            .map(|s| format!("'{}'", s.as_str()))
            .collect::<Vec<_>>()
            .join(", ");
        let open_dose = |column: &str| {
            format!(
                "(SELECT d.{column} FROM doses d WHERE d.patient_id = $1 AND d.status IN ({open}) \
                 ORDER BY d.created_at, d.id LIMIT 1)"
            )
        };
        let lots = match lot_id {
            Some(_) => "l.id = $2".to_owned(),
            None => format!(
                "l.status = '{}' AND l.expires_at > $2 AND l.cells_per_vial IS NOT NULL",
                LotStatus::Released.as_str()
            ),
        };
        let sql = format!(
            "SELECT c.open_id, c.open_code, c.ordered, {}, \
               (SELECT count(*) FROM (SELECT 1 FROM vials v WHERE v.lot_id = l.id AND v.status = '{}' \
                AND v.site_id = (SELECT p.site_id FROM patients p WHERE p.id = $1) \
                LIMIT {AVAILABLE_COUNTED_UP_TO}) AS a) AS available, \
               (SELECT count(*) FROM withdrawal_holds wh WHERE wh.lot_id = l.id \
                AND (wh.status = '{}' OR wh.decision = '{}')) AS withdrawn \
             FROM (SELECT {} AS open_id, {} AS open_code, \
                     (SELECT count(*) FROM doses d WHERE d.patient_id = $1) AS ordered) AS c \
             LEFT JOIN lots l ON {lots} \
             ORDER BY l.expires_at, l.code",
            columns::<lot::Entity>("l"),
            VialStatus::Available.as_str(),
            HoldStatus::Open.as_str(),
            WithdrawalDecision::Discarded.as_str(),
            open_dose("id"),
            open_dose("code"),
        );
        let second: sea_orm::Value = match lot_id {
            Some(id) => id.into(),
            None => now.into(),
        };
        let rows = txn
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                sql,
                [patient_id.into(), second],
            ))
            .await?;
        let first = rows
            .first()
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("the stock query is empty")))?;
        let open_id: Option<Uuid> = first.try_get("", "open_id")?;
        let open_code: Option<String> = first.try_get("", "open_code")?;
        let mut lots = Vec::with_capacity(rows.len());
        let mut withdrawn = HashSet::new();
        for row in &rows {
            if row.try_get::<Option<Uuid>>("", "l_id")?.is_some() {
                let lot = lot::Model::from_query_result(row, "l_")?;
                if row.try_get::<i64>("", "withdrawn")? > 0 {
                    withdrawn.insert(lot.id);
                }
                lots.push((lot, row.try_get("", "available")?));
            }
        }
        Ok(StockContext {
            open_dose: open_id.zip(open_code),
            doses_ordered: first.try_get("", "ordered")?,
            lots,
            withdrawn,
        })
    }
}

/// `t.col AS t_col, …` for every column of the entity.
fn columns<E: EntityTrait>(alias: &str) -> String {
    E::Column::iter()
        .map(|c| format!("{alias}.{0} AS {alias}_{0}", c.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
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
