//! Recalling a released lot (quality, signed, with a reason), in one
//! transaction: the lot becomes `recalled`; every vial not yet thawed
//! becomes `recalled` (out of any reservation); every dose from the lot not
//! yet at the bedside is cancelled with the recall's reason, and its thawed
//! vials discarded; and the answer names every recipient so they can be
//! told (21 CFR 1271.290: from the product to every recipient). An infusion
//! already running is not interrupted by the record: its vials are not
//! touched, it can be completed, and its patient is named among the
//! recipients, marked as in progress.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::json;
use uuid::Uuid;

use crate::domain::lifecycle::{DoseStatus, LotAction, LotStatus, VialStatus, lot_transition};
use crate::domain::reason::Reason;
use crate::entities::{dose, dose_vial, infusion, lot, patient, vial};
use crate::error::{AppError, AppResult};
use crate::services::ledger::{self, NewEvent};
use crate::services::signatures::{self, VerifiedSignature};
use crate::services::store;
use crate::services::{doses, vials};
use crate::state::AppState;

/// Who received the lot.
#[derive(Debug, Clone)]
pub struct Recipient {
    pub patient_id: Uuid,
    pub subject_code: String,
    /// (infusion id, infusion number, started at, still running), oldest
    /// first.
    pub infusions: Vec<(Uuid, i32, DateTime<Utc>, bool)>,
}

#[derive(Debug, Clone)]
pub struct Recalled {
    pub lot: lot::Model,
    pub vials_recalled: Vec<vial::Model>,
    pub doses_cancelled: Vec<dose::Model>,
    /// Thawed vials of cancelled doses: recorded as discarded, for the lab
    /// to destroy.
    pub thawed_to_discard: Vec<String>,
    pub recipients: Vec<Recipient>,
}

/// Every vial not yet thawed: in storage, reserved, on its way in a
/// shipment (it arrives recalled) or on hold.
const NOT_THAWED: [VialStatus; 5] = [
    VialStatus::Quarantine,
    VialStatus::Available,
    VialStatus::Reserved,
    VialStatus::InTransit,
    VialStatus::OnHold,
];
/// Every open dose but one already at the bedside.
const CANCELLABLE: [DoseStatus; 4] = [
    DoseStatus::Reserved,
    DoseStatus::CountFailed,
    DoseStatus::Thawed,
    DoseStatus::Verified,
];

pub async fn recall(
    state: &AppState,
    signature: &VerifiedSignature,
    lot_id: Uuid,
    reason: &str,
) -> AppResult<Recalled> {
    let reason = Reason::parse(reason)?.into_inner();
    let now = state.clock.now();
    let txn = state.db.write().await?;
    let mut find = lot::Entity::find_by_id(lot_id);
    if txn.get_database_backend() == DbBackend::Postgres {
        find = find.lock_exclusive();
    }
    let mut lot = find
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("lot", lot_id))?;
    let from: LotStatus = lot.status;
    let to = lot_transition(from, LotAction::Recall)?;
    store::guarded_update(
        &txn,
        lot_id,
        lot::Entity::update_many()
            .col_expr(lot::Column::Status, Expr::value(to))
            .filter(lot::Column::Status.eq(from)),
    )
    .await?;

    let vials = vial::Entity::find()
        .filter(vial::Column::LotId.eq(lot_id))
        .filter(vial::Column::Status.is_in(NOT_THAWED.map(VialStatus::as_str)))
        .order_by_asc(vial::Column::Code)
        .all(&txn)
        .await?;
    let ids: Vec<Uuid> = vials.iter().map(|v| v.id).collect();
    // Recalled vials stay where they are (quarantined in place) until the
    // lab moves or destroys them.
    vials::transition_all(
        &txn,
        &ids,
        &NOT_THAWED,
        VialStatus::Recalled,
        false,
        ("lot", lot_id),
    )
    .await?;

    let doses = dose::Entity::find()
        .filter(dose::Column::LotId.eq(lot_id))
        .filter(dose::Column::Status.is_in(CANCELLABLE.map(DoseStatus::as_str)))
        .order_by_asc(dose::Column::Code)
        .all(&txn)
        .await?;
    let dose_ids: Vec<Uuid> = doses.iter().map(|d| d.id).collect();
    let cancel_reason = format!("lot {} recalled: {reason}", lot.code);
    if !dose_ids.is_empty() {
        let changed = dose::Entity::update_many()
            .col_expr(dose::Column::Status, Expr::value(DoseStatus::Cancelled))
            .col_expr(dose::Column::CancelledAt, Expr::value(now))
            .col_expr(
                dose::Column::CancelReason,
                Expr::value(cancel_reason.clone()),
            )
            .filter(dose::Column::Id.is_in(dose_ids.clone()))
            .filter(dose::Column::Status.is_in(CANCELLABLE.map(DoseStatus::as_str)))
            .exec(&txn)
            .await?;
        if changed.rows_affected != dose_ids.len() as u64 {
            return Err(AppError::ConcurrentChange {
                kind: "lot",
                id: lot_id,
            });
        }
    }
    // The thawed vials of the cancelled doses, and only theirs: the vials
    // of an infusion in progress stay with it.
    let links = if dose_ids.is_empty() {
        Vec::new()
    } else {
        dose_vial::Entity::find()
            .filter(dose_vial::Column::DoseId.is_in(dose_ids.clone()))
            .filter(dose_vial::Column::RemovedAt.is_null())
            .all(&txn)
            .await?
    };
    let thawed: Vec<vial::Model> = if links.is_empty() {
        Vec::new()
    } else {
        vial::Entity::find()
            .filter(vial::Column::Id.is_in(links.iter().map(|l| l.vial_id)))
            .filter(vial::Column::Status.eq(VialStatus::Thawed))
            .order_by_asc(vial::Column::Code)
            .all(&txn)
            .await?
    };
    let mut discard_events = Vec::new();
    for d in &doses {
        let of_dose: Vec<vial::Model> = thawed
            .iter()
            .filter(|v| links.iter().any(|l| l.dose_id == d.id && l.vial_id == v.id))
            .cloned()
            .collect();
        let released = doses::release_vials(&txn, &of_dose, d.id, &cancel_reason).await?;
        discard_events.extend(released.events);
    }
    let thawed_to_discard: Vec<String> = thawed.into_iter().map(|v| v.code.into()).collect();

    let recipients = recipients(&txn, lot_id).await?;

    signatures::append_signed(
        &txn,
        signature,
        now,
        NewEvent::new("lot.recalled", "lot", lot_id).details(json!({
            "code": lot.code,
            "from": from,
            "to": to,
            "reason": reason,
            "vials_recalled": vials.iter().map(|v| &v.code).collect::<Vec<_>>(),
            "doses_cancelled": doses.iter().map(|d| &d.code).collect::<Vec<_>>(),
            "thawed_vials_to_discard": thawed_to_discard,
            "recipients": recipients.iter().map(|r| json!({
                "patient_id": r.patient_id,
                "subject_code": r.subject_code,
                "infusion_ids": r.infusions.iter().map(|i| i.0).collect::<Vec<_>>(),
                "infusions_in_progress": r.infusions.iter().filter(|i| i.3).map(|i| i.0).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        })),
    )
    .await?;
    let actor = signature.signer.actor();
    let mut events: Vec<NewEvent> = vials
        .iter()
        .map(|v| {
            NewEvent::new("vial.recalled", "vial", v.id).details(json!({
                "code": v.code,
                "from": v.status,
                "to": VialStatus::Recalled,
                "lot_id": lot_id,
                "reason": reason,
            }))
        })
        .collect();
    events.extend(doses.iter().map(|d| {
        NewEvent::new("dose.cancelled", "dose", d.id).details(json!({
            "code": d.code,
            "from": d.status,
            "to": DoseStatus::Cancelled,
            "reason": cancel_reason,
        }))
    }));
    events.extend(discard_events);
    ledger::append_many(&txn, &actor, now, events).await?;
    txn.commit().await?;
    lot.status = to;
    Ok(Recalled {
        lot,
        vials_recalled: vials,
        doses_cancelled: doses,
        thawed_to_discard,
        recipients,
    })
}

/// Every patient who had an infusion from the lot, with those infusions.
pub async fn recipients(
    db: &impl sea_orm::ConnectionTrait,
    lot_id: Uuid,
) -> AppResult<Vec<Recipient>> {
    let dose_ids: Vec<Uuid> = dose::Entity::find()
        .filter(dose::Column::LotId.eq(lot_id))
        .all(db)
        .await?
        .into_iter()
        .map(|d| d.id)
        .collect();
    if dose_ids.is_empty() {
        return Ok(Vec::new());
    }
    let infusions = infusion::Entity::find()
        .filter(infusion::Column::DoseId.is_in(dose_ids))
        .order_by_asc(infusion::Column::StartedAt)
        .all(db)
        .await?;
    let patient_ids: Vec<Uuid> = infusions.iter().map(|i| i.patient_id).collect();
    let patients: BTreeMap<Uuid, patient::Model> = patient::Entity::find()
        .filter(patient::Column::Id.is_in(patient_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let mut by_patient: BTreeMap<String, Recipient> = BTreeMap::new();
    for i in infusions {
        let Some(p) = patients.get(&i.patient_id) else {
            continue;
        };
        by_patient
            .entry(p.subject_code.to_string())
            .or_insert_with(|| Recipient {
                patient_id: p.id,
                subject_code: p.subject_code.clone().into(),
                infusions: Vec::new(),
            })
            .infusions
            .push((
                i.id,
                i.infusion_number,
                i.started_at,
                i.status == crate::services::infusions::InfusionStatus::Started,
            ));
    }
    Ok(by_patient.into_values().collect())
}
