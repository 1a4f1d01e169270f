//! A patient's weights (clinician): recorded as read off the scale, and
//! voided (signed, with the reason) when mis-entered.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::api::extract::{ApiJson, ApiPath, Authorized, DecimalInput, roles};
use crate::domain::dose::WeightUnit;
use crate::entities::weight;
use crate::error::{AppResult, ErrorBody};
use crate::services::patients::{self, NewWeight};
use crate::services::signatures::{self, SignatureInput};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(record_weight))
        .routes(routes!(void_weight))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WeightView {
    pub id: Uuid,
    /// Whole grams: what every dose is computed from.
    pub weight_g: i64,
    /// The same in kilograms, exact (`"72.575"`).
    pub weight_kg: String,
    /// As entered.
    pub value: String,
    pub unit: WeightUnit,
    pub measured_at: DateTime<Utc>,
    pub confirmed_change: bool,
    pub recorded_at: DateTime<Utc>,
    /// A voided weight is shown struck out and never used.
    pub voided: bool,
    pub voided_at: Option<DateTime<Utc>>,
    pub voided_by: Option<Uuid>,
    pub void_reason: Option<String>,
}

/// Grams as exact kilograms: `72575` → `72.575`.
pub fn kilograms(grams: i64) -> String {
    let whole = grams / 1000;
    let rest = (grams % 1000).abs();
    if rest == 0 {
        whole.to_string()
    } else {
        format!("{whole}.{}", format!("{rest:03}").trim_end_matches('0'))
    }
}

impl From<weight::Model> for WeightView {
    fn from(w: weight::Model) -> Self {
        WeightView {
            id: w.id,
            weight_g: w.weight_g.get(),
            weight_kg: kilograms(w.weight_g.get()),
            value: w.value,
            unit: w.unit,
            measured_at: w.measured_at,
            confirmed_change: w.confirmed_change,
            recorded_at: w.recorded_at,
            voided: w.voided_at.is_some(),
            voided_at: w.voided_at,
            voided_by: w.voided_by,
            void_reason: w.void_reason,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordWeight {
    /// The number read off the scale.
    pub value: DecimalInput,
    /// `kg` or `lb`; always explicit.
    pub unit: WeightUnit,
    pub measured_at: DateTime<Utc>,
    /// Confirms a weight the protocol asks to confirm: more than its
    /// threshold from the previous (or enrolment) weight, or a body-mass
    /// index outside its range.
    #[serde(default)]
    pub confirm_change: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VoidWeight {
    pub reason: String,
    pub signature: SignatureInput,
}

/// Voids a mis-entered weight (clinician, signed, with the reason): it stays
/// on record, struck out, and is never used again.
#[utoipa::path(post, path = "/patients/{id}/weights/{weight_id}/void", tag = "patients", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("weight_id" = Uuid, Path)), request_body = VoidWeight,
    responses((status = 200, description = "The weight", body = WeightView),
        (status = 401, body = ErrorBody, description = "signature_invalid"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "invalid_state: already voided"),
        (status = 422, body = ErrorBody)))]
async fn void_weight(
    State(state): State<AppState>,
    auth: Authorized<roles::Clinician>,
    ApiPath((id, weight_id)): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<VoidWeight>,
) -> AppResult<ApiJson<WeightView>> {
    let signature = signatures::verify(&state, &auth.user, &body.signature).await?;
    let weight = patients::void_weight(&state, &signature, id, weight_id, &body.reason).await?;
    Ok(ApiJson(weight.into()))
}

/// Records a weight (clinician).
#[utoipa::path(post, path = "/patients/{id}/weights", tag = "patients", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = RecordWeight,
    responses((status = 201, description = "Created: the weight", body = WeightView), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "implausible_weight, weight_change_unconfirmed (a change past the protocol's threshold from the previous or enrolment weight, or a body-mass index outside its range: details.concerns and details.likely_slip say which)")))]
async fn record_weight(
    State(state): State<AppState>,
    auth: Authorized<roles::Clinician>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<RecordWeight>,
) -> AppResult<(StatusCode, ApiJson<WeightView>)> {
    let value = body.value.text();
    let weight = patients::record_weight(
        &state,
        &auth.user.actor(),
        id,
        NewWeight {
            value: &value,
            unit: body.unit,
            measured_at: body.measured_at,
            confirm_change: body.confirm_change,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, ApiJson(weight.into())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kilograms_are_exact() {
        assert_eq!(kilograms(72_575), "72.575");
        assert_eq!(kilograms(70_000), "70");
        assert_eq!(kilograms(70_500), "70.5");
        assert_eq!(kilograms(30_001), "30.001");
    }
}
