//! Pages for people: a plain, server-rendered staff UI (sign-in, home by
//! role, the scan station, vial, lot, storage, patient, dose worksheet,
//! bedside and trace pages) made from the same services as the API, with a
//! little vanilla JavaScript where it helps; and the API documentation at
//! `/docs` (Swagger UI from assets vendored in a registry package).

pub mod accounts;
pub mod clinic;
pub mod corrections;
pub mod donors;
pub mod error;
pub mod exports;
pub mod extract;
pub mod history;
pub mod home;
pub mod imports;
pub mod inventory;
pub mod lab;
pub mod lists;
pub mod outcomes;
pub mod page;
pub mod preferences;
pub mod printing;
pub mod protocol;
pub mod recall_notice;
pub mod refusals;
pub mod scan;
pub mod search;
pub mod session;
pub mod shipments;
pub mod sign_in;
pub mod site_choice;
pub mod trace;
pub mod user;
pub mod withdrawals;

use axum::Router;
use axum::routing::{get, post};
use utoipa_swagger_ui::SwaggerUi;

use crate::state::AppState;

pub fn docs(openapi: utoipa::openapi::OpenApi) -> Router<AppState> {
    Router::from(SwaggerUi::new("/docs").url("/api/openapi.json", openapi))
        .layer(axum::middleware::map_response(docs_not_found))
}

/// An unknown file under `/docs` answers as every unknown path does: the
/// JSON error body, not an empty 404.
async fn docs_not_found(
    method: axum::http::Method,
    axum::extract::OriginalUri(uri): axum::extract::OriginalUri,
    response: axum::response::Response,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if response.status() == axum::http::StatusCode::NOT_FOUND {
        return crate::error::AppError::RouteNotFound {
            method: method.to_string(),
            path: uri.path().to_owned(),
        }
        .into_response();
    }
    response
}

/// The staff pages.
pub fn pages() -> Router<AppState> {
    Router::new()
        .route("/", get(home::home))
        .route("/sign-in", post(sign_in::sign_in))
        .route("/sign-out", post(sign_in::sign_out))
        .route("/ledger/verify", post(home::verify_ledger))
        .route("/accounts/{id}/unlock", post(accounts::unlock))
        .route("/scan", get(scan::station))
        .route("/vials/{id}", get(inventory::vial::vial_page))
        .route("/vials/{id}/store", post(scan::store))
        .route("/vials/{id}/discard", post(scan::discard))
        .route("/lots/{id}", get(inventory::lot::lot_page))
        .route("/lots/{id}/outcomes", get(outcomes::lot_outcomes))
        .route(
            "/lots/{id}/recall-notice",
            get(recall_notice::recall_notice),
        )
        .route("/lots/{id}/{action}", post(inventory::lot::lot_decision))
        .route(
            "/lots/{id}/qc/{result_id}/investigation",
            post(inventory::lot::qc_investigation),
        )
        .route("/stock", get(inventory::expiry::stock_page))
        .route("/storage", get(inventory::storage::storage_root))
        .route("/storage/{id}", get(inventory::storage::storage_page))
        .route(
            "/holds/{id}/{action}",
            post(inventory::temperature::hold_decision),
        )
        .route("/patients", get(lists::patient_list))
        .route("/lots", get(lists::lot_list))
        .route("/vials", get(lists::vial_list))
        .route("/doses", get(lists::dose_list))
        .route("/donors", get(lists::donor_list))
        .route("/search", get(search::search))
        .route("/preferences/language", post(preferences::choose_language))
        .route("/patients/{id}", get(clinic::patient::patient_page))
        .route(
            "/patients/{id}/weights",
            post(clinic::weights::record_weight),
        )
        .route(
            "/patients/{id}/weights/{weight_id}/void",
            post(clinic::weights::void_weight),
        )
        .route(
            "/patients/{id}/dose",
            get(clinic::worksheet::worksheet).post(clinic::worksheet::reserve),
        )
        .route("/doses/{id}", get(clinic::dose::dose_page))
        .route("/doses/{id}/thaw", post(clinic::preparation::thaw))
        .route("/doses/{id}/verify", post(clinic::preparation::verify))
        .route("/doses/{id}/cancel", post(clinic::preparation::cancel))
        .route(
            "/doses/{id}/replace-vial",
            post(clinic::preparation::replace_vial),
        )
        .route("/doses/{id}/late-entry", post(clinic::bedside::late_entry))
        .route(
            "/doses/{id}/bedside",
            get(clinic::bedside::bedside).post(clinic::bedside::bedside_check),
        )
        .route("/infusions/{id}/complete", post(clinic::bedside::complete))
        .route("/trace/lots/{id}", get(trace::lot_trace))
        .route("/assets/scan.js", get(|| script(scan::CAMERA)))
        .route(
            "/assets/bedside.js",
            get(|| script(clinic::bedside::BEDSIDE)),
        )
        .route("/assets/keep.js", get(|| script(KEEP)))
        .route("/assets/print.js", get(|| script(PRINT)))
        .merge(donors::routes())
        .merge(lab::routes())
        .merge(clinic::routes())
        .merge(accounts::routes())
        .merge(protocol::routes())
        .merge(printing::routes())
        .merge(shipments::routes())
        .merge(imports::routes())
        .merge(exports::routes())
        .merge(withdrawals::routes())
        .merge(corrections::routes())
}

/// Keeps a form's entry through a session that ended (every page loads it).
const KEEP: &str = include_str!("keep.js");

/// Prints the page from a button (the recall notice).
const PRINT: &str = include_str!("print.js");

/// The pages' scripts are files of the site, never inline: the pages'
/// Content-Security-Policy allows scripts from the site only.
pub(crate) async fn script(source: &'static str) -> impl axum::response::IntoResponse {
    (
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/javascript; charset=utf-8",
            ),
            (axum::http::header::CACHE_CONTROL, "max-age=3600"),
        ],
        source,
    )
}

/// What every page answers with, besides its body: scripts, styles, images
/// and forms from this site only, never framed by another.
pub const PAGE_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The API documentation's page runs Swagger UI's own scripts; it may not
/// be framed either.
pub const DOCS_POLICY: &str = "frame-ancestors 'none'";
