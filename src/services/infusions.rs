//! Infusions at the bedside: begun only after the patient's wristband and
//! the dose bag's label are both scanned and match the dose, within the
//! post-thaw shelf life; completed with the volume given and any adverse
//! events.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter};
use serde_json::json;
use uuid::Uuid;

use crate::clock::{CLOCK_SKEW, not_in_future};
use crate::domain::dose::infused_volume_unusual;
use crate::domain::infusion::{
    check_adverse_event, check_ended_after_start, check_onset, check_started_after_thaw,
    check_started_now, infused_volume, unusual_volume_reason,
};
use crate::domain::lifecycle::{DoseAction, DoseStatus, VialStatus, dose_transition};
use crate::domain::patient::check_bedside;
use crate::domain::reason::Reason;
use crate::entities::{adverse_event, dose, infusion};
use crate::error::{AppError, AppResult};
use crate::services::Actor;
use crate::services::adverse_events;
use crate::services::doses::{self, DoseRecord};
use crate::services::ledger::{self, NewEvent};
use crate::services::signatures::{self, VerifiedSignature};
use crate::services::store;
use crate::services::vials;
use crate::state::AppState;

pub use crate::domain::lifecycle::InfusionStatus;

/// An infusion with its dose and adverse events.
#[derive(Debug, Clone)]
pub struct InfusionRecord {
    pub infusion: infusion::Model,
    pub dose: DoseRecord,
    /// Each once at its current values, with its corrections.
    pub adverse_events: Vec<crate::services::adverse_events::AdverseEvent>,
}

/// What the bedside sends to start an infusion.
#[derive(Debug, Clone)]
pub struct Start<'a> {
    pub dose_id: Uuid,
    pub patient_scan: &'a str,
    pub product_scan: &'a str,
    /// Within 5 minutes of the server's clock; for a late entry, when the
    /// infusion was given.
    pub started_at: DateTime<Utc>,
    /// An infusion given during an outage, recorded afterwards: signed,
    /// with the reason.
    pub late_entry: Option<(VerifiedSignature, String)>,
}

/// Starts the infusion of a verified dose after the two bedside scans. A
/// scan that does not match is refused and the refusal is recorded in the
/// ledger; nothing is infused.
///
/// Everything that can expire is judged on the server's clock: the
/// client's `started_at` may differ from it by 5 minutes at most, and never
/// makes an expired product valid. A late entry (an infusion given during
/// an outage) is judged against the time it claims, and is signed and
/// marked as such wherever the infusion is shown.
pub async fn start(state: &AppState, actor: &Actor, input: Start<'_>) -> AppResult<InfusionRecord> {
    let now = state.clock.now();
    let started_at = input.started_at;
    let late_reason = match &input.late_entry {
        Some((_, reason)) => Some(Reason::parse(reason)?.into_inner()),
        None => None,
    };
    // When everything is judged: the server's now, or what a late entry claims.
    let at = match late_reason {
        None => {
            check_started_now(started_at, now, CLOCK_SKEW)?;
            now
        }
        Some(_) => {
            not_in_future("started_at", started_at, now)?;
            started_at
        }
    };
    let dose_id = input.dose_id;
    let txn = state.db.write().await?;
    let mut record = doses::load(state, &txn, dose_id, true).await?;
    let from = record.status()?;
    let to = dose_transition(from, DoseAction::StartInfusion)?;
    // A lot recalled or expired after the dose was prepared never reaches
    // the patient.
    doses::lot_usable(&record.lot, at)?;
    // a withdrawn patient, or a lot whose donor withdrew consent
    crate::services::withdrawals::refuse_dose(&txn, &record).await?;
    let mismatches = check_bedside(
        input.patient_scan,
        input.product_scan,
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
                "patient_scan": printable(input.patient_scan),
                "product_scan": printable(input.product_scan),
                "mismatches": mismatches,
            })),
        )
        .await?;
        txn.commit().await?;
        return Err(AppError::IdentityMismatch(mismatches));
    }
    let thawed_at = record.dose.thawed_at.ok_or_else(|| {
        AppError::broken(format!(
            "verified dose {} has no thaw time",
            record.dose.code
        ))
    })?;
    // A client's clock may lag the server's by the skew allowed; a late
    // entry's claimed time must be after the thaw it claims to follow.
    let slack = if late_reason.is_some() {
        chrono::Duration::zero()
    } else {
        CLOCK_SKEW
    };
    check_started_after_thaw(started_at, thawed_at, slack)?;
    doses::still_usable(&record, at)?;
    doses::within_shelf_life(&record, at)?;
    let deadline = record.use_by.unwrap_or(thawed_at);
    let started = doses::infusion_starts(&txn, record.dose.patient_id).await?;
    let number = doses::schedule(&record.rules, state.settings.timezone, &started, at)?;
    store::guarded_update(
        &txn,
        dose_id,
        dose::Entity::update_many()
            .col_expr(dose::Column::Status, Expr::value(to))
            .filter(dose::Column::Status.eq(from)),
    )
    .await?;
    let model = infusion::Model {
        id: Uuid::now_v7(),
        dose_id,
        patient_id: record.dose.patient_id,
        infusion_number: number,
        status: InfusionStatus::Started,
        started_at,
        ended_at: None,
        volume_infused_ul: None,
        patient_scan: printable(input.patient_scan),
        product_scan: printable(input.product_scan),
        created_at: now,
        created_by: actor.id,
        completed_at: None,
        completed_by: None,
        late_entry: late_reason.is_some(),
        late_reason: late_reason.clone(),
    };
    infusion::Entity::insert(model.clone().into_active_model())
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
        "lot_expires_at": record.lot.expires_at,
        "weight_measured_at": record.weight.measured_at,
        "patient_scan": model.patient_scan,
        "product_scan": model.product_scan,
        "late_entry": late_reason.as_ref().map(|reason| json!({ "reason": reason, "recorded_at": now })),
        "vials": record.vials.iter().map(|v| &v.code).collect::<Vec<_>>(),
    });
    let started_event =
        NewEvent::new("infusion.started", "infusion", model.id).details(details.clone());
    let dose_event = NewEvent::new("dose.infusion_started", "dose", dose_id).details(details);
    match &input.late_entry {
        Some((signature, _)) => {
            signatures::append_signed(&txn, signature, now, started_event).await?;
            ledger::append(&txn, &signature.signer.actor(), now, dose_event).await?;
        }
        None => {
            ledger::append_many(&txn, actor, now, vec![started_event, dose_event]).await?;
        }
    }
    txn.commit().await?;
    record.dose.status = to;
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

/// How an infusion ended.
#[derive(Debug, Clone)]
pub struct Completion<'a> {
    pub ended_at: DateTime<Utc>,
    pub volume_infused_ul: i64,
    /// A volume more than the protocol's tolerance from the prepared one is
    /// confirmed by a person, with the reason (a line primed, a bag that
    /// leaked, an infusion stopped for a reaction).
    pub confirm_volume: bool,
    pub volume_reason: Option<&'a str>,
    pub adverse_events: &'a [NewAdverseEvent],
}

/// Completes an infusion: end time, volume given, adverse events. The
/// dose's vials become `infused`. A lot recalled while the infusion was
/// running does not stop it being completed: what was given is a fact.
pub async fn complete(
    state: &AppState,
    actor: &Actor,
    infusion_id: Uuid,
    completion: Completion<'_>,
) -> AppResult<InfusionRecord> {
    let Completion {
        ended_at,
        volume_infused_ul,
        confirm_volume,
        volume_reason,
        adverse_events,
    } = completion;
    let volume_reason = match (confirm_volume, volume_reason) {
        (true, reason) => Some(unusual_volume_reason(reason.unwrap_or(""))?),
        (false, _) => None,
    };
    let now = state.clock.now();
    not_in_future("ended_at", ended_at, now)?;
    for (i, ae) in adverse_events.iter().enumerate() {
        check_adverse_event(i + 1, &ae.term, ae.grade)?;
        not_in_future("adverse_events.onset_at", ae.onset_at, now)?;
    }
    let txn = state.db.write().await?;
    let current = store::find_or_404::<infusion::Entity>(&txn, infusion_id).await?;
    if current.status != InfusionStatus::Started {
        return Err(AppError::InvalidState(
            crate::domain::lifecycle::TransitionRefused {
                kind: "infusion",
                from: "completed",
                action: "complete",
            },
        ));
    }
    let mut record = doses::load(state, &txn, current.dose_id, true).await?;
    let from = record.status()?;
    let to = dose_transition(from, DoseAction::CompleteInfusion)?;
    check_ended_after_start(ended_at, current.started_at)?;
    let prepared = record.dose.volume_ul.unwrap_or_default();
    let volume_infused_ul = infused_volume(volume_infused_ul, prepared, record.dose.available_ul)?;
    if infused_volume_unusual(
        volume_infused_ul,
        prepared,
        record.rules.infused_volume_tolerance_pct,
    ) && !confirm_volume
    {
        return Err(AppError::VolumeUnconfirmed {
            volume_infused_ul: volume_infused_ul.get(),
            volume_prepared_ul: prepared.get(),
            tolerance_pct: record.rules.infused_volume_tolerance_pct,
        });
    }
    for ae in adverse_events {
        check_onset(ae.onset_at, current.started_at)?;
    }
    let changed = infusion::Entity::update_many()
        .col_expr(
            infusion::Column::Status,
            Expr::value(InfusionStatus::Completed),
        )
        .col_expr(infusion::Column::EndedAt, Expr::value(ended_at))
        .col_expr(
            infusion::Column::VolumeInfusedUl,
            Expr::value(volume_infused_ul),
        )
        .col_expr(infusion::Column::CompletedAt, Expr::value(now))
        .col_expr(infusion::Column::CompletedBy, Expr::value(actor.id))
        .filter(infusion::Column::Id.eq(infusion_id))
        .filter(infusion::Column::Status.eq(InfusionStatus::Started))
        .exec(&txn)
        .await?;
    let dose_changed = dose::Entity::update_many()
        .col_expr(dose::Column::Status, Expr::value(to))
        .filter(dose::Column::Id.eq(record.dose.id))
        .filter(dose::Column::Status.eq(from))
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
        .map(|ae| {
            adverse_events::row(
                infusion_id,
                current.patient_id,
                &ae.term,
                ae.grade,
                ae.onset_at,
                (actor, now),
            )
        })
        .collect();
    if !rows.is_empty() {
        adverse_event::Entity::insert_many(rows.iter().map(|r| r.clone().into_active_model()))
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
            "volume_confirmed": volume_reason.as_ref().map(|reason| json!({ "reason": reason })),
            "late_entry": current.late_entry,
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
    record.dose.status = DoseStatus::Infused;
    for v in &mut record.vials {
        v.status = VialStatus::Infused;
    }
    let mut infusion = current;
    infusion.status = InfusionStatus::Completed;
    infusion.ended_at = Some(ended_at);
    infusion.volume_infused_ul = Some(volume_infused_ul);
    infusion.completed_at = Some(now);
    infusion.completed_by = actor.id;
    record.infusion = Some(infusion.clone());
    Ok(InfusionRecord {
        infusion,
        dose: record,
        adverse_events: rows
            .into_iter()
            .map(crate::services::adverse_events::AdverseEvent::fresh)
            .collect(),
    })
}

pub async fn get(state: &AppState, id: Uuid) -> AppResult<InfusionRecord> {
    let db = state.db.conn();
    let infusion = store::find_or_404::<infusion::Entity>(db, id).await?;
    let dose = doses::load(state, db, infusion.dose_id, false).await?;
    let adverse_events = crate::services::adverse_events::of_infusion(db, id).await?;
    Ok(InfusionRecord {
        infusion,
        dose,
        adverse_events,
    })
}
