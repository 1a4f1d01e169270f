//! What a label request may ask: a few copies per vial at a time, a short
//! reason, and only for a vial whose life is not over.

use crate::domain::invalid::{Invalid, ensure};
use crate::domain::lifecycle::VialStatus;

/// Most labels one issue may print per vial: more is a slip of the finger.
pub const MAX_COPIES: i32 = 10;

/// Vials whose life is over get no new labels (a label on nothing invites
/// a mix-up); every other vial of the lot is on its sheet.
pub const UNLABELLED: [VialStatus; 2] = [VialStatus::Infused, VialStatus::Discarded];

/// A request for `count` labels per vial with an optional reason (trimmed;
/// an empty one is none): the reason as kept.
pub fn check_request(count: i32, reason: Option<&str>) -> Result<Option<String>, Invalid> {
    ensure(
        (1..=MAX_COPIES).contains(&count),
        "count",
        format!("1 to {MAX_COPIES} labels per vial at a time"),
    )?;
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    ensure(
        reason.is_none_or(|r| r.chars().count() <= 1000),
        "reason",
        "at most 1000 characters",
    )?;
    Ok(reason.map(str::to_owned))
}

/// A vial gets new labels unless its life is over.
pub fn check_labellable(status: VialStatus) -> Result<(), Invalid> {
    ensure(
        !UNLABELLED.contains(&status),
        "vial",
        format!("a vial that is {status} gets no new labels"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_to_ten_copies_with_a_short_reason() {
        assert_eq!(check_request(1, None), Ok(None));
        assert_eq!(check_request(10, Some("  ")), Ok(None));
        assert_eq!(check_request(0, None).unwrap_err().field, "count");
        assert_eq!(
            check_request(11, None).unwrap_err().message,
            "1 to 10 labels per vial at a time"
        );
        let longest = "x".repeat(1000);
        assert_eq!(check_request(1, Some(&longest)), Ok(Some(longest.clone())));
        assert_eq!(
            check_request(1, Some(&"x".repeat(1001))).unwrap_err().field,
            "reason"
        );
    }

    #[test]
    fn a_vial_whose_life_is_over_gets_no_labels() {
        assert!(check_labellable(VialStatus::Quarantine).is_ok());
        assert_eq!(
            check_labellable(VialStatus::Infused).unwrap_err().message,
            "a vial that is infused gets no new labels"
        );
        assert!(check_labellable(VialStatus::Discarded).is_err());
    }
}
