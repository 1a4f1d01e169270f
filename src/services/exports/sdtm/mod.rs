//! The sponsor's SDTM datasets (SDTM IG 3.4 variable names and order):
//! EX (every infusion given), AE (adverse events, each once at its current
//! values), QS (PASI and DLQI by visit) and DS (withdrawals from the
//! trial), one row per record, for the
//! patients of the sites the person works at. Withdrawn patients' records
//! are in them as recorded.
//!
//! Every dataset is read with one query per table, whatever the number of
//! patients (patients, sites, infusions, then the domain's own tables,
//! each narrowed to the person's sites by a subquery): 10,000 infusions
//! are ten thousand rows of a few reads, never a query per row.
//!
//! Times are on the clock of each patient's site, to the minute and
//! without an offset (`domain::sdtm::dtc`); study days count from Day 1,
//! the site-local date of the patient's first infusion (the reference
//! start, `RFSTDTC`).

mod ae;
mod ds;
mod ex;
mod qs;

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Query, SelectStatement};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::domain::sdtm::{SdtmDomain, usubjid};
use crate::domain::visits::ScheduledVisit;
use crate::domain::zone::SiteZone;
use crate::entities::{infusion, patient, site};
use crate::error::AppResult;
use crate::services::lists::SiteScope;
use crate::services::protocol;
use crate::state::AppState;

/// One SDTM dataset: its variables in order, then a row of values each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dataset {
    pub domain: SdtmDomain,
    /// `STUDYID`: the protocol's trial identifier.
    pub study_id: String,
    pub columns: &'static [&'static str],
    pub rows: Vec<Vec<String>>,
}

/// The trial as the datasets see it: the study, the visit schedule and
/// each patient in scope with their identifier, site clock and Day 1.
pub(super) struct Trial {
    pub study_id: String,
    pub schedule: Vec<ScheduledVisit>,
    pub subjects: HashMap<Uuid, Subject>,
    /// The patients' infusions, earliest first.
    pub infusions: Vec<infusion::Model>,
}

pub(super) struct Subject {
    pub usubjid: String,
    pub zone: SiteZone,
    /// The first infusion's start (`RFSTDTC`), if any.
    pub first_start: Option<DateTime<Utc>>,
    /// Its date on the site's calendar: Day 1.
    pub day1: Option<NaiveDate>,
}

impl Subject {
    /// `--DY` of an instant: its study day, empty before Day 1 is known.
    pub fn dy(&self, t: DateTime<Utc>) -> String {
        self.day1
            .map(|day1| crate::domain::sdtm::study_day(self.zone.date(t), day1).to_string())
            .unwrap_or_default()
    }
}

/// The dataset of `domain` for the patients of the sites `user_id` works
/// at (none: the header alone).
pub async fn export(state: &AppState, user_id: Uuid, domain: SdtmDomain) -> AppResult<Dataset> {
    let scope = SiteScope::of_user(state, user_id, None).await?;
    let trial = trial(state, &scope).await?;
    let db = state.db.conn();
    let backend = db.get_database_backend();
    let (columns, rows) = match domain {
        SdtmDomain::Ex => (
            ex::COLUMNS,
            ex::rows(&trial, &ex::Exposure::load(db, &scope, backend).await?),
        ),
        SdtmDomain::Ae => (
            ae::COLUMNS,
            ae::rows(
                &trial,
                &ex::Exposure::load(db, &scope, backend).await?,
                &ae::load(db, &scope, backend).await?,
            ),
        ),
        SdtmDomain::Ds => (
            ds::COLUMNS,
            ds::rows(&trial, &ds::load(db, &scope, backend).await?),
        ),
        SdtmDomain::Qs => (
            qs::COLUMNS,
            qs::rows(&trial, &qs::load(db, &scope, backend).await?),
        ),
    };
    Ok(Dataset {
        domain,
        study_id: trial.study_id,
        columns,
        rows: if scope.is_nowhere() { Vec::new() } else { rows },
    })
}

/// `SELECT id FROM patients` of the sites in scope.
pub(super) fn patients_in(scope: &SiteScope, backend: sea_orm::DbBackend) -> SelectStatement {
    let mut select = Query::select()
        .column(patient::Column::Id)
        .from(patient::Entity)
        .to_owned();
    if let Some(at) = scope.on(backend, patient::Column::SiteId) {
        select.and_where(at);
    }
    select
}

/// `SELECT dose_id FROM infusions` of the patients in scope.
pub(super) fn doses_given(scope: &SiteScope, backend: sea_orm::DbBackend) -> SelectStatement {
    Query::select()
        .column(infusion::Column::DoseId)
        .from(infusion::Entity)
        .and_where(infusion::Column::PatientId.in_subquery(patients_in(scope, backend)))
        .to_owned()
}

/// Three queries: the protocol in force (usually from memory), the
/// patients in scope with their sites, and their infusions.
async fn trial(state: &AppState, scope: &SiteScope) -> AppResult<Trial> {
    let versioned = protocol::in_force(state).await?;
    let db = state.db.conn();
    let backend = db.get_database_backend();
    let mut patients = patient::Entity::find();
    if let Some(at) = scope.on(backend, patient::Column::SiteId) {
        patients = patients.filter(at);
    }
    let patients = if scope.is_nowhere() {
        Vec::new()
    } else {
        patients.all(db).await?
    };
    let sites: HashMap<Uuid, site::Model> = site::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.id, s))
        .collect();
    let infusions = if scope.is_nowhere() {
        Vec::new()
    } else {
        infusion::Entity::find()
            .filter(infusion::Column::PatientId.in_subquery(patients_in(scope, backend)))
            .order_by_asc(infusion::Column::StartedAt)
            .order_by_asc(infusion::Column::InfusionNumber)
            .all(db)
            .await?
    };
    let mut first: HashMap<Uuid, DateTime<Utc>> = HashMap::new();
    for i in &infusions {
        first.entry(i.patient_id).or_insert(i.started_at);
    }
    let study_id = versioned.protocol.trial_id.clone();
    let subjects = patients
        .into_iter()
        .map(|p| {
            let site = sites.get(&p.site_id);
            let zone = site
                .and_then(|s| SiteZone::parse(&s.time_zone))
                .unwrap_or(state.settings.timezone);
            let site_id = site.map_or("", |s| s.facility_code.as_str());
            let first_start = first.get(&p.id).copied();
            let subject = Subject {
                usubjid: usubjid(&study_id, site_id, p.subject_code.as_str()),
                zone,
                first_start,
                day1: first_start.map(|t| zone.date(t)),
            };
            (p.id, subject)
        })
        .collect();
    Ok(Trial {
        study_id,
        schedule: versioned.protocol.visit_schedule.clone(),
        subjects,
        infusions,
    })
}

/// Rows sorted by subject then by their own order, given their `--SEQ`:
/// 1, 2, … within each subject.
pub(super) fn numbered<K: Ord>(
    mut records: Vec<(String, K, Vec<String>)>,
    seq_column: usize,
) -> Vec<Vec<String>> {
    records.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    let mut rows = Vec::with_capacity(records.len());
    let mut previous: Option<String> = None;
    let mut seq = 0;
    for (subject, _, mut row) in records {
        if previous.as_deref() == Some(subject.as_str()) {
            seq += 1;
        } else {
            seq = 1;
            previous = Some(subject);
        }
        row[seq_column] = seq.to_string();
        rows.push(row);
    }
    rows
}

/// A safe file name for the download: `NCT02491658-EX-2026-03-02`.
pub fn file_name(dataset: &Dataset, today: NaiveDate) -> String {
    let study: String = dataset
        .study_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!(
        "{study}-{}-{}",
        dataset.domain.code(),
        today.format("%Y-%m-%d")
    )
}
