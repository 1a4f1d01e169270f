//! Failures of other layers turned into refusals: the database's (an
//! unavailable database, a refused NUL, a ledger found inconsistent), the
//! request extractors' rejections, and a label that cannot be rendered.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use sea_orm::DbErr;

use super::AppError;

impl From<crate::domain::reason::InvalidReason> for AppError {
    fn from(error: crate::domain::reason::InvalidReason) -> Self {
        AppError::invalid("reason", error)
    }
}

/// A value the domain refused, with the field and the words it chose.
impl From<crate::domain::invalid::Invalid> for AppError {
    fn from(error: crate::domain::invalid::Invalid) -> Self {
        AppError::InvalidField {
            field: error.field.into(),
            message: error.message,
        }
    }
}

impl From<crate::domain::dose::ImplausibleWeight> for AppError {
    fn from(error: crate::domain::dose::ImplausibleWeight) -> Self {
        let crate::domain::dose::ImplausibleWeight {
            weight_g,
            min_g,
            max_g,
        } = error;
        AppError::ImplausibleWeight {
            weight_g,
            min_g,
            max_g,
        }
    }
}

/// A label that cannot be rendered: unprintable text is the label's data
/// (422); a layout that cannot hold its sample was refused at start, so any
/// other failure is a bug.
impl From<crate::labels::RenderError> for AppError {
    fn from(error: crate::labels::RenderError) -> Self {
        match error {
            crate::labels::RenderError::Unprintable { character, text } => {
                AppError::LabelUnprintable { character, text }
            }
            other => AppError::internal(other),
        }
    }
}

impl From<DbErr> for AppError {
    fn from(error: DbErr) -> Self {
        if let DbErr::Custom(message) = &error
            && let Some(why) = message.strip_prefix(crate::db::LEDGER_INCONSISTENT)
        {
            return AppError::LedgerInconsistent(why.to_owned());
        }
        if is_nul_refused(&error) {
            return AppError::invalid("text", NUL_REFUSED);
        }
        if is_unavailable(&error) {
            AppError::DatabaseUnavailable(error)
        } else {
            AppError::Internal(error.into())
        }
    }
}

/// What is said of text holding U+0000.
pub const NUL_REFUSED: &str = "text may not contain the NUL character (U+0000)";

/// PostgreSQL refuses U+0000 in text (SQLSTATE 22021). The edges refuse it
/// first (JSON bodies, paths, queries); this is the net under the rest.
fn is_nul_refused(error: &DbErr) -> bool {
    let text = error.to_string();
    text.contains("invalid byte sequence") && text.contains("0x00")
}

/// A pool timeout, a lost connection or SQLite still locked after the busy
/// timeout is the database being unavailable, not a bug.
fn is_unavailable(error: &DbErr) -> bool {
    match error {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        other => {
            let text = other.to_string();
            text.contains("database is locked") || text.contains("PoolTimedOut")
        }
    }
}

impl From<JsonRejection> for AppError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::MissingJsonContentType(_) => AppError::MalformedRequest(
                "the body must be JSON, sent with Content-Type: application/json".into(),
            ),
            JsonRejection::BytesRejection(ref bytes)
                if bytes.status() == StatusCode::PAYLOAD_TOO_LARGE =>
            {
                AppError::PayloadTooLarge
            }
            other => AppError::MalformedRequest(other.body_text()),
        }
    }
}

impl From<PathRejection> for AppError {
    fn from(rejection: PathRejection) -> Self {
        AppError::MalformedRequest(rejection.body_text())
    }
}

impl From<QueryRejection> for AppError {
    fn from(rejection: QueryRejection) -> Self {
        AppError::MalformedRequest(rejection.body_text())
    }
}
