//! A patient's adverse events (clinician): recorded as their own act,
//! whenever an event is reported after one of the patient's infusions,
//! and listed by onset.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::api::extract::{ApiJson, ApiPath, Authorized, roles};
use crate::api::patients::AdverseEventView;
use crate::error::{AppResult, ErrorBody};
use crate::services::adverse_events::{self, NewAdverseEvent};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(record_adverse_event, list_adverse_events))
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
    /// 5 death). A grade that changes is recorded as a new event.
    pub grade: i32,
    /// When it began: not in the future, not before the infusion started.
    pub onset_at: DateTime<Utc>,
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
    Ok((StatusCode::CREATED, ApiJson(recorded.into())))
}

/// The patient's adverse events, by onset.
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
