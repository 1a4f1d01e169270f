//! Outcome assessments: PASI and DLQI, computed exactly from what the
//! clinician scored, and the baseline each patient is compared against.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
};
use serde_json::json;
use uuid::Uuid;

use crate::clock::not_in_future;
use crate::domain::assessment::{AssessmentKind, PasiRegions, dlqi, pasi_tenths};
use crate::entities::{assessment, patient};
use crate::error::{AppError, AppResult};
use crate::services::Actor;
use crate::services::ledger::{self, NewEvent};
use crate::services::patients;
use crate::state::AppState;

/// What was scored.
#[derive(Debug, Clone)]
pub enum Scored {
    Pasi(PasiRegions),
    Dlqi(Vec<i32>),
}

pub async fn record(
    state: &AppState,
    actor: &Actor,
    patient_id: Uuid,
    assessed_at: DateTime<Utc>,
    scored: Scored,
) -> AppResult<assessment::Model> {
    let (kind, score, inputs) = match &scored {
        Scored::Pasi(regions) => (
            AssessmentKind::Pasi,
            pasi_tenths(regions).map_err(AppError::InvalidAssessment)?,
            json!({ "regions": regions }),
        ),
        Scored::Dlqi(answers) => (
            AssessmentKind::Dlqi,
            dlqi(answers).map_err(AppError::InvalidAssessment)?,
            json!({ "answers": answers }),
        ),
    };
    let now = state.clock.now();
    not_in_future("assessed_at", assessed_at, now)?;
    let txn = state.db.write().await?;
    let patient = patients::find(&txn, patient_id).await?;
    crate::domain::assessment::check_assessed_near_enrolment(assessed_at, patient.enrolled_at)?;
    let model = assessment::Model {
        id: Uuid::now_v7(),
        patient_id,
        kind,
        assessed_at,
        score,
        inputs: inputs.to_string(),
        recorded_at: now,
        recorded_by: actor.id,
    };
    assessment::Entity::insert(model.clone().into_active_model())
        .exec_without_returning(&txn)
        .await?;
    ledger::append(
        &txn,
        actor,
        now,
        NewEvent::new("patient.assessed", "patient", patient_id).details(json!({
            "assessment_id": model.id,
            "subject_code": patient.subject_code,
            "kind": kind,
            "assessed_at": assessed_at,
            "score": score,
            "inputs": inputs,
        })),
    )
    .await?;
    txn.commit().await?;
    Ok(model)
}

/// A patient's assessments, oldest first.
pub async fn of_patient(
    db: &impl ConnectionTrait,
    patient_id: Uuid,
) -> AppResult<Vec<assessment::Model>> {
    Ok(assessment::Entity::find()
        .filter(assessment::Column::PatientId.eq(patient_id))
        .order_by_asc(assessment::Column::AssessedAt)
        .order_by_asc(assessment::Column::RecordedAt)
        .all(db)
        .await?)
}

/// Where a PASI came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasiPoint {
    pub tenths: i32,
    pub at: DateTime<Utc>,
    /// `enrolment` or the assessment's id.
    pub assessment_id: Option<Uuid>,
}

/// The baseline PASI: the latest PASI assessed at or before the first
/// infusion, or the enrolment PASI when there is none.
pub fn baseline(
    patient: &patient::Model,
    assessments: &[assessment::Model],
    first_infusion: Option<DateTime<Utc>>,
) -> PasiPoint {
    assessments
        .iter()
        .filter(|a| a.kind == AssessmentKind::Pasi)
        .filter(|a| first_infusion.is_none_or(|first| a.assessed_at <= first))
        .max_by_key(|a| (a.assessed_at, a.recorded_at))
        .map(|a| PasiPoint {
            tenths: a.score,
            at: a.assessed_at,
            assessment_id: Some(a.id),
        })
        .unwrap_or(PasiPoint {
            tenths: patient.baseline_pasi_tenths,
            at: patient.enrolled_at,
            assessment_id: None,
        })
}

/// The latest assessment of a kind, if any after `after`.
pub fn latest(
    assessments: &[assessment::Model],
    kind: AssessmentKind,
    after: Option<DateTime<Utc>>,
) -> Option<&assessment::Model> {
    assessments
        .iter()
        .filter(|a| a.kind == kind)
        .filter(|a| after.is_none_or(|t| a.assessed_at > t))
        .max_by_key(|a| (a.assessed_at, a.recorded_at))
}
