//! A patient's PASI and DLQI assessments (clinician), scored exactly.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::api::extract::{ApiJson, ApiPath, Authorized, roles};
use crate::domain::assessment::{AssessmentKind, PasiRegions};
use crate::domain::patient::tenths_display;
use crate::entities::assessment;
use crate::error::{AppResult, ErrorBody};
use crate::services::assessments::{self, Scored};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(record_assessment))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AssessmentView {
    pub id: Uuid,
    pub patient_id: Uuid,
    /// `pasi` or `dlqi`.
    pub kind: AssessmentKind,
    pub assessed_at: DateTime<Utc>,
    /// PASI 0-72 with one decimal; DLQI 0-30.
    #[schema(value_type = f64)]
    pub score: serde_json::Number,
    /// What the score was computed from (regions or answers).
    #[schema(value_type = Object)]
    pub inputs: serde_json::Value,
    pub recorded_at: DateTime<Utc>,
}

impl From<assessment::Model> for AssessmentView {
    fn from(a: assessment::Model) -> Self {
        AssessmentView {
            score: if a.kind == AssessmentKind::Pasi {
                tenths_number(a.score)
            } else {
                serde_json::Number::from(a.score)
            },
            inputs: serde_json::from_str(&a.inputs).unwrap_or_default(),
            id: a.id,
            patient_id: a.patient_id,
            kind: a.kind,
            assessed_at: a.assessed_at,
            recorded_at: a.recorded_at,
        }
    }
}

/// An assessment as scored: PASI from its four regions, or DLQI from its
/// ten answers.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum RecordAssessment {
    Pasi {
        assessed_at: DateTime<Utc>,
        regions: PasiRegions,
    },
    Dlqi {
        assessed_at: DateTime<Utc>,
        /// Ten answers, 0 to 3 each.
        answers: Vec<i32>,
    },
}

/// Records a PASI or DLQI assessment (clinician); the score is computed
/// exactly.
#[utoipa::path(post, path = "/patients/{id}/assessments", tag = "patients", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = RecordAssessment,
    responses((status = 201, description = "Created: the assessment with its computed score", body = AssessmentView), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "invalid_assessment")))]
async fn record_assessment(
    State(state): State<AppState>,
    auth: Authorized<roles::Clinician>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<RecordAssessment>,
) -> AppResult<(StatusCode, ApiJson<AssessmentView>)> {
    let (assessed_at, scored) = match body {
        RecordAssessment::Pasi {
            assessed_at,
            regions,
        } => (assessed_at, Scored::Pasi(regions)),
        RecordAssessment::Dlqi {
            assessed_at,
            answers,
        } => (assessed_at, Scored::Dlqi(answers)),
    };
    let model = assessments::record(&state, &auth.user.actor(), id, assessed_at, scored).await?;
    Ok((StatusCode::CREATED, ApiJson(model.into())))
}

/// A score in tenths as a JSON number with one decimal.
pub fn tenths_number(tenths: i32) -> serde_json::Number {
    tenths_display(tenths)
        .parse()
        .unwrap_or_else(|_| serde_json::Number::from(tenths / 10))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_print_with_one_decimal() {
        assert_eq!(tenths_number(124).to_string(), "12.4");
        assert_eq!(tenths_number(80).to_string(), "8.0");
    }
}
