//! The Chinese words of the findings a refusal carries: screening gaps,
//! enrolment findings, QC inputs, storage rules, scans, preparations,
//! bedside mismatches, transitions, roles and the question a weight to
//! confirm raises.

use super::{invalid_field, list, word, zh};
use crate::domain::accounts::Role;
use crate::domain::accounts::{MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS, WeakPassword};
use crate::domain::dose::{PreparationError, WeightConcern, kg_text};
use crate::domain::lifecycle::TransitionRefused;
use crate::domain::zone::SiteZone;

pub(super) fn weak_password(weak: &WeakPassword) -> String {
    match weak {
        WeakPassword::TooShort => zh(
            "refusal-password-short",
            &[("min", MIN_PASSWORD_CHARS.to_string())],
        ),
        WeakPassword::TooLong => zh(
            "refusal-password-long",
            &[("max", MAX_PASSWORD_CHARS.to_string())],
        ),
        WeakPassword::SameAsUsername => zh("refusal-password-username", &[]),
    }
}

pub(super) fn screening_gaps(gaps: &crate::domain::donor::ScreeningGaps) -> String {
    let mut parts = Vec::new();
    for (tests, key) in [
        (&gaps.missing, "refusal-gaps-missing"),
        (&gaps.reactive, "refusal-gaps-reactive"),
        (&gaps.outside_window, "refusal-gaps-window"),
    ] {
        if !tests.is_empty() {
            parts.push(zh(key, &[("tests", list(tests))]));
        }
    }
    parts.join("；")
}

pub(super) fn enrolment_findings(findings: &crate::domain::patient::EnrolmentFindings) -> String {
    let mut parts = Vec::new();
    if !findings.criteria.is_empty() {
        let criteria: Vec<&str> = findings
            .criteria
            .iter()
            .map(|c| c.criterion.as_str())
            .collect();
        parts.push(zh(
            "refusal-findings-criteria",
            &[("criteria", list(&criteria))],
        ));
    }
    if !findings.unknown_criteria.is_empty() {
        parts.push(zh(
            "refusal-findings-unknown",
            &[("criteria", list(&findings.unknown_criteria))],
        ));
    }
    if let Some(age) = findings.age {
        parts.push(zh("refusal-findings-age", &[("age", age.to_string())]));
    }
    if let Some(pasi) = findings.baseline_pasi_tenths {
        let sign = if pasi < 0 { "-" } else { "" };
        let pasi = format!("{sign}{}.{}", pasi.abs() / 10, pasi.abs() % 10);
        parts.push(zh("refusal-findings-pasi", &[("pasi", pasi)]));
    }
    parts.join("；")
}

pub(super) fn qc_input(input: &crate::domain::qc::QcInputError) -> String {
    use crate::domain::qc::QcInputError as Q;
    match input {
        Q::UnknownTest { test, known } => zh(
            "refusal-qc-unknown-test",
            &[("test", test.clone()), ("known", list(known))],
        ),
        Q::UnitMismatch {
            test,
            expected,
            given,
        } => zh(
            "refusal-qc-unit",
            &[
                ("test", test.clone()),
                ("expected", expected.clone()),
                ("given", given.clone()),
            ],
        ),
        Q::InvalidValue { test, expected } => zh(
            "refusal-qc-value",
            &[("test", test.clone()), ("expected", qc_expected(expected))],
        ),
    }
}

/// What a QC test's result is written as, in words.
fn qc_expected(expected: &str) -> String {
    let key = match expected {
        "negative, positive or indeterminate" => "refusal-qc-expected-word",
        "a decimal number such as 0.25, or below a detection limit such as <0.25" => {
            "refusal-qc-expected-decimal"
        }
        "a percentage from 0 to 100" => "refusal-qc-expected-percentage",
        "a result the specification can judge: this detection limit is above the limit of the specification, so the true value could pass or fail" => {
            "refusal-qc-expected-judgeable"
        }
        other => return other.to_owned(),
    };
    zh(key, &[])
}

pub(super) fn storage_rule(rule: &crate::domain::storage::StorageRuleBroken) -> String {
    use crate::domain::storage::{MAX_COLS, MAX_ROWS, StorageRuleBroken as R};
    match rule {
        R::TankWithParent => zh("refusal-tank-parent", &[]),
        R::RackOutsideTank => zh("refusal-rack-place", &[]),
        R::BoxOutsideRackOrTank => zh("refusal-box-place", &[]),
        R::BadBoxSize => zh(
            "refusal-box-size",
            &[
                ("rows", MAX_ROWS.to_string()),
                ("cols", MAX_COLS.to_string()),
            ],
        ),
        R::SizeOnNonBox => zh("refusal-size-not-box", &[]),
    }
}

pub(super) fn scan_error(scan: &crate::domain::scan::ScanError) -> String {
    use crate::domain::scan::{MAX_INPUT, ScanError as S};
    match scan {
        S::Empty => zh("refusal-scan-empty", &[]),
        S::TooLong => zh("refusal-scan-too-long", &[("max", MAX_INPUT.to_string())]),
        S::UnsupportedVersion(version) => {
            zh("refusal-scan-version", &[("version", version.clone())])
        }
        S::UnknownKind(kind) => zh("refusal-scan-kind", &[("kind", kind.clone())]),
        S::BadCode => zh("refusal-scan-bad-code", &[]),
        S::DinWithoutCheck => zh("refusal-scan-din-check", &[]),
        S::CheckCharacterMismatch { given, .. } => {
            zh("refusal-check-character", &[("given", given.to_string())])
        }
        S::NotRecognised => zh("refusal-scan-not-recognised", &[]),
    }
}

pub(super) fn preparation_error(error: &PreparationError) -> String {
    match error {
        PreparationError::NoCells => zh("refusal-no-cells", &[]),
        PreparationError::OutOfRange {
            volume_ul,
            cells_to_administer,
            min_cells,
            max_cells,
            ..
        } => zh(
            "refusal-dose-out-of-range",
            &[
                ("volume", volume_ul.to_string()),
                ("cells", cells_to_administer.to_string()),
                ("min", min_cells.to_string()),
                ("max", max_cells.to_string()),
            ],
        ),
        PreparationError::NotEnoughVolume {
            volume_ul,
            available_ul,
        } => zh(
            "refusal-not-enough-volume",
            &[
                ("volume", volume_ul.to_string()),
                ("available", available_ul.to_string()),
            ],
        ),
    }
}

/// One way a bedside scan does not match, as `describe_mismatches` sorts
/// them.
pub(super) fn identity_problem(scan: &str, problem: &str) -> String {
    let key = match (scan, problem) {
        ("patient_scan", "wrong_record") => "refusal-wristband-other",
        ("patient_scan", "wrong_kind") => "refusal-wristband-kind",
        ("patient_scan", "not_scanned") => "refusal-wristband-typed",
        (_, "not_scanned") => "refusal-bag-typed",
        ("patient_scan", _) => "refusal-wristband-unreadable",
        (_, "wrong_record") => "refusal-bag-other",
        (_, "wrong_kind") => "refusal-bag-kind",
        _ => "refusal-bag-unreadable",
    };
    zh(key, &[])
}

/// The question a weight to confirm raises, in Chinese (the page's form of
/// `domain::dose::describe_concerns`): `entered` as typed (`154 kg`),
/// `compared_on` the date of the weight it is compared with, `slip` the
/// likely slip as the domain words it (translated by the table).
pub fn weight_question(
    entered: &str,
    concerns: &[WeightConcern],
    compared_on: Option<&str>,
    slip: Option<&str>,
    zone: SiteZone,
) -> String {
    let tenths = |t: i64| format!("{}.{}", t.abs() / 10, t.abs() % 10);
    let parts: Vec<String> = concerns
        .iter()
        .map(|concern| match concern {
            WeightConcern::Change {
                compared_with_g,
                compared_with,
                change_tenths_pct,
                ..
            } => zh(
                if *change_tenths_pct >= 0 {
                    "refusal-weight-more"
                } else {
                    "refusal-weight-less"
                },
                &[
                    ("entered", entered.to_owned()),
                    ("pct", tenths(*change_tenths_pct)),
                    (
                        "reference",
                        zh(
                            if *compared_with == "enrolment" {
                                "refusal-weight-enrolment"
                            } else {
                                "refusal-weight-last"
                            },
                            &[],
                        ),
                    ),
                    ("kg", kg_text(*compared_with_g)),
                    (
                        "on",
                        compared_on.map(|d| format!("，{d}")).unwrap_or_default(),
                    ),
                ],
            ),
            WeightConcern::Bmi {
                bmi_tenths,
                min,
                max,
            } => zh(
                "refusal-weight-bmi",
                &[
                    ("entered", entered.to_owned()),
                    ("bmi", tenths(*bmi_tenths)),
                    ("min", min.to_string()),
                    ("max", max.to_string()),
                ],
            ),
        })
        .collect();
    let question = match slip {
        Some(slip) => invalid_field("", slip, zone),
        None => zh("refusal-weight-right", &[]),
    };
    format!("{}：{question}", parts.join("；"))
}

/// A role as the staff call it.
pub(super) fn role_name(role: Role) -> String {
    word("refusal-role-", role.as_str())
}

/// "该批次当前为「已放行」，不能放行。"
pub(super) fn transition(refused: &TransitionRefused) -> String {
    zh(
        "refusal-transition",
        &[
            ("kind", word("refusal-kind-", refused.kind)),
            ("from", state_word(refused.from)),
            ("action", word("refusal-act-", refused.action)),
        ],
    )
}

/// A status the lifecycle names: the pages' status word, else this
/// catalogue's.
fn state_word(from: &str) -> String {
    let status = word("status-", from);
    if status != from {
        status
    } else {
        word("refusal-state-", from)
    }
}
