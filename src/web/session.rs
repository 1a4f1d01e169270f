//! Browser sessions: the same opaque, hashed, expiring session tokens as
//! the API, carried in a cookie (HttpOnly, SameSite=Strict, Secure by
//! default) and revoked at sign-out; a page without one goes to the
//! sign-in form, a form without one is answered with it.

use axum::extract::{FromRequestParts, OriginalUri};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum::response::{IntoResponse, Redirect, Response};

use crate::domain::accounts::Role;
use crate::i18n;
use crate::services::{auth, preferences};
use crate::state::AppState;
use crate::web::error::Refused;
use crate::web::page;
use crate::web::user::WebUser;

pub const COOKIE: &str = "celltrail_session";

/// The session token of a request's cookie.
pub fn session_token(headers: &HeaderMap) -> Option<&str> {
    cookie_value(headers, COOKIE)
}

/// The value of the cookie `name` a request carries, when not empty.
pub fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(found, _)| *found == name)
        .map(|(_, value)| value.trim())
        .filter(|v| !v.is_empty())
}

impl FromRequestParts<AppState> for WebUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let here = parts
            .extensions
            .get::<OriginalUri>()
            .map(|u| u.0.to_string())
            .unwrap_or_else(|| parts.uri.to_string());
        // Not signed in: a page goes to the sign-in form and back; a form
        // is answered with the sign-in form at once, returning to the page
        // it was sent from (never to its POST route), with what was typed
        // kept by the page's script. A session that ended says so.
        let sign_in = |ended: bool| {
            if parts.method != Method::GET && parts.method != Method::HEAD {
                let back = return_page(&parts.headers, parts.uri.path());
                return page::session_ended_page(state.settings.cookie_secure, &back);
            }
            let mut to = format!("/?next={}", page::url_encode(&here));
            if ended {
                to.push_str("&error=");
                to.push_str(&page::url_encode(page::SESSION_ENDED));
            }
            Redirect::to(&to).into_response()
        };
        let Some(token) = session_token(&parts.headers) else {
            return Err(sign_in(false));
        };
        let user = match auth::authenticate(state, token).await {
            // times in the zone of the person's sites
            Ok(user) => {
                let zone = crate::services::sites::zone_of_user(state, user.user_id)
                    .await
                    .unwrap_or(state.settings.timezone);
                WebUser::from_parts(user, token, zone)
            }
            Err(_) => return Err(sign_in(true)),
        };
        speak_their_language(state, &user).await;
        // The administrator manages accounts, nothing else: no product,
        // patient or trace page (as on the API).
        let path = parts.uri.path();
        if user.user.role == Role::Admin
            && path != "/sign-out"
            && path != "/accounts"
            && !path.starts_with("/accounts/")
            && !path.starts_with("/preferences/")
        {
            return Err(Refused::administrator().into_response());
        }
        Ok(user)
    }
}

/// The signed-in person's own language, when they chose one, for the rest
/// of the page (else the browser's, else the site's: `page::demo_scope`).
pub async fn speak_their_language(state: &AppState, user: &WebUser) {
    if let Ok(Some(language)) = preferences::language(state, user.user.user_id).await {
        i18n::choose(language);
    }
}

/// The page a form was sent from: the `Referer` when it is a page of this
/// site, else the record's page its route belongs to (`/doses/{id}/thaw` is
/// sent from `/doses/{id}`), else home. Never a POST route.
pub fn return_page(headers: &HeaderMap, form_path: &str) -> String {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let referred = headers
        .get(header::REFERER)
        .and_then(|r| r.to_str().ok())
        .and_then(|r| r.split_once("://"))
        .and_then(|(_, rest)| {
            let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            (Some(authority) == host && !path.is_empty()).then_some(path)
        })
        .map(safe_next)
        .filter(|path| *path != form_path);
    if let Some(path) = referred {
        return path.to_owned();
    }
    let segments: Vec<&str> = form_path.trim_start_matches('/').split('/').collect();
    match segments.as_slice() {
        // pages that take their own form
        ["patients", _, "dose"] | ["doses", _, "bedside"] => safe_next(form_path).to_owned(),
        [
            kind @ ("vials" | "lots" | "patients" | "doses" | "storage"),
            id,
            ..,
        ] => safe_next(&format!("/{kind}/{id}")).to_owned(),
        _ => "/".to_owned(),
    }
}

/// Only paths of this site: never `//elsewhere`, `https://…`, or a path a
/// browser would turn into one (browsers drop tabs and line breaks, and
/// read `\\` as `/`: `/\t/evil.example` is `//evil.example`). A path is
/// visible ASCII without a backslash; anything else goes home.
pub fn safe_next(next: &str) -> &str {
    let visible = next
        .bytes()
        .all(|b| (0x21..=0x7e).contains(&b) && b != b'\\');
    if visible && next.starts_with('/') && !next.starts_with("//") {
        next
    } else {
        "/"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; celltrail_session=abc; b=2"),
        );
        assert_eq!(session_token(&headers), Some("abc"));
        let mut empty = HeaderMap::new();
        empty.insert(
            header::COOKIE,
            HeaderValue::from_static("celltrail_session="),
        );
        assert_eq!(session_token(&empty), None);
    }

    #[test]
    fn a_form_sent_after_the_session_ended_returns_to_its_page() {
        let headers = |referer: Option<&str>| {
            let mut h = HeaderMap::new();
            h.insert(header::HOST, HeaderValue::from_static("lab.example:8080"));
            if let Some(r) = referer {
                h.insert(header::REFERER, HeaderValue::from_str(r).unwrap());
            }
            h
        };
        // the page it was on, query and all
        assert_eq!(
            return_page(
                &headers(Some("http://lab.example:8080/scan?q=CT1:V:X")),
                "/vials/1/store"
            ),
            "/scan?q=CT1:V:X"
        );
        // another site's page, or the POST route itself: the record's page
        for referer in [
            Some("https://evil.example/patients/7"),
            Some("http://lab.example:8080/doses/9/thaw"),
            Some("garbage"),
            None,
        ] {
            assert_eq!(return_page(&headers(referer), "/doses/9/thaw"), "/doses/9");
        }
        assert_eq!(
            return_page(&headers(None), "/lots/3/qc/5/investigation"),
            "/lots/3"
        );
        assert_eq!(
            return_page(&headers(None), "/patients/4/weights/8/void"),
            "/patients/4"
        );
        assert_eq!(
            return_page(&headers(None), "/patients/4/dose"),
            "/patients/4/dose"
        );
        assert_eq!(
            return_page(&headers(None), "/doses/2/bedside"),
            "/doses/2/bedside"
        );
        assert_eq!(return_page(&headers(None), "/infusions/5/complete"), "/");
        assert_eq!(return_page(&headers(None), "/ledger/verify"), "/");
        assert_eq!(
            return_page(&headers(None), "/vials/%0d%0a/store"),
            "/vials/%0d%0a"
        );
        assert_eq!(return_page(&headers(None), "/vials/a\\b/store"), "/");
    }

    #[test]
    fn next_never_leaves_the_site() {
        assert_eq!(safe_next("/scan?q=1"), "/scan?q=1");
        assert_eq!(safe_next("//evil.example"), "/");
        assert_eq!(safe_next("https://evil.example"), "/");
        assert_eq!(safe_next("/\\\\evil.example"), "/");
        // what browsers turn into another origin, and header breakers
        assert_eq!(safe_next("/\t/evil.example"), "/");
        assert_eq!(safe_next("/\n/evil.example"), "/");
        assert_eq!(safe_next("/\\evil.example"), "/");
        assert_eq!(safe_next("/scan\r\nSet-Cookie: x=1"), "/");
        assert_eq!(safe_next("/scan q"), "/");
        assert_eq!(safe_next("/lots/é"), "/");
        assert_eq!(safe_next(""), "/");
    }

    #[test]
    fn csrf_tokens_differ_per_session() {
        use crate::web::user::{csrf_for, csrf_matches};
        assert_ne!(csrf_for("a"), csrf_for("b"));
        assert_eq!(csrf_for("a").len(), 32);
        assert!(csrf_matches("a", &csrf_for("a")));
        assert!(!csrf_matches("a", &csrf_for("b")));
    }
}
