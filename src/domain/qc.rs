//! Lot QC: the release specification and judging a result against it.
//!
//! The default specification is the ISCT minimal criteria for MSCs (CD73,
//! CD90, CD105 ≥ 95 %; CD34, CD45, CD14, CD19, HLA-DR ≤ 2 %) plus sterility,
//! mycoplasma, endotoxin (< 0.5 EU/mL) and viability at harvest (≥ 80 %), as
//! in published UC-MSC release specifications. Decimal values are compared
//! exactly (scaled integers), never as floats.

use std::cmp::Ordering;
use std::fmt;

use serde::Serialize;
use utoipa::ToSchema;

/// A non-negative decimal number kept exactly, to 9 decimal places.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Decimal {
    /// The value × 10^9.
    nanos: u128,
}

const SCALE: u128 = 1_000_000_000;

impl Decimal {
    /// Parses `12`, `0.5`, `99.95`; no sign, no exponent, at most 9 decimals.
    pub fn parse(raw: &str) -> Option<Self> {
        let (whole, fraction) = raw.split_once('.').unwrap_or((raw, ""));
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty()
            || whole.len() > 20
            || fraction.len() > 9
            || !digits(whole)
            || !digits(fraction)
        {
            return None;
        }
        if raw.contains('.') && fraction.is_empty() {
            return None;
        }
        let whole: u128 = whole.parse().ok()?;
        let padded = format!("{fraction:0<9}");
        let fraction: u128 = padded.parse().ok()?;
        Some(Decimal {
            nanos: whole.checked_mul(SCALE)?.checked_add(fraction)?,
        })
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let whole = self.nanos / SCALE;
        let fraction = self.nanos % SCALE;
        if fraction == 0 {
            write!(f, "{whole}")
        } else {
            let digits = format!("{fraction:09}");
            write!(f, "{whole}.{}", digits.trim_end_matches('0'))
        }
    }
}

/// What a passing result looks like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Limit {
    /// The word `negative` (the alternatives are `positive` and `indeterminate`).
    Negative,
    /// Below the limit.
    LessThan(Decimal),
    /// At or above the limit.
    AtLeast(Decimal),
    /// At or below the limit.
    AtMost(Decimal),
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Limit::Negative => f.write_str("negative"),
            Limit::LessThan(v) => write!(f, "< {v}"),
            Limit::AtLeast(v) => write!(f, "≥ {v}"),
            Limit::AtMost(v) => write!(f, "≤ {v}"),
        }
    }
}

impl Limit {
    /// Parses a limit as people write it: `negative`, `< 0.5`, `≥ 95` (or
    /// `>= 95`), `≤ 2` (or `<= 2`).
    pub fn parse(raw: &str) -> Option<Limit> {
        let text = raw.trim();
        if text.eq_ignore_ascii_case("negative") {
            return Some(Limit::Negative);
        }
        for (prefix, make) in [
            ("≥", Limit::AtLeast as fn(Decimal) -> Limit),
            (">=", Limit::AtLeast),
            ("≤", Limit::AtMost),
            ("<=", Limit::AtMost),
            ("<", Limit::LessThan),
        ] {
            if let Some(number) = text.strip_prefix(prefix) {
                return Decimal::parse(number.trim()).map(make);
            }
        }
        None
    }
}

/// One required test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestSpec {
    pub test: String,
    pub limit: Limit,
    /// The unit results must be given in; `None` for word results.
    pub unit: Option<String>,
}

/// A test of the specification as the protocol record writes it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SpecEntry {
    /// e.g. `cd73`.
    pub test: String,
    /// `negative`, `< 0.5`, `≥ 95`, `≤ 2`.
    pub limit: String,
    /// `%`, `EU/mL`; absent for word results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
}

/// The release specification: every test here needs a latest result that
/// passes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Specification {
    pub tests: Vec<TestSpec>,
}

impl Specification {
    /// The seed trial's specification (NCT02491658), as protocol entries.
    pub fn seed_entries() -> Vec<SpecEntry> {
        let entry = |test: &str, limit: &str, unit: Option<&str>| SpecEntry {
            test: test.to_owned(),
            limit: limit.to_owned(),
            unit: unit.map(str::to_owned),
        };
        vec![
            entry("sterility", "negative", None),
            entry("mycoplasma", "negative", None),
            entry("endotoxin", "< 0.5", Some("EU/mL")),
            entry("viability", "≥ 80", Some("%")),
            entry("cd73", "≥ 95", Some("%")),
            entry("cd90", "≥ 95", Some("%")),
            entry("cd105", "≥ 95", Some("%")),
            entry("cd34", "≤ 2", Some("%")),
            entry("cd45", "≤ 2", Some("%")),
            entry("cd14", "≤ 2", Some("%")),
            entry("cd19", "≤ 2", Some("%")),
            entry("hla_dr", "≤ 2", Some("%")),
        ]
    }

    /// The seed trial's specification.
    pub fn seed() -> Self {
        Specification::from_entries(&Specification::seed_entries())
            .expect("the seed specification is valid")
    }

    /// Builds a specification from protocol entries; the error names the
    /// entry that is wrong.
    pub fn from_entries(entries: &[SpecEntry]) -> Result<Self, String> {
        let mut tests: Vec<TestSpec> = Vec::with_capacity(entries.len());
        for entry in entries {
            let test = entry.test.trim().to_ascii_lowercase();
            let named = !test.is_empty()
                && test.len() <= 32
                && test
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !named {
                return Err(format!("{:?} is not a test name (a-z, 0-9, _)", entry.test));
            }
            if tests.iter().any(|t| t.test == test) {
                return Err(format!("{test} is listed twice"));
            }
            let limit = Limit::parse(&entry.limit)
                .ok_or_else(|| format!("{test}: {:?} is not a limit", entry.limit))?;
            let unit = entry
                .unit
                .as_deref()
                .map(str::trim)
                .filter(|u| !u.is_empty())
                .map(str::to_owned);
            if (limit == Limit::Negative) != unit.is_none() {
                return Err(format!(
                    "{test}: a word result has no unit and a number has one"
                ));
            }
            tests.push(TestSpec { test, limit, unit });
        }
        if tests.is_empty() {
            return Err("the specification has no test".into());
        }
        Ok(Specification { tests })
    }

    pub fn find(&self, test: &str) -> Option<&TestSpec> {
        self.tests.iter().find(|spec| spec.test == test)
    }

    /// Judges one result; the error says why it cannot be judged.
    pub fn judge(
        &self,
        test: &str,
        value: &str,
        unit: Option<&str>,
    ) -> Result<Judgement, QcInputError> {
        let spec = self.find(test).ok_or_else(|| QcInputError::UnknownTest {
            test: test.to_owned(),
            known: self.tests.iter().map(|s| s.test.clone()).collect(),
        })?;
        let given_unit = unit.map(str::trim).filter(|u| !u.is_empty());
        match (spec.unit.as_deref(), given_unit) {
            (Some(expected), Some(given)) if given.eq_ignore_ascii_case(expected) => {}
            (None, None) => {}
            (None, Some(given)) if given.eq_ignore_ascii_case("none") => {}
            (expected, given) => {
                return Err(QcInputError::UnitMismatch {
                    test: spec.test.clone(),
                    expected: expected.unwrap_or("none").to_owned(),
                    given: given.unwrap_or("").to_owned(),
                });
            }
        }
        let value = value.trim();
        let pass = match &spec.limit {
            Limit::Negative => match value.to_ascii_lowercase().as_str() {
                "negative" => true,
                "positive" | "indeterminate" => false,
                _ => {
                    return Err(QcInputError::InvalidValue {
                        test: spec.test.clone(),
                        expected: "negative, positive or indeterminate",
                    });
                }
            },
            numeric => {
                let number = Decimal::parse(value).ok_or_else(|| QcInputError::InvalidValue {
                    test: spec.test.clone(),
                    expected: "a decimal number such as 0.25",
                })?;
                if spec.unit.as_deref() == Some("%")
                    && number > Decimal::parse("100").expect("constant")
                {
                    return Err(QcInputError::InvalidValue {
                        test: spec.test.clone(),
                        expected: "a percentage from 0 to 100",
                    });
                }
                match numeric {
                    Limit::LessThan(limit) => number.cmp(limit) == Ordering::Less,
                    Limit::AtLeast(limit) => number >= *limit,
                    Limit::AtMost(limit) => number <= *limit,
                    Limit::Negative => unreachable!("handled above"),
                }
            }
        };
        Ok(Judgement {
            test: spec.test.clone(),
            pass,
            specification: spec.limit.to_string(),
            value: normalise(value, &spec.limit),
            unit: spec.unit.clone(),
        })
    }
}

fn normalise(value: &str, limit: &Limit) -> String {
    match limit {
        Limit::Negative => value.to_ascii_lowercase(),
        _ => value.to_owned(),
    }
}

/// A judged result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judgement {
    pub test: String,
    pub pass: bool,
    /// The limit as people read it, e.g. `≥ 95`.
    pub specification: String,
    pub value: String,
    pub unit: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QcInputError {
    #[error("{test:?} is not a test of the release specification")]
    UnknownTest { test: String, known: Vec<String> },
    #[error("{test} is reported in {expected}, not {given:?}")]
    UnitMismatch {
        test: String,
        expected: String,
        given: String,
    },
    #[error("{test} takes {expected}")]
    InvalidValue {
        test: String,
        expected: &'static str,
    },
}

/// Where a lot stands against the specification, from the latest result of
/// each test.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, ToSchema)]
pub struct QcStanding {
    /// Required tests without a result.
    pub missing: Vec<String>,
    /// Required tests whose latest result fails.
    pub failed: Vec<String>,
}

impl QcStanding {
    pub fn passes(&self) -> bool {
        self.missing.is_empty() && self.failed.is_empty()
    }
}

/// `latest` holds, per test, whether its latest result passed.
pub fn standing<'a>(
    spec: &Specification,
    latest: impl Fn(&str) -> Option<bool> + 'a,
) -> QcStanding {
    let mut standing = QcStanding::default();
    for test in &spec.tests {
        match latest(&test.test) {
            None => standing.missing.push(test.test.clone()),
            Some(false) => standing.failed.push(test.test.clone()),
            Some(true) => {}
        }
    }
    standing
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judge(test: &str, value: &str, unit: Option<&str>) -> Result<bool, QcInputError> {
        Specification::seed()
            .judge(test, value, unit)
            .map(|j| j.pass)
    }

    #[test]
    fn decimals_parse_exactly() {
        assert_eq!(Decimal::parse("0.5"), Decimal::parse("0.500000000"));
        assert!(Decimal::parse("0.49").unwrap() < Decimal::parse("0.5").unwrap());
        assert_eq!(Decimal::parse("95").unwrap().to_string(), "95");
        assert_eq!(Decimal::parse("94.990").unwrap().to_string(), "94.99");
        for bad in [
            "",
            ".5",
            "5.",
            "-1",
            "1e3",
            "0.1234567891",
            "1,5",
            " 1",
            "NaN",
        ] {
            assert_eq!(Decimal::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn limits_are_judged_at_their_edges() {
        assert_eq!(judge("cd73", "95", Some("%")), Ok(true));
        assert_eq!(judge("cd73", "94.999999999", Some("%")), Ok(false));
        assert_eq!(judge("cd45", "2", Some("%")), Ok(true));
        assert_eq!(judge("cd45", "2.000000001", Some("%")), Ok(false));
        assert_eq!(judge("endotoxin", "0.499", Some("EU/mL")), Ok(true));
        assert_eq!(judge("endotoxin", "0.5", Some("EU/mL")), Ok(false));
        assert_eq!(judge("viability", "80", Some("%")), Ok(true));
        assert_eq!(judge("viability", "79.9", Some("%")), Ok(false));
        assert_eq!(judge("sterility", "Negative", None), Ok(true));
        assert_eq!(judge("mycoplasma", "positive", None), Ok(false));
        assert_eq!(judge("sterility", "indeterminate", None), Ok(false));
    }

    #[test]
    fn what_cannot_be_judged_is_refused() {
        assert!(matches!(
            judge("cd200", "1", Some("%")),
            Err(QcInputError::UnknownTest { .. })
        ));
        assert!(matches!(
            judge("endotoxin", "0.1", Some("%")),
            Err(QcInputError::UnitMismatch { .. })
        ));
        assert!(matches!(
            judge("cd73", "96", None),
            Err(QcInputError::UnitMismatch { .. })
        ));
        assert!(matches!(
            judge("sterility", "negative", Some("%")),
            Err(QcInputError::UnitMismatch { .. })
        ));
        assert!(matches!(
            judge("sterility", "clean", None),
            Err(QcInputError::InvalidValue { .. })
        ));
        assert!(matches!(
            judge("cd73", "ninety", Some("%")),
            Err(QcInputError::InvalidValue { .. })
        ));
        assert!(matches!(
            judge("cd73", "101", Some("%")),
            Err(QcInputError::InvalidValue { .. })
        ));
        // units compare without regard to case
        assert_eq!(judge("endotoxin", "0.1", Some("eu/ml")), Ok(true));
    }

    #[test]
    fn limits_parse_as_people_write_them() {
        let d = |s| Decimal::parse(s).unwrap();
        assert_eq!(Limit::parse("negative"), Some(Limit::Negative));
        assert_eq!(Limit::parse("< 0.5"), Some(Limit::LessThan(d("0.5"))));
        assert_eq!(Limit::parse("≥95"), Some(Limit::AtLeast(d("95"))));
        assert_eq!(Limit::parse(">= 95"), Some(Limit::AtLeast(d("95"))));
        assert_eq!(Limit::parse("<= 2"), Some(Limit::AtMost(d("2"))));
        assert_eq!(Limit::parse("≤ 2"), Some(Limit::AtMost(d("2"))));
        for bad in ["", "> 5", "= 3", "about 4", "< -1"] {
            assert_eq!(Limit::parse(bad), None, "{bad:?}");
        }
        // every seed limit prints back as it parses
        for test in Specification::seed().tests {
            assert_eq!(Limit::parse(&test.limit.to_string()), Some(test.limit));
        }
    }

    #[test]
    fn a_protocol_specification_is_checked() {
        let mut entries = Specification::seed_entries();
        entries.push(entries[0].clone());
        assert!(
            Specification::from_entries(&entries)
                .unwrap_err()
                .contains("twice")
        );
        let bad_unit = vec![SpecEntry {
            test: "cd73".into(),
            limit: "≥ 95".into(),
            unit: None,
        }];
        assert!(Specification::from_entries(&bad_unit).is_err());
        assert!(Specification::from_entries(&[]).is_err());
    }

    #[test]
    fn standing_lists_missing_and_failed_tests() {
        let spec = Specification::seed();
        let all_pass = standing(&spec, |_| Some(true));
        assert!(all_pass.passes());
        let some = standing(&spec, |t| match t {
            "sterility" => Some(false),
            "cd19" => None,
            _ => Some(true),
        });
        assert_eq!(some.failed, ["sterility"]);
        assert_eq!(some.missing, ["cd19"]);
        assert!(!some.passes());
    }
}
