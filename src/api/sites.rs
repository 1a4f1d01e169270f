//! Sites (issue 15): where cells are made, kept and given, and who works
//! at each. Anyone signed in reads them; the administrator adds sites and
//! says who works where.

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
use crate::domain::site::{NewSite, SiteKind};
use crate::entities::site;
use crate::error::{AppResult, ErrorBody};
use crate::services::{lists, sites};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_sites, create_site))
        .routes(routes!(get_site))
        .routes(routes!(user_sites, grant_site))
        .routes(routes!(revoke_site))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SiteView {
    pub id: Uuid,
    pub name: String,
    /// `manufacturing`, `clinical`, `storage` or `combined`.
    pub kind: SiteKind,
    /// The ISBT 128 facility identification number (5 characters).
    pub facility_code: String,
    /// IANA name of the zone the site's people read times in.
    pub time_zone: String,
    /// The default site: every record made before sites existed is here.
    pub default: bool,
    pub created_at: DateTime<Utc>,
}

impl From<site::Model> for SiteView {
    fn from(site: site::Model) -> Self {
        SiteView {
            default: site.id == crate::domain::site::DEFAULT_SITE_ID,
            id: site.id,
            name: site.name,
            kind: site.kind,
            facility_code: site.facility_code,
            time_zone: site.time_zone,
            created_at: site.created_at,
        }
    }
}

page_of!(SitePage => SiteView);

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SiteList {
    /// A facility code, or the start of one.
    pub q: Option<String>,
    /// Items in the page: 1 to 500, default 50.
    pub limit: Option<u64>,
    /// The `next_cursor` of the page before.
    pub cursor: Option<String>,
}

/// Sites by facility code, a page at a time (anyone signed in).
#[utoipa::path(get, path = "/sites", tag = "sites", security(("bearer" = [])),
    params(SiteList),
    responses((status = 200, description = "A page of sites, by facility code", body = SitePage),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "invalid_field: q, limit or cursor")))]
async fn list_sites(
    State(state): State<AppState>,
    _auth: Authorized<roles::Any>,
    ApiQuery(query): ApiQuery<SiteList>,
) -> AppResult<ApiJson<SitePage>> {
    let page = page_request(query.q.as_deref(), query.limit, query.cursor.as_deref())?;
    Ok(ApiJson(
        lists::sites(&state, &page)
            .await?
            .map(SiteView::from)
            .into(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSite {
    /// 1 to 100 characters, unique.
    pub name: String,
    /// `manufacturing`, `clinical`, `storage` or `combined`.
    pub kind: String,
    /// The ISBT 128 facility identification number ICCBBA assigned:
    /// a capital letter and 4 capitals or digits, unique.
    pub facility_code: String,
    /// An IANA time zone name (`Asia/Shanghai`).
    pub time_zone: String,
}

/// Adds a site (administrator).
#[utoipa::path(post, path = "/sites", tag = "sites", security(("bearer" = [])),
    request_body = CreateSite,
    responses((status = 201, description = "Created: the site", body = SiteView),
        (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "site_taken: the name or facility code is another site's"),
        (status = 422, body = ErrorBody, description = "invalid_field")))]
async fn create_site(
    State(state): State<AppState>,
    auth: Authorized<roles::Admin>,
    ApiJson(body): ApiJson<CreateSite>,
) -> AppResult<(StatusCode, ApiJson<SiteView>)> {
    let new = NewSite::parse(&body.name, &body.kind, &body.facility_code, &body.time_zone)?;
    let site = sites::create(&state, &auth.user.actor(), new).await?;
    Ok((StatusCode::CREATED, ApiJson(site.into())))
}

/// One site.
#[utoipa::path(get, path = "/sites/{id}", tag = "sites", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "The site", body = SiteView),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_site(
    State(state): State<AppState>,
    _auth: Authorized<roles::Any>,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<ApiJson<SiteView>> {
    Ok(ApiJson(sites::get(&state, id).await?.into()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserSites {
    pub user_id: Uuid,
    /// The sites the account works at now.
    pub sites: Vec<SiteView>,
}

/// The sites an account works at (administrator).
#[utoipa::path(get, path = "/users/{id}/sites", tag = "sites", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "The account's sites", body = UserSites),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn user_sites(
    State(state): State<AppState>,
    _auth: Authorized<roles::Admin>,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<ApiJson<UserSites>> {
    crate::services::accounts::get(&state, id).await?;
    answer(&state, id).await.map(ApiJson)
}

async fn answer(state: &AppState, user_id: Uuid) -> AppResult<UserSites> {
    let mine = sites::of_user(state, user_id).await?;
    let sites = sites::list(state)
        .await?
        .into_iter()
        .filter(|s| mine.contains(&s.id))
        .map(SiteView::from)
        .collect();
    Ok(UserSites { user_id, sites })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantSite {
    pub site_id: Uuid,
}

/// Lets an account work at a site (administrator).
#[utoipa::path(post, path = "/users/{id}/sites", tag = "sites", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = GrantSite,
    responses((status = 200, description = "The account's sites now", body = UserSites),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "invalid_field: the account already works there")))]
async fn grant_site(
    State(state): State<AppState>,
    auth: Authorized<roles::Admin>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<GrantSite>,
) -> AppResult<ApiJson<UserSites>> {
    sites::grant(&state, &auth.user.actor(), id, body.site_id).await?;
    answer(&state, id).await.map(ApiJson)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeSite {
    /// Why the account no longer works there.
    pub reason: String,
}

/// Ends an account's work at a site (administrator), with the reason.
#[utoipa::path(post, path = "/users/{id}/sites/{site_id}/revoke", tag = "sites", security(("bearer" = [])),
    params(("id" = Uuid, Path), ("site_id" = Uuid, Path)), request_body = RevokeSite,
    responses((status = 200, description = "The account's sites now", body = UserSites),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "invalid_field: the account does not work there, or no reason")))]
async fn revoke_site(
    State(state): State<AppState>,
    auth: Authorized<roles::Admin>,
    ApiPath((id, site_id)): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<RevokeSite>,
) -> AppResult<ApiJson<UserSites>> {
    sites::revoke(&state, &auth.user.actor(), id, site_id, &body.reason).await?;
    answer(&state, id).await.map(ApiJson)
}
