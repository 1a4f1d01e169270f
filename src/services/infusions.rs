//! Infusions at the bedside: begun only after the patient's wristband and
//! the dose bag's label are both scanned and match the dose, within the
//! post-thaw shelf life; completed with the volume given and any adverse
//! events.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;
use uuid::Uuid;

use crate::domain::dose::use_by;
use crate::domain::lifecycle::{DoseAction, DoseStatus, VialStatus, dose_transition, string_enum};
use crate::domain::patient::{check_bedside, next_infusion};
use crate::entities::{adverse_event, dose, infusion};
use crate::error::{AppError, AppResult};
use crate::services::Actor;
use crate::services::donors::{internal, not_in_future};
use crate::services::doses::{self, DoseRecord};
use crate::services::ledger::{self, NewEvent};
use crate::services::{protocol, vials};
use crate::state::AppState;

string_enum!(
    /// Where an infusion is.
    InfusionStatus {
        Started => "started",
        Completed => "completed",
    }
);

/// An infusion with its dose and adverse events.
#[derive(Debug, Clone)]
pub struct InfusionRecord {
    pub infusion: infusion::Model,
    pub dose: DoseRecord,
    pub adverse_events: Vec<adverse_event::Model>,
}

/// Starts the infusion of a verified dose after the two bedside scans. A
/// scan that does not match is refused and the refusal is recorded in the
/// ledger; nothing is infused.
pub async fn start(
    state: &AppState,
    actor: &Actor,
    dose_id: Uuid,
    patient_scan: &str,
    product_scan: &str,
    started_at: DateTime<Utc>,
) -> AppResult<InfusionRecord> {
    let now = state.clock.now();
    not_in_future("started_at", started_at, now)?;
    let txn = state.db.write().await?;
    let mut record = doses::load(&txn, dose_id, true).await?;
    let from = record.status()?;
    let to = dose_transition(from, DoseAction::StartInfusion)?;
    if record.lot.status != crate::domain::lifecycle::LotStatus::Released.as_str() {
        // A lot recalled after the dose was prepared never reaches the patient.
        return Err(AppError::LotNotReleased {
            lot_id: record.lot.id,
            code: record.lot.code.clone(),
            status: record.lot.status.clone(),
        });
    }
    let mismatches = check_bedside(
        patient_scan,
        product_scan,
        &record.subject_code,
        &record.dose.code,
    );
    if !mismatches.is_empty() {
        // The refusal itself is a fact worth keeping: who scanned what, at
        // which dose, and why it did not match.
        ledger::append(
            &txn,
            actor,
            now,
            NewEvent::new("dose.identity_mismatch", "dose", dose_id).details(json!({
                "code": record.dose.code,
                "subject_code": record.subject_code,
                "patient_scan": printable(patient_scan),
                "product_scan": printable(product_scan),
                "mismatches": mismatches,
            })),
        )
        .await?;
        txn.commit().await?;
        return Err(AppError::IdentityMismatch(mismatches));
    }
    let thawed_at = record.dose.thawed_at.ok_or_else(|| {
        internal(format!(
            "verified dose {} has no thaw time",
            record.dose.code
        ))
    })?;
    if started_at < thawed_at {
        return Err(AppError::invalid(
            "started_at",
            "before the product was thawed",
        ));
    }
    let rules = protocol::version(&txn, record.dose.protocol_version).await?;
    let deadline = use_by(thawed_at, rules.post_thaw_shelf_life_minutes);
    if started_at > deadline {
        return Err(AppError::ThawedProductExpired {
            thawed_at,
            use_by: deadline,
        });
    }
    let started = doses::infusion_starts(&txn, record.dose.patient_id).await?;
    let number = next_infusion(&rules, &started, started_at).map_err(|refused| match refused {
        crate::domain::patient::ScheduleRefused::LimitReached { limit } => {
            AppError::InfusionLimitReached { limit }
        }
        crate::domain::patient::ScheduleRefused::OutsideWindow {
            first_infusion_at,
            closed_at,
            window_days,
        } => AppError::OutsideWindow {
            first_infusion_at,
            closed_at,
            window_days,
        },
    })?;
    let changed = dose::Entity::update_many()
        .col_expr(dose::Column::Status, Expr::value(to.as_str()))
        .filter(dose::Column::Id.eq(dose_id))
        .filter(dose::Column::Status.eq(from.as_str()))
        .exec(&txn)
        .await?;
    if changed.rows_affected != 1 {
        return Err(AppError::ConcurrentChange {
            kind: "dose",
            id: dose_id,
        });
    }
    let model = infusion::Model {
        id: Uuid::now_v7(),
        dose_id,
        patient_id: record.dose.patient_id,
        infusion_number: number,
        status: InfusionStatus::Started.as_str().to_owned(),
        started_at,
        ended_at: None,
        volume_infused_ul: None,
        patient_scan: printable(patient_scan),
        product_scan: printable(product_scan),
        created_at: now,
        created_by: actor.id,
        completed_at: None,
        completed_by: None,
    };
    infusion::Entity::insert(infusion::ActiveModel {
        id: Set(model.id),
        dose_id: Set(dose_id),
        patient_id: Set(model.patient_id),
        infusion_number: Set(number),
        status: Set(model.status.clone()),
        started_at: Set(started_at),
        ended_at: Set(None),
        volume_infused_ul: Set(None),
        patient_scan: Set(model.patient_scan.clone()),
        product_scan: Set(model.product_scan.clone()),
        created_at: Set(now),
        created_by: Set(actor.id),
        completed_at: Set(None),
        completed_by: Set(None),
    })
    .exec_without_returning(&txn)
    .await?;
    let details = json!({
        "infusion_id": model.id,
        "dose_id": dose_id,
        "dose_code": record.dose.code,
        "patient_id": model.patient_id,
        "subject_code": record.subject_code,
        "infusion_number": number,
        "started_at": started_at,
        "thawed_at": thawed_at,
        "use_by": deadline,
        "patient_scan": model.patient_scan,
        "product_scan": model.product_scan,
        "vials": record.vials.iter().map(|v| &v.code).collect::<Vec<_>>(),
    });
    ledger::append_many(
        &txn,
        actor,
        now,
        vec![
            NewEvent::new("infusion.started", "infusion", model.id).details(details.clone()),
            NewEvent::new("dose.infusion_started", "dose", dose_id).details(details),
        ],
    )
    .await?;
    txn.commit().await?;
    record.dose.status = to.as_str().to_owned();
    record.infusion = Some(model.clone());
    Ok(InfusionRecord {
        infusion: model,
        dose: record,
        adverse_events: Vec::new(),
    })
}

/// Scans are kept as read, but bounded and without control characters.
fn printable(scan: &str) -> String {
    scan.chars().filter(|c| !c.is_control()).take(128).collect()
}

/// An adverse event as reported.
#[derive(Debug, Clone)]
pub struct NewAdverseEvent {
    pub term: String,
    pub grade: i32,
    pub onset_at: DateTime<Utc>,
}

/// Completes an infusion: end time, volume given, adverse events. The
/// dose's vials become `infused`.
pub async fn complete(
    state: &AppState,
    actor: &Actor,
    infusion_id: Uuid,
    ended_at: DateTime<Utc>,
    volume_infused_ul: i64,
    adverse_events: &[NewAdverseEvent],
) -> AppResult<InfusionRecord> {
    let now = state.clock.now();
    not_in_future("ended_at", ended_at, now)?;
    for (i, ae) in adverse_events.iter().enumerate() {
        let term = ae.term.trim();
        if term.is_empty() || term.chars().count() > 200 || term.chars().any(char::is_control) {
            return Err(AppError::invalid(
                "adverse_events.term",
                format!("event {}: a term of 1 to 200 characters", i + 1),
            ));
        }
        if !(1..=5).contains(&ae.grade) {
            return Err(AppError::invalid(
                "adverse_events.grade",
                format!("event {}: a CTCAE grade from 1 to 5", i + 1),
            ));
        }
        not_in_future("adverse_events.onset_at", ae.onset_at, now)?;
    }
    let txn = state.db.write().await?;
    let current = infusion::Entity::find_by_id(infusion_id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("infusion", infusion_id))?;
    if current.status != InfusionStatus::Started.as_str() {
        return Err(AppError::InvalidState(
            crate::domain::lifecycle::TransitionRefused {
                kind: "infusion",
                from: "completed",
                action: "complete",
            },
        ));
    }
    let mut record = doses::load(&txn, current.dose_id, true).await?;
    let from = record.status()?;
    let to = dose_transition(from, DoseAction::CompleteInfusion)?;
    if ended_at < current.started_at {
        return Err(AppError::invalid("ended_at", "before the infusion started"));
    }
    let prepared = record.dose.volume_ul.unwrap_or_default();
    if !(0..=prepared).contains(&volume_infused_ul) {
        return Err(AppError::invalid(
            "volume_infused_ul",
            format!("0 to the {prepared} µL prepared"),
        ));
    }
    for ae in adverse_events {
        if ae.onset_at < current.started_at {
            return Err(AppError::invalid(
                "adverse_events.onset_at",
                "an adverse event of this infusion begins after it started",
            ));
        }
    }
    let changed = infusion::Entity::update_many()
        .col_expr(
            infusion::Column::Status,
            Expr::value(InfusionStatus::Completed.as_str()),
        )
        .col_expr(infusion::Column::EndedAt, Expr::value(ended_at))
        .col_expr(
            infusion::Column::VolumeInfusedUl,
            Expr::value(volume_infused_ul),
        )
        .col_expr(infusion::Column::CompletedAt, Expr::value(now))
        .col_expr(infusion::Column::CompletedBy, Expr::value(actor.id))
        .filter(infusion::Column::Id.eq(infusion_id))
        .filter(infusion::Column::Status.eq(InfusionStatus::Started.as_str()))
        .exec(&txn)
        .await?;
    let dose_changed = dose::Entity::update_many()
        .col_expr(dose::Column::Status, Expr::value(to.as_str()))
        .filter(dose::Column::Id.eq(record.dose.id))
        .filter(dose::Column::Status.eq(from.as_str()))
        .exec(&txn)
        .await?;
    if changed.rows_affected != 1 || dose_changed.rows_affected != 1 {
        return Err(AppError::ConcurrentChange {
            kind: "infusion",
            id: infusion_id,
        });
    }
    let ids: Vec<Uuid> = record.vials.iter().map(|v| v.id).collect();
    vials::transition_all(
        &txn,
        &ids,
        &[VialStatus::Thawed],
        VialStatus::Infused,
        false,
        ("infusion", infusion_id),
    )
    .await?;
    let rows: Vec<adverse_event::Model> = adverse_events
        .iter()
        .map(|ae| adverse_event::Model {
            id: Uuid::now_v7(),
            infusion_id,
            patient_id: current.patient_id,
            term: ae.term.trim().to_owned(),
            grade: ae.grade,
            onset_at: ae.onset_at,
            recorded_at: now,
            recorded_by: actor.id,
        })
        .collect();
    if !rows.is_empty() {
        adverse_event::Entity::insert_many(rows.iter().map(|r| adverse_event::ActiveModel {
            id: Set(r.id),
            infusion_id: Set(r.infusion_id),
            patient_id: Set(r.patient_id),
            term: Set(r.term.clone()),
            grade: Set(r.grade),
            onset_at: Set(r.onset_at),
            recorded_at: Set(r.recorded_at),
            recorded_by: Set(r.recorded_by),
        }))
        .exec_without_returning(&txn)
        .await?;
    }
    let mut events = vec![
        NewEvent::new("infusion.completed", "infusion", infusion_id).details(json!({
            "dose_id": record.dose.id,
            "dose_code": record.dose.code,
            "subject_code": record.subject_code,
            "infusion_number": current.infusion_number,
            "ended_at": ended_at,
            "volume_infused_ul": volume_infused_ul,
            "volume_prepared_ul": prepared,
            "adverse_events": rows.iter().map(|r| json!({
                "id": r.id, "term": r.term, "grade": r.grade, "onset_at": r.onset_at,
            })).collect::<Vec<_>>(),
        })),
    ];
    events.extend(record.vials.iter().map(|v| {
        NewEvent::new("vial.infused", "vial", v.id).details(json!({
            "code": v.code,
            "from": VialStatus::Thawed,
            "to": VialStatus::Infused,
            "dose_id": record.dose.id,
            "infusion_id": infusion_id,
            "subject_code": record.subject_code,
        }))
    }));
    ledger::append_many(&txn, actor, now, events).await?;
    txn.commit().await?;
    record.dose.status = DoseStatus::Infused.as_str().to_owned();
    for v in &mut record.vials {
        v.status = VialStatus::Infused.as_str().to_owned();
    }
    let mut infusion = current;
    infusion.status = InfusionStatus::Completed.as_str().to_owned();
    infusion.ended_at = Some(ended_at);
    infusion.volume_infused_ul = Some(volume_infused_ul);
    infusion.completed_at = Some(now);
    infusion.completed_by = actor.id;
    record.infusion = Some(infusion.clone());
    Ok(InfusionRecord {
        infusion,
        dose: record,
        adverse_events: rows,
    })
}

pub async fn get(state: &AppState, id: Uuid) -> AppResult<InfusionRecord> {
    let db = state.db.conn();
    let infusion = infusion::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("infusion", id))?;
    let dose = doses::load(db, infusion.dose_id, false).await?;
    let adverse_events = adverse_event::Entity::find()
        .filter(adverse_event::Column::InfusionId.eq(id))
        .all(db)
        .await?;
    Ok(InfusionRecord {
        infusion,
        dose,
        adverse_events,
    })
}
