//! Outcome scores, exact: PASI in integer tenths (no float drift), DLQI as
//! the sum of its ten answers, and the comparisons the trial reports
//! (percent change from baseline, PASI 75), and when the next follow-up
//! assessment is due.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::invalid::{Invalid, ensure};
use crate::domain::lifecycle::string_enum;

string_enum!(
    /// The scores recorded.
    AssessmentKind {
        Pasi => "pasi",
        Dlqi => "dlqi",
    }
);

/// One body region of the PASI: erythema, induration, desquamation (0-4
/// each) and the area score (0-6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Region {
    pub erythema: i32,
    pub induration: i32,
    pub desquamation: i32,
    pub area: i32,
}

/// The four PASI regions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasiRegions {
    pub head: Region,
    pub upper_limbs: Region,
    pub trunk: Region,
    pub lower_limbs: Region,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct InvalidAssessment {
    pub field: String,
    pub message: &'static str,
}

/// PASI in tenths: Σ weight × (E + I + D) × area, the weights 0.1, 0.2,
/// 0.3, 0.4 taken as 1, 2, 3, 4 tenths. 0 to 720 (72.0).
pub fn pasi_tenths(regions: &PasiRegions) -> Result<i32, InvalidAssessment> {
    let mut total = 0;
    for (name, weight, r) in [
        ("head", 1, &regions.head),
        ("upper_limbs", 2, &regions.upper_limbs),
        ("trunk", 3, &regions.trunk),
        ("lower_limbs", 4, &regions.lower_limbs),
    ] {
        for (part, value, max) in [
            ("erythema", r.erythema, 4),
            ("induration", r.induration, 4),
            ("desquamation", r.desquamation, 4),
            ("area", r.area, 6),
        ] {
            if !(0..=max).contains(&value) {
                return Err(InvalidAssessment {
                    field: format!("regions.{name}.{part}"),
                    message: if part == "area" {
                        "an area score is 0 to 6"
                    } else {
                        "a severity score is 0 to 4"
                    },
                });
            }
        }
        total += weight * (r.erythema + r.induration + r.desquamation) * r.area;
    }
    Ok(total)
}

/// DLQI: ten answers of 0 to 3, summed (0 to 30).
pub fn dlqi(answers: &[i32]) -> Result<i32, InvalidAssessment> {
    if answers.len() != 10 {
        return Err(InvalidAssessment {
            field: "answers".into(),
            message: "the DLQI has exactly 10 answers",
        });
    }
    for (i, a) in answers.iter().enumerate() {
        if !(0..=3).contains(a) {
            return Err(InvalidAssessment {
                field: format!("answers[{i}]"),
                message: "each DLQI answer is 0 to 3",
            });
        }
    }
    Ok(answers.iter().sum())
}

/// The change from baseline in tenths of a percent, rounded half away from
/// zero: `(latest − baseline) × 100 ÷ baseline`. `None` for a baseline of 0.
pub fn change_tenths_pct(baseline_tenths: i32, latest_tenths: i32) -> Option<i32> {
    if baseline_tenths == 0 {
        return None;
    }
    let num = i64::from(latest_tenths - baseline_tenths) * 1000;
    let den = i64::from(baseline_tenths);
    let rounded = (2 * num + num.signum() * den) / (2 * den);
    i32::try_from(rounded).ok()
}

/// PASI 75: an improvement of at least 75 %, i.e. latest ≤ baseline ÷ 4.
pub fn pasi75(baseline_tenths: i32, latest_tenths: i32) -> bool {
    baseline_tenths > 0 && 4 * latest_tenths <= baseline_tenths
}

/// An assessment is made at most 30 days before the enrolment (a
/// screening visit's scores are the baseline).
pub fn check_assessed_near_enrolment(
    assessed_at: DateTime<Utc>,
    enrolled_at: DateTime<Utc>,
) -> Result<(), Invalid> {
    ensure(
        assessed_at.date_naive() >= enrolled_at.date_naive() - Duration::days(30),
        "assessed_at",
        "more than 30 days before the enrolment",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn region(e: i32, i: i32, d: i32, a: i32) -> Region {
        Region {
            erythema: e,
            induration: i,
            desquamation: d,
            area: a,
        }
    }

    fn all(r: Region) -> PasiRegions {
        PasiRegions {
            head: r,
            upper_limbs: r,
            trunk: r,
            lower_limbs: r,
        }
    }

    #[test]
    fn pasi_at_its_edges() {
        assert_eq!(pasi_tenths(&all(region(0, 0, 0, 0))), Ok(0));
        assert_eq!(pasi_tenths(&all(region(4, 4, 4, 6))), Ok(720));
        // a worked example: head 0.1×(2+1+1)×2 = 0.8, upper limbs
        // 0.2×(3+2+2)×3 = 4.2, trunk 0.3×(2+2+1)×4 = 6.0, lower limbs
        // 0.4×(3+3+2)×4 = 12.8; total 23.8
        let example = PasiRegions {
            head: region(2, 1, 1, 2),
            upper_limbs: region(3, 2, 2, 3),
            trunk: region(2, 2, 1, 4),
            lower_limbs: region(3, 3, 2, 4),
        };
        assert_eq!(pasi_tenths(&example), Ok(238));
        // 0.1 + 0.2 ≠ 0.30000000000000004 here
        let tiny = PasiRegions {
            head: region(1, 0, 0, 1),
            upper_limbs: region(1, 0, 0, 1),
            trunk: region(0, 0, 0, 0),
            lower_limbs: region(0, 0, 0, 0),
        };
        assert_eq!(pasi_tenths(&tiny), Ok(3));
    }

    #[test]
    fn out_of_range_scores_are_named() {
        let mut bad = all(region(0, 0, 0, 0));
        bad.trunk.area = 7;
        assert_eq!(pasi_tenths(&bad).unwrap_err().field, "regions.trunk.area");
        let mut bad = all(region(0, 0, 0, 0));
        bad.head.erythema = -1;
        assert_eq!(
            pasi_tenths(&bad).unwrap_err().field,
            "regions.head.erythema"
        );
        let mut bad = all(region(0, 0, 0, 0));
        bad.lower_limbs.desquamation = 5;
        assert!(pasi_tenths(&bad).is_err());
    }

    #[test]
    fn dlqi_is_ten_answers_of_zero_to_three() {
        assert_eq!(dlqi(&[0; 10]), Ok(0));
        assert_eq!(dlqi(&[3; 10]), Ok(30));
        assert_eq!(dlqi(&[1, 2, 3, 0, 1, 2, 3, 0, 1, 2]), Ok(15));
        assert!(dlqi(&[0; 9]).is_err());
        assert!(dlqi(&[0; 11]).is_err());
        assert_eq!(
            dlqi(&[0, 0, 0, 4, 0, 0, 0, 0, 0, 0]).unwrap_err().field,
            "answers[3]"
        );
    }

    #[test]
    fn change_and_pasi_75() {
        assert_eq!(change_tenths_pct(200, 50), Some(-750));
        assert_eq!(change_tenths_pct(200, 200), Some(0));
        assert_eq!(change_tenths_pct(300, 100), Some(-667));
        assert_eq!(change_tenths_pct(300, 400), Some(333));
        assert_eq!(change_tenths_pct(0, 10), None);
        assert!(pasi75(200, 50));
        assert!(!pasi75(200, 51));
        assert!(pasi75(124, 31));
        assert!(!pasi75(124, 32));
        assert!(!pasi75(0, 0));
    }

    proptest! {
        #[test]
        fn pasi_stays_in_range(
            scores in proptest::collection::vec((0i32..=4, 0i32..=4, 0i32..=4, 0i32..=6), 4)
        ) {
            let r = |i: usize| region(scores[i].0, scores[i].1, scores[i].2, scores[i].3);
            let p = pasi_tenths(&PasiRegions { head: r(0), upper_limbs: r(1), trunk: r(2), lower_limbs: r(3) }).unwrap();
            prop_assert!((0..=720).contains(&p));
        }

        #[test]
        fn pasi_75_agrees_with_the_change(baseline in 1i32..=720, latest in 0i32..=720) {
            let change = change_tenths_pct(baseline, latest).unwrap();
            // reaching 75 % means a change of -75.0 % or better (before rounding)
            if pasi75(baseline, latest) {
                prop_assert!(change <= -750);
            }
            if change < -750 {
                prop_assert!(pasi75(baseline, latest));
            }
        }
    }
}
