//! Infusions at the bedside (clinician): started after the two-scan check,
//! completed with the volume given and adverse events.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::api::extract::{ApiJson, ApiPath, Authorized, roles};
use crate::api::patients::AdverseEventView;
use crate::domain::lifecycle::InfusionStatus;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::services::infusions::{self, Completion, InfusionRecord, NewAdverseEvent, Start};
use crate::services::signatures::{self, SignatureInput};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(start))
        .routes(routes!(get_infusion))
        .routes(routes!(complete))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InfusionView {
    pub id: Uuid,
    pub dose_id: Uuid,
    pub dose_code: String,
    pub patient_id: Uuid,
    pub subject_code: String,
    pub infusion_number: i32,
    /// `started` or `completed`.
    pub status: InfusionStatus,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub volume_prepared_ul: Option<i64>,
    pub volume_infused_ul: Option<i64>,
    pub cells_to_administer: Option<i64>,
    pub lot_id: Uuid,
    pub lot_code: String,
    pub vial_ids: Vec<Uuid>,
    /// The two scans that matched.
    pub patient_scan: String,
    pub product_scan: String,
    pub adverse_events: Vec<AdverseEventView>,
    /// Set for an infusion recorded after the fact (given during an
    /// outage): signed, with the reason, and when it was recorded.
    pub late_entry: Option<LateEntryView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LateEntryView {
    pub reason: String,
    pub recorded_at: DateTime<Utc>,
}

impl From<InfusionRecord> for InfusionView {
    fn from(r: InfusionRecord) -> Self {
        InfusionView {
            id: r.infusion.id,
            dose_id: r.infusion.dose_id,
            dose_code: r.dose.dose.code.clone().into(),
            patient_id: r.infusion.patient_id,
            subject_code: r.dose.subject_code.clone(),
            infusion_number: r.infusion.infusion_number,
            status: r.infusion.status,
            started_at: r.infusion.started_at,
            ended_at: r.infusion.ended_at,
            volume_prepared_ul: r.dose.dose.volume_ul.map(i64::from),
            volume_infused_ul: r.infusion.volume_infused_ul.map(i64::from),
            cells_to_administer: r.dose.dose.cells_to_administer.map(i64::from),
            lot_id: r.dose.lot.id,
            lot_code: r.dose.lot.code.clone(),
            vial_ids: r.dose.vials.iter().map(|v| v.id).collect(),
            late_entry: r.infusion.late_entry.then(|| LateEntryView {
                reason: r.infusion.late_reason.clone().unwrap_or_default(),
                recorded_at: r.infusion.created_at,
            }),
            patient_scan: r.infusion.patient_scan,
            product_scan: r.infusion.product_scan,
            adverse_events: r
                .adverse_events
                .into_iter()
                .map(AdverseEventView::from)
                .collect(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartInfusion {
    pub dose_id: Uuid,
    /// What the scanner read from the patient's wristband (`CT1:P:…`).
    pub patient_scan: String,
    /// What the scanner read from the dose bag's label (`CT1:D:…`).
    pub product_scan: String,
    /// Within 5 minutes of the server's clock, unless a late entry.
    pub started_at: DateTime<Utc>,
    /// An infusion given during an outage, recorded afterwards: judged
    /// against the times it claims, signed.
    pub late_entry: Option<LateEntryInput>,
    /// The signature a late entry needs.
    pub signature: Option<SignatureInput>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LateEntryInput {
    /// Why it is recorded late (e.g. "network outage 09:00-11:30").
    pub reason: String,
}

/// Starts an infusion after the bedside two-scan check (clinician).
#[utoipa::path(post, path = "/infusions", tag = "infusions", security(("bearer" = [])),
    request_body = StartInfusion,
    responses((status = 201, description = "Created: the infusion", body = InfusionView), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "the dose is not verified"),
        (status = 422, body = ErrorBody, description = "identity_mismatch, thawed_product_expired, lot_expired, lot_recalled, stale_weight, weight_voided, infusion_limit_reached, outside_window, too_soon, invalid_field (started_at more than 5 minutes from the server's clock)")))]
async fn start(
    State(state): State<AppState>,
    auth: Authorized<roles::Clinician>,
    ApiJson(body): ApiJson<StartInfusion>,
) -> AppResult<(StatusCode, ApiJson<InfusionView>)> {
    let late_entry = match (body.late_entry, &body.signature) {
        (Some(late), Some(signature)) => Some((
            signatures::verify(&state, &auth.user, signature).await?,
            late.reason,
        )),
        (Some(_), None) => {
            return Err(AppError::invalid(
                "signature",
                "a late entry is signed: add your signature",
            ));
        }
        (None, Some(_)) => {
            return Err(AppError::invalid(
                "late_entry",
                "only a late entry is signed at the start of an infusion",
            ));
        }
        (None, None) => None,
    };
    let record = infusions::start(
        &state,
        &auth.user.actor(),
        Start {
            dose_id: body.dose_id,
            patient_scan: &body.patient_scan,
            product_scan: &body.product_scan,
            started_at: body.started_at,
            late_entry,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, ApiJson(record.into())))
}

/// An infusion with its dose and adverse events.
#[utoipa::path(get, path = "/infusions/{id}", tag = "infusions", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "The infusion", body = InfusionView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_infusion(
    State(state): State<AppState>,
    _auth: Authorized,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<ApiJson<InfusionView>> {
    Ok(ApiJson(infusions::get(&state, id).await?.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdverseEventInput {
    /// CTCAE term, e.g. `Infusion related reaction`.
    pub term: String,
    /// CTCAE grade 1 to 5.
    pub grade: i32,
    pub onset_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteInfusion {
    pub ended_at: DateTime<Utc>,
    /// In microlitres (4.4 mL is 4400).
    pub volume_infused_ul: i64,
    /// Confirms a volume more than the protocol's tolerance (10 %) from the
    /// prepared one…
    #[serde(default)]
    pub confirm_volume: bool,
    /// …with the reason.
    pub volume_reason: Option<String>,
    #[serde(default)]
    pub adverse_events: Vec<AdverseEventInput>,
}

/// Completes an infusion: end, volume given, adverse events (clinician).
#[utoipa::path(post, path = "/infusions/{id}/complete", tag = "infusions", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = CompleteInfusion,
    responses((status = 200, description = "The infusion", body = InfusionView), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "volume_unconfirmed, invalid_field")))]
async fn complete(
    State(state): State<AppState>,
    auth: Authorized<roles::Clinician>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<CompleteInfusion>,
) -> AppResult<ApiJson<InfusionView>> {
    let events: Vec<NewAdverseEvent> = body
        .adverse_events
        .into_iter()
        .map(|ae| NewAdverseEvent {
            term: ae.term,
            grade: ae.grade,
            onset_at: ae.onset_at,
        })
        .collect();
    let record = infusions::complete(
        &state,
        &auth.user.actor(),
        id,
        Completion {
            ended_at: body.ended_at,
            volume_infused_ul: body.volume_infused_ul,
            confirm_volume: body.confirm_volume,
            volume_reason: body.volume_reason.as_deref(),
            adverse_events: &events,
        },
    )
    .await?;
    Ok(ApiJson(record.into()))
}
