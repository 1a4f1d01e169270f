//! The reason a person gives for a signed act, a correction or an exception
//! (a reprint, a void, a recall, a late entry): written for the next reader
//! of the record, so never empty, and short enough to read.

use crate::domain::invalid::Invalid;

/// What a signature means ("approved", "verified the count"): 1 to 200
/// characters after trimming, on one line.
pub fn signature_meaning(raw: &str) -> Result<&str, Invalid> {
    let meaning = raw.trim();
    if meaning.is_empty() || meaning.chars().count() > 200 || meaning.chars().any(char::is_control)
    {
        return Err(Invalid::new(
            "signature.meaning",
            "the meaning of a signature is 1 to 200 characters",
        ));
    }
    Ok(meaning)
}

/// A reason: 1 to 1000 characters after trimming.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct Reason(String);

/// The reason was empty (or only spaces) or longer than 1000 characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a reason of 1 to 1000 characters is required")]
pub struct InvalidReason;

impl Reason {
    pub const MAX_CHARS: usize = 1000;

    pub fn parse(raw: &str) -> Result<Reason, InvalidReason> {
        let reason = raw.trim();
        if reason.is_empty() || reason.chars().count() > Reason::MAX_CHARS {
            return Err(InvalidReason);
        }
        Ok(Reason(reason.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_means_one_short_line() {
        assert_eq!(signature_meaning(" approved "), Ok("approved"));
        assert!(signature_meaning(&"x".repeat(200)).is_ok());
        let refused = signature_meaning(&"x".repeat(201)).unwrap_err();
        assert_eq!(refused.field, "signature.meaning");
        assert!(signature_meaning("").is_err() && signature_meaning("a\tb").is_err());
    }

    #[test]
    fn a_reason_is_trimmed_and_bounded() {
        assert_eq!(
            Reason::parse("  label smudged ").unwrap().as_str(),
            "label smudged"
        );
        assert_eq!(Reason::parse("   "), Err(InvalidReason));
        assert_eq!(Reason::parse(""), Err(InvalidReason));
        assert!(Reason::parse(&"x".repeat(1000)).is_ok());
        assert_eq!(Reason::parse(&"x".repeat(1001)), Err(InvalidReason));
        // characters, not bytes: 1000 Chinese characters are 3000 bytes
        assert!(Reason::parse(&"因".repeat(1000)).is_ok());
    }
}
