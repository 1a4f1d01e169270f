//! A value the domain refuses, named by the field it came from and said in
//! words for the person who sent it. Services turn it into the `invalid`
//! refusal with `?` (one conversion, in `src/error/conversions.rs`), so the
//! field and message are written once, beside the rule.

/// A refused value: the request field it came from and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct Invalid {
    pub field: &'static str,
    pub message: String,
}

impl Invalid {
    pub fn new(field: &'static str, message: impl Into<String>) -> Invalid {
        Invalid {
            field,
            message: message.into(),
        }
    }
}

/// Refuses with `field` and `message` unless `ok`.
pub fn ensure(ok: bool, field: &'static str, message: impl Into<String>) -> Result<(), Invalid> {
    if ok {
        Ok(())
    } else {
        Err(Invalid::new(field, message))
    }
}
