//! Exact decimal numbers for QC results and limits: compared as scaled
//! integers, never as floats.

use std::fmt;

/// A non-negative decimal number, exact against any limit of 9 decimal
/// places or fewer (every limit is): its first 9 decimals, and whether any
/// digit after them is not zero. A value read as `94.99999999999999999`
/// is `94.999999999` and a bit more: below 95, at least 94.999999999.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Decimal {
    /// The value × 10^9, truncated.
    nanos: u128,
    /// Something was truncated: the value is a little above `nanos`.
    beyond: bool,
}

const SCALE: u128 = 1_000_000_000;
const PLACES: usize = 9;

impl Decimal {
    /// Parses `12`, `0.5`, `99.95`, `94.99999999999999999`; no sign, no
    /// exponent, at most 40 decimals.
    pub fn parse(raw: &str) -> Option<Self> {
        let (whole, fraction) = raw.split_once('.').unwrap_or((raw, ""));
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty()
            || whole.len() > 20
            || fraction.len() > 40
            || !digits(whole)
            || !digits(fraction)
        {
            return None;
        }
        if raw.contains('.') && fraction.is_empty() {
            return None;
        }
        let whole: u128 = whole.parse().ok()?;
        let (kept, rest) = fraction.split_at(fraction.len().min(PLACES));
        let padded = format!("{kept:0<9}");
        let fraction: u128 = padded.parse().ok()?;
        Some(Decimal {
            nanos: whole.checked_mul(SCALE)?.checked_add(fraction)?,
            beyond: rest.bytes().any(|b| b != b'0'),
        })
    }

    /// Whether the value has no more than 9 decimals (every limit).
    pub fn is_exact(&self) -> bool {
        !self.beyond
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let whole = self.nanos / SCALE;
        let fraction = self.nanos % SCALE;
        if fraction == 0 {
            write!(f, "{whole}")
        } else {
            let digits = format!("{fraction:09}");
            write!(f, "{whole}.{}", digits.trim_end_matches('0'))
        }
    }
}
