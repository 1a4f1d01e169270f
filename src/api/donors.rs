//! Donors, their screening and eligibility; donations and their DINs.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::api::extract::{ApiJson, ApiPath, ApiQuery, Authorized, roles};
use crate::api::paging::{page_of, page_request};
use crate::domain::din::Din;
use crate::domain::donor::{Eligibility, ScreeningGaps, ScreeningOutcome, ScreeningTest, Specimen};
use crate::entities::{donation, screening_result};
use crate::error::{AppResult, ErrorBody};
use crate::services::donations;
use crate::services::donors::{self, DonorRecord, NewScreening};
use crate::services::lists;
use crate::services::signatures::{self, SignatureInput};
use crate::state::AppState;

page_of!(DonorPage => DonorView);

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register_donor, list_donors))
        .routes(routes!(get_donor))
        .routes(routes!(record_screening))
        .routes(routes!(decide_eligibility))
        .routes(routes!(invalidate_screening))
        .routes(routes!(create_donation))
        .routes(routes!(get_donation))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DonorView {
    pub id: Uuid,
    /// Pseudonymous; never a name.
    pub code: String,
    pub consent_at: DateTime<Utc>,
    pub eligibility: Eligibility,
    pub eligibility_reason: Option<String>,
    pub eligibility_decided_at: Option<DateTime<Utc>>,
    /// Every result, oldest first, invalidated ones too (marked). A
    /// reactive result of a required test keeps the donor ineligible
    /// whatever follows, unless quality invalidates it.
    pub screening: Vec<ScreeningView>,
    /// What stands between this donor and eligibility now.
    pub screening_gaps: ScreeningGaps,
    pub donations: Vec<DonationView>,
}

impl From<DonorRecord> for DonorView {
    fn from(record: DonorRecord) -> Self {
        DonorView {
            id: record.donor.id,
            code: record.donor.code,
            consent_at: record.donor.consent_at,
            eligibility: record.donor.eligibility,
            eligibility_reason: record.donor.eligibility_reason,
            eligibility_decided_at: record.donor.eligibility_decided_at,
            screening: record
                .screening
                .into_iter()
                .map(ScreeningView::from)
                .collect(),
            screening_gaps: record.gaps,
            donations: record
                .donations
                .into_iter()
                .map(DonationView::from)
                .collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ScreeningView {
    pub id: Uuid,
    pub donor_id: Uuid,
    pub test: ScreeningTest,
    pub result: ScreeningOutcome,
    pub specimen: Specimen,
    /// When the specimen was taken.
    pub tested_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: Uuid,
    /// Invalidated by quality (signed): kept, out of the rule.
    pub invalidated: bool,
    pub invalidated_at: Option<DateTime<Utc>>,
    pub invalidated_by: Option<Uuid>,
    pub invalidation_reason: Option<String>,
}

impl From<screening_result::Model> for ScreeningView {
    fn from(m: screening_result::Model) -> Self {
        ScreeningView {
            id: m.id,
            donor_id: m.donor_id,
            test: m.test,
            result: m.result,
            specimen: m.specimen,
            tested_at: m.tested_at,
            recorded_at: m.recorded_at,
            recorded_by: m.recorded_by,
            invalidated: m.invalidated_at.is_some(),
            invalidated_at: m.invalidated_at,
            invalidated_by: m.invalidated_by,
            invalidation_reason: m.invalidation_reason,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DonationView {
    pub id: Uuid,
    pub donor_id: Uuid,
    /// The 13 characters: facility, year, sequence; no spaces, flags or check.
    #[schema(example = "A999926000123")]
    pub din: String,
    /// As ISBT 128 prints it for people.
    #[schema(example = "A9999 26 000123 K")]
    pub din_display: String,
    pub check_character: String,
    pub collected_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

impl From<donation::Model> for DonationView {
    fn from(m: donation::Model) -> Self {
        DonationView {
            din_display: Din::parse(&m.din)
                .map(|d| d.display())
                .unwrap_or_else(|_| m.din.clone()),
            id: m.id,
            donor_id: m.donor_id,
            din: m.din,
            check_character: m.check_character,
            collected_at: m.collected_at,
            received_at: m.received_at,
            created_at: m.created_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterDonor {
    /// A pseudonymous code, e.g. `UCD-0042`.
    pub code: String,
    pub consent_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordScreening {
    pub test: ScreeningTest,
    pub result: ScreeningOutcome,
    /// When the specimen was taken.
    pub tested_at: DateTime<Utc>,
    /// `maternal` (default: a cord donor is tested through the birth mother) or `donor`.
    pub specimen: Option<Specimen>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EligibilityDecision {
    /// `eligible` or `ineligible`.
    pub decision: Eligibility,
    /// Required for `ineligible`.
    pub reason: Option<String>,
    pub signature: SignatureInput,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDonation {
    pub donor_id: Uuid,
    pub collected_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
}

/// Registers a donor (lab).
#[utoipa::path(post, path = "/donors", tag = "donors", security(("bearer" = [])),
    request_body = RegisterDonor,
    responses((status = 201, description = "Created: the donor with screening results, gaps and donations", body = DonorView), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "donor_code_taken"),
        (status = 422, body = ErrorBody, description = "invalid_field")))]
async fn register_donor(
    State(state): State<AppState>,
    auth: Authorized<roles::Lab>,
    ApiJson(body): ApiJson<RegisterDonor>,
) -> AppResult<(StatusCode, ApiJson<DonorView>)> {
    let record = donors::register(&state, &auth.user.actor(), &body.code, body.consent_at).await?;
    Ok((StatusCode::CREATED, ApiJson(record.into())))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DonorList {
    /// A donor code or the DIN of one of the donor's donations, or the
    /// start of one.
    pub q: Option<String>,
    /// The eligibility decision.
    pub status: Option<Eligibility>,
    /// Items in the page: 1 to 500, default 50.
    pub limit: Option<u64>,
    /// The `next_cursor` of the page before.
    pub cursor: Option<String>,
}

/// Donors by code, a page at a time.
#[utoipa::path(get, path = "/donors", tag = "donors", security(("bearer" = [])),
    params(DonorList),
    responses((status = 200, description = "A page of donors, by code", body = DonorPage),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "invalid_field: q, limit or cursor")))]
async fn list_donors(
    State(state): State<AppState>,
    _auth: Authorized,
    ApiQuery(query): ApiQuery<DonorList>,
) -> AppResult<ApiJson<DonorPage>> {
    let page = page_request(query.q.as_deref(), query.limit, query.cursor.as_deref())?;
    let found = lists::donors(&state, query.status, &page).await?;
    Ok(ApiJson(found.map(DonorView::from).into()))
}

/// A donor with screening results, gaps and donations.
#[utoipa::path(get, path = "/donors/{id}", tag = "donors", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "The donor with screening results, gaps and donations", body = DonorView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_donor(
    State(state): State<AppState>,
    _auth: Authorized,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<ApiJson<DonorView>> {
    Ok(ApiJson(donors::get(&state, id).await?.into()))
}

/// Records a screening result (lab). A later result of the same test
/// supersedes the earlier one; both are kept.
#[utoipa::path(post, path = "/donors/{id}/screening", tag = "donors", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = RecordScreening,
    responses((status = 201, description = "Created: the screening result", body = ScreeningView), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn record_screening(
    State(state): State<AppState>,
    auth: Authorized<roles::Lab>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<RecordScreening>,
) -> AppResult<(StatusCode, ApiJson<ScreeningView>)> {
    let result = donors::record_screening(
        &state,
        &auth.user.actor(),
        id,
        NewScreening {
            test: body.test,
            result: body.result,
            tested_at: body.tested_at,
            specimen: body.specimen.unwrap_or(Specimen::Maternal),
        },
    )
    .await?;
    Ok((StatusCode::CREATED, ApiJson(result.into())))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvalidateScreening {
    /// Why the result is invalid, e.g. a documented specimen mix-up.
    pub reason: String,
    pub signature: SignatureInput,
}

/// Invalidates a screening result (quality, signed, with the reason). It
/// stays on record; it no longer counts. A donor found ineligible only by
/// results now all invalidated is `pending` again, for a new decision.
#[utoipa::path(post, path = "/donors/{id}/screening/{result_id}/invalidate", tag = "donors", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("result_id" = Uuid, Path)), request_body = InvalidateScreening,
    responses((status = 200, description = "The donor with screening results, gaps and donations", body = DonorView),
        (status = 401, body = ErrorBody, description = "signature_invalid"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "invalid_state: already invalidated"),
        (status = 422, body = ErrorBody)))]
async fn invalidate_screening(
    State(state): State<AppState>,
    auth: Authorized<roles::Quality>,
    ApiPath((id, result_id)): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<InvalidateScreening>,
) -> AppResult<ApiJson<DonorView>> {
    let signature = signatures::verify(&state, &auth.user, &body.signature).await?;
    let record =
        donors::invalidate_screening(&state, &signature, id, result_id, &body.reason).await?;
    Ok(ApiJson(record.into()))
}

/// Decides a donor's eligibility (quality, signed).
#[utoipa::path(post, path = "/donors/{id}/eligibility", tag = "donors", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = EligibilityDecision,
    responses((status = 200, description = "The donor with screening results, gaps and donations", body = DonorView),
        (status = 401, body = ErrorBody, description = "signature_invalid"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "invalid_state"),
        (status = 422, body = ErrorBody, description = "screening_incomplete")))]
async fn decide_eligibility(
    State(state): State<AppState>,
    auth: Authorized<roles::Quality>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<EligibilityDecision>,
) -> AppResult<ApiJson<DonorView>> {
    let signature = signatures::verify(&state, &auth.user, &body.signature).await?;
    let record = donors::decide_eligibility(
        &state,
        &signature,
        id,
        body.decision,
        body.reason.as_deref(),
    )
    .await?;
    Ok(ApiJson(record.into()))
}

/// Receives a cord (lab): the donation gets its DIN.
#[utoipa::path(post, path = "/donations", tag = "donors", security(("bearer" = [])),
    request_body = CreateDonation,
    responses((status = 201, description = "Created: the donation with its DIN", body = DonationView), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "donor_not_eligible, invalid_field")))]
async fn create_donation(
    State(state): State<AppState>,
    auth: Authorized<roles::Lab>,
    ApiJson(body): ApiJson<CreateDonation>,
) -> AppResult<(StatusCode, ApiJson<DonationView>)> {
    let donation = donations::create(
        &state,
        &auth.user.actor(),
        body.donor_id,
        body.collected_at,
        body.received_at,
    )
    .await?;
    Ok((StatusCode::CREATED, ApiJson(donation.into())))
}

/// A donation.
#[utoipa::path(get, path = "/donations/{id}", tag = "donors", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "The donation with its DIN", body = DonationView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_donation(
    State(state): State<AppState>,
    _auth: Authorized,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<ApiJson<DonationView>> {
    Ok(ApiJson(donations::get(&state, id).await?.into()))
}
