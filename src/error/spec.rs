//! The contract's table of refusals, written once: each variant of
//! `AppError` is declared with its status and code beside it
//! (`NotABox(Uuid) => 422 "not_a_box"`), and `status()`, `code()` and the
//! list of every code are derived from that line.
//!
//! A variant that wraps another refusal answers with the wrapped one's
//! status and code and says so with `=> from <field>`: a QC input error
//! (three codes, below) and recorded counts (the inner refusal's).

use axum::http::StatusCode;

use crate::domain::qc::QcInputError;

/// Declares `AppError` from variants written `Variant … => STATUS "code"`
/// or `Variant … => from field`, and derives `status()`, `code()` and
/// `OWN_TABLE` (every status and code it states) from them.
macro_rules! app_error {
    (
        $(#[$meta:meta])*
        pub enum AppError {
            $(
                $(#[$variant_meta:meta])*
                $variant:ident $( ( $($tuple:tt)* ) )? $( { $($named:tt)* } )?
                    => $( $status:literal $code:literal )? $( from $wrapped:tt )?,
            )*
        }
    ) => {
        $(#[$meta])*
        pub enum AppError {
            $(
                $(#[$variant_meta])*
                $variant $( ( $($tuple)* ) )? $( { $($named)* } )?,
            )*
        }

        impl AppError {
            /// The statuses and codes the table states, in its order (a code
            /// shared by two variants appears twice); `table()` adds those
            /// of the refusals it wraps.
            const OWN_TABLE: &'static [(axum::http::StatusCode, &'static str)] =
                &[$($(($crate::error::spec::status($status), $code),)?)*];

            /// The HTTP status of this refusal, as the contract states it.
            pub fn status(&self) -> axum::http::StatusCode {
                match self {
                    $(
                        Self::$variant { $($wrapped: inner,)? .. } => {
                            $crate::error::spec::answer!(status $( $status $code )? $( from $wrapped inner )?)
                        }
                    )*
                }
            }

            /// The refusal's code, stable and snake_case: clients branch on it.
            pub fn code(&self) -> &'static str {
                match self {
                    $(
                        Self::$variant { $($wrapped: inner,)? .. } => {
                            $crate::error::spec::answer!(code $( $status $code )? $( from $wrapped inner )?)
                        }
                    )*
                }
            }
        }
    };
}

/// One arm's answer: the table's status or code, or the wrapped refusal's.
macro_rules! answer {
    (status $status:literal $code:literal) => {
        const { $crate::error::spec::status($status) }
    };
    (code $status:literal $code:literal) => {
        $code
    };
    ($what:ident from $field:tt $inner:ident) => {
        $crate::error::spec::Refusal::$what($inner)
    };
}

pub(super) use {answer, app_error};

/// The statuses the contract uses, by number. Evaluated at compile time: a
/// number not listed here does not build.
pub(super) const fn status(number: u16) -> StatusCode {
    match number {
        400 => StatusCode::BAD_REQUEST,
        401 => StatusCode::UNAUTHORIZED,
        403 => StatusCode::FORBIDDEN,
        404 => StatusCode::NOT_FOUND,
        405 => StatusCode::METHOD_NOT_ALLOWED,
        409 => StatusCode::CONFLICT,
        413 => StatusCode::PAYLOAD_TOO_LARGE,
        422 => StatusCode::UNPROCESSABLE_ENTITY,
        500 => StatusCode::INTERNAL_SERVER_ERROR,
        503 => StatusCode::SERVICE_UNAVAILABLE,
        _ => panic!("a status the contract does not use"),
    }
}

/// What a wrapped refusal answers with.
pub(super) trait Refusal {
    fn status(&self) -> StatusCode;
    fn code(&self) -> &'static str;
}

/// Recorded counts answer with the refusal they carry.
impl Refusal for Box<super::AppError> {
    fn status(&self) -> StatusCode {
        super::AppError::status(self)
    }
    fn code(&self) -> &'static str {
        super::AppError::code(self)
    }
}

/// A QC result that cannot be judged: one code per way it fails.
impl Refusal for QcInputError {
    fn status(&self) -> StatusCode {
        QC_INPUT_STATUS
    }
    fn code(&self) -> &'static str {
        match self {
            QcInputError::UnknownTest { .. } => QC_INPUT_CODES[0],
            QcInputError::UnitMismatch { .. } => QC_INPUT_CODES[1],
            QcInputError::InvalidValue { .. } => QC_INPUT_CODES[2],
        }
    }
}

/// The status and the codes of `QcInputError`, in the order of its
/// variants.
const QC_INPUT_STATUS: StatusCode = StatusCode::UNPROCESSABLE_ENTITY;
const QC_INPUT_CODES: [&str; 3] = ["unknown_qc_test", "unit_mismatch", "invalid_qc_value"];

impl super::AppError {
    /// Every status and code an `AppError` can answer with, each pair once:
    /// the table's and those of the refusals it wraps.
    pub fn table() -> Vec<(StatusCode, &'static str)> {
        let wrapped = QC_INPUT_CODES.map(|code| (QC_INPUT_STATUS, code));
        let mut table = Vec::new();
        for entry in Self::OWN_TABLE.iter().chain(&wrapped) {
            if !table.contains(entry) {
                table.push(*entry);
            }
        }
        table
    }

    /// Every code an `AppError` can answer with, each once.
    pub fn codes() -> Vec<&'static str> {
        let mut codes = Vec::new();
        for (_, code) in Self::table() {
            if !codes.contains(&code) {
                codes.push(code);
            }
        }
        codes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::AppError;

    #[test]
    fn every_code_is_snake_case_and_answered_with_one_status() {
        let table = AppError::table();
        for (status, code) in &table {
            assert!(
                !code.is_empty()
                    && code
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "{code} is not snake_case"
            );
            let statuses: Vec<_> = table.iter().filter(|(_, c)| c == code).collect();
            assert_eq!(statuses.len(), 1, "{code} ({status}) has two statuses");
        }
        assert_eq!(AppError::codes().len(), table.len());
    }

    #[test]
    fn each_qc_input_error_answers_with_its_own_code() {
        let test = || "sterility".to_owned();
        let errors = [
            QcInputError::UnknownTest {
                test: test(),
                known: vec![],
            },
            QcInputError::UnitMismatch {
                test: test(),
                expected: "%".into(),
                given: "cells".into(),
            },
            QcInputError::InvalidValue {
                test: test(),
                expected: "pass or fail",
            },
        ];
        let codes: Vec<_> = errors
            .into_iter()
            .map(AppError::QcInput)
            .map(|error| (error.status(), error.code()))
            .collect();
        assert_eq!(codes, QC_INPUT_CODES.map(|code| (QC_INPUT_STATUS, code)));
    }

    #[test]
    fn recorded_counts_answer_with_the_refusal_they_carry() {
        let error = AppError::CountsRecorded {
            inner: Box::new(AppError::NoWeight),
            dose_id: uuid::Uuid::nil(),
            dose_status: "count_failed".into(),
        };
        assert_eq!(error.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(error.code(), "no_weight");
    }

    #[test]
    fn variants_answer_with_the_status_and_code_declared_beside_them() {
        let cases = [
            (AppError::InvalidCredentials, 401, "invalid_credentials"),
            (AppError::PayloadTooLarge, 413, "payload_too_large"),
            (AppError::NotABox(uuid::Uuid::nil()), 422, "not_a_box"),
            (
                AppError::internal(anyhow::anyhow!("boom")),
                500,
                "internal_error",
            ),
            (
                AppError::RouteNotFound {
                    method: "GET".into(),
                    path: "/x".into(),
                },
                404,
                "not_found",
            ),
        ];
        for (error, status, code) in cases {
            assert_eq!((error.status().as_u16(), error.code()), (status, code));
        }
    }
}
