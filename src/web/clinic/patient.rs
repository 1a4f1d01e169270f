//! `/patients/{id}`: a patient's infusion
//! schedule, weights (recorded and voided by the clinician), assessments,
//! assessment visits and adverse events (recorded by the clinician), the
//! wristband to print, with the way to their open dose.

use axum::extract::{Path, State};
use axum::response::Html;
use chrono::{DateTime, Utc};
use maud::{Markup, html};
use uuid::Uuid;

use crate::api::patients::Window;
use crate::domain::accounts::Role;
use crate::domain::dose::{WeightUnit, kg_text};
use crate::domain::patient::window_day;
use crate::domain::printer::{PrintKind, Printer};
use crate::domain::protocol::Protocol;
use crate::domain::visits::PatientVisit;
use crate::entities::assessment;
use crate::error::AppResult;
use crate::i18n::{arg, t, t_with};
use crate::services::patients::PatientRecord;
use crate::services::{assessments, history, patients, printing, protocol, visits};
use crate::state::AppState;
use crate::web::clinic::adverse_events::adverse_event_form;
use crate::web::clinic::assessment_forms::assessments_card;
use crate::web::clinic::assessments::Entered;
use crate::web::clinic::chart::{Course, adverse_events_card, course_chart};
use crate::web::clinic::course::{CourseNote, course_note};
use crate::web::clinic::visits::visits_card;
use crate::web::clinic::{slot, slotted};
use crate::web::error::PageError;
use crate::web::extract::{PageUser, WebQuery};
use crate::web::history::history_view;
use crate::web::page::{self, Flash, pill, signature_fields};
use crate::web::printing::print_form_counted;
use crate::web::user::WebUser;

pub async fn patient_page(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<Uuid>,
    WebQuery(flash): WebQuery<Flash>,
) -> Result<Html<String>, PageError> {
    let sheet = patient_sheet(&state, id).await?;
    Ok(patient_html(&user, &sheet, &flash, None, None))
}

/// What a patient's page shows.
pub struct PatientSheet {
    record: PatientRecord,
    rules: Protocol,
    scored: Vec<assessment::Model>,
    history: Vec<history::Entry>,
    /// The patient's correctable values and their corrections (issue 16).
    corrections: crate::web::corrections::Sheet,
    /// The assessment visits, judged today.
    visits: Vec<PatientVisit>,
    /// Where a wristband can be printed (the page has no state).
    printers: Vec<Printer>,
    now: DateTime<Utc>,
    /// The patient's withdrawal from the trial (issue 16).
    withdrawal: Option<crate::entities::patient_withdrawal::Model>,
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
        corrections: crate::web::corrections::sheet(
            state,
            crate::domain::correction::SubjectKind::Patient,
            id,
        )
        .await?,
        visits: visits::of_patient(state, id).await?,
        withdrawal: crate::services::withdrawals::of_patient(state.db.conn(), id).await?,
        printers: printing::printers(state).to_vec(),
        record,
        rules,
        scored,
        now: state.clock.now(),
    })
}

/// The patient's whole page, with a weight to confirm when one is
/// waiting, or an assessment's form sent back refused.
pub fn patient_html(
    user: &WebUser,
    sheet: &PatientSheet,
    flash: &Flash,
    confirm: Option<&WeightToConfirm>,
    entered: Option<&Entered>,
) -> Html<String> {
    page::show(
        &t_with(
            "patient-title",
            &[("code", arg(&sheet.record.patient.subject_code))],
        ),
        user,
        html! {
            (crate::web::withdrawals::patient_banner(user, sheet.withdrawal.as_ref()))
            (patient_view(user, sheet, flash, confirm, entered))
            (crate::web::withdrawals::patient_form(
                user,
                sheet.record.patient.id,
                sheet.record.patient.subject_code.as_ref(),
                &sheet.record.doses,
                sheet.withdrawal.as_ref(),
                sheet.now,
            ))
            (crate::web::corrections::section_view(
                user,
                &sheet.corrections,
                crate::web::corrections::assessment_links(user, &sheet.scored),
            ))
            (history_view(&sheet.history, user))
        },
    )
}

fn patient_view(
    user: &WebUser,
    sheet: &PatientSheet,
    flash: &Flash,
    confirm: Option<&WeightToConfirm>,
    entered: Option<&Entered>,
) -> Markup {
    let PatientSheet {
        record,
        rules,
        scored,
        now,
        visits,
        printers,
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
        h1 { (t("patient-heading")) " " span class="code" { (p.subject_code) } }
        p id="coi" { (t("coi-label")) " " (coi_markup(p.coi.as_deref())) }
        p class="muted" { (t("coi-hint")) }
        (flash.render())
        div class="actions" {
            a class="button secondary" href={ "/api/v1/patients/" (p.id) "/wristband.png" } { (t("patient-wristband-label")) }
            a class="button secondary" href={ "/api/v1/patients/" (p.id) "/wristband.pdf" } { (t("label-pdf-wristband")) }
            @if role == Role::Pharmacist && open.is_none() && note.is_none() { a class="button" href={ "/patients/" (p.id) "/dose" } { (t("patient-worksheet")) } }
            @if let Some(d) = open {
                @if role == Role::Pharmacist { a class="button" href={ "/doses/" (d.id) } { (t("patient-open-dose")) " " (d.code) } }
                @if role == Role::Clinician { a class="button" href={ "/doses/" (d.id) "/bedside" } { (t("patient-bedside-check")) " " (d.code) } }
            }
            a class="button secondary" href={ "/api/v1/trace/patients/" (p.id) "?format=csv" } { (t("patient-trace-csv")) }
        }
        div class="grid" {
            section class="card" {
                h2 { (t("patient-schedule")) }
                p { (t_with("patient-infusions-given", &[("given", arg(record.infusions.len())), ("total", arg(rules.infusions))])) }
                @if let Some(CourseNote::Over(words)) = &note {
                    p id="course-status" { strong { (words) } }
                } @else {
                    @if let (Some(first), Some(last)) = (window.first_day, window.last_day) {
                        @let (before, after) = slotted(t_with("patient-window", &[("first", arg(first)), ("window", arg(rules.window_days)), ("slot", slot())]));
                        p { (before) strong { (last) } (after) }
                    }
                    @if let Some(next) = window.next_earliest {
                        @let (before, after) = slotted(t_with("patient-next", &[("interval", arg(rules.min_interval_days)), ("slot", slot())]));
                        p { (before) strong { (next) } (after) }
                    }
                }
                table {
                    thead { tr { th { "#" } th { (t("patient-col-started")) } th { (t("patient-col-day")) } th { (t("col-status")) } } }
                    tbody { @for i in &record.infusions {
                        tr {
                            td class="num" { (i.infusion_number) }
                            td { (user.when(i.started_at))
                                @if i.late_entry { " " span class="pill quarantine" title=(i.late_reason.clone().unwrap_or_default()) { (t("patient-late-entry")) } } }
                            td class="num" { @if let Some(f) = window.first_day { (window_day(f, user.zone.date(i.started_at))) } }
                            td { (pill(i.status)) }
                        }
                    } }
                }
            }
            section class="card" {
                h2 { (t("patient-weights")) }
                @if let Some(g) = p.enrolment_weight_g {
                    p class="muted" { @if let Some(mm) = p.height_mm {
                        (t_with("patient-enrolment-weight-height", &[("kg", arg(kg_text(g))), ("cm", arg(format!("{}.{}", mm / 10, mm % 10)))]))
                    } @else {
                        (t_with("patient-enrolment-weight", &[("kg", arg(kg_text(g)))]))
                    } }
                }
                @if let Some(c) = confirm { (confirm_weight_block(user, p.id, c)) }
                table {
                    thead { tr { th { (t("patient-col-measured")) } th class="num" { "kg" } th { (t("patient-col-entered")) } th {} } }
                    tbody { @for w in record.weights.iter().take(12) {
                        tr {
                            @if w.voided_at.is_some() {
                                td { s { (user.when(w.measured_at)) } }
                                td class="num" { s { (kg_text(w.weight_g)) } }
                                td { s { (w.value) " " (w.unit) } " " span class="pill bad" { (t("patient-voided")) }
                                    div class="muted" { (w.void_reason.clone().unwrap_or_default()) } }
                                td {}
                            } @else {
                                td { (user.when(w.measured_at)) }
                                td class="num" { (kg_text(w.weight_g)) }
                                td { (w.value) " " (w.unit) @if w.confirmed_change { " " span class="pill" { (t("patient-confirmed")) } } }
                                td { @if role == Role::Clinician {
                                    details {
                                        summary { (t("patient-void")) }
                                        form method="post" action={ "/patients/" (p.id) "/weights/" (w.id) "/void" } {
                                            input type="hidden" name="csrf" value=(user.csrf());
                                            label { (t("patient-void-why")) input name="reason" required placeholder=(t("patient-void-why-placeholder")); }
                                            (signature_fields("weight voided"))
                                            div class="actions" { button class="danger" type="submit" { (t("patient-void-button")) } }
                                        }
                                    }
                                } }
                            }
                        }
                    } }
                }
                @if role == Role::Clinician && confirm.is_none() && over {
                    p class="muted" { (t("patient-no-weight-needed")) }
                }
                @if role == Role::Clinician && confirm.is_none() && !over {
                    form method="post" action={ "/patients/" (p.id) "/weights" } {
                        input type="hidden" name="csrf" value=(user.csrf());
                        label for="value" { (t("patient-new-weight")) }
                        input id="value" name="value" inputmode="decimal" required style="max-width:10rem";
                        select name="unit" aria-label=(t("patient-unit")) style="max-width:6rem" { option value="kg" { "kg" } option value="lb" { "lb" } }
                        div class="actions" { button type="submit" { (t("patient-record-weight")) } }
                    }
                }
            }
        }
        (assessments_card(user, p.id, p.baseline_pasi_tenths, scored, *now, role == Role::Clinician, entered))
        (course_chart(user, &Course {
            enrolled_at: p.enrolled_at,
            baseline_pasi_tenths: p.baseline_pasi_tenths,
            scored,
            infusions: &record.infusions,
        }))
        (visits_card(visits))
        @let form = if role == Role::Clinician { adverse_event_form(user, p.id, &record.infusions, &record.doses, *now) } else { html! {} };
        (adverse_events_card(user, p.id, &record.adverse_events, &record.infusions, &record.doses, role == Role::Clinician, form))
        (print_form_counted(PrintKind::Wristband, p.id, printers, user, &sheet.history))
    }
}

/// A weight waiting for its confirmation: what was typed, and the question.
pub struct WeightToConfirm {
    pub value: String,
    pub unit: WeightUnit,
    pub question: String,
}

fn confirm_weight_block(user: &WebUser, patient_id: Uuid, c: &WeightToConfirm) -> Markup {
    let weight = format!("{} {}", c.value, c.unit.as_str());
    html! {
        div class="msg bad" role="alert" id="confirm-weight" {
            p { strong { (c.question) } }
            p { (t_with("patient-confirm-hint", &[("weight", arg(&weight))])) }
            form method="post" action={ "/patients/" (patient_id) "/weights" } {
                input type="hidden" name="csrf" value=(user.csrf());
                input type="hidden" name="value" value=(c.value);
                input type="hidden" name="unit" value=(c.unit.as_str());
                input type="hidden" name="confirm_change" value="true";
                div class="actions" {
                    button type="submit" { (t_with("patient-confirm-yes", &[("weight", arg(&weight))])) }
                    a class="button secondary" href={ "/patients/" (patient_id) } { (t("patient-confirm-no")) }
                }
            }
        }
    }
}

/// A patient's Chain of Identity identifier as people read it: its parts
/// spaced, the check character boxed as the DIN's is (`domain::coi`).
pub fn coi_markup(stored: Option<&str>) -> Markup {
    let Some(stored) = stored else {
        return html! { span class="muted" { (t("coi-pending")) } };
    };
    let (display, check) = crate::domain::coi::display_parts(stored);
    let whole = format!("{display} {check}");
    html! {
        span class="code coi" data-coi=(stored) aria-label=(t_with("coi-aria", &[("coi", arg(&whole))])) {
            (display) " "
            span class="din-check" style="border:2px solid currentColor;padding:0 .3rem;margin-left:.3rem" title=(t("coi-check-character")) { (check) }
        }
    }
}
