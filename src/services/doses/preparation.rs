//! Preparing a dose: the post-thaw counts (always recorded) and their
//! judgement (the signed verification that follows: `verification`).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter};
use serde_json::json;
use uuid::Uuid;

use crate::clock::{CLOCK_SKEW, not_in_future};
use crate::db::WriteTxn;
use crate::domain::dose::{
    CountJudgement, CountRules, CountSent, DoseTarget, DoseVial, Preparation, ThawCount,
    check_counted_vials, check_counts_sent, check_thawed_after_reserved, judge_counts, prepare,
    recovery_tenths,
};
use crate::domain::lifecycle::{
    DoseAction, DoseStatus, VialStatus, count_outcome, dose_transition,
};
use crate::domain::patient::tenths_display;
use crate::domain::quantity::Cells;
use crate::domain::reason::Reason;
use crate::domain::storage::location_path;
use crate::entities::{dose, thaw_count, vial};
use crate::error::{AppError, AppResult, ImplausibleVial, VialViability};
use crate::services::Actor;
use crate::services::ledger::{self, NewEvent};
use crate::services::signatures::{self, VerifiedSignature};
use crate::services::{storage, vials};
use crate::state::AppState;

use super::{DoseRecord, load, still_usable, within_shelf_life};

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
    let sent: Vec<CountSent<'_>> = counting
        .counts
        .iter()
        .map(|c| CountSent {
            vial_id: c.vial_id,
            viable_cells_per_ml: c.viable_cells_per_ml,
            confirmed_because: c.confirm.then(|| c.reason.as_deref().unwrap_or("")),
        })
        .collect();
    check_counts_sent(&sent)?;
    let correction_reason = match &counting.correction {
        Some((_, reason)) => Some(Reason::parse(reason)?.into_inner()),
        None => None,
    };
    let txn = state.db.write().await?;
    let mut record = load(state, &txn, dose_id, true).await?;
    let from = record.status()?;
    dose_transition(from, DoseAction::Thaw)?;
    let by_id: HashMap<Uuid, &VialCount> = counting.counts.iter().map(|c| (c.vial_id, c)).collect();
    let dose_vials: Vec<DoseVial<'_>> = record
        .vials
        .iter()
        .map(|v| DoseVial {
            id: v.id,
            code: v.code.as_str(),
            uncounted: v.status == VialStatus::Reserved,
        })
        .collect();
    // a withdrawn patient, or a lot whose donor withdrew consent
    crate::services::withdrawals::refuse_dose(&txn, &record).await?;
    // a vial of the dose held (a temperature excursion) or discarded
    // since it was reserved is not thawed: the lifecycle says why
    for v in &record.vials {
        if !matches!(v.status, VialStatus::Reserved | VialStatus::Thawed) {
            crate::domain::lifecycle::vial_transition(
                v.status,
                crate::domain::lifecycle::VialAction::Thaw,
            )?;
        }
    }
    let counted: HashSet<Uuid> = by_id.keys().copied().collect();
    check_counted_vials(&dose_vials, &counted, counting.correction.is_some())?;
    if dose_vials.iter().any(|v| v.uncounted) {
        check_thawed_after_reserved(thawed_at, record.dose.created_at, CLOCK_SKEW)?;
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
        let first = v.status == VialStatus::Reserved;
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
                    AppError::broken(format!(
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
    let frozen: Vec<Cells> = current.iter().map(|(v, _)| v.cells_per_vial).collect();
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
            code: v.code.clone().into(),
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
            code: v.code.clone().into(),
            viable_cells_per_ml: c.viable_cells_per_ml,
            cells_frozen: v.cells_per_vial.get(),
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
        .col_expr(dose::Column::Status, Expr::value(to))
        .col_expr(dose::Column::ThawedAt, Expr::value(record.dose.thawed_at))
        .col_expr(
            dose::Column::ConcentrationCellsPerMl,
            column(preparation.map(|p| p.concentration_cells_per_ml)),
        )
        .col_expr(
            dose::Column::AvailableUl,
            Expr::value(preparation.map(|p| p.available_ul)),
        )
        .col_expr(
            dose::Column::VolumeUl,
            Expr::value(preparation.map(|p| p.volume_ul)),
        )
        .col_expr(
            dose::Column::CellsToAdminister,
            Expr::value(preparation.map(|p| p.cells_to_administer)),
        )
        .col_expr(dose::Column::CountFailure, Expr::value(failure.clone()))
        .filter(dose::Column::Id.eq(dose_id))
        .filter(dose::Column::Status.eq(from))
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
    thaw_count::Entity::insert_many(rows.iter().map(|r| r.clone().into_active_model()))
        .exec_without_returning(&txn)
        .await?;
    let code_of = |vial_id: Uuid| {
        record
            .vials
            .iter()
            .find(|v| v.id == vial_id)
            .map(|v| v.code.to_string())
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
    record.dose.status = to;
    record.dose.count_failure = failure;
    record.dose.concentration_cells_per_ml = preparation.map(|p| p.concentration_cells_per_ml);
    record.dose.available_ul = preparation.map(|p| p.available_ul);
    record.dose.volume_ul = preparation.map(|p| p.volume_ul);
    record.dose.cells_to_administer = preparation.map(|p| p.cells_to_administer);
    for v in &mut record.vials {
        if thawed_ids.contains(&v.id) {
            v.status = VialStatus::Thawed;
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
