//! AE, adverse events: one row per event, once, at its current values (a
//! signed correction supersedes a record, `adverse_event::current`).
//!
//! celltrail records the reported term, the CTCAE grade and the onset, and
//! the infusion each event follows. It does not code terms to MedDRA, nor
//! record an end date or the investigator's causality: `AEDECOD`,
//! `AEENDTC` and `AEREL` are there, empty, for the sponsor to fill. The
//! lot the event follows (the lot of that infusion) has no variable of
//! its own in AE: it is `AELOT`, with the infusion's number `AEINFNUM`,
//! supplemental qualifiers (SUPPAE material).

use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter};

use crate::domain::sdtm::dtc;
use crate::entities::adverse_event;
use crate::error::AppResult;
use crate::services::lists::SiteScope;

use super::ex::Exposure;
use super::{Trial, numbered, patients_in};

pub const COLUMNS: &[&str] = &[
    "STUDYID", "DOMAIN", "USUBJID", "AESEQ", "AETERM", "AEDECOD", "AEREL", "AETOXGR", "AESTDTC",
    "AEENDTC", "AESTDY", // supplemental qualifiers (SUPPAE)
    "AELOT", "AEINFNUM",
];

/// One query: each event of the patients in scope once, at its newest
/// record.
pub(super) async fn load(
    db: &impl ConnectionTrait,
    scope: &SiteScope,
    backend: DbBackend,
) -> AppResult<Vec<adverse_event::Model>> {
    Ok(adverse_event::Entity::find()
        .filter(adverse_event::current())
        .filter(adverse_event::Column::PatientId.in_subquery(patients_in(scope, backend)))
        .all(db)
        .await?)
}

pub(super) fn rows(
    trial: &Trial,
    exposure: &Exposure,
    events: &[adverse_event::Model],
) -> Vec<Vec<String>> {
    let infusions: std::collections::HashMap<_, _> =
        trial.infusions.iter().map(|i| (i.id, i)).collect();
    let records = events
        .iter()
        .filter_map(|e| {
            let subject = trial.subjects.get(&e.patient_id)?;
            let infusion = infusions.get(&e.infusion_id);
            let row = vec![
                trial.study_id.clone(),
                "AE".to_owned(),
                subject.usubjid.clone(),
                String::new(),
                e.term.clone(),
                String::new(),
                String::new(),
                e.grade.to_string(),
                dtc(subject.zone, e.onset_at),
                String::new(),
                subject.dy(e.onset_at),
                infusion
                    .map(|i| exposure.lot_of(i.dose_id))
                    .unwrap_or_default(),
                infusion
                    .map(|i| i.infusion_number.to_string())
                    .unwrap_or_default(),
            ];
            // a subject's events by onset, then term, then record
            Some((
                subject.usubjid.clone(),
                (e.onset_at, e.term.clone(), e.id),
                row,
            ))
        })
        .collect();
    numbered(records, 3)
}
