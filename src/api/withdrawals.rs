//! Withdrawals (issue 16): a donor's consent withdrawn and quality's
//! decision per lot; a patient's withdrawal from the trial.

use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use sea_orm::EntityTrait;

use crate::api::extract::{ApiJson, ApiPath, Authorized, roles};
use crate::domain::lifecycle::VialStatus;
use crate::domain::reason::Reason;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::services::signatures::{self, SignatureInput};
use crate::services::withdrawals::{self, LotDecision, LotHold, PatientWithdrawal};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(withdraw_consent))
        .routes(routes!(get_consent_withdrawal))
        .routes(routes!(decide_lot))
        .routes(routes!(get_lot_hold))
        .routes(routes!(withdraw_patient))
        .routes(routes!(get_patient_withdrawal))
}

/// A withdrawal: when the person withdrew and why, signed.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Withdrawal {
    /// When the donor (the birth mother) or the patient withdrew: not in
    /// the future, not before the consent or the enrolment.
    pub withdrawn_at: DateTime<Utc>,
    pub reason: String,
    pub signature: SignatureInput,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WithdrawalHoldVialView {
    pub vial_id: Uuid,
    pub code: String,
    /// The vial's status now.
    pub status: VialStatus,
    /// Its status when the consent was withdrawn.
    pub status_then: VialStatus,
    /// `false`: listed for quality only (thawed already).
    pub held: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LotWithdrawalHoldView {
    pub id: Uuid,
    pub lot_id: Uuid,
    pub lot_code: String,
    pub donor_id: Uuid,
    /// `open` ("consent withdrawn: on hold") until quality decides, then
    /// `decided`.
    pub status: String,
    /// `released` or `discarded`.
    pub decision: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub reason: Option<String>,
    pub vials: Vec<WithdrawalHoldVialView>,
}

impl From<LotHold> for LotWithdrawalHoldView {
    fn from(h: LotHold) -> Self {
        LotWithdrawalHoldView {
            id: h.hold.id,
            lot_id: h.hold.lot_id,
            lot_code: h.lot_code,
            donor_id: h.withdrawal.donor_id,
            status: h.hold.status.as_str().to_owned(),
            decision: h.hold.decision.map(|d| d.as_str().to_owned()),
            decided_at: h.hold.decided_at,
            reason: h.hold.reason,
            vials: h
                .vials
                .into_iter()
                .map(|(link, code, status)| WithdrawalHoldVialView {
                    vial_id: link.vial_id,
                    code,
                    status,
                    status_then: link.status_then,
                    held: link.held,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentWithdrawalView {
    pub id: Uuid,
    pub donor_id: Uuid,
    pub withdrawn_at: DateTime<Utc>,
    pub reason: String,
    pub recorded_at: DateTime<Utc>,
    /// Every lot of the donor held, with its vials.
    pub lots: Vec<LotWithdrawalHoldView>,
}

/// Withdraws a donor's consent (quality, signed): every lot and every vial
/// of the donor not yet infused goes on hold until quality decides per
/// lot. The donor's records stay as they are.
#[utoipa::path(post, path = "/donors/{id}/consent-withdrawal", tag = "withdrawals", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = Withdrawal,
    responses((status = 201, description = "The withdrawal and the lots held", body = ConsentWithdrawalView),
        (status = 401, body = ErrorBody, description = "signature_invalid"),
        (status = 403, body = ErrorBody, description = "forbidden (not quality)"),
        (status = 404, body = ErrorBody, description = "not_found"),
        (status = 409, body = ErrorBody, description = "already_withdrawn; concurrent_change"),
        (status = 422, body = ErrorBody, description = "invalid_field: withdrawn_at (future, before consent), reason")))]
async fn withdraw_consent(
    State(state): State<AppState>,
    auth: Authorized<roles::Quality>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<Withdrawal>,
) -> AppResult<(axum::http::StatusCode, ApiJson<ConsentWithdrawalView>)> {
    // the reason is checked before the password: nothing is counted
    // against a signer who forgot the reason
    Reason::parse(&body.reason)?;
    let signature = signatures::verify(&state, &auth.user, &body.signature).await?;
    let (withdrawal, holds) =
        withdrawals::withdraw_consent(&state, &signature, id, body.withdrawn_at, &body.reason)
            .await?;
    Ok((
        axum::http::StatusCode::CREATED,
        ApiJson(ConsentWithdrawalView {
            id: withdrawal.id,
            donor_id: withdrawal.donor_id,
            withdrawn_at: withdrawal.withdrawn_at,
            reason: withdrawal.reason,
            recorded_at: withdrawal.recorded_at,
            lots: holds.into_iter().map(Into::into).collect(),
        }),
    ))
}

/// The donor's consent withdrawal and the lots it holds.
#[utoipa::path(get, path = "/donors/{id}/consent-withdrawal", tag = "withdrawals", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "The withdrawal", body = ConsentWithdrawalView),
        (status = 403, body = ErrorBody, description = "forbidden (the administrator)"),
        (status = 404, body = ErrorBody, description = "not_found: no such donor, or consent not withdrawn")))]
async fn get_consent_withdrawal(
    State(state): State<AppState>,
    _auth: Authorized,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<ApiJson<ConsentWithdrawalView>> {
    let withdrawal = withdrawals::of_donor(state.db.conn(), id)
        .await?
        .ok_or_else(|| AppError::not_found("consent withdrawal of donor", id))?;
    let holds = withdrawals::lot_holds_of_donor(state.db.conn(), id).await?;
    Ok(ApiJson(ConsentWithdrawalView {
        id: withdrawal.id,
        donor_id: withdrawal.donor_id,
        withdrawn_at: withdrawal.withdrawn_at,
        reason: withdrawal.reason,
        recorded_at: withdrawal.recorded_at,
        lots: holds.into_iter().map(Into::into).collect(),
    }))
}

/// Quality's decision on a lot its donor's consent withdrawal holds.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WithdrawalDecisionBody {
    /// `release` (the held vials get back what they were) or `discard`.
    pub decision: String,
    pub reason: String,
    pub signature: SignatureInput,
}

/// Decides a lot held by its donor's consent withdrawal (quality, signed):
/// `release` gives its held vials back the status they had (a vial also
/// held by an open temperature excursion stays held), `discard` discards
/// them.
#[utoipa::path(post, path = "/lots/{id}/withdrawal-decision", tag = "withdrawals", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = WithdrawalDecisionBody,
    responses((status = 200, description = "The lot's withdrawal hold, decided", body = LotWithdrawalHoldView),
        (status = 401, body = ErrorBody, description = "signature_invalid"),
        (status = 403, body = ErrorBody, description = "forbidden (not quality)"),
        (status = 404, body = ErrorBody, description = "not_found: no such lot, or its donor did not withdraw"),
        (status = 409, body = ErrorBody, description = "invalid_state: already decided; concurrent_change"),
        (status = 422, body = ErrorBody, description = "invalid_field: decision, reason")))]
async fn decide_lot(
    State(state): State<AppState>,
    auth: Authorized<roles::Quality>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<WithdrawalDecisionBody>,
) -> AppResult<ApiJson<LotWithdrawalHoldView>> {
    let decision = parse_decision(&body.decision)?;
    Reason::parse(&body.reason)?;
    let signature = signatures::verify(&state, &auth.user, &body.signature).await?;
    let hold = withdrawals::decide_lot(&state, &signature, id, decision, &body.reason).await?;
    Ok(ApiJson(hold.into()))
}

/// The lot's consent-withdrawal hold ("consent withdrawn: on hold" while
/// `open`), with its vials and quality's decision.
#[utoipa::path(get, path = "/lots/{id}/withdrawal-decision", tag = "withdrawals", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "The lot's withdrawal hold", body = LotWithdrawalHoldView),
        (status = 403, body = ErrorBody, description = "forbidden (the administrator)"),
        (status = 404, body = ErrorBody, description = "not_found: no such lot, or its donor did not withdraw")))]
async fn get_lot_hold(
    State(state): State<AppState>,
    _auth: Authorized,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<ApiJson<LotWithdrawalHoldView>> {
    let hold = withdrawals::lot_hold(state.db.conn(), id)
        .await?
        .ok_or_else(|| AppError::not_found("withdrawal hold of lot", id))?;
    Ok(ApiJson(hold.into()))
}

/// `release` or `discard`.
pub fn parse_decision(text: &str) -> AppResult<LotDecision> {
    match text {
        "release" => Ok(LotDecision::Release),
        "discard" => Ok(LotDecision::Discard),
        _ => Err(AppError::invalid("decision", "release or discard")),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PatientWithdrawalView {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub subject_code: String,
    pub withdrawn_at: DateTime<Utc>,
    pub reason: String,
    pub recorded_at: DateTime<Utc>,
    /// The open doses the withdrawal cancelled, by code.
    pub doses_cancelled: Vec<String>,
}

impl From<PatientWithdrawal> for PatientWithdrawalView {
    fn from(w: PatientWithdrawal) -> Self {
        PatientWithdrawalView {
            id: w.withdrawal.id,
            patient_id: w.withdrawal.patient_id,
            subject_code: w.subject_code,
            withdrawn_at: w.withdrawal.withdrawn_at,
            reason: w.withdrawal.reason,
            recorded_at: w.withdrawal.recorded_at,
            doses_cancelled: w.doses_cancelled,
        }
    }
}

/// Withdraws a patient from the trial (clinician, signed): the patient's
/// open doses are cancelled in the same act and no further dose is
/// ordered, prepared or given (`422 patient_withdrawn`); follow-up visits
/// stay listed as optional, assessments and adverse events are still
/// recorded.
#[utoipa::path(post, path = "/patients/{id}/withdrawal", tag = "withdrawals", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = Withdrawal,
    responses((status = 201, description = "The withdrawal and the doses it cancelled", body = PatientWithdrawalView),
        (status = 401, body = ErrorBody, description = "signature_invalid"),
        (status = 403, body = ErrorBody, description = "forbidden (not a clinician), not_your_site"),
        (status = 404, body = ErrorBody, description = "not_found"),
        (status = 409, body = ErrorBody, description = "already_withdrawn; invalid_state: an infusion in progress; concurrent_change"),
        (status = 422, body = ErrorBody, description = "invalid_field: withdrawn_at (future, before enrolment), reason")))]
async fn withdraw_patient(
    State(state): State<AppState>,
    auth: Authorized<roles::Clinician>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<Withdrawal>,
) -> AppResult<(axum::http::StatusCode, ApiJson<PatientWithdrawalView>)> {
    Reason::parse(&body.reason)?;
    let signature = signatures::verify(&state, &auth.user, &body.signature).await?;
    let withdrawal =
        withdrawals::withdraw_patient(&state, &signature, id, body.withdrawn_at, &body.reason)
            .await?;
    Ok((axum::http::StatusCode::CREATED, ApiJson(withdrawal.into())))
}

/// The patient's withdrawal from the trial.
#[utoipa::path(get, path = "/patients/{id}/withdrawal", tag = "withdrawals", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "The withdrawal", body = PatientWithdrawalView),
        (status = 403, body = ErrorBody, description = "forbidden (the administrator)"),
        (status = 404, body = ErrorBody, description = "not_found: no such patient, or not withdrawn")))]
async fn get_patient_withdrawal(
    State(state): State<AppState>,
    _auth: Authorized,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<ApiJson<PatientWithdrawalView>> {
    let row = withdrawals::of_patient(state.db.conn(), id)
        .await?
        .ok_or_else(|| AppError::not_found("withdrawal of patient", id))?;
    let subject = crate::entities::patient::Entity::find_by_id(id)
        .one(state.db.conn())
        .await?
        .map(|p| p.subject_code.to_string())
        .unwrap_or_default();
    Ok(ApiJson(PatientWithdrawal::from_row(row, subject).into()))
}
