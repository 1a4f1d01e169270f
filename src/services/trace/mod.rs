//! Trace (21 CFR 1271.290): from a lot to every vial and recipient, from a
//! patient back through doses, vials and lots to donations and donors, and
//! from a donor forward. Each trace is a fixed, small number of queries
//! (never one per vial), answered from the live tables; every state they
//! show was written together with its ledger event.
//!
//! Its parts: `nodes` are what a trace shows, one per record; `graph`
//! gathers doses with their vials, infusions, recipients and adverse
//! events; this module walks from a lot, a patient or a donor.

mod graph;
mod nodes;

use std::collections::BTreeMap;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::domain::shipment::ShipmentStatus;
use crate::entities::{
    donation, donor, dose, lot, qc_result, shipment, shipment_item, shipping_container, site, vial,
};
use crate::error::{AppError, AppResult};
use crate::services::store;
use crate::state::AppState;

use graph::{dose_graph, vial_nodes};
pub use nodes::{
    AdverseEventNode, DonationNode, DonorNode, DonorTrace, DoseNode, InfusionNode, LotNode,
    LotTrace, PatientTrace, QcNode, RecipientNode, ShipmentNode, VialNode,
};
use nodes::{donation_node, donor_node, lot_node};

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
    let shipments = shipments_of(db, &vials).await?;
    let mut vials = vial_nodes(state, vials, &graph).await?;
    // a vial in a shipper is where its shipment is
    for node in vials.iter_mut().filter(|v| v.location.is_none()) {
        if let Some((s, _)) = shipments.iter().find(|(s, packed)| {
            packed.contains(&node.id)
                && s.received_at.is_none()
                && s.status != ShipmentStatus::Cancelled
        }) {
            node.location = Some(crate::domain::shipment::in_transit_location(
                &s.container,
                &s.code,
            ));
        }
    }
    let mut recipients = graph.recipients;
    crate::services::withdrawals::trace::mark_recipients(db, &mut recipients).await?;
    Ok(LotTrace {
        consent_withdrawal: crate::services::withdrawals::trace::of_lot(db, lot_id).await?,
        shipments: shipments.into_iter().map(|(s, _)| s).collect(),
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
        recipients,
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
        coi_display: patient.coi.as_deref().map(|c| {
            let (display, check) = crate::domain::coi::display_parts(c);
            format!("{display} {check}")
        }),
        coi: patient.coi,
        enrolled_at: patient.enrolled_at,
        doses: graph.doses,
        vials,
        lots,
        donations,
        donors,
        adverse_events: graph.adverse_events,
        withdrawal: crate::services::withdrawals::trace::of_patient(db, patient_id).await?,
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
    let mut recipients = graph.recipients;
    crate::services::withdrawals::trace::mark_recipients(db, &mut recipients).await?;
    Ok(DonorTrace {
        consent_withdrawal: crate::services::withdrawals::trace::of_donor(db, donor_id).await?,
        donor: donor_node(donor),
        donations: donations.into_iter().map(donation_node).collect(),
        lots: lots.into_iter().map(lot_node).collect(),
        vials,
        doses: graph.doses,
        recipients,
        adverse_events: graph.adverse_events,
    })
}

/// The shipments that carried or carry these vials (a lot's), each with
/// the ids of these vials on it: four queries, whatever the number of
/// vials or shipments.
async fn shipments_of(
    db: &impl ConnectionTrait,
    vials: &[vial::Model],
) -> AppResult<Vec<(ShipmentNode, Vec<Uuid>)>> {
    let ids: Vec<Uuid> = vials.iter().map(|v| v.id).collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut on: BTreeMap<Uuid, Vec<(Uuid, Option<String>)>> = BTreeMap::new();
    for chunk in ids.chunks(500) {
        for line in shipment_item::Entity::find()
            .filter(shipment_item::Column::VialId.is_in(chunk.iter().copied()))
            .all(db)
            .await?
        {
            let missing = line.missing_reason.is_some().then(String::new);
            on.entry(line.shipment_id)
                .or_default()
                .push((line.vial_id, missing));
        }
    }
    // packed, not yet sealed: no line yet
    for v in vials {
        if let Some(s) = v.shipment_id {
            let packed = on.entry(s).or_default();
            if !packed.iter().any(|(id, _)| *id == v.id) {
                packed.push((v.id, None));
            }
        }
    }
    if on.is_empty() {
        return Ok(Vec::new());
    }
    let shipments = shipment::Entity::find()
        .filter(shipment::Column::Id.is_in(on.keys().copied()))
        .order_by_asc(shipment::Column::CreatedAt)
        .all(db)
        .await?;
    let sites: BTreeMap<Uuid, String> = site::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.id, s.name))
        .collect();
    let containers: BTreeMap<Uuid, String> = shipping_container::Entity::find()
        .filter(shipping_container::Column::Id.is_in(shipments.iter().map(|s| s.container_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c.code))
        .collect();
    let code_of: BTreeMap<Uuid, String> =
        vials.iter().map(|v| (v.id, v.code.to_string())).collect();
    Ok(shipments
        .into_iter()
        .map(|s| {
            let lines = on.remove(&s.id).unwrap_or_default();
            let mut vial_codes: Vec<String> = lines
                .iter()
                .filter_map(|(id, _)| code_of.get(id).cloned())
                .collect();
            vial_codes.sort();
            let mut missing: Vec<String> = lines
                .iter()
                .filter(|(_, m)| m.is_some())
                .filter_map(|(id, _)| code_of.get(id).cloned())
                .collect();
            missing.sort();
            let packed = lines.iter().map(|(id, _)| *id).collect();
            (
                ShipmentNode {
                    id: s.id,
                    code: s.code,
                    status: s.status,
                    from_site: sites.get(&s.from_site_id).cloned().unwrap_or_default(),
                    to_site: sites.get(&s.to_site_id).cloned().unwrap_or_default(),
                    container: containers.get(&s.container_id).cloned().unwrap_or_default(),
                    sealed_at: s.sealed_at,
                    picked_up_at: s.picked_up_at,
                    arrived_at: s.arrived_at,
                    received_at: s.received_at,
                    vial_codes,
                    missing,
                },
                packed,
            )
        })
        .collect())
}
