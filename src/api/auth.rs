//! Signing in and out.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::api::extract::{ApiJson, Authorized, ClientAddress, roles};
use crate::domain::accounts::Role;
use crate::error::{AppResult, ErrorBody};
use crate::services::auth;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub user: LoginUser,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginUser {
    pub id: Uuid,
    pub username: String,
    pub full_name: String,
    pub role: Role,
}

/// Exchanges a username and password for a bearer token.
///
/// Wrong passwords slow further sign-ins down, counted per username (an
/// account or not) and per client address: after 5 failures with a name,
/// its next sign-in waits 1 s, then 2 s, 4 s … up to 1 minute; after 10
/// failures from an address, its next waits 1 s, 2 s … up to 15 minutes.
/// Failures of the last 24 hours count; a successful sign-in clears the
/// name's. While either must wait, the answer is 401 `account_locked` with
/// `Retry-After` and `details.retry_after_seconds`, the same whether the
/// name is an account or not. That an account is locked (5 wrong passwords
/// in a signed-in session) or deactivated is told only with its right
/// password.
#[utoipa::path(post, path = "/auth/login", tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in: the token, its expiry and the user", body = LoginResponse),
        (status = 400, body = ErrorBody, description = "malformed_request"),
        (status = 401, body = ErrorBody, description = "invalid_credentials, account_locked (with a Retry-After header), account_deactivated",
            headers(("Retry-After" = i64, description = "with account_locked: seconds to wait"))),
    ))]
async fn login(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    ApiJson(body): ApiJson<LoginRequest>,
) -> AppResult<ApiJson<LoginResponse>> {
    let outcome = auth::login(&state, &client, &body.username, &body.password).await?;
    let role = outcome.user.role;
    Ok(ApiJson(LoginResponse {
        token: outcome.token,
        expires_at: outcome.expires_at,
        user: LoginUser {
            id: outcome.user.id,
            username: outcome.user.username,
            full_name: outcome.user.full_name,
            role,
        },
    }))
}

/// Revokes the token used for this call.
#[utoipa::path(post, path = "/auth/logout", tag = "auth",
    security(("bearer" = [])),
    responses((status = 204, description = "Done; no body"), (status = 401, body = ErrorBody)))]
async fn logout(
    State(state): State<AppState>,
    auth: Authorized<roles::Any>,
) -> AppResult<StatusCode> {
    auth::logout(&state, auth.user.session_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
