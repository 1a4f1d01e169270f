//! The HTTP API: one small router per resource, merged here with the
//! OpenAPI document generated from the same handlers (so it cannot drift),
//! the JSON fallbacks and the request middleware.

pub mod audit;
pub mod auth;
pub mod corrections;
pub mod csv;
pub mod dates;
pub mod donors;
pub mod doses;
pub mod exports;
pub mod extract;
pub mod holds;
pub mod imports;
pub mod infusions;
pub mod labels;
pub mod lots;
pub mod openapi;
pub mod paging;
pub mod patients;
pub mod platform;
pub mod preferences;
pub mod printing;
pub mod protocol;
pub mod recall;
pub mod scan;
pub mod shipment_documents;
pub mod shipments;
pub mod signed;
pub mod sites;
pub mod storage;
pub mod temperature;
pub mod trace;
pub mod users;
pub mod vials;
pub mod withdrawals;

use axum::Router;
use axum::extract::OriginalUri;
use axum::http::{HeaderName, HeaderValue, Method, Request, Response, header};
use axum::response::IntoResponse;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::{Level, Span};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

use crate::error::AppError;
use crate::state::AppState;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

#[derive(OpenApi)]
#[openapi(
    info(
        title = "celltrail",
        description = "Chain of identity and custody for cell-therapy products."
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "platform", description = "Health and readiness"),
        (name = "auth", description = "Signing in and out"),
        (name = "users", description = "Accounts and roles"),
        (name = "donors", description = "Donors, screening, eligibility, donations and DINs"),
        (name = "lots", description = "Lots, QC, freezing, release"),
        (name = "storage", description = "Tanks, racks, boxes"),
        (name = "temperature", description = "Temperature readings of storage units, limits and excursions"),
        (name = "holds", description = "Vials held by a temperature excursion, and quality's signed decision"),
        (name = "vials", description = "Vials: location and fate"),
        (name = "labels", description = "Vial and lot labels (PNG, SVG, ZPL, PDF sheets) and label reconciliation"),
        (name = "printing", description = "Network label printers: sending labels as ZPL, recorded as issued"),
        (name = "scan", description = "Resolving a scanned label or a typed code"),
        (name = "protocol", description = "The trial's rules, versioned"),
        (name = "patients", description = "Enrolment and weights"),
        (name = "doses", description = "Dose calculation, orders, thaw, verification"),
        (name = "infusions", description = "The bedside two-scan check, infusions, adverse events"),
        (name = "trace", description = "Lot to recipients, patient to donors, donor forward; JSON or CSV"),
        (name = "audit", description = "The hash-chained custody ledger"),
        (name = "exports", description = "The sponsor's SDTM datasets (EX, AE, QS, DS) as CSV"),
        (name = "imports", description = "Bringing an existing bank in from a CSV file: dry run, upload, quality's signed acceptance, progress"),
        (name = "shipments", description = "Shipping containers; vials shipped from one site to another, handed over and received"),
        (name = "withdrawals", description = "A donor's consent withdrawn (lots and vials on hold until quality decides per lot) and a patient's withdrawal from the trial"),
        (name = "corrections", description = "Signed corrections of typed fields (a donor code, a lot's expiry, a vial's volume, a birth date, an assessment answer): the record's current value and its history"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("The token from POST /api/v1/auth/login"))
                    .build(),
            ),
        );
    }
}

/// The API routes and their OpenAPI document.
pub fn routes() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let router = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(platform::router())
        .nest(
            "/api/v1",
            OpenApiRouter::new()
                .merge(auth::router())
                .merge(users::router())
                .merge(preferences::router())
                .merge(donors::router())
                .merge(lots::router())
                .merge(storage::router())
                .merge(temperature::router())
                .merge(holds::router())
                .merge(sites::router())
                .merge(shipments::router())
                .merge(shipment_documents::router())
                .merge(vials::router())
                .merge(labels::router())
                .merge(printing::router())
                .merge(scan::router())
                .merge(protocol::router())
                .merge(patients::router())
                .merge(doses::router())
                .merge(infusions::router())
                .merge(recall::router())
                .merge(trace::router())
                .merge(audit::router())
                .merge(imports::router())
                .merge(exports::router())
                .merge(withdrawals::router())
                .merge(corrections::router()),
        );
    let (router, mut doc) = router.split_for_parts();
    openapi::complete(&mut doc);
    (router, doc)
}

/// Adds the fallbacks and middleware every route shares and binds the state.
pub fn finish(router: Router<AppState>, state: AppState) -> Router {
    router
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(request_span)
                        .on_request(())
                        .on_response(
                            DefaultOnResponse::new()
                                .level(Level::INFO)
                                .latency_unit(tower_http::LatencyUnit::Micros),
                        )
                        .on_failure(()),
                )
                .layer(PropagateRequestIdLayer::new(REQUEST_ID))
                // gzip for clients that ask (browsers): pages and JSON shrink
                // several times; images and tiny answers are left alone.
                .layer(CompressionLayer::new())
                .layer(CatchPanicLayer::custom(panic_response))
                // Records about patients and products are not for caches.
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("no-store"),
                ))
                .layer(SetResponseHeaderLayer::overriding(
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ))
                .layer(axum::middleware::map_response(page_policy))
                .layer(axum::middleware::from_fn_with_state(
                    state.clone(),
                    crate::web::page::demo_scope,
                ))
                .layer(axum::middleware::from_fn(refuse_nul_in_uri)),
        )
        .with_state(state)
}

/// An API path or query holding U+0000 (`%00`) names nothing and can be
/// kept nowhere: refused before any route sees it. (Pages read their
/// queries leniently: the scan page says such a payload is malformed.)
async fn refuse_nul_in_uri(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response<axum::body::Body> {
    if request.uri().path().starts_with("/api/")
        && request
            .uri()
            .path_and_query()
            .is_some_and(|pq| pq.as_str().contains("%00"))
    {
        return AppError::MalformedRequest(crate::error::NUL_REFUSED.into()).into_response();
    }
    next.run(request).await
}

/// Pages get a Content-Security-Policy and are never framed.
async fn page_policy(
    OriginalUri(uri): OriginalUri,
    mut response: Response<axum::body::Body>,
) -> Response<axum::body::Body> {
    let html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/html"));
    if html {
        let policy = if uri.path().starts_with("/docs") {
            crate::web::DOCS_POLICY
        } else {
            crate::web::PAGE_POLICY
        };
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(policy),
        );
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    response
}

fn request_span<B>(request: &Request<B>) -> Span {
    let request_id = request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        request_id = %request_id,
    )
}

/// Unknown paths: the JSON error body, or a page for a browser asking for
/// HTML outside `/api`.
async fn route_not_found(
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: axum::http::HeaderMap,
) -> Response<axum::body::Body> {
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    if uri.path().starts_with("/api") || !wants_html {
        return AppError::RouteNotFound {
            method: method.to_string(),
            path: uri.path().to_owned(),
        }
        .into_response();
    }
    crate::web::page::error_page(
        axum::http::StatusCode::NOT_FOUND,
        "No such page",
        "There is no page at this address. Start again from the home page.",
    )
}

async fn method_not_allowed(method: Method, OriginalUri(uri): OriginalUri) -> AppError {
    AppError::MethodNotAllowed {
        method: method.to_string(),
        path: uri.path().to_owned(),
    }
}

fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response<axum::body::Body> {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    AppError::internal(anyhow::anyhow!("handler panicked: {message}")).into_response()
}
