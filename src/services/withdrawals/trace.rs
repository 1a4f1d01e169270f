//! What the traces show of withdrawals: the donor's consent withdrawal and
//! each lot's hold (donor and lot traces), the patient's withdrawal
//! (patient trace, and each recipient of a lot trace). Times in UTC; the
//! pages and the CSV show them in the site's zone.

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::LotHold;
use crate::error::AppResult;
use crate::services::trace::RecipientNode;

/// A lot held by its donor's consent withdrawal, and quality's decision.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LotWithdrawalNode {
    pub lot_id: Uuid,
    pub lot_code: String,
    /// When the donor withdrew consent.
    pub withdrawn_at: DateTime<Utc>,
    pub withdrawal_reason: String,
    /// `open` (consent withdrawn: on hold) or `decided`.
    pub status: String,
    /// `released` or `discarded`.
    pub decision: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_reason: Option<String>,
    /// The vials this withdrawal stopped (codes).
    pub vials_held: Vec<String>,
    /// Vials already thawed then: listed for quality, not held.
    pub vials_thawed: Vec<String>,
}

/// A donor's consent withdrawal with every lot it held.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConsentWithdrawalNode {
    pub withdrawn_at: DateTime<Utc>,
    pub reason: String,
    pub recorded_at: DateTime<Utc>,
    pub lots: Vec<LotWithdrawalNode>,
}

/// A patient's withdrawal from the trial.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PatientWithdrawalNode {
    pub withdrawn_at: DateTime<Utc>,
    pub reason: String,
    pub recorded_at: DateTime<Utc>,
    /// The open doses it cancelled, by code.
    pub doses_cancelled: Vec<String>,
}

fn lot_node(h: LotHold) -> LotWithdrawalNode {
    let (held, thawed): (Vec<_>, Vec<_>) = h.vials.iter().partition(|(link, _, _)| link.held);
    LotWithdrawalNode {
        lot_id: h.hold.lot_id,
        lot_code: h.lot_code.clone(),
        withdrawn_at: h.withdrawal.withdrawn_at,
        withdrawal_reason: h.withdrawal.reason.clone(),
        status: h.hold.status.as_str().to_owned(),
        decision: h.hold.decision.map(|d| d.as_str().to_owned()),
        decided_at: h.hold.decided_at,
        decision_reason: h.hold.reason.clone(),
        vials_held: held.iter().map(|(_, code, _)| code.clone()).collect(),
        vials_thawed: thawed.iter().map(|(_, code, _)| code.clone()).collect(),
    }
}

/// The lot's consent-withdrawal hold, if its donor withdrew.
pub async fn of_lot(
    db: &impl ConnectionTrait,
    lot_id: Uuid,
) -> AppResult<Option<LotWithdrawalNode>> {
    Ok(super::lot_hold(db, lot_id).await?.map(lot_node))
}

/// The donor's consent withdrawal, if any, with every lot it held.
pub async fn of_donor(
    db: &impl ConnectionTrait,
    donor_id: Uuid,
) -> AppResult<Option<ConsentWithdrawalNode>> {
    let Some(w) = super::of_donor(db, donor_id).await? else {
        return Ok(None);
    };
    let lots = super::lot_holds_of_donor(db, donor_id).await?;
    Ok(Some(ConsentWithdrawalNode {
        withdrawn_at: w.withdrawn_at,
        reason: w.reason,
        recorded_at: w.recorded_at,
        lots: lots.into_iter().map(lot_node).collect(),
    }))
}

/// The patient's withdrawal from the trial, if any.
pub async fn of_patient(
    db: &impl ConnectionTrait,
    patient_id: Uuid,
) -> AppResult<Option<PatientWithdrawalNode>> {
    Ok(super::of_patient(db, patient_id).await?.map(|w| {
        let doses_cancelled = serde_json::from_str(&w.doses_cancelled).unwrap_or_default();
        PatientWithdrawalNode {
            withdrawn_at: w.withdrawn_at,
            reason: w.reason,
            recorded_at: w.recorded_at,
            doses_cancelled,
        }
    }))
}

/// Marks the recipients who withdrew from the trial (one query).
pub async fn mark_recipients(
    db: &impl ConnectionTrait,
    recipients: &mut [RecipientNode],
) -> AppResult<()> {
    let withdrawals = super::of_patients(db, recipients.iter().map(|r| r.patient_id)).await?;
    for r in recipients {
        r.withdrawn_at = withdrawals
            .iter()
            .find(|w| w.patient_id == r.patient_id)
            .map(|w| w.withdrawn_at);
    }
    Ok(())
}
