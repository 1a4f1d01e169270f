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
//! A grade, term or onset found wrong is corrected by a signed correction
//! with a reason (clinician), never an edit: a new row carrying the full
//! corrected values and `corrects_id`, the row it supersedes, which stays
//! as it was. A row is superseded once, so an event's rows are a chain;
//! its current values are its newest row, and every reader counts each
//! event once, at those values ([`adverse_event::current`], [`load`]).
//! A grade that truly changes later (an event that worsens) is still a new
//! event with its own onset: a correction says the record was wrong.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{IntoCondition, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
};
use serde_json::json;
use uuid::Uuid;

use crate::clock::not_in_future;
use crate::domain::infusion::{check_adverse_event, check_onset};
use crate::domain::invalid::Invalid;
use crate::domain::reason::Reason;
use crate::entities::{adverse_event, dose, infusion, signature};
use crate::error::{AppError, AppResult};
use crate::services::Actor;
use crate::services::ledger::{self, NewEvent};
use crate::services::signatures::{self, VerifiedSignature};
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
        corrects_id: None,
        correction_reason: None,
        signature_id: None,
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

/// An adverse event as it stands: its newest row, and the corrections that
/// led there, oldest first (none for an event never corrected).
#[derive(Debug, Clone)]
pub struct AdverseEvent {
    pub current: adverse_event::Model,
    pub corrections: Vec<Corrected>,
}

/// One correction: the row it superseded, the row it wrote, and its
/// signature (who signed, when, meaning what).
#[derive(Debug, Clone)]
pub struct Corrected {
    pub before: adverse_event::Model,
    pub after: adverse_event::Model,
    pub signature: Option<signature::Model>,
}

impl AdverseEvent {
    /// An event just recorded, never corrected.
    pub fn fresh(current: adverse_event::Model) -> Self {
        AdverseEvent {
            current,
            corrections: Vec::new(),
        }
    }

    /// The id of the event's first row, the same however often corrected.
    pub fn original_id(&self) -> Uuid {
        self.corrections
            .first()
            .map_or(self.current.id, |c| c.before.id)
    }
}

/// Rows of adverse events (whole chains) as events: each once, at its
/// newest row, in the order of those rows in `rows`.
pub(crate) fn chains(
    rows: Vec<adverse_event::Model>,
    signatures: &HashMap<Uuid, signature::Model>,
) -> Vec<AdverseEvent> {
    let superseded: HashSet<Uuid> = rows.iter().filter_map(|r| r.corrects_id).collect();
    let by_id: HashMap<Uuid, &adverse_event::Model> = rows.iter().map(|r| (r.id, r)).collect();
    rows.iter()
        .filter(|r| !superseded.contains(&r.id))
        .map(|current| {
            let mut corrections = Vec::new();
            let mut after = current;
            // a chain is acyclic (each row corrects an older one, once);
            // the bound keeps a damaged table from looping
            while let Some(before) = after.corrects_id.and_then(|id| by_id.get(&id)) {
                if corrections.len() >= rows.len() {
                    break;
                }
                corrections.push(Corrected {
                    before: (*before).clone(),
                    after: after.clone(),
                    signature: after
                        .signature_id
                        .and_then(|id| signatures.get(&id).cloned()),
                });
                after = before;
            }
            corrections.reverse();
            AdverseEvent {
                current: current.clone(),
                corrections,
            }
        })
        .collect()
}

/// The adverse events whose rows `filter` selects (it must select whole
/// chains: by patient or by infusion, which a correction keeps), each once
/// at its current values, by current onset; in two queries.
pub(crate) async fn load(
    db: &impl ConnectionTrait,
    filter: impl IntoCondition,
) -> AppResult<Vec<AdverseEvent>> {
    let rows = adverse_event::Entity::find()
        .filter(filter)
        .order_by_asc(adverse_event::Column::OnsetAt)
        .order_by_asc(adverse_event::Column::RecordedAt)
        .all(db)
        .await?;
    let signature_ids: Vec<Uuid> = rows.iter().filter_map(|r| r.signature_id).collect();
    let signatures: HashMap<Uuid, signature::Model> = if signature_ids.is_empty() {
        HashMap::new()
    } else {
        signature::Entity::find()
            .filter(signature::Column::Id.is_in(signature_ids))
            .all(db)
            .await?
            .into_iter()
            .map(|s| (s.id, s))
            .collect()
    };
    Ok(chains(rows, &signatures))
}

/// The patient's adverse events at their current values, by onset, with
/// their corrections (a 404 for an unknown patient).
pub async fn of_patient(state: &AppState, patient_id: Uuid) -> AppResult<Vec<AdverseEvent>> {
    let db = state.db.conn();
    patients::find(db, patient_id).await?;
    load(db, adverse_event::Column::PatientId.eq(patient_id)).await
}

/// The adverse events of these patients, by patient.
pub(crate) async fn of_patients(
    db: &impl ConnectionTrait,
    patient_ids: Vec<Uuid>,
) -> AppResult<HashMap<Uuid, Vec<AdverseEvent>>> {
    let mut grouped: HashMap<Uuid, Vec<AdverseEvent>> = HashMap::new();
    for event in load(db, adverse_event::Column::PatientId.is_in(patient_ids)).await? {
        grouped
            .entry(event.current.patient_id)
            .or_default()
            .push(event);
    }
    Ok(grouped)
}

/// The adverse events of one infusion.
pub(crate) async fn of_infusion(
    db: &impl ConnectionTrait,
    infusion_id: Uuid,
) -> AppResult<Vec<AdverseEvent>> {
    load(db, adverse_event::Column::InfusionId.eq(infusion_id)).await
}

/// What a correction says the event is: the full values, and why.
#[derive(Debug, Clone)]
pub struct Correction<'a> {
    /// CTCAE grade, 1 to 5.
    pub grade: i32,
    pub term: &'a str,
    pub onset_at: DateTime<Utc>,
    pub reason: &'a str,
}

/// Corrects an adverse event's grade, term or onset (clinician, signed,
/// with the reason): the row named, which must be the event's newest, is
/// superseded by a new row with the corrected values, and the custody
/// event `patient.adverse_event_corrected` holds the old values and the
/// new, in one transaction. The corrected row stays as it was.
pub async fn correct(
    state: &AppState,
    signature: &VerifiedSignature,
    patient_id: Uuid,
    adverse_event_id: Uuid,
    correction: Correction<'_>,
) -> AppResult<AdverseEvent> {
    check_adverse_event(1, correction.term, correction.grade).map_err(single)?;
    let reason = Reason::parse(correction.reason)?.into_inner();
    let now = state.clock.now();
    not_in_future("onset_at", correction.onset_at, now)?;
    let txn = state.db.write().await?;
    let patient = patients::find(&txn, patient_id).await?;
    let before = adverse_event::Entity::find_by_id(adverse_event_id)
        .one(&txn)
        .await?
        .filter(|e| e.patient_id == patient_id)
        .ok_or_else(|| AppError::not_found("adverse event", adverse_event_id))?;
    let of_infusion = load(
        &txn,
        adverse_event::Column::InfusionId.eq(before.infusion_id),
    )
    .await?;
    let Some(event) = of_infusion.into_iter().find(|e| {
        e.current.id == before.id || e.corrections.iter().any(|c| c.before.id == before.id)
    }) else {
        return Err(AppError::broken(format!(
            "adverse event {adverse_event_id} belongs to no chain of its infusion"
        )));
    };
    if event.current.id != before.id {
        return Err(AppError::AlreadyCorrected {
            adverse_event_id,
            newest_id: event.current.id,
        });
    }
    let given = store::find_or_404::<infusion::Entity>(&txn, before.infusion_id).await?;
    check_onset(correction.onset_at, given.started_at).map_err(single)?;
    let term = correction.term.trim();
    if term == before.term
        && correction.grade == before.grade
        && correction.onset_at == before.onset_at
    {
        return Err(AppError::invalid(
            "correction",
            "the correction changes nothing: the grade, term and onset are as recorded",
        ));
    }
    let mut after = row(
        before.infusion_id,
        patient_id,
        term,
        correction.grade,
        correction.onset_at,
        (&signature.signer.actor(), now),
    );
    let (_, signed) = signatures::append_signed(
        &txn,
        signature,
        now,
        NewEvent::new("patient.adverse_event_corrected", "patient", patient_id).details(json!({
            "adverse_event_id": after.id,
            "corrects_id": before.id,
            "original_id": event.original_id(),
            "subject_code": patient.subject_code,
            "infusion_id": given.id,
            "infusion_number": given.infusion_number,
            "old": stated(&before),
            "new": stated(&after),
            "reason": reason,
        })),
    )
    .await?;
    after.corrects_id = Some(before.id);
    after.correction_reason = Some(reason);
    after.signature_id = Some(signed.id);
    // a correction of the same row racing this one finds the unique
    // `corrects_id` taken and inserts nothing; its ledger event and
    // signature go back with the transaction
    let inserted = adverse_event::Entity::insert(after.clone().into_active_model())
        .on_conflict(
            OnConflict::column(adverse_event::Column::CorrectsId)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
    if inserted == 0 {
        return Err(AppError::ConcurrentChange {
            kind: "adverse event",
            id: adverse_event_id,
        });
    }
    txn.commit().await?;
    let mut corrections = event.corrections;
    corrections.push(Corrected {
        before,
        after: after.clone(),
        signature: Some(signed),
    });
    Ok(AdverseEvent {
        current: after,
        corrections,
    })
}

/// What one row states of the event, for the custody event.
fn stated(e: &adverse_event::Model) -> serde_json::Value {
    json!({ "term": e.term, "grade": e.grade, "onset_at": e.onset_at })
}

/// The row `id` of the patient's adverse events, if it is one (for the
/// page, which keeps a correction's unchanged onset to the second).
pub async fn row_of(
    state: &AppState,
    patient_id: Uuid,
    id: Uuid,
) -> AppResult<Option<adverse_event::Model>> {
    Ok(adverse_event::Entity::find_by_id(id)
        .filter(adverse_event::Column::PatientId.eq(patient_id))
        .one(state.db.conn())
        .await?)
}
