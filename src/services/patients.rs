//! Patients: enrolment against the protocol's eligibility (in
//! [`enrolment`]), weights in grams with the guard against unit and decimal
//! slips, and the patient's record.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
};
use serde_json::json;
use uuid::Uuid;

use crate::clock::not_in_future;
use crate::domain::dose::{
    Reference, WeightUnit, entered_weight, likely_slip, plausible_weight, weight_concerns,
};
use crate::domain::lifecycle::{DoseStatus, TransitionRefused};
use crate::domain::patient::check_weighed_near_enrolment;
use crate::domain::reason::Reason;
use crate::entities::{dose, infusion, patient, weight};
use crate::error::{AppError, AppResult};
use crate::services::Actor;
use crate::services::adverse_events::{self, AdverseEvent};
use crate::services::ledger::{self, NewEvent};
use crate::services::protocol;
use crate::services::signatures::{self, VerifiedSignature};
use crate::services::store;
use crate::state::AppState;

pub mod coi;
mod enrolment;

pub use enrolment::{NewPatient, enrol, enrol_confirming};

/// A patient with everything recorded so far.
#[derive(Debug, Clone)]
pub struct PatientRecord {
    pub patient: patient::Model,
    /// Latest measured first.
    pub weights: Vec<weight::Model>,
    /// Oldest first.
    pub doses: Vec<dose::Model>,
    /// Oldest first.
    pub infusions: Vec<infusion::Model>,
    /// Each once at its current values, by onset, with its corrections.
    pub adverse_events: Vec<AdverseEvent>,
}

#[derive(Debug, Clone)]
pub struct NewWeight<'a> {
    /// As entered, e.g. `72.5`.
    pub value: &'a str,
    pub unit: WeightUnit,
    pub measured_at: DateTime<Utc>,
    pub confirm_change: bool,
}

/// Records a weight. It must be plausible. It must be confirmed (the
/// guard against pounds typed as kilograms and decimal slips) when it is
/// more than the protocol's threshold from the weight before it (the
/// latest valid weight measured before it: 10 % within 30 days, 20 % when
/// older), or, for the first weight, from the enrolment weight; and when it
/// gives a body-mass index outside the protocol's range.
pub async fn record_weight(
    state: &AppState,
    actor: &Actor,
    patient_id: Uuid,
    new: NewWeight<'_>,
) -> AppResult<weight::Model> {
    let weight_g = entered_weight("value", new.value, new.unit)?;
    let now = state.clock.now();
    not_in_future("measured_at", new.measured_at, now)?;
    let txn = state.db.write().await?;
    let current = protocol::current(&txn).await?;
    let rules = &current.protocol;
    let patient = find(&txn, patient_id).await?;
    check_weighed_near_enrolment(
        new.measured_at,
        patient.enrolled_at,
        rules.weight_valid_days,
    )?;
    let weight_g = plausible_weight(weight_g, rules.weight_min_g, rules.weight_max_g)?;
    let previous = weight::Entity::find()
        .filter(weight::Column::PatientId.eq(patient_id))
        .filter(weight::Column::MeasuredAt.lte(new.measured_at))
        .filter(weight::Column::VoidedAt.is_null())
        .order_by_desc(weight::Column::MeasuredAt)
        .order_by_desc(weight::Column::RecordedAt)
        .one(&txn)
        .await?;
    let lookback = new.measured_at - Duration::days(i64::from(rules.weight_change_lookback_days));
    let (reference, compared_measured_at) = match (&previous, patient.enrolment_weight_g) {
        (Some(p), _) => (
            Some(Reference {
                weight_g: p.weight_g,
                kind: "previous",
                older: p.measured_at < lookback,
            }),
            Some(p.measured_at),
        ),
        (None, Some(g)) => (
            Some(Reference {
                weight_g: g,
                kind: "enrolment",
                older: patient.enrolled_at < lookback,
            }),
            Some(patient.enrolled_at),
        ),
        (None, None) => (None, None),
    };
    let concerns = weight_concerns(
        weight_g,
        reference,
        patient.height_mm.map(i64::from),
        rules.weight_change_confirm_pct,
        rules.weight_change_confirm_pct_older,
        rules.bmi_min,
        rules.bmi_max,
    );
    if !concerns.is_empty() && !new.confirm_change {
        let likely_slip = reference.and_then(|r| {
            likely_slip(
                new.value,
                new.unit,
                weight_g.get(),
                r.weight_g.get(),
                if r.older {
                    rules.weight_change_confirm_pct_older
                } else {
                    rules.weight_change_confirm_pct
                },
            )
        });
        return Err(AppError::WeightChangeUnconfirmed {
            weight_g: weight_g.get(),
            concerns,
            compared_measured_at,
            likely_slip,
        });
    }
    let model = weight::Model {
        id: Uuid::now_v7(),
        patient_id,
        weight_g,
        value: new.value.trim().to_owned(),
        unit: new.unit,
        measured_at: new.measured_at,
        confirmed_change: new.confirm_change && !concerns.is_empty(),
        recorded_at: now,
        recorded_by: actor.id,
        voided_at: None,
        voided_by: None,
        void_reason: None,
    };
    weight::Entity::insert(model.clone().into_active_model())
        .exec_without_returning(&txn)
        .await?;
    ledger::append(
        &txn,
        actor,
        now,
        NewEvent::new("patient.weight_recorded", "patient", patient_id).details(json!({
            "weight_id": model.id,
            "subject_code": patient.subject_code,
            "weight_g": weight_g,
            "value": model.value,
            "unit": model.unit,
            "measured_at": model.measured_at,
            "previous_weight_g": previous.as_ref().map(|p| p.weight_g),
            "compared_with": reference.map(|r| json!({ "weight_g": r.weight_g, "kind": r.kind })),
            "concerns": concerns,
            "confirmed_change": model.confirmed_change,
        })),
    )
    .await?;
    txn.commit().await?;
    Ok(model)
}

/// Voids a mis-entered weight (clinician, signed, with the reason). The
/// weight stays on record, shown struck out, and is never used again: not
/// for a dose, not as the weight a new one is compared with. A dose
/// already computed from it is refused at its next step (`weight_voided`).
pub async fn void_weight(
    state: &AppState,
    signature: &VerifiedSignature,
    patient_id: Uuid,
    weight_id: Uuid,
    reason: &str,
) -> AppResult<weight::Model> {
    let reason = Reason::parse(reason)?.into_inner();
    let now = state.clock.now();
    let txn = state.db.write().await?;
    let patient = find(&txn, patient_id).await?;
    let mut weight = weight::Entity::find_by_id(weight_id)
        .one(&txn)
        .await?
        .filter(|w| w.patient_id == patient_id)
        .ok_or_else(|| AppError::not_found("weight", weight_id))?;
    if weight.voided_at.is_some() {
        return Err(TransitionRefused {
            kind: "weight",
            from: "voided",
            action: "void",
        }
        .into());
    }
    let signer = signature.signer.user_id;
    store::guarded_update(
        &txn,
        weight_id,
        weight::Entity::update_many()
            .col_expr(weight::Column::VoidedAt, Expr::value(now))
            .col_expr(weight::Column::VoidedBy, Expr::value(signer))
            .col_expr(weight::Column::VoidReason, Expr::value(reason.clone()))
            .filter(weight::Column::VoidedAt.is_null()),
    )
    .await?;
    let open_doses: Vec<String> = dose::Entity::find()
        .filter(dose::Column::WeightId.eq(weight_id))
        .filter(dose::Column::Status.is_in(DoseStatus::OPEN.map(DoseStatus::as_str)))
        .all(&txn)
        .await?
        .into_iter()
        .map(|d| d.code.into())
        .collect();
    signatures::append_signed(
        &txn,
        signature,
        now,
        NewEvent::new("patient.weight_voided", "patient", patient_id).details(json!({
            "weight_id": weight_id,
            "subject_code": patient.subject_code,
            "weight_g": weight.weight_g,
            "value": weight.value,
            "unit": weight.unit,
            "measured_at": weight.measured_at,
            "reason": reason,
            "open_doses_computed_from_it": open_doses,
        })),
    )
    .await?;
    txn.commit().await?;
    weight.voided_at = Some(now);
    weight.voided_by = Some(signer);
    weight.void_reason = Some(reason);
    Ok(weight)
}

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> AppResult<patient::Model> {
    store::find_or_404::<patient::Entity>(db, id).await
}

/// The latest valid (not voided) weight by when it was measured (not when
/// it was entered).
pub async fn latest_weight(
    db: &impl ConnectionTrait,
    patient_id: Uuid,
) -> AppResult<Option<weight::Model>> {
    Ok(weight::Entity::find()
        .filter(weight::Column::PatientId.eq(patient_id))
        .filter(weight::Column::VoidedAt.is_null())
        .order_by_desc(weight::Column::MeasuredAt)
        .order_by_desc(weight::Column::RecordedAt)
        .one(db)
        .await?)
}

pub async fn get(state: &AppState, id: Uuid) -> AppResult<PatientRecord> {
    let db = state.db.conn();
    record(db, find(db, id).await?).await
}

/// The patient with weights, doses, infusions and adverse events so far.
pub(crate) async fn record(
    db: &impl ConnectionTrait,
    patient: patient::Model,
) -> AppResult<PatientRecord> {
    let id = patient.id;
    records(db, vec![patient])
        .await?
        .pop()
        .ok_or_else(|| AppError::not_found("patient", id))
}

/// The patients, each with weights (latest measured first), doses,
/// infusions and adverse events, in the order given: four queries however
/// many patients (a list's page).
pub(crate) async fn records(
    db: &impl ConnectionTrait,
    patients: Vec<patient::Model>,
) -> AppResult<Vec<PatientRecord>> {
    if patients.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = patients.iter().map(|p| p.id).collect();
    let weights = by_patient(
        weight::Entity::find()
            .filter(weight::Column::PatientId.is_in(ids.clone()))
            .order_by_desc(weight::Column::MeasuredAt)
            .order_by_desc(weight::Column::RecordedAt)
            .all(db)
            .await?,
        |w| w.patient_id,
    );
    let doses = by_patient(
        dose::Entity::find()
            .filter(dose::Column::PatientId.is_in(ids.clone()))
            .order_by_asc(dose::Column::CreatedAt)
            .all(db)
            .await?,
        |d| d.patient_id,
    );
    let infusions = by_patient(
        infusion::Entity::find()
            .filter(infusion::Column::PatientId.is_in(ids.clone()))
            .order_by_asc(infusion::Column::StartedAt)
            .all(db)
            .await?,
        |i| i.patient_id,
    );
    let adverse_events = adverse_events::of_patients(db, ids).await?;
    let (mut weights, mut doses, mut infusions, mut adverse_events) =
        (weights, doses, infusions, adverse_events);
    Ok(patients
        .into_iter()
        .map(|patient| PatientRecord {
            weights: weights.remove(&patient.id).unwrap_or_default(),
            doses: doses.remove(&patient.id).unwrap_or_default(),
            infusions: infusions.remove(&patient.id).unwrap_or_default(),
            adverse_events: adverse_events.remove(&patient.id).unwrap_or_default(),
            patient,
        })
        .collect())
}

/// Rows grouped by their patient, each group in the rows' order.
fn by_patient<T>(rows: Vec<T>, patient_of: fn(&T) -> Uuid) -> HashMap<Uuid, Vec<T>> {
    let mut grouped: HashMap<Uuid, Vec<T>> = HashMap::new();
    for row in rows {
        grouped.entry(patient_of(&row)).or_default().push(row);
    }
    grouped
}

/// The patient with this subject code.
pub async fn by_subject_code(
    db: &impl ConnectionTrait,
    code: &str,
) -> AppResult<Option<patient::Model>> {
    Ok(patient::Entity::find()
        .filter(patient::Column::SubjectCode.eq(code))
        .one(db)
        .await?)
}

pub use crate::domain::patient::parse_sex;
