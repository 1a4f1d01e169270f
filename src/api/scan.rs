//! `POST /api/v1/scan`: whatever a scanner read or a person typed, resolved
//! to the record, its state and what the caller may do next.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::api::extract::{ApiJson, Authorized, ScanJson};
use crate::error::{AppResult, ErrorBody};
use crate::services::scan::{self, Resolved};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(scan))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScanRequest {
    /// A label's payload (`CT1:V:A999926000123-L01-V007`; a storage box's
    /// is `CT1:B:<box id>`), or typed from a
    /// damaged label: a vial code, a lot code, or a DIN with its check
    /// character (`A9999 26 000123 K`).
    #[schema(example = "CT1:V:A999926000123-L01-V007")]
    pub payload: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ScanView {
    /// `vial`, `lot`, `patient`, `dose`, `box` (a storage box's label,
    /// `CT1:B:<box id>`), `shipper` (a shipping container's label,
    /// `CT1:S:<container code>`), `shipment` (a packing list's QR,
    /// `CT1:H:<shipment code>`), or `donation` for a typed DIN.
    pub kind: &'static str,
    pub id: Uuid,
    pub code: String,
    pub status: String,
    /// One line for people.
    pub summary: String,
    /// What the caller's role may do now (`move`, `discard`, `reserve`,
    /// `release`, …), from the lifecycle.
    pub allowed_actions: Vec<&'static str>,
    /// Location, lot, expiry and the like, by kind.
    #[schema(value_type = Object)]
    pub details: Value,
}

impl From<Resolved> for ScanView {
    fn from(r: Resolved) -> Self {
        ScanView {
            kind: r.kind,
            id: r.id,
            code: r.code,
            status: r.status.to_owned(),
            summary: r.summary,
            allowed_actions: r.allowed_actions,
            details: r.details,
        }
    }
}

/// Resolves a scan (any role).
#[utoipa::path(post, path = "/scan", tag = "scan", security(("bearer" = [])),
    request_body = ScanRequest,
    responses((status = 200, description = "What the code names, its state and what may be done with it", body = ScanView),
        (status = 403, body = ErrorBody), (status = 400, body = ErrorBody, description = "malformed_payload"),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "unknown_code"),
        (status = 422, body = ErrorBody, description = "check_character_mismatch")))]
async fn scan(
    State(state): State<AppState>,
    auth: Authorized,
    ScanJson(body): ScanJson<ScanRequest>,
) -> AppResult<ApiJson<ScanView>> {
    Ok(ApiJson(
        scan::resolve(&state, &auth.user, &body.payload)
            .await?
            .into(),
    ))
}
