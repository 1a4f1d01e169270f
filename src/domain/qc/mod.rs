//! Lot QC: the release specification and judging a result against it.
//!
//! The default specification is the ISCT minimal criteria for MSCs (CD73,
//! CD90, CD105 ≥ 95 %; CD34, CD45, CD14, CD19, HLA-DR ≤ 2 %) plus sterility,
//! mycoplasma, endotoxin (< 0.5 EU/mL) and viability at harvest (≥ 80 %), as
//! in published UC-MSC release specifications. Decimal values are compared
//! exactly (scaled integers), never as floats.
//!
//! Its parts: `decimal` reads a result's number exactly; this module
//! holds the specification, judges one result and sums up a lot's
//! standing.

mod decimal;

use std::cmp::Ordering;
use std::fmt;

use serde::Serialize;
use utoipa::ToSchema;

pub use decimal::Decimal;

use crate::domain::lifecycle::string_enum;

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
                return Decimal::parse(number.trim())
                    .filter(Decimal::is_exact)
                    .map(make);
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
                let reading = Reading::parse(value).ok_or_else(|| QcInputError::InvalidValue {
                    test: spec.test.clone(),
                    expected: "a decimal number such as 0.25, or below a detection limit such as <0.25",
                })?;
                if spec.unit.as_deref() == Some("%")
                    && reading.bound() > Decimal::parse("100").expect("constant")
                {
                    return Err(QcInputError::InvalidValue {
                        test: spec.test.clone(),
                        expected: "a percentage from 0 to 100",
                    });
                }
                reading
                    .judge(numeric)
                    .ok_or_else(|| QcInputError::InvalidValue {
                        test: spec.test.clone(),
                        expected: "a result the specification can judge: this detection limit is above the limit of the specification, so the true value could pass or fail",
                    })?
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
        _ => match value.strip_prefix('<') {
            Some(limit) => format!("<{}", limit.trim()),
            None => value.to_owned(),
        },
    }
}

/// A numeric result as reported: a measured value, or "below the
/// detection (quantification) limit" written `<0.25`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    Exact(Decimal),
    /// The true value is below this limit.
    Below(Decimal),
}

impl Reading {
    pub fn parse(raw: &str) -> Option<Reading> {
        let text = raw.trim();
        match text.strip_prefix('<') {
            Some(limit) => Decimal::parse(limit.trim()).map(Reading::Below),
            None => Decimal::parse(text).map(Reading::Exact),
        }
    }

    fn bound(self) -> Decimal {
        match self {
            Reading::Exact(v) | Reading::Below(v) => v,
        }
    }

    /// Pass or fail against a numeric limit; `None` when a detection limit
    /// leaves it open (`<2.5` against `≤ 2`).
    pub fn judge(self, limit: &Limit) -> Option<bool> {
        match (self, limit) {
            (Reading::Exact(v), Limit::LessThan(l)) => Some(v.cmp(l) == Ordering::Less),
            (Reading::Exact(v), Limit::AtLeast(l)) => Some(v >= *l),
            (Reading::Exact(v), Limit::AtMost(l)) => Some(v <= *l),
            // every value below d is below l when d ≤ l
            (Reading::Below(d), Limit::LessThan(l) | Limit::AtMost(l)) => (d <= *l).then_some(true),
            // every value below d fails "≥ l" when d ≤ l
            (Reading::Below(d), Limit::AtLeast(l)) => (d <= *l).then_some(false),
            (_, Limit::Negative) => None,
        }
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

/// Where a lot stands against the specification.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, ToSchema)]
pub struct QcStanding {
    /// Required tests without a result.
    pub missing: Vec<String>,
    /// Required tests whose result fails (see [`standing`]).
    pub failed: Vec<String>,
    /// Word tests (sterility, mycoplasma) with a failing result that
    /// quality has not investigated: no retest counts until it has.
    #[serde(default)]
    pub investigation_required: Vec<String>,
}

impl QcStanding {
    pub fn passes(&self) -> bool {
        self.missing.is_empty() && self.failed.is_empty()
    }
}

string_enum!(
    /// Quality's signed conclusion about a failing result: `invalid_test`
    /// (the test itself was invalid, a contaminated sample or a lab error:
    /// the result no longer counts and a retest does) or `confirmed` (the
    /// failure is real: the lot is rejected).
    Conclusion {
        InvalidTest => "invalid_test",
        Confirmed => "confirmed",
    }
);

/// One recorded result as the standing sees it, in recording order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResultFact<'a> {
    pub test: &'a str,
    pub pass: bool,
    pub investigation: Option<Conclusion>,
}

/// Where the lot stands. A result investigated as `invalid_test` does not
/// count. For a numeric test the latest counting result decides (a retest
/// supersedes). For a word test (`negative` limit: sterility, mycoplasma) a
/// failing result is not superseded by a later negative: it fails the lot
/// until quality investigates it (`invalid_test` lets the retest count,
/// `confirmed` fails it for good).
pub fn standing(spec: &Specification, results: &[ResultFact<'_>]) -> QcStanding {
    let mut standing = QcStanding::default();
    for test in &spec.tests {
        let counting: Vec<&ResultFact<'_>> = results
            .iter()
            .filter(|r| r.test == test.test && r.investigation != Some(Conclusion::InvalidTest))
            .collect();
        let Some(latest) = counting.last() else {
            standing.missing.push(test.test.clone());
            continue;
        };
        if test.limit == Limit::Negative {
            let failing: Vec<_> = counting.iter().filter(|r| !r.pass).collect();
            if failing.iter().any(|r| r.investigation.is_none()) {
                standing.investigation_required.push(test.test.clone());
            }
            if !failing.is_empty() {
                standing.failed.push(test.test.clone());
            }
        } else if !latest.pass {
            standing.failed.push(test.test.clone());
        }
    }
    standing
}

#[cfg(test)]
mod tests;
