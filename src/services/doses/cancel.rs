//! Undoing a reservation: a dose cancelled before its infusion, and the
//! vials a cancelled (or recalled) dose gives back or discards.

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::json;
use uuid::Uuid;

use crate::domain::lifecycle::{DoseAction, VialStatus, dose_transition};
use crate::domain::reason::Reason;
use crate::entities::{dose, vial};
use crate::error::AppResult;
use crate::services::Actor;
use crate::services::ledger::{self, NewEvent};
use crate::services::vials;
use crate::state::AppState;

use super::{DoseRecord, load, set_status};

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
    // Reserved vials a hold stopped (an excursion, a consent withdrawal)
    // stay on hold, but released they return to stock, not to this dose.
    let held: Vec<&vial::Model> = vials
        .iter()
        .filter(|v| v.status == VialStatus::OnHold && v.held_from == Some(VialStatus::Reserved))
        .collect();
    if !held.is_empty() {
        let changed = vial::Entity::update_many()
            .col_expr(
                vial::Column::HeldFrom,
                Expr::value(Some(VialStatus::Available)),
            )
            .filter(vial::Column::Id.is_in(ids(&held)))
            .filter(vial::Column::Status.eq(VialStatus::OnHold))
            .exec(txn)
            .await?;
        if changed.rows_affected != held.len() as u64 {
            return Err(crate::error::AppError::ConcurrentChange {
                kind: "dose",
                id: dose_id,
            });
        }
    }
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
    events.extend(held.iter().map(|v| {
        NewEvent::new("vial.unreserved", "vial", v.id).details(json!({
            "code": v.code,
            "from": VialStatus::OnHold,
            "to": VialStatus::OnHold,
            "held_from": VialStatus::Available,
            "dose_id": dose_id,
            "reason": reason,
        }))
    }));
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
