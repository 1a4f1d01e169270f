//! The dose calculator (pharmacist): what a weight and a lot's viability
//! would make of a dose, step by step, before anything is ordered.

use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::api::extract::{ApiJson, Authorized, DecimalInput};
use crate::api::patients::kilograms;
use crate::domain::dose::{WeightUnit, weight_to_grams};
use crate::error::{AppError, AppResult, ErrorBody};
use crate::services::doses::{self, CalculationInput};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(calculate))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Calculate {
    /// A weight in kilograms, or:
    pub weight_kg: Option<DecimalInput>,
    /// a patient, whose latest weight (within the protocol's validity) is used.
    pub patient_id: Option<Uuid>,
    /// Cells per kg; the protocol's by default.
    pub dose_per_kg: Option<i64>,
    /// Work out the vials from this lot; by default the first-expiring
    /// released lot with enough vials.
    pub lot_id: Option<Uuid>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CalculationView {
    pub weight_g: i64,
    pub weight_kg: String,
    /// The weight record used, when computed for a patient.
    pub weight_id: Option<Uuid>,
    pub weight_measured_at: Option<DateTime<Utc>>,
    pub dose_per_kg: i64,
    pub target_cells: i64,
    pub min_cells: i64,
    pub max_cells: i64,
    pub tolerance_pct: i32,
    pub recovery_pct: i32,
    /// Null when no lot can serve the dose.
    pub vials_needed: Option<i64>,
    pub lot_id: Option<Uuid>,
    pub lot_code: Option<String>,
    pub cells_per_vial: Option<i64>,
    pub available_vials: Option<i64>,
    /// Whether the lot has the vials needed.
    pub sufficient: Option<bool>,
    pub protocol_version: i32,
    /// The working, line by line.
    pub steps: Vec<String>,
}

/// Works out a dose without changing anything (any role).
#[utoipa::path(post, path = "/dose-calculations", tag = "doses", security(("bearer" = [])),
    request_body = Calculate,
    responses((status = 200, description = "The calculated dose; nothing is recorded", body = CalculationView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "no_weight, stale_weight, implausible_weight")))]
async fn calculate(
    State(state): State<AppState>,
    _auth: Authorized,
    ApiJson(body): ApiJson<Calculate>,
) -> AppResult<ApiJson<CalculationView>> {
    let weight_g = match &body.weight_kg {
        Some(kg) => Some(weight_to_grams(&kg.text(), WeightUnit::Kg).ok_or_else(|| {
            AppError::invalid("weight_kg", "a positive decimal number, e.g. 72.5")
        })?),
        None => None,
    };
    let calc = doses::calculate(
        &state,
        CalculationInput {
            patient_id: body.patient_id,
            weight_g,
            dose_per_kg: body.dose_per_kg,
            lot_id: body.lot_id,
        },
    )
    .await?;
    let t = calc.target;
    Ok(ApiJson(CalculationView {
        weight_g: t.weight_g.get(),
        weight_kg: kilograms(t.weight_g.get()),
        weight_id: calc.weight.as_ref().map(|w| w.id),
        weight_measured_at: calc.weight.as_ref().map(|w| w.measured_at),
        dose_per_kg: t.dose_per_kg.get(),
        target_cells: t.target_cells.get(),
        min_cells: t.min_cells.get(),
        max_cells: t.max_cells.get(),
        tolerance_pct: t.tolerance_pct,
        recovery_pct: calc.recovery_pct,
        vials_needed: calc.lot.as_ref().map(|l| l.vials_needed),
        lot_id: calc.lot.as_ref().map(|l| l.lot.id),
        lot_code: calc.lot.as_ref().map(|l| l.lot.code.clone()),
        cells_per_vial: calc
            .lot
            .as_ref()
            .and_then(|l| l.lot.cells_per_vial)
            .map(i64::from),
        available_vials: calc.lot.as_ref().map(|l| l.available),
        sufficient: calc.lot.as_ref().map(|l| l.available >= l.vials_needed),
        protocol_version: calc.protocol_version,
        steps: calc.steps,
    }))
}
