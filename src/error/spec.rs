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
/// `OWN_CODES` (every code stated in the table) from them.
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
            /// The codes the table states, in its order (a code shared by
            /// two variants appears twice); the wrapped refusals' own
            /// codes are added by `codes()`.
            const OWN_CODES: &'static [&'static str] = &[$($($code,)?)*];

            pub fn status(&self) -> axum::http::StatusCode {
                match self {
                    $(
                        Self::$variant { $($wrapped: inner,)? .. } => {
                            $crate::error::spec::answer!(status $( $status $code )? $( from $wrapped inner )?)
                        }
                    )*
                }
            }

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
        StatusCode::UNPROCESSABLE_ENTITY
    }
    fn code(&self) -> &'static str {
        match self {
            QcInputError::UnknownTest { .. } => QC_INPUT_CODES[0],
            QcInputError::UnitMismatch { .. } => QC_INPUT_CODES[1],
            QcInputError::InvalidValue { .. } => QC_INPUT_CODES[2],
        }
    }
}

/// The codes of `QcInputError`, in the order of its variants.
pub(super) const QC_INPUT_CODES: [&str; 3] =
    ["unknown_qc_test", "unit_mismatch", "invalid_qc_value"];

impl super::AppError {
    /// Every code an `AppError` can answer with, each once: the table's and
    /// those of the refusals it wraps.
    pub fn codes() -> Vec<&'static str> {
        let mut codes = Vec::new();
        for code in Self::OWN_CODES.iter().chain(&QC_INPUT_CODES) {
            if !codes.contains(code) {
                codes.push(*code);
            }
        }
        codes
    }
}
