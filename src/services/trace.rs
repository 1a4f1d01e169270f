//! Trace (21 CFR 1271.290): from a lot to every vial and recipient, from a
//! patient back through doses, vials and lots to donations and donors, and
//! from a donor forward. Each trace is a fixed, small number of queries
//! (never one per vial), answered from the live tables; every state they
//! show was written together with its ledger event.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::din::Din;
use crate::domain::donor::Eligibility;
use crate::domain::lifecycle::{DoseStatus, InfusionStatus, LotStatus, VialStatus};
use crate::entities::{
    adverse_event, donation, donor, dose, dose_vial, infusion, lot, patient, qc_result, vial,
};
use crate::error::{AppError, AppResult};
use crate::services::storage;
use crate::services::store;
use crate::state::AppState;

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
    pub infusion_ids: Vec<Uuid>,
    /// When each infusion started, oldest first.
    pub infused_at: Vec<DateTime<Utc>>,
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
}

/// A patient, back through every infusion to lots, donations and donors.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PatientTrace {
    pub patient_id: Uuid,
    pub subject_code: String,
    pub enrolled_at: DateTime<Utc>,
    pub doses: Vec<DoseNode>,
    pub vials: Vec<VialNode>,
    pub lots: Vec<LotNode>,
    pub donations: Vec<DonationNode>,
    pub donors: Vec<DonorNode>,
    pub adverse_events: Vec<AdverseEventNode>,
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
}

fn donor_node(d: donor::Model) -> DonorNode {
    DonorNode {
        id: d.id,
        code: d.code,
        eligibility: d.eligibility,
        eligibility_decided_at: d.eligibility_decided_at,
        consent_at: d.consent_at,
    }
}

fn donation_node(d: donation::Model) -> DonationNode {
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

fn lot_node(l: lot::Model) -> LotNode {
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

/// Doses, their vials, infusions, patients and adverse events, given the
/// doses (five queries at most, whatever their number).
struct DoseGraph {
    doses: Vec<DoseNode>,
    /// Vial id → index of the (not cancelled) dose it is in.
    vial_dose: HashMap<Uuid, usize>,
    vial_ids: Vec<Uuid>,
    recipients: Vec<RecipientNode>,
    adverse_events: Vec<AdverseEventNode>,
}

async fn dose_graph(db: &impl ConnectionTrait, doses: Vec<dose::Model>) -> AppResult<DoseGraph> {
    let dose_ids: Vec<Uuid> = doses.iter().map(|d| d.id).collect();
    let links = if dose_ids.is_empty() {
        Vec::new()
    } else {
        dose_vial::Entity::find()
            .filter(dose_vial::Column::DoseId.is_in(dose_ids.clone()))
            .filter(dose_vial::Column::RemovedAt.is_null())
            .all(db)
            .await?
    };
    let vial_ids: Vec<Uuid> = links.iter().map(|l| l.vial_id).collect();
    let codes: HashMap<Uuid, String> = if vial_ids.is_empty() {
        HashMap::new()
    } else {
        vial::Entity::find()
            .filter(vial::Column::Id.is_in(vial_ids.clone()))
            .all(db)
            .await?
            .into_iter()
            .map(|v| (v.id, v.code.into()))
            .collect()
    };
    let infusions: HashMap<Uuid, infusion::Model> = if dose_ids.is_empty() {
        HashMap::new()
    } else {
        infusion::Entity::find()
            .filter(infusion::Column::DoseId.is_in(dose_ids))
            .all(db)
            .await?
            .into_iter()
            .map(|i| (i.dose_id, i))
            .collect()
    };
    let patient_ids: Vec<Uuid> = doses.iter().map(|d| d.patient_id).collect();
    let patients: HashMap<Uuid, String> = if patient_ids.is_empty() {
        HashMap::new()
    } else {
        patient::Entity::find()
            .filter(patient::Column::Id.is_in(patient_ids))
            .all(db)
            .await?
            .into_iter()
            .map(|p| (p.id, p.subject_code.into()))
            .collect()
    };
    let infusion_ids: Vec<Uuid> = infusions.values().map(|i| i.id).collect();
    let events = if infusion_ids.is_empty() {
        Vec::new()
    } else {
        adverse_event::Entity::find()
            .filter(adverse_event::Column::InfusionId.is_in(infusion_ids))
            .order_by_asc(adverse_event::Column::OnsetAt)
            .all(db)
            .await?
    };
    let subject = |id: Uuid| patients.get(&id).cloned().unwrap_or_default();
    let mut by_dose: HashMap<Uuid, Vec<&dose_vial::Model>> = HashMap::new();
    for link in &links {
        by_dose.entry(link.dose_id).or_default().push(link);
    }
    let mut vial_dose = HashMap::new();
    let mut nodes = Vec::with_capacity(doses.len());
    let mut recipients: BTreeMap<String, RecipientNode> = BTreeMap::new();
    for d in doses {
        let mut vial_codes: Vec<String> = by_dose
            .get(&d.id)
            .map(|links| {
                links
                    .iter()
                    .filter_map(|l| codes.get(&l.vial_id).cloned())
                    .collect()
            })
            .unwrap_or_default();
        vial_codes.sort();
        if d.status != DoseStatus::Cancelled {
            for link in by_dose.get(&d.id).into_iter().flatten() {
                vial_dose.insert(link.vial_id, nodes.len());
            }
        }
        let infusion = infusions.get(&d.id).map(|i| InfusionNode {
            id: i.id,
            infusion_number: i.infusion_number,
            status: i.status,
            started_at: i.started_at,
            ended_at: i.ended_at,
            volume_infused_ul: i.volume_infused_ul.map(i64::from),
            late_entry: i.late_entry,
            late_reason: i.late_reason.clone(),
        });
        if let Some(i) = &infusion {
            let r = recipients
                .entry(subject(d.patient_id))
                .or_insert_with(|| RecipientNode {
                    patient_id: d.patient_id,
                    subject_code: subject(d.patient_id),
                    infusion_ids: Vec::new(),
                    infused_at: Vec::new(),
                });
            r.infusion_ids.push(i.id);
            r.infused_at.push(i.started_at);
        }
        nodes.push(DoseNode {
            id: d.id,
            code: d.code.into(),
            status: d.status,
            lot_id: d.lot_id,
            patient_id: d.patient_id,
            subject_code: subject(d.patient_id),
            infusion_number: d.infusion_number,
            vial_codes,
            volume_ul: d.volume_ul.map(i64::from),
            cells_to_administer: d.cells_to_administer.map(i64::from),
            infusion,
        });
    }
    for r in recipients.values_mut() {
        let mut pairs: Vec<_> = r
            .infused_at
            .iter()
            .copied()
            .zip(r.infusion_ids.iter().copied())
            .collect();
        pairs.sort();
        r.infused_at = pairs.iter().map(|p| p.0).collect();
        r.infusion_ids = pairs.iter().map(|p| p.1).collect();
    }
    let adverse_events = events
        .into_iter()
        .map(|e| AdverseEventNode {
            subject_code: subject(e.patient_id),
            id: e.id,
            infusion_id: e.infusion_id,
            term: e.term,
            grade: e.grade,
            onset_at: e.onset_at,
        })
        .collect();
    Ok(DoseGraph {
        doses: nodes,
        vial_dose,
        vial_ids,
        recipients: recipients.into_values().collect(),
        adverse_events,
    })
}

async fn vial_nodes(
    state: &AppState,
    vials: Vec<vial::Model>,
    graph: &DoseGraph,
) -> AppResult<Vec<VialNode>> {
    let mut nodes = Vec::with_capacity(vials.len());
    for v in vials {
        let location = match (v.box_id, &v.position) {
            (Some(box_id), Some(position)) => {
                let unit = storage::unit(state, box_id).await?;
                Some(crate::domain::storage::location_path(
                    [unit.path.as_str()],
                    Some(position),
                ))
            }
            _ => None,
        };
        let dose = graph.vial_dose.get(&v.id).map(|i| &graph.doses[*i]);
        nodes.push(VialNode {
            id: v.id,
            code: v.code.into(),
            lot_id: v.lot_id,
            status: v.status,
            location,
            dose_id: dose.map(|d| d.id),
            dose_code: dose.map(|d| d.code.clone()),
            subject_code: dose.map(|d| d.subject_code.clone()),
            infusion_id: dose.and_then(|d| d.infusion.as_ref().map(|i| i.id)),
        });
    }
    Ok(nodes)
}

pub async fn lot(state: &AppState, lot_id: Uuid) -> AppResult<LotTrace> {
    let db = state.db.conn();
    let lot = store::find_or_404::<lot::Entity>(db, lot_id).await?;
    let (donation, donor) = donation::Entity::find_by_id(lot.donation_id)
        .find_also_related(donor::Entity)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("donation", lot.donation_id))?;
    let donor = donor.ok_or_else(|| AppError::not_found("donor", donation.donor_id))?;
    let qc = qc_result::Entity::find()
        .filter(qc_result::Column::LotId.eq(lot_id))
        .order_by_asc(qc_result::Column::RecordedAt)
        .all(db)
        .await?;
    let vials = vial::Entity::find()
        .filter(vial::Column::LotId.eq(lot_id))
        .order_by_asc(vial::Column::Code)
        .all(db)
        .await?;
    let doses = dose::Entity::find()
        .filter(dose::Column::LotId.eq(lot_id))
        .order_by_asc(dose::Column::CreatedAt)
        .all(db)
        .await?;
    let graph = dose_graph(db, doses).await?;
    let vials = vial_nodes(state, vials, &graph).await?;
    Ok(LotTrace {
        lot: lot_node(lot),
        donation: donation_node(donation),
        donor: donor_node(donor),
        qc: qc
            .into_iter()
            .map(|q| QcNode {
                test: q.test,
                value: q.value,
                unit: q.unit,
                pass: q.pass,
                recorded_at: q.recorded_at,
            })
            .collect(),
        vials,
        doses: graph.doses,
        recipients: graph.recipients,
        adverse_events: graph.adverse_events,
    })
}

pub async fn patient(state: &AppState, patient_id: Uuid) -> AppResult<PatientTrace> {
    let db = state.db.conn();
    let patient = crate::services::patients::find(db, patient_id).await?;
    let doses = dose::Entity::find()
        .filter(dose::Column::PatientId.eq(patient_id))
        .order_by_asc(dose::Column::CreatedAt)
        .all(db)
        .await?;
    let lot_ids: Vec<Uuid> = doses.iter().map(|d| d.lot_id).collect();
    let graph = dose_graph(db, doses).await?;
    let vials = if graph.vial_ids.is_empty() {
        Vec::new()
    } else {
        vial::Entity::find()
            .filter(vial::Column::Id.is_in(graph.vial_ids.clone()))
            .order_by_asc(vial::Column::Code)
            .all(db)
            .await?
    };
    let vials: Vec<VialNode> = vial_nodes(state, vials, &graph)
        .await?
        .into_iter()
        .filter(|v| v.dose_id.is_some())
        .collect();
    let (lots, donations, donors) = upstream(db, lot_ids).await?;
    Ok(PatientTrace {
        patient_id,
        subject_code: patient.subject_code.into(),
        enrolled_at: patient.enrolled_at,
        doses: graph.doses,
        vials,
        lots,
        donations,
        donors,
        adverse_events: graph.adverse_events,
    })
}

/// Lots by id, with their donations and donors (three queries).
async fn upstream(
    db: &impl ConnectionTrait,
    mut lot_ids: Vec<Uuid>,
) -> AppResult<(Vec<LotNode>, Vec<DonationNode>, Vec<DonorNode>)> {
    lot_ids.sort();
    lot_ids.dedup();
    if lot_ids.is_empty() {
        return Ok((Vec::new(), Vec::new(), Vec::new()));
    }
    let lots = lot::Entity::find()
        .filter(lot::Column::Id.is_in(lot_ids))
        .order_by_asc(lot::Column::Code)
        .all(db)
        .await?;
    let donation_ids: Vec<Uuid> = lots.iter().map(|l| l.donation_id).collect();
    let donations = donation::Entity::find()
        .filter(donation::Column::Id.is_in(donation_ids))
        .find_also_related(donor::Entity)
        .order_by_asc(donation::Column::Din)
        .all(db)
        .await?;
    let mut donors: BTreeMap<String, DonorNode> = BTreeMap::new();
    let mut donation_nodes = Vec::new();
    for (donation, donor) in donations {
        if let Some(donor) = donor {
            donors
                .entry(donor.code.clone())
                .or_insert_with(|| donor_node(donor));
        }
        donation_nodes.push(donation_node(donation));
    }
    Ok((
        lots.into_iter().map(lot_node).collect(),
        donation_nodes,
        donors.into_values().collect(),
    ))
}

pub async fn donor(state: &AppState, donor_id: Uuid) -> AppResult<DonorTrace> {
    let db = state.db.conn();
    let donor = store::find_or_404::<donor::Entity>(db, donor_id).await?;
    let donations = donation::Entity::find()
        .filter(donation::Column::DonorId.eq(donor_id))
        .order_by_asc(donation::Column::Din)
        .all(db)
        .await?;
    let donation_ids: Vec<Uuid> = donations.iter().map(|d| d.id).collect();
    let lots = if donation_ids.is_empty() {
        Vec::new()
    } else {
        lot::Entity::find()
            .filter(lot::Column::DonationId.is_in(donation_ids))
            .order_by_asc(lot::Column::Code)
            .all(db)
            .await?
    };
    let lot_ids: Vec<Uuid> = lots.iter().map(|l| l.id).collect();
    let (vials, doses) = if lot_ids.is_empty() {
        (Vec::new(), Vec::new())
    } else {
        (
            vial::Entity::find()
                .filter(vial::Column::LotId.is_in(lot_ids.clone()))
                .order_by_asc(vial::Column::Code)
                .all(db)
                .await?,
            dose::Entity::find()
                .filter(dose::Column::LotId.is_in(lot_ids))
                .order_by_asc(dose::Column::CreatedAt)
                .all(db)
                .await?,
        )
    };
    let graph = dose_graph(db, doses).await?;
    let vials = vial_nodes(state, vials, &graph).await?;
    Ok(DonorTrace {
        donor: donor_node(donor),
        donations: donations.into_iter().map(donation_node).collect(),
        lots: lots.into_iter().map(lot_node).collect(),
        vials,
        doses: graph.doses,
        recipients: graph.recipients,
        adverse_events: graph.adverse_events,
    })
}
