//! A patient's weights, as the clinician records them: a weight far from
//! the last is asked about in words (was it typed in pounds?) and recorded
//! only once confirmed; a wrong one is voided under signature.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use uuid::Uuid;

use crate::domain::dose::{WeightUnit, kg_text};
use crate::error::AppError;
use crate::i18n::{arg, t_with};
use crate::services::patients;
use crate::state::AppState;
use crate::web::clinic::patient::{WeightToConfirm, patient_html, patient_sheet};
use crate::web::error::{OrBack, PageError, sentence};
use crate::web::extract::{CsrfForm, PageUser, carries_csrf, roles};
use crate::web::page::{Flash, redirect_with};
use crate::web::user::WebUser;

/// The question a weight to confirm raises, in words: "154 kg is 120.0 %
/// more than the enrolment weight of 70 kg (2026-11-18): was it typed in
/// pounds? 154 lb would be 69.9 kg".
fn weight_question(
    user: &WebUser,
    value: &str,
    unit: WeightUnit,
    error: &AppError,
) -> Option<String> {
    let AppError::WeightChangeUnconfirmed {
        concerns,
        compared_measured_at,
        likely_slip,
        ..
    } = error
    else {
        return None;
    };
    let on = compared_measured_at.map(|t| user.date(t));
    Some(crate::web::refusals::page_weight_question(
        &format!("{value} {}", unit.as_str()),
        concerns,
        on.as_deref(),
        likely_slip.as_deref(),
        user.zone,
    ))
}

#[derive(Debug, Deserialize)]
pub struct WeightForm {
    pub csrf: String,
    pub value: String,
    pub unit: WeightUnit,
    #[serde(default)]
    pub confirm_change: bool,
}

#[derive(Debug, Deserialize)]
pub struct VoidForm {
    pub csrf: String,
    pub reason: String,
    pub password: String,
    pub meaning: String,
}

carries_csrf!(WeightForm, VoidForm);

/// Records a weight; one that needs confirming shows the patient's page
/// again (422) with the question and a button to confirm it.
pub async fn record_weight(
    State(state): State<AppState>,
    user: PageUser<roles::Clinician>,
    Path(id): Path<Uuid>,
    CsrfForm(form): CsrfForm<WeightForm>,
) -> Result<Response, PageError> {
    let back = format!("/patients/{id}");
    let outcome = patients::record_weight(
        &state,
        &user.user.actor(),
        id,
        patients::NewWeight {
            value: &form.value,
            unit: form.unit,
            measured_at: state.clock.now(),
            confirm_change: form.confirm_change,
        },
    )
    .await;
    let error = match outcome {
        Ok(w) => {
            return Ok(redirect_with(
                &back,
                true,
                t_with("weights-recorded", &[("kg", arg(kg_text(w.weight_g)))]),
            ));
        }
        Err(error) => error,
    };
    let Some(question) = weight_question(&user, form.value.trim(), form.unit, &error) else {
        return Err(PageError::back(&back, sentence(&error, user.zone)));
    };
    let confirm = WeightToConfirm {
        value: form.value.trim().to_owned(),
        unit: form.unit,
        question,
    };
    let sheet = patient_sheet(&state, id).await?;
    Ok((
        StatusCode::UNPROCESSABLE_ENTITY,
        patient_html(&user, &sheet, &Flash::default(), Some(&confirm), None),
    )
        .into_response())
}

pub async fn void_weight(
    State(state): State<AppState>,
    user: PageUser<roles::Clinician>,
    Path((id, weight_id)): Path<(Uuid, Uuid)>,
    CsrfForm(form): CsrfForm<VoidForm>,
) -> Result<Response, PageError> {
    let back = format!("/patients/{id}");
    let signature = user
        .sign(&state, form.password, form.meaning, &back)
        .await?;
    let w = patients::void_weight(&state, &signature, id, weight_id, &form.reason)
        .await
        .or_back(&back, user.zone)?;
    Ok(redirect_with(
        &back,
        true,
        t_with("weights-voided", &[("kg", arg(kg_text(w.weight_g)))]),
    ))
}
