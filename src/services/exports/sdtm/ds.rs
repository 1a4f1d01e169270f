//! DS, disposition: a patient's withdrawal from the trial, one row each
//! (`patient_withdrawals`), as recorded: the reason as typed (`DSTERM`),
//! when they withdrew (`DSSTDTC`) and when it was recorded (`DSDTC`).
//! celltrail keeps no category for the reason (withdrawal by the subject,
//! a physician's decision, an adverse event…), so `DSDECOD` is there,
//! empty, for the sponsor to code; a patient still in the trial has no
//! row yet.

use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter};

use crate::domain::sdtm::dtc;
use crate::entities::patient_withdrawal;
use crate::error::AppResult;
use crate::services::lists::SiteScope;

use super::{Trial, numbered, patients_in};

pub const COLUMNS: &[&str] = &[
    "STUDYID", "DOMAIN", "USUBJID", "DSSEQ", "DSTERM", "DSDECOD", "DSCAT", "DSDTC", "DSSTDTC",
    "DSSTDY",
];

/// One query: the withdrawals of the patients in scope.
pub(super) async fn load(
    db: &impl ConnectionTrait,
    scope: &SiteScope,
    backend: DbBackend,
) -> AppResult<Vec<patient_withdrawal::Model>> {
    Ok(patient_withdrawal::Entity::find()
        .filter(patient_withdrawal::Column::PatientId.in_subquery(patients_in(scope, backend)))
        .all(db)
        .await?)
}

pub(super) fn rows(trial: &Trial, withdrawals: &[patient_withdrawal::Model]) -> Vec<Vec<String>> {
    let records = withdrawals
        .iter()
        .filter_map(|w| {
            let subject = trial.subjects.get(&w.patient_id)?;
            let row = vec![
                trial.study_id.clone(),
                "DS".to_owned(),
                subject.usubjid.clone(),
                String::new(),
                w.reason.clone(),
                String::new(),
                "DISPOSITION EVENT".to_owned(),
                dtc(subject.zone, w.recorded_at),
                dtc(subject.zone, w.withdrawn_at),
                subject.dy(w.withdrawn_at),
            ];
            Some((subject.usubjid.clone(), (w.withdrawn_at, w.id), row))
        })
        .collect();
    numbered(records, 3)
}
