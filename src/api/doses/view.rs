//! A dose as the API shows it: its status, vials, counts, replacements
//! and what may be done next, built from the service's record.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::lifecycle::{DoseStatus, LotStatus, VialStatus, dose_actions};
use crate::domain::patient::tenths_display;
use crate::domain::scan::{ScanKind, payload};
use crate::domain::units::millilitres;
use crate::error::{AppError, AppResult};
use crate::services::doses::DoseRecord;

#[derive(Debug, Serialize, ToSchema)]
pub struct DoseView {
    pub id: Uuid,
    /// e.g. `PV-007-D03`.
    pub code: String,
    /// What the dose bag's label encodes: `CT1:D:<code>`.
    pub scan_payload: String,
    pub patient_id: Uuid,
    pub subject_code: String,
    /// The patient's ISBT 128 Chain of Identity identifier (15 data
    /// characters), printed on the bag beside the DIN; null only for a
    /// patient enrolled before identifiers existed, until the service
    /// next starts.
    #[schema(example = "CHA999926000001")]
    pub coi: Option<String>,
    /// As printed for people, the check character last.
    #[schema(example = "CH A9999 26 000001 *")]
    pub coi_display: Option<String>,
    /// Which infusion of the patient this is (1-based).
    pub infusion_number: i32,
    pub infusions_total: i32,
    /// `reserved`, `count_failed`, `thawed`, `verified`, `infusing`,
    /// `infused`, `cancelled`.
    pub status: DoseStatus,
    /// For a `count_failed` dose: the refusal's code (`viability_too_low`,
    /// `implausible_count`, `dose_out_of_range`, `thawed_product_expired`,
    /// `lot_expired`, `lot_recalled`, `stale_weight`, `weight_voided`).
    pub count_failure: Option<String>,
    pub protocol_version: i32,
    pub weight_id: Uuid,
    pub weight_g: i64,
    /// When the weight was measured (it must be within the protocol's days
    /// at every step), and whether it has since been voided.
    pub weight_measured_at: DateTime<Utc>,
    pub weight_voided: bool,
    pub dose_per_kg: i64,
    pub target_cells: i64,
    pub min_cells: i64,
    pub max_cells: i64,
    pub lot_id: Uuid,
    pub lot_code: String,
    pub lot_status: LotStatus,
    pub lot_expires_at: DateTime<Utc>,
    pub cells_per_vial: i64,
    pub vials_needed: i32,
    pub vial_ids: Vec<Uuid>,
    pub vials: Vec<DoseVialView>,
    /// Vials taken out of the dose (replaced), with why.
    pub replaced_vials: Vec<ReplacedVial>,
    pub thawed_at: Option<DateTime<Utc>>,
    /// Thaw time plus the protocol's post-thaw shelf life.
    pub use_by: Option<DateTime<Utc>>,
    pub concentration_cells_per_ml: Option<i64>,
    pub available_ul: Option<i64>,
    /// The volume to draw up and give.
    pub volume_ul: Option<i64>,
    /// The same in mL, exact (`"4.4"`).
    pub volume_ml: Option<String>,
    /// Viable cells the volume holds.
    pub cells_to_administer: Option<i64>,
    /// Every count recorded, oldest first: superseded ones (with the signed
    /// correction that replaced them) and those of replaced vials too.
    pub counts: Vec<CountView>,
    pub verified_at: Option<DateTime<Utc>>,
    pub verified_by: Option<Uuid>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub cancel_reason: Option<String>,
    pub infusion_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    /// What the dose's lifecycle allows next.
    pub next_actions: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DoseVialView {
    pub id: Uuid,
    pub code: String,
    pub status: VialStatus,
    pub cells_per_vial: i64,
    pub volume_ul: i64,
    pub box_id: Option<Uuid>,
    pub position: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReplacedVial {
    pub id: Uuid,
    pub code: String,
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CountView {
    pub id: Uuid,
    pub vial_id: Uuid,
    pub vial_code: String,
    pub viable_cells_per_ml: i64,
    /// One decimal, e.g. `85.7` (floored from what was entered).
    pub viability_pct: String,
    /// As entered.
    pub viability_as_entered: Option<String>,
    pub volume_ul: i64,
    pub thawed_at: DateTime<Utc>,
    /// Viable cells recovered ÷ cells frozen in the vial, one decimal.
    pub recovery_pct: Option<String>,
    /// `viability_too_low` or `implausible_count`; null when it passes.
    pub failure: Option<String>,
    pub confirmed: bool,
    pub confirm_reason: Option<String>,
    /// The count this one corrects (signed), and why.
    pub supersedes_id: Option<Uuid>,
    pub correction_reason: Option<String>,
    /// A later signed count replaced this one.
    pub superseded: bool,
    /// This count is the vial's as it stands (not superseded, the vial still
    /// in the dose).
    pub current: bool,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: Option<Uuid>,
}

impl TryFrom<DoseRecord> for DoseView {
    type Error = AppError;

    fn try_from(record: DoseRecord) -> AppResult<Self> {
        let status = record.status()?;
        let counts: Vec<CountView> = record
            .counts
            .iter()
            .map(|c| {
                let current_vial = record.vials.iter().any(|v| v.id == c.vial_id);
                let superseded = record.is_superseded(c.id);
                CountView {
                    id: c.id,
                    vial_id: c.vial_id,
                    vial_code: record
                        .vials
                        .iter()
                        .chain(record.removed.iter().map(|(v, _)| v))
                        .find(|v| v.id == c.vial_id)
                        .map(|v| v.code.to_string())
                        .unwrap_or_default(),
                    viable_cells_per_ml: c.viable_cells_per_ml,
                    viability_pct: tenths_display(c.viability_tenths),
                    viability_as_entered: c.viability_text.clone(),
                    volume_ul: c.volume_ul.get(),
                    thawed_at: c.thawed_at,
                    recovery_pct: c.recovery_tenths.map(|t| format!("{}.{}", t / 10, t % 10)),
                    failure: c.failure.clone(),
                    confirmed: c.confirmed,
                    confirm_reason: c.confirm_reason.clone(),
                    supersedes_id: c.supersedes_id,
                    correction_reason: c.correction_reason.clone(),
                    superseded,
                    current: current_vial && !superseded,
                    recorded_at: c.recorded_at,
                    recorded_by: c.recorded_by,
                }
            })
            .collect();
        let DoseRecord {
            dose,
            subject_code,
            coi,
            lot,
            weight,
            vials,
            removed,
            infusion,
            infusions_total,
            use_by,
            ..
        } = record;
        Ok(DoseView {
            scan_payload: payload(ScanKind::Dose, &dose.code),
            id: dose.id,
            code: dose.code.into(),
            patient_id: dose.patient_id,
            subject_code,
            coi_display: coi.as_deref().map(|c| {
                let (display, check) = crate::domain::coi::display_parts(c);
                format!("{display} {check}")
            }),
            coi,
            infusion_number: dose.infusion_number,
            infusions_total,
            status: dose.status,
            count_failure: dose.count_failure,
            protocol_version: dose.protocol_version,
            weight_id: dose.weight_id,
            weight_g: dose.weight_g.get(),
            weight_measured_at: weight.measured_at,
            weight_voided: weight.voided_at.is_some(),
            dose_per_kg: dose.dose_per_kg.get(),
            target_cells: dose.target_cells.get(),
            min_cells: dose.min_cells.get(),
            max_cells: dose.max_cells.get(),
            lot_id: lot.id,
            lot_code: lot.code,
            lot_status: lot.status,
            lot_expires_at: lot.expires_at,
            cells_per_vial: dose.cells_per_vial.get(),
            vials_needed: dose.vials_needed,
            vial_ids: vials.iter().map(|v| v.id).collect(),
            vials: vials
                .into_iter()
                .map(|v| DoseVialView {
                    id: v.id,
                    code: v.code.into(),
                    status: v.status,
                    cells_per_vial: v.cells_per_vial.get(),
                    volume_ul: v.volume_ul.get(),
                    box_id: v.box_id,
                    position: v.position,
                })
                .collect(),
            replaced_vials: removed
                .into_iter()
                .map(|(v, reason)| ReplacedVial {
                    id: v.id,
                    code: v.code.into(),
                    reason,
                })
                .collect(),
            thawed_at: dose.thawed_at,
            use_by,
            concentration_cells_per_ml: dose.concentration_cells_per_ml,
            available_ul: dose.available_ul.map(i64::from),
            volume_ul: dose.volume_ul.map(i64::from),
            volume_ml: dose
                .volume_ul
                .map(|ul| millilitres(ul).trim_end_matches(" mL").to_owned()),
            cells_to_administer: dose.cells_to_administer.map(i64::from),
            counts,
            verified_at: dose.verified_at,
            verified_by: dose.verified_by,
            cancelled_at: dose.cancelled_at,
            cancel_reason: dose.cancel_reason,
            infusion_id: infusion.map(|i| i.id),
            created_at: dose.created_at,
            next_actions: dose_actions(status)
                .iter()
                .map(|a| a.as_str().to_owned())
                .collect(),
        })
    }
}
