//! What to draw up and give from the counted vials, and how an infused
//! volume compares with it.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::quantity::{Cells, Microlitres};

use super::count::ThawCount;
use super::target::DoseTarget;

use super::{div_round, parse_micros};

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
pub fn infused_volume_unusual(
    infused_ul: Microlitres,
    prepared_ul: Microlitres,
    tolerance_pct: i32,
) -> bool {
    let difference = i128::from(infused_ul.get() - prepared_ul.get()).abs() * 100;
    difference > i128::from(tolerance_pct) * i128::from(prepared_ul.get())
}

/// What to draw up and give.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct Preparation {
    /// Pooled viable cells per mL, ⌊Σ cells ÷ Σ volume⌋ (for people; the
    /// arithmetic uses the exact fraction).
    pub concentration_cells_per_ml: i64,
    /// Viable cells in all the thawed vials together.
    #[schema(value_type = i64)]
    pub total_viable_cells: Cells,
    /// Volume of the thawed product.
    #[schema(value_type = i64)]
    pub available_ul: Microlitres,
    /// target ÷ concentration, rounded to the nearest 0.1 mL.
    #[schema(value_type = i64)]
    pub volume_ul: Microlitres,
    /// ⌊volume × concentration⌋: the cells that volume holds.
    #[schema(value_type = i64)]
    pub cells_to_administer: Cells,
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
///
/// The vials of a dose are of one lot: at most 999 of at most 100 mL, so
/// their volume is at most 99.9 L and their cells (at most 10^10 per mL) at
/// most 10^15, in range for [`Microlitres`] and [`Cells`].
pub fn prepare(target: &DoseTarget, counts: &[ThawCount]) -> Result<Preparation, PreparationError> {
    // N = Σ cells/mL × µL (cells × 1000), D = Σ µL; concentration = N ÷ D cells/mL
    let n: u128 = counts
        .iter()
        .map(|c| c.viable_cells_per_ml.max(0) as u128 * c.volume_ul.get() as u128)
        .sum();
    let d: u128 = counts.iter().map(|c| c.volume_ul.get() as u128).sum();
    if n == 0 || d == 0 {
        return Err(PreparationError::NoCells);
    }
    let target_cells = target.target_cells.get() as u128;
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
    let cells = to_i64(volume_ul * n / (d * 1000));
    let (min_cells, max_cells) = (target.min_cells.get(), target.max_cells.get());
    if volume_ul == 0 || cells < min_cells || cells > max_cells {
        return Err(PreparationError::OutOfRange {
            volume_ul: to_i64(volume_ul),
            cells_to_administer: cells,
            min_cells,
            max_cells,
            available_ul,
        });
    }
    Ok(Preparation {
        concentration_cells_per_ml: to_i64(n / d),
        total_viable_cells: Cells::counted(to_i64(n / 1000)),
        available_ul: Microlitres::measured(available_ul),
        volume_ul: Microlitres::measured(to_i64(volume_ul)),
        cells_to_administer: Cells::counted(cells),
    })
}

/// When a product thawed at `thawed_at` must have started infusing.
pub fn use_by(thawed_at: DateTime<Utc>, shelf_life_minutes: i32) -> DateTime<Utc> {
    thawed_at + Duration::minutes(i64::from(shelf_life_minutes))
}
