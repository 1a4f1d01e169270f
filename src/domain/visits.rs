//! The trial's assessment visits: the schedule the protocol keeps (a
//! baseline, then follow-ups weeks after the first infusion, each with a
//! window of days either side), and each patient's visits judged from their
//! first infusion, their recorded assessments and today's date on the
//! site's calendar: done, due, overdue, upcoming or missed.

use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::assessment::AssessmentKind;
use crate::domain::invalid::Invalid;
use crate::domain::lifecycle::string_enum;

/// One visit of the assessment schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduledVisit {
    /// Weeks after Day 1 (the first infusion's date on the site's
    /// calendar); 0 is the baseline.
    pub week: i32,
    /// Days before the visit's date from which a PASI and DLQI count for it.
    pub early_days: i32,
    /// Days after the visit's date until which they still count for it.
    pub late_days: i32,
}

/// The default schedule: a baseline in the 4 weeks up to and including
/// Day 1 (a screening visit's scores, assessments are accepted up to 30
/// days before enrolment), then weeks 4, 8 and 12 within ± 7 days (one
/// week, as the follow-up visits of the seed trial were kept), week 24
/// within ± 14 days and week 52 within ± 28 days: later visits get wider
/// windows, as patients' plans drift more over months, yet no two windows
/// touch, so an assessment always counts for one visit only.
pub fn default_schedule() -> Vec<ScheduledVisit> {
    let visit = |week, early_days, late_days| ScheduledVisit {
        week,
        early_days,
        late_days,
    };
    vec![
        visit(0, 28, 0),
        visit(4, 7, 7),
        visit(8, 7, 7),
        visit(12, 7, 7),
        visit(24, 14, 14),
        visit(52, 28, 28),
    ]
}

/// Checks a schedule: 1 to 20 visits, weeks 0 to 260 in increasing order,
/// windows of 0 to 90 days either side that neither overlap nor reach
/// before the baseline.
pub fn check_schedule(schedule: &[ScheduledVisit]) -> Result<(), Invalid> {
    let bad = |message: String| Err(Invalid::new("visit_schedule", message));
    if schedule.is_empty() || schedule.len() > 20 {
        return bad("1 to 20 visits".into());
    }
    let mut previous_close: Option<i64> = None;
    for v in schedule {
        if !(0..=260).contains(&v.week) {
            return bad(format!("week {} is not 0 to 260", v.week));
        }
        if !(0..=90).contains(&v.early_days) || !(0..=90).contains(&v.late_days) {
            return bad(format!(
                "the window of week {} is not 0 to 90 days either side",
                v.week
            ));
        }
        let (opens, closes) = window_days(v);
        if previous_close.is_some_and(|close| opens <= close) {
            return bad(format!(
                "the window of week {} overlaps the visit before it",
                v.week
            ));
        }
        previous_close = Some(closes);
    }
    Ok(())
}

/// A visit's window in days from Day 1 (day 0 being Day 1 itself).
fn window_days(v: &ScheduledVisit) -> (i64, i64) {
    let target = 7 * i64::from(v.week);
    (
        target - i64::from(v.early_days),
        target + i64::from(v.late_days),
    )
}

string_enum!(
    /// Where a patient's visit stands today: `upcoming` (its window has
    /// not opened), `due` (open, its date not passed), `overdue` (its date
    /// passed, its window still open), `done` (a PASI and a DLQI assessed
    /// inside its window) or `missed` (its window closed without them: a
    /// deviation to report, no longer something to do).
    VisitStatus {
        Upcoming => "upcoming",
        Due => "due",
        Overdue => "overdue",
        Done => "done",
        Missed => "missed",
    }
);

/// A patient's visit, judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatientVisit {
    pub week: i32,
    /// Day 1 + `week` weeks.
    pub date: NaiveDate,
    pub opens: NaiveDate,
    pub closes: NaiveDate,
    pub status: VisitStatus,
    /// The scores still to assess inside the window (none when done).
    pub missing: Vec<AssessmentKind>,
    /// The patient withdrew from the trial: still listed, no longer
    /// required (`domain::withdrawal`).
    pub optional: bool,
}

impl PatientVisit {
    /// Whether it asks for work today (the home pages list these).
    pub fn to_do(&self) -> bool {
        matches!(self.status, VisitStatus::Due | VisitStatus::Overdue) && !self.optional
    }
}

/// Each visit of `schedule` for a patient whose first infusion was on
/// `first_day` (site calendar; `None`: not infused yet, so nothing is
/// scheduled), given the site-local dates of their assessments, judged on
/// `today`. A visit is done when a PASI and a DLQI were both assessed
/// inside its window, whatever today is.
pub fn patient_visits(
    schedule: &[ScheduledVisit],
    first_day: Option<NaiveDate>,
    recorded: &[(AssessmentKind, NaiveDate)],
    today: NaiveDate,
) -> Vec<PatientVisit> {
    let Some(first_day) = first_day else {
        return Vec::new();
    };
    schedule
        .iter()
        .map(|v| {
            let (opens, closes) = window_days(v);
            let date = first_day + Duration::days(7 * i64::from(v.week));
            let opens = first_day + Duration::days(opens);
            let closes = first_day + Duration::days(closes);
            let missing: Vec<AssessmentKind> = [AssessmentKind::Pasi, AssessmentKind::Dlqi]
                .into_iter()
                .filter(|kind| {
                    !recorded
                        .iter()
                        .any(|(k, day)| k == kind && (opens..=closes).contains(day))
                })
                .collect();
            let status = if missing.is_empty() {
                VisitStatus::Done
            } else if today < opens {
                VisitStatus::Upcoming
            } else if today <= date {
                VisitStatus::Due
            } else if today <= closes {
                VisitStatus::Overdue
            } else {
                VisitStatus::Missed
            };
            PatientVisit {
                week: v.week,
                date,
                opens,
                closes,
                status,
                missing,
                optional: false,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use AssessmentKind::{Dlqi, Pasi};
    use proptest::prelude::*;

    fn day(d: i64) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, 1).unwrap() + Duration::days(d)
    }

    fn status_of(week: i32, recorded: &[(AssessmentKind, NaiveDate)], today: i64) -> VisitStatus {
        patient_visits(&default_schedule(), Some(day(0)), recorded, day(today))
            .into_iter()
            .find(|v| v.week == week)
            .unwrap()
            .status
    }

    #[test]
    fn the_default_schedule_is_valid() {
        assert_eq!(check_schedule(&default_schedule()), Ok(()));
        let weeks: Vec<i32> = default_schedule().iter().map(|v| v.week).collect();
        assert_eq!(weeks, vec![0, 4, 8, 12, 24, 52]);
    }

    #[test]
    fn a_protocol_recorded_before_the_schedule_reads_with_the_default() {
        let mut body = serde_json::to_value(crate::domain::protocol::Protocol::seed()).unwrap();
        body.as_object_mut().unwrap().remove("visit_schedule");
        let read: crate::domain::protocol::Protocol = serde_json::from_value(body).unwrap();
        assert_eq!(read.visit_schedule, default_schedule());
    }

    #[test]
    fn nothing_is_scheduled_before_the_first_infusion() {
        assert!(patient_visits(&default_schedule(), None, &[], day(0)).is_empty());
    }

    #[test]
    fn week_4_at_the_edges_of_its_window() {
        // Day 1 is day(0): week 4 falls on day(28), its window day(21)..=day(35)
        assert_eq!(status_of(4, &[], 20), VisitStatus::Upcoming);
        assert_eq!(status_of(4, &[], 21), VisitStatus::Due);
        assert_eq!(status_of(4, &[], 28), VisitStatus::Due);
        assert_eq!(status_of(4, &[], 29), VisitStatus::Overdue);
        assert_eq!(status_of(4, &[], 35), VisitStatus::Overdue);
        assert_eq!(status_of(4, &[], 36), VisitStatus::Missed);
        let v = &patient_visits(&default_schedule(), Some(day(0)), &[], day(28))[1];
        assert_eq!((v.date, v.opens, v.closes), (day(28), day(21), day(35)));
        assert_eq!(v.missing, vec![Pasi, Dlqi]);
    }

    #[test]
    fn both_scores_inside_the_window_make_it_done() {
        let both_in = [(Pasi, day(21)), (Dlqi, day(35))];
        assert_eq!(status_of(4, &both_in, 28), VisitStatus::Done);
        assert_eq!(status_of(4, &both_in, 200), VisitStatus::Done);
        // one day outside either edge counts for nothing
        let outside = [(Pasi, day(20)), (Dlqi, day(36))];
        assert_eq!(status_of(4, &outside, 28), VisitStatus::Due);
        // one score only: still due, the other is missing
        let pasi_only = [(Pasi, day(27))];
        assert_eq!(status_of(4, &pasi_only, 29), VisitStatus::Overdue);
        let v = &patient_visits(&default_schedule(), Some(day(0)), &pasi_only, day(29))[1];
        assert_eq!(v.missing, vec![Dlqi]);
    }

    #[test]
    fn the_baseline_is_due_on_day_1_only_and_counts_screening_scores() {
        assert_eq!(status_of(0, &[], 0), VisitStatus::Due);
        assert_eq!(status_of(0, &[], 1), VisitStatus::Missed);
        let screening = [(Pasi, day(-28)), (Dlqi, day(-3))];
        assert_eq!(status_of(0, &screening, 0), VisitStatus::Done);
        assert_eq!(
            status_of(0, &[(Pasi, day(-29)), (Dlqi, day(0))], 0),
            VisitStatus::Due
        );
    }

    #[test]
    fn bad_schedules_are_refused_in_words() {
        assert!(check_schedule(&[]).is_err());
        let mut overlapping = default_schedule();
        overlapping[1].late_days = 28; // week 4 reaches into week 8's window
        let refused = check_schedule(&overlapping).unwrap_err();
        assert!(refused.message.contains("week 8"), "{refused}");
        let mut backwards = default_schedule();
        backwards.swap(1, 2);
        assert!(check_schedule(&backwards).is_err());
        let mut wide = default_schedule();
        wide[5].late_days = 91;
        assert!(check_schedule(&wide).is_err());
    }

    proptest! {
        /// Whatever is recorded, a visit's status agrees with its window:
        /// done exactly when both scores fall inside it, otherwise judged by
        /// where today is against it.
        #[test]
        fn status_agrees_with_the_window(
            today in -60i64..500,
            records in proptest::collection::vec((any::<bool>(), -60i64..500), 0..8),
        ) {
            let recorded: Vec<(AssessmentKind, NaiveDate)> = records
                .iter()
                .map(|(pasi, d)| (if *pasi { Pasi } else { Dlqi }, day(*d)))
                .collect();
            let visits = patient_visits(&default_schedule(), Some(day(0)), &recorded, day(today));
            prop_assert_eq!(visits.len(), default_schedule().len());
            for v in visits {
                let inside = |k| recorded.iter().any(|(kind, d)| *kind == k && *d >= v.opens && *d <= v.closes);
                let done = inside(Pasi) && inside(Dlqi);
                prop_assert_eq!(v.status == VisitStatus::Done, done);
                prop_assert!(v.opens <= v.date && v.date <= v.closes);
                if !done {
                    let t = day(today);
                    let expected = if t < v.opens { VisitStatus::Upcoming }
                        else if t <= v.date { VisitStatus::Due }
                        else if t <= v.closes { VisitStatus::Overdue }
                        else { VisitStatus::Missed };
                    prop_assert_eq!(v.status, expected);
                }
            }
        }
    }
}
