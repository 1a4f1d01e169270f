//! Storage units and what is in them.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::api::extract::{ApiJson, ApiPath, ApiQuery, Authorized, roles};
use crate::domain::lifecycle::VialStatus;
use crate::domain::storage::StorageKind;
use crate::error::{AppResult, ErrorBody};
use crate::services::lists::SiteScope;
use crate::services::storage::{self, NewUnit, Unit};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_unit, list_units))
        .routes(routes!(get_unit))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UnitView {
    pub id: Uuid,
    pub name: String,
    pub kind: StorageKind,
    pub parent_id: Option<Uuid>,
    pub rows: Option<u8>,
    pub cols: Option<u8>,
    /// `Tank 1 › Rack A › Box 3`.
    pub path: String,
    pub created_at: DateTime<Utc>,
    /// The site the unit is at.
    pub site_id: Uuid,
}

impl From<&Arc<Unit>> for UnitView {
    fn from(unit: &Arc<Unit>) -> Self {
        UnitView {
            id: unit.id,
            name: unit.name.clone(),
            kind: unit.kind,
            parent_id: unit.parent_id,
            rows: unit.rows,
            cols: unit.cols,
            path: unit.path.clone(),
            created_at: unit.created_at,
            site_id: unit.site_id,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UnitContents {
    #[serde(flatten)]
    pub unit: UnitView,
    /// Racks of a tank, boxes of a rack.
    pub children: Vec<UnitView>,
    /// For a box: the occupied positions, row by row.
    pub occupied: Vec<OccupiedPosition>,
    /// For a box: how many positions are free.
    pub free_positions: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OccupiedPosition {
    pub position: String,
    pub vial_id: Uuid,
    pub vial_code: String,
    pub status: VialStatus,
    pub lot_id: Uuid,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUnit {
    pub name: String,
    pub kind: StorageKind,
    /// The tank of a rack; the rack (or tank) of a box.
    pub parent_id: Option<Uuid>,
    /// Boxes only: 1-26 rows (A-Z).
    pub rows: Option<i32>,
    /// Boxes only: 1-30 columns.
    pub cols: Option<i32>,
    /// A tank's site: one of the caller's, required when they work at
    /// several (`422 site_required`); a rack or box is at its parent's.
    pub site_id: Option<Uuid>,
}

/// Adds a tank, rack or box (lab).
#[utoipa::path(post, path = "/storage", tag = "storage", security(("bearer" = [])),
    request_body = CreateUnit,
    responses((status = 201, description = "Created: the storage unit", body = UnitView), (status = 403, body = ErrorBody, description = "forbidden, not_your_site"),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "storage_name_taken"),
        (status = 422, body = ErrorBody, description = "invalid_storage_placement, site_required")))]
async fn create_unit(
    State(state): State<AppState>,
    auth: Authorized<roles::Lab>,
    ApiJson(body): ApiJson<CreateUnit>,
) -> AppResult<(StatusCode, ApiJson<UnitView>)> {
    let unit = storage::create(
        &state,
        &auth.user.actor(),
        NewUnit {
            name: &body.name,
            kind: body.kind,
            parent_id: body.parent_id,
            rows: body.rows,
            cols: body.cols,
            site_id: body.site_id,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, ApiJson(UnitView::from(&unit))))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UnitList {
    /// Only this one of the caller's sites (`403 not_your_site` for a
    /// site they do not work at); by default every site they work at.
    pub site_id: Option<Uuid>,
}

/// Every storage unit at the caller's sites, by path.
#[utoipa::path(get, path = "/storage", tag = "storage", security(("bearer" = [])),
    params(UnitList),
    responses((status = 200, description = "Every storage unit at the caller's sites", body = Vec<UnitView>),
        (status = 403, body = ErrorBody, description = "not_your_site"), (status = 404, body = ErrorBody, description = "not_found: site_id")))]
async fn list_units(
    State(state): State<AppState>,
    auth: Authorized,
    ApiQuery(query): ApiQuery<UnitList>,
) -> AppResult<ApiJson<Vec<UnitView>>> {
    let sites = SiteScope::of_user(&state, auth.user.user_id, query.site_id).await?;
    Ok(ApiJson(
        storage::list_at(&state, &sites)
            .await?
            .iter()
            .map(UnitView::from)
            .collect(),
    ))
}

/// A unit with its children or, for a box, its occupied positions.
#[utoipa::path(get, path = "/storage/{id}", tag = "storage", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "The unit with its children or, for a box, its occupied positions", body = UnitContents), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_unit(
    State(state): State<AppState>,
    _auth: Authorized,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<ApiJson<UnitContents>> {
    let contents = storage::contents(&state, id).await?;
    let capacity = match (contents.unit.rows, contents.unit.cols) {
        (Some(r), Some(c)) => Some(u32::from(r) * u32::from(c)),
        _ => None,
    };
    let occupied: Vec<OccupiedPosition> = contents
        .vials
        .into_iter()
        .map(|v| OccupiedPosition {
            position: v.position.unwrap_or_default(),
            vial_id: v.id,
            vial_code: v.code.into(),
            status: v.status,
            lot_id: v.lot_id,
        })
        .collect();
    Ok(ApiJson(UnitContents {
        unit: UnitView::from(&contents.unit),
        children: contents.children.iter().map(UnitView::from).collect(),
        free_positions: capacity.map(|c| c.saturating_sub(occupied.len() as u32)),
        occupied,
    }))
}
