//! The arithmetic and naming of the sponsor's SDTM export (SDTM IG 3.4),
//! pure: study days, the cells an infusion actually gave and their dose
//! per kilogram (exact integers), the unique subject identifier, the
//! `--DTC` form of a time on the site's clock, and the visit an assessment
//! counts for.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::domain::visits::ScheduledVisit;
use crate::domain::zone::SiteZone;

/// The SDTM domains celltrail exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
pub enum SdtmDomain {
    /// Exposure: every infusion given.
    #[serde(rename = "EX", alias = "ex")]
    Ex,
    /// Adverse events, each once at its current values.
    #[serde(rename = "AE", alias = "ae")]
    Ae,
    /// Questionnaires: PASI and DLQI, item by item, and their totals.
    #[serde(rename = "QS", alias = "qs")]
    Qs,
    /// Disposition: patients' withdrawals from the trial.
    #[serde(rename = "DS", alias = "ds")]
    Ds,
}

impl SdtmDomain {
    /// The domain's two-letter code (`DOMAIN`).
    pub fn code(self) -> &'static str {
        match self {
            SdtmDomain::Ex => "EX",
            SdtmDomain::Ae => "AE",
            SdtmDomain::Qs => "QS",
            SdtmDomain::Ds => "DS",
        }
    }
}

/// The study day of `date` counted from `day1` (the subject's reference
/// start: their first infusion's date on the site's calendar), as SDTM
/// counts it: Day 1 is `day1`, the day before it is Day -1; there is no
/// Day 0.
pub fn study_day(date: NaiveDate, day1: NaiveDate) -> i64 {
    let days = (date - day1).num_days();
    if days >= 0 { days + 1 } else { days }
}

/// An instant as SDTM's `--DTC` on the site's clock: ISO 8601 to the
/// minute, without an offset (`2026-11-27T14:03`). The zone is the
/// site's (the export's README says which); the API keeps UTC.
pub fn dtc(zone: SiteZone, t: DateTime<Utc>) -> String {
    zone.local(t).format("%Y-%m-%dT%H:%M").to_string()
}

/// The cells an infusion gave: the prepared cells in the share of the
/// prepared volume that went in, `⌊prepared cells × infused µL ÷ prepared
/// µL⌋` (the bag is a uniform suspension; whole cells, rounded down, as
/// the preparation's own count is). All of it: exactly the prepared cells.
/// `None` when nothing was prepared (no volume to share).
pub fn cells_given(prepared_cells: i64, prepared_ul: i64, infused_ul: i64) -> Option<i64> {
    if prepared_ul <= 0 || prepared_cells < 0 || infused_ul < 0 {
        return None;
    }
    let given = i128::from(prepared_cells) * i128::from(infused_ul) / i128::from(prepared_ul);
    i64::try_from(given).ok()
}

/// Cells per kilogram of body weight, from the weight (in grams) the dose
/// was computed with: `cells × 1000 ÷ grams`, rounded half up to a whole
/// cell per kg. `None` for a weight of no grams.
pub fn cells_per_kg(cells: i64, weight_g: i64) -> Option<i64> {
    if weight_g <= 0 || cells < 0 {
        return None;
    }
    let (n, d) = (i128::from(cells) * 1000, i128::from(weight_g));
    i64::try_from((2 * n + d) / (2 * d)).ok()
}

/// The unique subject identifier: study, site and subject joined by
/// hyphens (`NCT02491658-A9999-PV-007`), unique across the study because
/// the subject code is unique in celltrail and the site's facility code
/// names the site.
pub fn usubjid(study_id: &str, site_id: &str, subject_code: &str) -> String {
    format!("{study_id}-{site_id}-{subject_code}")
}

/// A PASI in tenths as people write it: one decimal (`12.3`, `0.0`).
pub fn tenths(value: i32) -> String {
    format!("{}.{}", value / 10, (value % 10).abs())
}

/// A visit of the schedule as SDTM names it: `VISITNUM` is the week after
/// Day 1 (0 for the baseline), `VISIT` its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visit {
    pub number: i32,
    pub name: String,
}

/// The visit whose window (on the site's calendar, from Day 1) holds
/// `date`: the schedule's windows never overlap, so at most one does.
/// `None` before Day 1 is known or outside every window (an unscheduled
/// assessment).
pub fn visit_of(
    schedule: &[ScheduledVisit],
    day1: Option<NaiveDate>,
    date: NaiveDate,
) -> Option<Visit> {
    let day1 = day1?;
    schedule
        .iter()
        .find(|v| {
            let target = day1 + Duration::days(7 * i64::from(v.week));
            let opens = target - Duration::days(i64::from(v.early_days));
            let closes = target + Duration::days(i64::from(v.late_days));
            (opens..=closes).contains(&date)
        })
        .map(|v| Visit {
            number: v.week,
            name: if v.week == 0 {
                "BASELINE".to_owned()
            } else {
                format!("WEEK {}", v.week)
            },
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::visits::default_schedule;
    use proptest::prelude::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn study_days_have_no_day_zero() {
        let day1 = day(2026, 3, 2);
        assert_eq!(study_day(day(2026, 3, 2), day1), 1);
        assert_eq!(study_day(day(2026, 3, 3), day1), 2);
        assert_eq!(study_day(day(2026, 3, 9), day1), 8);
        assert_eq!(study_day(day(2026, 3, 1), day1), -1);
        assert_eq!(study_day(day(2026, 2, 27), day1), -3);
        // across a month and a leap day
        assert_eq!(study_day(day(2028, 3, 1), day(2028, 2, 28)), 3);
    }

    #[test]
    fn a_time_is_written_on_the_site_clock_to_the_minute() {
        let zone = SiteZone::parse("Asia/Shanghai").unwrap();
        let t: DateTime<Utc> = "2026-03-01T17:30:59Z".parse().unwrap();
        // 01:30 the next morning in Beijing: the date is the site's too
        assert_eq!(dtc(zone, t), "2026-03-02T01:30");
        assert_eq!(dtc(SiteZone::UTC, t), "2026-03-01T17:30");
    }

    #[test]
    fn cells_given_share_the_prepared_cells_by_volume() {
        assert_eq!(cells_given(40_000_000, 2_500, 2_500), Some(40_000_000));
        assert_eq!(cells_given(40_000_000, 2_500, 2_000), Some(32_000_000));
        // rounded down to a whole cell: 41 600 000 × 1 ÷ 3 = 13 866 666.67
        assert_eq!(cells_given(41_600_000, 3, 1), Some(13_866_666));
        assert_eq!(cells_given(40_000_000, 2_500, 0), Some(0));
        assert_eq!(cells_given(40_000_000, 0, 100), None);
    }

    #[test]
    fn cells_per_kg_round_half_up() {
        assert_eq!(cells_per_kg(40_000_000, 40_000), Some(1_000_000));
        // 33 600 000 × 1000 ÷ 41 300 = 813 559.32…
        assert_eq!(cells_per_kg(33_600_000, 41_300), Some(813_559));
        // exactly half a cell per kg goes up: 1 × 1000 ÷ 2000 = 0.5
        assert_eq!(cells_per_kg(1, 2_000), Some(1));
        // just under a half goes down: 1 × 1000 ÷ 2001 = 0.49975…
        assert_eq!(cells_per_kg(1, 2_001), Some(0));
        assert_eq!(cells_per_kg(1, 0), None);
        // the largest dose the quantities allow does not overflow
        assert_eq!(
            cells_per_kg(1_000_000_000_000_000, 1),
            Some(1_000_000_000_000_000_000)
        );
    }

    #[test]
    fn tenths_read_with_one_decimal() {
        assert_eq!(tenths(123), "12.3");
        assert_eq!(tenths(0), "0.0");
        assert_eq!(tenths(720), "72.0");
        assert_eq!(tenths(7), "0.7");
    }

    #[test]
    fn an_assessment_counts_for_the_visit_whose_window_holds_it() {
        let day1 = day(2026, 3, 2);
        let schedule = default_schedule();
        let visit = |d| visit_of(&schedule, Some(day1), d).map(|v| (v.number, v.name));
        assert_eq!(visit(day(2026, 3, 2)), Some((0, "BASELINE".into())));
        assert_eq!(visit(day(2026, 2, 2)), Some((0, "BASELINE".into())));
        assert_eq!(visit(day(2026, 2, 1)), None);
        assert_eq!(visit(day(2026, 3, 3)), None);
        // week 4 is Day 29 (2026-03-30), ± 7 days
        assert_eq!(visit(day(2026, 3, 23)), Some((4, "WEEK 4".into())));
        assert_eq!(visit(day(2026, 4, 6)), Some((4, "WEEK 4".into())));
        assert_eq!(visit(day(2026, 4, 7)), None);
        assert_eq!(visit_of(&schedule, None, day1), None);
    }

    proptest! {
        /// Study days are never 0 and step by one from day to day, but for
        /// the step from Day -1 to Day 1.
        #[test]
        fn study_days_step_over_zero(offset in -400i64..400) {
            let day1 = day(2026, 3, 2);
            let d = day1 + Duration::days(offset);
            let today = study_day(d, day1);
            let tomorrow = study_day(d + Duration::days(1), day1);
            prop_assert_ne!(today, 0);
            prop_assert_eq!(tomorrow - today, if today == -1 { 2 } else { 1 });
        }

        /// The cells given never exceed the prepared cells' share by a
        /// whole cell, and never fall short of it by one either.
        #[test]
        fn cells_given_are_the_share_rounded_down(
            cells in 0i64..10_000_000_000,
            prepared in 1i64..100_000,
            infused in 0i64..100_000,
        ) {
            let given = cells_given(cells, prepared, infused).unwrap();
            let exact = i128::from(cells) * i128::from(infused);
            prop_assert!(i128::from(given) * i128::from(prepared) <= exact);
            prop_assert!((i128::from(given) + 1) * i128::from(prepared) > exact);
        }
    }
}
