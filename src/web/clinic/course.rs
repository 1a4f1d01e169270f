//! Where a patient's course of infusions stands today, in words: the
//! patient page and the dose worksheet say it instead of offering a weight
//! or a dose the protocol would refuse.

use chrono::{DateTime, NaiveDate, Utc};

use crate::domain::patient::{ScheduleRefused, next_infusion};
use crate::domain::protocol::Protocol;
use crate::domain::zone::SiteZone;

/// Why no infusion may be given today, in words.
pub enum CourseNote {
    /// No further infusion, ever: all given, or the window closed.
    Over(String),
    /// Not today; the next may be given from a later date.
    NotYet(String),
}

impl CourseNote {
    pub fn text(&self) -> &str {
        match self {
            CourseNote::Over(t) | CourseNote::NotYet(t) => t,
        }
    }
}

/// Where the course stands today when no infusion may be given today:
/// finished, window closed, or the next one not yet allowed; `None` when
/// the protocol allows one today. Pages say this instead of offering a
/// weight or a dose the protocol would refuse.
pub fn course_note(
    rules: &Protocol,
    zone: SiteZone,
    starts: &[DateTime<Utc>],
    now: DateTime<Utc>,
) -> Option<CourseNote> {
    let days: Vec<NaiveDate> = starts.iter().map(|t| zone.date(*t)).collect();
    let last = days.iter().max().copied();
    let given = days.len();
    let last_words = last.map_or(String::new(), |d| format!(", the last on {d}"));
    match next_infusion(rules, &days, zone.date(now)) {
        Ok(_) => None,
        Err(ScheduleRefused::LimitReached { limit }) => Some(CourseNote::Over(format!(
            "The course is finished: all {limit} infusions were given{last_words}. No further dose may be ordered."
        ))),
        Err(ScheduleRefused::OutsideWindow {
            last_day,
            window_days,
            ..
        }) => Some(CourseNote::Over(format!(
            "The infusion window closed after Day {window_days}, {last_day}: {given} of {} infusions were given{last_words}. No further infusion may be given.",
            rules.infusions
        ))),
        Err(ScheduleRefused::TooSoon {
            previous_day,
            earliest,
            min_interval_days,
        }) => Some(CourseNote::NotYet(format!(
            "Infusion {given} was given on {previous_day}; the next may be given from {earliest} ({min_interval_days} days at least between infusions). Weigh the patient and order the dose then."
        ))),
    }
}
