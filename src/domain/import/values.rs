//! One cell's value, read the way a tired person typed it: every refusal
//! says what was expected, in the column's own unit.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

use super::Kind;
use crate::domain::lot::{CELLS_PER_VIAL, VIAL_VOLUME_UL};
use crate::domain::zone::SiteZone;

/// A time: RFC 3339 (`2026-03-01T09:30:00+08:00`, any offset), or
/// `YYYY-MM-DD HH:MM` (seconds optional) or `YYYY-MM-DD` (midnight) read in
/// the importing site's zone. Never in the future.
pub fn time(raw: &str, zone: &SiteZone, now: DateTime<Utc>) -> Result<DateTime<Utc>, Kind> {
    let text = raw.trim();
    let parsed = if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        Some(t.with_timezone(&Utc))
    } else {
        let local = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M")
            .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S"))
            .ok()
            .or_else(|| {
                NaiveDate::parse_from_str(text, "%Y-%m-%d")
                    .ok()
                    .and_then(|d| d.and_hms_opt(0, 0, 0))
            });
        match local {
            Some(local) => Some(zone.from_local(local).ok_or_else(|| {
                Kind::new(
                    "imp-problem-time-gap",
                    [
                        ("value", text.to_owned()),
                        ("zone", zone.name().to_string()),
                    ],
                )
            })?),
            None => None,
        }
    };
    let t = parsed.ok_or_else(|| {
        Kind::new(
            "imp-problem-not-a-time",
            [
                ("value", text.to_owned()),
                ("zone", zone.name().to_string()),
            ],
        )
    })?;
    if t > now {
        return Err(Kind::new(
            "imp-problem-time-future",
            [("value", text.to_owned())],
        ));
    }
    Ok(t)
}

/// What a whole number counts: each says its own problems.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Whole {
    LotNumber,
    Passage,
    VialNumber,
    BoxRows,
    BoxCols,
}

impl Whole {
    /// The keys of "not a whole number" and "outside the range".
    fn codes(self) -> (&'static str, &'static str) {
        match self {
            Whole::LotNumber => (
                "imp-problem-lot-number-not-whole",
                "imp-problem-lot-number-outside",
            ),
            Whole::Passage => (
                "imp-problem-passage-not-whole",
                "imp-problem-passage-outside",
            ),
            Whole::VialNumber => (
                "imp-problem-vial-number-not-whole",
                "imp-problem-vial-number-outside",
            ),
            Whole::BoxRows => (
                "imp-problem-box-rows-not-whole",
                "imp-problem-box-rows-outside",
            ),
            Whole::BoxCols => (
                "imp-problem-box-cols-not-whole",
                "imp-problem-box-cols-outside",
            ),
        }
    }
}

/// A whole number in `range`.
pub fn whole(raw: &str, range: std::ops::RangeInclusive<i64>, what: Whole) -> Result<i64, Kind> {
    let text = raw.trim();
    let (not_whole, outside) = what.codes();
    let bounds = || {
        [
            ("min", range.start().to_string()),
            ("max", range.end().to_string()),
        ]
    };
    let n: i64 = text.parse().map_err(|_| {
        Kind::new(
            not_whole,
            [("value", text.to_owned())].into_iter().chain(bounds()),
        )
    })?;
    if !range.contains(&n) {
        return Err(Kind::new(
            outside,
            [("value", n.to_string())].into_iter().chain(bounds()),
        ));
    }
    Ok(n)
}

/// Cells per vial: a whole number (`2000000`, `2,000,000`, `2_000_000`) or
/// scientific notation that names a whole number (`2e6`, `2.5E6`).
pub fn cells(raw: &str) -> Result<i64, Kind> {
    let text: String = raw
        .trim()
        .chars()
        .filter(|c| !matches!(c, ',' | '_' | ' '))
        .collect();
    let n = match text.split_once(['e', 'E']) {
        Some((mantissa, exponent)) => scientific(mantissa, exponent),
        None => text.parse::<i64>().ok(),
    }
    .ok_or_else(|| {
        Kind::new(
            "imp-problem-cells-not-whole",
            [("value", raw.trim().to_owned())],
        )
    })?;
    if !CELLS_PER_VIAL.contains(&n) {
        return Err(Kind::new(
            "imp-problem-cells-outside",
            [("value", n.to_string())],
        ));
    }
    Ok(n)
}

/// `2.5` × 10^`6`, exactly, when it is a whole number.
fn scientific(mantissa: &str, exponent: &str) -> Option<i64> {
    let exponent: u32 = exponent.trim_start_matches('+').parse().ok()?;
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let fraction = fraction.trim_end_matches('0');
    let digits = u32::try_from(fraction.len()).ok()?;
    if exponent < digits || !whole.bytes().all(|b| b.is_ascii_digit()) || whole.is_empty() {
        return None;
    }
    let joined: i64 = format!("{whole}{fraction}").parse().ok()?;
    joined.checked_mul(10_i64.checked_pow(exponent - digits)?)
}

/// Below this, a volume is millilitres typed into the microlitre column:
/// no cryovial of cells holds less than 50 µL.
pub const SMALLEST_PLAUSIBLE_UL: i64 = 50;

/// A vial's volume in whole microlitres. `1` or `1.0` is a millilitre
/// typed as microlitres (ISMP's decimal-and-unit slips): refused with the
/// value it probably meant.
pub fn volume_ul(raw: &str) -> Result<i64, Kind> {
    let text = raw.trim();
    if let Ok(n) = text.parse::<i64>() {
        if (1..SMALLEST_PLAUSIBLE_UL).contains(&n) {
            return Err(Kind::new(
                "imp-problem-volume-looks-like-ml",
                [
                    ("value", n.to_string()),
                    ("microlitres", (n * 1000).to_string()),
                ],
            ));
        }
        if !VIAL_VOLUME_UL.contains(&n) {
            return Err(Kind::new(
                "imp-problem-volume-outside",
                [("value", n.to_string())],
            ));
        }
        return Ok(n);
    }
    if let Ok(x) = text.parse::<f64>()
        && x.is_finite()
        && x > 0.0
    {
        return Err(Kind::new(
            "imp-problem-volume-decimal",
            [
                ("value", text.to_owned()),
                ("microlitres", ((x * 1000.0).round() as i64).to_string()),
            ],
        ));
    }
    Err(Kind::new(
        "imp-problem-not-a-volume",
        [("value", text.to_owned())],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone() -> SiteZone {
        SiteZone::parse("Asia/Shanghai").unwrap()
    }

    fn now() -> DateTime<Utc> {
        "2026-11-27T00:00:00Z".parse().unwrap()
    }

    #[test]
    fn local_times_are_read_in_the_sites_zone() {
        let t = time("2026-03-01 09:30", &zone(), now()).unwrap();
        assert_eq!(t.to_rfc3339(), "2026-03-01T01:30:00+00:00");
        let t = time("2026-03-01", &zone(), now()).unwrap();
        assert_eq!(t.to_rfc3339(), "2026-02-28T16:00:00+00:00");
        let t = time("2026-03-01T09:30:00+08:00", &zone(), now()).unwrap();
        assert_eq!(t.to_rfc3339(), "2026-03-01T01:30:00+00:00");
        assert!(time("01/03/2026", &zone(), now()).is_err());
        assert!(
            time("2027-01-01", &zone(), now())
                .unwrap_err()
                .to_string()
                .contains("future")
        );
    }

    #[test]
    fn cells_accept_separators_and_exact_scientific_notation() {
        assert_eq!(cells("2000000"), Ok(2_000_000));
        assert_eq!(cells("2,000,000"), Ok(2_000_000));
        assert_eq!(cells("2e6"), Ok(2_000_000));
        assert_eq!(cells("2.5E6"), Ok(2_500_000));
        assert!(cells("2.5e0").is_err());
        assert!(cells("lots").is_err());
        assert!(cells("0").is_err());
    }

    #[test]
    fn millilitres_typed_as_microlitres_are_named() {
        assert_eq!(volume_ul("1000"), Ok(1000));
        let one = volume_ul("1").unwrap_err().to_string();
        assert!(one.contains("1000"), "{one}");
        let decimal = volume_ul("1.0").unwrap_err().to_string();
        assert!(
            decimal.contains("millilitres") && decimal.contains("1000"),
            "{decimal}"
        );
        assert!(volume_ul("200000").is_err());
        assert!(volume_ul("a lot").is_err());
    }
}
