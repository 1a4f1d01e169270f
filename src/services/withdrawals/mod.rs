//! Withdrawals (issue 16): a donor's consent withdrawn, which holds every
//! lot and vial of the donor not yet infused until quality decides per
//! lot ([`donor`]), and a patient's withdrawal from the trial, which
//! cancels the patient's open doses and refuses further ones
//! ([`patient`]).
//!
//! The guards here are what the other services ask: a lot whose donor
//! withdrew consent serves no dose (until quality releases the lot; a lot
//! quality discarded never does), and a withdrawn patient gets no further
//! dose ordered, prepared or given. Holds on vials reuse the vial's
//! `on_hold` status and `held_from` column of the temperature holds
//! (`services::holds`): a vial held by both an excursion and a withdrawal
//! stays held until both are decided.

mod donor;
mod patient;
pub mod trace;

pub use donor::{LotDecision, LotHold, decide_lot, lot_hold, lot_holds_of_donor, withdraw_consent};
pub use patient::{PatientWithdrawal, withdraw_patient};

use std::collections::HashSet;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Statement};
use uuid::Uuid;

use crate::entities::withdrawal_hold::{self, HoldStatus, WithdrawalDecision};
use crate::entities::{donor_withdrawal, lot, patient_withdrawal, withdrawal_hold_vial};
use crate::error::{AppError, AppResult};
use crate::services::doses::DoseRecord;

/// The lots of `lot_ids` that may not serve a patient because their donor
/// withdrew consent: held and undecided, or discarded by quality.
pub(crate) async fn withdrawn_lots(
    db: &impl ConnectionTrait,
    lot_ids: impl IntoIterator<Item = Uuid>,
) -> AppResult<HashSet<Uuid>> {
    let ids: Vec<Uuid> = lot_ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    Ok(withdrawal_hold::Entity::find()
        .filter(withdrawal_hold::Column::LotId.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .filter(|h| {
            h.status == HoldStatus::Open || h.decision == Some(WithdrawalDecision::Discarded)
        })
        .map(|h| h.lot_id)
        .collect())
}

/// Refuses a lot whose donor withdrew consent (see [`withdrawn_lots`]).
pub(crate) async fn refuse_lot(db: &impl ConnectionTrait, lot: &lot::Model) -> AppResult<()> {
    if withdrawn_lots(db, [lot.id]).await?.contains(&lot.id) {
        return Err(AppError::ConsentWithdrawn {
            lot_id: lot.id,
            code: lot.code.clone(),
        });
    }
    Ok(())
}

/// Refuses a patient who withdrew from the trial, by id alone (the
/// subject code is read only then).
pub(crate) async fn refuse_patient_by_id(
    db: &impl ConnectionTrait,
    patient_id: Uuid,
) -> AppResult<()> {
    if of_patient(db, patient_id).await?.is_some() {
        let subject_code = crate::entities::patient::Entity::find_by_id(patient_id)
            .one(db)
            .await?
            .map(|p| p.subject_code.to_string())
            .unwrap_or_default();
        return Err(AppError::PatientWithdrawn {
            patient_id,
            subject_code,
        });
    }
    Ok(())
}

/// Refuses to thaw, verify or infuse a dose whose patient withdrew or
/// whose lot's donor withdrew consent (quality not having released it).
///
/// One statement for both questions: it runs inside the thaw's, the
/// verification's and the bedside's write transactions.
pub(crate) async fn refuse_dose(db: &impl ConnectionTrait, record: &DoseRecord) -> AppResult<()> {
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            format!(
                "SELECT (SELECT count(*) FROM patient_withdrawals pw WHERE pw.patient_id = $1) \
                   AS patient_withdrawn, \
                 (SELECT count(*) FROM withdrawal_holds wh WHERE wh.lot_id = $2 \
                   AND (wh.status = '{}' OR wh.decision = '{}')) AS lot_withdrawn",
                HoldStatus::Open.as_str(),
                WithdrawalDecision::Discarded.as_str(),
            ),
            [record.dose.patient_id.into(), record.lot.id.into()],
        ))
        .await?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("a count query returned no row")))?;
    if row.try_get::<i64>("", "patient_withdrawn")? > 0 {
        return Err(AppError::PatientWithdrawn {
            patient_id: record.dose.patient_id,
            subject_code: record.subject_code.to_string(),
        });
    }
    if row.try_get::<i64>("", "lot_withdrawn")? > 0 {
        return Err(AppError::ConsentWithdrawn {
            lot_id: record.lot.id,
            code: record.lot.code.clone(),
        });
    }
    Ok(())
}

/// The vials of `vial_ids` an undecided consent withdrawal holds: a
/// temperature hold released on them leaves them held.
pub(crate) async fn held_by_withdrawal(
    db: &impl ConnectionTrait,
    vial_ids: &[Uuid],
) -> AppResult<HashSet<Uuid>> {
    if vial_ids.is_empty() {
        return Ok(HashSet::new());
    }
    let links = withdrawal_hold_vial::Entity::find()
        .filter(withdrawal_hold_vial::Column::VialId.is_in(vial_ids.iter().copied()))
        .filter(withdrawal_hold_vial::Column::Held.eq(true))
        .all(db)
        .await?;
    if links.is_empty() {
        return Ok(HashSet::new());
    }
    let open: HashSet<Uuid> = withdrawal_hold::Entity::find()
        .filter(withdrawal_hold::Column::Id.is_in(links.iter().map(|l| l.hold_id)))
        .filter(withdrawal_hold::Column::Status.eq(HoldStatus::Open))
        .all(db)
        .await?
        .into_iter()
        .map(|h| h.id)
        .collect();
    Ok(links
        .into_iter()
        .filter(|l| open.contains(&l.hold_id))
        .map(|l| l.vial_id)
        .collect())
}

/// The donor's consent withdrawal, if any.
pub async fn of_donor(
    db: &impl ConnectionTrait,
    donor_id: Uuid,
) -> AppResult<Option<donor_withdrawal::Model>> {
    Ok(donor_withdrawal::Entity::find()
        .filter(donor_withdrawal::Column::DonorId.eq(donor_id))
        .one(db)
        .await?)
}

/// The patient's withdrawal from the trial, if any.
pub async fn of_patient(
    db: &impl ConnectionTrait,
    patient_id: Uuid,
) -> AppResult<Option<patient_withdrawal::Model>> {
    Ok(patient_withdrawal::Entity::find()
        .filter(patient_withdrawal::Column::PatientId.eq(patient_id))
        .one(db)
        .await?)
}

/// The withdrawals of these patients (for traces and exports).
pub async fn of_patients(
    db: &impl ConnectionTrait,
    patient_ids: impl IntoIterator<Item = Uuid>,
) -> AppResult<Vec<patient_withdrawal::Model>> {
    let ids: Vec<Uuid> = patient_ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(patient_withdrawal::Entity::find()
        .filter(patient_withdrawal::Column::PatientId.is_in(ids))
        .all(db)
        .await?)
}
