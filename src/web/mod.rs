//! Pages for people. For now: the API documentation at `/docs`, Swagger UI
//! served from assets vendored in a registry package (no CDN, works on a
//! closed network), reading `/api/openapi.json`.

use axum::Router;
use utoipa_swagger_ui::SwaggerUi;

use crate::state::AppState;

pub fn docs(openapi: utoipa::openapi::OpenApi) -> Router<AppState> {
    SwaggerUi::new("/docs")
        .url("/api/openapi.json", openapi)
        .into()
}
