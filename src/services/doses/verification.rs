//! The second pharmacist's signed verification of a prepared dose.

use sea_orm::sea_query::Expr;
use serde_json::json;
use uuid::Uuid;

use crate::domain::lifecycle::{DoseAction, dose_transition};
use crate::entities::dose;
use crate::error::{AppError, AppResult};
use crate::services::ledger::NewEvent;
use crate::services::signatures::{self, VerifiedSignature};
use crate::state::AppState;

use super::{DoseRecord, load, set_status, still_usable, within_shelf_life};

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
    crate::services::withdrawals::refuse_dose(&txn, &record).await?;
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
    record.dose.status = to;
    record.dose.verified_at = Some(now);
    record.dose.verified_by = Some(signer);
    Ok(record)
}
