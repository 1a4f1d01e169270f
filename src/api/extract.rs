//! Extractors: JSON, path and query that answer with our error body, and
//! `Authorized<R>`, which turns the bearer token into the signed-in user and
//! checks the route's roles before the handler runs.

use std::marker::PhantomData;

use axum::extract::{FromRequest, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};

use crate::domain::accounts::Role;
use crate::error::AppError;
use crate::services::auth::{self, AuthenticatedUser};
use crate::state::AppState;

/// `axum::Json`, with rejections rendered as `malformed_request` (a date or
/// time that does not read is `invalid_field`, in words: see `api::dates`),
/// and every date and time in the body within 1900-2200 (a year typed as
/// 20266 or 206 is a slip, not a date to keep).
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, AppError> {
        json_body(request, state, true).await.map(ApiJson)
    }
}

/// [`ApiJson`] for a scanned payload: a NUL character sent by a scanner is
/// judged by the scan itself (`malformed_payload`, like any other garbage),
/// and nothing scanned is stored.
#[derive(Debug, Clone, Copy, Default)]
pub struct ScanJson<T>(pub T);

impl<S, T> FromRequest<S> for ScanJson<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, AppError> {
        json_body(request, state, false).await.map(ScanJson)
    }
}

async fn json_body<S, T>(
    request: axum::extract::Request,
    state: &S,
    refuse_nul: bool,
) -> Result<T, AppError>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    let is_json = request
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .is_some_and(|essence| {
            essence == "application/json"
                || (essence.starts_with("application/") && essence.ends_with("+json"))
        });
    if !is_json {
        return Err(AppError::MalformedRequest(
            "the body must be JSON, sent with Content-Type: application/json".into(),
        ));
    }
    let bytes = axum::body::Bytes::from_request(request, state)
        .await
        .map_err(|rejection| {
            if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                AppError::PayloadTooLarge
            } else {
                AppError::MalformedRequest(rejection.body_text())
            }
        })?;
    check_dates(&bytes)?;
    if refuse_nul {
        check_nul(&bytes)?;
    }
    match axum::Json::<T>::from_bytes(&bytes) {
        Ok(axum::Json(value)) => Ok(value),
        Err(rejection @ axum::extract::rejection::JsonRejection::JsonDataError(_)) => {
            Err(crate::api::dates::refusal::<T>(&bytes).unwrap_or_else(|| rejection.into()))
        }
        Err(rejection) => Err(rejection.into()),
    }
}

/// Refuses a body holding a date or time outside 1900-2200.
fn check_dates(body: &[u8]) -> Result<(), AppError> {
    // Most bodies hold no date: look only where one could be.
    if !body
        .windows(3)
        .any(|w| w[0].is_ascii_digit() && w[1] == b'-' && w[2].is_ascii_digit())
    {
        return Ok(());
    }
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
        // the typed parse says what is wrong with it
        return Ok(());
    };
    let mut out_of_range = None;
    walk(&value, &mut String::new(), &mut out_of_range);
    match out_of_range {
        Some((path, text)) => Err(AppError::invalid(
            "date",
            format!("{path}: {text:?} is not a date between 1900 and 2200"),
        )),
        None => Ok(()),
    }
}

/// Refuses a body whose text holds U+0000: no record keeps it (PostgreSQL
/// cannot), on either database.
fn check_nul(body: &[u8]) -> Result<(), AppError> {
    // JSON has no raw control characters: a NUL can only be an escape
    if !body.windows(6).any(|w| w == b"\\u0000") {
        return Ok(());
    }
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
        return Ok(());
    };
    fn holds_nul(value: &serde_json::Value) -> bool {
        match value {
            serde_json::Value::String(text) => text.contains('\0'),
            serde_json::Value::Array(items) => items.iter().any(holds_nul),
            serde_json::Value::Object(map) => map
                .iter()
                .any(|(key, item)| key.contains('\0') || holds_nul(item)),
            _ => false,
        }
    }
    if holds_nul(&value) {
        return Err(AppError::invalid("text", crate::error::NUL_REFUSED));
    }
    Ok(())
}

fn walk(value: &serde_json::Value, path: &mut String, found: &mut Option<(String, String)>) {
    use chrono::Datelike;
    if found.is_some() {
        return;
    }
    match value {
        serde_json::Value::String(text) => {
            let year = chrono::DateTime::parse_from_rfc3339(text)
                .map(|t| t.year())
                .or_else(|_| chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").map(|d| d.year()));
            if let Ok(year) = year
                && !(1900..=2200).contains(&year)
            {
                *found = Some((path.trim_start_matches('.').to_owned(), text.clone()));
            }
        }
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                walk(item, path, found);
                path.truncate(len);
            }
        }
        serde_json::Value::Object(map) => {
            for (key, item) in map {
                let len = path.len();
                path.push('.');
                path.push_str(key);
                walk(item, path, found);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

impl<T: serde::Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// `axum::extract::Path`, with rejections rendered as `malformed_request`.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(AppError))]
pub struct ApiPath<T>(pub T);

/// `axum::extract::Query`, with rejections rendered as `malformed_request`.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AppError))]
pub struct ApiQuery<T>(pub T);

/// The roles a route admits, as a type: `Authorized<roles::Quality>`.
pub trait RoleSet: Send + Sync + 'static {
    const ROLES: &'static [Role];
}

/// Marker types naming who may call a route.
pub mod roles {
    use super::{Role, RoleSet};

    macro_rules! role_set {
        ($(#[$doc:meta])* $name:ident => [$($role:ident),+]) => {
            $(#[$doc])*
            #[derive(Debug)]
            pub struct $name;
            impl RoleSet for $name {
                const ROLES: &'static [Role] = &[$(Role::$role),+];
            }
        };
    }

    role_set!(/// Anyone signed in (their own account, signing out).
        Any => [Lab, Pharmacist, Quality, Clinician, Admin]);
    role_set!(/// Everyone who works with products and patients: not the
        /// administrator, who manages accounts only.
        Staff => [Lab, Pharmacist, Quality, Clinician]);
    role_set!(/// Administrators.
        Admin => [Admin]);
    role_set!(/// Cell-lab staff.
        Lab => [Lab]);
    role_set!(/// Pharmacists.
        Pharmacist => [Pharmacist]);
    role_set!(/// Quality officers.
        Quality => [Quality]);
    role_set!(/// Clinicians.
        Clinician => [Clinician]);
    role_set!(/// Who takes the trial's data out for the sponsor (the SDTM
        /// export): quality, and the clinicians who recorded it.
        TrialData => [Quality, Clinician]);
    role_set!(/// Who packs, hands over and receives shipments: the lab, and
        /// the pharmacy of a clinical site.
        Shippers => [Lab, Pharmacist]);
}

/// The client's address, for slowing down wrong sign-ins: the socket's peer,
/// or, only when the settings say the server is behind a proxy
/// (`--trust-forwarded-for`), the last `X-Forwarded-For` entry. A request
/// without either (served without connection info) counts as `0.0.0.0`.
#[derive(Debug, Clone)]
pub struct ClientAddress(pub crate::domain::throttle::ClientAddress);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        use std::net::{IpAddr, Ipv4Addr, SocketAddr};
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<SocketAddr>>()
            .map(|info| info.0.ip());
        let forwarded = state
            .settings
            .trust_forwarded_for
            .then(|| {
                crate::domain::throttle::forwarded_for(
                    parts
                        .headers
                        .get_all("x-forwarded-for")
                        .iter()
                        .filter_map(|v| v.to_str().ok()),
                )
            })
            .flatten();
        let ip = forwarded
            .or(peer)
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        Ok(ClientAddress(crate::domain::throttle::ClientAddress::of(
            ip,
        )))
    }
}

/// The signed-in user, admitted by the role set `R` (by default the staff
/// who work with products: the administrator manages accounts only).
#[derive(Debug)]
pub struct Authorized<R: RoleSet = roles::Staff> {
    pub user: AuthenticatedUser,
    roles: PhantomData<R>,
}

impl<R: RoleSet> FromRequestParts<AppState> for Authorized<R> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let token = match (bearer_token(parts), browser_session(parts)) {
            (Ok(token), _) => token,
            // A signed-in browser may read (labels, CSV traces) with its
            // session cookie; changes always need the bearer token, so the
            // JSON API cannot be driven across sites with a cookie.
            (
                Err(AppError::Unauthenticated {
                    reason: "missing_token",
                }),
                Some(cookie),
            ) => cookie,
            (Err(error), _) => return Err(error),
        };
        let user = auth::authenticate(state, token).await?;
        if !R::ROLES.contains(&user.role) {
            return Err(AppError::Forbidden {
                required: R::ROLES,
                role: user.role,
            });
        }
        Ok(Authorized {
            user,
            roles: PhantomData,
        })
    }
}

fn browser_session(parts: &Parts) -> Option<&str> {
    let safe = parts.method == axum::http::Method::GET || parts.method == axum::http::Method::HEAD;
    safe.then(|| crate::web::session::session_token(&parts.headers))
        .flatten()
}

fn bearer_token(parts: &Parts) -> Result<&str, AppError> {
    let header = parts
        .headers
        .get(AUTHORIZATION)
        .ok_or(AppError::Unauthenticated {
            reason: "missing_token",
        })?;
    let value = header.to_str().map_err(|_| AppError::Unauthenticated {
        reason: "invalid_token",
    })?;
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => Ok(token.trim()),
        _ => Err(AppError::Unauthenticated {
            reason: "invalid_token",
        }),
    }
}

/// A decimal as a client sends it: a JSON number (`72.5`) or a string
/// (`"72.5"`). A number is kept as the exact text the client wrote, never
/// read through floating point: `69.99999999999999999` stays below 70
/// (a float would make it 70.0). The domain parses the text exactly.
#[derive(Debug, Clone)]
pub enum DecimalInput {
    Text(String),
    /// The number's JSON text, as sent.
    Number(String),
}

impl DecimalInput {
    pub fn text(&self) -> String {
        match self {
            DecimalInput::Text(text) => text.trim().to_owned(),
            DecimalInput::Number(number) => number.clone(),
        }
    }
}

impl utoipa::PartialSchema for DecimalInput {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
        OneOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(Type::Number))
            .item(ObjectBuilder::new().schema_type(Type::String))
            .description(Some(
                "A decimal, as a JSON number or a string; read from its exact text, never through floating point",
            ))
            .into()
    }
}

impl utoipa::ToSchema for DecimalInput {}

impl<'de> serde::Deserialize<'de> for DecimalInput {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        // The raw JSON text of the value: a number's digits as written.
        let raw = <Box<serde_json::value::RawValue>>::deserialize(deserializer)?;
        let text = raw.get().trim();
        match text.as_bytes().first() {
            Some(b'"') => serde_json::from_str::<String>(text)
                .map(DecimalInput::Text)
                .map_err(D::Error::custom),
            Some(b'-' | b'0'..=b'9') => Ok(DecimalInput::Number(text.to_owned())),
            _ => Err(D::Error::custom(
                "expected a number or a string holding one",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::DecimalInput;

    #[derive(serde::Deserialize)]
    struct Body {
        value: DecimalInput,
    }

    fn read(json: &str) -> Result<String, serde_json::Error> {
        serde_json::from_str::<Body>(json).map(|b| b.value.text())
    }

    #[test]
    fn numbers_keep_their_exact_text() {
        assert_eq!(
            read(r#"{"value": 69.99999999999999999}"#).unwrap(),
            "69.99999999999999999"
        );
        assert_eq!(
            read(r#"{"value": 94.99999999999999999}"#).unwrap(),
            "94.99999999999999999"
        );
        assert_eq!(read(r#"{"value": 72.5}"#).unwrap(), "72.5");
        assert_eq!(read(r#"{"value": " 72.5 "}"#).unwrap(), "72.5");
        // what the domain refuses is passed on as written, never rounded
        assert_eq!(read(r#"{"value": 7e1}"#).unwrap(), "7e1");
        assert_eq!(read(r#"{"value": -1}"#).unwrap(), "-1");
        for bad in [
            r#"{"value": true}"#,
            r#"{"value": null}"#,
            r#"{"value": [1]}"#,
        ] {
            assert!(read(bad).is_err(), "{bad}");
        }
    }
}
