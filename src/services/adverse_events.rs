//! Adverse events as their own act: an event that begins days after the
//! infusion it follows, recorded by the clinician whenever it is reported,
//! not only at the bedside when the infusion is completed.
//!
//! In this trial an adverse event follows an infusion of a lot: trace and
//! outcomes relate events to lots through the infusion, so the infusion is
//! required and must be the patient's own. The term and the CTCAE grade
//! are checked by the same domain rule as at the bedside
//! (`domain::infusion::check_adverse_event`), and the onset is neither in
//! the future nor before the infusion began.
//!
//! A grade that changes is not an update: the record is history. It is
//! recorded as a new event, with the new grade and its own onset.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder};
use serde_json::json;
use uuid::Uuid;

use crate::clock::not_in_future;
use crate::domain::infusion::{check_adverse_event, check_onset};
use crate::domain::invalid::Invalid;
use crate::entities::{adverse_event, dose, infusion};
use crate::error::{AppError, AppResult};
use crate::services::Actor;
use crate::services::ledger::{self, NewEvent};
use crate::services::{patients, store};
use crate::state::AppState;

/// An adverse event reported after the infusion it follows.
#[derive(Debug, Clone)]
pub struct NewAdverseEvent<'a> {
    /// The patient's infusion the event follows.
    pub infusion_id: Uuid,
    pub term: &'a str,
    /// CTCAE grade, 1 to 5.
    pub grade: i32,
    pub onset_at: DateTime<Utc>,
}

/// The row of an adverse event: one shape, whether it is recorded at the
/// bedside with the infusion's completion or on its own afterwards.
pub(crate) fn row(
    infusion_id: Uuid,
    patient_id: Uuid,
    term: &str,
    grade: i32,
    onset_at: DateTime<Utc>,
    recorded: (&Actor, DateTime<Utc>),
) -> adverse_event::Model {
    adverse_event::Model {
        id: Uuid::now_v7(),
        infusion_id,
        patient_id,
        term: term.trim().to_owned(),
        grade,
        onset_at,
        recorded_at: recorded.1,
        recorded_by: recorded.0.id,
    }
}

/// The bedside's rule on one event, its refusal named for a single event
/// (`term`, not `adverse_events.term`; no "event 1:").
fn single(refused: Invalid) -> AppError {
    let field = refused
        .field
        .strip_prefix("adverse_events.")
        .unwrap_or(refused.field);
    let message = refused
        .message
        .strip_prefix("event 1: ")
        .unwrap_or(&refused.message)
        .to_owned();
    Invalid::new(field, message).into()
}

/// Records an adverse event of the patient after one of their infusions
/// (clinician), with its custody event, in one transaction.
pub async fn record(
    state: &AppState,
    actor: &Actor,
    patient_id: Uuid,
    new: NewAdverseEvent<'_>,
) -> AppResult<adverse_event::Model> {
    check_adverse_event(1, new.term, new.grade).map_err(single)?;
    let now = state.clock.now();
    not_in_future("onset_at", new.onset_at, now)?;
    let txn = state.db.write().await?;
    let patient = patients::find(&txn, patient_id).await?;
    let given = store::find_or_404::<infusion::Entity>(&txn, new.infusion_id).await?;
    if given.patient_id != patient_id {
        return Err(AppError::invalid(
            "infusion_id",
            format!(
                "this infusion was given to another patient, not {}",
                patient.subject_code
            ),
        ));
    }
    check_onset(new.onset_at, given.started_at).map_err(single)?;
    let dose_code = dose::Entity::find_by_id(given.dose_id)
        .one(&txn)
        .await?
        .map(|d| d.code.to_string());
    let model = row(
        given.id,
        patient_id,
        new.term,
        new.grade,
        new.onset_at,
        (actor, now),
    );
    adverse_event::Entity::insert(model.clone().into_active_model())
        .exec_without_returning(&txn)
        .await?;
    ledger::append(
        &txn,
        actor,
        now,
        NewEvent::new("patient.adverse_event_recorded", "patient", patient_id).details(json!({
            "adverse_event_id": model.id,
            "subject_code": patient.subject_code,
            "infusion_id": given.id,
            "infusion_number": given.infusion_number,
            "dose_code": dose_code,
            "term": model.term,
            "grade": model.grade,
            "onset_at": model.onset_at,
        })),
    )
    .await?;
    txn.commit().await?;
    Ok(model)
}

/// The patient's adverse events, by onset (a 404 for an unknown patient).
pub async fn of_patient(
    state: &AppState,
    patient_id: Uuid,
) -> AppResult<Vec<adverse_event::Model>> {
    let db = state.db.conn();
    patients::find(db, patient_id).await?;
    Ok(adverse_event::Entity::find()
        .filter(adverse_event::Column::PatientId.eq(patient_id))
        .order_by_asc(adverse_event::Column::OnsetAt)
        .order_by_asc(adverse_event::Column::RecordedAt)
        .all(db)
        .await?)
}
