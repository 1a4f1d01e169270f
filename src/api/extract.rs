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

/// `axum::Json`, with rejections rendered as `malformed_request`.
#[derive(Debug, Clone, Copy, Default, FromRequest)]
#[from_request(via(axum::Json), rejection(AppError))]
pub struct ApiJson<T>(pub T);

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

    role_set!(/// Anyone signed in.
        Any => [Lab, Pharmacist, Quality, Clinician, Admin]);
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
}

/// The signed-in user, admitted by the role set `R`.
#[derive(Debug)]
pub struct Authorized<R: RoleSet = roles::Any> {
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
