//! A lot's outcomes in one place: for each recipient, the infusions from the
//! lot, PASI at baseline and now with the change and whether PASI 75 was
//! reached, the latest DLQI, and adverse events; and the lot's totals.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::assessment::{AssessmentKind, change_tenths_pct, pasi75};
use crate::domain::lifecycle::{InfusionStatus, LotStatus};
use crate::entities::{adverse_event, assessment, dose, infusion, lot, patient};
use crate::error::AppResult;
use crate::services::assessments;
use crate::services::store;
use crate::state::AppState;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InfusionFromLot {
    pub id: Uuid,
    pub infusion_number: i32,
    pub started_at: DateTime<Utc>,
    pub status: InfusionStatus,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OutcomeAdverseEvent {
    pub infusion_id: Uuid,
    pub term: String,
    pub grade: i32,
    pub onset_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RecipientOutcome {
    pub patient_id: Uuid,
    pub subject_code: String,
    pub infusions: Vec<InfusionFromLot>,
    /// Infusions of any lot the patient has had.
    pub infusions_total: usize,
    /// PASI in tenths at baseline (the enrolment PASI unless one was
    /// assessed at or before the first infusion).
    pub baseline_pasi_tenths: i32,
    /// `enrolment` or `assessment`.
    pub baseline_source: &'static str,
    /// The latest PASI assessed after the baseline.
    pub latest_pasi_tenths: Option<i32>,
    pub latest_pasi_at: Option<DateTime<Utc>>,
    /// Change from baseline in tenths of a percent (−750 = −75.0 %).
    pub pasi_change_tenths_pct: Option<i32>,
    /// The same as people read it: `-75.0`.
    pub pasi_change_pct: Option<String>,
    pub pasi75: bool,
    pub latest_dlqi: Option<i32>,
    pub latest_dlqi_at: Option<DateTime<Utc>>,
    /// Adverse events of this lot's infusions.
    pub adverse_events: Vec<OutcomeAdverseEvent>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LotTotals {
    pub recipients: usize,
    pub infusions: usize,
    /// Recipients with a PASI after their baseline.
    pub with_follow_up: usize,
    pub pasi75_reached: usize,
    /// PASI 75 among those with follow-up, one decimal (`"66.7"`).
    pub pasi75_rate_pct: Option<String>,
    /// Adverse events of this lot's infusions by CTCAE grade (1-5).
    pub adverse_events_by_grade: BTreeMap<String, usize>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LotOutcomes {
    pub lot_id: Uuid,
    pub lot_code: String,
    pub lot_status: LotStatus,
    pub recipients: Vec<RecipientOutcome>,
    pub totals: LotTotals,
}

fn tenths_pct(tenths: i32) -> String {
    let sign = if tenths < 0 { "-" } else { "" };
    format!("{sign}{}.{}", tenths.abs() / 10, tenths.abs() % 10)
}

/// Seven queries, whatever the number of recipients.
pub async fn lot(state: &AppState, lot_id: Uuid) -> AppResult<LotOutcomes> {
    let db = state.db.conn();
    let lot = store::find_or_404::<lot::Entity>(db, lot_id).await?;
    let dose_ids: Vec<Uuid> = dose::Entity::find()
        .filter(dose::Column::LotId.eq(lot_id))
        .all(db)
        .await?
        .into_iter()
        .map(|d| d.id)
        .collect();
    let from_lot = if dose_ids.is_empty() {
        Vec::new()
    } else {
        infusion::Entity::find()
            .filter(infusion::Column::DoseId.is_in(dose_ids))
            .order_by_asc(infusion::Column::StartedAt)
            .all(db)
            .await?
    };
    let patient_ids: Vec<Uuid> = from_lot.iter().map(|i| i.patient_id).collect();
    let (patients, all_infusions, all_assessments) = if patient_ids.is_empty() {
        (Vec::new(), Vec::new(), Vec::new())
    } else {
        (
            patient::Entity::find()
                .filter(patient::Column::Id.is_in(patient_ids.clone()))
                .order_by_asc(patient::Column::SubjectCode)
                .all(db)
                .await?,
            infusion::Entity::find()
                .filter(infusion::Column::PatientId.is_in(patient_ids.clone()))
                .all(db)
                .await?,
            assessment::Entity::find()
                .filter(assessment::Column::PatientId.is_in(patient_ids))
                .order_by_asc(assessment::Column::AssessedAt)
                .all(db)
                .await?,
        )
    };
    let infusion_ids: Vec<Uuid> = from_lot.iter().map(|i| i.id).collect();
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
    let mut assessments_of: HashMap<Uuid, Vec<assessment::Model>> = HashMap::new();
    for a in all_assessments {
        assessments_of.entry(a.patient_id).or_default().push(a);
    }
    let mut recipients = Vec::with_capacity(patients.len());
    let mut by_grade: BTreeMap<String, usize> = (1..=5).map(|g| (g.to_string(), 0)).collect();
    for e in &events {
        *by_grade.entry(e.grade.to_string()).or_default() += 1;
    }
    for p in patients {
        let theirs: Vec<&infusion::Model> = all_infusions
            .iter()
            .filter(|i| i.patient_id == p.id)
            .collect();
        let first = theirs.iter().map(|i| i.started_at).min();
        let scored = assessments_of.remove(&p.id).unwrap_or_default();
        let baseline = assessments::baseline(&p, &scored, first);
        let latest_pasi = assessments::latest(&scored, AssessmentKind::Pasi, Some(baseline.at))
            .filter(|a| Some(a.id) != baseline.assessment_id);
        let latest_dlqi = assessments::latest(&scored, AssessmentKind::Dlqi, None);
        let change = latest_pasi.and_then(|l| change_tenths_pct(baseline.tenths, l.score));
        let lot_infusions: Vec<InfusionFromLot> = from_lot
            .iter()
            .filter(|i| i.patient_id == p.id)
            .map(|i| InfusionFromLot {
                id: i.id,
                infusion_number: i.infusion_number,
                started_at: i.started_at,
                status: i.status,
            })
            .collect();
        let infusion_ids: Vec<Uuid> = lot_infusions.iter().map(|i| i.id).collect();
        recipients.push(RecipientOutcome {
            patient_id: p.id,
            subject_code: p.subject_code.clone().into(),
            infusions_total: theirs.len(),
            infusions: lot_infusions,
            baseline_pasi_tenths: baseline.tenths,
            baseline_source: if baseline.assessment_id.is_some() {
                "assessment"
            } else {
                "enrolment"
            },
            latest_pasi_tenths: latest_pasi.map(|a| a.score),
            latest_pasi_at: latest_pasi.map(|a| a.assessed_at),
            pasi_change_tenths_pct: change,
            pasi_change_pct: change.map(tenths_pct),
            pasi75: latest_pasi.is_some_and(|l| pasi75(baseline.tenths, l.score)),
            latest_dlqi: latest_dlqi.map(|a| a.score),
            latest_dlqi_at: latest_dlqi.map(|a| a.assessed_at),
            adverse_events: events
                .iter()
                .filter(|e| infusion_ids.contains(&e.infusion_id))
                .map(|e| OutcomeAdverseEvent {
                    infusion_id: e.infusion_id,
                    term: e.term.clone(),
                    grade: e.grade,
                    onset_at: e.onset_at,
                })
                .collect(),
        });
    }
    let with_follow_up = recipients
        .iter()
        .filter(|r| r.latest_pasi_tenths.is_some())
        .count();
    let reached = recipients.iter().filter(|r| r.pasi75).count();
    let rate = (with_follow_up > 0).then(|| {
        // tenths of a percent, rounded half up
        let tenths = (reached * 2000 + with_follow_up) / (2 * with_follow_up);
        tenths_pct(i32::try_from(tenths).unwrap_or(i32::MAX))
    });
    Ok(LotOutcomes {
        lot_id,
        lot_code: lot.code,
        lot_status: lot.status,
        totals: LotTotals {
            recipients: recipients.len(),
            infusions: from_lot.len(),
            with_follow_up,
            pasi75_reached: reached,
            pasi75_rate_pct: rate,
            adverse_events_by_grade: by_grade,
        },
        recipients,
    })
}
