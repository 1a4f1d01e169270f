//! Patients: enrolment against the protocol's eligibility, and weights in
//! grams with the guard against unit and decimal slips.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set, SqlErr};
use serde_json::json;
use uuid::Uuid;

use crate::domain::dose::{
    WeightUnit, change_needs_confirmation, change_tenths_pct, weight_to_grams,
};
use crate::domain::patient::{Sex, check_enrolment, parse_subject_code};
use crate::entities::{adverse_event, dose, infusion, patient, weight};
use crate::error::{AppError, AppResult};
use crate::services::Actor;
use crate::services::donors::not_in_future;
use crate::services::ledger::{self, NewEvent};
use crate::services::protocol;
use crate::state::AppState;

#[derive(Debug, Clone)]
pub struct NewPatient<'a> {
    pub subject_code: &'a str,
    pub birth_date: NaiveDate,
    pub sex: Sex,
    pub enrolled_at: DateTime<Utc>,
    pub baseline_pasi_tenths: i32,
    pub criteria: BTreeMap<String, bool>,
}

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
    pub adverse_events: Vec<adverse_event::Model>,
}

pub async fn enrol(
    state: &AppState,
    actor: &Actor,
    new: NewPatient<'_>,
) -> AppResult<PatientRecord> {
    let subject_code = parse_subject_code(new.subject_code).ok_or_else(|| {
        AppError::invalid(
            "subject_code",
            "a subject code is 2 to 20 capital letters, digits or '-' (e.g. PV-007), never a name",
        )
    })?;
    let now = state.clock.now();
    not_in_future("enrolled_at", new.enrolled_at, now)?;
    if new.birth_date >= new.enrolled_at.date_naive() {
        return Err(AppError::invalid("birth_date", "before the enrolment"));
    }
    let txn = state.db.write().await?;
    let current = protocol::current(&txn).await?;
    let findings = check_enrolment(
        &current.protocol,
        &new.criteria,
        new.birth_date,
        new.enrolled_at.date_naive(),
        new.baseline_pasi_tenths,
    );
    if !findings.is_eligible() {
        return Err(AppError::NotEligible(findings));
    }
    let criteria = serde_json::to_string(&new.criteria).map_err(AppError::internal)?;
    let model = patient::Model {
        id: Uuid::now_v7(),
        subject_code,
        birth_date: new.birth_date,
        sex: new.sex.as_str().to_owned(),
        enrolled_at: new.enrolled_at,
        baseline_pasi_tenths: new.baseline_pasi_tenths,
        criteria,
        protocol_version: current.version,
        created_at: now,
        created_by: actor.id,
    };
    let inserted = patient::Entity::insert(patient::ActiveModel {
        id: Set(model.id),
        subject_code: Set(model.subject_code.clone()),
        birth_date: Set(model.birth_date),
        sex: Set(model.sex.clone()),
        enrolled_at: Set(model.enrolled_at),
        baseline_pasi_tenths: Set(model.baseline_pasi_tenths),
        criteria: Set(model.criteria.clone()),
        protocol_version: Set(model.protocol_version),
        created_at: Set(now),
        created_by: Set(actor.id),
    })
    .exec_without_returning(&txn)
    .await;
    if let Err(error) = inserted {
        return Err(match error.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => {
                AppError::SubjectCodeTaken(model.subject_code)
            }
            _ => error.into(),
        });
    }
    ledger::append(
        &txn,
        actor,
        now,
        NewEvent::new("patient.enrolled", "patient", model.id).details(json!({
            "subject_code": model.subject_code,
            "birth_date": model.birth_date,
            "sex": model.sex,
            "enrolled_at": model.enrolled_at,
            "baseline_pasi_tenths": model.baseline_pasi_tenths,
            "criteria": new.criteria,
            "protocol_version": current.version,
        })),
    )
    .await?;
    txn.commit().await?;
    Ok(PatientRecord {
        patient: model,
        weights: Vec::new(),
        doses: Vec::new(),
        infusions: Vec::new(),
        adverse_events: Vec::new(),
    })
}

#[derive(Debug, Clone)]
pub struct NewWeight<'a> {
    /// As entered, e.g. `72.5`.
    pub value: &'a str,
    pub unit: WeightUnit,
    pub measured_at: DateTime<Utc>,
    pub confirm_change: bool,
}

/// Records a weight. It must be plausible; far from the previous weight of
/// the lookback period (the one measured last before it), it must be
/// confirmed.
pub async fn record_weight(
    state: &AppState,
    actor: &Actor,
    patient_id: Uuid,
    new: NewWeight<'_>,
) -> AppResult<weight::Model> {
    let weight_g = weight_to_grams(new.value, new.unit).ok_or_else(|| {
        AppError::invalid(
            "value",
            "a positive decimal number with at most 6 decimals, e.g. 72.5",
        )
    })?;
    let now = state.clock.now();
    not_in_future("measured_at", new.measured_at, now)?;
    let txn = state.db.write().await?;
    let current = protocol::current(&txn).await?;
    let rules = &current.protocol;
    let patient = find(&txn, patient_id).await?;
    if new.measured_at < patient.enrolled_at - Duration::days(i64::from(rules.weight_valid_days)) {
        return Err(AppError::invalid(
            "measured_at",
            "long before the patient's enrolment",
        ));
    }
    if !(rules.weight_min_g..=rules.weight_max_g).contains(&weight_g) {
        return Err(AppError::ImplausibleWeight {
            weight_g,
            min_g: rules.weight_min_g,
            max_g: rules.weight_max_g,
        });
    }
    let lookback = new.measured_at - Duration::days(i64::from(rules.weight_change_lookback_days));
    let previous = weight::Entity::find()
        .filter(weight::Column::PatientId.eq(patient_id))
        .filter(weight::Column::MeasuredAt.lte(new.measured_at))
        .filter(weight::Column::MeasuredAt.gte(lookback))
        .order_by_desc(weight::Column::MeasuredAt)
        .order_by_desc(weight::Column::RecordedAt)
        .one(&txn)
        .await?;
    if let Some(previous) = &previous
        && change_needs_confirmation(previous.weight_g, weight_g, rules.weight_change_confirm_pct)
        && !new.confirm_change
    {
        return Err(AppError::WeightChangeUnconfirmed {
            weight_g,
            previous_g: previous.weight_g,
            previous_measured_at: previous.measured_at,
            change_tenths_pct: change_tenths_pct(previous.weight_g, weight_g),
            threshold_pct: rules.weight_change_confirm_pct,
        });
    }
    let model = weight::Model {
        id: Uuid::now_v7(),
        patient_id,
        weight_g,
        value: new.value.trim().to_owned(),
        unit: new.unit.as_str().to_owned(),
        measured_at: new.measured_at,
        confirmed_change: new.confirm_change,
        recorded_at: now,
        recorded_by: actor.id,
    };
    weight::Entity::insert(weight::ActiveModel {
        id: Set(model.id),
        patient_id: Set(patient_id),
        weight_g: Set(weight_g),
        value: Set(model.value.clone()),
        unit: Set(model.unit.clone()),
        measured_at: Set(model.measured_at),
        confirmed_change: Set(model.confirmed_change),
        recorded_at: Set(now),
        recorded_by: Set(actor.id),
    })
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
            "confirmed_change": model.confirmed_change,
        })),
    )
    .await?;
    txn.commit().await?;
    Ok(model)
}

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> AppResult<patient::Model> {
    patient::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("patient", id))
}

/// The latest weight by when it was measured (not when it was entered).
pub async fn latest_weight(
    db: &impl ConnectionTrait,
    patient_id: Uuid,
) -> AppResult<Option<weight::Model>> {
    Ok(weight::Entity::find()
        .filter(weight::Column::PatientId.eq(patient_id))
        .order_by_desc(weight::Column::MeasuredAt)
        .order_by_desc(weight::Column::RecordedAt)
        .one(db)
        .await?)
}

pub async fn get(state: &AppState, id: Uuid) -> AppResult<PatientRecord> {
    let db = state.db.conn();
    let patient = find(db, id).await?;
    let weights = weight::Entity::find()
        .filter(weight::Column::PatientId.eq(id))
        .order_by_desc(weight::Column::MeasuredAt)
        .order_by_desc(weight::Column::RecordedAt)
        .all(db)
        .await?;
    let doses = dose::Entity::find()
        .filter(dose::Column::PatientId.eq(id))
        .order_by_asc(dose::Column::CreatedAt)
        .all(db)
        .await?;
    let infusions = infusion::Entity::find()
        .filter(infusion::Column::PatientId.eq(id))
        .order_by_asc(infusion::Column::StartedAt)
        .all(db)
        .await?;
    let adverse_events = adverse_event::Entity::find()
        .filter(adverse_event::Column::PatientId.eq(id))
        .order_by_asc(adverse_event::Column::OnsetAt)
        .all(db)
        .await?;
    Ok(PatientRecord {
        patient,
        weights,
        doses,
        infusions,
        adverse_events,
    })
}

/// Every patient, by subject code.
pub async fn list(state: &AppState) -> AppResult<Vec<patient::Model>> {
    Ok(patient::Entity::find()
        .order_by_asc(patient::Column::SubjectCode)
        .all(state.db.conn())
        .await?)
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

/// Parses a sex as sent.
pub fn parse_sex(raw: &str) -> AppResult<Sex> {
    raw.parse()
        .map_err(|_| AppError::invalid("sex", "female or male"))
}
