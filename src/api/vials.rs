//! Vials: where they are, moving them, discarding them.

use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::api::extract::{ApiJson, ApiPath, ApiQuery, Authorized, roles};
use crate::api::paging::{page_of, page_request};
use crate::api::signed::SignedReason;
use crate::domain::din::Din;
use crate::domain::lifecycle::{VialStatus, vial_actions};
use crate::domain::scan::{ScanKind, payload};
use crate::entities::vial;
use crate::error::{AppResult, ErrorBody};
use crate::services::lists::{self, ExpiringWithin, SiteScope, VialFilter};
use crate::services::signatures;
use crate::services::vials::{self, Location, VialRecord};
use crate::state::AppState;

page_of!(VialPage => VialView);

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_vials))
        .routes(routes!(get_vial))
        .routes(routes!(store_vial))
        .routes(routes!(discard_vial))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VialView {
    pub id: Uuid,
    /// DIN + lot + vial number, e.g. `A999926000123-L01-V007`.
    pub code: String,
    /// What its label's QR encodes: `CT1:V:<code>`.
    pub scan_payload: String,
    pub lot_id: Uuid,
    pub din: String,
    pub din_display: String,
    pub status: VialStatus,
    /// Labelled cells in the vial.
    pub cells_per_vial: i64,
    pub volume_ul: i64,
    pub frozen_at: DateTime<Utc>,
    /// Where it is; null when out of storage.
    pub location: Option<LocationView>,
    pub labels_issued: i32,
    /// What the lifecycle allows next (before roles).
    pub next_actions: Vec<String>,
    pub created_at: DateTime<Utc>,
    /// The site holding it: its lot's, until a shipment takes it elsewhere.
    pub site_id: Uuid,
    /// The shipment it is packed into, from the packing scan until the
    /// receipt is signed (`GET /shipments/{id}`); its place then reads
    /// "Shipper DS-07 · shipment SH-2026-0012".
    pub shipment_id: Option<Uuid>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LocationView {
    pub box_id: Uuid,
    pub position: String,
    /// `Tank 1 › Rack A › Box 3 › B4`.
    pub path: String,
}

impl From<&Location> for LocationView {
    fn from(location: &Location) -> Self {
        LocationView {
            box_id: location.box_unit.id,
            position: location.position.clone(),
            path: location.path(),
        }
    }
}

impl TryFrom<VialRecord> for VialView {
    type Error = crate::error::AppError;

    fn try_from(record: VialRecord) -> AppResult<Self> {
        let status = record.status()?;
        let vial = record.vial;
        Ok(VialView {
            din_display: Din::parse(&vial.din)
                .map(|d| d.display())
                .unwrap_or_else(|_| vial.din.clone()),
            id: vial.id,
            scan_payload: payload(ScanKind::Vial, &vial.code),
            code: vial.code.into(),
            lot_id: vial.lot_id,
            din: vial.din,
            status,
            cells_per_vial: vial.cells_per_vial.get(),
            volume_ul: vial.volume_ul.get(),
            frozen_at: vial.frozen_at,
            location: record.location.as_ref().map(LocationView::from),
            labels_issued: vial.labels_issued,
            next_actions: vial_actions(status)
                .iter()
                .map(|a| a.as_str().to_owned())
                .collect(),
            created_at: vial.created_at,
            site_id: vial.site_id,
            shipment_id: vial.shipment_id,
        })
    }
}

/// A vial in a list of new vials.
#[derive(Debug, Serialize, ToSchema)]
pub struct VialSummary {
    pub id: Uuid,
    pub code: String,
    pub status: VialStatus,
}

impl From<vial::Model> for VialSummary {
    fn from(v: vial::Model) -> Self {
        VialSummary {
            id: v.id,
            code: v.code.into(),
            status: v.status,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VialList {
    /// A vial code, its lot's code or its DIN (with or without the check
    /// character), or the start of one; a scanned label works too.
    pub q: Option<String>,
    pub status: Option<VialStatus>,
    pub lot_id: Option<Uuid>,
    /// Only the vials in this box.
    pub box_id: Option<Uuid>,
    /// Only vials of lots that expire from now to this many days ahead
    /// (1 to 3650).
    pub expiring_within_days: Option<u32>,
    /// Only this one of the caller's sites (`403 not_your_site` for a
    /// site they do not work at); by default every site they work at.
    pub site_id: Option<Uuid>,
    /// Items in the page: 1 to 500, default 50.
    pub limit: Option<u64>,
    /// The `next_cursor` of the page before.
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StoreVial {
    pub box_id: Uuid,
    /// `A1` … as the box's rows and columns allow.
    pub position: String,
}

/// Vials by code, a page at a time: by status, lot, box or expiry; those
/// at the caller's sites.
#[utoipa::path(get, path = "/vials", tag = "vials", security(("bearer" = [])),
    params(VialList),
    responses((status = 200, description = "A page of vials, by code", body = VialPage),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody, description = "not_your_site"), (status = 404, body = ErrorBody, description = "not_found: site_id"),
        (status = 422, body = ErrorBody, description = "invalid_field: q, limit, cursor or expiring_within_days")))]
async fn list_vials(
    State(state): State<AppState>,
    auth: Authorized,
    ApiQuery(query): ApiQuery<VialList>,
) -> AppResult<ApiJson<VialPage>> {
    let sites = SiteScope::of_user(&state, auth.user.user_id, query.site_id).await?;
    let page = page_request(query.q.as_deref(), query.limit, query.cursor.as_deref())?;
    let filter = VialFilter {
        status: query.status,
        lot_id: query.lot_id,
        box_id: query.box_id,
        expiring: query
            .expiring_within_days
            .map(|days| ExpiringWithin::parse(days, state.clock.now()))
            .transpose()?,
    };
    let found = lists::vials(&state, &sites, &filter, &page).await?;
    Ok(ApiJson(found.try_map(VialView::try_from)?.into()))
}

/// A vial with its location.
#[utoipa::path(get, path = "/vials/{id}", tag = "vials", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "The vial", body = VialView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_vial(
    State(state): State<AppState>,
    _auth: Authorized,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<ApiJson<VialView>> {
    Ok(ApiJson(vials::get(&state, id).await?.try_into()?))
}

/// Puts a vial into a box position or moves it (lab).
#[utoipa::path(post, path = "/vials/{id}/store", tag = "vials", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = StoreVial,
    responses((status = 200, description = "The vial", body = VialView), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "position_occupied, invalid_state, concurrent_change"),
        (status = 422, body = ErrorBody, description = "invalid_position, not_a_box")))]
async fn store_vial(
    State(state): State<AppState>,
    auth: Authorized<roles::Lab>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<StoreVial>,
) -> AppResult<ApiJson<VialView>> {
    let record = vials::store(&state, &auth.user.actor(), id, body.box_id, &body.position).await?;
    Ok(ApiJson(record.try_into()?))
}

/// Discards a vial (lab, signed, with a reason); it leaves storage.
#[utoipa::path(post, path = "/vials/{id}/discard", tag = "vials", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = SignedReason,
    responses((status = 200, description = "The vial", body = VialView),
        (status = 401, body = ErrorBody, description = "signature_invalid"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "invalid_state")))]
async fn discard_vial(
    State(state): State<AppState>,
    auth: Authorized<roles::Lab>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<SignedReason>,
) -> AppResult<ApiJson<VialView>> {
    let signature = signatures::verify(&state, &auth.user, &body.signature).await?;
    Ok(ApiJson(
        vials::discard(&state, &signature, id, &body.reason)
            .await?
            .try_into()?,
    ))
}
