//! How an `AppError` is answered: the error body every non-2xx response
//! carries, its headers, and the log line of a server error.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::AppError;

/// The error body of every non-2xx answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, snake_case; clients branch on this.
    #[schema(example = "invalid_credentials")]
    pub code: &'static str,
    /// For people; may change wording.
    pub message: String,
    /// Machine-readable specifics (offending fields, limits, ids).
    #[schema(value_type = Object)]
    pub details: Value,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            // The request span carries the request id, so this line and the
            // client's `x-request-id` header meet in the logs.
            tracing::error!(error = ?self, "request failed");
        }
        let retry_after = match &self {
            AppError::AccountLocked {
                retry_after_seconds,
                ..
            } => Some(retry_after_seconds.to_string()),
            _ => None,
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code(),
                message: self.to_string(),
                details: self.details(),
            },
        };
        let mut response = (status, axum::Json(body)).into_response();
        if let Some(value) = retry_after.and_then(|v| HeaderValue::from_str(&v).ok()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            // The rest of the body is never read: the connection cannot
            // carry another request, so the client must not reuse it.
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }
}
