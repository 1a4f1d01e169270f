//! Replacing a vial of a dose whose count failed or that broke.

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;
use uuid::Uuid;

use crate::domain::lifecycle::{DoseAction, VialStatus, dose_transition};
use crate::domain::reason::Reason;
use crate::domain::storage::location_path;
use crate::entities::dose_vial;
use crate::error::{AppError, AppResult};
use crate::services::ledger::{self, NewEvent};
use crate::services::signatures::{self, VerifiedSignature};
use crate::services::{storage, vials};
use crate::state::AppState;

use super::reserve::{Reserve, reserve};
use super::{DoseRecord, load, lot_usable};

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
    let reason = Reason::parse(reason)?.into_inner();
    let now = state.clock.now();
    let txn = state.db.write().await?;
    let record = load(state, &txn, dose_id, true).await?;
    let from = record.status()?;
    dose_transition(from, DoseAction::ReplaceVial)?;
    let Some(old) = record.vials.iter().find(|v| v.id == vial_id) else {
        return Err(AppError::invalid("vial_id", "not one of the dose's vials"));
    };
    lot_usable(&record.lot, now)?;
    let Reserve::Done(mut fresh) = reserve(&txn, record.lot.id, old.site_id, 1).await? else {
        return Err(AppError::InsufficientStock {
            needed: Some(1),
            lot_id: Some(record.lot.id),
            available: Some(0),
        });
    };
    let replacement = fresh.remove(0);
    let was: VialStatus = old.status;
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
