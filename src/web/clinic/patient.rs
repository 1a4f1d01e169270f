//! `/patients/{id}`: a patient's infusion
//! schedule, weights (recorded and voided by the clinician) and
//! assessments, with the way to their open dose.

use axum::extract::{Path, State};
use axum::response::Html;
use chrono::{DateTime, Utc};
use maud::{Markup, html};
use uuid::Uuid;

use crate::api::patients::Window;
use crate::domain::accounts::Role;
use crate::domain::assessment::AssessmentKind;
use crate::domain::dose::{WeightUnit, kg_text};
use crate::domain::patient::{tenths_display, window_day};
use crate::domain::protocol::Protocol;
use crate::entities::assessment;
use crate::error::AppResult;
use crate::services::patients::PatientRecord;
use crate::services::{assessments, history, patients, protocol};
use crate::state::AppState;
use crate::web::clinic::course::{CourseNote, course_note};
use crate::web::error::PageError;
use crate::web::extract::{PageUser, WebQuery};
use crate::web::history::history_view;
use crate::web::page::{self, Flash, pill, signature_fields};
use crate::web::user::WebUser;

pub async fn patient_page(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<Uuid>,
    WebQuery(flash): WebQuery<Flash>,
) -> Result<Html<String>, PageError> {
    let sheet = patient_sheet(&state, id).await?;
    Ok(patient_html(&user, &sheet, &flash, None))
}

/// What a patient's page shows.
pub struct PatientSheet {
    record: PatientRecord,
    rules: Protocol,
    scored: Vec<assessment::Model>,
    history: Vec<history::Entry>,
    now: DateTime<Utc>,
}

/// A patient, the protocol's rules and their scores, read for their page.
pub async fn patient_sheet(state: &AppState, id: Uuid) -> AppResult<PatientSheet> {
    let record = patients::get(state, id).await?;
    let rules = protocol::current(state.db.conn()).await?.protocol;
    let scored = assessments::of_patient(state.db.conn(), id)
        .await
        .unwrap_or_default();
    Ok(PatientSheet {
        history: history::of(state, "patient", id).await?,
        record,
        rules,
        scored,
        now: state.clock.now(),
    })
}

/// The patient's whole page, with a weight to confirm when one is waiting.
pub fn patient_html(
    user: &WebUser,
    sheet: &PatientSheet,
    flash: &Flash,
    confirm: Option<&WeightToConfirm>,
) -> Html<String> {
    page::show(
        &format!("Patient {}", sheet.record.patient.subject_code),
        user,
        html! {
            (patient_view(user, sheet, flash, confirm))
            (history_view(&sheet.history, user))
        },
    )
}

fn patient_view(
    user: &WebUser,
    sheet: &PatientSheet,
    flash: &Flash,
    confirm: Option<&WeightToConfirm>,
) -> Markup {
    let PatientSheet {
        record,
        rules,
        scored,
        now,
        ..
    } = sheet;
    let p = &record.patient;
    let starts: Vec<_> = record.infusions.iter().map(|i| i.started_at).collect();
    let window = Window::of(rules, user.zone, &starts);
    let note = course_note(rules, user.zone, &starts, *now);
    let over = matches!(note, Some(CourseNote::Over(_)));
    let open = record.doses.iter().find(|d| d.status.is_open());
    let role = user.user.role;
    html! {
        h1 { "Patient " span class="code" { (p.subject_code) } }
        (flash.render())
        div class="actions" {
            a class="button secondary" href={ "/api/v1/patients/" (p.id) "/wristband.png" } { "Wristband label" }
            @if role == Role::Pharmacist && open.is_none() && note.is_none() { a class="button" href={ "/patients/" (p.id) "/dose" } { "Dose worksheet" } }
            @if let Some(d) = open {
                @if role == Role::Pharmacist { a class="button" href={ "/doses/" (d.id) } { "Open dose " (d.code) } }
                @if role == Role::Clinician { a class="button" href={ "/doses/" (d.id) "/bedside" } { "Bedside check " (d.code) } }
            }
            a class="button secondary" href={ "/api/v1/trace/patients/" (p.id) "?format=csv" } { "Trace CSV" }
        }
        div class="grid" {
            section class="card" {
                h2 { "Infusion schedule" }
                p { (record.infusions.len()) " of " (rules.infusions) " infusions given." }
                @if let Some(CourseNote::Over(words)) = &note {
                    p id="course-status" { strong { (words) } }
                } @else {
                    @if let (Some(first), Some(last)) = (window.first_day, window.last_day) {
                        p { "Day 1 was " (first) "; the last infusion may be given on Day " (rules.window_days) ", " strong { (last) } "." }
                    }
                    @if let Some(next) = window.next_earliest {
                        p { "At least " (rules.min_interval_days) " days between infusions: the next may be given from " strong { (next) } "." }
                    }
                }
                table {
                    thead { tr { th { "#" } th { "Started" } th { "Day" } th { "Status" } } }
                    tbody { @for i in &record.infusions {
                        tr {
                            td class="num" { (i.infusion_number) }
                            td { (user.when(i.started_at))
                                @if i.late_entry { " " span class="pill quarantine" title=(i.late_reason.clone().unwrap_or_default()) { "late entry" } } }
                            td class="num" { @if let Some(f) = window.first_day { (window_day(f, user.zone.date(i.started_at))) } }
                            td { (pill(i.status)) }
                        }
                    } }
                }
            }
            section class="card" {
                h2 { "Weights" }
                @if let Some(g) = p.enrolment_weight_g {
                    p class="muted" { "At enrolment " (kg_text(g)) " kg"
                        @if let Some(mm) = p.height_mm { ", height " (mm / 10) "." (mm % 10) " cm" } "." }
                }
                @if let Some(c) = confirm { (confirm_weight_block(user, p.id, c)) }
                table {
                    thead { tr { th { "Measured" } th class="num" { "kg" } th { "Entered" } th {} } }
                    tbody { @for w in record.weights.iter().take(12) {
                        tr {
                            @if w.voided_at.is_some() {
                                td { s { (user.when(w.measured_at)) } }
                                td class="num" { s { (kg_text(w.weight_g)) } }
                                td { s { (w.value) " " (w.unit) } " " span class="pill bad" { "voided" }
                                    div class="muted" { (w.void_reason.clone().unwrap_or_default()) } }
                                td {}
                            } @else {
                                td { (user.when(w.measured_at)) }
                                td class="num" { (kg_text(w.weight_g)) }
                                td { (w.value) " " (w.unit) @if w.confirmed_change { " " span class="pill" { "confirmed" } } }
                                td { @if role == Role::Clinician {
                                    details {
                                        summary { "Void" }
                                        form method="post" action={ "/patients/" (p.id) "/weights/" (w.id) "/void" } {
                                            input type="hidden" name="csrf" value=(user.csrf());
                                            label { "Why is this weight wrong?" input name="reason" required placeholder="typed in pounds as kilograms"; }
                                            (signature_fields("weight voided"))
                                            div class="actions" { button class="danger" type="submit" { "Void this weight" } }
                                        }
                                    }
                                } }
                            }
                        }
                    } }
                }
                @if role == Role::Clinician && confirm.is_none() && over {
                    p class="muted" { "No weight is needed for a dose: no further infusion may be given." }
                }
                @if role == Role::Clinician && confirm.is_none() && !over {
                    form method="post" action={ "/patients/" (p.id) "/weights" } {
                        input type="hidden" name="csrf" value=(user.csrf());
                        label for="value" { "New weight" }
                        input id="value" name="value" inputmode="decimal" required style="max-width:10rem";
                        select name="unit" aria-label="unit" style="max-width:6rem" { option value="kg" { "kg" } option value="lb" { "lb" } }
                        div class="actions" { button type="submit" { "Record weight" } }
                    }
                }
            }
            section class="card" {
                h2 { "Assessments" }
                p { "Baseline PASI at enrolment " (tenths_display(p.baseline_pasi_tenths)) "." }
                table {
                    thead { tr { th { "Assessed" } th { "Kind" } th class="num" { "Score" } } }
                    tbody { @for a in scored {
                        tr {
                            td { (user.when(a.assessed_at)) }
                            td { (a.kind.as_str().to_uppercase()) }
                            td class="num" { @if a.kind == AssessmentKind::Pasi { (tenths_display(a.score)) } @else { (a.score) } }
                        }
                    } }
                }
            }
        }
    }
}

/// A weight waiting for its confirmation: what was typed, and the question.
pub struct WeightToConfirm {
    pub value: String,
    pub unit: WeightUnit,
    pub question: String,
}

fn confirm_weight_block(user: &WebUser, patient_id: Uuid, c: &WeightToConfirm) -> Markup {
    html! {
        div class="msg bad" role="alert" id="confirm-weight" {
            p { strong { (c.question) } }
            p { "Weigh again or check the number and the unit. If " (c.value) " " (c.unit.as_str()) " is right, confirm it." }
            form method="post" action={ "/patients/" (patient_id) "/weights" } {
                input type="hidden" name="csrf" value=(user.csrf());
                input type="hidden" name="value" value=(c.value);
                input type="hidden" name="unit" value=(c.unit.as_str());
                input type="hidden" name="confirm_change" value="true";
                div class="actions" {
                    button type="submit" { "Yes, " (c.value) " " (c.unit.as_str()) " is right: record it" }
                    a class="button secondary" href={ "/patients/" (patient_id) } { "No, enter it again" }
                }
            }
        }
    }
}
