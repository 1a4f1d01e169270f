//! Patients of the trial: subject codes, eligibility at enrolment, the
//! infusion schedule, and the bedside identity check.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::invalid::{Invalid, ensure};
use crate::domain::lifecycle::string_enum;
use crate::domain::protocol::{CriterionKind, Protocol};
use crate::domain::scan::{self, ScanKind, Scanned};

string_enum!(
    /// Sex as recorded at enrolment.
    Sex {
        Female => "female",
        Male => "male",
    }
);

/// A trial subject code such as `PV-007` (see [`SubjectCode`]).
pub fn parse_subject_code(raw: &str) -> Result<crate::domain::codes::SubjectCode, Invalid> {
    crate::domain::codes::SubjectCode::parse(raw).ok_or_else(|| {
        Invalid::new(
            "subject_code",
            "a subject code is 2 to 20 capital letters, digits or '-' (e.g. PV-007), never a name",
        )
    })
}

/// A sex as sent.
pub fn parse_sex(raw: &str) -> Result<Sex, Invalid> {
    raw.parse()
        .map_err(|_| Invalid::new("sex", "female or male"))
}

/// Heights a person can have, in millimetres.
pub const HEIGHT_MM: std::ops::RangeInclusive<i32> = 500..=2500;

/// A height as sent, in millimetres (entered in cm, to a tenth).
pub fn check_height_mm(height_mm: i32) -> Result<(), Invalid> {
    ensure(
        HEIGHT_MM.contains(&height_mm),
        "height_cm",
        "a height from 50 to 250 cm, at most one decimal",
    )
}

/// A patient is born before the day of enrolment (on the site's calendar).
pub fn check_born_before_enrolment(
    birth: NaiveDate,
    enrolled_on: NaiveDate,
) -> Result<(), Invalid> {
    ensure(birth < enrolled_on, "birth_date", "before the enrolment")
}

/// A weight is measured no earlier than the days it stays valid before the
/// enrolment (a screening weight counts; an old one does not).
pub fn check_weighed_near_enrolment(
    measured_at: DateTime<Utc>,
    enrolled_at: DateTime<Utc>,
    valid_days: i32,
) -> Result<(), Invalid> {
    ensure(
        measured_at >= enrolled_at - Duration::days(i64::from(valid_days)),
        "measured_at",
        "long before the patient's enrolment",
    )
}

/// Whole years between `birth` and `on`.
pub fn age_years(birth: NaiveDate, on: NaiveDate) -> i32 {
    let mut age = on.year() - birth.year();
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age
}

/// A score with at most one decimal (`12`, `12.4`) in tenths, up to `max`.
pub fn parse_tenths(raw: &str, max_tenths: i32) -> Option<i32> {
    let raw = raw.trim();
    let (whole, fraction) = raw.split_once('.').unwrap_or((raw, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty()
        || whole.len() > 4
        || fraction.len() > 1
        || (raw.contains('.') && fraction.is_empty())
        || !digits(whole)
        || !digits(fraction)
    {
        return None;
    }
    let tenths = whole.parse::<i32>().ok()? * 10 + fraction.parse::<i32>().unwrap_or(0);
    (0..=max_tenths).contains(&tenths).then_some(tenths)
}

/// Tenths as people read them: `124` → `12.4`.
pub fn tenths_display(tenths: i32) -> String {
    format!("{}.{}", tenths / 10, (tenths % 10).abs())
}

/// One criterion not met.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CriterionFailure {
    pub criterion: String,
    /// `inclusion` (must be true) or `exclusion` (must be false).
    pub kind: CriterionKind,
    /// The answer given; null when unanswered.
    pub answer: Option<bool>,
    pub text: String,
}

/// Everything that keeps a candidate out of the trial.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, ToSchema)]
pub struct EnrolmentFindings {
    /// Criteria answered the wrong way or not answered.
    pub criteria: Vec<CriterionFailure>,
    /// Answers under keys the protocol does not have.
    pub unknown_criteria: Vec<String>,
    /// The age at enrolment, when outside the protocol's range.
    pub age: Option<i32>,
    /// The baseline PASI (tenths), when below the protocol's minimum.
    pub baseline_pasi_tenths: Option<i32>,
}

impl EnrolmentFindings {
    pub fn is_eligible(&self) -> bool {
        self.criteria.is_empty()
            && self.unknown_criteria.is_empty()
            && self.age.is_none()
            && self.baseline_pasi_tenths.is_none()
    }
}

/// Checks a candidate against the protocol: every criterion answered the
/// right way, age within range at enrolment, baseline PASI high enough.
pub fn check_enrolment(
    protocol: &Protocol,
    answers: &BTreeMap<String, bool>,
    birth_date: NaiveDate,
    enrolled_on: NaiveDate,
    baseline_pasi_tenths: i32,
) -> EnrolmentFindings {
    let mut findings = EnrolmentFindings::default();
    for criterion in &protocol.criteria {
        let required = criterion.kind == CriterionKind::Inclusion;
        let answer = answers.get(&criterion.key).copied();
        if answer != Some(required) {
            findings.criteria.push(CriterionFailure {
                criterion: criterion.key.clone(),
                kind: criterion.kind,
                answer,
                text: criterion.text.clone(),
            });
        }
    }
    findings.unknown_criteria = answers
        .keys()
        .filter(|key| !protocol.criteria.iter().any(|c| &c.key == *key))
        .cloned()
        .collect();
    let age = age_years(birth_date, enrolled_on);
    if !(protocol.age_min_years..=protocol.age_max_years).contains(&age) {
        findings.age = Some(age);
    }
    if baseline_pasi_tenths < protocol.baseline_pasi_min_tenths {
        findings.baseline_pasi_tenths = Some(baseline_pasi_tenths);
    }
    findings
}

/// Why another infusion cannot be given on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleRefused {
    #[error("the patient has had all {limit} infusions of the protocol")]
    LimitReached { limit: i32 },
    #[error("the window closed after Day {window_days}, {last_day}")]
    OutsideWindow {
        /// Day 1: the site-local date of the first infusion.
        first_day: NaiveDate,
        /// Day `window_days`: the last date an infusion may be given.
        last_day: NaiveDate,
        window_days: i32,
    },
    #[error(
        "the previous infusion was on {previous_day}; the next may be given on {earliest} at the earliest"
    )]
    TooSoon {
        previous_day: NaiveDate,
        earliest: NaiveDate,
        min_interval_days: i32,
    },
}

/// The number of the next infusion if it is given on the site-local date
/// `on`, given the site-local dates of those already started (any order).
/// Day 1 is the first infusion's date; every infusion is given on Day
/// `window_days` at the latest, at most `infusions` of them, and at least
/// `min_interval_days` calendar days after the one before.
pub fn next_infusion(
    protocol: &Protocol,
    given: &[NaiveDate],
    on: NaiveDate,
) -> Result<i32, ScheduleRefused> {
    let count = i32::try_from(given.len()).unwrap_or(i32::MAX);
    if count >= protocol.infusions {
        return Err(ScheduleRefused::LimitReached {
            limit: protocol.infusions,
        });
    }
    if let (Some(first), Some(previous)) = (given.iter().min(), given.iter().max()) {
        let last_day = *first + Duration::days(i64::from(protocol.window_days - 1));
        if on > last_day {
            return Err(ScheduleRefused::OutsideWindow {
                first_day: *first,
                last_day,
                window_days: protocol.window_days,
            });
        }
        let earliest = *previous + Duration::days(i64::from(protocol.min_interval_days));
        if on < earliest {
            return Err(ScheduleRefused::TooSoon {
                previous_day: *previous,
                earliest,
                min_interval_days: protocol.min_interval_days,
            });
        }
    }
    Ok(count + 1)
}

/// Day `n` of the window for a date (Day 1 is the first infusion's date).
pub fn window_day(first: NaiveDate, on: NaiveDate) -> i64 {
    (on - first).num_days() + 1
}

/// What was wrong with one of the two bedside scans.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ScanMismatch {
    /// `patient_scan` or `product_scan`.
    pub scan: &'static str,
    /// `unreadable`, `wrong_kind`, `wrong_record`, or `not_scanned` (the
    /// right record's code, but typed or altered, not as the label reads).
    pub problem: &'static str,
    /// What was expected and what was read (codes only).
    pub expected: String,
    pub found: Option<String>,
}

/// The two-scan check at the bedside: the wristband must be this patient's
/// and the bag this dose's, each exactly as a scanner reads its label
/// (`CT1:P:PV-007`; the scanner's trailing Enter or Tab aside). A code typed
/// by hand (`PV-007`, or `ct1:p:pv-007` in lower case) does not count: the
/// point is automated identification, and what a person types is what the
/// check is there to catch.
pub fn check_bedside(
    patient_scan: &str,
    product_scan: &str,
    subject_code: &str,
    dose_code: &str,
) -> Vec<ScanMismatch> {
    let mut mismatches = Vec::new();
    for (scan_name, raw, kind, expected) in [
        (
            "patient_scan",
            patient_scan,
            ScanKind::Patient,
            subject_code,
        ),
        ("product_scan", product_scan, ScanKind::Dose, dose_code),
    ] {
        let expected_payload = scan::payload(kind, expected);
        let read = raw.trim_end_matches(['\r', '\n', '\t']);
        let problem = match scan::parse(read) {
            Ok(Scanned::Payload { kind: k, code }) if k == kind && code == expected => {
                // the right record; but only the exact label text is a scan
                (read != expected_payload).then_some(("not_scanned", Some(read.to_owned())))
            }
            Ok(Scanned::Payload { kind: k, code }) if k == kind => {
                Some(("wrong_record", Some(scan::payload(k, &code))))
            }
            Ok(Scanned::Payload { kind: k, code }) => {
                Some(("wrong_kind", Some(scan::payload(k, &code))))
            }
            Ok(Scanned::VialCode(code) | Scanned::LotCode(code)) => {
                Some(("wrong_kind", Some(code)))
            }
            Ok(Scanned::Din(din)) => Some(("wrong_kind", Some(din.display()))),
            Err(_) => Some(("unreadable", None)),
        };
        if let Some((problem, found)) = problem {
            mismatches.push(ScanMismatch {
                scan: scan_name,
                problem,
                expected: expected_payload,
                found,
            });
        }
    }
    mismatches
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn all_good(protocol: &Protocol) -> BTreeMap<String, bool> {
        protocol
            .criteria
            .iter()
            .map(|c| (c.key.clone(), c.kind == CriterionKind::Inclusion))
            .collect()
    }

    #[test]
    fn subject_codes_are_codes() {
        assert_eq!(parse_subject_code(" pv-007 ").unwrap().as_str(), "PV-007");
        for bad in ["", "P", "-PV", "PV 007", "Jane Doe", &"P".repeat(21)] {
            assert_eq!(parse_subject_code(bad).ok(), None, "{bad:?}");
        }
    }

    #[test]
    fn a_height_is_50_to_250_cm() {
        assert!(check_height_mm(500).is_ok() && check_height_mm(2500).is_ok());
        let refused = check_height_mm(499).unwrap_err();
        assert_eq!(refused.field, "height_cm");
        assert!(check_height_mm(2501).is_err());
        assert_eq!(parse_sex("female"), Ok(Sex::Female));
        assert_eq!(parse_sex("f").unwrap_err().message, "female or male");
        assert!(check_born_before_enrolment(date(2000, 1, 1), date(2000, 1, 2)).is_ok());
        assert!(check_born_before_enrolment(date(2000, 1, 2), date(2000, 1, 2)).is_err());
    }

    #[test]
    fn age_counts_whole_years_to_the_day() {
        assert_eq!(age_years(date(2008, 11, 25), date(2026, 11, 25)), 18);
        assert_eq!(age_years(date(2008, 11, 26), date(2026, 11, 25)), 17);
        assert_eq!(age_years(date(2008, 2, 29), date(2026, 2, 28)), 17);
        assert_eq!(age_years(date(2008, 2, 29), date(2026, 3, 1)), 18);
    }

    #[test]
    fn pasi_is_read_to_a_tenth() {
        assert_eq!(parse_tenths("12.4", 720), Some(124));
        assert_eq!(parse_tenths("8", 720), Some(80));
        assert_eq!(parse_tenths("72.0", 720), Some(720));
        for bad in ["72.1", "12.45", "-1", "1e1", "", "."] {
            assert_eq!(parse_tenths(bad, 720), None, "{bad:?}");
        }
        assert_eq!(tenths_display(124), "12.4");
        assert_eq!(tenths_display(80), "8.0");
    }

    #[test]
    fn enrolment_lists_every_reason_at_once() {
        let protocol = Protocol::seed();
        let ok = check_enrolment(
            &protocol,
            &all_good(&protocol),
            date(1980, 1, 1),
            date(2026, 11, 25),
            124,
        );
        assert!(ok.is_eligible(), "{ok:?}");
        let mut answers = all_good(&protocol);
        answers.remove("informed_consent");
        answers.insert("pregnant_lactating_or_planning".into(), true);
        answers.insert("favourite_colour".into(), true);
        let findings = check_enrolment(
            &protocol,
            &answers,
            date(2010, 1, 1),
            date(2026, 11, 25),
            79,
        );
        let keys: Vec<_> = findings
            .criteria
            .iter()
            .map(|f| f.criterion.as_str())
            .collect();
        assert_eq!(keys, ["informed_consent", "pregnant_lactating_or_planning"]);
        assert_eq!(findings.criteria[0].answer, None);
        assert_eq!(findings.criteria[1].answer, Some(true));
        assert_eq!(findings.unknown_criteria, ["favourite_colour"]);
        assert_eq!(findings.age, Some(16));
        assert_eq!(findings.baseline_pasi_tenths, Some(79));
        // the edges are inside: 18 and 65 years, PASI 8.0
        let edge = check_enrolment(
            &protocol,
            &all_good(&protocol),
            date(1961, 11, 25),
            date(2026, 11, 25),
            80,
        );
        assert!(edge.is_eligible(), "{edge:?}");
        let too_old = check_enrolment(
            &protocol,
            &all_good(&protocol),
            date(1960, 11, 24),
            date(2026, 11, 25),
            80,
        );
        assert_eq!(too_old.age, Some(66));
    }

    #[test]
    fn six_infusions_by_day_fifty_six_at_least_seven_days_apart() {
        let protocol = Protocol::seed();
        let day = |n: i64| date(2026, 11, 2) + Duration::days(n - 1);
        assert_eq!(next_infusion(&protocol, &[], day(1)), Ok(1));
        // Day 1, 8, 15, 22, 29: the sixth on Day 56 is the last allowed
        let five: Vec<_> = (0..5).map(|i| day(1 + 7 * i)).collect();
        assert_eq!(next_infusion(&protocol, &five, day(56)), Ok(6));
        assert_eq!(window_day(day(1), day(56)), 56);
        assert_eq!(
            next_infusion(&protocol, &five, day(57)),
            Err(ScheduleRefused::OutsideWindow {
                first_day: day(1),
                last_day: day(56),
                window_days: 56,
            })
        );
        // seven calendar days after the previous, not six
        assert_eq!(next_infusion(&protocol, &five, day(36)), Ok(6));
        assert_eq!(
            next_infusion(&protocol, &five, day(35)),
            Err(ScheduleRefused::TooSoon {
                previous_day: day(29),
                earliest: day(36),
                min_interval_days: 7,
            })
        );
        // the same day twice is too soon too
        assert!(matches!(
            next_infusion(&protocol, &[day(1)], day(1)),
            Err(ScheduleRefused::TooSoon { .. })
        ));
        let six: Vec<_> = (0..6).map(|i| day(1 + 9 * i)).collect();
        assert_eq!(
            next_infusion(&protocol, &six, day(56)),
            Err(ScheduleRefused::LimitReached { limit: 6 })
        );
    }

    #[test]
    fn the_bedside_check_wants_this_wristband_and_this_bag() {
        let ok = check_bedside("CT1:P:PV-007", "CT1:D:PV-007-D01", "PV-007", "PV-007-D01");
        assert!(ok.is_empty());
        let other_patient =
            check_bedside("CT1:P:PV-008", "CT1:D:PV-007-D01", "PV-007", "PV-007-D01");
        assert_eq!(other_patient.len(), 1);
        assert_eq!(other_patient[0].problem, "wrong_record");
        let vial_not_bag = check_bedside(
            "CT1:P:PV-007",
            "CT1:V:A999926000123-L01-V007",
            "PV-007",
            "PV-007-D01",
        );
        assert_eq!(vial_not_bag[0].scan, "product_scan");
        assert_eq!(vial_not_bag[0].problem, "wrong_kind");
        let swapped = check_bedside("CT1:D:PV-007-D01", "CT1:P:PV-007", "PV-007", "PV-007-D01");
        assert_eq!(swapped.len(), 2);
        let typed = check_bedside("PV-007", "", "PV-007", "PV-007-D01");
        assert_eq!(typed[0].problem, "unreadable");
        assert_eq!(typed[1].problem, "unreadable");
        // the right codes, typed in lower case: not a scan
        let lower = check_bedside("ct1:p:pv-007", "ct1:d:pv-007-d01", "PV-007", "PV-007-D01");
        assert_eq!(lower.len(), 2);
        assert!(
            lower.iter().all(|m| m.problem == "not_scanned"),
            "{lower:?}"
        );
        // a scanner's Enter after the label is still the label
        assert!(
            check_bedside(
                "CT1:P:PV-007\r\n",
                "CT1:D:PV-007-D01\t",
                "PV-007",
                "PV-007-D01"
            )
            .is_empty()
        );
        assert_eq!(
            check_bedside(" CT1:P:PV-007", "CT1:D:PV-007-D01", "PV-007", "PV-007-D01")[0].problem,
            "not_scanned"
        );
    }
}
