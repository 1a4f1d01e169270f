//! The codes people read and scanners encode. Every lot and vial code starts
//! with its donation's DIN, so a vial in hand names its donation; codes use
//! only capital letters, digits and `-`, which QR alphanumeric mode encodes
//! compactly.

use std::fmt;
use std::ops::Deref;

use crate::domain::invalid::Invalid;

macro_rules! code {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        ///
        /// Made only by its constructor, which checks it; a stored one is
        /// trusted as it was checked when it was written (`from_stored`).
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// A code read back from the database, where only a checked
            /// code is ever written.
            pub fn from_stored(code: String) -> Self {
                $name(code)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_inner(self) -> String {
                self.0
            }
        }

        impl Deref for $name {
            type Target = str;

            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<$name> for String {
            fn from(code: $name) -> String {
                code.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

code!(
    /// A vial's code: its lot's code and its number, `A999926000123-L01-V007`.
    VialCode
);

code!(
    /// A trial subject code such as `PV-007`: 2 to 20 capital letters,
    /// digits and `-`, starting with a letter or digit. The only way the
    /// product side of celltrail names a patient, never a name.
    SubjectCode
);

code!(
    /// A dose order's code: its patient's subject code and the order's
    /// number for that patient, `PV-007-D03`.
    DoseCode
);

impl VialCode {
    /// The `n`th vial of a lot (1 to [`MAX_VIALS_PER_LOT`]).
    pub fn new(lot_code: &str, n: u32) -> VialCode {
        VialCode(vial_code(lot_code, n))
    }
}

impl SubjectCode {
    pub fn parse(raw: &str) -> Option<SubjectCode> {
        let code = raw.trim().to_ascii_uppercase();
        let ok = (2..=20).contains(&code.len())
            && code.starts_with(|c: char| c.is_ascii_alphanumeric())
            && code
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-');
        ok.then_some(SubjectCode(code))
    }
}

impl DoseCode {
    /// The `ordinal`th dose ordered for this patient (cancelled orders
    /// count, so a code is never given twice).
    pub fn new(subject: &SubjectCode, ordinal: u32) -> DoseCode {
        DoseCode(format!("{subject}-D{ordinal:02}"))
    }
}

/// An ISBT 128-style product code as the lab uses it: 5 to 8 capital
/// letters and digits, starting with a letter (e.g. `S1395`).
pub fn parse_product_code(raw: &str) -> Result<String, Invalid> {
    let code = raw.trim().to_ascii_uppercase();
    let ok = (5..=8).contains(&code.len())
        && code.starts_with(|c: char| c.is_ascii_uppercase())
        && code
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    ok.then_some(code).ok_or_else(|| {
        Invalid::new(
            "product_code",
            "5 to 8 capital letters and digits, starting with a letter",
        )
    })
}

/// Most lots one donation can give (`-L01` … `-L99`).
pub const MAX_LOTS_PER_DONATION: u32 = 99;
/// Most vials one lot can hold (`-V001` … `-V999`).
pub const MAX_VIALS_PER_LOT: u32 = 999;

/// The `n`th lot of a donation: `A999926000123-L01`.
pub fn lot_code(din: &str, n: u32) -> String {
    format!("{din}-L{n:02}")
}

/// The `n`th vial of a lot: `A999926000123-L01-V001`.
pub fn vial_code(lot_code: &str, n: u32) -> String {
    format!("{lot_code}-V{n:03}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_carry_the_din() {
        let lot = lot_code("A999926000123", 1);
        assert_eq!(lot, "A999926000123-L01");
        assert_eq!(vial_code(&lot, 7), "A999926000123-L01-V007");
        assert_eq!(vial_code(&lot, 999), "A999926000123-L01-V999");
    }

    #[test]
    fn product_codes_are_checked() {
        assert_eq!(parse_product_code("s1395").ok(), Some("S1395".into()));
        for bad in ["", "S13", "1S395", "S13-95", "S1395ABCD"] {
            assert_eq!(parse_product_code(bad).ok(), None, "{bad:?}");
        }
    }
}
