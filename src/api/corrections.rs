//! Signed corrections of typed fields (issue 16): one regular shape for
//! every kind of record, `POST /corrections` naming the record, the field
//! and the new value, and `GET /corrections?subject_kind=&subject_id=` the
//! record's corrected fields now and every correction, oldest first.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::api::extract::{ApiJson, ApiQuery, Authorized};
use crate::domain::correction::SubjectKind;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::services::corrections::{self, Entry, Made};
use crate::services::signatures::{self, SignatureInput};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(correct, list_corrections))
}

/// A correction asked for.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCorrection {
    /// `donor`, `donation`, `lot`, `vial`, `patient`, `assessment` or
    /// `qc_result`.
    #[schema(example = "lot")]
    pub subject_kind: String,
    pub subject_id: Uuid,
    /// The field as the record's API names it: donor `code`, `consent_at`;
    /// donation `collected_at`, `received_at`; lot `expires_at`,
    /// `manufactured_at`, `passage`, `product_code`; vial `volume_ul`,
    /// `cells_per_vial`; patient `birth_date`, `sex`, `height_cm`,
    /// `baseline_pasi`; assessment `answers[0]`…`answers[9]` (DLQI) or
    /// `regions.head.erythema`… (PASI); qc_result `value`.
    #[schema(example = "expires_at")]
    pub field: String,
    /// The new value, as at entry (a string or a number): RFC 3339 times,
    /// `YYYY-MM-DD` dates, whole microlitres and cells, decimals as text or
    /// number.
    #[schema(value_type = Object, example = "2027-06-30T00:00:00Z")]
    pub value: serde_json::Value,
    /// The value the person saw and corrects: when given and no longer the
    /// record's, the correction is refused (409 `concurrent_change`).
    #[schema(value_type = Option<Object>)]
    pub old_value: Option<serde_json::Value>,
    /// Why (required).
    pub reason: String,
    pub signature: SignatureInput,
}

/// Who signed a correction.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignerView {
    pub username: String,
    pub full_name: String,
    pub meaning: String,
}

/// One correction.
#[derive(Debug, Serialize, ToSchema)]
pub struct CorrectionView {
    pub id: Uuid,
    pub subject_kind: String,
    pub subject_id: Uuid,
    pub field: String,
    #[schema(value_type = Object)]
    pub old_value: serde_json::Value,
    #[schema(value_type = Object)]
    pub new_value: serde_json::Value,
    pub reason: String,
    pub corrected_at: DateTime<Utc>,
    pub signer: Option<SignerView>,
    /// The custody event that holds it.
    pub event_seq: i64,
}

/// A correction just made, with what follows from it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CorrectionMade {
    #[serde(flatten)]
    pub correction: CorrectionView,
    /// The record as people name it (a lot or vial code, a subject code).
    pub subject_name: String,
    /// Doses reserved, not yet prepared, that will use the corrected value
    /// when they are thawed (judged then, on the server's clock).
    pub reserved_doses: Vec<String>,
    /// Labels that print this value: any already printed is now wrong and
    /// must be reprinted (`POST /api/v1/{lots|vials}/{id}/label-issues`
    /// with a reason, or the wristband's print).
    pub labels_to_reprint: Vec<String>,
    /// An assessment's score before and after (PASI in tenths).
    pub score_old: Option<i32>,
    pub score_new: Option<i32>,
}

/// A record's corrections.
#[derive(Debug, Serialize, ToSchema)]
pub struct CorrectionHistory {
    pub subject_kind: String,
    pub subject_id: Uuid,
    /// Each correctable field's value now.
    #[schema(value_type = Object)]
    pub current: BTreeMap<String, serde_json::Value>,
    /// Every correction, oldest first.
    pub corrections: Vec<CorrectionView>,
}

fn json_of(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or(serde_json::Value::Null)
}

impl From<Entry> for CorrectionView {
    fn from(entry: Entry) -> Self {
        let c = entry.correction;
        CorrectionView {
            id: c.id,
            subject_kind: c.subject_kind,
            subject_id: c.subject_id,
            field: c.field,
            old_value: json_of(&c.old_value),
            new_value: json_of(&c.new_value),
            reason: c.reason,
            corrected_at: c.corrected_at,
            signer: entry.signature.map(|s| SignerView {
                username: s.signer_username,
                full_name: s.signer_full_name,
                meaning: s.meaning,
            }),
            event_seq: c.event_seq,
        }
    }
}

impl From<Made> for CorrectionMade {
    fn from(made: Made) -> Self {
        CorrectionMade {
            correction: Entry {
                correction: made.correction,
                signature: Some(made.signature),
            }
            .into(),
            subject_name: made.subject_name,
            reserved_doses: made.reserved_doses,
            labels_to_reprint: made.labels_to_reprint,
            score_old: made.score.map(|s| s.0),
            score_new: made.score.map(|s| s.1),
        }
    }
}

/// A value as sent: a string's text, a number's.
pub fn value_text(field: &'static str, value: &serde_json::Value) -> AppResult<String> {
    match value {
        serde_json::Value::String(s) => Ok(s.clone()),
        serde_json::Value::Number(n) => Ok(n.to_string()),
        _ => Err(AppError::invalid(field, "a string or a number")),
    }
}

/// Corrects one typed field of a record (signed, with a reason): the lab
/// corrects donors, donations, lots, vials and QC results, the clinician
/// patients and assessments. The record's column takes the new value,
/// the custody event `<kind>.corrected` holds the old and the new, and
/// what derives from it follows.
#[utoipa::path(post, path = "/corrections", tag = "corrections", security(("bearer" = [])),
    request_body = NewCorrection,
    responses((status = 201, description = "The correction", body = CorrectionMade),
        (status = 401, body = ErrorBody, description = "signature_invalid"),
        (status = 403, body = ErrorBody, description = "forbidden: the role that types the record corrects it"),
        (status = 404, body = ErrorBody, description = "not_found"),
        (status = 409, body = ErrorBody, description = "correction_changes_nothing; concurrent_change (old_value is no longer the record's); donor_code_taken"),
        (status = 422, body = ErrorBody, description = "invalid_field (the value as at entry, or the reason), field_not_correctable, correction_changes_dose (details.doses), invalid_assessment, invalid_qc_value")))]
async fn correct(
    State(state): State<AppState>,
    auth: Authorized,
    ApiJson(body): ApiJson<NewCorrection>,
) -> AppResult<(StatusCode, ApiJson<CorrectionMade>)> {
    let value = value_text("value", &body.value)?;
    let old_value = match &body.old_value {
        Some(old) => Some(value_text("old_value", old)?),
        None => None,
    };
    // all that needs no database, before the password is checked: nothing
    // is counted against a signer who forgot the reason
    let asked = corrections::ask(
        auth.user.role,
        &body.subject_kind,
        &body.field,
        &value,
        old_value.as_deref(),
        &body.reason,
    )?;
    let signature = signatures::verify(&state, &auth.user, &body.signature).await?;
    let made = corrections::correct(&state, &signature, body.subject_id, asked).await?;
    Ok((StatusCode::CREATED, ApiJson(made.into())))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CorrectionQuery {
    /// `donor`, `donation`, `lot`, `vial`, `patient`, `assessment` or
    /// `qc_result`.
    pub subject_kind: String,
    pub subject_id: Uuid,
}

/// A record's correctable fields now, and every correction of it, oldest
/// first, each with the old and new value, the reason, the signer and the
/// time.
#[utoipa::path(get, path = "/corrections", tag = "corrections", security(("bearer" = [])),
    params(CorrectionQuery),
    responses((status = 200, description = "The record's corrections", body = CorrectionHistory),
        (status = 403, body = ErrorBody, description = "forbidden (the administrator)"),
        (status = 404, body = ErrorBody, description = "not_found"),
        (status = 422, body = ErrorBody, description = "invalid_field: subject_kind")))]
async fn list_corrections(
    State(state): State<AppState>,
    _auth: Authorized,
    ApiQuery(query): ApiQuery<CorrectionQuery>,
) -> AppResult<ApiJson<CorrectionHistory>> {
    let kind: SubjectKind = query.subject_kind.trim().parse().map_err(|_| {
        AppError::invalid(
            "subject_kind",
            "one of donor, donation, lot, vial, patient, assessment, qc_result",
        )
    })?;
    let history = corrections::history(&state, kind, query.subject_id).await?;
    let current = corrections::current(&state, kind, query.subject_id).await?;
    Ok(ApiJson(CorrectionHistory {
        subject_kind: kind.as_str().to_owned(),
        subject_id: query.subject_id,
        current: current.into_iter().collect(),
        corrections: history.into_iter().map(CorrectionView::from).collect(),
    }))
}
