//! Doses and all that hangs off them, in a fixed number of queries: their
//! vials, infusions, patients and adverse events; and vials as nodes that
//! name the dose they are in.

use std::collections::{BTreeMap, HashMap};

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::domain::lifecycle::DoseStatus;
use crate::entities::{adverse_event, dose, dose_vial, infusion, patient, vial};
use crate::error::AppResult;
use crate::services::storage;
use crate::state::AppState;

use super::nodes::*;

/// doses (five queries at most, whatever their number).
pub(super) struct DoseGraph {
    pub(super) doses: Vec<DoseNode>,
    /// Vial id → index of the (not cancelled) dose it is in.
    pub(super) vial_dose: HashMap<Uuid, usize>,
    pub(super) vial_ids: Vec<Uuid>,
    pub(super) recipients: Vec<RecipientNode>,
    pub(super) adverse_events: Vec<AdverseEventNode>,
}

pub(super) async fn dose_graph(
    db: &impl ConnectionTrait,
    doses: Vec<dose::Model>,
) -> AppResult<DoseGraph> {
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
    let patients: HashMap<Uuid, (String, Option<String>)> = if patient_ids.is_empty() {
        HashMap::new()
    } else {
        patient::Entity::find()
            .filter(patient::Column::Id.is_in(patient_ids))
            .all(db)
            .await?
            .into_iter()
            .map(|p| (p.id, (p.subject_code.into(), p.coi)))
            .collect()
    };
    let infusion_ids: Vec<Uuid> = infusions.values().map(|i| i.id).collect();
    let events = if infusion_ids.is_empty() {
        Vec::new()
    } else {
        adverse_event::Entity::find()
            .filter(adverse_event::Column::InfusionId.is_in(infusion_ids))
            // each event once, at its current values (a correction is a
            // newer row; the row it corrects is history)
            .filter(adverse_event::current())
            .order_by_asc(adverse_event::Column::OnsetAt)
            .all(db)
            .await?
    };
    let subject = |id: Uuid| patients.get(&id).map(|p| p.0.clone()).unwrap_or_default();
    let coi_of = |id: Uuid| patients.get(&id).and_then(|p| p.1.clone());
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
                    coi: coi_of(d.patient_id),
                    infusion_ids: Vec::new(),
                    infused_at: Vec::new(),
                    withdrawn_at: None,
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
            coi: coi_of(d.patient_id),
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

pub(super) async fn vial_nodes(
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
            coi: dose.and_then(|d| d.coi.clone()),
            infusion_id: dose.and_then(|d| d.infusion.as_ref().map(|i| i.id)),
        });
    }
    Ok(nodes)
}
