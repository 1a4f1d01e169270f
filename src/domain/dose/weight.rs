//! Weights as entered (kg or lb, typed by tired people) in exact grams, and
//! the questions a surprising weight must answer before a dose is based on it.

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::invalid::Invalid;
use crate::domain::lifecycle::string_enum;
use crate::domain::quantity::Grams;

use super::{div_round, parse_micros};

/// Grams in a pound, as a fraction: 453.59237 g = 45 359 237 / 100 000.
const GRAMS_PER_LB_NUM: u128 = 45_359_237;
const GRAMS_PER_LB_DEN: u128 = 100_000;

string_enum!(
    /// The unit a weight is entered in; always explicit.
    WeightUnit {
        Kg => "kg",
        Lb => "lb",
    }
);

/// A weight as entered (`72.5` kg, `160` lb) in whole grams, rounded half
/// up to the gram; `None` when the number cannot be read.
pub fn weight_to_grams(value: &str, unit: WeightUnit) -> Option<i64> {
    let micros = parse_micros(value)?;
    let grams = match unit {
        // kg × 1000 = g; micros of a kg are milligrams
        WeightUnit::Kg => div_round(micros, 1000),
        WeightUnit::Lb => div_round(micros * GRAMS_PER_LB_NUM, GRAMS_PER_LB_DEN * 1_000_000),
    };
    i64::try_from(grams).ok()
}

/// A weight outside the protocol's plausible range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{weight_g} g is outside the plausible {min_g}–{max_g} g")]
pub struct ImplausibleWeight {
    pub weight_g: i64,
    pub min_g: i64,
    pub max_g: i64,
}

/// A weight a dose may be based on: inside the protocol's plausible
/// `min_g..=max_g` (and so a [`Grams`]).
pub fn plausible_weight(weight_g: i64, min_g: i64, max_g: i64) -> Result<Grams, ImplausibleWeight> {
    let refused = ImplausibleWeight {
        weight_g,
        min_g,
        max_g,
    };
    if !(min_g..=max_g).contains(&weight_g) {
        return Err(refused);
    }
    Grams::parse(weight_g).map_err(|_| refused)
}

/// A weight as entered, in whole grams; refused, as `field`, when the
/// number cannot be read.
pub fn entered_weight(field: &'static str, value: &str, unit: WeightUnit) -> Result<i64, Invalid> {
    weight_to_grams(value, unit).ok_or_else(|| {
        Invalid::new(
            field,
            "a positive decimal number with at most 6 decimals, e.g. 72.5",
        )
    })
}

/// Where a calculation's weight comes from: a patient's latest weight, or
/// a weight given in grams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeightSource<P> {
    Patient(P),
    Given(i64),
}

/// Exactly one of a patient and a weight.
pub fn weight_source<P>(
    patient: Option<P>,
    weight_g: Option<i64>,
) -> Result<WeightSource<P>, Invalid> {
    match (patient, weight_g) {
        (Some(patient), None) => Ok(WeightSource::Patient(patient)),
        (None, Some(weight_g)) => Ok(WeightSource::Given(weight_g)),
        _ => Err(Invalid::new(
            "patient_id",
            "give either a patient_id (its latest weight is used) or a weight_kg",
        )),
    }
}

/// Whether a new weight is far enough from the previous one that it must be
/// confirmed (the guard against lb/kg and decimal slips): more than `pct`
/// percent away.
pub fn change_needs_confirmation(previous_g: i64, new_g: i64, pct: i32) -> bool {
    let difference = i128::from(new_g - previous_g).abs() * 100;
    difference > i128::from(pct) * i128::from(previous_g)
}

/// The change from `previous_g` in tenths of a percent, for messages.
pub fn change_tenths_pct(previous_g: i64, new_g: i64) -> i64 {
    if previous_g == 0 {
        return 0;
    }
    let tenths = i128::from(new_g - previous_g) * 1000 / i128::from(previous_g);
    i64::try_from(tenths).unwrap_or(i64::MAX)
}

/// Why a weight must be confirmed before it is recorded: the usual guard
/// against pounds typed as kilograms and decimal slips (ISMP).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum WeightConcern {
    /// More than `threshold_pct` from the weight it is compared with (the
    /// previous weight, or the enrolment weight for the first one).
    Change {
        compared_with_g: i64,
        /// `previous` or `enrolment`.
        compared_with: &'static str,
        /// Signed, in tenths of a percent.
        change_tenths_pct: i64,
        threshold_pct: i32,
        /// Whether the compared weight is older than the lookback period
        /// (then the wider threshold applies).
        older: bool,
    },
    /// A body-mass index outside the protocol's range.
    Bmi {
        /// In tenths (kg/m²).
        bmi_tenths: i64,
        min: i32,
        max: i32,
    },
}

/// The weight a new one is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reference {
    pub weight_g: Grams,
    /// `previous` or `enrolment`.
    pub kind: &'static str,
    /// Measured longer ago than the lookback period.
    pub older: bool,
}

/// Body-mass index in tenths, ⌊weight_kg ÷ height_m² × 10⌋, from grams and
/// millimetres: g ÷ 1000 ÷ (mm ÷ 1000)² = g × 1000 ÷ mm².
pub fn bmi_tenths(weight_g: Grams, height_mm: i64) -> i64 {
    if height_mm <= 0 {
        return 0;
    }
    let num = i128::from(weight_g.get()) * 10_000;
    let den = i128::from(height_mm) * i128::from(height_mm);
    i64::try_from(num / den).unwrap_or(i64::MAX)
}

/// Everything about a new weight that a person must confirm.
pub fn weight_concerns(
    weight_g: Grams,
    reference: Option<Reference>,
    height_mm: Option<i64>,
    change_pct: i32,
    change_pct_older: i32,
    bmi_min: i32,
    bmi_max: i32,
) -> Vec<WeightConcern> {
    let mut concerns = Vec::new();
    if let Some(r) = reference {
        let threshold = if r.older {
            change_pct_older
        } else {
            change_pct
        };
        if change_needs_confirmation(r.weight_g.get(), weight_g.get(), threshold) {
            concerns.push(WeightConcern::Change {
                compared_with_g: r.weight_g.get(),
                compared_with: r.kind,
                change_tenths_pct: change_tenths_pct(r.weight_g.get(), weight_g.get()),
                threshold_pct: threshold,
                older: r.older,
            });
        }
    }
    if let Some(mm) = height_mm.filter(|mm| *mm > 0) {
        // exactly: BMI < min ⟺ g × 1000 < min × mm², likewise for max
        let scaled = i128::from(weight_g.get()) * 1000;
        let square = i128::from(mm) * i128::from(mm);
        if scaled < i128::from(bmi_min) * square || scaled > i128::from(bmi_max) * square {
            concerns.push(WeightConcern::Bmi {
                bmi_tenths: bmi_tenths(weight_g, mm),
                min: bmi_min,
                max: bmi_max,
            });
        }
    }
    concerns
}

/// A likely slip behind a weight that needs confirming, as a question:
/// pounds typed as kilograms (or the reverse), or a decimal point in the
/// wrong place. `typed` is the number as entered; `None` when no simple
/// slip brings it near the weight it is compared with.
pub fn likely_slip(
    typed: &str,
    unit: WeightUnit,
    weight_g: i64,
    reference_g: i64,
    pct: i32,
) -> Option<String> {
    let close = |g: i64| g > 0 && !change_needs_confirmation(reference_g, g, pct);
    let g = u128::try_from(weight_g).ok()?;
    let typed = typed.trim();
    match unit {
        WeightUnit::Kg => {
            let as_lb =
                i64::try_from(div_round(g * GRAMS_PER_LB_NUM, GRAMS_PER_LB_DEN * 1000)).ok()?;
            if close(as_lb) {
                return Some(format!(
                    "was it typed in pounds? {typed} lb would be {} kg",
                    kg_text(as_lb)
                ));
            }
        }
        WeightUnit::Lb => {
            let as_kg =
                i64::try_from(div_round(g * GRAMS_PER_LB_DEN * 1000, GRAMS_PER_LB_NUM)).ok()?;
            if close(as_kg) {
                return Some(format!(
                    "was it weighed in kilograms? {typed} kg would be {} kg",
                    kg_text(as_kg)
                ));
            }
        }
    }
    for shifted in [weight_g / 10, weight_g * 10, weight_g / 100, weight_g * 100] {
        if close(shifted) {
            return Some(format!(
                "is the decimal point in the right place? {} kg would be close",
                kg_text(shifted)
            ));
        }
    }
    None
}

/// What must be confirmed about a weight, as one sentence: "154 kg is
/// 120.0 % more than the enrolment weight of 70 kg (2026-11-18): was it
/// typed in pounds? 154 lb would be 69.9 kg". `entered` is the weight as
/// written (`154 kg`); `compared_on` the date the weight it is compared
/// with was measured, when known; `slip` a likely slip, as a question.
pub fn describe_concerns(
    entered: &str,
    concerns: &[WeightConcern],
    compared_on: Option<&str>,
    slip: Option<&str>,
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
            } => format!(
                "{entered} is {} % {} than the {} weight of {} kg{}",
                tenths(*change_tenths_pct),
                if *change_tenths_pct >= 0 {
                    "more"
                } else {
                    "less"
                },
                if *compared_with == "enrolment" {
                    "enrolment"
                } else {
                    "last"
                },
                kg_text(*compared_with_g),
                compared_on.map(|d| format!(" ({d})")).unwrap_or_default()
            ),
            WeightConcern::Bmi {
                bmi_tenths,
                min,
                max,
            } => format!(
                "{entered} gives a body-mass index of {}, outside {min} to {max}",
                tenths(*bmi_tenths)
            ),
        })
        .collect();
    format!("{}: {}", parts.join("; "), slip.unwrap_or("is it right?"))
}

/// Grams as kilograms with at most one decimal, for sentences: `154.2`.
pub fn kg_text(grams: impl Into<i64>) -> String {
    let grams: i64 = grams.into();
    let tenths = (grams + 50).div_euclid(100);
    if tenths % 10 == 0 {
        format!("{}", tenths / 10)
    } else {
        format!("{}.{}", tenths / 10, tenths % 10)
    }
}
