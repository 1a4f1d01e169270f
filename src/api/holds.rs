//! Holds: the vials a temperature excursion stopped, and quality's signed
//! decision on them.

use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::api::extract::{ApiJson, ApiPath, ApiQuery, Authorized, roles};
use crate::api::paging::page_of;
use crate::domain::lifecycle::VialStatus;
use crate::domain::paging::PageRequest;
use crate::domain::temperature::CentiCelsius;
use crate::entities::hold::HoldStatus;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::services::holds::{self, Decide, HoldRecord};
use crate::services::lists::SiteScope;
use crate::services::signatures::{self, SignatureInput};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_holds))
        .routes(routes!(get_hold))
        .routes(routes!(release_hold))
        .routes(routes!(discard_hold))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HeldVialView {
    pub vial_id: Uuid,
    pub code: String,
    /// The vial's status now.
    pub status: VialStatus,
    /// The status it had when this hold stopped it (`null`: another hold
    /// had stopped it already).
    pub held_from: Option<VialStatus>,
    /// `released` or `discarded`, once decided.
    pub decision: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub reason: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HoldView {
    pub id: Uuid,
    /// `excursion`.
    pub cause: String,
    /// `unit` (a storage unit) or `shipment`.
    pub source_kind: String,
    pub source_id: Uuid,
    pub site_id: Uuid,
    pub excursion_start: DateTime<Utc>,
    pub excursion_end: DateTime<Utc>,
    pub back_within_limit: bool,
    #[schema(example = "-120.50")]
    pub peak_celsius: String,
    pub peak_at: DateTime<Utc>,
    #[schema(example = "-150.00")]
    pub limit_celsius: String,
    pub allowed_minutes: i32,
    pub vial_count: i32,
    /// `open` while a vial awaits a decision, then `decided`.
    pub status: String,
    pub decided_at: Option<DateTime<Utc>>,
    /// `released`, `discarded` or `mixed`.
    pub decision: Option<String>,
    pub reason: Option<String>,
    pub vials: Vec<HeldVialView>,
}

fn celsius(centi: i32) -> String {
    CentiCelsius::new(centi)
        .map(|c| c.to_string())
        .unwrap_or_default()
}

impl From<HoldRecord> for HoldView {
    fn from(record: HoldRecord) -> Self {
        let h = record.hold;
        HoldView {
            id: h.id,
            cause: h.cause,
            source_kind: h.source_kind.as_str().to_owned(),
            source_id: h.source_id,
            site_id: h.site_id,
            excursion_start: h.excursion_start,
            excursion_end: h.excursion_end,
            back_within_limit: h.back_within_limit,
            peak_celsius: celsius(h.peak_centi_celsius),
            peak_at: h.peak_at,
            limit_celsius: celsius(h.limit_centi_celsius),
            allowed_minutes: h.allowed_minutes,
            vial_count: h.vial_count,
            status: h.status.as_str().to_owned(),
            decided_at: h.decided_at,
            decision: h.decision.map(|d| d.as_str().to_owned()),
            reason: h.reason,
            vials: record
                .vials
                .into_iter()
                .map(|v| HeldVialView {
                    vial_id: v.link.vial_id,
                    code: v.code,
                    status: v.status,
                    held_from: v.link.held_from,
                    decision: v.link.decision.map(|d| d.as_str().to_owned()),
                    decided_at: v.link.decided_at,
                    reason: v.link.reason,
                })
                .collect(),
        }
    }
}

page_of!(HoldPage => HoldView);

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HoldQuery {
    /// `open` or `decided`; by default both.
    pub status: Option<String>,
    /// Only this one of the caller's sites.
    pub site_id: Option<Uuid>,
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

/// Holds at the caller's sites, newest first.
#[utoipa::path(get, path = "/holds", tag = "holds", security(("bearer" = [])),
    params(HoldQuery),
    responses((status = 200, description = "A page of holds", body = HoldPage),
        (status = 403, body = ErrorBody, description = "forbidden (the administrator), not_your_site"),
        (status = 422, body = ErrorBody, description = "invalid_field: status, limit, cursor")))]
async fn list_holds(
    State(state): State<AppState>,
    auth: Authorized,
    ApiQuery(query): ApiQuery<HoldQuery>,
) -> AppResult<ApiJson<HoldPage>> {
    let status = match query.status.as_deref() {
        None | Some("") => None,
        Some("open") => Some(HoldStatus::Open),
        Some("decided") => Some(HoldStatus::Decided),
        Some(_) => return Err(AppError::invalid("status", "open or decided")),
    };
    let page = PageRequest::parse(None, query.limit, query.cursor.as_deref())?;
    let before =
        match page.after {
            Some(id) => Some(id.parse::<Uuid>().map_err(|_| {
                AppError::invalid("cursor", "this cursor was not given by this list")
            })?),
            None => None,
        };
    let sites = SiteScope::of_user(&state, auth.user.user_id, query.site_id).await?;
    let holds = holds::list(&state, &sites, status, page.limit, before).await?;
    Ok(ApiJson(holds.map(HoldView::from).into()))
}

/// A hold with its excursion and every vial it stopped.
#[utoipa::path(get, path = "/holds/{id}", tag = "holds", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "The hold", body = HoldView),
        (status = 403, body = ErrorBody, description = "forbidden (the administrator)"),
        (status = 404, body = ErrorBody, description = "not_found")))]
async fn get_hold(
    State(state): State<AppState>,
    _auth: Authorized,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<ApiJson<HoldView>> {
    Ok(ApiJson(holds::get(&state, id).await?.into()))
}

/// Quality's decision on a hold.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HoldDecision {
    pub reason: String,
    /// Decide only these vials of the hold; by default every vial not yet
    /// decided.
    pub vial_ids: Option<Vec<Uuid>>,
    pub signature: SignatureInput,
}

/// Releases vials from hold (quality, signed, with a reason): each gets back
/// the status it had, except one held in quarantine whose lot has been
/// released since, which becomes available.
#[utoipa::path(post, path = "/holds/{id}/release", tag = "holds", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = HoldDecision,
    responses((status = 200, description = "The hold after the decision", body = HoldView),
        (status = 401, body = ErrorBody, description = "signature_invalid"),
        (status = 403, body = ErrorBody, description = "forbidden, not_your_site"),
        (status = 404, body = ErrorBody, description = "not_found"),
        (status = 409, body = ErrorBody, description = "invalid_state: already decided; concurrent_change"),
        (status = 422, body = ErrorBody, description = "invalid_field: reason, vial_ids")))]
async fn release_hold(
    State(state): State<AppState>,
    auth: Authorized<roles::Quality>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<HoldDecision>,
) -> AppResult<ApiJson<HoldView>> {
    decide(state, auth, id, body, Decide::Release).await
}

/// Discards vials of a hold (quality, signed, with a reason): they leave
/// storage for good.
#[utoipa::path(post, path = "/holds/{id}/discard", tag = "holds", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = HoldDecision,
    responses((status = 200, description = "The hold after the decision", body = HoldView),
        (status = 401, body = ErrorBody, description = "signature_invalid"),
        (status = 403, body = ErrorBody, description = "forbidden, not_your_site"),
        (status = 404, body = ErrorBody, description = "not_found"),
        (status = 409, body = ErrorBody, description = "invalid_state: already decided; concurrent_change"),
        (status = 422, body = ErrorBody, description = "invalid_field: reason, vial_ids")))]
async fn discard_hold(
    State(state): State<AppState>,
    auth: Authorized<roles::Quality>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<HoldDecision>,
) -> AppResult<ApiJson<HoldView>> {
    decide(state, auth, id, body, Decide::Discard).await
}

async fn decide(
    state: AppState,
    auth: Authorized<roles::Quality>,
    id: Uuid,
    body: HoldDecision,
    decide: Decide,
) -> AppResult<ApiJson<HoldView>> {
    // the reason is checked before the password: nothing is counted
    // against a signer who forgot the reason
    crate::domain::reason::Reason::parse(&body.reason)?;
    let signature = signatures::verify(&state, &auth.user, &body.signature).await?;
    let record = holds::decide(
        &state,
        &signature,
        id,
        decide,
        &body.reason,
        body.vial_ids.as_deref(),
    )
    .await?;
    Ok(ApiJson(record.into()))
}
