//! Lots: create, QC, freeze into vials, release and reject.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::api::extract::{ApiJson, ApiPath, ApiQuery, Authorized, DecimalInput, roles};
use crate::api::paging::{page_of, page_request};
use crate::api::signed::{SignedOnly, SignedReason};
use crate::api::vials::VialSummary;
use crate::domain::din::Din;
use crate::domain::lifecycle::LotStatus;
use crate::domain::qc::{Conclusion, QcStanding};
use crate::domain::scan::{ScanKind, payload};
use crate::entities::{lot, qc_result};
use crate::error::{AppResult, ErrorBody};
use crate::services::lists::{self, ExpiringWithin, LotFilter, SiteScope};
use crate::services::lots::{self, Freezing, LotRecord, NewLot};
use crate::services::signatures::{self, SignatureInput};
use crate::state::AppState;

page_of!(LotPage => LotView);

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_lot, list_lots))
        .routes(routes!(get_lot))
        .routes(routes!(add_qc))
        .routes(routes!(freeze))
        .routes(routes!(release))
        .routes(routes!(reject))
        .routes(routes!(investigate_qc))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LotView {
    pub id: Uuid,
    /// DIN + lot number, e.g. `A999926000123-L01`.
    pub code: String,
    /// What its (box) label's QR encodes: `CT1:L:<code>`.
    pub scan_payload: String,
    pub donation_id: Uuid,
    pub din: String,
    pub din_display: String,
    pub product_code: String,
    pub passage: i32,
    pub manufactured_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// `in_process`, `quarantine`, `released`, `rejected` or `recalled`.
    pub status: LotStatus,
    pub frozen_at: Option<DateTime<Utc>>,
    pub cells_per_vial: Option<i64>,
    pub volume_ul: Option<i64>,
    pub vial_count: Option<i32>,
    /// Every QC result, oldest first, failures included, each with quality's
    /// investigation if there is one.
    pub qc: Vec<QcView>,
    /// Required tests without a result, or failing (the latest result of a
    /// numeric test; any uninvestigated failure of sterility or
    /// mycoplasma), and failures awaiting quality's investigation.
    pub qc_standing: QcStanding,
    /// Vials by status.
    pub vial_counts: BTreeMap<String, u64>,
    pub created_at: DateTime<Utc>,
    /// The site that made the lot.
    pub site_id: Uuid,
}

impl From<LotRecord> for LotView {
    fn from(record: LotRecord) -> Self {
        let LotRecord {
            lot,
            qc,
            standing,
            vial_counts,
        } = record;
        let mut view = LotView::bare(lot);
        view.qc = qc.into_iter().map(QcView::from).collect();
        view.qc_standing = standing;
        view.vial_counts = vial_counts;
        view
    }
}

impl LotView {
    fn bare(lot: lot::Model) -> Self {
        LotView {
            din_display: Din::parse(&lot.din)
                .map(|d| d.display())
                .unwrap_or_else(|_| lot.din.clone()),
            id: lot.id,
            scan_payload: payload(ScanKind::Lot, &lot.code),
            code: lot.code,
            donation_id: lot.donation_id,
            din: lot.din,
            product_code: lot.product_code,
            passage: lot.passage,
            manufactured_at: lot.manufactured_at,
            expires_at: lot.expires_at,
            status: lot.status,
            frozen_at: lot.frozen_at,
            cells_per_vial: lot.cells_per_vial.map(i64::from),
            volume_ul: lot.volume_ul.map(i64::from),
            vial_count: lot.vial_count,
            qc: Vec::new(),
            qc_standing: QcStanding::default(),
            vial_counts: BTreeMap::new(),
            created_at: lot.created_at,
            site_id: lot.site_id,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QcView {
    pub id: Uuid,
    pub lot_id: Uuid,
    pub test: String,
    pub value: String,
    pub unit: Option<String>,
    /// Whether the value meets the specification.
    pub pass: bool,
    /// The limit it was judged against, e.g. `≥ 95`.
    pub specification: String,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: Uuid,
    /// Quality's signed conclusion about a failing result: `invalid_test`
    /// (a retest counts) or `confirmed` (the lot is rejected).
    pub investigation: Option<InvestigationView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvestigationView {
    pub conclusion: String,
    pub reason: String,
    pub investigated_at: Option<DateTime<Utc>>,
    pub investigated_by: Option<Uuid>,
}

impl From<qc_result::Model> for QcView {
    fn from(m: qc_result::Model) -> Self {
        QcView {
            id: m.id,
            lot_id: m.lot_id,
            test: m.test,
            value: m.value,
            unit: m.unit,
            pass: m.pass,
            specification: m.specification,
            recorded_at: m.recorded_at,
            recorded_by: m.recorded_by,
            investigation: m.investigation.map(|conclusion| InvestigationView {
                conclusion,
                reason: m.investigation_reason.unwrap_or_default(),
                investigated_at: m.investigated_at,
                investigated_by: m.investigated_by,
            }),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateLot {
    pub donation_id: Uuid,
    /// e.g. `S1395`.
    pub product_code: String,
    pub passage: i32,
    pub manufactured_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// The site making it: one of the caller's, required when they work at
    /// several (`422 site_required`).
    pub site_id: Option<Uuid>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddQc {
    /// One of the specification's tests: sterility, mycoplasma, endotoxin,
    /// viability, cd73, cd90, cd105, cd34, cd45, cd14, cd19, hla_dr.
    pub test: String,
    /// A word (`negative`) or a decimal number, as a string or a JSON number.
    pub value: DecimalInput,
    /// `%`, `EU/mL`; omitted or null for word results.
    pub unit: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Freeze {
    pub vial_count: i32,
    /// Labelled cells per vial.
    pub cells_per_vial: i64,
    pub volume_ul: i64,
    pub frozen_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Frozen {
    pub lot: LotView,
    pub vials: Vec<VialSummary>,
}

/// Starts a lot from a donation (lab).
#[utoipa::path(post, path = "/lots", tag = "lots", security(("bearer" = [])),
    request_body = CreateLot,
    responses((status = 201, description = "Created: the lot with QC results and vial counts", body = LotView), (status = 403, body = ErrorBody, description = "forbidden, not_your_site"),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody, description = "invalid_field, site_required")))]
async fn create_lot(
    State(state): State<AppState>,
    auth: Authorized<roles::Lab>,
    ApiJson(body): ApiJson<CreateLot>,
) -> AppResult<(StatusCode, ApiJson<LotView>)> {
    let record = lots::create(
        &state,
        &auth.user.actor(),
        NewLot {
            donation_id: body.donation_id,
            product_code: &body.product_code,
            passage: body.passage,
            manufactured_at: body.manufactured_at,
            expires_at: body.expires_at,
            site_id: body.site_id,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, ApiJson(record.into())))
}

/// A lot with QC results and vial counts by status.
#[utoipa::path(get, path = "/lots/{id}", tag = "lots", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "The lot with QC results and vial counts", body = LotView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_lot(
    State(state): State<AppState>,
    _auth: Authorized,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<ApiJson<LotView>> {
    Ok(ApiJson(lots::get(&state, id).await?.into()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LotList {
    /// A lot code or a DIN (with or without its check character), or the
    /// start of one; a scanned label's payload works too.
    pub q: Option<String>,
    pub status: Option<LotStatus>,
    /// Only lots that expire from now to this many days ahead (1 to 3650).
    pub expiring_within_days: Option<u32>,
    /// Only this one of the caller's sites (`403 not_your_site` for a
    /// site they do not work at); by default every site they work at.
    pub site_id: Option<Uuid>,
    /// Items in the page: 1 to 500, default 50.
    pub limit: Option<u64>,
    /// The `next_cursor` of the page before.
    pub cursor: Option<String>,
}

/// Lots by code, a page at a time: those at the caller's sites.
#[utoipa::path(get, path = "/lots", tag = "lots", security(("bearer" = [])),
    params(LotList),
    responses((status = 200, description = "A page of lots, by code", body = LotPage),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody, description = "not_your_site"), (status = 404, body = ErrorBody, description = "not_found: site_id"),
        (status = 422, body = ErrorBody, description = "invalid_field: q, limit, cursor or expiring_within_days")))]
async fn list_lots(
    State(state): State<AppState>,
    auth: Authorized,
    ApiQuery(query): ApiQuery<LotList>,
) -> AppResult<ApiJson<LotPage>> {
    let sites = SiteScope::of_user(&state, auth.user.user_id, query.site_id).await?;
    let page = page_request(query.q.as_deref(), query.limit, query.cursor.as_deref())?;
    let filter = LotFilter {
        status: query.status,
        expiring: query
            .expiring_within_days
            .map(|days| ExpiringWithin::parse(days, state.clock.now()))
            .transpose()?,
    };
    let found = lists::lots(&state, &sites, &filter, &page).await?;
    Ok(ApiJson(found.map(LotView::from).into()))
}

/// Records a QC result, judged against the specification (lab).
#[utoipa::path(post, path = "/lots/{id}/qc", tag = "lots", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = AddQc,
    responses((status = 201, description = "Created: the QC result, judged against the specification", body = QcView), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "unknown_qc_test, unit_mismatch, invalid_qc_value")))]
async fn add_qc(
    State(state): State<AppState>,
    auth: Authorized<roles::Lab>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<AddQc>,
) -> AppResult<(StatusCode, ApiJson<QcView>)> {
    let value = body.value.text();
    let result = crate::services::qc::add_qc(
        &state,
        &auth.user.actor(),
        id,
        &body.test,
        &value,
        body.unit.as_deref(),
    )
    .await?;
    Ok((StatusCode::CREATED, ApiJson(result.into())))
}

/// Freezes the lot into vials, which start in quarantine (lab).
#[utoipa::path(post, path = "/lots/{id}/freeze", tag = "lots", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = Freeze,
    responses((status = 201, description = "Created: the lot, now in quarantine, and its new vials", body = Frozen), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "invalid_state"),
        (status = 422, body = ErrorBody)))]
async fn freeze(
    State(state): State<AppState>,
    auth: Authorized<roles::Lab>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<Freeze>,
) -> AppResult<(StatusCode, ApiJson<Frozen>)> {
    let (lot, vials) = lots::freeze(
        &state,
        &auth.user.actor(),
        id,
        Freezing {
            vial_count: body.vial_count,
            cells_per_vial: body.cells_per_vial,
            volume_ul: body.volume_ul,
            frozen_at: body.frozen_at,
        },
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(Frozen {
            lot: lot.into(),
            vials: vials.into_iter().map(VialSummary::from).collect(),
        }),
    ))
}

/// Releases the lot for clinical use (quality, signed); its vials become
/// available.
#[utoipa::path(post, path = "/lots/{id}/release", tag = "lots", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = SignedOnly,
    responses((status = 200, description = "The lot with QC results and vial counts", body = LotView),
        (status = 401, body = ErrorBody, description = "signature_invalid"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "invalid_state"),
        (status = 422, body = ErrorBody, description = "donor_not_eligible, qc_incomplete, qc_failed, lot_expired")))]
async fn release(
    State(state): State<AppState>,
    auth: Authorized<roles::Quality>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<SignedOnly>,
) -> AppResult<ApiJson<LotView>> {
    let signature = signatures::verify(&state, &auth.user, &body.signature).await?;
    Ok(ApiJson(lots::release(&state, &signature, id).await?.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Investigation {
    /// `invalid_test` (the test itself was invalid: a retest counts) or
    /// `confirmed` (the failure is real: the lot is rejected).
    pub conclusion: Conclusion,
    pub reason: String,
    pub signature: SignatureInput,
}

/// Records quality's signed investigation of a failing QC result. A
/// positive sterility or mycoplasma result blocks release until it has
/// one; `confirmed` rejects a lot in process or in quarantine.
#[utoipa::path(post, path = "/lots/{id}/qc/{result_id}/investigation", tag = "lots", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("result_id" = Uuid, Path)), request_body = Investigation,
    responses((status = 200, description = "The lot with QC results and vial counts", body = LotView),
        (status = 401, body = ErrorBody, description = "signature_invalid"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "invalid_state: already investigated"),
        (status = 422, body = ErrorBody, description = "invalid_field: the result passes")))]
async fn investigate_qc(
    State(state): State<AppState>,
    auth: Authorized<roles::Quality>,
    ApiPath((id, result_id)): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<Investigation>,
) -> AppResult<ApiJson<LotView>> {
    let signature = signatures::verify(&state, &auth.user, &body.signature).await?;
    Ok(ApiJson(
        crate::services::qc::investigate_qc(
            &state,
            &signature,
            id,
            result_id,
            body.conclusion,
            &body.reason,
        )
        .await?
        .into(),
    ))
}

/// Rejects the lot (quality, signed, with a reason).
#[utoipa::path(post, path = "/lots/{id}/reject", tag = "lots", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = SignedReason,
    responses((status = 200, description = "The lot with QC results and vial counts", body = LotView),
        (status = 401, body = ErrorBody, description = "signature_invalid"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "invalid_state"),
        (status = 422, body = ErrorBody)))]
async fn reject(
    State(state): State<AppState>,
    auth: Authorized<roles::Quality>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<SignedReason>,
) -> AppResult<ApiJson<LotView>> {
    let signature = signatures::verify(&state, &auth.user, &body.signature).await?;
    Ok(ApiJson(
        lots::reject(&state, &signature, id, &body.reason)
            .await?
            .into(),
    ))
}
