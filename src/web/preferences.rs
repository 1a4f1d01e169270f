//! `POST /preferences/language`: the header's language buttons. The choice
//! is the person's own (kept with their account, as through `PUT
//! /api/v1/users/me/preferences`), and the page they were on comes back in
//! it.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;

use crate::domain::language::Language;
use crate::error::AppError;
use crate::i18n::{self, t};
use crate::services::preferences;
use crate::state::AppState;
use crate::web::error::PageError;
use crate::web::extract::{CsrfForm, carries_csrf};
use crate::web::page::redirect_with;
use crate::web::session::return_page;
use crate::web::user::WebUser;

#[derive(Debug, Deserialize)]
pub struct LanguageForm {
    pub csrf: String,
    pub language: String,
}

carries_csrf!(LanguageForm);

pub async fn choose_language(
    State(state): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<LanguageForm>,
) -> Result<Response, PageError> {
    let language = Language::parse(&form.language).map_err(AppError::from)?;
    preferences::choose_language(&state, user.user.user_id, language).await?;
    i18n::choose(language);
    let back = return_page(&headers, "/preferences/language");
    Ok(redirect_with(&back, true, t("language-changed")))
}
