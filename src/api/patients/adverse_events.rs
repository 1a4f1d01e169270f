//! A patient's adverse events (clinician): recorded as their own act,
//! whenever an event is reported after one of the patient's infusions,
//! corrected by a signed correction with a reason (never edited), and
//! listed by onset at their current values with their corrections.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::api::extract::{ApiJson, ApiPath, Authorized, roles};
use crate::entities::adverse_event;
use crate::error::{AppResult, ErrorBody};
use crate::services::adverse_events::{self, AdverseEvent, Corrected, Correction, NewAdverseEvent};
use crate::services::signatures::{self, SignatureInput};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(record_adverse_event, list_adverse_events))
        .routes(routes!(correct_adverse_event))
}

/// An adverse event at its current values: those of its newest record.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdverseEventView {
    /// The event's newest record: the one a correction names.
    pub id: Uuid,
    pub infusion_id: Uuid,
    pub term: String,
    /// CTCAE grade 1-5.
    pub grade: i32,
    pub onset_at: DateTime<Utc>,
    /// When the newest record was written (recorded, or corrected).
    pub recorded_at: DateTime<Utc>,
    /// The event's first record, the same however often it is corrected.
    pub original_id: Uuid,
    /// Whether a signed correction changed it since it was recorded.
    pub corrected: bool,
    /// Its corrections, oldest first: each record superseded and why.
    pub corrections: Vec<AdverseEventCorrectionView>,
}

/// An adverse event's grade, term and onset, as one record states them.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdverseEventValues {
    pub term: String,
    pub grade: i32,
    pub onset_at: DateTime<Utc>,
}

impl From<&adverse_event::Model> for AdverseEventValues {
    fn from(e: &adverse_event::Model) -> Self {
        AdverseEventValues {
            term: e.term.clone(),
            grade: e.grade,
            onset_at: e.onset_at,
        }
    }
}

/// One signed correction of an adverse event.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdverseEventCorrectionView {
    /// The record the correction wrote.
    pub id: Uuid,
    /// The record it superseded (kept as it was).
    pub corrects_id: Uuid,
    pub old: AdverseEventValues,
    pub new: AdverseEventValues,
    pub reason: String,
    pub corrected_at: DateTime<Utc>,
    /// The signer's user id, username and full name.
    pub corrected_by: Option<Uuid>,
    pub corrected_by_username: Option<String>,
    pub corrected_by_name: Option<String>,
    /// The signature and what it meant.
    pub signature_id: Option<Uuid>,
    pub signature_meaning: Option<String>,
}

impl From<Corrected> for AdverseEventCorrectionView {
    fn from(c: Corrected) -> Self {
        AdverseEventCorrectionView {
            id: c.after.id,
            corrects_id: c.before.id,
            old: (&c.before).into(),
            new: (&c.after).into(),
            reason: c.after.correction_reason.clone().unwrap_or_default(),
            corrected_at: c.after.recorded_at,
            corrected_by: c.after.recorded_by,
            corrected_by_username: c.signature.as_ref().map(|s| s.signer_username.clone()),
            corrected_by_name: c.signature.as_ref().map(|s| s.signer_full_name.clone()),
            signature_id: c.after.signature_id,
            signature_meaning: c.signature.map(|s| s.meaning),
        }
    }
}

impl From<AdverseEvent> for AdverseEventView {
    fn from(event: AdverseEvent) -> Self {
        let original_id = event.original_id();
        let AdverseEvent {
            current,
            corrections,
        } = event;
        AdverseEventView {
            id: current.id,
            infusion_id: current.infusion_id,
            term: current.term,
            grade: current.grade,
            onset_at: current.onset_at,
            recorded_at: current.recorded_at,
            original_id,
            corrected: !corrections.is_empty(),
            corrections: corrections.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordAdverseEvent {
    /// The patient's infusion the event follows: trace and outcomes relate
    /// adverse events to lots through it.
    pub infusion_id: Uuid,
    /// CTCAE term, e.g. `Infusion related reaction`; 1 to 200 characters.
    pub term: String,
    /// CTCAE grade 1 to 5 (1 mild, 2 moderate, 3 severe, 4 life-threatening,
    /// 5 death). A record found wrong is corrected (`…/corrections`); an
    /// event that worsens later is a new event with its own onset.
    pub grade: i32,
    /// When it began: not in the future, not before the infusion started.
    pub onset_at: DateTime<Utc>,
}

/// A signed correction of an adverse event: its full values as they
/// should have been recorded, and why.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CorrectAdverseEvent {
    /// CTCAE grade 1 to 5.
    pub grade: i32,
    /// CTCAE term; 1 to 200 characters.
    pub term: String,
    /// Not in the future, not before the infusion started.
    pub onset_at: DateTime<Utc>,
    /// Why the record was wrong; 1 to 1000 characters.
    pub reason: String,
    pub signature: SignatureInput,
}

/// Records an adverse event after one of the patient's infusions
/// (clinician), with its custody event.
#[utoipa::path(post, path = "/patients/{id}/adverse-events", tag = "patients", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = RecordAdverseEvent,
    responses((status = 201, description = "Created: the adverse event", body = AdverseEventView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "not_found: the patient or the infusion"),
        (status = 422, body = ErrorBody, description = "invalid_field: term, grade, onset_at (in the future or before the infusion), infusion_id (another patient's infusion)")))]
async fn record_adverse_event(
    State(state): State<AppState>,
    auth: Authorized<roles::Clinician>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<RecordAdverseEvent>,
) -> AppResult<(StatusCode, ApiJson<AdverseEventView>)> {
    let recorded = adverse_events::record(
        &state,
        &auth.user.actor(),
        id,
        NewAdverseEvent {
            infusion_id: body.infusion_id,
            term: &body.term,
            grade: body.grade,
            onset_at: body.onset_at,
        },
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(AdverseEvent::fresh(recorded).into()),
    ))
}

/// Corrects an adverse event's grade, term or onset (clinician, signed,
/// with the reason): a new record supersedes the newest one, which stays
/// as it was; the custody event holds the old values and the new.
#[utoipa::path(post, path = "/patients/{id}/adverse-events/{event_id}/corrections", tag = "patients", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("event_id" = Uuid, Path, description = "the event's newest record (`id` in the list)")),
    request_body = CorrectAdverseEvent,
    responses((status = 201, description = "Created: the adverse event at its corrected values, with its corrections", body = AdverseEventView),
        (status = 401, body = ErrorBody, description = "signature_invalid"),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "not_found: the patient, or no adverse event of this patient"),
        (status = 409, body = ErrorBody, description = "already_corrected: the record was superseded; correct the newest (details.newest_id); concurrent_change"),
        (status = 422, body = ErrorBody, description = "invalid_field: term, grade, onset_at (in the future or before the infusion), reason (empty), correction (changes nothing)")))]
async fn correct_adverse_event(
    State(state): State<AppState>,
    auth: Authorized<roles::Clinician>,
    ApiPath((id, event_id)): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<CorrectAdverseEvent>,
) -> AppResult<(StatusCode, ApiJson<AdverseEventView>)> {
    let signature = signatures::verify(&state, &auth.user, &body.signature).await?;
    let corrected = adverse_events::correct(
        &state,
        &signature,
        id,
        event_id,
        Correction {
            grade: body.grade,
            term: &body.term,
            onset_at: body.onset_at,
            reason: &body.reason,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, ApiJson(corrected.into())))
}

/// The patient's adverse events at their current values, by onset, each
/// once, with its corrections.
#[utoipa::path(get, path = "/patients/{id}/adverse-events", tag = "patients", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "The adverse events, by onset", body = Vec<AdverseEventView>),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list_adverse_events(
    State(state): State<AppState>,
    _auth: Authorized,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<ApiJson<Vec<AdverseEventView>>> {
    let events = adverse_events::of_patient(&state, id).await?;
    Ok(ApiJson(events.into_iter().map(Into::into).collect()))
}
