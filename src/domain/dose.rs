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

/// A viability percentage with at most one decimal, in tenths (0-1000).
pub fn parse_viability(raw: &str) -> Option<i32> {
    let micros = parse_micros(raw)?;
    if micros % 100_000 != 0 {
        return None;
    }
    let tenths = i32::try_from(micros / 100_000).ok()?;
    (0..=1000).contains(&tenths).then_some(tenths)
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
        for bad in ["100.1", "85.75", "-1", "x", ""] {
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
