//! Signing in and out: the sign-in form (with a token of its own, so no
//! other site can sign a browser in), the session cookie it sets, and the
//! form that answers a page or form sent after its session ended.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use crate::api::extract::ClientAddress;
use crate::services::auth;
use crate::state::AppState;
use crate::web::error::sentence;
use crate::web::extract::{CsrfForm, CsrfOnly, PageUser, WebForm, roles};
use crate::web::page::shell;
use crate::web::session::{COOKIE, cookie_value, safe_next};

/// The sign-in form. It carries a token that the browser also holds in a
/// cookie of its own (SameSite=Strict), so no other site can sign a browser
/// in to an account of its choosing.
pub fn sign_in_page(
    secure_cookie: bool,
    next: &str,
    error: Option<&str>,
    username: &str,
) -> Response {
    sign_in_form(secure_cookie, next, error, username, false)
}

/// What a form sent after its session ended is answered with (401): the
/// sign-in form, saying in words that nothing was saved, and returning the
/// person to the page the form was on (`next`, a page, never the form's
/// POST route). The page's script keeps what they typed and puts it back
/// there (`keep.js`).
pub fn session_ended_page(secure_cookie: bool, next: &str) -> Response {
    let mut response = sign_in_form(secure_cookie, next, Some(SESSION_ENDED_SENT), "", true);
    *response.status_mut() = StatusCode::UNAUTHORIZED;
    response
}

/// Said when a form arrives after its session ended.
pub const SESSION_ENDED_SENT: &str = "Your session had ended, so what you sent was not saved. Sign in again: you will return to the page you were on, with what you typed put back for you to check and send.";
/// Said when a page is opened after its session ended.
pub const SESSION_ENDED: &str =
    "Your session had ended. Sign in again to return to the page you were on.";

fn sign_in_form(
    secure_cookie: bool,
    next: &str,
    error: Option<&str>,
    username: &str,
    ended: bool,
) -> Response {
    let token = crate::services::auth::new_token().unwrap_or_default();
    let token = &token[token.len().saturating_sub(32)..];
    let mut response = shell(
        "Sign in",
        None,
        sign_in_view(token, next, error, username, ended),
    )
    .into_response();
    let cookie = format!(
        "{SIGN_IN_COOKIE}={token}; Path=/sign-in; HttpOnly; SameSite=Strict; Max-Age=3600{}",
        if secure_cookie { "; Secure" } else { "" }
    );
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

fn sign_in_view(
    token: &str,
    next: &str,
    error: Option<&str>,
    username: &str,
    ended: bool,
) -> Markup {
    html! {
        h1 { "Sign in" }
        @if let Some(error) = error {
            @if ended {
                div class="msg warn" role="alert" data-session-ended="1" { (error) }
            } @else {
                div class="msg bad" role="alert" { (error) }
            }
        }
        form class="card" method="post" action="/sign-in" {
            input type="hidden" name="csrf" value=(token);
            input type="hidden" name="next" value=(next);
            label for="username" { "Username" }
            input id="username" name="username" autocomplete="username" required autofocus value=(username);
            label for="password" { "Password" }
            input id="password" name="password" type="password" autocomplete="current-password" required;
            div class="actions" { button type="submit" { "Sign in" } }
        }
        p class="muted" { "Chain of identity and custody for cell-therapy products." }
    }
}

/// The cookie holding the sign-in form's token.
pub const SIGN_IN_COOKIE: &str = "celltrail_sign_in";

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
