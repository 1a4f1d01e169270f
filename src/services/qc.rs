//! QC results of a lot: each recorded and judged against the protocol's
//! specification, and quality's signed investigation of a failing one.

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter};
use serde_json::json;
use uuid::Uuid;

use crate::domain::lifecycle::{LotAction, LotStatus, TransitionRefused, lot_transition};
use crate::domain::qc::Conclusion;
use crate::domain::reason::Reason;
use crate::entities::{lot, qc_result};
use crate::error::{AppError, AppResult};
use crate::services::Actor;
use crate::services::ledger::{self, NewEvent};
use crate::services::lots::{LotRecord, load, set_status, standing_of};
use crate::services::protocol;
use crate::services::signatures::{self, VerifiedSignature};
use crate::services::store;
use crate::state::AppState;

/// Records a QC result judged against the specification. Results can be
/// added in any state: a retest of a released lot must be recorded (and a
/// failing one is what starts a recall).
pub async fn add_qc(
    state: &AppState,
    actor: &Actor,
    lot_id: Uuid,
    test: &str,
    value: &str,
    unit: Option<&str>,
) -> AppResult<qc_result::Model> {
    // The specification in force judges the result: it lives in the
    // protocol record, nowhere else.
    let spec = protocol::specification(state.db.conn()).await?;
    let judged = spec.judge(test.trim(), value, unit)?;
    let recorded_by = actor
        .id
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("QC needs a person")))?;
    let now = state.clock.now();
    let txn = state.db.write().await?;
    let lot = store::find_or_404::<lot::Entity>(&txn, lot_id).await?;
    let model = qc_result::Model {
        id: Uuid::now_v7(),
        lot_id,
        test: judged.test.clone(),
        value: judged.value.clone(),
        unit: judged.unit.clone(),
        pass: judged.pass,
        specification: judged.specification.clone(),
        recorded_at: now,
        recorded_by,
        investigation: None,
        investigation_reason: None,
        investigated_at: None,
        investigated_by: None,
    };
    qc_result::Entity::insert(model.clone().into_active_model())
        .exec_without_returning(&txn)
        .await?;
    ledger::append(
        &txn,
        actor,
        now,
        NewEvent::new("lot.qc_recorded", "lot", lot.id).details(json!({
            "qc_result_id": model.id,
            "test": model.test,
            "value": model.value,
            "unit": model.unit,
            "pass": model.pass,
            "specification": model.specification,
        })),
    )
    .await?;
    txn.commit().await?;
    Ok(model)
}

/// Quality's signed investigation of a failing QC result (21 CFR 211.192
/// in spirit; the issue of a positive sterility or mycoplasma result):
/// `invalid_test` takes the result out of the standing, so a retest counts;
/// `confirmed` keeps it failing and rejects the lot (in process or in
/// quarantine; a released lot is recalled by its own signed act).
pub async fn investigate_qc(
    state: &AppState,
    signature: &VerifiedSignature,
    lot_id: Uuid,
    result_id: Uuid,
    conclusion: Conclusion,
    reason: &str,
) -> AppResult<LotRecord> {
    let reason = Reason::parse(reason)?.into_inner();
    let now = state.clock.now();
    let txn = state.db.write().await?;
    let mut record = load(&txn, lot_id).await?;
    let Some(result) = record.qc.iter().find(|r| r.id == result_id).cloned() else {
        return Err(AppError::not_found("QC result", result_id));
    };
    if result.pass {
        return Err(AppError::invalid(
            "result_id",
            "only a failing result is investigated",
        ));
    }
    if let Some(done) = &result.investigation {
        return Err(TransitionRefused {
            kind: "QC result",
            from: if done == "confirmed" {
                "confirmed"
            } else {
                "found an invalid test"
            },
            action: "investigate",
        }
        .into());
    }
    let signer = signature.signer.user_id;
    store::guarded_update(
        &txn,
        result_id,
        qc_result::Entity::update_many()
            .col_expr(
                qc_result::Column::Investigation,
                Expr::value(conclusion.as_str()),
            )
            .col_expr(
                qc_result::Column::InvestigationReason,
                Expr::value(reason.clone()),
            )
            .col_expr(qc_result::Column::InvestigatedAt, Expr::value(now))
            .col_expr(qc_result::Column::InvestigatedBy, Expr::value(signer))
            .filter(qc_result::Column::Investigation.is_null()),
    )
    .await?;
    let from: LotStatus = record.lot.status;
    let rejected = match conclusion {
        Conclusion::Confirmed => lot_transition(from, LotAction::Reject).ok(),
        Conclusion::InvalidTest => None,
    };
    if let Some(to) = rejected {
        set_status(&txn, lot_id, from, to).await?;
    }
    signatures::append_signed(
        &txn,
        signature,
        now,
        NewEvent::new("lot.qc_investigated", "lot", lot_id).details(json!({
            "qc_result_id": result_id,
            "test": result.test,
            "value": result.value,
            "conclusion": conclusion,
            "reason": reason,
            "lot_from": from,
            "lot_to": rejected.unwrap_or(from),
        })),
    )
    .await?;
    txn.commit().await?;
    for r in &mut record.qc {
        if r.id == result_id {
            r.investigation = Some(conclusion.as_str().to_owned());
            r.investigation_reason = Some(reason.clone());
            r.investigated_at = Some(now);
            r.investigated_by = Some(signer);
        }
    }
    let spec = protocol::specification(state.db.conn()).await?;
    record.standing = standing_of(&spec, &record.qc)?;
    if let Some(to) = rejected {
        record.lot.status = to;
    }
    Ok(record)
}
