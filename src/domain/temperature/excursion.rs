//! Excursions: when a series of readings went above its limit, for how
//! long, how warm, and whether that was long enough to hold the product.
//!
//! The rules, all exact (integer hundredths, whole seconds of `chrono`):
//! - Readings are sorted by time; two readings at the same instant are both
//!   kept, the colder first, so the warmer one decides (a probe and its
//!   duplicate disagreeing is not a reason to look away).
//! - A reading *exactly at* the limit is within it: only `temperature > max`
//!   is above.
//! - An excursion is a maximal run of consecutive readings above the limit.
//!   It starts at the first of them and ends at the first reading back at or
//!   below the limit (`back_within_limit`); the interval is half-open, from
//!   `start` up to but not including `end`, since at `end` the unit read cold.
//!   If the series ends while still above, the excursion is *open*: it ends
//!   at its last reading (a lower bound of its length, as nobody knows when it
//!   came back), and its interval includes that instant.
//! - It *holds* the product when it lasted strictly longer than
//!   `allowed_minutes`; one that did not is an alarm, reported, not holding.
//!   An open excursion is judged on the length it is known to have had.
//! - A gap, two consecutive readings further apart than the series' maximum
//!   gap, is reported: a gap is not proof of cold. A gap that begins above
//!   the limit lies inside the excursion, which goes on until a reading comes
//!   back cold (`Gap::within_excursion`); one that begins within the limit is
//!   only reported, for a person to judge.

use chrono::{DateTime, TimeDelta, Utc};

use super::celsius::CentiCelsius;

/// One temperature at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Reading {
    pub at: DateTime<Utc>,
    pub temperature: CentiCelsius,
}

/// The warmest a product may be, and for how long it may be warmer before
/// it is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The warmest temperature within the limit (at it is within).
    pub max: CentiCelsius,
    /// Minutes above `max` that raise an alarm but do not hold the product.
    pub allowed_minutes: u32,
}

impl Limits {
    /// MSC cryovials in vapour-phase liquid nitrogen: at or below −150 °C,
    /// 15 °C below the glass transition of water (about −135 °C) under which
    /// ice does not recrystallise. Ten minutes above raise an alarm without
    /// a hold: opening a lid or moving a rack warms the top of a vapour-phase
    /// tank for a few minutes while the vials' own mass keeps them cold, and
    /// with the usual 5-minute logging interval one or two readings above the
    /// limit (5 or 10 minutes) are an alarm, a third is a hold. Shippers and
    /// units with their own validated allowance pass their own.
    pub const MSC_VAPOUR_PHASE_LN2: Limits = Limits {
        max: CentiCelsius::degrees(-150),
        allowed_minutes: 10,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::MSC_VAPOUR_PHASE_LN2
    }
}

/// Readings further apart than this are a gap, unless the series says
/// otherwise: six missed readings at a 5-minute interval, two at 15.
pub const DEFAULT_MAX_GAP_MINUTES: u32 = 30;

/// A run of readings above the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Excursion {
    /// The first reading above the limit.
    pub start: DateTime<Utc>,
    /// The first reading back at or below it, or, when `back_within_limit`
    /// is false, the last reading of the series (still above).
    pub end: DateTime<Utc>,
    pub back_within_limit: bool,
    /// The warmest reading, and when it was first read.
    pub peak: CentiCelsius,
    pub peak_at: DateTime<Utc>,
    /// How many readings were above the limit.
    pub readings_above: usize,
    /// Lasted longer than the allowed minutes: the product inside is held.
    pub holds: bool,
}

impl Excursion {
    /// How long it lasted (for an open one, at least this long).
    pub fn duration(&self) -> TimeDelta {
        self.end - self.start
    }

    /// Whether the unit was above its limit at `at`, as far as the readings
    /// tell: `start <= at < end`, or `start <= at <= end` for an open one.
    pub fn covers(&self, at: DateTime<Utc>) -> bool {
        self.start <= at && (at < self.end || (!self.back_within_limit && at == self.end))
    }
}

/// Two consecutive readings further apart than the maximum gap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gap {
    /// The reading before the gap.
    pub from: DateTime<Utc>,
    /// The reading after it.
    pub until: DateTime<Utc>,
    /// The reading before the gap was above the limit: the gap is part of
    /// that excursion.
    pub within_excursion: bool,
}

/// What a series of readings says against its limits.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Analysis {
    /// Every run above the limit, in time order, holding or not.
    pub excursions: Vec<Excursion>,
    pub gaps: Vec<Gap>,
    /// The first and last reading: the span the series speaks for.
    pub first: Option<DateTime<Utc>>,
    pub last: Option<DateTime<Utc>>,
}

impl Analysis {
    /// The excursions that hold the product.
    pub fn holding(&self) -> impl Iterator<Item = &Excursion> {
        self.excursions.iter().filter(|e| e.holds)
    }

    /// The excursions too short to hold it: alarms.
    pub fn alarms(&self) -> impl Iterator<Item = &Excursion> {
        self.excursions.iter().filter(|e| !e.holds)
    }
}

/// Finds every excursion and every gap of `readings` (in any order).
#[must_use]
pub fn analyse(readings: &[Reading], limits: &Limits, max_gap_minutes: u32) -> Analysis {
    let mut sorted = readings.to_vec();
    sorted.sort_by_key(|r| (r.at, r.temperature));
    let allowed = TimeDelta::minutes(i64::from(limits.allowed_minutes));
    let max_gap = TimeDelta::minutes(i64::from(max_gap_minutes));
    let above = |r: &Reading| r.temperature > limits.max;

    let mut excursions = Vec::new();
    let mut current: Option<Excursion> = None;
    for reading in &sorted {
        match (&mut current, above(reading)) {
            (None, true) => {
                current = Some(Excursion {
                    start: reading.at,
                    end: reading.at,
                    back_within_limit: false,
                    peak: reading.temperature,
                    peak_at: reading.at,
                    readings_above: 1,
                    holds: false,
                });
            }
            (Some(run), true) => {
                run.end = reading.at;
                run.readings_above += 1;
                if reading.temperature > run.peak {
                    run.peak = reading.temperature;
                    run.peak_at = reading.at;
                }
            }
            (Some(run), false) => {
                run.end = reading.at;
                run.back_within_limit = true;
                run.holds = run.duration() > allowed;
                excursions.push(*run);
                current = None;
            }
            (None, false) => {}
        }
    }
    if let Some(mut open) = current {
        open.holds = open.duration() > allowed;
        excursions.push(open);
    }

    let gaps = sorted
        .windows(2)
        .filter(|pair| pair[1].at - pair[0].at > max_gap)
        .map(|pair| Gap {
            from: pair[0].at,
            until: pair[1].at,
            within_excursion: above(&pair[0]),
        })
        .collect();

    Analysis {
        excursions,
        gaps,
        first: sorted.first().map(|r| r.at),
        last: sorted.last().map(|r| r.at),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn t(minute: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-03-01T08:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
            + TimeDelta::minutes(minute)
    }

    /// Readings every five minutes from minute 0, in whole degrees.
    fn series(degrees: &[i16]) -> Vec<Reading> {
        degrees
            .iter()
            .enumerate()
            .map(|(i, &d)| Reading {
                at: t(5 * i as i64),
                temperature: CentiCelsius::degrees(d),
            })
            .collect()
    }

    fn limits(allowed_minutes: u32) -> Limits {
        Limits {
            max: CentiCelsius::degrees(-150),
            allowed_minutes,
        }
    }

    #[test]
    fn a_series_at_or_below_the_limit_has_no_excursion() {
        let analysis = analyse(&series(&[-190, -150, -150, -160]), &limits(0), 30);
        assert!(analysis.excursions.is_empty());
        assert!(analysis.gaps.is_empty());
        assert_eq!((analysis.first, analysis.last), (Some(t(0)), Some(t(15))));
        assert_eq!(analyse(&[], &limits(0), 30), Analysis::default());
    }

    #[test]
    fn one_reading_above_runs_until_the_next_cold_one() {
        let analysis = analyse(&series(&[-190, -149, -190]), &limits(0), 30);
        let [run] = analysis.excursions[..] else {
            panic!("one run expected: {analysis:?}")
        };
        assert_eq!((run.start, run.end), (t(5), t(10)));
        assert!(run.back_within_limit);
        assert_eq!(run.duration(), TimeDelta::minutes(5));
        assert_eq!((run.peak, run.peak_at), (CentiCelsius::degrees(-149), t(5)));
        assert_eq!(run.readings_above, 1);
        assert!(run.holds, "5 minutes is longer than 0 allowed");
        assert!(run.covers(t(5)) && run.covers(t(9)));
        assert!(!run.covers(t(10)), "at the end it read cold");
        assert!(!run.covers(t(4)));
    }

    #[test]
    fn exactly_the_allowed_minutes_is_an_alarm_and_one_second_more_holds() {
        let analysis = analyse(&series(&[-190, -140, -130, -190]), &limits(10), 30);
        let run = analysis.excursions[0];
        assert_eq!(run.duration(), TimeDelta::minutes(10));
        assert!(!run.holds);
        assert_eq!(analysis.alarms().count(), 1);
        assert_eq!(analysis.holding().count(), 0);

        let mut longer = series(&[-190, -140, -130]);
        longer.push(Reading {
            at: t(15) + TimeDelta::seconds(1),
            temperature: CentiCelsius::degrees(-190),
        });
        let run = analyse(&longer, &limits(10), 30).excursions[0];
        assert!(run.holds);
        assert_eq!(
            (run.peak, run.peak_at),
            (CentiCelsius::degrees(-130), t(10))
        );
    }

    #[test]
    fn a_run_that_never_comes_back_is_open_at_the_last_reading() {
        let analysis = analyse(&series(&[-190, -140, -120, -130]), &limits(10), 30);
        let run = analysis.excursions[0];
        assert!(!run.back_within_limit);
        assert_eq!((run.start, run.end), (t(5), t(15)));
        assert!(!run.holds, "known to have lasted 10 minutes, not longer");
        assert!(run.covers(t(15)), "an open run includes its last reading");
        assert!(!run.covers(t(16)));

        let single = analyse(&series(&[-190, -100]), &limits(0), 30).excursions[0];
        assert_eq!((single.start, single.end), (t(5), t(5)));
        assert!(!single.holds, "nothing is known beyond one reading");
        assert!(single.covers(t(5)));
    }

    #[test]
    fn separate_runs_are_separate_excursions() {
        let analysis = analyse(
            &series(&[-140, -190, -140, -140, -190, -150, -149]),
            &limits(5),
            30,
        );
        let spans: Vec<_> = analysis
            .excursions
            .iter()
            .map(|e| (e.start, e.end, e.back_within_limit, e.holds))
            .collect();
        assert_eq!(
            spans,
            vec![
                (t(0), t(5), true, false),
                (t(10), t(20), true, true),
                (t(30), t(30), false, false),
            ]
        );
    }

    #[test]
    fn readings_are_sorted_and_the_warmer_of_two_at_one_instant_counts() {
        let mut readings = series(&[-190, -190, -190]);
        readings.push(Reading {
            at: t(5),
            temperature: CentiCelsius::degrees(-100),
        });
        readings.reverse();
        let analysis = analyse(&readings, &limits(0), 30);
        let [run] = analysis.excursions[..] else {
            panic!("one run expected: {analysis:?}")
        };
        assert_eq!((run.start, run.end), (t(5), t(10)));
        assert_eq!(run.peak, CentiCelsius::degrees(-100));
    }

    #[test]
    fn gaps_are_reported_and_one_beginning_above_continues_the_excursion() {
        let readings = vec![
            Reading {
                at: t(0),
                temperature: CentiCelsius::degrees(-190),
            },
            Reading {
                at: t(30),
                temperature: CentiCelsius::degrees(-190),
            },
            // 31 minutes: a gap, beginning cold
            Reading {
                at: t(61),
                temperature: CentiCelsius::degrees(-140),
            },
            // a gap beginning above: the excursion runs through it
            Reading {
                at: t(200),
                temperature: CentiCelsius::degrees(-190),
            },
        ];
        let analysis = analyse(&readings, &limits(10), 30);
        assert_eq!(
            analysis.gaps,
            vec![
                Gap {
                    from: t(30),
                    until: t(61),
                    within_excursion: false
                },
                Gap {
                    from: t(61),
                    until: t(200),
                    within_excursion: true
                },
            ]
        );
        let run = analysis.excursions[0];
        assert_eq!((run.start, run.end), (t(61), t(200)));
        assert!(run.holds);
        assert!(
            analyse(&readings, &limits(10), 200).gaps.is_empty(),
            "the maximum gap is the series' own"
        );
    }

    #[test]
    fn the_product_default_is_minus_150_with_ten_minutes() {
        assert_eq!(Limits::default().max.get(), -15_000);
        assert_eq!(Limits::default().allowed_minutes, 10);
    }

    fn readings_strategy() -> impl Strategy<Value = Vec<Reading>> {
        // minutes 0..600, temperatures −200.00 to −100.00 °C, often at the limit
        prop::collection::vec(
            (
                0_i64..600,
                prop_oneof![Just(-15_000_i32), Just(-14_999), -20_000_i32..=-10_000],
            ),
            0..60,
        )
        .prop_map(|points| {
            points
                .into_iter()
                .map(|(minute, centi)| Reading {
                    at: t(minute),
                    temperature: CentiCelsius::new(centi).unwrap(),
                })
                .collect()
        })
    }

    proptest! {
        #[test]
        fn every_reading_above_lies_in_exactly_one_excursion(
            readings in readings_strategy(),
            allowed in 0_u32..60,
        ) {
            let limits = limits(allowed);
            let analysis = analyse(&readings, &limits, 30);
            for reading in readings.iter().filter(|r| r.temperature > limits.max) {
                let inside = analysis
                    .excursions
                    .iter()
                    .filter(|e| e.covers(reading.at))
                    .count();
                prop_assert_eq!(inside, 1, "{:?} in {:?}", reading, analysis.excursions);
            }
            let above = readings.iter().filter(|r| r.temperature > limits.max).count();
            prop_assert_eq!(
                analysis.excursions.iter().map(|e| e.readings_above).sum::<usize>(),
                above
            );
        }

        #[test]
        fn excursions_never_overlap_and_are_judged_by_their_length(
            readings in readings_strategy(),
            allowed in 0_u32..60,
        ) {
            let analysis = analyse(&readings, &limits(allowed), 30);
            for pair in analysis.excursions.windows(2) {
                prop_assert!(pair[0].back_within_limit);
                prop_assert!(pair[0].end <= pair[1].start);
            }
            for e in &analysis.excursions {
                prop_assert!(e.start <= e.peak_at && e.peak_at <= e.end);
                prop_assert!(e.peak > limits(allowed).max);
                prop_assert_eq!(
                    e.holds,
                    e.duration() > TimeDelta::minutes(i64::from(allowed))
                );
                if e.back_within_limit {
                    prop_assert!(e.start < e.end);
                }
            }
        }

        #[test]
        fn a_cold_series_has_no_excursion(readings in readings_strategy()) {
            let cold: Vec<_> = readings
                .into_iter()
                .filter(|r| r.temperature <= CentiCelsius::degrees(-150))
                .collect();
            prop_assert!(analyse(&cold, &limits(0), 30).excursions.is_empty());
        }

        #[test]
        fn shifting_every_reading_shifts_the_answer(
            readings in readings_strategy(),
            shift in -100_000_i64..100_000,
        ) {
            let shift = TimeDelta::minutes(shift);
            let moved: Vec<_> = readings
                .iter()
                .map(|r| Reading { at: r.at + shift, ..*r })
                .collect();
            let before = analyse(&readings, &limits(10), 30);
            let after = analyse(&moved, &limits(10), 30);
            let shifted: Vec<_> = before
                .excursions
                .iter()
                .map(|e| Excursion {
                    start: e.start + shift,
                    end: e.end + shift,
                    peak_at: e.peak_at + shift,
                    ..*e
                })
                .collect();
            prop_assert_eq!(after.excursions, shifted);
            let gaps: Vec<_> = before
                .gaps
                .iter()
                .map(|g| Gap { from: g.from + shift, until: g.until + shift, ..*g })
                .collect();
            prop_assert_eq!(after.gaps, gaps);
        }

        #[test]
        fn the_order_of_the_input_does_not_matter(
            readings in readings_strategy(),
            seed in any::<u64>(),
        ) {
            let mut shuffled = readings.clone();
            // a deterministic shuffle from the seed
            let mut state = seed | 1;
            for i in (1..shuffled.len()).rev() {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                shuffled.swap(i, (state % (i as u64 + 1)) as usize);
            }
            prop_assert_eq!(
                analyse(&readings, &limits(10), 30),
                analyse(&shuffled, &limits(10), 30)
            );
        }
    }
}
