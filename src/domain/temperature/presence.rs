//! Which vials were inside a unit while it was above its limit.
//!
//! A vial's presence in a unit (a tank, a freezer, a dry shipper) runs from
//! the instant it was put in up to the instant it was taken out: half-open,
//! `in_from <= t < in_until`, or open-ended while it is still inside. An
//! excursion covers `start <= t < end` (the unit read cold again at `end`),
//! or `start <= t <= end` when it never came back within its limit (see
//! [`Excursion::covers`]). A vial was exposed when the two share an instant:
//! - taken out exactly when the excursion started: not exposed (it left as
//!   the warm reading was taken);
//! - put in exactly when the unit read cold again: not exposed;
//! - put in exactly at the last reading of an open excursion: exposed;
//! - a presence that ends where it starts, or before, holds no instant and
//!   exposes nothing.

use std::collections::HashSet;
use std::hash::Hash;

use chrono::{DateTime, Utc};

use super::excursion::Excursion;

/// One stay of one vial in the unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presence<Id> {
    pub vial: Id,
    pub in_from: DateTime<Utc>,
    /// `None` while the vial is still inside.
    pub in_until: Option<DateTime<Utc>>,
}

impl<Id> Presence<Id> {
    /// The vial was inside at `at`.
    pub fn includes(&self, at: DateTime<Utc>) -> bool {
        self.in_from <= at && self.in_until.is_none_or(|until| at < until)
    }
}

/// Whether a stay and an excursion share at least one instant.
pub fn overlaps<Id>(excursion: &Excursion, presence: &Presence<Id>) -> bool {
    let entered_in_time = if excursion.back_within_limit {
        presence.in_from < excursion.end
    } else {
        presence.in_from <= excursion.end
    };
    let left_after_start = presence
        .in_until
        .is_none_or(|until| excursion.start < until && presence.in_from < until);
    entered_in_time && left_after_start
}

/// The vials inside the unit at some instant of the excursion: each once,
/// in the order of their first overlapping stay.
#[must_use]
pub fn vials_inside<Id: Clone + Eq + Hash>(
    excursion: &Excursion,
    presences: &[Presence<Id>],
) -> Vec<Id> {
    let mut seen = HashSet::new();
    presences
        .iter()
        .filter(|p| overlaps(excursion, p))
        .filter(|p| seen.insert(p.vial.clone()))
        .map(|p| p.vial.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::temperature::celsius::CentiCelsius;
    use chrono::TimeDelta;
    use proptest::prelude::*;

    fn t(minute: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-03-01T08:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
            + TimeDelta::minutes(minute)
    }

    fn excursion(start: i64, end: i64, back_within_limit: bool) -> Excursion {
        Excursion {
            start: t(start),
            end: t(end),
            back_within_limit,
            peak: CentiCelsius::degrees(-120),
            peak_at: t(start),
            readings_above: 2,
            holds: true,
        }
    }

    fn stay(vial: &'static str, from: i64, until: Option<i64>) -> Presence<&'static str> {
        Presence {
            vial,
            in_from: t(from),
            in_until: until.map(t),
        }
    }

    #[test]
    fn the_boundaries_of_a_closed_excursion() {
        // above from minute 10, cold again at minute 20
        let warm = excursion(10, 20, true);
        let stays = [
            stay("left as it started", 0, Some(10)),
            stay("left a minute in", 0, Some(11)),
            stay("arrived as it ended", 20, None),
            stay("arrived a minute before the end", 19, None),
            stay("inside throughout", 0, None),
            stay("in and out within it", 12, Some(14)),
            stay("left before", 0, Some(5)),
            stay("arrived after", 25, Some(40)),
            stay("in and out at one instant", 15, Some(15)),
            stay("ill-formed, out before in", 15, Some(12)),
        ];
        assert_eq!(
            vials_inside(&warm, &stays),
            vec![
                "left a minute in",
                "arrived a minute before the end",
                "inside throughout",
                "in and out within it",
            ]
        );
    }

    #[test]
    fn an_open_excursion_includes_its_last_reading() {
        // above from minute 10, still above at the last reading, minute 20
        let warm = excursion(10, 20, false);
        let stays = [
            stay("arrived at the last reading", 20, None),
            stay("arrived after it", 21, None),
            stay("left at the last reading", 0, Some(20)),
            stay("left as it started", 0, Some(10)),
        ];
        assert_eq!(
            vials_inside(&warm, &stays),
            vec!["arrived at the last reading", "left at the last reading"]
        );
        // a single reading above: one instant
        let instant = excursion(10, 10, false);
        assert_eq!(
            vials_inside(
                &instant,
                &[stay("there", 10, Some(11)), stay("gone", 0, Some(10))]
            ),
            vec!["there"]
        );
    }

    #[test]
    fn a_vial_with_two_stays_is_named_once() {
        let warm = excursion(10, 20, true);
        let stays = [
            stay("A-01", 0, Some(12)),
            stay("B-02", 0, None),
            stay("A-01", 15, None),
        ];
        assert_eq!(vials_inside(&warm, &stays), vec!["A-01", "B-02"]);
        assert!(vials_inside(&warm, &[] as &[Presence<&str>]).is_empty());
    }

    proptest! {
        /// Overlap means exactly: some minute inside the stay is one the
        /// excursion covers (all bounds on whole minutes, so minutes suffice).
        #[test]
        fn overlap_is_a_shared_instant(
            start in 5_i64..50,
            length in 0_i64..20,
            back in any::<bool>(),
            // stays begin and end near the excursion's edges
            entered in -5_i64..25,
            stayed in prop::option::of(-3_i64..30),
        ) {
            let (from, until) = (start + entered, stayed.map(|minutes| start + entered + minutes));
            let warm = excursion(start, start + if back { length.max(1) } else { length }, back);
            let presence = stay("V", from, until);
            let shared = (0..100).any(|m| warm.covers(t(m)) && presence.includes(t(m)));
            prop_assert_eq!(overlaps(&warm, &presence), shared);
        }
    }
}
