//! Shipments (issue 15): shipping containers, and vials leaving one site
//! for another. The lab of the sending site creates a shipment, scans
//! vials (or whole boxes) into its container and seals it under
//! signature; hand-overs record who took it when; the receiving site
//! scans every vial into a box and signs the receipt, with a reason for
//! each vial that did not arrive and each scan not on the packing list.

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
use crate::api::signed::SignedOnly;
use crate::domain::lifecycle::VialStatus;
use crate::domain::shipment::{
    DiscrepancyKind, HandoverKind, ShipmentAction, ShipmentStatus, in_transit_location,
    shipment_actions,
};
use crate::entities::{shipment, shipping_container};
use crate::error::{AppError, AppResult, ErrorBody};
use crate::services::lists::{self, SiteScope};
use crate::services::shipments::{self, Packed, ReasonFor, ReceiptScan, ShipmentRecord};
use crate::services::signatures::{self, SignatureInput};
use crate::services::{sites, storage};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_containers, add_container))
        .routes(routes!(get_container))
        .routes(routes!(list_shipments, create_shipment))
        .routes(routes!(get_shipment))
        .routes(routes!(pack_vials))
        .routes(routes!(unpack_vial))
        .routes(routes!(seal_shipment))
        .routes(routes!(cancel_shipment))
        .routes(routes!(record_handover))
        .routes(routes!(scan_in_vial))
        .routes(routes!(sign_receipt))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ContainerView {
    pub id: Uuid,
    /// As written on the shipper (`DS-07`).
    pub code: String,
    /// The site it is at: its sending site's until a receipt brings it to another.
    pub site_id: Uuid,
    pub labels_issued: i32,
    pub created_at: DateTime<Utc>,
}

impl From<shipping_container::Model> for ContainerView {
    fn from(c: shipping_container::Model) -> Self {
        ContainerView {
            id: c.id,
            code: c.code,
            site_id: c.site_id,
            labels_issued: c.labels_issued,
            created_at: c.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SiteRef {
    pub id: Uuid,
    pub name: String,
    pub facility_code: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShipmentVialView {
    pub vial_id: Uuid,
    pub code: String,
    pub lot_id: Uuid,
    pub din: String,
    pub status: VialStatus,
    /// Scanned in at the receiving site.
    pub received: bool,
    pub received_at: Option<DateTime<Utc>>,
    /// Where it is: in the shipper, or the box position it was scanned into.
    pub place: String,
    /// Did not arrive: the receiver's reason.
    pub missing_reason: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HandoverView {
    pub id: Uuid,
    /// `pick_up`, `transfer` or `arrival`.
    pub kind: HandoverKind,
    /// The courier (name and company) or whoever brought it.
    pub party: String,
    pub recorded_by: Uuid,
    /// The server's time when it was recorded.
    pub at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DiscrepancyView {
    pub id: Uuid,
    /// `unexpected` (a celltrail vial not on the list) or `extra` (a label celltrail does not know).
    pub kind: DiscrepancyKind,
    pub vial_id: Option<Uuid>,
    /// What was scanned, as read.
    pub scanned: String,
    pub noted_at: DateTime<Utc>,
    /// The receiver's reason, once the receipt is signed.
    pub reason: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShipmentView {
    pub id: Uuid,
    /// `SH-2026-0012`.
    pub code: String,
    /// `packing`, `sealed`, `in_transit`, `arrived`, `received` or `cancelled`.
    pub status: ShipmentStatus,
    pub from_site: SiteRef,
    pub to_site: SiteRef,
    pub container: ContainerView,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub sealed_at: Option<DateTime<Utc>>,
    pub picked_up_at: Option<DateTime<Utc>>,
    pub arrived_at: Option<DateTime<Utc>>,
    pub received_at: Option<DateTime<Utc>>,
    /// Its vials by code: those packed, or those on the sealed packing list.
    pub vials: Vec<ShipmentVialView>,
    pub vial_count: usize,
    pub received_count: usize,
    /// On the list and not (yet) scanned in at the receiving site.
    pub missing_count: usize,
    pub handovers: Vec<HandoverView>,
    pub discrepancies: Vec<DiscrepancyView>,
    /// What may be done to it now.
    pub next_actions: Vec<ShipmentAction>,
}

fn site_ref(site: &crate::entities::site::Model) -> SiteRef {
    SiteRef {
        id: site.id,
        name: site.name.clone(),
        facility_code: site.facility_code.clone(),
    }
}

impl ShipmentView {
    async fn of(state: &AppState, record: ShipmentRecord) -> AppResult<ShipmentView> {
        let s = &record.shipment;
        let in_shipper = in_transit_location(&record.container.code, &s.code);
        let mut vials = Vec::with_capacity(record.items.len());
        for item in &record.items {
            let line = item.line.as_ref();
            let place = match (item.vial.box_id, &item.vial.position) {
                (Some(b), Some(p)) => crate::domain::storage::location_path(
                    [storage::unit(state, b).await?.path.as_str()],
                    Some(p),
                ),
                _ if item.vial.shipment_id == Some(s.id) => in_shipper.clone(),
                _ => "not in storage".to_owned(),
            };
            vials.push(ShipmentVialView {
                vial_id: item.vial.id,
                code: item.vial.code.to_string(),
                lot_id: item.vial.lot_id,
                din: item.vial.din.clone(),
                status: item.vial.status,
                received: line.is_some_and(|l| l.received_at.is_some()),
                received_at: line.and_then(|l| l.received_at),
                place,
                missing_reason: line.and_then(|l| l.missing_reason.clone()),
            });
        }
        let received_count = vials.iter().filter(|v| v.received).count();
        let sealed = record.shipment.sealed_at.is_some();
        Ok(ShipmentView {
            id: s.id,
            code: s.code.clone(),
            status: s.status,
            from_site: site_ref(&record.from_site),
            to_site: site_ref(&record.to_site),
            container: record.container.clone().into(),
            created_by: s.created_by,
            created_at: s.created_at,
            sealed_at: s.sealed_at,
            picked_up_at: s.picked_up_at,
            arrived_at: s.arrived_at,
            received_at: s.received_at,
            vial_count: vials.len(),
            received_count,
            missing_count: if sealed {
                vials.len() - received_count
            } else {
                0
            },
            vials,
            handovers: record
                .handovers
                .iter()
                .map(|h| HandoverView {
                    id: h.id,
                    kind: h.kind,
                    party: h.party.clone(),
                    recorded_by: h.recorded_by,
                    at: h.at,
                })
                .collect(),
            discrepancies: record
                .discrepancies
                .iter()
                .map(|d| DiscrepancyView {
                    id: d.id,
                    kind: d.kind,
                    vial_id: d.vial_id,
                    scanned: d.scanned.clone(),
                    noted_at: d.noted_at,
                    reason: d.reason.clone(),
                })
                .collect(),
            next_actions: shipment_actions(s.status),
        })
    }
}

/// A shipment in a list: without its vials.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShipmentSummary {
    pub id: Uuid,
    pub code: String,
    pub status: ShipmentStatus,
    pub from_site_id: Uuid,
    pub to_site_id: Uuid,
    pub container_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub sealed_at: Option<DateTime<Utc>>,
    pub received_at: Option<DateTime<Utc>>,
}

impl From<shipment::Model> for ShipmentSummary {
    fn from(s: shipment::Model) -> Self {
        ShipmentSummary {
            id: s.id,
            code: s.code,
            status: s.status,
            from_site_id: s.from_site_id,
            to_site_id: s.to_site_id,
            container_id: s.container_id,
            created_at: s.created_at,
            sealed_at: s.sealed_at,
            received_at: s.received_at,
        }
    }
}

page_of!(ShipmentPage => ShipmentSummary);

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContainerList {
    /// Only this site's (one of yours); default: every site you work at.
    pub site_id: Option<Uuid>,
}

/// Shipping containers at your sites, by code.
#[utoipa::path(get, path = "/shipping-containers", tag = "shipments", security(("bearer" = [])),
    params(ContainerList),
    responses((status = 200, description = "The containers", body = [ContainerView]),
        (status = 403, body = ErrorBody, description = "forbidden, not_your_site")))]
async fn list_containers(
    State(state): State<AppState>,
    auth: Authorized<roles::Staff>,
    ApiQuery(query): ApiQuery<ContainerList>,
) -> AppResult<ApiJson<Vec<ContainerView>>> {
    let scope = SiteScope::of_user(&state, auth.user.user_id, query.site_id).await?;
    let ids = match &scope {
        SiteScope::Only(ids) => ids.clone(),
        SiteScope::Everywhere => Vec::new(),
    };
    Ok(ApiJson(
        shipments::containers(&state, Some(&ids))
            .await?
            .into_iter()
            .map(ContainerView::from)
            .collect(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddContainer {
    /// As written on the shipper: 1 to 32 letters, digits and hyphens (`DS-07`).
    pub code: String,
    /// The site it is at; needed only by someone working at several.
    pub site_id: Option<Uuid>,
}

/// Adds a shipping container (lab).
#[utoipa::path(post, path = "/shipping-containers", tag = "shipments", security(("bearer" = [])),
    request_body = AddContainer,
    responses((status = 201, description = "Created: the container", body = ContainerView),
        (status = 403, body = ErrorBody, description = "forbidden, not_your_site"),
        (status = 422, body = ErrorBody, description = "invalid_field (the code, or taken), site_required")))]
async fn add_container(
    State(state): State<AppState>,
    auth: Authorized<roles::Lab>,
    ApiJson(body): ApiJson<AddContainer>,
) -> AppResult<(StatusCode, ApiJson<ContainerView>)> {
    let container =
        shipments::add_container(&state, &auth.user.actor(), &body.code, body.site_id).await?;
    Ok((StatusCode::CREATED, ApiJson(container.into())))
}

/// One shipping container.
#[utoipa::path(get, path = "/shipping-containers/{id}", tag = "shipments", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "The container", body = ContainerView),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_container(
    State(state): State<AppState>,
    _auth: Authorized<roles::Staff>,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<ApiJson<ContainerView>> {
    Ok(ApiJson(shipments::container(&state, id).await?.into()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ShipmentList {
    /// `packing`, `sealed`, `in_transit`, `arrived`, `received` or `cancelled`.
    pub status: Option<String>,
    /// Only shipments leaving or coming to this site (one of yours).
    pub site_id: Option<Uuid>,
    /// A shipment code, or the start of one (`SH-2026`).
    pub q: Option<String>,
    /// Items in the page: 1 to 500, default 50.
    pub limit: Option<u64>,
    /// The `next_cursor` of the page before.
    pub cursor: Option<String>,
}

/// Shipments leaving or coming to your sites, by code, a page at a time.
#[utoipa::path(get, path = "/shipments", tag = "shipments", security(("bearer" = [])),
    params(ShipmentList),
    responses((status = 200, description = "A page of shipments, by code", body = ShipmentPage),
        (status = 403, body = ErrorBody, description = "forbidden, not_your_site"),
        (status = 422, body = ErrorBody, description = "invalid_field: status, q, limit or cursor")))]
async fn list_shipments(
    State(state): State<AppState>,
    auth: Authorized<roles::Staff>,
    ApiQuery(query): ApiQuery<ShipmentList>,
) -> AppResult<ApiJson<ShipmentPage>> {
    let page = page_request(query.q.as_deref(), query.limit, query.cursor.as_deref())?;
    let status = match query.status.as_deref() {
        None => None,
        Some(raw) => Some(raw.parse::<ShipmentStatus>().map_err(|_| {
            AppError::invalid(
                "status",
                "packing, sealed, in_transit, arrived, received or cancelled",
            )
        })?),
    };
    let scope = SiteScope::of_user(&state, auth.user.user_id, query.site_id).await?;
    Ok(ApiJson(
        lists::shipments(&state, &scope, status, &page)
            .await?
            .map(ShipmentSummary::from)
            .into(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateShipment {
    /// The sending site; needed only by someone working at several.
    pub from_site_id: Option<Uuid>,
    /// The receiving site.
    pub to_site_id: Uuid,
    /// The shipping container it travels in, at the sending site and on no
    /// shipment not yet received.
    pub container_id: Uuid,
}

/// Starts a shipment (lab, at the sending site): `packing`, empty.
#[utoipa::path(post, path = "/shipments", tag = "shipments", security(("bearer" = [])),
    request_body = CreateShipment,
    responses((status = 201, description = "Created: the shipment", body = ShipmentView),
        (status = 403, body = ErrorBody, description = "forbidden, not_your_site"),
        (status = 404, body = ErrorBody, description = "no such site or container"),
        (status = 409, body = ErrorBody, description = "container_in_use"),
        (status = 422, body = ErrorBody, description = "invalid_field (to the sending site itself), wrong_site (the container is elsewhere), site_required")))]
async fn create_shipment(
    State(state): State<AppState>,
    auth: Authorized<roles::Lab>,
    ApiJson(body): ApiJson<CreateShipment>,
) -> AppResult<(StatusCode, ApiJson<ShipmentView>)> {
    let record = shipments::create(
        &state,
        &auth.user.actor(),
        body.from_site_id,
        body.to_site_id,
        body.container_id,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(ShipmentView::of(&state, record).await?),
    ))
}

/// One shipment with its vials, hand-overs and discrepancies (staff of
/// either site).
#[utoipa::path(get, path = "/shipments/{id}", tag = "shipments", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "The shipment", body = ShipmentView),
        (status = 403, body = ErrorBody, description = "forbidden, not_your_site"),
        (status = 404, body = ErrorBody)))]
async fn get_shipment(
    State(state): State<AppState>,
    auth: Authorized<roles::Staff>,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<ApiJson<ShipmentView>> {
    let record = shipments::get(&state, id).await?;
    at_either_end(&state, &auth, &record).await?;
    Ok(ApiJson(ShipmentView::of(&state, record).await?))
}

/// Refuses someone working at neither end of the shipment (quality
/// follows a record anywhere through the trace, not here).
async fn at_either_end(
    state: &AppState,
    auth: &Authorized<roles::Staff>,
    record: &ShipmentRecord,
) -> AppResult<()> {
    let mine = sites::of_user(state, auth.user.user_id).await?;
    if mine.contains(&record.shipment.from_site_id) || mine.contains(&record.shipment.to_site_id) {
        return Ok(());
    }
    Err(AppError::NotYourSite {
        site: record.from_site.name.clone(),
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScanBody {
    /// What the scanner read: a vial's label (or its code typed), or, to
    /// pack, a box's label (every vial in the box goes, or none).
    pub scanned: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PackedView {
    /// Codes of the vials this scan packed.
    pub packed: Vec<String>,
    /// Codes of vials scanned that were in the shipment already.
    pub already_packed: Vec<String>,
    pub shipment: ShipmentView,
}

/// Scans a vial, or a whole box, into the shipment's container (lab, at
/// the sending site, while packing). Each vial packed is `in_transit`
/// from this scan and out of its box.
#[utoipa::path(post, path = "/shipments/{id}/pack", tag = "shipments", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = ScanBody,
    responses((status = 200, description = "Packed", body = PackedView),
        (status = 400, body = ErrorBody, description = "malformed_payload"),
        (status = 403, body = ErrorBody, description = "forbidden, not_your_site"),
        (status = 404, body = ErrorBody, description = "not_found, unknown_code"),
        (status = 409, body = ErrorBody, description = "invalid_state (the shipment is sealed, the vial is not available), in_shipment, concurrent_change"),
        (status = 422, body = ErrorBody, description = "wrong_site, lot_expired, not_shippable (a box with vials that may not go), not_a_box, invalid_field")))]
async fn pack_vials(
    State(state): State<AppState>,
    auth: Authorized<roles::Lab>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<ScanBody>,
) -> AppResult<ApiJson<PackedView>> {
    let Packed {
        record,
        packed,
        already,
    } = shipments::pack(&state, &auth.user.actor(), id, &body.scanned).await?;
    Ok(ApiJson(PackedView {
        packed,
        already_packed: already,
        shipment: ShipmentView::of(&state, record).await?,
    }))
}

/// Takes a vial out of a shipment still packing (lab, sending site): it is
/// available again, out of storage until stored.
#[utoipa::path(post, path = "/shipments/{id}/unpack", tag = "shipments", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = ScanBody,
    responses((status = 200, description = "The shipment", body = ShipmentView),
        (status = 400, body = ErrorBody, description = "malformed_payload"),
        (status = 403, body = ErrorBody, description = "forbidden, not_your_site"),
        (status = 404, body = ErrorBody, description = "not_found, unknown_code"),
        (status = 409, body = ErrorBody, description = "invalid_state: sealed already"),
        (status = 422, body = ErrorBody, description = "invalid_field: not in this shipment")))]
async fn unpack_vial(
    State(state): State<AppState>,
    auth: Authorized<roles::Lab>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<ScanBody>,
) -> AppResult<ApiJson<ShipmentView>> {
    let record = shipments::unpack(&state, &auth.user.actor(), id, &body.scanned).await?;
    Ok(ApiJson(ShipmentView::of(&state, record).await?))
}

/// Seals the shipment under the packer's signature (lab, sending site):
/// its vials become the packing list.
#[utoipa::path(post, path = "/shipments/{id}/seal", tag = "shipments", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = SignedOnly,
    responses((status = 200, description = "Sealed", body = ShipmentView),
        (status = 401, body = ErrorBody, description = "signature_invalid"),
        (status = 403, body = ErrorBody, description = "forbidden, not_your_site"),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "invalid_state: sealed already or cancelled"),
        (status = 422, body = ErrorBody, description = "shipment_empty, not_shippable (a vial recalled since it was packed)")))]
async fn seal_shipment(
    State(state): State<AppState>,
    auth: Authorized<roles::Lab>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<SignedOnly>,
) -> AppResult<ApiJson<ShipmentView>> {
    let signature = signatures::verify(&state, &auth.user, &body.signature).await?;
    let record = shipments::seal(&state, &signature, id).await?;
    Ok(ApiJson(ShipmentView::of(&state, record).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelShipment {
    pub reason: String,
}

/// Cancels a shipment still packing (lab, sending site), with the reason:
/// its vials are available again, out of storage until stored.
#[utoipa::path(post, path = "/shipments/{id}/cancel", tag = "shipments", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = CancelShipment,
    responses((status = 200, description = "Cancelled", body = ShipmentView),
        (status = 403, body = ErrorBody, description = "forbidden, not_your_site"),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "invalid_state: sealed already"),
        (status = 422, body = ErrorBody, description = "invalid_field: no reason")))]
async fn cancel_shipment(
    State(state): State<AppState>,
    auth: Authorized<roles::Lab>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<CancelShipment>,
) -> AppResult<ApiJson<ShipmentView>> {
    let record = shipments::cancel(&state, &auth.user.actor(), id, &body.reason).await?;
    Ok(ApiJson(ShipmentView::of(&state, record).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Handover {
    /// `pick_up` (a courier takes it at the sending site), `transfer`
    /// (between couriers) or `arrival` (at the receiving site).
    pub kind: String,
    /// Who took or brought it: name and company, 1 to 200 characters.
    pub party: String,
}

/// Records a hand-over: the courier's pick-up (lab, sending site), a
/// transfer, the arrival (lab or pharmacist, receiving site). The time is
/// the server's.
#[utoipa::path(post, path = "/shipments/{id}/handovers", tag = "shipments", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = Handover,
    responses((status = 200, description = "Recorded", body = ShipmentView),
        (status = 403, body = ErrorBody, description = "forbidden, not_your_site"),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "invalid_state: not sealed yet, picked up already, …"),
        (status = 422, body = ErrorBody, description = "invalid_field: kind or party")))]
async fn record_handover(
    State(state): State<AppState>,
    auth: Authorized<roles::Staff>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<Handover>,
) -> AppResult<ApiJson<ShipmentView>> {
    let kind = body
        .kind
        .parse::<HandoverKind>()
        .map_err(|_| AppError::invalid("kind", "a hand-over is pick_up, transfer or arrival"))?;
    let record = shipments::hand_over(&state, &auth.user.actor(), id, kind, &body.party).await?;
    Ok(ApiJson(ShipmentView::of(&state, record).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiptScanBody {
    /// What the scanner read from the vial (or its code typed).
    pub scanned: String,
    /// The box at the receiving site it goes into.
    pub box_id: Uuid,
    /// Its position there (`B4`).
    pub position: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReceiptScanView {
    /// `received`, `already_received`, `unexpected` (a celltrail vial not on
    /// this shipment's list: noted, not moved) or `extra` (a label celltrail
    /// does not know: noted).
    pub outcome: String,
    pub vial_code: Option<String>,
    /// Where the vial now is (received) or is recorded to be (unexpected).
    pub place: Option<String>,
    /// The discrepancy noted, which needs a reason at the signed receipt.
    pub discrepancy_id: Option<Uuid>,
    pub shipment: ShipmentView,
}

/// Scans one vial in at the receiving site, into a box position (lab or
/// pharmacist of the receiving site, after the arrival is recorded). It
/// stays `in_transit` until the receipt is signed.
#[utoipa::path(post, path = "/shipments/{id}/receipt/scans", tag = "shipments", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = ReceiptScanBody,
    responses((status = 200, description = "What the scan found", body = ReceiptScanView),
        (status = 400, body = ErrorBody, description = "malformed_payload"),
        (status = 403, body = ErrorBody, description = "forbidden, not_your_site"),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "invalid_state (arrival not recorded, received already), position_occupied"),
        (status = 422, body = ErrorBody, description = "wrong_site (a box of another site), not_a_box, invalid_position, invalid_field")))]
async fn scan_in_vial(
    State(state): State<AppState>,
    auth: Authorized<roles::Staff>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<ReceiptScanBody>,
) -> AppResult<ApiJson<ReceiptScanView>> {
    let ReceiptScan {
        outcome,
        vial_code,
        place,
        discrepancy_id,
        record,
    } = shipments::scan_in(
        &state,
        &auth.user.actor(),
        id,
        &body.scanned,
        body.box_id,
        &body.position,
    )
    .await?;
    Ok(ApiJson(ReceiptScanView {
        outcome: outcome.as_str().to_owned(),
        vial_code,
        place,
        discrepancy_id,
        shipment: ShipmentView::of(&state, record).await?,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiptReason {
    /// A vial on the packing list that did not arrive …
    pub vial_id: Option<Uuid>,
    /// … or a scan noted at receipt that was not on it (one of the two).
    pub discrepancy_id: Option<Uuid>,
    pub reason: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Receive {
    /// A reason for each vial that did not arrive and each scan not on the list.
    #[serde(default)]
    pub reasons: Vec<ReceiptReason>,
    pub signature: SignatureInput,
}

/// Signs the receipt (lab or pharmacist, receiving site): the vials
/// scanned in are available there (or stay recalled or on hold), those
/// not scanned in are discarded with their reason.
#[utoipa::path(post, path = "/shipments/{id}/receive", tag = "shipments", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = Receive,
    responses((status = 200, description = "Received", body = ShipmentView),
        (status = 401, body = ErrorBody, description = "signature_invalid"),
        (status = 403, body = ErrorBody, description = "forbidden, not_your_site"),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "invalid_state: not arrived, received already"),
        (status = 422, body = ErrorBody, description = "receipt_incomplete (a vial not arrived or a scan without a reason), invalid_field")))]
async fn sign_receipt(
    State(state): State<AppState>,
    auth: Authorized<roles::Staff>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<Receive>,
) -> AppResult<ApiJson<ShipmentView>> {
    let mut reasons = Vec::with_capacity(body.reasons.len());
    for (index, r) in body.reasons.into_iter().enumerate() {
        let target = match (r.vial_id, r.discrepancy_id) {
            (Some(vial), None) => ReasonFor::Vial(vial),
            (None, Some(d)) => ReasonFor::Discrepancy(d),
            _ => {
                return Err(AppError::InvalidField {
                    field: format!("reasons[{index}]").into(),
                    message: "name either the vial that did not arrive or the scan noted".into(),
                });
            }
        };
        reasons.push((target, r.reason));
    }
    let signature = signatures::verify(&state, &auth.user, &body.signature).await?;
    let record = shipments::close(&state, &signature, id, reasons).await?;
    Ok(ApiJson(ShipmentView::of(&state, record).await?))
}
