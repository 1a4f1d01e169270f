//! Weight-based dose arithmetic, exact: cells are integers, weight is grams,
//! volume is microlitres. Every value that is not a whole number in exact
//! arithmetic is rounded once, by a stated rule; nothing passes through
//! floating point.
//!
//! By idea: [`weight`] (entered weights and their checks), [`target`] (cells
//! for a weight, vials to reserve), [`count`] (thaw counts judged) and
//! [`preparation`] (volumes to draw and give). The names are re-exported here.

mod count;
mod preparation;
mod target;
mod weight;

pub use count::*;
pub use preparation::*;
pub use target::*;
pub use weight::*;

/// A non-negative decimal with up to 6 places, as millionths.
pub fn parse_micros(raw: &str) -> Option<u128> {
    let raw = raw.trim();
    let (whole, fraction) = raw.split_once('.').unwrap_or((raw, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty()
        || whole.len() > 9
        || fraction.len() > 6
        || (raw.contains('.') && fraction.is_empty())
        || !digits(whole)
        || !digits(fraction)
    {
        return None;
    }
    let whole: u128 = whole.parse().ok()?;
    let fraction: u128 = format!("{fraction:0<6}").parse().ok()?;
    Some(whole * 1_000_000 + fraction)
}

/// `num / den` rounded half up.
pub(super) fn div_round(num: u128, den: u128) -> u128 {
    (2 * num + den) / (2 * den)
}

#[cfg(test)]
mod tests;
