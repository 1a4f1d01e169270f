//! The custody ledger: a subject's history, and verification of the chain.

use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::api::extract::{ApiJson, ApiPath, ApiQuery, Authorized, roles};
use crate::domain::checkpoint::{Checkpoint, CheckpointReport, public_key_text};
use crate::domain::replay::ReplayReport;
use crate::entities::custody_event;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::services::checkpoints;
use crate::services::ledger;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(events))
        .routes(routes!(verify))
        .routes(routes!(list_checkpoints, take_checkpoint))
        .routes(routes!(receipt))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    pub seq: i64,
    pub occurred_at: DateTime<Utc>,
    /// Null for the system's own actions.
    pub actor_id: Option<Uuid>,
    pub actor_username: String,
    pub action: String,
    pub subject_kind: String,
    pub subject_id: Uuid,
    pub from_location: Option<String>,
    pub to_location: Option<String>,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    pub prev_hash: String,
    pub hash: String,
}

impl TryFrom<custody_event::Model> for EventView {
    type Error = AppError;

    fn try_from(e: custody_event::Model) -> AppResult<Self> {
        Ok(EventView {
            details: serde_json::from_str(&e.details).map_err(AppError::internal)?,
            seq: e.seq,
            occurred_at: e.occurred_at,
            actor_id: e.actor_id,
            actor_username: e.actor_username,
            action: e.action,
            subject_kind: e.subject_kind,
            subject_id: e.subject_id,
            from_location: e.from_location,
            to_location: e.to_location,
            prev_hash: e.prev_hash,
            hash: e.hash,
        })
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventFilter {
    /// `donor`, `donation`, `lot`, `vial`, `storage`, `user`, …
    pub subject_kind: Option<String>,
    pub subject_id: Option<Uuid>,
    /// Only events after this sequence number (for paging).
    pub after_seq: Option<i64>,
    /// At most this many (default 1000, at most 10000).
    pub limit: Option<u64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VerifyReport {
    pub ok: bool,
    pub events: u64,
    pub head_hash: String,
    /// The first event whose sequence, link or hash is wrong.
    pub first_bad_seq: Option<i64>,
    /// The signed checkpoints held against the chain: removed (truncated),
    /// rewritten or reordered events after a checkpoint are named there.
    pub checkpoints: Option<CheckpointReport>,
    /// The state the events imply, held against the tables: every row that
    /// differs is named (`vial …: table says available, ledger says
    /// recalled`).
    pub replay: Option<ReplayReport>,
    /// Every problem found, in words.
    pub problems: Vec<String>,
    /// Set once the chain was found inconsistent with a checkpoint: writes
    /// are refused (503 ledger_inconsistent) until it is investigated.
    pub alarm: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckpointList {
    /// The key checkpoints are signed with (`ed25519:` and 64 hex digits).
    pub public_key: Option<String>,
    /// Newest first.
    pub checkpoints: Vec<Checkpoint>,
    pub alarm: Option<String>,
}

/// Custody events, oldest first: of one subject, or all.
#[utoipa::path(get, path = "/audit", tag = "audit", security(("bearer" = [])),
    params(EventFilter),
    responses((status = 200, description = "The subject's custody events, oldest first", body = Vec<EventView>), (status = 403, body = ErrorBody), (status = 400, body = ErrorBody)))]
async fn events(
    State(state): State<AppState>,
    _auth: Authorized,
    ApiQuery(filter): ApiQuery<EventFilter>,
) -> AppResult<ApiJson<Vec<EventView>>> {
    let events = ledger::events(
        &state.db,
        ledger::EventQuery {
            subject_kind: filter.subject_kind,
            subject_id: filter.subject_id,
            after_seq: filter.after_seq,
            limit: filter.limit.unwrap_or(1000).min(10_000),
        },
    )
    .await?;
    Ok(ApiJson(
        events
            .into_iter()
            .map(EventView::try_from)
            .collect::<AppResult<_>>()?,
    ))
}

/// Recomputes the whole hash chain, holds it against every signed
/// checkpoint, and names the first broken link and every checkpoint the
/// chain no longer matches (quality).
#[utoipa::path(get, path = "/audit/verify", tag = "audit", operation_id = "verify_audit", security(("bearer" = [])),
    responses((status = 200, description = "the verification, ok or not", body = VerifyReport),
        (status = 401, description = "not signed in", body = ErrorBody),
        (status = 403, description = "not a quality officer", body = ErrorBody)))]
async fn verify(
    State(state): State<AppState>,
    _auth: Authorized<roles::Quality>,
) -> AppResult<ApiJson<VerifyReport>> {
    let report = ledger::check(&state).await?.report;
    let problems = report.problems();
    Ok(ApiJson(VerifyReport {
        ok: report.ok,
        events: report.events,
        head_hash: report.head_hash,
        first_bad_seq: report.first_bad_seq,
        checkpoints: report.checkpoints,
        replay: report.replay,
        problems,
        alarm: state.db.floor().alarm(),
    }))
}

/// The signed checkpoints of the ledger, newest first, and the public key
/// that verifies them (quality).
#[utoipa::path(get, path = "/audit/checkpoints", tag = "audit", security(("bearer" = [])),
    responses((status = 200, description = "the checkpoints", body = CheckpointList),
        (status = 401, description = "not signed in", body = ErrorBody),
        (status = 403, description = "not a quality officer", body = ErrorBody)))]
async fn list_checkpoints(
    State(state): State<AppState>,
    _auth: Authorized<roles::Quality>,
) -> AppResult<ApiJson<CheckpointList>> {
    let (_, key) = checkpoints::trusted(&state);
    Ok(ApiJson(CheckpointList {
        public_key: key.as_ref().map(public_key_text),
        checkpoints: checkpoints::list(&state).await?,
        alarm: state.db.floor().alarm(),
    }))
}

/// Signs the ledger's head now (quality), e.g. before a backup. Answers the
/// newest checkpoint when it already holds the head.
#[utoipa::path(post, path = "/audit/checkpoints", tag = "audit", security(("bearer" = [])),
    responses((status = 201, description = "signed now", body = Checkpoint),
        (status = 200, description = "the head was already signed", body = Checkpoint),
        (status = 401, description = "not signed in", body = ErrorBody),
        (status = 403, description = "not a quality officer", body = ErrorBody),
        (status = 404, description = "the ledger is empty", body = ErrorBody),
        (status = 503, description = "ledger_inconsistent", body = ErrorBody)))]
async fn take_checkpoint(
    State(state): State<AppState>,
    _auth: Authorized<roles::Quality>,
) -> AppResult<(StatusCode, ApiJson<Checkpoint>)> {
    if let Some(signed) = checkpoints::take(&state).await? {
        return Ok((StatusCode::CREATED, ApiJson(signed)));
    }
    let latest = checkpoints::list(&state)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| AppError::not_found("checkpoint", "latest"))?;
    Ok((StatusCode::OK, ApiJson(latest)))
}

/// A checkpoint as a receipt to file outside the system: the signed
/// statement, the key and the signature, as plain text (quality).
#[utoipa::path(get, path = "/audit/checkpoints/{seq}/receipt", tag = "audit", security(("bearer" = [])),
    params(("seq" = i64, Path, description = "the checkpointed event's sequence number")),
    responses((status = 200, description = "the receipt", content_type = "text/plain", body = String),
        (status = 401, description = "not signed in", body = ErrorBody),
        (status = 403, description = "not a quality officer", body = ErrorBody),
        (status = 404, description = "no checkpoint of that event", body = ErrorBody)))]
async fn receipt(
    State(state): State<AppState>,
    _auth: Authorized<roles::Quality>,
    ApiPath(seq): ApiPath<i64>,
) -> AppResult<Response> {
    let checkpoint = checkpoints::list(&state)
        .await?
        .into_iter()
        .find(|c| c.seq == seq)
        .ok_or_else(|| AppError::not_found("checkpoint", seq))?;
    let mut response = checkpoint.receipt().into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    if let Ok(value) = HeaderValue::from_str(&format!(
        "attachment; filename=\"celltrail-checkpoint-{seq}.txt\""
    )) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}
