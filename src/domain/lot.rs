//! A lot's own numbers checked as they are recorded: its passage and
//! dates when it is made, and what it is frozen into. Each refusal names
//! the field it came from, for the person who sent it.

use chrono::{DateTime, Utc};

use crate::domain::codes::MAX_VIALS_PER_LOT;
use crate::domain::invalid::{Invalid, ensure};
use crate::domain::quantity::{Cells, Microlitres};

/// Passages a lot's cells may have gone through.
pub const PASSAGES: std::ops::RangeInclusive<i32> = 0..=50;
/// Cells one vial may hold.
pub const CELLS_PER_VIAL: std::ops::RangeInclusive<i64> = 1..=1_000_000_000_000;
/// A vial's volume: 1 µL to 100 mL.
pub const VIAL_VOLUME_UL: std::ops::RangeInclusive<i64> = 1..=100_000;

/// The passage number of a new lot.
pub fn check_passage(passage: i32) -> Result<(), Invalid> {
    ensure(
        PASSAGES.contains(&passage),
        "passage",
        "a passage number from 0 to 50",
    )
}

/// A lot expires after it is manufactured.
pub fn check_expiry(
    manufactured_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), Invalid> {
    ensure(
        expires_at > manufactured_at,
        "expires_at",
        "a lot expires after it is manufactured",
    )
}

/// A lot is made after its cord is collected.
pub fn check_made_after_collection(
    manufactured_at: DateTime<Utc>,
    collected_at: DateTime<Utc>,
) -> Result<(), Invalid> {
    ensure(
        manufactured_at >= collected_at,
        "manufactured_at",
        "a lot is made after its cord is collected",
    )
}

/// A lot is frozen after it is manufactured.
pub fn check_frozen_after_made(
    frozen_at: DateTime<Utc>,
    manufactured_at: DateTime<Utc>,
) -> Result<(), Invalid> {
    ensure(
        frozen_at >= manufactured_at,
        "frozen_at",
        "a lot is frozen after it is manufactured",
    )
}

/// What a lot is frozen into: its vials, each alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Vials {
    /// 1 to [`MAX_VIALS_PER_LOT`].
    pub count: u32,
    pub cells_per_vial: Cells,
    pub volume_ul: Microlitres,
}

impl Vials {
    pub fn parse(count: i32, cells_per_vial: i64, volume_ul: i64) -> Result<Vials, Invalid> {
        let count = u32::try_from(count)
            .ok()
            .filter(|n| (1..=MAX_VIALS_PER_LOT).contains(n))
            .ok_or_else(|| Invalid::new("vial_count", format!("1 to {MAX_VIALS_PER_LOT} vials")))?;
        let cells_per_vial = Some(cells_per_vial)
            .filter(|n| CELLS_PER_VIAL.contains(n))
            .and_then(|n| Cells::parse(n).ok())
            .ok_or_else(|| Invalid::new("cells_per_vial", "a whole number of cells, 1 to 10^12"))?;
        let volume_ul = Some(volume_ul)
            .filter(|ul| VIAL_VOLUME_UL.contains(ul))
            .and_then(|ul| Microlitres::parse(ul).ok())
            .ok_or_else(|| Invalid::new("volume_ul", "1 µL to 100 mL, in whole microlitres"))?;
        Ok(Vials {
            count,
            cells_per_vial,
            volume_ul,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(result: Result<Vials, Invalid>) -> &'static str {
        result.unwrap_err().field
    }

    #[test]
    fn vials_are_checked_at_both_ends() {
        let ok = Vials::parse(1, 1, 1).unwrap();
        assert_eq!(
            (ok.count, ok.cells_per_vial.get(), ok.volume_ul.get()),
            (1, 1, 1)
        );
        let most = Vials::parse(999, 1_000_000_000_000, 100_000).unwrap();
        assert_eq!(most.count, 999);
        assert_eq!(field(Vials::parse(0, 1, 1)), "vial_count");
        assert_eq!(field(Vials::parse(1000, 1, 1)), "vial_count");
        assert_eq!(field(Vials::parse(-1, 1, 1)), "vial_count");
        assert_eq!(field(Vials::parse(1, 0, 1)), "cells_per_vial");
        assert_eq!(
            field(Vials::parse(1, 1_000_000_000_001, 1)),
            "cells_per_vial"
        );
        assert_eq!(field(Vials::parse(1, 1, 0)), "volume_ul");
        assert_eq!(field(Vials::parse(1, 1, 100_001)), "volume_ul");
        assert_eq!(
            Vials::parse(1000, 1, 1).unwrap_err().message,
            "1 to 999 vials"
        );
    }

    #[test]
    fn a_passage_is_0_to_50() {
        assert!(check_passage(0).is_ok() && check_passage(50).is_ok());
        assert_eq!(check_passage(-1).unwrap_err().field, "passage");
        assert!(check_passage(51).is_err());
    }

    #[test]
    fn a_lot_s_dates_are_in_order() {
        let t = DateTime::UNIX_EPOCH;
        let later = t + chrono::Duration::seconds(1);
        assert!(check_expiry(t, later).is_ok());
        assert_eq!(check_expiry(t, t).unwrap_err().field, "expires_at");
        assert!(check_made_after_collection(t, t).is_ok());
        assert!(check_made_after_collection(t, later).is_err());
        assert!(check_frozen_after_made(t, t).is_ok());
        assert_eq!(
            check_frozen_after_made(t, later).unwrap_err().field,
            "frozen_at"
        );
    }
}
