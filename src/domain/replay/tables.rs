//! The tables, as far as the replay compares them: one plain row type per
//! record kind, read by the service from the database.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// The tables, as far as the replay compares them.
#[derive(Debug, Default)]
pub struct Tables {
    pub vials: Vec<VialRow>,
    pub lots: Vec<LotRow>,
    pub doses: Vec<DoseRow>,
    pub infusions: Vec<InfusionRow>,
    pub weights: Vec<WeightRow>,
    pub qc: Vec<QcRow>,
    pub donors: Vec<DonorRow>,
    pub screening: Vec<ScreeningRow>,
    pub storage: Vec<StorageRow>,
    pub users: Vec<UserRow>,
    pub signatures: Vec<SignatureRow>,
    pub patients: Vec<PatientRow>,
}

/// A patient as far as the replay compares it: its Chain of Identity
/// identifier (`domain::coi`).
#[derive(Debug, Clone)]
pub struct PatientRow {
    pub id: Uuid,
    pub subject_code: String,
    pub coi: Option<String>,
}

#[derive(Debug, Clone)]
pub struct VialRow {
    pub id: Uuid,
    pub code: String,
    pub status: String,
    pub box_id: Option<Uuid>,
    pub position: Option<String>,
    pub labels_issued: i64,
}

#[derive(Debug, Clone)]
pub struct LotRow {
    pub id: Uuid,
    pub code: String,
    pub status: String,
}

#[derive(Debug, Clone)]
pub struct DoseRow {
    pub id: Uuid,
    /// The patient's subject code and the dose code.
    pub code: String,
    pub status: String,
    /// The vials it holds now (`dose_vials` without `removed_at`).
    pub vials: BTreeSet<Uuid>,
}

#[derive(Debug, Clone)]
pub struct InfusionRow {
    pub id: Uuid,
    /// Subject code and infusion number.
    pub name: String,
    pub status: String,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub volume_infused_ul: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct WeightRow {
    pub id: Uuid,
    pub name: String,
    pub weight_g: i64,
    pub measured_at: DateTime<Utc>,
    pub voided_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct QcRow {
    pub id: Uuid,
    pub name: String,
    pub test: String,
    pub value: String,
    pub pass: bool,
    pub investigation: Option<String>,
}

#[derive(Debug, Clone)]
pub struct DonorRow {
    pub id: Uuid,
    pub code: String,
    pub eligibility: String,
}

#[derive(Debug, Clone)]
pub struct ScreeningRow {
    pub id: Uuid,
    pub name: String,
    pub test: String,
    pub result: String,
    pub invalidated: bool,
}

#[derive(Debug, Clone)]
pub struct StorageRow {
    pub id: Uuid,
    pub name: String,
    pub kind: String,
    pub parent_id: Option<Uuid>,
}

#[derive(Debug, Clone)]
pub struct UserRow {
    pub id: Uuid,
    pub username: String,
    pub role: String,
    pub active: bool,
}

#[derive(Debug, Clone)]
pub struct SignatureRow {
    pub id: Uuid,
    pub signer_id: Uuid,
    pub signer_username: String,
    pub meaning: String,
    pub signed_at: DateTime<Utc>,
    pub action: String,
    pub subject_id: Uuid,
    pub event_seq: i64,
    pub event_hash: String,
}
