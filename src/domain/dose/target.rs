//! The dose for a weight: target cells, the accepted range and the vials to
//! reserve for it.

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::invalid::Invalid;
use crate::domain::quantity::{Cells, CellsPerKg, Grams};

/// The dose for a weight: the target and the accepted range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct DoseTarget {
    #[schema(value_type = i64)]
    pub weight_g: Grams,
    #[schema(value_type = i64)]
    pub dose_per_kg: CellsPerKg,
    /// ⌊dose/kg × weight_g ÷ 1000⌋ viable cells.
    #[schema(value_type = i64)]
    pub target_cells: Cells,
    /// ⌊target × (100 − tolerance) ÷ 100⌋, from the exact target.
    #[schema(value_type = i64)]
    pub min_cells: Cells,
    /// ⌊target × (100 + tolerance) ÷ 100⌋, from the exact target.
    #[schema(value_type = i64)]
    pub max_cells: Cells,
    pub tolerance_pct: i32,
}

/// A dose per kg as asked for (or the protocol's).
pub fn parse_dose_per_kg(cells: i64) -> Result<CellsPerKg, Invalid> {
    CellsPerKg::parse(cells).map_err(|_| Invalid::new("dose_per_kg", "1 to 10^10 cells per kg"))
}

/// The target and accepted range (floors of the exact values). At most
/// 10^10 cells/kg × 1000 kg × 2 (a tolerance of 100 %): 2 × 10^13 cells, in
/// range for [`Cells`]; a tolerance is 0 to 100 % (the protocol's check).
pub fn dose_target(dose_per_kg: CellsPerKg, weight_g: Grams, tolerance_pct: i32) -> DoseTarget {
    let exact_num = i128::from(dose_per_kg.get()) * i128::from(weight_g.get());
    let floor = |num: i128, den: i128| {
        Cells::counted(i64::try_from(num.div_euclid(den)).unwrap_or(i64::MAX))
    };
    let tolerance = i128::from(tolerance_pct.clamp(0, 100));
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
pub fn vials_needed(target_cells: Cells, cells_per_vial: Cells, recovery_pct: i32) -> i64 {
    let per_vial = i128::from(cells_per_vial.get()) * i128::from(recovery_pct);
    if per_vial <= 0 {
        return i64::MAX;
    }
    let needed = (i128::from(target_cells.get()) * 100 + per_vial - 1) / per_vial;
    i64::try_from(needed).unwrap_or(i64::MAX).max(1)
}
