//! What a trace shows: one node per record (donor, donation, lot, QC,
//! vial, dose, infusion, recipient, adverse event), and the three traces
//! made of them.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::din::Din;
use crate::domain::donor::Eligibility;
use crate::domain::lifecycle::{DoseStatus, InfusionStatus, LotStatus, VialStatus};
use crate::entities::{donation, donor, lot};

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DonorNode {
    pub id: Uuid,
    pub code: String,
    pub eligibility: Eligibility,
    pub eligibility_decided_at: Option<DateTime<Utc>>,
    pub consent_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DonationNode {
    pub id: Uuid,
    pub donor_id: Uuid,
    pub din: String,
    /// As printed, with the check character: `A9999 26 000123 K`.
    pub din_display: String,
    pub collected_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LotNode {
    pub id: Uuid,
    pub code: String,
    pub donation_id: Uuid,
    pub product_code: String,
    pub status: LotStatus,
    pub manufactured_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub frozen_at: Option<DateTime<Utc>>,
    pub cells_per_vial: Option<i64>,
    pub vial_count: Option<i32>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QcNode {
    pub test: String,
    pub value: String,
    pub unit: Option<String>,
    pub pass: bool,
    pub recorded_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VialNode {
    pub id: Uuid,
    pub code: String,
    pub lot_id: Uuid,
    pub status: VialStatus,
    /// Where it is, while in storage.
    pub location: Option<String>,
    /// The dose it went into (not counting cancelled ones), if any.
    pub dose_id: Option<Uuid>,
    pub dose_code: Option<String>,
    pub subject_code: Option<String>,
    /// The recipient's Chain of Identity identifier (15 data characters).
    pub coi: Option<String>,
    pub infusion_id: Option<Uuid>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InfusionNode {
    pub id: Uuid,
    pub infusion_number: i32,
    pub status: InfusionStatus,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub volume_infused_ul: Option<i64>,
    /// Recorded after the fact (given during an outage), signed.
    pub late_entry: bool,
    pub late_reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DoseNode {
    pub id: Uuid,
    pub code: String,
    pub status: DoseStatus,
    pub lot_id: Uuid,
    pub patient_id: Uuid,
    pub subject_code: String,
    /// The patient's ISBT 128 Chain of Identity identifier (15 data
    /// characters): with the DIN its lot code starts with, the two codes
    /// that tie the therapy to its patient and its donation.
    pub coi: Option<String>,
    pub infusion_number: i32,
    pub vial_codes: Vec<String>,
    pub volume_ul: Option<i64>,
    pub cells_to_administer: Option<i64>,
    pub infusion: Option<InfusionNode>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RecipientNode {
    pub patient_id: Uuid,
    pub subject_code: String,
    /// The recipient's Chain of Identity identifier (15 data characters).
    pub coi: Option<String>,
    pub infusion_ids: Vec<Uuid>,
    /// When each infusion started, oldest first.
    pub infused_at: Vec<DateTime<Utc>>,
    /// When the recipient withdrew from the trial, if they did.
    pub withdrawn_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AdverseEventNode {
    pub id: Uuid,
    pub infusion_id: Uuid,
    pub subject_code: String,
    pub term: String,
    pub grade: i32,
    pub onset_at: DateTime<Utc>,
}

/// A lot, forward to every vial and recipient, and back to its donor.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LotTrace {
    pub lot: LotNode,
    pub donation: DonationNode,
    pub donor: DonorNode,
    pub qc: Vec<QcNode>,
    pub vials: Vec<VialNode>,
    pub doses: Vec<DoseNode>,
    pub recipients: Vec<RecipientNode>,
    pub adverse_events: Vec<AdverseEventNode>,
    /// The shipments that carried (or carry) the lot's vials between sites,
    /// oldest first.
    #[serde(default)]
    pub shipments: Vec<ShipmentNode>,
    /// The donor withdrew consent: this lot's hold and quality's decision.
    pub consent_withdrawal: Option<crate::services::withdrawals::trace::LotWithdrawalNode>,
}

/// A shipment of some of a lot's vials: from where to where, when, and
/// what became of them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ShipmentNode {
    pub id: Uuid,
    pub code: String,
    pub status: crate::domain::shipment::ShipmentStatus,
    pub from_site: String,
    pub to_site: String,
    /// The shipping container's code.
    pub container: String,
    pub sealed_at: Option<DateTime<Utc>>,
    pub picked_up_at: Option<DateTime<Utc>>,
    pub arrived_at: Option<DateTime<Utc>>,
    pub received_at: Option<DateTime<Utc>>,
    /// The lot's vials on it.
    pub vial_codes: Vec<String>,
    /// Those that did not arrive (discarded at the signed receipt).
    pub missing: Vec<String>,
}

/// A patient, back through every infusion to lots, donations and donors.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PatientTrace {
    pub patient_id: Uuid,
    pub subject_code: String,
    /// The patient's ISBT 128 Chain of Identity identifier (15 data
    /// characters), and as printed with its check character.
    #[schema(example = "CHA999926000001")]
    pub coi: Option<String>,
    #[schema(example = "CH A9999 26 000001 *")]
    pub coi_display: Option<String>,
    pub enrolled_at: DateTime<Utc>,
    pub doses: Vec<DoseNode>,
    pub vials: Vec<VialNode>,
    pub lots: Vec<LotNode>,
    pub donations: Vec<DonationNode>,
    pub donors: Vec<DonorNode>,
    pub adverse_events: Vec<AdverseEventNode>,
    /// The patient withdrew from the trial.
    pub withdrawal: Option<crate::services::withdrawals::trace::PatientWithdrawalNode>,
}

/// A donor, forward to every lot, vial and recipient.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DonorTrace {
    pub donor: DonorNode,
    pub donations: Vec<DonationNode>,
    pub lots: Vec<LotNode>,
    pub vials: Vec<VialNode>,
    pub doses: Vec<DoseNode>,
    pub recipients: Vec<RecipientNode>,
    pub adverse_events: Vec<AdverseEventNode>,
    /// The donor's consent withdrawal and every lot it held.
    pub consent_withdrawal: Option<crate::services::withdrawals::trace::ConsentWithdrawalNode>,
}

pub(super) fn donor_node(d: donor::Model) -> DonorNode {
    DonorNode {
        id: d.id,
        code: d.code,
        eligibility: d.eligibility,
        eligibility_decided_at: d.eligibility_decided_at,
        consent_at: d.consent_at,
    }
}

pub(super) fn donation_node(d: donation::Model) -> DonationNode {
    DonationNode {
        din_display: Din::parse(&d.din)
            .map(|din| din.display())
            .unwrap_or_else(|_| d.din.clone()),
        id: d.id,
        donor_id: d.donor_id,
        din: d.din,
        collected_at: d.collected_at,
        received_at: d.received_at,
    }
}

pub(super) fn lot_node(l: lot::Model) -> LotNode {
    LotNode {
        id: l.id,
        code: l.code,
        donation_id: l.donation_id,
        product_code: l.product_code,
        status: l.status,
        manufactured_at: l.manufactured_at,
        expires_at: l.expires_at,
        frozen_at: l.frozen_at,
        cells_per_vial: l.cells_per_vial.map(i64::from),
        vial_count: l.vial_count,
    }
}
