//! The human wording of refusals: the sentences `#[error]` messages build
//! from a refusal's findings (screening gaps, failed criteria, implausible
//! counts, scan mismatches).

use super::ImplausibleVial;
use crate::domain::accounts::Role;
use crate::domain::donor::ScreeningGaps;
use crate::domain::dose::WeightConcern;
use crate::domain::patient::{EnrolmentFindings, ScanMismatch};

pub(super) fn describe_gaps(gaps: &ScreeningGaps) -> String {
    let mut parts = Vec::new();
    if !gaps.missing.is_empty() {
        parts.push(format!("no result for {}", gaps.missing.join(", ")));
    }
    if !gaps.reactive.is_empty() {
        parts.push(format!("not negative: {}", gaps.reactive.join(", ")));
    }
    if !gaps.outside_window.is_empty() {
        parts.push(format!(
            "specimen more than 7 days from collection: {}",
            gaps.outside_window.join(", ")
        ));
    }
    parts.join("; ")
}

pub(super) fn describe_findings(findings: &EnrolmentFindings) -> String {
    let mut parts = Vec::new();
    if !findings.criteria.is_empty() {
        parts.push(format!(
            "criteria not met: {}",
            findings
                .criteria
                .iter()
                .map(|c| c.criterion.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if !findings.unknown_criteria.is_empty() {
        parts.push(format!(
            "not criteria of the protocol: {}",
            findings.unknown_criteria.join(", ")
        ));
    }
    if let Some(age) = findings.age {
        parts.push(format!("age {age} at enrolment"));
    }
    if let Some(pasi) = findings.baseline_pasi_tenths {
        parts.push(format!("baseline PASI {}", format_tenths(i64::from(pasi))));
    }
    parts.join("; ")
}

pub(super) fn insufficient_stock(needed: Option<i64>) -> String {
    match needed {
        Some(needed) => format!(
            "no released, unexpired lot has the {needed} available vial{} this dose needs",
            if needed == 1 { "" } else { "s" }
        ),
        None => "no released, unexpired lot holds vials for this dose".into(),
    }
}

pub(super) fn describe_investigations(tests: &[String]) -> String {
    if tests.is_empty() {
        String::new()
    } else {
        format!(
            "; a failing {} result counts until quality investigates it (a retest does not undo it)",
            tests.join(" and ")
        )
    }
}

pub(super) fn describe_weight_concerns(
    weight_g: i64,
    concerns: &[WeightConcern],
    slip: Option<&str>,
) -> String {
    use crate::domain::dose::{describe_concerns, kg_text};
    let question = describe_concerns(&format!("{} kg", kg_text(weight_g)), concerns, None, slip);
    let stop = if question.ends_with(['.', '?']) {
        ""
    } else {
        "."
    };
    format!(
        "{question}{stop} Check the number and the unit; if it is right, confirm it (confirm_change: true for a weight, confirm_weight: true at enrolment)."
    )
}

pub(super) fn describe_implausible(vials: &[ImplausibleVial]) -> String {
    vials
        .iter()
        .map(|v| match v.median_deviation_pct.as_deref() {
            Some(deviation) if !v.recovery_outside_range => format!(
                "vial {} counts {} viable cells/mL, {deviation} % from the median of the dose's vials",
                v.code,
                crate::domain::units::grouped(v.viable_cells_per_ml)
            ),
            _ => format!(
                "vial {} recovers {} % of the cells frozen in it ({} viable cells/mL)",
                v.code,
                v.recovery_pct,
                crate::domain::units::grouped(v.viable_cells_per_ml)
            ),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

pub(super) fn describe_mismatches(mismatches: &[ScanMismatch]) -> String {
    mismatches
        .iter()
        .map(|m| match (m.scan, m.problem) {
            ("patient_scan", "wrong_record") => "the wristband is another patient's",
            ("patient_scan", "wrong_kind") => {
                "what was scanned as the wristband is not a wristband"
            }
            ("patient_scan", "not_scanned") => {
                "the wristband code was typed, not scanned: scan the wristband itself"
            }
            (_, "not_scanned") => {
                "the bag label code was typed, not scanned: scan the bag's label itself"
            }
            ("patient_scan", _) => "the wristband scan could not be read (scan it, do not type it)",
            (_, "wrong_record") => "the bag label is another dose's",
            (_, "wrong_kind") => "what was scanned as the bag is not a dose bag label",
            _ => "the bag label scan could not be read (scan it, do not type it)",
        })
        .collect::<Vec<_>>()
        .join("; ")
}

pub(super) fn format_tenths(tenths: i64) -> String {
    let sign = if tenths < 0 { "-" } else { "" };
    format!("{sign}{}.{}", tenths.abs() / 10, tenths.abs() % 10)
}

pub(super) fn roles_list(roles: &[Role]) -> String {
    roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The printers there are, for an unknown printer's name.
pub(super) fn describe_printers(known: &[String]) -> String {
    if known.is_empty() {
        "no label printer is configured (CELLTRAIL_PRINTERS)".to_owned()
    } else {
        format!("the printers are {}", known.join(", "))
    }
}

/// `each vial that did not arrive (A, B) and each scan not on the packing list (X)`.
pub(super) fn receipt_gaps(missing: &[String], discrepancies: &[String]) -> String {
    let mut parts = Vec::new();
    if !missing.is_empty() {
        parts.push(format!(
            "each vial that did not arrive ({})",
            missing.join(", ")
        ));
    }
    if !discrepancies.is_empty() {
        parts.push(format!(
            "each scan not on the packing list ({})",
            discrepancies.join(", ")
        ));
    }
    parts.join(" and ")
}

/// `2 vials may not be shipped, so none was packed: A: …; B: …`.
pub(super) fn not_shippable(vials: &[String]) -> String {
    let count = match vials.len() {
        1 => "1 vial may".to_owned(),
        n => format!("{n} vials may"),
    };
    format!(
        "{count} not be shipped, so none was packed: {}",
        vials.join("; ")
    )
}
