//! The assessment visits the home pages list (every patient's, four
//! queries whatever their number) and a patient's page shows (theirs):
//! from the schedule of the protocol in force, judged on the server's
//! clock in the site's zone (`domain::visits`).

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use crate::domain::assessment::AssessmentKind;
use crate::domain::visits::{PatientVisit, patient_visits};
use crate::entities::{assessment, infusion, patient};
use crate::error::AppResult;
use crate::services::protocol;
use crate::state::AppState;

/// A visit that asks for work today, with whose it is.
#[derive(Debug, Clone)]
pub struct VisitToDo {
    pub patient_id: Uuid,
    pub subject_code: String,
    pub visit: PatientVisit,
}

/// Today's visits to do: due or overdue, by subject code then week.
#[derive(Debug, Clone, Default)]
pub struct VisitsToday {
    pub today: Option<NaiveDate>,
    pub visits: Vec<VisitToDo>,
}

pub async fn to_do_today(
    state: &AppState,
    sites: &crate::services::lists::SiteScope,
) -> AppResult<VisitsToday> {
    if sites.is_nowhere() {
        return Ok(VisitsToday::default());
    }
    let db = state.db.conn();
    let zone = state.settings.timezone;
    let today = zone.date(state.clock.now());
    let schedule = protocol::in_force(state)
        .await?
        .protocol
        .visit_schedule
        .clone();
    let mut patients = patient::Entity::find();
    if let Some(at) = sites.on(
        sea_orm::ConnectionTrait::get_database_backend(db),
        patient::Column::SiteId,
    ) {
        patients = patients.filter(at);
    }
    let patients = patients
        .order_by_asc(patient::Column::SubjectCode)
        .all(db)
        .await?;
    let starts: Vec<(Uuid, DateTime<Utc>)> = infusion::Entity::find()
        .select_only()
        .column(infusion::Column::PatientId)
        .column(infusion::Column::StartedAt)
        .into_tuple()
        .all(db)
        .await?;
    let mut first_day: HashMap<Uuid, NaiveDate> = HashMap::new();
    for (id, at) in starts {
        let day = zone.date(at);
        first_day
            .entry(id)
            .and_modify(|d| *d = (*d).min(day))
            .or_insert(day);
    }
    let scored: Vec<(Uuid, String, DateTime<Utc>)> = assessment::Entity::find()
        .select_only()
        .column(assessment::Column::PatientId)
        .column(assessment::Column::Kind)
        .column(assessment::Column::AssessedAt)
        .into_tuple()
        .all(db)
        .await?;
    let mut recorded: HashMap<Uuid, Vec<(AssessmentKind, NaiveDate)>> = HashMap::new();
    for (id, kind, at) in scored {
        if let Ok(kind) = kind.parse() {
            recorded.entry(id).or_default().push((kind, zone.date(at)));
        }
    }
    // withdrawn patients' visits are optional: never to do
    let withdrawn: HashMap<Uuid, NaiveDate> =
        crate::services::withdrawals::of_patients(db, patients.iter().map(|p| p.id))
            .await?
            .into_iter()
            .map(|w| (w.patient_id, zone.date(w.withdrawn_at)))
            .collect();
    let mut visits = Vec::new();
    for p in patients {
        let Some(first) = first_day.get(&p.id).copied() else {
            continue;
        };
        if withdrawn.contains_key(&p.id) {
            continue;
        }
        // The enrolment's PASI is a PASI of its day, as the baseline
        // comparison counts it (`assessments::baseline`).
        let mut theirs = recorded.remove(&p.id).unwrap_or_default();
        theirs.push((AssessmentKind::Pasi, zone.date(p.enrolled_at)));
        for visit in patient_visits(&schedule, Some(first), &theirs, today) {
            if visit.to_do() {
                visits.push(VisitToDo {
                    patient_id: p.id,
                    subject_code: p.subject_code.to_string(),
                    visit,
                });
            }
        }
    }
    Ok(VisitsToday {
        today: Some(today),
        visits,
    })
}

/// One patient's visits, each judged today (site calendar): the patient's
/// page lists them all, done and missed included. Empty before the first
/// infusion: the schedule counts from Day 1.
pub async fn of_patient(state: &AppState, patient_id: Uuid) -> AppResult<Vec<PatientVisit>> {
    let db = state.db.conn();
    let zone = state.settings.timezone;
    let today = zone.date(state.clock.now());
    let schedule = protocol::in_force(state)
        .await?
        .protocol
        .visit_schedule
        .clone();
    let p = crate::services::patients::find(db, patient_id).await?;
    let first_day = infusion::Entity::find()
        .filter(infusion::Column::PatientId.eq(patient_id))
        .all(db)
        .await?
        .into_iter()
        .map(|i| zone.date(i.started_at))
        .min();
    let mut recorded: Vec<(AssessmentKind, NaiveDate)> = assessment::Entity::find()
        .filter(assessment::Column::PatientId.eq(patient_id))
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.kind, zone.date(a.assessed_at)))
        .collect();
    // the enrolment's PASI counts as a PASI of its day, as on the homes
    recorded.push((AssessmentKind::Pasi, zone.date(p.enrolled_at)));
    let mut visits = patient_visits(&schedule, first_day, &recorded, today);
    if let Some(w) = crate::services::withdrawals::of_patient(db, patient_id).await? {
        crate::domain::withdrawal::visits_after_withdrawal(&mut visits, zone.date(w.withdrawn_at));
    }
    Ok(visits)
}
