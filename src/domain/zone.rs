//! The site's time zone. People read every time in it (pages, worksheets,
//! labels, exports for people), with its offset; the API speaks UTC. Dates
//! that rules count in days (age at enrolment, Day 1 … Day 56 of the
//! infusion window, days between infusions) are the site's calendar dates.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

/// An IANA time zone, e.g. `Asia/Shanghai` (Beijing, UTC+8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SiteZone(Tz);

impl Default for SiteZone {
    fn default() -> Self {
        SiteZone::UTC
    }
}

impl SiteZone {
    pub const UTC: SiteZone = SiteZone(Tz::UTC);

    /// An IANA name (`Asia/Shanghai`, `Europe/Berlin`, `UTC`).
    pub fn parse(name: &str) -> Option<SiteZone> {
        name.trim().parse::<Tz>().ok().map(SiteZone)
    }

    pub fn name(&self) -> &'static str {
        self.0.name()
    }

    /// The site-local calendar date of an instant.
    pub fn date(&self, t: DateTime<Utc>) -> NaiveDate {
        t.with_timezone(&self.0).date_naive()
    }

    /// A time as people read it: `2026-11-25 17:40 +08:00`.
    pub fn minute(&self, t: DateTime<Utc>) -> String {
        t.with_timezone(&self.0)
            .format("%Y-%m-%d %H:%M %:z")
            .to_string()
    }

    /// The site's wall-clock time of an instant (`2026-11-25T17:40:00`).
    pub fn local(&self, t: DateTime<Utc>) -> NaiveDateTime {
        t.with_timezone(&self.0).naive_local()
    }

    /// A date as people read it: `2026-11-25`.
    pub fn day(&self, t: DateTime<Utc>) -> String {
        self.date(t).format("%Y-%m-%d").to_string()
    }

    /// ISO 8601 with the site's offset, to the second, for exports that
    /// people open in a spreadsheet: `2026-11-25T17:40:00+08:00`.
    pub fn iso(&self, t: DateTime<Utc>) -> String {
        t.with_timezone(&self.0)
            .format("%Y-%m-%dT%H:%M:%S%:z")
            .to_string()
    }

    /// A wall-clock time at the site (`2026-11-25T09:40`, as a browser's
    /// date-and-time field sends it) as an instant; `None` for a time the
    /// clocks skipped. An ambiguous time (clocks going back) is the earlier.
    pub fn from_local(&self, local: NaiveDateTime) -> Option<DateTime<Utc>> {
        self.0
            .from_local_datetime(&local)
            .earliest()
            .map(|t| t.with_timezone(&Utc))
    }

    /// The instant a site-local day begins (its first minute, should a
    /// daylight-saving change skip midnight).
    pub fn start_of(&self, day: NaiveDate) -> DateTime<Utc> {
        (0..24 * 60)
            .find_map(|minute| {
                let local = day.and_hms_opt(minute / 60, minute % 60, 0)?;
                self.0.from_local_datetime(&local).earliest()
            })
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beijing_reads_eight_hours_ahead() {
        let beijing = SiteZone::parse("Asia/Shanghai").unwrap();
        let t = DateTime::parse_from_rfc3339("2026-11-25T09:40:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(beijing.minute(t), "2026-11-25 17:40 +08:00");
        assert_eq!(beijing.iso(t), "2026-11-25T17:40:00+08:00");
        // 16:30 UTC is already tomorrow in Beijing
        let late = DateTime::parse_from_rfc3339("2026-11-25T16:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            beijing.date(late),
            NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
        );
        assert_eq!(SiteZone::UTC.day(late), "2026-11-25");
        assert_eq!(
            beijing.start_of(NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()),
            DateTime::parse_from_rfc3339("2026-11-25T16:00:00Z").unwrap()
        );
        let local = NaiveDate::from_ymd_opt(2026, 11, 25)
            .unwrap()
            .and_hms_opt(17, 40, 0)
            .unwrap();
        assert_eq!(beijing.from_local(local), Some(t));
        assert!(SiteZone::parse("Mars/Olympus").is_none());
        assert_eq!(SiteZone::parse(" UTC ").unwrap().name(), "UTC");
    }

    #[test]
    fn a_day_that_skips_midnight_starts_at_its_first_minute() {
        // Santiago moved its clocks from 00:00 to 01:00 on 2026-09-06
        let santiago = SiteZone::parse("America/Santiago").unwrap();
        let day = NaiveDate::from_ymd_opt(2026, 9, 6).unwrap();
        let start = santiago.start_of(day);
        assert_eq!(santiago.date(start), day);
        assert_eq!(santiago.minute(start), "2026-09-06 01:00 -03:00");
    }
}
