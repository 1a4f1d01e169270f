//! Doses: the calculator, orders with vial reservation, thaw, the signed
//! verification, cancellation and vial replacement (pharmacist).

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::api::extract::{ApiJson, ApiPath, Authorized, DecimalInput, roles};
use crate::api::patients::kilograms;
use crate::api::signed::SignedOnly;
use crate::domain::dose::{WeightUnit, parse_viability, weight_to_grams};
use crate::domain::lifecycle::{DoseStatus, LotStatus, VialStatus, dose_actions};
use crate::domain::patient::tenths_display;
use crate::domain::scan::{ScanKind, payload};
use crate::domain::units::millilitres;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::services::doses::{self, CalculationInput, Counting, DoseRecord, VialCount};
use crate::services::signatures::{self, SignatureInput};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(calculate))
        .routes(routes!(order))
        .routes(routes!(get_dose))
        .routes(routes!(thaw))
        .routes(routes!(verify))
        .routes(routes!(cancel))
        .routes(routes!(replace_vial))
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

#[derive(Debug, Serialize, ToSchema)]
pub struct DoseView {
    pub id: Uuid,
    /// e.g. `PV-007-D03`.
    pub code: String,
    /// What the dose bag's label encodes: `CT1:D:<code>`.
    pub scan_payload: String,
    pub patient_id: Uuid,
    pub subject_code: String,
    /// Which infusion of the patient this is (1-based).
    pub infusion_number: i32,
    pub infusions_total: i32,
    /// `reserved`, `count_failed`, `thawed`, `verified`, `infusing`,
    /// `infused`, `cancelled`.
    pub status: DoseStatus,
    /// For a `count_failed` dose: the refusal's code (`viability_too_low`,
    /// `implausible_count`, `dose_out_of_range`, `thawed_product_expired`,
    /// `lot_expired`, `lot_recalled`, `stale_weight`, `weight_voided`).
    pub count_failure: Option<String>,
    pub protocol_version: i32,
    pub weight_id: Uuid,
    pub weight_g: i64,
    /// When the weight was measured (it must be within the protocol's days
    /// at every step), and whether it has since been voided.
    pub weight_measured_at: DateTime<Utc>,
    pub weight_voided: bool,
    pub dose_per_kg: i64,
    pub target_cells: i64,
    pub min_cells: i64,
    pub max_cells: i64,
    pub lot_id: Uuid,
    pub lot_code: String,
    pub lot_status: LotStatus,
    pub lot_expires_at: DateTime<Utc>,
    pub cells_per_vial: i64,
    pub vials_needed: i32,
    pub vial_ids: Vec<Uuid>,
    pub vials: Vec<DoseVialView>,
    /// Vials taken out of the dose (replaced), with why.
    pub replaced_vials: Vec<ReplacedVial>,
    pub thawed_at: Option<DateTime<Utc>>,
    /// Thaw time plus the protocol's post-thaw shelf life.
    pub use_by: Option<DateTime<Utc>>,
    pub concentration_cells_per_ml: Option<i64>,
    pub available_ul: Option<i64>,
    /// The volume to draw up and give.
    pub volume_ul: Option<i64>,
    /// The same in mL, exact (`"4.4"`).
    pub volume_ml: Option<String>,
    /// Viable cells the volume holds.
    pub cells_to_administer: Option<i64>,
    /// Every count recorded, oldest first: superseded ones (with the signed
    /// correction that replaced them) and those of replaced vials too.
    pub counts: Vec<CountView>,
    pub verified_at: Option<DateTime<Utc>>,
    pub verified_by: Option<Uuid>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub cancel_reason: Option<String>,
    pub infusion_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    /// What the dose's lifecycle allows next.
    pub next_actions: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DoseVialView {
    pub id: Uuid,
    pub code: String,
    pub status: VialStatus,
    pub cells_per_vial: i64,
    pub volume_ul: i64,
    pub box_id: Option<Uuid>,
    pub position: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReplacedVial {
    pub id: Uuid,
    pub code: String,
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CountView {
    pub id: Uuid,
    pub vial_id: Uuid,
    pub vial_code: String,
    pub viable_cells_per_ml: i64,
    /// One decimal, e.g. `85.7` (floored from what was entered).
    pub viability_pct: String,
    /// As entered.
    pub viability_as_entered: Option<String>,
    pub volume_ul: i64,
    pub thawed_at: DateTime<Utc>,
    /// Viable cells recovered ÷ cells frozen in the vial, one decimal.
    pub recovery_pct: Option<String>,
    /// `viability_too_low` or `implausible_count`; null when it passes.
    pub failure: Option<String>,
    pub confirmed: bool,
    pub confirm_reason: Option<String>,
    /// The count this one corrects (signed), and why.
    pub supersedes_id: Option<Uuid>,
    pub correction_reason: Option<String>,
    /// A later signed count replaced this one.
    pub superseded: bool,
    /// This count is the vial's as it stands (not superseded, the vial still
    /// in the dose).
    pub current: bool,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: Option<Uuid>,
}

impl TryFrom<DoseRecord> for DoseView {
    type Error = AppError;

    fn try_from(record: DoseRecord) -> AppResult<Self> {
        let status = record.status()?;
        let counts: Vec<CountView> = record
            .counts
            .iter()
            .map(|c| {
                let current_vial = record.vials.iter().any(|v| v.id == c.vial_id);
                let superseded = record.is_superseded(c.id);
                CountView {
                    id: c.id,
                    vial_id: c.vial_id,
                    vial_code: record
                        .vials
                        .iter()
                        .chain(record.removed.iter().map(|(v, _)| v))
                        .find(|v| v.id == c.vial_id)
                        .map(|v| v.code.to_string())
                        .unwrap_or_default(),
                    viable_cells_per_ml: c.viable_cells_per_ml,
                    viability_pct: tenths_display(c.viability_tenths),
                    viability_as_entered: c.viability_text.clone(),
                    volume_ul: c.volume_ul.get(),
                    thawed_at: c.thawed_at,
                    recovery_pct: c.recovery_tenths.map(|t| format!("{}.{}", t / 10, t % 10)),
                    failure: c.failure.clone(),
                    confirmed: c.confirmed,
                    confirm_reason: c.confirm_reason.clone(),
                    supersedes_id: c.supersedes_id,
                    correction_reason: c.correction_reason.clone(),
                    superseded,
                    current: current_vial && !superseded,
                    recorded_at: c.recorded_at,
                    recorded_by: c.recorded_by,
                }
            })
            .collect();
        let DoseRecord {
            dose,
            subject_code,
            lot,
            weight,
            vials,
            removed,
            infusion,
            infusions_total,
            use_by,
            ..
        } = record;
        Ok(DoseView {
            scan_payload: payload(ScanKind::Dose, &dose.code),
            id: dose.id,
            code: dose.code.into(),
            patient_id: dose.patient_id,
            subject_code,
            infusion_number: dose.infusion_number,
            infusions_total,
            status: dose.status,
            count_failure: dose.count_failure,
            protocol_version: dose.protocol_version,
            weight_id: dose.weight_id,
            weight_g: dose.weight_g.get(),
            weight_measured_at: weight.measured_at,
            weight_voided: weight.voided_at.is_some(),
            dose_per_kg: dose.dose_per_kg.get(),
            target_cells: dose.target_cells.get(),
            min_cells: dose.min_cells.get(),
            max_cells: dose.max_cells.get(),
            lot_id: lot.id,
            lot_code: lot.code,
            lot_status: lot.status,
            lot_expires_at: lot.expires_at,
            cells_per_vial: dose.cells_per_vial.get(),
            vials_needed: dose.vials_needed,
            vial_ids: vials.iter().map(|v| v.id).collect(),
            vials: vials
                .into_iter()
                .map(|v| DoseVialView {
                    id: v.id,
                    code: v.code.into(),
                    status: v.status,
                    cells_per_vial: v.cells_per_vial.get(),
                    volume_ul: v.volume_ul.get(),
                    box_id: v.box_id,
                    position: v.position,
                })
                .collect(),
            replaced_vials: removed
                .into_iter()
                .map(|(v, reason)| ReplacedVial {
                    id: v.id,
                    code: v.code.into(),
                    reason,
                })
                .collect(),
            thawed_at: dose.thawed_at,
            use_by,
            concentration_cells_per_ml: dose.concentration_cells_per_ml,
            available_ul: dose.available_ul.map(i64::from),
            volume_ul: dose.volume_ul.map(i64::from),
            volume_ml: dose
                .volume_ul
                .map(|ul| millilitres(ul).trim_end_matches(" mL").to_owned()),
            cells_to_administer: dose.cells_to_administer.map(i64::from),
            counts,
            verified_at: dose.verified_at,
            verified_by: dose.verified_by,
            cancelled_at: dose.cancelled_at,
            cancel_reason: dose.cancel_reason,
            infusion_id: infusion.map(|i| i.id),
            created_at: dose.created_at,
            next_actions: dose_actions(status)
                .iter()
                .map(|a| a.as_str().to_owned())
                .collect(),
        })
    }
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
