//! Enrolment: the protocol's eligibility, the subject code, the weight at
//! enrolment (asked about when, with the height, it gives a body-mass
//! index outside the protocol's range) and the height.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{EntityTrait, IntoActiveModel, SqlErr};
use serde_json::json;
use uuid::Uuid;

use crate::clock::not_in_future;
use crate::domain::dose::{
    WeightUnit, entered_weight, kg_text, plausible_weight, weight_concerns, weight_to_grams,
};
use crate::domain::patient::{
    Sex, check_born_before_enrolment, check_enrolment, check_height_mm, parse_subject_code,
};
use crate::entities::patient;
use crate::error::{AppError, AppResult};
use crate::services::Actor;
use crate::services::ledger::{self, NewEvent};
use crate::services::{protocol, sites};
use crate::state::AppState;

use super::PatientRecord;

#[derive(Debug, Clone)]
pub struct NewPatient<'a> {
    pub subject_code: &'a str,
    pub birth_date: NaiveDate,
    pub sex: Sex,
    pub enrolled_at: DateTime<Utc>,
    pub baseline_pasi_tenths: i32,
    pub criteria: BTreeMap<String, bool>,
    /// The weight at enrolment, as entered (the first weight entry is
    /// compared with it).
    pub weight: Option<(&'a str, WeightUnit)>,
    /// Height in millimetres (for the body-mass index).
    pub height_mm: Option<i32>,
    /// The site enrolling: one of the clinician's (by default their only
    /// one); the patient's doses are made there.
    pub site_id: Option<Uuid>,
}

/// Enrols a patient, refusing a doubtful enrolment weight (see
/// [`enrol_confirming`]) as the weights do: it must be confirmed.
pub async fn enrol(
    state: &AppState,
    actor: &Actor,
    new: NewPatient<'_>,
) -> AppResult<PatientRecord> {
    enrol_confirming(state, actor, new, false).await
}

/// Enrols a patient after checking the protocol's eligibility. A weight at
/// enrolment that gives, with the height, a body-mass index outside the
/// protocol's range (154 typed in kg for a patient of 70 kg and 160 cm) is
/// refused with the question (`WeightChangeUnconfirmed`, asking whether it
/// was typed in the other unit) unless `confirm_weight`: the same guard as
/// every later weight, since the first weight entry is compared with it.
pub async fn enrol_confirming(
    state: &AppState,
    actor: &Actor,
    new: NewPatient<'_>,
    confirm_weight: bool,
) -> AppResult<PatientRecord> {
    let subject_code = parse_subject_code(new.subject_code)?;
    let now = state.clock.now();
    not_in_future("enrolled_at", new.enrolled_at, now)?;
    // Age is counted on the site's calendar: the day of enrolment there.
    let enrolled_on = state.settings.timezone.date(new.enrolled_at);
    check_born_before_enrolment(new.birth_date, enrolled_on)?;
    let entered = match new.weight {
        Some((value, unit)) => Some((
            entered_weight("weight.value", value, unit)?,
            value.trim().to_owned(),
            unit,
        )),
        None => None,
    };
    if let Some(mm) = new.height_mm {
        check_height_mm(mm)?;
    }
    let site_id = sites::for_new_record(state, actor, new.site_id).await?;
    let site = sites::get(state, site_id).await?;
    let txn = state.db.write().await?;
    let current = protocol::current(&txn).await?;
    let rules = &current.protocol;
    let enrolment_weight = match entered {
        Some((grams, value, unit)) => Some((
            plausible_weight(grams, rules.weight_min_g, rules.weight_max_g)?,
            value,
            unit,
        )),
        None => None,
    };
    let findings = check_enrolment(
        &current.protocol,
        &new.criteria,
        new.birth_date,
        enrolled_on,
        new.baseline_pasi_tenths,
    );
    if !findings.is_eligible() {
        return Err(AppError::NotEligible(findings));
    }
    let mut weight_confirmed = Vec::new();
    if let Some((grams, value, unit)) = &enrolment_weight {
        // no earlier weight to compare with: only the body-mass index
        let concerns = weight_concerns(
            *grams,
            None,
            new.height_mm.map(i64::from),
            rules.weight_change_confirm_pct,
            rules.weight_change_confirm_pct_older,
            rules.bmi_min,
            rules.bmi_max,
        );
        if !concerns.is_empty() && !confirm_weight {
            return Err(AppError::WeightChangeUnconfirmed {
                weight_g: grams.get(),
                concerns,
                compared_measured_at: None,
                likely_slip: other_unit_slip(rules, value, *unit, new.height_mm),
            });
        }
        // what the person confirmed is kept with the enrolment
        weight_confirmed = concerns;
    }
    let criteria = serde_json::to_string(&new.criteria).map_err(AppError::internal)?;
    // the site's next Chain of Identity identifier, in this transaction
    let coi = super::coi::issue(&txn, &site, now).await?;
    let model = patient::Model {
        id: Uuid::now_v7(),
        subject_code,
        birth_date: new.birth_date,
        sex: new.sex,
        enrolled_at: new.enrolled_at,
        baseline_pasi_tenths: new.baseline_pasi_tenths,
        criteria,
        protocol_version: current.version,
        created_at: now,
        created_by: actor.id,
        enrolment_weight_g: enrolment_weight.as_ref().map(|w| w.0),
        enrolment_weight_value: enrolment_weight.as_ref().map(|w| w.1.clone()),
        enrolment_weight_unit: enrolment_weight.as_ref().map(|w| w.2),
        height_mm: new.height_mm,
        site_id,
        coi: Some(coi.compact()),
    };
    let inserted = patient::Entity::insert(model.clone().into_active_model())
        .exec_without_returning(&txn)
        .await;
    if let Err(error) = inserted {
        return Err(match error.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => {
                AppError::SubjectCodeTaken(model.subject_code.into())
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
            "enrolment_weight_g": model.enrolment_weight_g,
            "enrolment_weight": model.enrolment_weight_value.as_ref().map(|v| json!({
                "value": v, "unit": model.enrolment_weight_unit,
            })),
            "height_mm": model.height_mm,
            "site_id": site_id,
            "coi": coi.compact(),
            "coi_check_character": coi.check_character().to_string(),
            "enrolment_weight_confirmed": (!weight_confirmed.is_empty()).then_some(&weight_confirmed),
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

/// The question a doubtful enrolment weight raises when the same number
/// in the other unit gives a body-mass index inside the protocol's range:
/// was it typed in pounds (or weighed in kilograms)?
fn other_unit_slip(
    rules: &crate::domain::protocol::Protocol,
    value: &str,
    unit: WeightUnit,
    height_mm: Option<i32>,
) -> Option<String> {
    let other = match unit {
        WeightUnit::Kg => WeightUnit::Lb,
        WeightUnit::Lb => WeightUnit::Kg,
    };
    let grams = weight_to_grams(value, other)?;
    let grams = plausible_weight(grams, rules.weight_min_g, rules.weight_max_g).ok()?;
    let fits = weight_concerns(
        grams,
        None,
        height_mm.map(i64::from),
        rules.weight_change_confirm_pct,
        rules.weight_change_confirm_pct_older,
        rules.bmi_min,
        rules.bmi_max,
    )
    .is_empty();
    let typed = value.trim();
    let kg = kg_text(grams.get());
    fits.then(|| match unit {
        WeightUnit::Kg => format!("was it typed in pounds? {typed} lb would be {kg} kg"),
        WeightUnit::Lb => format!("was it weighed in kilograms? {typed} kg would be {kg} kg"),
    })
}
