//! Accounts: who am I, create, list, deactivate, reactivate and unlock
//! (signed), change my own password.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::api::extract::{ApiJson, ApiPath, Authorized, roles};
use crate::api::signed::SignedReason;
use crate::domain::accounts::Role;
use crate::entities::user;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::services::accounts::{self, NewAccount};
use crate::services::auth;
use crate::services::signatures;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(me))
        .routes(routes!(change_my_password))
        .routes(routes!(create_user, list_users))
        .routes(routes!(get_user))
        .routes(routes!(deactivate_user))
        .routes(routes!(reactivate_user))
        .routes(routes!(unlock_user))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: Uuid,
    pub username: String,
    pub full_name: String,
    pub role: Role,
    pub active: bool,
    pub locked_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<user::Model> for UserView {
    type Error = AppError;

    fn try_from(account: user::Model) -> AppResult<Self> {
        Ok(UserView {
            role: account.role,
            id: account.id,
            username: account.username,
            full_name: account.full_name,
            active: account.active,
            locked_until: account.locked_until,
            created_at: account.created_at,
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    /// 3-64 characters: lower-case letters, digits, `.`, `_`, `-`.
    pub username: String,
    pub full_name: String,
    pub role: Role,
    /// At least 10 characters.
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    pub current_password: String,
    pub new_password: String,
}

/// The signed-in user.
#[utoipa::path(get, path = "/users/me", tag = "users", security(("bearer" = [])),
    responses((status = 200, description = "The account", body = UserView), (status = 401, body = ErrorBody)))]
async fn me(auth: Authorized<roles::Any>) -> ApiJson<UserView> {
    let user = auth.user;
    ApiJson(UserView {
        id: user.user_id,
        username: user.username,
        full_name: user.full_name,
        role: user.role,
        active: true,
        locked_until: user.locked_until,
        created_at: user.created_at,
    })
}

/// Changes the caller's own password; their other sessions end.
#[utoipa::path(post, path = "/users/me/password", tag = "users", security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses((status = 204, description = "Done; no body"), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn change_my_password(
    State(state): State<AppState>,
    auth: Authorized<roles::Any>,
    ApiJson(body): ApiJson<ChangePasswordRequest>,
) -> AppResult<StatusCode> {
    auth::change_password(
        &state,
        &auth.user,
        &body.current_password,
        &body.new_password,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Creates an account (admin).
#[utoipa::path(post, path = "/users", tag = "users", security(("bearer" = [])),
    request_body = CreateUserRequest,
    responses(
        (status = 201, description = "Created: the account", body = UserView),
        (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "username_taken"),
        (status = 422, body = ErrorBody, description = "invalid_field, weak_password"),
    ))]
async fn create_user(
    State(state): State<AppState>,
    auth: Authorized<roles::Admin>,
    ApiJson(body): ApiJson<CreateUserRequest>,
) -> AppResult<(StatusCode, ApiJson<UserView>)> {
    let account = accounts::create(
        &state,
        &auth.user.actor(),
        NewAccount {
            username: &body.username,
            full_name: &body.full_name,
            role: body.role.as_str(),
            password: &body.password,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, ApiJson(account.try_into()?)))
}

/// Every account (admin).
#[utoipa::path(get, path = "/users", tag = "users", security(("bearer" = [])),
    responses((status = 200, description = "Every account", body = Vec<UserView>), (status = 403, body = ErrorBody)))]
async fn list_users(
    State(state): State<AppState>,
    _auth: Authorized<roles::Admin>,
) -> AppResult<ApiJson<Vec<UserView>>> {
    let accounts = accounts::list(&state).await?;
    Ok(ApiJson(
        accounts
            .into_iter()
            .map(UserView::try_from)
            .collect::<AppResult<_>>()?,
    ))
}

/// One account (admin).
#[utoipa::path(get, path = "/users/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "The account", body = UserView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_user(
    State(state): State<AppState>,
    _auth: Authorized<roles::Admin>,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<ApiJson<UserView>> {
    Ok(ApiJson(accounts::get(&state, id).await?.try_into()?))
}

/// Deactivates an account (admin, signed): it can no longer sign in and its
/// sessions end. Its records and signatures stay.
#[utoipa::path(post, path = "/users/{id}/deactivate", tag = "users", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = SignedReason,
    responses(
        (status = 200, description = "The account", body = UserView),
        (status = 401, body = ErrorBody, description = "signature_invalid"),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "account_already_in_state"),
        (status = 422, body = ErrorBody, description = "last_administrator, invalid_field"),
    ))]
async fn deactivate_user(
    State(state): State<AppState>,
    auth: Authorized<roles::Admin>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<SignedReason>,
) -> AppResult<ApiJson<UserView>> {
    let signature = signatures::verify(&state, &auth.user, &body.signature).await?;
    let account = accounts::set_active(&state, &signature, id, false, &body.reason).await?;
    Ok(ApiJson(account.try_into()?))
}

/// Reactivates an account (admin, signed).
#[utoipa::path(post, path = "/users/{id}/reactivate", tag = "users", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = SignedReason,
    responses(
        (status = 200, description = "The account", body = UserView),
        (status = 401, body = ErrorBody, description = "signature_invalid"),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "account_already_in_state"),
    ))]
async fn reactivate_user(
    State(state): State<AppState>,
    auth: Authorized<roles::Admin>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<SignedReason>,
) -> AppResult<ApiJson<UserView>> {
    let signature = signatures::verify(&state, &auth.user, &body.signature).await?;
    let account = accounts::set_active(&state, &signature, id, true, &body.reason).await?;
    Ok(ApiJson(account.try_into()?))
}

/// Unlocks an account (admin, signed): ends a lock (5 wrong passwords in a
/// signed-in session) and clears the failed sign-ins that slow its username
/// down, so its owner can sign in at once. Recorded as `user.unlocked`.
#[utoipa::path(post, path = "/users/{id}/unlock", tag = "users", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = SignedReason,
    responses(
        (status = 200, description = "the account, unlocked: its failed sign-ins are cleared", body = UserView),
        (status = 401, body = ErrorBody, description = "signature_invalid"),
        (status = 403, body = ErrorBody, description = "not an administrator"),
        (status = 404, body = ErrorBody, description = "no such account"),
        (status = 409, body = ErrorBody, description = "account_not_locked"),
        (status = 422, body = ErrorBody, description = "invalid_field"),
    ))]
async fn unlock_user(
    State(state): State<AppState>,
    auth: Authorized<roles::Admin>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<SignedReason>,
) -> AppResult<ApiJson<UserView>> {
    let signature = signatures::verify(&state, &auth.user, &body.signature).await?;
    let account = accounts::unlock(&state, &signature, id, &body.reason).await?;
    Ok(ApiJson(account.try_into()?))
}
