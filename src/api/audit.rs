//! The custody ledger: a subject's history, and verification of the chain.

use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::api::extract::{ApiJson, ApiQuery, Authorized, roles};
use crate::entities::custody_event;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::services::ledger;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(events))
        .routes(routes!(verify))
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
}

/// Custody events, oldest first: of one subject, or all.
#[utoipa::path(get, path = "/audit", tag = "audit", security(("bearer" = [])),
    params(EventFilter),
    responses((status = 200, body = Vec<EventView>), (status = 400, body = ErrorBody)))]
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

/// Recomputes the whole hash chain and names the first broken link (quality).
#[utoipa::path(get, path = "/audit/verify", tag = "audit", security(("bearer" = [])),
    responses((status = 200, body = VerifyReport), (status = 403, body = ErrorBody)))]
async fn verify(
    State(state): State<AppState>,
    _auth: Authorized<roles::Quality>,
) -> AppResult<ApiJson<VerifyReport>> {
    let report = ledger::check(&state).await?.report;
    Ok(ApiJson(VerifyReport {
        ok: report.ok,
        events: report.events,
        head_hash: report.head_hash,
        first_bad_seq: report.first_bad_seq,
    }))
}
