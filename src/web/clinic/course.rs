//! Where a patient's course of infusions stands today, in words: the
//! patient page and the dose worksheet say it instead of offering a weight
//! or a dose the protocol would refuse.

use chrono::{DateTime, NaiveDate, Utc};

use crate::domain::patient::{ScheduleRefused, next_infusion};
use crate::domain::protocol::Protocol;
use crate::domain::zone::SiteZone;
use crate::i18n::{arg, t_with};

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
    match next_infusion(rules, &days, zone.date(now)) {
        Ok(_) => None,
        Err(ScheduleRefused::LimitReached { limit }) => Some(CourseNote::Over(match last {
            Some(d) => t_with(
                "course-finished-last",
                &[("limit", arg(limit)), ("last", arg(d))],
            ),
            None => t_with("course-finished", &[("limit", arg(limit))]),
        })),
        Err(ScheduleRefused::OutsideWindow {
            last_day,
            window_days,
            ..
        }) => {
            let mut args = vec![
                ("window", arg(window_days)),
                ("day", arg(last_day)),
                ("given", arg(given)),
                ("total", arg(rules.infusions)),
            ];
            let key = match last {
                Some(d) => {
                    args.push(("last", arg(d)));
                    "course-window-closed-last"
                }
                None => "course-window-closed",
            };
            Some(CourseNote::Over(t_with(key, &args)))
        }
        Err(ScheduleRefused::TooSoon {
            previous_day,
            earliest,
            min_interval_days,
        }) => Some(CourseNote::NotYet(t_with(
            "course-too-soon",
            &[
                ("given", arg(given)),
                ("previous", arg(previous_day)),
                ("earliest", arg(earliest)),
                ("interval", arg(min_interval_days)),
            ],
        ))),
    }
}
