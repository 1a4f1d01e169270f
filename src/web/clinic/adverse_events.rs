//! An adverse event recorded on the patient's page (clinician), whenever
//! it is reported after one of their infusions: the infusion it followed
//! (newest first), the CTCAE term, the grade with its meaning in words,
//! and the onset in the site's time. Through the same service as
//! `POST /api/v1/patients/{id}/adverse-events`; a refusal comes back to the
//! page in words and records nothing.
//!
//! Each event also has its "Correct" form: the grade, term and onset as
//! they should have been recorded, the reason, and the signature, through
//! the service of `POST …/adverse-events/{event_id}/corrections`.

use axum::extract::{Path, State};
use axum::response::Response;
use chrono::Timelike;
use maud::{Markup, html};
use serde::Deserialize;
use uuid::Uuid;

use crate::entities::{adverse_event, dose, infusion};
use crate::error::AppError;
use crate::i18n::{arg, t, t_with};
use crate::services::adverse_events::{self, Correction, NewAdverseEvent};
use crate::state::AppState;
use crate::web::error::{PageError, sentence};
use crate::web::extract::{CsrfForm, PageUser, carries_csrf, roles};
use crate::web::page::{redirect_with, signature_fields};
use crate::web::user::WebUser;

#[derive(Debug, Deserialize)]
pub struct AdverseEventForm {
    pub csrf: String,
    #[serde(default)]
    pub infusion_id: String,
    #[serde(default)]
    pub term: String,
    #[serde(default)]
    pub grade: String,
    #[serde(default)]
    pub onset_at: String,
}

#[derive(Debug, Deserialize)]
pub struct CorrectionForm {
    pub csrf: String,
    #[serde(default)]
    pub term: String,
    #[serde(default)]
    pub grade: String,
    #[serde(default)]
    pub onset_at: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub meaning: String,
}

carries_csrf!(AdverseEventForm, CorrectionForm);

/// CTCAE grades 1 to 5, each with its meaning.
const GRADES: [i32; 5] = [1, 2, 3, 4, 5];

/// Records the event and goes back to the patient's page, saying so; a
/// refusal goes back saying why.
pub async fn record_adverse_event(
    State(state): State<AppState>,
    user: PageUser<roles::Clinician>,
    Path(id): Path<Uuid>,
    CsrfForm(form): CsrfForm<AdverseEventForm>,
) -> Result<Response, PageError> {
    let back = format!("/patients/{id}");
    // what cannot be read is said before the service is asked
    let infusion_id: Uuid = form
        .infusion_id
        .trim()
        .parse()
        .map_err(|_| PageError::back(&back, t("ae-refused-infusion")))?;
    let grade: i32 = form
        .grade
        .trim()
        .parse()
        .map_err(|_| PageError::back(&back, t("ae-refused-grade")))?;
    let onset_at = user
        .typed_time(&form.onset_at)
        .ok_or_else(|| PageError::back(&back, t("ae-refused-onset")))?;
    let recorded = adverse_events::record(
        &state,
        &user.user.actor(),
        id,
        NewAdverseEvent {
            infusion_id,
            term: &form.term,
            grade,
            onset_at,
        },
    )
    .await
    .map_err(|error| PageError::back(&back, refusal_words(&error, &user)))?;
    Ok(redirect_with(
        &back,
        true,
        t_with(
            "ae-recorded",
            &[
                ("term", arg(&recorded.term)),
                ("grade", arg(recorded.grade)),
            ],
        ),
    ))
}

/// Corrects the event (signed) and goes back to the patient's page,
/// saying so; a refusal goes back saying why, and records nothing.
pub async fn correct_adverse_event(
    State(state): State<AppState>,
    user: PageUser<roles::Clinician>,
    Path((id, event_id)): Path<(Uuid, Uuid)>,
    CsrfForm(form): CsrfForm<CorrectionForm>,
) -> Result<Response, PageError> {
    let back = format!("/patients/{id}");
    let grade: i32 = form
        .grade
        .trim()
        .parse()
        .map_err(|_| PageError::back(&back, t("ae-refused-grade")))?;
    let typed = user
        .typed_time(&form.onset_at)
        .ok_or_else(|| PageError::back(&back, t("ae-refused-onset")))?;
    // the field holds minutes: an onset left as the form showed it is the
    // onset recorded, to the second, not a correction of its seconds
    let onset_at = match adverse_events::row_of(&state, id, event_id).await? {
        Some(row) if user.typed_time(&user.field_time(row.onset_at)) == Some(typed) => row.onset_at,
        _ => typed,
    };
    let signature = user
        .sign(&state, form.password, form.meaning, &back)
        .await?;
    let corrected = adverse_events::correct(
        &state,
        &signature,
        id,
        event_id,
        Correction {
            grade,
            term: &form.term,
            onset_at,
            reason: &form.reason,
        },
    )
    .await
    .map_err(|error| PageError::back(&back, refusal_words(&error, &user)))?;
    Ok(redirect_with(
        &back,
        true,
        t_with(
            "ae-corrected",
            &[
                ("term", arg(&corrected.current.term)),
                ("grade", arg(corrected.current.grade)),
            ],
        ),
    ))
}

/// The service's refusal in words: what the form asks for, not a field.
fn refusal_words(error: &AppError, user: &WebUser) -> String {
    match error {
        AppError::InvalidField { field, message } => match field.as_ref() {
            "term" => t("ae-refused-term"),
            "grade" => t("ae-refused-grade"),
            "onset_at" if message.ends_with("is in the future") => t("ae-refused-onset-future"),
            "onset_at" => t("ae-refused-onset-before"),
            "infusion_id" => t("ae-refused-infusion"),
            "reason" => t("ae-refused-reason"),
            "correction" => t("ae-refused-unchanged"),
            _ => sentence(error, user.zone),
        },
        AppError::NotFound {
            kind: "infusion", ..
        } => t("ae-refused-infusion"),
        AppError::NotFound {
            kind: "adverse event",
            ..
        } => t("ae-refused-unknown-event"),
        AppError::AlreadyCorrected { .. } => t("ae-refused-already-corrected"),
        other => sentence(other, user.zone),
    }
}

/// The "Correct" form of one event (its newest record), filled with its
/// current values.
pub fn correction_form(user: &WebUser, patient_id: Uuid, current: &adverse_event::Model) -> Markup {
    html! {
        details class="correct-adverse-event" {
            summary { (t("ae-correct")) }
            form method="post" action={ "/patients/" (patient_id) "/adverse-events/" (current.id) "/corrections" } {
                input type="hidden" name="csrf" value=(user.csrf());
                label { (t("ae-term")) input name="term" required maxlength="200" autocomplete="off" value=(current.term); }
                label { (t("ae-grade"))
                    select name="grade" required {
                        @for g in GRADES {
                            option value=(g) selected[g == current.grade] { (t_with("ae-grade-meaning", &[("grade", arg(g)), ("meaning", arg(t(&format!("ae-grade-{g}"))))])) }
                        }
                    }
                }
                label { (t_with("ae-onset", &[("zone", arg(user.zone.name()))]))
                    input name="onset_at" type="datetime-local" required value=(user.field_time(current.onset_at)); }
                label { (t("ae-correct-why")) input name="reason" required maxlength="1000" placeholder=(t("ae-correct-why-placeholder")); }
                (signature_fields("adverse event corrected"))
                p class="muted" { (t("ae-correct-hint")) }
                div class="actions" { button type="submit" { (t("ae-correct-button")) } }
            }
        }
    }
}

/// The form, for a clinician, when the patient has had an infusion.
pub fn adverse_event_form(
    user: &WebUser,
    patient_id: Uuid,
    infusions: &[infusion::Model],
    doses: &[dose::Model],
    now: chrono::DateTime<chrono::Utc>,
) -> Markup {
    let Some(newest) = infusions.iter().map(|i| i.started_at).max() else {
        return html! {};
    };
    // the field shows minutes: an infusion begun this very minute would
    // make "now" read as before it, so the default is never before it
    let start_minute = newest.with_second(0).and_then(|t| t.with_nanosecond(0));
    let after_start = start_minute
        .filter(|t| *t < newest)
        .map_or(newest, |t| t + chrono::Duration::minutes(1));
    let onset = now.max(after_start);
    html! {
        details id="record-adverse-event" {
            summary { (t("ae-record")) }
            form method="post" action={ "/patients/" (patient_id) "/adverse-events" } {
                input type="hidden" name="csrf" value=(user.csrf());
                label { (t("ae-followed"))
                    select name="infusion_id" required {
                        // newest first: an event is most often of the last
                        @for i in infusions.iter().rev() {
                            @let code = doses.iter().find(|d| d.id == i.dose_id).map(|d| d.code.to_string()).unwrap_or_default();
                            option value=(i.id) { (t_with("ae-infusion-option", &[("n", arg(i.infusion_number)), ("code", arg(code)), ("when", arg(user.when(i.started_at)))])) }
                        }
                    }
                }
                label { (t("ae-term")) input name="term" required maxlength="200" autocomplete="off" placeholder=(t("ae-term-placeholder")); }
                fieldset {
                    legend { (t("ae-grade")) }
                    @for g in GRADES {
                        label { input type="radio" name="grade" value=(g) required; (t_with("ae-grade-meaning", &[("grade", arg(g)), ("meaning", arg(t(&format!("ae-grade-{g}"))))])) }
                    }
                }
                label { (t_with("ae-onset", &[("zone", arg(user.zone.name()))]))
                    input name="onset_at" type="datetime-local" required value=(user.field_time(onset)); }
                p class="muted" { (t("ae-regrade-hint")) }
                div class="actions" { button type="submit" { (t("ae-record-button")) } }
            }
        }
    }
}
