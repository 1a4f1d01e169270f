//! Donors of cords and their eligibility (21 CFR 1271.45-.50, .80).
//!
//! A cord's donor is a newborn; the required infectious-disease tests are
//! done on the birth mother's blood, from a specimen taken within 7 days
//! before or after the collection. A donor is eligible only when every
//! required test has a negative result taken in that window and no result
//! of a required test is reactive: a reactive (positive or indeterminate)
//! result makes the donor ineligible, and a later negative does not undo it
//! (21 CFR 1271.80(d)). Only a quality officer's signed invalidation of a
//! result (a documented specimen mix-up, say) takes it out of the rule.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::invalid::{Invalid, ensure};
use crate::domain::lifecycle::string_enum;

string_enum!(
    /// The screening tests recorded for a donor.
    ScreeningTest {
        Hiv => "hiv",
        Hbv => "hbv",
        Hcv => "hcv",
        Syphilis => "syphilis",
        Htlv => "htlv",
        Cmv => "cmv",
    }
);

string_enum!(
    /// A screening result.
    ScreeningOutcome {
        Negative => "negative",
        Positive => "positive",
        Indeterminate => "indeterminate",
    }
);

string_enum!(
    /// Whose blood was tested.
    Specimen {
        Maternal => "maternal",
        Donor => "donor",
    }
);

string_enum!(
    /// A quality officer's decision about a donor.
    Eligibility {
        Pending => "pending",
        Eligible => "eligible",
        Ineligible => "ineligible",
    }
);

/// The tests that must all be negative for an eligible donor. CMV is
/// recorded but does not decide eligibility.
pub const REQUIRED_TESTS: [ScreeningTest; 5] = [
    ScreeningTest::Hiv,
    ScreeningTest::Hbv,
    ScreeningTest::Hcv,
    ScreeningTest::Syphilis,
    ScreeningTest::Htlv,
];

/// How far from the collection a specimen may be taken (21 CFR 1271.80(b)).
pub const SPECIMEN_WINDOW_DAYS: i64 = 7;

/// A donor code: pseudonymous, 3 to 32 characters of capital letters,
/// digits and `-`. Never a name.
pub fn parse_donor_code(raw: &str) -> Result<String, Invalid> {
    let code = raw.trim().to_ascii_uppercase();
    let ok = (3..=32).contains(&code.len())
        && code.starts_with(|c: char| c.is_ascii_alphanumeric())
        && code
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-');
    ok.then_some(code).ok_or_else(|| {
        Invalid::new(
            "code",
            "a donor code is 3 to 32 capital letters, digits or '-', never a name",
        )
    })
}

/// A cord is received after it is collected.
pub fn check_received_after_collected(
    collected_at: DateTime<Utc>,
    received_at: DateTime<Utc>,
) -> Result<(), Invalid> {
    ensure(
        received_at >= collected_at,
        "received_at",
        "a cord is received after it is collected",
    )
}

/// A cord is collected after its donor's consent.
pub fn check_collected_after_consent(
    collected_at: DateTime<Utc>,
    consent_at: DateTime<Utc>,
) -> Result<(), Invalid> {
    ensure(
        collected_at >= consent_at,
        "collected_at",
        format!("collection precedes the donor's consent of {consent_at}"),
    )
}

/// A quality officer's decision as sent: eligible, or ineligible with a
/// reason (trimmed; an empty one is none).
pub fn check_decision(
    decision: Eligibility,
    reason: Option<&str>,
) -> Result<Option<&str>, Invalid> {
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    match (decision, reason) {
        (Eligibility::Pending, _) => Err(Invalid::new("decision", "decide eligible or ineligible")),
        (Eligibility::Ineligible, None) => Err(Invalid::new(
            "reason",
            "an ineligible decision needs a reason",
        )),
        _ => Ok(reason),
    }
}

/// One screening result as the rule sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Screening {
    pub test: ScreeningTest,
    pub outcome: ScreeningOutcome,
    pub tested_at: DateTime<Utc>,
    /// Invalidated by quality (signed, with a reason): kept on record, out
    /// of the rule.
    pub invalidated: bool,
}

impl Screening {
    /// A result of a required test that is not negative and not
    /// invalidated: it makes the donor ineligible for good.
    pub fn is_reactive(&self) -> bool {
        !self.invalidated
            && self.outcome != ScreeningOutcome::Negative
            && REQUIRED_TESTS.contains(&self.test)
    }
}

/// What stands between a donor and eligibility.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, ToSchema)]
pub struct ScreeningGaps {
    /// Required tests with no result.
    pub missing: Vec<&'static str>,
    /// Required tests with a positive or indeterminate result that is not
    /// invalidated (whatever came after it).
    pub reactive: Vec<&'static str>,
    /// Required tests whose latest specimen is more than 7 days from a
    /// collection of this donor.
    pub outside_window: Vec<&'static str>,
}

impl ScreeningGaps {
    pub fn is_empty(&self) -> bool {
        self.missing.is_empty() && self.reactive.is_empty() && self.outside_window.is_empty()
    }
}

/// The latest valid (not invalidated) result of each test (by specimen
/// time; the later-recorded wins a tie, so pass results in recording
/// order).
pub fn latest(results: &[Screening]) -> Vec<Screening> {
    let mut latest: Vec<Screening> = Vec::new();
    for result in results.iter().filter(|r| !r.invalidated) {
        match latest.iter_mut().find(|r| r.test == result.test) {
            Some(current) if result.tested_at >= current.tested_at => *current = *result,
            Some(_) => {}
            None => latest.push(*result),
        }
    }
    latest
}

/// Checks the required tests against the rule; `collections` are the
/// collection times of the donor's donations.
pub fn screening_gaps(results: &[Screening], collections: &[DateTime<Utc>]) -> ScreeningGaps {
    let latest = latest(results);
    let window = Duration::days(SPECIMEN_WINDOW_DAYS);
    let mut gaps = ScreeningGaps::default();
    for test in REQUIRED_TESTS {
        if results.iter().any(|r| r.test == test && r.is_reactive()) {
            gaps.reactive.push(test.as_str());
            continue;
        }
        match latest.iter().find(|r| r.test == test) {
            None => gaps.missing.push(test.as_str()),
            Some(r) if r.outcome != ScreeningOutcome::Negative => gaps.reactive.push(test.as_str()),
            Some(r) => {
                if collections
                    .iter()
                    .any(|c| (r.tested_at - *c).abs() > window)
                {
                    gaps.outside_window.push(test.as_str());
                }
            }
        }
    }
    gaps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cord_is_consented_collected_then_received() {
        let t = DateTime::UNIX_EPOCH;
        let later = t + Duration::seconds(1);
        assert!(check_received_after_collected(t, t).is_ok());
        assert_eq!(
            check_received_after_collected(later, t).unwrap_err().field,
            "received_at"
        );
        assert!(check_collected_after_consent(t, t).is_ok());
        assert_eq!(
            check_collected_after_consent(t, later).unwrap_err().field,
            "collected_at"
        );
        assert_eq!(check_decision(Eligibility::Eligible, Some(" ")), Ok(None));
        assert_eq!(
            check_decision(Eligibility::Ineligible, Some(" reactive ")),
            Ok(Some("reactive"))
        );
        assert_eq!(
            check_decision(Eligibility::Ineligible, Some(" "))
                .unwrap_err()
                .field,
            "reason"
        );
        assert_eq!(
            check_decision(Eligibility::Pending, Some("x"))
                .unwrap_err()
                .field,
            "decision"
        );
    }

    fn at(days: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_790_000_000, 0).unwrap() + Duration::days(days)
    }

    fn all_negative(day: i64) -> Vec<Screening> {
        REQUIRED_TESTS
            .iter()
            .map(|test| Screening {
                test: *test,
                outcome: ScreeningOutcome::Negative,
                tested_at: at(day),
                invalidated: false,
            })
            .collect()
    }

    #[test]
    fn donor_codes_are_pseudonymous_codes() {
        assert_eq!(parse_donor_code(" ucd-0042 ").ok(), Some("UCD-0042".into()));
        for bad in ["", "ab", "-X12", "Jane Doe", "Ä123", &"X".repeat(33)] {
            assert_eq!(parse_donor_code(bad).ok(), None, "{bad:?}");
        }
    }

    #[test]
    fn all_negative_in_the_window_leaves_no_gap() {
        assert!(screening_gaps(&all_negative(-7), &[at(0)]).is_empty());
        assert!(screening_gaps(&all_negative(7), &[at(0)]).is_empty());
        // without a donation yet there is no window to check
        assert!(screening_gaps(&all_negative(-30), &[]).is_empty());
    }

    #[test]
    fn gaps_name_each_missing_reactive_or_late_test() {
        let mut results = all_negative(0);
        results.retain(|r| r.test != ScreeningTest::Htlv);
        results.push(Screening {
            test: ScreeningTest::Hbv,
            outcome: ScreeningOutcome::Indeterminate,
            tested_at: at(1),
            invalidated: false,
        });
        results.push(Screening {
            test: ScreeningTest::Hiv,
            outcome: ScreeningOutcome::Negative,
            tested_at: at(-8),
            invalidated: false,
        });
        let gaps = screening_gaps(&results, &[at(0)]);
        assert_eq!(gaps.missing, ["htlv"]);
        assert_eq!(gaps.reactive, ["hbv"]);
        // the hiv result of day 0 is the latest; the older day -8 does not count
        assert!(gaps.outside_window.is_empty());
        let late = screening_gaps(&all_negative(8), &[at(0)]);
        assert_eq!(late.outside_window.len(), 5);
    }

    #[test]
    fn a_reactive_result_is_not_undone_by_a_later_negative() {
        let reactive = |test, day| Screening {
            test,
            outcome: ScreeningOutcome::Positive,
            tested_at: at(day),
            invalidated: false,
        };
        let negative = |test, day| Screening {
            outcome: ScreeningOutcome::Negative,
            ..reactive(test, day)
        };
        let mut results = all_negative(0);
        results.push(reactive(ScreeningTest::Hiv, 1));
        assert_eq!(screening_gaps(&results, &[at(0)]).reactive, ["hiv"]);
        // the negative retest of 1271.80(d): still ineligible
        results.push(negative(ScreeningTest::Hiv, 2));
        assert_eq!(screening_gaps(&results, &[at(0)]).reactive, ["hiv"]);
        // an indeterminate result counts as reactive too
        let mut unclear = all_negative(0);
        unclear.push(Screening {
            outcome: ScreeningOutcome::Indeterminate,
            ..reactive(ScreeningTest::Htlv, 1)
        });
        unclear.push(negative(ScreeningTest::Htlv, 3));
        assert_eq!(screening_gaps(&unclear, &[at(0)]).reactive, ["htlv"]);
        // only quality's invalidation takes the result out of the rule
        results[5].invalidated = true;
        assert!(screening_gaps(&results, &[at(0)]).is_empty());
        // an invalidated negative does not count as a result either
        let mut only = vec![Screening {
            invalidated: true,
            ..negative(ScreeningTest::Hiv, 0)
        }];
        only.extend(
            all_negative(0)
                .into_iter()
                .filter(|r| r.test != ScreeningTest::Hiv),
        );
        assert_eq!(screening_gaps(&only, &[at(0)]).missing, ["hiv"]);
        // CMV decides nothing, reactive or not
        let mut cmv = all_negative(0);
        cmv.push(reactive(ScreeningTest::Cmv, 1));
        assert!(screening_gaps(&cmv, &[at(0)]).is_empty());
    }

    #[test]
    fn a_later_result_supersedes_an_earlier_negative() {
        let mut results = all_negative(0);
        results.push(Screening {
            test: ScreeningTest::Hiv,
            outcome: ScreeningOutcome::Negative,
            tested_at: at(3),
            invalidated: false,
        });
        assert!(screening_gaps(&results, &[at(0)]).is_empty());
        // the retest is out of the window: it is the latest, so it decides
        results.push(Screening {
            test: ScreeningTest::Hiv,
            outcome: ScreeningOutcome::Negative,
            tested_at: at(9),
            invalidated: false,
        });
        assert_eq!(screening_gaps(&results, &[at(0)]).outside_window, ["hiv"]);
    }
}
