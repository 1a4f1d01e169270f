//! Signing in and out: the sign-in form's token checked against its own
//! cookie (so no other site can sign a browser in), the session cookie set
//! and cleared. The form itself is a page (`page::sign_in_page`).

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::api::extract::ClientAddress;
use crate::services::auth;
use crate::state::AppState;
use crate::web::error::sentence;
use crate::web::extract::{CsrfForm, CsrfOnly, PageUser, WebForm, roles};
use crate::web::page::{SIGN_IN_COOKIE, sign_in_page};
use crate::web::session::{COOKIE, cookie_value, safe_next};

/// The cookie carrying `token`, or clearing it.
fn cookie(state: &AppState, token: Option<&str>) -> HeaderValue {
    let secure = if state.settings.cookie_secure {
        "; Secure"
    } else {
        ""
    };
    let value = match token {
        Some(token) => format!(
            "{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
            state.settings.token_ttl.as_secs()
        ),
        None => format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}"),
    };
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static(""))
}

#[derive(Debug, Deserialize)]
pub struct SignIn {
    pub username: String,
    pub password: String,
    #[serde(default)]
    pub next: String,
    /// The sign-in form's token, which must match its cookie.
    #[serde(default)]
    pub csrf: String,
}

pub async fn sign_in(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    headers: HeaderMap,
    WebForm(form): WebForm<SignIn>,
) -> Response {
    let secure = state.settings.cookie_secure;
    // The form's token must be the one this browser was given with it.
    let expected = cookie_value(&headers, SIGN_IN_COOKIE).unwrap_or("");
    if expected.is_empty() || expected.as_bytes() != form.csrf.as_bytes() {
        let mut response = sign_in_page(
            secure,
            safe_next(&form.next),
            Some("The sign-in form had expired. Enter your username and password again."),
            form.username.trim(),
        );
        *response.status_mut() = StatusCode::FORBIDDEN;
        return response;
    }
    match auth::login(&state, &client, form.username.trim(), &form.password).await {
        Ok(outcome) => {
            let mut response = Redirect::to(safe_next(&form.next)).into_response();
            response
                .headers_mut()
                .insert(header::SET_COOKIE, cookie(&state, Some(&outcome.token)));
            response
        }
        Err(error) => {
            let status = error.status();
            let mut response = sign_in_page(
                secure,
                safe_next(&form.next),
                Some(&sentence(&error, state.settings.timezone)),
                &form.username,
            );
            *response.status_mut() = status;
            response
        }
    }
}

pub async fn sign_out(
    State(state): State<AppState>,
    user: PageUser<roles::Any>,
    CsrfForm(_): CsrfForm<CsrfOnly>,
) -> Response {
    let _ = auth::logout(&state, user.user.session_id).await;
    let mut response = Redirect::to("/").into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, cookie(&state, None));
    response
}
