//! Weight-based dose arithmetic, exact: cells are integers, weight is grams,
//! volume is microlitres. Every value that is not a whole number in exact
//! arithmetic is rounded once, by a stated rule; nothing passes through
//! floating point.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::lifecycle::string_enum;

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

/// A non-negative decimal with up to 6 places, as millionths.
pub fn parse_micros(raw: &str) -> Option<u128> {
    let raw = raw.trim();
    let (whole, fraction) = raw.split_once('.').unwrap_or((raw, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty()
        || whole.len() > 9
        || fraction.len() > 6
        || (raw.contains('.') && fraction.is_empty())
        || !digits(whole)
        || !digits(fraction)
    {
        return None;
    }
    let whole: u128 = whole.parse().ok()?;
    let fraction: u128 = format!("{fraction:0<6}").parse().ok()?;
    Some(whole * 1_000_000 + fraction)
}

/// `num / den` rounded half up.
fn div_round(num: u128, den: u128) -> u128 {
    (2 * num + den) / (2 * den)
}

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
    pub weight_g: i64,
    /// `previous` or `enrolment`.
    pub kind: &'static str,
    /// Measured longer ago than the lookback period.
    pub older: bool,
}

/// Body-mass index in tenths, ⌊weight_kg ÷ height_m² × 10⌋, from grams and
/// millimetres: g ÷ 1000 ÷ (mm ÷ 1000)² = g × 1000 ÷ mm².
pub fn bmi_tenths(weight_g: i64, height_mm: i64) -> i64 {
    if height_mm <= 0 {
        return 0;
    }
    let num = i128::from(weight_g) * 10_000;
    let den = i128::from(height_mm) * i128::from(height_mm);
    i64::try_from(num / den).unwrap_or(i64::MAX)
}

/// Everything about a new weight that a person must confirm.
pub fn weight_concerns(
    weight_g: i64,
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
        if change_needs_confirmation(r.weight_g, weight_g, threshold) {
            concerns.push(WeightConcern::Change {
                compared_with_g: r.weight_g,
                compared_with: r.kind,
                change_tenths_pct: change_tenths_pct(r.weight_g, weight_g),
                threshold_pct: threshold,
                older: r.older,
            });
        }
    }
    if let Some(mm) = height_mm.filter(|mm| *mm > 0) {
        // exactly: BMI < min ⟺ g × 1000 < min × mm², likewise for max
        let scaled = i128::from(weight_g) * 1000;
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
pub fn kg_text(grams: i64) -> String {
    let tenths = (grams + 50).div_euclid(100);
    if tenths % 10 == 0 {
        format!("{}", tenths / 10)
    } else {
        format!("{}.{}", tenths / 10, tenths % 10)
    }
}

/// The dose for a weight: the target and the accepted range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct DoseTarget {
    pub weight_g: i64,
    pub dose_per_kg: i64,
    /// ⌊dose/kg × weight_g ÷ 1000⌋ viable cells.
    pub target_cells: i64,
    /// ⌊target × (100 − tolerance) ÷ 100⌋, from the exact target.
    pub min_cells: i64,
    /// ⌊target × (100 + tolerance) ÷ 100⌋, from the exact target.
    pub max_cells: i64,
    pub tolerance_pct: i32,
}

/// The target and accepted range (floors of the exact values).
pub fn dose_target(dose_per_kg: i64, weight_g: i64, tolerance_pct: i32) -> DoseTarget {
    let exact_num = i128::from(dose_per_kg) * i128::from(weight_g);
    let floor = |num: i128, den: i128| i64::try_from(num.div_euclid(den)).unwrap_or(i64::MAX);
    let tolerance = i128::from(tolerance_pct);
    DoseTarget {
        weight_g,
        dose_per_kg,
        target_cells: floor(exact_num, 1000),
        min_cells: floor(exact_num * (100 - tolerance), 100_000),
        max_cells: floor(exact_num * (100 + tolerance), 100_000),
        tolerance_pct,
    }
}

/// Whole vials to reserve so the expected viable cells after thaw reach the
/// target: ⌈target ÷ (cells per vial × recovery)⌉.
pub fn vials_needed(target_cells: i64, cells_per_vial: i64, recovery_pct: i32) -> i64 {
    let per_vial = i128::from(cells_per_vial) * i128::from(recovery_pct);
    if per_vial <= 0 {
        return i64::MAX;
    }
    let needed = (i128::from(target_cells) * 100 + per_vial - 1) / per_vial;
    i64::try_from(needed).unwrap_or(i64::MAX).max(1)
}

/// One thawed vial as counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThawCount {
    /// Viable cells per millilitre.
    pub viable_cells_per_ml: i64,
    /// Viability in tenths of a percent (857 = 85.7 %).
    pub viability_tenths: i32,
    /// The vial's volume in microlitres.
    pub volume_ul: i64,
}

/// A viability percentage (0-100) in tenths, floored: `85.7` → 857,
/// `69.99999999999999999` → 699. Read from the exact text, so a value just
/// below the minimum stays below it; flooring never lifts a count over a
/// limit (every limit is a whole or tenth percent).
pub fn parse_viability(raw: &str) -> Option<i32> {
    let raw = raw.trim();
    let (whole, fraction) = raw.split_once('.').unwrap_or((raw, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty()
        || whole.len() > 3
        || fraction.len() > 40
        || (raw.contains('.') && fraction.is_empty())
        || !digits(whole)
        || !digits(fraction)
    {
        return None;
    }
    let first = fraction.bytes().next().map_or(0, |b| i32::from(b - b'0'));
    let beyond = fraction.bytes().skip(1).any(|b| b != b'0');
    let tenths = whole.parse::<i32>().ok()? * 10 + first;
    (tenths < 1000 || (tenths == 1000 && !beyond)).then_some(tenths)
}

/// The positions of counts below the minimum viability.
pub fn below_viability(counts: &[ThawCount], min_pct: i32) -> Vec<usize> {
    counts
        .iter()
        .enumerate()
        .filter(|(_, c)| c.viability_tenths < min_pct * 10)
        .map(|(i, _)| i)
        .collect()
}

/// The numbers a count is judged against (from the protocol).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountRules {
    pub min_viability_pct: i32,
    pub recovery_min_pct: i32,
    pub recovery_max_pct: i32,
    pub spread_max_pct: i32,
}

/// How one vial's count was judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct CountJudgement {
    /// Viable cells recovered ÷ cells frozen in the vial, in tenths of a
    /// percent, floored (`512` = 51.2 %).
    pub recovery_tenths: i64,
    /// Below the protocol's minimum viability: the vial fails, whatever
    /// anyone confirms.
    pub viability_low: bool,
    /// The recovery is outside the protocol's plausible range.
    pub recovery_implausible: bool,
    /// How far the vial's viable cells/mL is from the median of the dose's
    /// vials, in tenths of a percent, when that is beyond the protocol's
    /// spread; `None` otherwise.
    pub spread_tenths: Option<i64>,
}

impl CountJudgement {
    /// Implausible (recovery or spread): counts only once confirmed.
    pub fn implausible(&self) -> bool {
        self.recovery_implausible || self.spread_tenths.is_some()
    }

    /// Whether the vial may go into the dose: viable enough, and plausible
    /// or confirmed by a person with a reason.
    pub fn passes(&self, confirmed: bool) -> bool {
        !self.viability_low && (!self.implausible() || confirmed)
    }
}

/// Viable cells recovered ÷ cells frozen, in tenths of a percent:
/// cells/mL × µL ÷ 1000 ÷ frozen × 1000 = cells/mL × µL ÷ frozen.
pub fn recovery_tenths(viable_cells_per_ml: i64, volume_ul: i64, cells_frozen: i64) -> i64 {
    if cells_frozen <= 0 {
        return i64::MAX;
    }
    let num = i128::from(viable_cells_per_ml.max(0)) * i128::from(volume_ul.max(0));
    i64::try_from(num / i128::from(cells_frozen)).unwrap_or(i64::MAX)
}

/// Judges every vial of a dose: viability against the minimum, recovery
/// against the plausible range (exactly: cells/mL × µL against pct × 10 ×
/// frozen) and, with two vials or more, each count against the median of
/// the dose's counts.
pub fn judge_counts(
    counts: &[ThawCount],
    cells_frozen: &[i64],
    rules: CountRules,
) -> Vec<CountJudgement> {
    let mut per_ml: Vec<i64> = counts.iter().map(|c| c.viable_cells_per_ml).collect();
    per_ml.sort_unstable();
    // twice the median, so an even count's median stays whole
    let twice_median: i128 = match per_ml.len() {
        0 => 0,
        n if n % 2 == 1 => 2 * i128::from(per_ml[n / 2]),
        n => i128::from(per_ml[n / 2 - 1]) + i128::from(per_ml[n / 2]),
    };
    counts
        .iter()
        .zip(cells_frozen)
        .map(|(c, cells)| {
            let recovered =
                i128::from(c.viable_cells_per_ml.max(0)) * i128::from(c.volume_ul.max(0));
            let frozen = i128::from(*cells);
            let spread_tenths = if counts.len() >= 2 && twice_median > 0 {
                let deviation = (2 * i128::from(c.viable_cells_per_ml) - twice_median).abs();
                (deviation * 100 > i128::from(rules.spread_max_pct) * twice_median)
                    .then(|| i64::try_from(deviation * 1000 / twice_median).unwrap_or(i64::MAX))
            } else {
                None
            };
            CountJudgement {
                recovery_tenths: recovery_tenths(c.viable_cells_per_ml, c.volume_ul, *cells),
                viability_low: c.viability_tenths < rules.min_viability_pct * 10,
                recovery_implausible: recovered < i128::from(rules.recovery_min_pct) * 10 * frozen
                    || recovered > i128::from(rules.recovery_max_pct) * 10 * frozen,
                spread_tenths,
            }
        })
        .collect()
}

/// A volume in millilitres as written on a bag or syringe (`4.4`, `4`,
/// `0.25`; at most three decimals, so whole microlitres), in µL.
pub fn parse_millilitres(raw: &str) -> Option<i64> {
    let micros = parse_micros(raw)?;
    if micros % 1000 != 0 {
        return None;
    }
    i64::try_from(micros / 1000).ok()
}

/// Whether an infused volume is more than `tolerance_pct` away from the
/// prepared one (then a person confirms it, with a reason).
pub fn infused_volume_unusual(infused_ul: i64, prepared_ul: i64, tolerance_pct: i32) -> bool {
    let difference = i128::from(infused_ul - prepared_ul).abs() * 100;
    difference > i128::from(tolerance_pct) * i128::from(prepared_ul)
}

/// What to draw up and give.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct Preparation {
    /// Pooled viable cells per mL, ⌊Σ cells ÷ Σ volume⌋ (for people; the
    /// arithmetic uses the exact fraction).
    pub concentration_cells_per_ml: i64,
    /// Viable cells in all the thawed vials together.
    pub total_viable_cells: i64,
    /// Volume of the thawed product.
    pub available_ul: i64,
    /// target ÷ concentration, rounded to the nearest 0.1 mL.
    pub volume_ul: i64,
    /// ⌊volume × concentration⌋: the cells that volume holds.
    pub cells_to_administer: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PreparationError {
    #[error("no viable cells were counted")]
    NoCells,
    #[error(
        "{volume_ul} µL would hold {cells_to_administer} cells, outside the accepted {min_cells}–{max_cells}"
    )]
    OutOfRange {
        volume_ul: i64,
        cells_to_administer: i64,
        min_cells: i64,
        max_cells: i64,
        available_ul: i64,
    },
    #[error("the dose needs {volume_ul} µL but the thawed vials hold only {available_ul} µL")]
    NotEnoughVolume { volume_ul: i64, available_ul: i64 },
}

/// Volume steps: the syringe is read to 0.1 mL.
pub const VOLUME_STEP_UL: u128 = 100;

/// Pools the thawed vials and works out the volume that holds the target.
pub fn prepare(target: &DoseTarget, counts: &[ThawCount]) -> Result<Preparation, PreparationError> {
    // N = Σ cells/mL × µL (cells × 1000), D = Σ µL; concentration = N ÷ D cells/mL
    let n: u128 = counts
        .iter()
        .map(|c| c.viable_cells_per_ml.max(0) as u128 * c.volume_ul.max(0) as u128)
        .sum();
    let d: u128 = counts.iter().map(|c| c.volume_ul.max(0) as u128).sum();
    if n == 0 || d == 0 {
        return Err(PreparationError::NoCells);
    }
    let target_cells = target.target_cells.max(0) as u128;
    // volume (µL) = target ÷ (N ÷ D ÷ 1000 cells/µL) = target × 1000 × D ÷ N,
    // rounded half up to a step of 100 µL
    let steps = div_round(target_cells * 1000 * d, n * VOLUME_STEP_UL);
    let volume_ul = steps * VOLUME_STEP_UL;
    let to_i64 = |v: u128| i64::try_from(v).unwrap_or(i64::MAX);
    let available_ul = to_i64(d);
    if volume_ul > d {
        return Err(PreparationError::NotEnoughVolume {
            volume_ul: to_i64(volume_ul),
            available_ul,
        });
    }
    let cells = volume_ul * n / (d * 1000);
    let preparation = Preparation {
        concentration_cells_per_ml: to_i64(n / d),
        total_viable_cells: to_i64(n / 1000),
        available_ul,
        volume_ul: to_i64(volume_ul),
        cells_to_administer: to_i64(cells),
    };
    let cells = preparation.cells_to_administer;
    if volume_ul == 0 || cells < target.min_cells || cells > target.max_cells {
        return Err(PreparationError::OutOfRange {
            volume_ul: preparation.volume_ul,
            cells_to_administer: cells,
            min_cells: target.min_cells,
            max_cells: target.max_cells,
            available_ul,
        });
    }
    Ok(preparation)
}

/// When a product thawed at `thawed_at` must have started infusing.
pub fn use_by(thawed_at: DateTime<Utc>, shelf_life_minutes: i32) -> DateTime<Utc> {
    thawed_at + Duration::minutes(i64::from(shelf_life_minutes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn weights_convert_exactly() {
        assert_eq!(weight_to_grams("70", WeightUnit::Kg), Some(70_000));
        assert_eq!(weight_to_grams("72.5", WeightUnit::Kg), Some(72_500));
        assert_eq!(weight_to_grams("72.0004", WeightUnit::Kg), Some(72_000));
        assert_eq!(weight_to_grams("72.0005", WeightUnit::Kg), Some(72_001));
        // 1 lb = 453.59237 g
        assert_eq!(weight_to_grams("1", WeightUnit::Lb), Some(454));
        assert_eq!(weight_to_grams("100", WeightUnit::Lb), Some(45_359));
        assert_eq!(weight_to_grams("160", WeightUnit::Lb), Some(72_575));
        assert_eq!(weight_to_grams("551.155655", WeightUnit::Lb), Some(250_000));
        assert_eq!(weight_to_grams("66.138679", WeightUnit::Lb), Some(30_000));
        for bad in ["", "-70", "70kg", "7e1", ".5", "5.", "1.1234567", "NaN"] {
            assert_eq!(weight_to_grams(bad, WeightUnit::Kg), None, "{bad:?}");
        }
    }

    #[test]
    fn the_seed_dose_at_the_edges_of_plausible_weight() {
        let at_30 = dose_target(1_000_000, 30_000, 10);
        assert_eq!(
            (at_30.target_cells, at_30.min_cells, at_30.max_cells),
            (30_000_000, 27_000_000, 33_000_000)
        );
        let at_250 = dose_target(1_000_000, 250_000, 10);
        assert_eq!(at_250.target_cells, 250_000_000);
        assert_eq!(at_250.max_cells, 275_000_000);
        // a fraction of a gram never arises (weights are whole grams), but
        // a dose per kg that is not a multiple of 1000 floors
        let odd = dose_target(1_234_567, 70_001, 10);
        assert_eq!(odd.target_cells, 1_234_567 * 70_001 / 1000);
        assert_eq!(
            odd.min_cells,
            (1_234_567i128 * 70_001 * 90 / 100_000) as i64
        );
    }

    #[test]
    fn vials_cover_the_target_after_recovery() {
        // 70 kg: 70 × 10^6 cells; 25 × 10^6 per vial at 80 % = 20 × 10^6 each
        assert_eq!(vials_needed(70_000_000, 25_000_000, 80), 4);
        assert_eq!(vials_needed(80_000_000, 25_000_000, 80), 4);
        assert_eq!(vials_needed(80_000_001, 25_000_000, 80), 5);
        assert_eq!(vials_needed(1, 25_000_000, 80), 1);
    }

    #[test]
    fn changes_past_the_threshold_need_confirmation() {
        assert!(!change_needs_confirmation(70_000, 77_000, 10));
        assert!(change_needs_confirmation(70_000, 77_001, 10));
        assert!(!change_needs_confirmation(70_000, 63_000, 10));
        assert!(change_needs_confirmation(70_000, 62_999, 10));
        // the lb/kg slip: 70 entered as pounds
        let slip = weight_to_grams("70", WeightUnit::Lb).unwrap();
        assert!(change_needs_confirmation(70_000, slip, 10));
        assert_eq!(change_tenths_pct(70_000, 77_000), 100);
    }

    fn count(per_ml: i64, volume_ul: i64) -> ThawCount {
        ThawCount {
            viable_cells_per_ml: per_ml,
            viability_tenths: 900,
            volume_ul,
        }
    }

    #[test]
    fn the_volume_holds_the_dose() {
        // 70 kg; 4 vials of 1.5 mL at 16 × 10^6 viable cells/mL:
        // 96 × 10^6 cells in 6 mL; 70 × 10^6 needs 4.375 mL -> 4.4 mL
        let target = dose_target(1_000_000, 70_000, 10);
        let prep = prepare(&target, &[count(16_000_000, 1500); 4]).unwrap();
        assert_eq!(prep.concentration_cells_per_ml, 16_000_000);
        assert_eq!(prep.volume_ul, 4400);
        assert_eq!(prep.cells_to_administer, 70_400_000);
        assert_eq!(prep.available_ul, 6000);
    }

    #[test]
    fn vials_of_different_counts_pool() {
        // 40 × 10^6 cells in 2 mL: 20 × 10^6/mL; 30 × 10^6 is 1.5 mL
        let target = dose_target(1_000_000, 30_000, 10);
        let prep = prepare(&target, &[count(10_000_000, 1000), count(30_000_000, 1000)]).unwrap();
        assert_eq!(prep.concentration_cells_per_ml, 20_000_000);
        assert_eq!(prep.volume_ul, 1500);
        assert_eq!(prep.cells_to_administer, 30_000_000);
    }

    #[test]
    fn too_few_cells_or_too_little_volume_is_refused() {
        let target = dose_target(1_000_000, 60_000, 10);
        assert_eq!(
            prepare(&target, &[count(10_000_000, 1000), count(30_000_000, 1000)]),
            Err(PreparationError::NotEnoughVolume {
                volume_ul: 3000,
                available_ul: 2000
            })
        );
        assert_eq!(
            prepare(&target, &[count(0, 1000)]),
            Err(PreparationError::NoCells)
        );
        // so concentrated that 0.1 mL steps miss the ±10 % window
        let small = dose_target(1_000_000, 30_000, 10);
        let result = prepare(&small, &[count(1_000_000_000, 1000)]);
        assert!(
            matches!(
                result,
                Err(PreparationError::OutOfRange { volume_ul: 0, .. })
            ),
            "{result:?}"
        );
    }

    #[test]
    fn viability_is_read_to_a_tenth() {
        assert_eq!(parse_viability("85.7"), Some(857));
        assert_eq!(parse_viability("70"), Some(700));
        assert_eq!(parse_viability("100"), Some(1000));
        // more places are read exactly and floored to the tenth
        assert_eq!(parse_viability("85.75"), Some(857));
        assert_eq!(parse_viability("69.99999999999999999"), Some(699));
        assert_eq!(parse_viability("70.00000000000000000"), Some(700));
        assert_eq!(parse_viability("100.000"), Some(1000));
        for bad in [
            "100.1",
            "100.00000000000000001",
            "-1",
            "x",
            "",
            "7e1",
            "70.",
        ] {
            assert_eq!(parse_viability(bad), None, "{bad:?}");
        }
        let counts = [
            ThawCount {
                viability_tenths: 700,
                ..count(1, 1)
            },
            ThawCount {
                viability_tenths: 699,
                ..count(1, 1)
            },
        ];
        assert_eq!(below_viability(&counts, 70), [1]);
    }

    const RULES: CountRules = CountRules {
        min_viability_pct: 70,
        recovery_min_pct: 40,
        recovery_max_pct: 110,
        spread_max_pct: 30,
    };

    #[test]
    fn a_ten_times_slip_in_one_count_is_implausible() {
        // 25 × 10^6 cells frozen in 1.5 mL; 16 × 10^6/mL recovers 24 × 10^6: 96 %
        let good = count(16_000_000, 1500);
        let slip = count(160_000_000, 1500);
        let judged = judge_counts(&[good, good, slip, good], &[25_000_000; 4], RULES);
        assert_eq!(judged[0].recovery_tenths, 960);
        assert!(judged[0].passes(false));
        assert_eq!(judged[2].recovery_tenths, 9600);
        assert!(judged[2].recovery_implausible);
        // 160 against a median of 16: 900 % away
        assert_eq!(judged[2].spread_tenths, Some(9000));
        assert!(!judged[2].passes(false));
        assert!(judged[2].passes(true), "a person may confirm it");
    }

    #[test]
    fn recovery_is_judged_exactly_at_its_edges() {
        // 40 % of 25 × 10^6 is 10 × 10^6 viable cells in 1.5 mL
        let at = |per_ml| judge_counts(&[count(per_ml, 1500)], &[25_000_000], RULES)[0];
        let edge_low = 10_000_000 * 1000 / 1500; // 6 666 666: just under 10 × 10^6 cells
        assert!(at(edge_low).recovery_implausible);
        assert!(!at(edge_low + 1).recovery_implausible);
        // 110 %: 27.5 × 10^6 cells = 18 333 333.3/mL
        assert!(!at(18_333_333).recovery_implausible);
        assert!(at(18_333_334).recovery_implausible);
        // one vial has no median to differ from
        assert_eq!(at(16_000_000).spread_tenths, None);
        // a low viability fails even when confirmed
        let low = ThawCount {
            viability_tenths: 699,
            ..count(16_000_000, 1500)
        };
        let judged = judge_counts(&[low], &[25_000_000], RULES)[0];
        assert!(judged.viability_low && !judged.passes(true));
    }

    #[test]
    fn counts_far_from_their_median_are_named() {
        // median of 10, 12, 16 is 12; 16 is 33.3 % away
        let judged = judge_counts(
            &[
                count(10_000_000, 2000),
                count(12_000_000, 2000),
                count(16_000_000, 2000),
            ],
            &[25_000_000; 3],
            RULES,
        );
        assert_eq!(judged[0].spread_tenths, None); // 16.7 %
        assert_eq!(judged[2].spread_tenths, Some(333));
        // two vials: the median is their mean; 30 % exactly is allowed
        let judged = judge_counts(
            &[count(13_000_000, 2000), count(7_000_000, 2000)],
            &[25_000_000; 2],
            RULES,
        );
        assert_eq!(judged[0].spread_tenths, None);
        assert_eq!(judged[1].spread_tenths, None);
    }

    #[test]
    fn weights_needing_confirmation_say_why() {
        let enrolment = Reference {
            weight_g: 70_000,
            kind: "enrolment",
            older: false,
        };
        // 154 "kg" against 70 kg at enrolment: +120 %
        let concerns = weight_concerns(154_000, Some(enrolment), Some(1700), 10, 20, 12, 60);
        assert_eq!(
            concerns[0],
            WeightConcern::Change {
                compared_with_g: 70_000,
                compared_with: "enrolment",
                change_tenths_pct: 1200,
                threshold_pct: 10,
                older: false,
            }
        );
        // 154 kg at 1.70 m is a BMI of 53.2: inside 12-60
        assert_eq!(concerns.len(), 1);
        assert_eq!(bmi_tenths(154_000, 1700), 532);
        assert_eq!(
            likely_slip("154", WeightUnit::Kg, 154_000, 70_000, 10).as_deref(),
            Some("was it typed in pounds? 154 lb would be 69.9 kg")
        );
        assert_eq!(
            likely_slip("7.2", WeightUnit::Kg, 7_200, 70_000, 10).as_deref(),
            Some("is the decimal point in the right place? 72 kg would be close")
        );
        // an older reference is compared at 20 %
        let older = Reference {
            older: true,
            kind: "previous",
            ..enrolment
        };
        assert!(weight_concerns(83_000, Some(older), None, 10, 20, 12, 60).is_empty());
        assert_eq!(
            weight_concerns(84_001, Some(older), None, 10, 20, 12, 60).len(),
            1
        );
        // BMI edges, exactly: 12 at 1.70 m is 34.68 kg
        assert!(weight_concerns(34_680, None, Some(1700), 10, 20, 12, 60).is_empty());
        assert_eq!(
            weight_concerns(34_679, None, Some(1700), 10, 20, 12, 60),
            [WeightConcern::Bmi {
                bmi_tenths: 119,
                min: 12,
                max: 60
            }]
        );
        assert!(weight_concerns(173_400, None, Some(1700), 10, 20, 12, 60).is_empty());
        assert_eq!(
            weight_concerns(173_401, None, Some(1700), 10, 20, 12, 60).len(),
            1
        );
    }

    #[test]
    fn millilitres_read_as_on_the_bag() {
        assert_eq!(parse_millilitres("4.4"), Some(4400));
        assert_eq!(parse_millilitres("4"), Some(4000));
        assert_eq!(parse_millilitres("0.125"), Some(125));
        for bad in ["", "4,4", "-4", "4.4444", "4 mL"] {
            assert_eq!(parse_millilitres(bad), None, "{bad:?}");
        }
        assert!(!infused_volume_unusual(4400, 4400, 10));
        assert!(!infused_volume_unusual(3960, 4400, 10));
        assert!(infused_volume_unusual(3959, 4400, 10));
        assert!(infused_volume_unusual(4, 4400, 10), "µL typed for mL");
    }

    proptest! {
        #[test]
        fn a_prepared_dose_is_always_within_its_range(
            weight_g in 30_000i64..=250_000,
            per_ml in 1_000_000i64..=50_000_000,
            vials in 1usize..=12,
            volume_ul in 500i64..=5_000,
        ) {
            let target = dose_target(1_000_000, weight_g, 10);
            let counts = vec![count(per_ml, volume_ul); vials];
            if let Ok(prep) = prepare(&target, &counts) {
                prop_assert!(prep.cells_to_administer >= target.min_cells);
                prop_assert!(prep.cells_to_administer <= target.max_cells);
                prop_assert!(prep.volume_ul <= prep.available_ul);
                prop_assert_eq!(prep.volume_ul % 100, 0);
            }
        }

        #[test]
        fn the_range_brackets_the_target(weight_g in 1i64..=500_000, tol in 0i32..=50) {
            let t = dose_target(1_000_000, weight_g, tol);
            prop_assert!(t.min_cells <= t.target_cells && t.target_cells <= t.max_cells);
        }

        #[test]
        fn reserved_vials_reach_the_target_after_recovery(
            target in 1i64..=1_000_000_000,
            per_vial in 1_000_000i64..=100_000_000,
            recovery in 1i32..=100,
        ) {
            let n = vials_needed(target, per_vial, recovery);
            prop_assert!(i128::from(n) * i128::from(per_vial) * i128::from(recovery) >= i128::from(target) * 100);
            prop_assert!(i128::from(n - 1) * i128::from(per_vial) * i128::from(recovery) < i128::from(target) * 100);
        }
    }
}
