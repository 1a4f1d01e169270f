//! An infusion's record checked as it is written: when it began (against
//! the server's clock and the thaw), when it ended, the volume given and
//! its adverse events. Each refusal names the field it came from.

use chrono::{DateTime, Duration, Utc};

use crate::domain::invalid::{Invalid, ensure};
use crate::domain::quantity::Microlitres;
use crate::domain::reason::Reason;
use crate::domain::units::millilitres;

/// An infusion recorded as it happens begins within `skew` of the server's
/// clock; one given earlier, during an outage, is a signed late entry.
pub fn check_started_now(
    started_at: DateTime<Utc>,
    now: DateTime<Utc>,
    skew: Duration,
) -> Result<(), Invalid> {
    ensure(
        (started_at - now).abs() <= skew,
        "started_at",
        format!(
            "{started_at} is more than 5 minutes from the server's clock ({now}); an infusion given earlier, during an outage, is recorded as a late entry (signed, with a reason)"
        ),
    )
}

/// An infusion begins after its product was thawed, give or take `slack`
/// between clocks.
pub fn check_started_after_thaw(
    started_at: DateTime<Utc>,
    thawed_at: DateTime<Utc>,
    slack: Duration,
) -> Result<(), Invalid> {
    ensure(
        started_at >= thawed_at - slack,
        "started_at",
        "before the product was thawed",
    )
}

/// An infusion ends after it started.
pub fn check_ended_after_start(
    ended_at: DateTime<Utc>,
    started_at: DateTime<Utc>,
) -> Result<(), Invalid> {
    ensure(
        ended_at >= started_at,
        "ended_at",
        "before the infusion started",
    )
}

/// The reason an unusual infused volume is right.
pub fn unusual_volume_reason(raw: &str) -> Result<Reason, Invalid> {
    Reason::parse(raw).map_err(|_| {
        Invalid::new(
            "reason",
            "confirming an unusual volume needs the reason (a primed line, a leak, an infusion stopped early)",
        )
    })
}

/// The volume given: none to all that was thawed (at least the prepared
/// volume, for a dose thawed before the thawed volume was kept).
pub fn infused_volume(
    volume_infused_ul: i64,
    prepared_ul: Microlitres,
    available_ul: Option<Microlitres>,
) -> Result<Microlitres, Invalid> {
    let thawed = available_ul.unwrap_or(prepared_ul).max(prepared_ul);
    Some(volume_infused_ul)
        .filter(|ul| (0..=thawed.get()).contains(ul))
        .and_then(|ul| Microlitres::parse(ul).ok())
        .ok_or_else(|| {
            Invalid::new(
                "volume_infused_ul",
                format!(
                    "0 to the {} thawed ({} prepared), in µL",
                    millilitres(thawed),
                    millilitres(prepared_ul)
                ),
            )
        })
}

/// The `n`th adverse event as sent (from 1): a term of 1 to 200
/// characters and a CTCAE grade from 1 to 5.
pub fn check_adverse_event(n: usize, term: &str, grade: i32) -> Result<(), Invalid> {
    let term = term.trim();
    ensure(
        !term.is_empty() && term.chars().count() <= 200 && !term.chars().any(char::is_control),
        "adverse_events.term",
        format!("event {n}: a term of 1 to 200 characters"),
    )?;
    ensure(
        (1..=5).contains(&grade),
        "adverse_events.grade",
        format!("event {n}: a CTCAE grade from 1 to 5"),
    )
}

/// An adverse event of an infusion begins after the infusion started.
pub fn check_onset(onset_at: DateTime<Utc>, started_at: DateTime<Utc>) -> Result<(), Invalid> {
    ensure(
        onset_at >= started_at,
        "adverse_events.onset_at",
        "an adverse event of this infusion begins after it started",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ul(volume: i64) -> Microlitres {
        Microlitres::parse(volume).unwrap()
    }

    #[test]
    fn the_volume_given_is_none_to_all_that_was_thawed() {
        assert_eq!(infused_volume(0, ul(4400), Some(ul(6000))), Ok(ul(0)));
        assert_eq!(infused_volume(6000, ul(4400), Some(ul(6000))), Ok(ul(6000)));
        let refused = infused_volume(6001, ul(4400), Some(ul(6000))).unwrap_err();
        assert_eq!(refused.field, "volume_infused_ul");
        assert_eq!(
            refused.message,
            "0 to the 6 mL thawed (4.4 mL prepared), in µL"
        );
        assert!(infused_volume(-1, ul(4400), Some(ul(6000))).is_err());
        // no thawed volume kept: the prepared one bounds it
        assert!(infused_volume(4400, ul(4400), None).is_ok());
        assert!(infused_volume(4401, ul(4400), None).is_err());
    }

    #[test]
    fn an_adverse_event_has_a_term_and_a_grade() {
        assert!(check_adverse_event(1, "rash", 1).is_ok());
        assert!(check_adverse_event(1, &"x".repeat(200), 5).is_ok());
        let long = check_adverse_event(2, &"x".repeat(201), 1).unwrap_err();
        assert_eq!(
            (long.field, long.message.as_str()),
            (
                "adverse_events.term",
                "event 2: a term of 1 to 200 characters"
            )
        );
        assert!(check_adverse_event(1, "  ", 1).is_err());
        assert_eq!(
            check_adverse_event(1, "rash", 0).unwrap_err().field,
            "adverse_events.grade"
        );
        assert!(check_adverse_event(1, "rash", 6).is_err());
    }

    #[test]
    fn an_infusion_s_times_are_in_order() {
        let t = DateTime::UNIX_EPOCH;
        let skew = Duration::minutes(5);
        assert!(check_started_now(t + skew, t, skew).is_ok());
        assert!(check_started_now(t - skew, t, skew).is_ok());
        assert!(check_started_now(t + skew + Duration::seconds(1), t, skew).is_err());
        assert!(check_started_after_thaw(t - skew, t, skew).is_ok());
        assert!(check_started_after_thaw(t - Duration::seconds(1), t, Duration::zero()).is_err());
        assert!(check_ended_after_start(t, t).is_ok());
        assert!(check_ended_after_start(t - Duration::seconds(1), t).is_err());
        assert!(check_onset(t, t).is_ok());
        assert!(check_onset(t - Duration::seconds(1), t).is_err());
    }
}
