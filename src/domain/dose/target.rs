//! The dose for a weight: target cells, the accepted range and the vials to
//! reserve for it.

use serde::Serialize;
use utoipa::ToSchema;

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
