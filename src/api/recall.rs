//! Recalling a lot, and a lot's outcomes.

use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::api::extract::{ApiJson, ApiPath, Authorized, roles};
use crate::api::lots::LotView;
use crate::api::signed::SignedReason;
use crate::domain::lifecycle::{DoseStatus, VialStatus};
use crate::error::{AppResult, ErrorBody};
use crate::services::outcomes::{self, LotOutcomes};
use crate::services::recall::{self, Recalled};
use crate::services::{lots, signatures};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(recall_lot))
        .routes(routes!(lot_outcomes))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecalledVial {
    pub id: Uuid,
    pub code: String,
    /// Its status before the recall.
    pub was: VialStatus,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CancelledDose {
    pub id: Uuid,
    pub code: String,
    pub patient_id: Uuid,
    pub was: DoseStatus,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecalledInfusion {
    pub id: Uuid,
    pub infusion_number: i32,
    pub started_at: DateTime<Utc>,
    /// Running when the lot was recalled: the record lets it be completed,
    /// and the clinical team decides at the bedside.
    pub in_progress: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecipientView {
    pub patient_id: Uuid,
    pub subject_code: String,
    pub infusion_ids: Vec<Uuid>,
    pub infusions: Vec<RecalledInfusion>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecallView {
    pub lot: LotView,
    /// Every vial not yet thawed, now `recalled`.
    pub vials_recalled: Vec<RecalledVial>,
    /// Doses from the lot not yet at the bedside, now cancelled with the
    /// recall's reason.
    pub doses_cancelled: Vec<CancelledDose>,
    /// Thawed vials of those doses, recorded as discarded: for the lab to
    /// destroy. Never the vials of an infusion in progress.
    pub thawed_vials_to_discard: Vec<String>,
    /// Everyone who received the lot, to be notified, including a patient
    /// whose infusion is running (`in_progress`).
    pub recipients: Vec<RecipientView>,
    /// Infusions of the lot running at the recall.
    pub infusions_in_progress: Vec<Uuid>,
}

/// Recalls a released lot (quality, signed, with a reason): its vials not
/// yet thawed are recalled, its doses not yet infusing cancelled, and every
/// recipient is listed.
#[utoipa::path(post, path = "/lots/{id}/recall", tag = "lots", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = SignedReason,
    responses((status = 200, description = "The recalled lot, the vials recalled and the recipients to inform", body = RecallView),
        (status = 401, body = ErrorBody, description = "signature_invalid"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "invalid_state: not released, or already recalled"),
        (status = 422, body = ErrorBody)))]
async fn recall_lot(
    State(state): State<AppState>,
    auth: Authorized<roles::Quality>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<SignedReason>,
) -> AppResult<ApiJson<RecallView>> {
    let signature = signatures::verify(&state, &auth.user, &body.signature).await?;
    let Recalled {
        lot,
        vials_recalled,
        doses_cancelled,
        thawed_to_discard,
        recipients,
    } = recall::recall(&state, &signature, id, &body.reason).await?;
    let record = lots::get(&state, lot.id).await?;
    Ok(ApiJson(RecallView {
        lot: record.into(),
        vials_recalled: vials_recalled
            .into_iter()
            .map(|v| RecalledVial {
                id: v.id,
                code: v.code.into(),
                was: v.status,
            })
            .collect(),
        doses_cancelled: doses_cancelled
            .into_iter()
            .map(|d| CancelledDose {
                id: d.id,
                code: d.code.into(),
                patient_id: d.patient_id,
                was: d.status,
            })
            .collect(),
        thawed_vials_to_discard: thawed_to_discard,
        infusions_in_progress: recipients
            .iter()
            .flat_map(|r| r.infusions.iter().filter(|i| i.3).map(|i| i.0))
            .collect(),
        recipients: recipients
            .into_iter()
            .map(|r| RecipientView {
                patient_id: r.patient_id,
                subject_code: r.subject_code,
                infusion_ids: r.infusions.iter().map(|i| i.0).collect(),
                infusions: r
                    .infusions
                    .into_iter()
                    .map(
                        |(id, infusion_number, started_at, in_progress)| RecalledInfusion {
                            id,
                            infusion_number,
                            started_at,
                            in_progress,
                        },
                    )
                    .collect(),
            })
            .collect(),
    }))
}

/// Per recipient: infusions from this lot, baseline and latest PASI with the
/// change and PASI 75, latest DLQI, adverse events; and the lot's totals.
#[utoipa::path(get, path = "/lots/{id}/outcomes", tag = "lots", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "Each recipient of the lot with infusions and outcomes", body = LotOutcomes), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn lot_outcomes(
    State(state): State<AppState>,
    _auth: Authorized,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<ApiJson<LotOutcomes>> {
    Ok(ApiJson(outcomes::lot(&state, id).await?))
}
