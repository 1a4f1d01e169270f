//! The reason a person gives for a signed act, a correction or an exception
//! (a reprint, a void, a recall, a late entry): written for the next reader
//! of the record, so never empty, and short enough to read.

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
