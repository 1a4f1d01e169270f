//! Doses: orders with vial reservation, thaw, the signed verification,
//! cancellation and vial replacement (pharmacist).
//!
//! Its parts: `calculator` answers what a dose would take, before any
//! order; `view` is the dose as every route answers it.

mod calculator;
mod view;

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::api::extract::{ApiJson, ApiPath, ApiQuery, Authorized, DecimalInput, roles};
use crate::api::paging::{page_of, page_request};
use crate::api::signed::SignedOnly;
use crate::domain::dose::parse_viability;
use crate::domain::lifecycle::DoseStatus;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::services::doses::{self, Counting, VialCount};
use crate::services::lists::{self, DoseFilter, SiteScope};
use crate::services::signatures::{self, SignatureInput};
use crate::state::AppState;

pub use calculator::{Calculate, CalculationView};
pub use view::{CountView, DoseVialView, DoseView, ReplacedVial};

page_of!(DosePage => DoseView);

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(calculator::router())
        .routes(routes!(order, list_doses))
        .routes(routes!(get_dose))
        .routes(routes!(thaw))
        .routes(routes!(verify))
        .routes(routes!(cancel))
        .routes(routes!(replace_vial))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderDose {
    pub patient_id: Uuid,
    /// A particular lot; by default the first-expiring released lot with
    /// enough vials.
    pub lot_id: Option<Uuid>,
}

/// Orders the patient's next dose and reserves its vials (pharmacist).
#[utoipa::path(post, path = "/doses", tag = "doses", security(("bearer" = [])),
    request_body = OrderDose,
    responses((status = 201, description = "Created: the dose", body = DoseView), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "dose_in_progress"),
        (status = 422, body = ErrorBody, description = "no_weight, stale_weight, insufficient_stock, infusion_limit_reached, outside_window, too_soon, lot_not_released, lot_expired, lot_recalled")))]
async fn order(
    State(state): State<AppState>,
    auth: Authorized<roles::Pharmacist>,
    ApiJson(body): ApiJson<OrderDose>,
) -> AppResult<(StatusCode, ApiJson<DoseView>)> {
    let record = doses::order(&state, &auth.user.actor(), body.patient_id, body.lot_id).await?;
    Ok((StatusCode::CREATED, ApiJson(record.try_into()?)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DoseList {
    /// A dose code or a subject code (every dose code starts with its
    /// patient's), or the start of one; a scanned bag label works too.
    pub q: Option<String>,
    pub status: Option<DoseStatus>,
    pub patient_id: Option<Uuid>,
    pub lot_id: Option<Uuid>,
    /// Only the doses of patients at this one of the caller's sites
    /// (`403 not_your_site` for a site they do not work at); by default
    /// every site they work at.
    pub site_id: Option<Uuid>,
    /// Items in the page: 1 to 500, default 50.
    pub limit: Option<u64>,
    /// The `next_cursor` of the page before.
    pub cursor: Option<String>,
}

/// Doses by code, a page at a time: those of patients at the caller's
/// sites.
#[utoipa::path(get, path = "/doses", tag = "doses", security(("bearer" = [])),
    params(DoseList),
    responses((status = 200, description = "A page of doses, by code", body = DosePage),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody, description = "not_your_site"), (status = 404, body = ErrorBody, description = "not_found: site_id"),
        (status = 422, body = ErrorBody, description = "invalid_field: q, limit or cursor")))]
async fn list_doses(
    State(state): State<AppState>,
    auth: Authorized,
    ApiQuery(query): ApiQuery<DoseList>,
) -> AppResult<ApiJson<DosePage>> {
    let sites = SiteScope::of_user(&state, auth.user.user_id, query.site_id).await?;
    let page = page_request(query.q.as_deref(), query.limit, query.cursor.as_deref())?;
    let filter = DoseFilter {
        status: query.status,
        patient_id: query.patient_id,
        lot_id: query.lot_id,
    };
    let found = lists::doses(&state, &sites, &filter, &page).await?;
    Ok(ApiJson(found.try_map(DoseView::try_from)?.into()))
}

/// A dose with its vials, counts and preparation.
#[utoipa::path(get, path = "/doses/{id}", tag = "doses", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "The dose", body = DoseView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_dose(
    State(state): State<AppState>,
    _auth: Authorized,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<ApiJson<DoseView>> {
    Ok(ApiJson(doses::get(&state, id).await?.try_into()?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ThawedVial {
    pub vial_id: Uuid,
    /// Viable cells per mL, counted after thaw.
    pub viable_cells_per_ml: i64,
    /// Percent, read exactly (more decimals are floored to the tenth).
    pub viability_pct: DecimalInput,
    /// Confirms a count the protocol finds implausible (recovery outside
    /// its range, or far from the other vials' counts)…
    #[serde(default)]
    pub confirm: bool,
    /// …with the reason it is right.
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Thaw {
    /// A count for each vial of the dose not counted yet; a vial counted
    /// before only as a signed correction.
    pub vials: Vec<ThawedVial>,
    /// When the vials not counted before were thawed (never in the
    /// future); the server's clock when absent.
    pub thawed_at: Option<DateTime<Utc>>,
    /// Signs a correction of a count already recorded…
    pub signature: Option<SignatureInput>,
    /// …with the reason for it.
    pub correction_reason: Option<String>,
}

/// Records post-thaw counts (pharmacist). Counting needs a thawed vial: a
/// well-formed count is always recorded and its vials become `thawed`. When
/// a count fails (viability, plausibility), the lot or weight is no longer
/// good, the product is past its shelf life or the volume would not hold a
/// dose in range, the answer is that refusal with `details.recorded: true`
/// and the dose is `count_failed`: replace the vial, correct a count
/// (signed), or cancel.
#[utoipa::path(post, path = "/doses/{id}/thaw", tag = "doses", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = Thaw,
    responses((status = 200, description = "The dose", body = DoseView), (status = 401, body = ErrorBody, description = "signature_invalid"),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "viability_too_low, implausible_count, dose_out_of_range, thawed_product_expired, lot_expired, lot_recalled, stale_weight, weight_voided (recorded: true); invalid_field (nothing recorded)")))]
async fn thaw(
    State(state): State<AppState>,
    auth: Authorized<roles::Pharmacist>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<Thaw>,
) -> AppResult<ApiJson<DoseView>> {
    let counts = body
        .vials
        .iter()
        .map(|v| {
            let text = v.viability_pct.text();
            Ok(VialCount {
                vial_id: v.vial_id,
                viable_cells_per_ml: v.viable_cells_per_ml,
                viability_tenths: parse_viability(&text).ok_or_else(|| {
                    AppError::invalid("viability_pct", "a percentage from 0 to 100")
                })?,
                viability_text: text,
                confirm: v.confirm,
                reason: v.reason.clone(),
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    let correction = match (&body.signature, &body.correction_reason) {
        (Some(signature), reason) => Some((
            signatures::verify(&state, &auth.user, signature).await?,
            reason.clone().unwrap_or_default(),
        )),
        (None, Some(_)) => {
            return Err(AppError::invalid(
                "signature",
                "a correction of a recorded count is signed",
            ));
        }
        (None, None) => None,
    };
    let record = doses::thaw(
        &state,
        &auth.user.actor(),
        id,
        Counting {
            counts,
            thawed_at: body.thawed_at,
            correction,
        },
    )
    .await?;
    Ok(ApiJson(record.try_into()?))
}

/// The pharmacist's signed verification of the prepared dose, judged on
/// the server's clock; another pharmacist than whoever counted (protocol
/// `independent_verification`).
#[utoipa::path(post, path = "/doses/{id}/verify", tag = "doses", operation_id = "verify_dose", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = SignedOnly,
    responses((status = 200, description = "The dose", body = DoseView),
        (status = 401, body = ErrorBody, description = "signature_invalid"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "same_person, thawed_product_expired, lot_expired, lot_recalled, stale_weight, weight_voided")))]
async fn verify(
    State(state): State<AppState>,
    auth: Authorized<roles::Pharmacist>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<SignedOnly>,
) -> AppResult<ApiJson<DoseView>> {
    let signature = signatures::verify(&state, &auth.user, &body.signature).await?;
    Ok(ApiJson(
        doses::verify(&state, &signature, id).await?.try_into()?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelDose {
    pub reason: String,
}

/// Cancels a dose before its infusion; unthawed vials return to
/// `available`, thawed ones are discarded with the reason (pharmacist).
#[utoipa::path(post, path = "/doses/{id}/cancel", tag = "doses", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = CancelDose,
    responses((status = 200, description = "The dose", body = DoseView), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn cancel(
    State(state): State<AppState>,
    auth: Authorized<roles::Pharmacist>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<CancelDose>,
) -> AppResult<ApiJson<DoseView>> {
    let record = doses::cancel(&state, &auth.user.actor(), id, &body.reason).await?;
    Ok(ApiJson(record.try_into()?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplaceVial {
    /// The reserved vial to discard.
    pub vial_id: Uuid,
    pub reason: String,
    pub signature: SignatureInput,
}

/// Discards one reserved vial of the dose (signed) and reserves another
/// from the same lot (pharmacist).
#[utoipa::path(post, path = "/doses/{id}/replace-vial", tag = "doses", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = ReplaceVial,
    responses((status = 200, description = "The dose", body = DoseView),
        (status = 401, body = ErrorBody, description = "signature_invalid"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "insufficient_stock")))]
async fn replace_vial(
    State(state): State<AppState>,
    auth: Authorized<roles::Pharmacist>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<ReplaceVial>,
) -> AppResult<ApiJson<DoseView>> {
    let signature = signatures::verify(&state, &auth.user, &body.signature).await?;
    let record = doses::replace_vial(&state, &signature, id, body.vial_id, &body.reason).await?;
    Ok(ApiJson(record.try_into()?))
}
