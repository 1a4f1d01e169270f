//! What page handlers take from a request: the signed-in person admitted
//! by the route's roles ([`PageUser<roles::Pharmacist>`]), a form checked
//! against the session's CSRF token ([`CsrfForm`]), and forms and query
//! strings whose rejections are pages, never JSON.
//!
//! The roles are the API's (`api::extract::roles`): a page and its API
//! route admit the same people.

use std::marker::PhantomData;
use std::ops::Deref;

use axum::extract::rejection::FormRejection;
use axum::extract::{FromRequest, FromRequestParts};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::api::extract::RoleSet;
pub use crate::api::extract::roles;
use crate::i18n::t;
use crate::services::form_sendings;
use crate::services::signatures::{self, SignatureInput, VerifiedSignature};
use crate::state::AppState;
use crate::web::error::{OrBack, PageError, Refused};
use crate::web::page::error_page;
use crate::web::session::safe_next;
use crate::web::session::session_token;
use crate::web::user::{WebUser, csrf_matches, form_token};

/// The signed-in person of a page or form, admitted by the role set `R`
/// (by default the staff who work with products and patients). Another
/// role is answered with the "Not for your role" page (403); no session,
/// with the sign-in form (see [`WebUser`]).
#[derive(Debug)]
pub struct PageUser<R: RoleSet = roles::Staff> {
    user: WebUser,
    roles: PhantomData<R>,
}

impl<R: RoleSet> Deref for PageUser<R> {
    type Target = WebUser;

    fn deref(&self) -> &WebUser {
        &self.user
    }
}

impl<R: RoleSet> FromRequestParts<AppState> for PageUser<R> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let user = WebUser::from_request_parts(parts, state).await?;
        if !R::ROLES.contains(&user.user.role) {
            return Err(Refused::role(user.user.role, R::ROLES).into_response());
        }
        Ok(PageUser {
            user,
            roles: PhantomData,
        })
    }
}

impl<R: RoleSet> PageUser<R> {
    /// Checks the electronic signature a form carries: the signer's own
    /// password again and what the signature means. A signature refused
    /// sends the form back to `back`, saying why.
    pub async fn sign(
        &self,
        state: &AppState,
        password: String,
        meaning: String,
        back: &str,
    ) -> Result<VerifiedSignature, PageError> {
        let input = SignatureInput { password, meaning };
        signatures::verify(state, &self.user.user, &input)
            .await
            .or_back(back, self.user.zone)
    }
}

/// A form that carries the CSRF token of the session that sent it.
pub trait CarriesCsrf {
    fn csrf(&self) -> &str;
}

/// Forms whose `csrf` field is the session's token.
macro_rules! carries_csrf {
    ($($form:ty),+ $(,)?) => {
        $(impl $crate::web::extract::CarriesCsrf for $form {
            fn csrf(&self) -> &str {
                &self.csrf
            }
        })+
    };
}
pub(crate) use carries_csrf;

/// A form of name-value pairs (the counts form, whose fields are numbered).
impl CarriesCsrf for Vec<(String, String)> {
    fn csrf(&self) -> &str {
        self.iter()
            .find(|(name, _)| name == "csrf")
            .map_or("", |(_, value)| value.as_str())
    }
}

/// A form with nothing but its token (sign out, reserve, verify the ledger).
#[derive(Debug, Deserialize)]
pub struct CsrfOnly {
    pub csrf: String,
}

carries_csrf!(CsrfOnly);

/// [`WebForm`] whose CSRF token is the session's; any other token is
/// answered with the "This form has expired" page (403), and nothing is
/// done. Put it after the [`PageUser`] that admits the session.
#[derive(Debug)]
pub struct CsrfForm<T>(pub T);

impl<T> FromRequest<AppState> for CsrfForm<T>
where
    T: serde::de::DeserializeOwned + CarriesCsrf + Send,
{
    type Rejection = Response;

    async fn from_request(
        request: axum::extract::Request,
        state: &AppState,
    ) -> Result<Self, Response> {
        let token = session_token(request.headers()).map(str::to_owned);
        let referer = request
            .headers()
            .get(axum::http::header::REFERER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let WebForm(form) = WebForm::<T>::from_request(request, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let session = match token {
            Some(token) if csrf_matches(&token, form.csrf()) => token,
            _ => return Err(Refused::form_expired().into_response()),
        };
        // a form sent a second time is not done a second time
        if let Some(once) = form_token(form.csrf()) {
            let user = crate::services::auth::authenticate(state, &session)
                .await
                .map_err(|e| PageError::from(e).into_response())?;
            let first = form_sendings::first_sending(state, user.user_id, once)
                .await
                .map_err(|e| PageError::from(e).into_response())?;
            if !first {
                return Err(sent_twice(referer.as_deref()));
            }
        }
        Ok(CsrfForm(form))
    }
}

/// The answer to a form's second sending: nothing was done, and where to
/// see what the first sending did.
fn sent_twice(referer: Option<&str>) -> Response {
    let back = referer
        .and_then(|r| r.find("://").map(|at| &r[at + 3..]))
        .and_then(|rest| rest.find('/').map(|at| &rest[at..]))
        .map(safe_next)
        .unwrap_or("/");
    let mut page = error_page(
        StatusCode::CONFLICT,
        &t("refused-sent-twice-title"),
        &t("refused-sent-twice"),
    );
    if let Ok(value) = axum::http::HeaderValue::from_str(back) {
        page.headers_mut().insert("x-celltrail-back", value);
    }
    page
}

/// `axum::Form`, with rejections shown as a page.
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Form), rejection(FormError))]
pub struct WebForm<T>(pub T);

pub struct FormError(FormRejection);

impl From<FormRejection> for FormError {
    fn from(rejection: FormRejection) -> Self {
        FormError(rejection)
    }
}

impl IntoResponse for FormError {
    fn into_response(self) -> Response {
        if self.0.status() == StatusCode::PAYLOAD_TOO_LARGE {
            let mut page = error_page(
                StatusCode::PAYLOAD_TOO_LARGE,
                "The form is too large",
                "What was sent is larger than any form of this site. Go back and check what was pasted into it.",
            );
            // the rest of the body is never read: the connection is done
            page.headers_mut().insert(
                axum::http::header::CONNECTION,
                axum::http::HeaderValue::from_static("close"),
            );
            return page;
        }
        error_page(
            StatusCode::BAD_REQUEST,
            "The form could not be read",
            &format!("{}. Go back and check the fields.", self.0.body_text()),
        )
    }
}

/// The query string, or its defaults when it cannot be read (a page never
/// fails on a mangled message parameter).
pub struct WebQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for WebQuery<T>
where
    T: serde::de::DeserializeOwned + Default + Send,
    S: Send + Sync,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        let query = axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| q.0)
            .unwrap_or_default();
        Ok(WebQuery(query))
    }
}
