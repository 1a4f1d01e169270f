//! The signed-in person's own settings: the language of their pages.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::extract::{ApiJson, Authorized, roles};
use crate::domain::language::Language;
use crate::error::{AppResult, ErrorBody};
use crate::services::preferences;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(my_preferences, set_my_preferences))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Preferences {
    /// The language of this person's pages.
    pub language: Language,
    /// Whether they chose it; otherwise it is the site's default
    /// (`CELLTRAIL_LANGUAGE`) until they do.
    pub chosen: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPreferences {
    /// `en` or `zh-CN`.
    #[schema(example = "zh-CN")]
    pub language: String,
}

/// The signed-in person's settings.
#[utoipa::path(get, path = "/users/me/preferences", tag = "users", security(("bearer" = [])),
    responses((status = 200, description = "The settings", body = Preferences), (status = 401, body = ErrorBody)))]
async fn my_preferences(
    State(state): State<AppState>,
    auth: Authorized<roles::Any>,
) -> AppResult<ApiJson<Preferences>> {
    let chosen = preferences::language(&state, auth.user.user_id).await?;
    Ok(ApiJson(Preferences {
        language: chosen.unwrap_or(state.settings.language),
        chosen: chosen.is_some(),
    }))
}

/// Chooses the language of the signed-in person's pages.
#[utoipa::path(put, path = "/users/me/preferences", tag = "users", security(("bearer" = [])),
    request_body = SetPreferences,
    responses((status = 200, description = "The settings, as chosen", body = Preferences), (status = 401, body = ErrorBody),
        (status = 400, body = ErrorBody), (status = 422, body = ErrorBody, description = "invalid_field: a language other than en or zh-CN")))]
async fn set_my_preferences(
    State(state): State<AppState>,
    auth: Authorized<roles::Any>,
    ApiJson(body): ApiJson<SetPreferences>,
) -> AppResult<ApiJson<Preferences>> {
    let language = Language::parse(&body.language)?;
    preferences::choose_language(&state, auth.user.user_id, language).await?;
    Ok(ApiJson(Preferences {
        language,
        chosen: true,
    }))
}
