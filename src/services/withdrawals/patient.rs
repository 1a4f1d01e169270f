//! A patient's withdrawal from the trial (clinician, signed).
//!
//! One transaction records the withdrawal (one row, its signed
//! `patient.withdrawn` event) and cancels the patient's open doses as a
//! pharmacist's cancel would (`dose.cancelled`; reserved vials back to
//! available, thawed ones discarded, held ones stay held but go back to
//! available when released). A dose at the bedside (`infusing`) is not
//! cancelled under the nurse's hands: the withdrawal is refused (409) until
//! that infusion is completed, because its product is already in the
//! patient and the infusion's record must be finished first. Afterwards
//! every further order, thaw, verification or infusion of the patient is
//! `422 patient_withdrawn`; assessments and adverse events are still
//! recorded (follow-up continues), and the visits still listed are
//! optional.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, SqlErr};
use serde_json::json;
use uuid::Uuid;

use crate::clock::not_in_future;
use crate::domain::lifecycle::{DoseAction, DoseStatus, TransitionRefused, dose_transition};
use crate::domain::reason::Reason;
use crate::entities::{dose, patient, patient_withdrawal};
use crate::error::{AppError, AppResult};
use crate::services::ledger::{self, NewEvent};
use crate::services::signatures::{self, VerifiedSignature};
use crate::services::{doses, sites};
use crate::state::AppState;

/// A recorded withdrawal and the doses it cancelled.
#[derive(Debug, Clone)]
pub struct PatientWithdrawal {
    pub withdrawal: patient_withdrawal::Model,
    pub subject_code: String,
    pub doses_cancelled: Vec<String>,
}

/// Withdraws the patient from the trial (see the module notes).
pub async fn withdraw_patient(
    state: &AppState,
    signature: &VerifiedSignature,
    patient_id: Uuid,
    withdrawn_at: DateTime<Utc>,
    reason: &str,
) -> AppResult<PatientWithdrawal> {
    let reason = Reason::parse(reason)?.into_inner();
    let now = state.clock.now();
    let actor = signature.signer.actor();
    let patient = patient::Entity::find_by_id(patient_id)
        .one(state.db.conn())
        .await?
        .ok_or_else(|| AppError::not_found("patient", patient_id))?;
    sites::check_works_at(state, &actor, patient.site_id).await?;
    not_in_future("withdrawn_at", withdrawn_at, now)?;
    if withdrawn_at < patient.enrolled_at {
        return Err(AppError::invalid(
            "withdrawn_at",
            format!(
                "{withdrawn_at} is before the patient was enrolled ({})",
                patient.enrolled_at
            ),
        ));
    }
    let subject_code = patient.subject_code.to_string();
    let txn = state.db.write().await?;
    if super::of_patient(&txn, patient_id).await?.is_some() {
        return Err(AppError::AlreadyWithdrawn {
            kind: "patient",
            id: patient_id,
        });
    }
    let open = dose::Entity::find()
        .filter(dose::Column::PatientId.eq(patient_id))
        .filter(dose::Column::Status.is_in(DoseStatus::OPEN))
        .order_by_asc(dose::Column::Id)
        .all(&txn)
        .await?;
    if open.iter().any(|d| d.status == DoseStatus::Infusing) {
        return Err(AppError::InvalidState(TransitionRefused {
            kind: "patient",
            from: "being infused (complete the infusion first)",
            action: "withdraw",
        }));
    }
    let records = doses::records(state, &txn, open).await?;
    let cancel_reason = format!("the patient withdrew from the trial: {reason}");
    let mut events = Vec::new();
    let mut cancelled = Vec::new();
    for record in &records {
        let from = record.dose.status;
        let to = dose_transition(from, DoseAction::Cancel)?;
        let changed = dose::Entity::update_many()
            .col_expr(dose::Column::Status, Expr::value(to))
            .col_expr(dose::Column::CancelledAt, Expr::value(now))
            .col_expr(
                dose::Column::CancelReason,
                Expr::value(cancel_reason.clone()),
            )
            .filter(dose::Column::Id.eq(record.dose.id))
            .filter(dose::Column::Status.eq(from))
            .exec(&txn)
            .await?;
        if changed.rows_affected != 1 {
            return Err(AppError::ConcurrentChange {
                kind: "dose",
                id: record.dose.id,
            });
        }
        let released =
            doses::release_vials(&txn, &record.vials, record.dose.id, &cancel_reason).await?;
        events.push(
            NewEvent::new("dose.cancelled", "dose", record.dose.id).details(json!({
                "code": record.dose.code,
                "from": from,
                "to": to,
                "reason": cancel_reason,
                "vials_returned": released.returned,
                "vials_discarded": released.discarded,
                "patient_withdrawn": true,
            })),
        );
        events.extend(released.events);
        cancelled.push(record.dose.code.to_string());
    }
    let withdrawal = patient_withdrawal::Model {
        id: Uuid::now_v7(),
        patient_id,
        withdrawn_at,
        reason: reason.clone(),
        doses_cancelled: serde_json::to_string(&cancelled).unwrap_or_else(|_| "[]".into()),
        recorded_by: signature.signer.user_id,
        recorded_at: now,
    };
    if let Err(error) = patient_withdrawal::Entity::insert(withdrawal.clone().into_active_model())
        .exec_without_returning(&txn)
        .await
    {
        return Err(match error.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => AppError::AlreadyWithdrawn {
                kind: "patient",
                id: patient_id,
            },
            _ => error.into(),
        });
    }
    signatures::append_signed(
        &txn,
        signature,
        now,
        NewEvent::new("patient.withdrawn", "patient", patient_id).details(json!({
            "subject_code": subject_code,
            "withdrawn_at": withdrawn_at,
            "reason": reason,
            "doses_cancelled": cancelled,
        })),
    )
    .await?;
    ledger::append_many(&txn, &actor, now, events).await?;
    txn.commit().await?;
    Ok(PatientWithdrawal {
        withdrawal,
        subject_code,
        doses_cancelled: cancelled,
    })
}

impl PatientWithdrawal {
    /// From the stored row (the cancelled doses kept as a JSON array).
    pub fn from_row(withdrawal: patient_withdrawal::Model, subject_code: String) -> Self {
        let doses_cancelled = serde_json::from_str(&withdrawal.doses_cancelled).unwrap_or_default();
        PatientWithdrawal {
            withdrawal,
            subject_code,
            doses_cancelled,
        }
    }
}
