//! Thawed vials as counted: viability, recovery against what was frozen,
//! and each count against the dose's others.

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::invalid::Invalid;
use crate::domain::reason::Reason;

use crate::domain::quantity::{Cells, Microlitres};

/// One thawed vial as counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThawCount {
    /// Viable cells per millilitre.
    pub viable_cells_per_ml: i64,
    /// Viability in tenths of a percent (857 = 85.7 %).
    pub viability_tenths: i32,
    /// The vial's volume.
    pub volume_ul: Microlitres,
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
pub fn recovery_tenths(
    viable_cells_per_ml: i64,
    volume_ul: Microlitres,
    cells_frozen: Cells,
) -> i64 {
    if cells_frozen.get() == 0 {
        return i64::MAX;
    }
    let num = i128::from(viable_cells_per_ml.max(0)) * i128::from(volume_ul.get());
    i64::try_from(num / i128::from(cells_frozen.get())).unwrap_or(i64::MAX)
}

/// Judges every vial of a dose: viability against the minimum, recovery
/// against the plausible range (exactly: cells/mL × µL against pct × 10 ×
/// frozen) and, with two vials or more, each count against the median of
/// the dose's counts.
pub fn judge_counts(
    counts: &[ThawCount],
    cells_frozen: &[Cells],
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
                i128::from(c.viable_cells_per_ml.max(0)) * i128::from(c.volume_ul.get());
            let frozen = i128::from(cells.get());
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

/// One count as sent, before anything is loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountSent<'a> {
    pub vial_id: Uuid,
    pub viable_cells_per_ml: i64,
    /// `Some` (the reason as sent, maybe empty) when a person confirms an
    /// implausible count.
    pub confirmed_because: Option<&'a str>,
}

/// The counts as sent: each in range, a confirmed one with the reason it is
/// right, no vial twice.
pub fn check_counts_sent(counts: &[CountSent<'_>]) -> Result<(), Invalid> {
    let mut seen = HashSet::new();
    for count in counts {
        if !(0..=10_000_000_000).contains(&count.viable_cells_per_ml) {
            return Err(Invalid::new(
                "viable_cells_per_ml",
                "0 to 10^10 viable cells per mL",
            ));
        }
        if let Some(reason) = count.confirmed_because {
            Reason::parse(reason).map_err(|_| {
                Invalid::new(
                    "reason",
                    "confirming an implausible count needs the reason it is right",
                )
            })?;
        }
        if !seen.insert(count.vial_id) {
            return Err(Invalid::new("vials", "a vial is counted twice"));
        }
    }
    Ok(())
}

/// One of the dose's vials, as the counts are checked against it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DoseVial<'a> {
    pub id: Uuid,
    pub code: &'a str,
    /// Still reserved: not counted (nor thawed) yet.
    pub uncounted: bool,
}

/// The counts sent against the dose's vials: each for one of them, one for
/// every vial not counted yet, at least one, and a correction of a count
/// already recorded `signed`.
pub fn check_counted_vials(
    vials: &[DoseVial<'_>],
    counted: &HashSet<Uuid>,
    signed: bool,
) -> Result<(), Invalid> {
    let codes = |keep: &dyn Fn(&DoseVial<'_>) -> bool| -> String {
        vials
            .iter()
            .filter(|v| keep(v))
            .map(|v| v.code)
            .collect::<Vec<_>>()
            .join(", ")
    };
    if counted.iter().any(|id| !vials.iter().any(|v| v.id == *id)) {
        return Err(Invalid::new(
            "vials",
            format!(
                "a count is for a vial that is not in this dose; its vials are {}",
                codes(&|_| true)
            ),
        ));
    }
    if vials
        .iter()
        .any(|v| v.uncounted && !counted.contains(&v.id))
    {
        return Err(Invalid::new(
            "vials",
            format!(
                "one count for each vial not counted yet: {} (missing {})",
                codes(&|v| v.uncounted),
                codes(&|v| v.uncounted && !counted.contains(&v.id))
            ),
        ));
    }
    if counted.is_empty() {
        return Err(Invalid::new(
            "vials",
            "no count: the dose's counts are recorded; correct one with a signed recount",
        ));
    }
    if !signed
        && vials
            .iter()
            .any(|v| !v.uncounted && counted.contains(&v.id))
    {
        return Err(Invalid::new(
            "signature",
            format!(
                "{} already counted: a correction of a recorded count is signed, with a reason",
                codes(&|v| !v.uncounted && counted.contains(&v.id))
            ),
        ));
    }
    Ok(())
}

/// Vials are thawed after they were reserved for the dose, give or take
/// `skew` between clocks.
pub fn check_thawed_after_reserved(
    thawed_at: DateTime<Utc>,
    reserved_at: DateTime<Utc>,
    skew: Duration,
) -> Result<(), Invalid> {
    if thawed_at < reserved_at - skew {
        return Err(Invalid::new(
            "thawed_at",
            "before the dose's vials were reserved",
        ));
    }
    Ok(())
}
