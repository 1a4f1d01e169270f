//! Patients, the pharmacist's dose worksheet (weight and calculation step by
//! step → reserve → post-thaw counts → the volume to draw in large type →
//! signature) and the bedside page (scan the wristband, scan the bag, a
//! match in green or a mismatch in red, then record the volume in mL, as
//! the bag says).
//!
//! Whatever the protocol asks a person to confirm (a weight far from the
//! last, an implausible count, a volume far from the bag's) is asked here
//! in words, with the numbers, and confirmed with a button; never as a
//! field name to send.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDateTime;
use maud::{Markup, html};
use serde::Deserialize;
use uuid::Uuid;

use crate::api::patients::Window;
use crate::domain::accounts::Role;
use crate::domain::dose::{
    WeightUnit, describe_concerns, kg_text, parse_millilitres, parse_viability,
};
use crate::domain::patient::{tenths_display, window_day};
use crate::error::AppError;
use crate::services::doses::{self, CalculationInput, Counting, DoseRecord, VialCount};
use crate::services::{assessments, infusions, patients, protocol};
use crate::state::AppState;
use crate::web::page::{
    self, Flash, WebForm, WebQuery, pill, redirect_with, see_other, sentence, shell,
};
use crate::web::session::WebUser;

pub async fn patient_list(State(state): State<AppState>, user: WebUser) -> Response {
    let list = match patients::list(&state).await {
        Ok(l) => l,
        Err(error) => return page::app_error(error),
    };
    let body = html! {
        h1 { "Patients" }
        table {
            thead { tr { th { "Subject" } th { "Enrolled" } } }
            tbody { @for p in &list {
                tr { td { a class="code" href={ "/patients/" (p.id) } { (p.subject_code) } } td { (user.date(p.enrolled_at)) } }
            } }
        }
    };
    shell("Patients", Some(&user), body).into_response()
}

pub async fn patient_page(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<Uuid>,
    flash: WebQuery<Flash>,
) -> Response {
    let WebQuery(flash) = flash;
    match patient_body(&state, &user, id, &flash, None).await {
        Ok(page) => page.into_response(),
        Err(error) => page::app_error(error),
    }
}

/// Why no infusion may be given today, in words.
enum CourseNote {
    /// No further infusion, ever: all given, or the window closed.
    Over(String),
    /// Not today; the next may be given from a later date.
    NotYet(String),
}

impl CourseNote {
    fn text(&self) -> &str {
        match self {
            CourseNote::Over(t) | CourseNote::NotYet(t) => t,
        }
    }
}

/// Where the course stands today when no infusion may be given today:
/// finished, window closed, or the next one not yet allowed; `None` when
/// the protocol allows one today. Pages say this instead of offering a
/// weight or a dose the protocol would refuse.
fn course_note(
    rules: &crate::domain::protocol::Protocol,
    user: &WebUser,
    starts: &[chrono::DateTime<chrono::Utc>],
    now: chrono::DateTime<chrono::Utc>,
) -> Option<CourseNote> {
    use crate::domain::patient::{ScheduleRefused, next_infusion};
    let days: Vec<chrono::NaiveDate> = starts.iter().map(|t| user.zone.date(*t)).collect();
    let last = days.iter().max().copied();
    let given = days.len();
    let last_words = last.map_or(String::new(), |d| format!(", the last on {d}"));
    match next_infusion(rules, &days, user.zone.date(now)) {
        Ok(_) => None,
        Err(ScheduleRefused::LimitReached { limit }) => Some(CourseNote::Over(format!(
            "The course is finished: all {limit} infusions were given{last_words}. No further dose may be ordered."
        ))),
        Err(ScheduleRefused::OutsideWindow {
            last_day,
            window_days,
            ..
        }) => Some(CourseNote::Over(format!(
            "The infusion window closed after Day {window_days}, {last_day}: {given} of {} infusions were given{last_words}. No further infusion may be given.",
            rules.infusions
        ))),
        Err(ScheduleRefused::TooSoon {
            previous_day,
            earliest,
            min_interval_days,
        }) => Some(CourseNote::NotYet(format!(
            "Infusion {given} was given on {previous_day}; the next may be given from {earliest} ({min_interval_days} days at least between infusions). Weigh the patient and order the dose then."
        ))),
    }
}

/// A weight waiting for its confirmation: what was typed, and the question.
struct WeightToConfirm {
    value: String,
    unit: WeightUnit,
    question: String,
}

async fn patient_body(
    state: &AppState,
    user: &WebUser,
    id: Uuid,
    flash: &Flash,
    confirm: Option<WeightToConfirm>,
) -> Result<axum::response::Html<String>, AppError> {
    let record = patients::get(state, id).await?;
    let rules = protocol::current(state.db.conn()).await?.protocol;
    let scored = assessments::of_patient(state.db.conn(), id)
        .await
        .unwrap_or_default();
    let p = &record.patient;
    let starts: Vec<_> = record.infusions.iter().map(|i| i.started_at).collect();
    let window = Window::of(&rules, user.zone, &starts);
    let note = course_note(&rules, user, &starts, state.clock.now());
    let over = matches!(note, Some(CourseNote::Over(_)));
    let open = record.doses.iter().find(|d| {
        d.status
            .parse::<crate::domain::lifecycle::DoseStatus>()
            .is_ok_and(|s| s.is_open())
    });
    let role = user.user.role;
    let body = html! {
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
                            td { (pill(&i.status)) }
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
                @if let Some(c) = &confirm { (confirm_weight_block(user, p.id, c)) }
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
                                            (page::signature_fields("weight voided"))
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
                    tbody { @for a in &scored {
                        tr {
                            td { (user.when(a.assessed_at)) }
                            td { (a.kind.to_uppercase()) }
                            td class="num" { @if a.kind == "pasi" { (tenths_display(a.score)) } @else { (a.score) } }
                        }
                    } }
                }
            }
        }
    };
    Ok(shell(
        &format!("Patient {}", p.subject_code),
        Some(user),
        body,
    ))
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
    Some(describe_concerns(
        &format!("{value} {}", unit.as_str()),
        concerns,
        on.as_deref(),
        likely_slip.as_deref(),
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

pub async fn record_weight(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<Uuid>,
    WebForm(form): WebForm<WeightForm>,
) -> Response {
    if let Err(refused) = user.allow(&form.csrf, &[Role::Clinician]) {
        return refused.into_response();
    }
    let back = format!("/patients/{id}");
    let now = state.clock.now();
    let outcome = patients::record_weight(
        &state,
        &user.user.actor(),
        id,
        patients::NewWeight {
            value: &form.value,
            unit: form.unit,
            measured_at: now,
            confirm_change: form.confirm_change,
        },
    )
    .await;
    match outcome {
        Ok(w) => redirect_with(
            &back,
            true,
            format!("Weight recorded: {} kg.", kg_text(w.weight_g)),
        ),
        Err(error) => match weight_question(&user, form.value.trim(), form.unit, &error) {
            Some(question) => {
                let confirm = WeightToConfirm {
                    value: form.value.trim().to_owned(),
                    unit: form.unit,
                    question,
                };
                match patient_body(&state, &user, id, &Flash::default(), Some(confirm)).await {
                    Ok(page) => (StatusCode::UNPROCESSABLE_ENTITY, page).into_response(),
                    Err(error) => page::app_error(error),
                }
            }
            None => page::refused(&back, &error, user.zone),
        },
    }
}

#[derive(Debug, Deserialize)]
pub struct VoidForm {
    pub csrf: String,
    pub reason: String,
    pub password: String,
    pub meaning: String,
}

pub async fn void_weight(
    State(state): State<AppState>,
    user: WebUser,
    Path((id, weight_id)): Path<(Uuid, Uuid)>,
    WebForm(form): WebForm<VoidForm>,
) -> Response {
    if let Err(refused) = user.allow(&form.csrf, &[Role::Clinician]) {
        return refused.into_response();
    }
    let back = format!("/patients/{id}");
    let outcome = match user.sign(&state, form.password, form.meaning).await {
        Ok(signature) => {
            patients::void_weight(&state, &signature, id, weight_id, &form.reason).await
        }
        Err(error) => Err(error),
    };
    match outcome {
        Ok(w) => redirect_with(
            &back,
            true,
            format!(
                "The weight of {} kg is voided; it stays on record and is never used.",
                kg_text(w.weight_g)
            ),
        ),
        Err(error) => page::refused(&back, &error, user.zone),
    }
}

/// Step 1 of the worksheet: the calculation, step by step, then reserve.
pub async fn worksheet(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<Uuid>,
    flash: WebQuery<Flash>,
) -> Response {
    let WebQuery(flash) = flash;
    let patient = match patients::find(state.db.conn(), id).await {
        Ok(p) => p,
        Err(error) => return page::app_error(error),
    };
    // The schedule first: a finished course, a closed window or a next
    // infusion not yet allowed is said in words, with no weight to take
    // and no vials to reserve (an order would be refused).
    let note = match (
        protocol::current(state.db.conn()).await,
        doses::infusion_starts(state.db.conn(), id).await,
    ) {
        (Ok(current), Ok(starts)) => {
            course_note(&current.protocol, &user, &starts, state.clock.now())
        }
        (Err(error), _) | (_, Err(error)) => return page::app_error(error),
    };
    if let Some(note) = note {
        let body = html! {
            h1 { "Dose worksheet · " span class="code" { (patient.subject_code) } }
            (flash.render())
            div class="msg" id="course-status" role="status" { (note.text()) }
            p { a href={ "/patients/" (id) } { "Back to the patient" } }
        };
        return shell("Dose worksheet", Some(&user), body).into_response();
    }
    let calculation = doses::calculate(
        &state,
        CalculationInput {
            patient_id: Some(id),
            ..CalculationInput::default()
        },
    )
    .await;
    let body = html! {
        h1 { "Dose worksheet · " span class="code" { (patient.subject_code) } }
        (flash.render())
        @match &calculation {
            Ok(calc) => {
                section class="card" {
                    h2 { "1 · Weight and dose" }
                    ol class="steps" { @for step in &calc.steps { li { (step) } } }
                    p { "Target " strong { (page::cells(calc.target.target_cells)) } " viable cells; accepted "
                        (crate::labels::grouped(calc.target.min_cells)) " to " (crate::labels::grouped(calc.target.max_cells)) "." }
                    @if calc.lot.is_none() { div class="msg bad" role="alert" { "No released, unexpired lot has enough vials for this dose." } }
                }
                @if user.user.role == Role::Pharmacist && calc.lot.is_some() {
                    form class="card" method="post" action={ "/patients/" (id) "/dose" } {
                        h2 { "2 · Reserve the vials" }
                        input type="hidden" name="csrf" value=(user.csrf());
                        div class="actions" { button type="submit" { "Reserve vials" } }
                    }
                }
            }
            Err(error) => {
                div class="msg bad" role="alert" { (sentence(error, user.zone)) }
                p { a href={ "/patients/" (id) } { "Back to the patient" } }
            }
        }
    };
    shell("Dose worksheet", Some(&user), body).into_response()
}

pub async fn reserve(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<Uuid>,
    WebForm(form): WebForm<crate::web::session::CsrfOnly>,
) -> Response {
    if let Err(refused) = user.allow(&form.csrf, &[Role::Pharmacist]) {
        return refused.into_response();
    }
    match doses::order(&state, &user.user.actor(), id, None).await {
        Ok(dose) => redirect_with(
            &format!("/doses/{}", dose.dose.id),
            true,
            format!(
                "Dose {} ordered: {} vials reserved.",
                dose.dose.code,
                dose.vials.len()
            ),
        ),
        Err(error) => page::refused(&format!("/patients/{id}/dose"), &error, user.zone),
    }
}

/// Why a dose's counts failed, in words, from its stored code.
fn count_failure_words(code: &str) -> &'static str {
    match code {
        "viability_too_low" => "A vial's viability is below the protocol's minimum.",
        "implausible_count" => {
            "A count is implausible: its recovery is outside the protocol's range, or it is far from the other vials' counts. Check it (a slip of ten?): correct it, or confirm it with a reason."
        }
        "dose_out_of_range" => {
            "The counted cells do not give a volume that holds a dose in the accepted range."
        }
        "thawed_product_expired" => "The thawed product is past its shelf life.",
        "lot_expired" => "The lot has expired.",
        "lot_recalled" => "The lot has been recalled.",
        "stale_weight" => "The patient's weight is older than the protocol allows.",
        "weight_voided" => "The weight the dose was computed from has been voided.",
        _ => "The counts failed.",
    }
}

/// Steps 3 to 5: counts after thaw, the volume to draw, the signature.
pub async fn dose_page(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<Uuid>,
    flash: WebQuery<Flash>,
) -> Response {
    let WebQuery(flash) = flash;
    let record = match doses::get(&state, id).await {
        Ok(r) => r,
        Err(error) => return page::app_error(error),
    };
    let d = &record.dose;
    let pharmacist = user.user.role == Role::Pharmacist;
    // where to pick each vial from
    let mut places = Vec::with_capacity(record.vials.len());
    for v in &record.vials {
        places.push(match (v.box_id, &v.position) {
            (Some(box_id), Some(position)) => crate::services::storage::unit(&state, box_id)
                .await
                .ok()
                .map(|u| format!("{} › {position}", u.path)),
            _ => None,
        });
    }
    let reserved: Vec<_> = record
        .vials
        .iter()
        .filter(|v| v.status == "reserved")
        .collect();
    let thawed: Vec<_> = record
        .vials
        .iter()
        .filter(|v| v.status == "thawed")
        .collect();
    let counted_by_me = record
        .counts
        .iter()
        .any(|c| c.recorded_by == Some(user.user.user_id));
    let now = state.clock.now();
    let weight_valid_until = record.weight.measured_at
        + chrono::Duration::days(i64::from(record.rules.weight_valid_days));
    let code_of = |vial_id: Uuid| {
        record
            .vials
            .iter()
            .chain(record.removed.iter().map(|(v, _)| v))
            .find(|v| v.id == vial_id)
            .map(|v| v.code.clone())
            .unwrap_or_default()
    };
    let body = html! {
        h1 { "Dose " span class="code" { (d.code) } " " (pill(&d.status)) }
        (flash.render())
        p { "Patient " a href={ "/patients/" (d.patient_id) } { (record.subject_code) } " · infusion "
            (d.infusion_number) " of " (record.infusions_total) " · lot " a class="code" href={ "/lots/" (record.lot.id) } { (record.lot.code) }
            " " @if record.lot.status != "released" { (pill(&record.lot.status)) } " expires " strong { (user.date(record.lot.expires_at)) }
            @if record.lot.expires_at <= now { " " span class="pill bad" { "expired" } } }
        p { "Target " strong { (page::cells(d.target_cells)) } " viable cells (accepted " (crate::labels::grouped(d.min_cells)) " to " (crate::labels::grouped(d.max_cells)) ") for "
            strong { (kg_text(d.weight_g)) " kg" } ", weighed " (user.when(record.weight.measured_at))
            @if record.weight.voided_at.is_some() { " " span class="pill bad" { "weight voided" } }
            @else if weight_valid_until < now { " " span class="pill bad" { "weight too old" } }
            @else { span class="muted" { " (valid until " (user.when(weight_valid_until)) ")" } } "." }
        @if d.status == "count_failed" {
            div class="msg bad" role="alert" id="count-failed" {
                strong { "The counts do not make a dose. " }
                (count_failure_words(d.count_failure.as_deref().unwrap_or("")))
                " The vials are thawed and recorded: correct a mistyped count (signed), replace a failing vial, or cancel the dose (its thawed vials are discarded)."
            }
        }
        section class="card" {
            h2 { "Vials" }
            table {
                thead { tr { th { "Vial" } th { "Status" } th { "Where" } th class="num" { "Viable cells/mL" } th class="num" { "Viability" } th class="num" { "Recovery" } th { "Count" } } }
                tbody { @for (v, place) in record.vials.iter().zip(&places) {
                    @let count = record.current_count(v.id);
                    tr {
                        td class="code" { (v.code) }
                        td { (pill(&v.status)) }
                        td { @match place { Some(p) => (p), None => span class="muted" { "out of storage" } } }
                        td class="num" { @if let Some(c) = count { (crate::labels::grouped(c.viable_cells_per_ml)) } }
                        td class="num" { @if let Some(c) = count { (tenths_display(c.viability_tenths)) " %" } }
                        td class="num" { @if let Some(c) = count { @if let Some(r) = c.recovery_tenths { (r / 10) "." (r % 10) " %" } } }
                        td { @if let Some(c) = count {
                            @match c.failure.as_deref() {
                                Some("viability_too_low") => span class="pill bad" { "viability too low" },
                                Some("implausible_count") => span class="pill bad" { "implausible: check" },
                                Some(other) => span class="pill bad" { (other.replace('_', " ")) },
                                None => @if c.confirmed { span class="pill ok" title=(c.confirm_reason.clone().unwrap_or_default()) { "confirmed" } } @else { span class="pill ok" { "passes" } },
                            }
                        } }
                    }
                } }
            }
            @if !record.counts.is_empty() {
                details {
                    summary { "Every count recorded (" (record.counts.len()) ")" }
                    table {
                        thead { tr { th { "Recorded" } th { "Vial" } th class="num" { "Viable cells/mL" } th class="num" { "Viability" } th { "Note" } } }
                        tbody { @for c in &record.counts {
                            @let superseded = record.is_superseded(c.id);
                            tr {
                                td { (user.when(c.recorded_at)) }
                                td class="code" { (code_of(c.vial_id)) }
                                td class="num" { @if superseded { s { (crate::labels::grouped(c.viable_cells_per_ml)) } } @else { (crate::labels::grouped(c.viable_cells_per_ml)) } }
                                td class="num" { (tenths_display(c.viability_tenths)) " %" }
                                td {
                                    @if superseded { "corrected later · " }
                                    @if let Some(reason) = &c.correction_reason { "correction: " (reason) " · " }
                                    @if let Some(reason) = &c.confirm_reason { "confirmed: " (reason) " · " }
                                    @if let Some(f) = &c.failure { (f.replace('_', " ")) }
                                }
                            }
                        } }
                    }
                }
            }
            @if !record.removed.is_empty() {
                p class="muted" { "Replaced: " @for (v, reason) in &record.removed { span class="code" { (v.code) } " (" (reason) ") " } }
            }
        }
        @if pharmacist && !reserved.is_empty() && matches!(d.status.as_str(), "reserved" | "count_failed") {
            form class="card" method="post" action={ "/doses/" (d.id) "/thaw" } id="thaw" {
                h2 { "3 · Counts after thaw" }
                p class="muted" { "Recording the counts records the thaw: the vials leave the freezer for good and the " (record.rules.post_thaw_shelf_life_minutes / 60) "-hour clock starts." }
                input type="hidden" name="csrf" value=(user.csrf());
                input type="hidden" name="mode" value="count";
                @for (i, v) in reserved.iter().enumerate() {
                    fieldset {
                        legend class="code" { (v.code) }
                        input type="hidden" name={ "vial_" (i) } value=(v.id);
                        label { "Viable cells per mL" input name={ "cells_" (i) } inputmode="numeric" required placeholder="16000000"; }
                        label { "Viability %" input name={ "viability_" (i) } inputmode="decimal" required placeholder="91.5"; }
                    }
                }
                div class="actions" { button type="submit" { "Record counts" } }
            }
        }
        @if pharmacist && !thawed.is_empty() && matches!(d.status.as_str(), "count_failed" | "thawed") {
            details class="card" open[d.status == "count_failed"] {
                summary { "Correct or confirm a count (signed)" }
                form method="post" action={ "/doses/" (d.id) "/thaw" } id="correct" {
                    p class="muted" { "Fill in only the vials to correct. The recorded count stays on record, struck out." }
                    input type="hidden" name="csrf" value=(user.csrf());
                    input type="hidden" name="mode" value="correct";
                    @for (i, v) in thawed.iter().enumerate() {
                        @let count = record.current_count(v.id);
                        fieldset {
                            legend class="code" { (v.code) }
                            input type="hidden" name={ "vial_" (i) } value=(v.id);
                            label { "Viable cells per mL" input name={ "cells_" (i) } inputmode="numeric" placeholder=(count.map(|c| c.viable_cells_per_ml.to_string()).unwrap_or_default()); }
                            label { "Viability %" input name={ "viability_" (i) } inputmode="decimal" placeholder=(count.map(|c| tenths_display(c.viability_tenths)).unwrap_or_default()); }
                            label { input type="checkbox" name={ "confirm_" (i) } value="true"; " The count is unusual but right" }
                            label { "Why it is right" input name={ "reason_" (i) } placeholder="recounted twice, same result"; }
                        }
                    }
                    label { "Why the count is corrected" input name="correction_reason" required placeholder="10× slip when typing"; }
                    (page::signature_fields("count corrected"))
                    div class="actions" { button type="submit" { "Sign and record the count" } }
                }
            }
        }
        @if pharmacist && matches!(d.status.as_str(), "reserved" | "count_failed") {
            details class="card" {
                summary { "Replace a vial (signed)" }
                form method="post" action={ "/doses/" (d.id) "/replace-vial" } {
                    input type="hidden" name="csrf" value=(user.csrf());
                    label { "Vial to discard" select name="vial_id" { @for v in &record.vials { option value=(v.id) { (v.code) } } } }
                    label { "Why" input name="reason" required placeholder="viability 62 % on count"; }
                    (page::signature_fields("vial discarded"))
                    div class="actions" { button class="danger" type="submit" { "Discard and reserve another" } }
                }
            }
        }
        @if let (Some(volume), Some(cells)) = (d.volume_ul, d.cells_to_administer) {
            section class="card" {
                h2 { "4 · Volume to draw" }
                p class="big" id="volume" { (crate::labels::millilitres(volume)) }
                p { "holding " strong { (page::cells(cells)) } " viable cells (pooled " (crate::labels::grouped(d.concentration_cells_per_ml.unwrap_or_default())) " cells/mL)." }
                @if let (Some(thawed_at), Some(use_by)) = (d.thawed_at, record.use_by) {
                    p { "Thawed " (user.when(thawed_at)) ". " strong { "Use by " (user.when(use_by)) }
                        @if use_by < now { " " span class="pill bad" { "expired" } } }
                }
                a class="button secondary" href={ "/api/v1/doses/" (d.id) "/label.png" } { "Bag label" }
            }
        }
        @if d.status == "thawed" && pharmacist {
            @if counted_by_me && record.rules.independent_verification {
                div class="msg bad" role="status" { "You recorded this dose's counts: another pharmacist verifies it." }
            } @else {
                form class="card" method="post" action={ "/doses/" (d.id) "/verify" } {
                    h2 { "5 · Verify and sign" }
                    input type="hidden" name="csrf" value=(user.csrf());
                    (page::signature_fields("dose verified"))
                    div class="actions" { button type="submit" { "Sign and verify" } }
                }
            }
        }
        @if matches!(d.status.as_str(), "verified" | "infusing") {
            div class="actions" { a class="button" href={ "/doses/" (d.id) "/bedside" } { "Bedside check" } }
        }
        @if pharmacist && matches!(d.status.as_str(), "reserved" | "count_failed" | "thawed" | "verified") {
            details class="card" {
                summary { "Cancel this dose" }
                form method="post" action={ "/doses/" (d.id) "/cancel" } {
                    input type="hidden" name="csrf" value=(user.csrf());
                    p class="muted" { "Reserved vials go back to stock; thawed vials are discarded." }
                    label for="cancel-reason" { "Reason" }
                    input id="cancel-reason" name="reason" required;
                    div class="actions" { button class="danger" type="submit" { "Cancel dose" } }
                }
            }
        }
    };
    shell(&format!("Dose {}", d.code), Some(&user), body).into_response()
}

/// The counts form: `vial_N`, `cells_N`, `viability_N` (and `confirm_N`,
/// `reason_N`) for each vial; `mode` is `count` (the first counts of
/// reserved vials) or `correct` (signed corrections of recorded counts,
/// only the vials filled in).
pub async fn thaw(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<Uuid>,
    WebForm(form): WebForm<Vec<(String, String)>>,
) -> Response {
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    if let Err(refused) = user.allow(field("csrf").unwrap_or(""), &[Role::Pharmacist]) {
        return refused.into_response();
    }
    let back = format!("/doses/{id}");
    let correcting = field("mode") == Some("correct");
    let mut counts = Vec::new();
    for i in 0.. {
        let Some(vial) = field(&format!("vial_{i}")) else {
            break;
        };
        let cells = field(&format!("cells_{i}")).unwrap_or("").trim();
        let viability = field(&format!("viability_{i}")).unwrap_or("").trim();
        if correcting && cells.is_empty() && viability.is_empty() {
            continue;
        }
        let parsed = (
            vial.parse::<Uuid>().ok(),
            cells
                .replace([' ', ',', '\u{2009}'], "")
                .parse::<i64>()
                .ok(),
            parse_viability(viability),
        );
        match parsed {
            (Some(vial_id), Some(viable_cells_per_ml), Some(viability_tenths)) => {
                let reason = field(&format!("reason_{i}"))
                    .map(str::trim)
                    .filter(|r| !r.is_empty())
                    .map(str::to_owned);
                counts.push(VialCount {
                    vial_id,
                    viable_cells_per_ml,
                    viability_tenths,
                    viability_text: viability.to_owned(),
                    confirm: field(&format!("confirm_{i}")) == Some("true"),
                    reason,
                })
            }
            _ => {
                return redirect_with(
                    &back,
                    false,
                    "Each vial needs its viable cells per mL (a whole number) and its viability (a percentage from 0 to 100).",
                );
            }
        }
    }
    let correction = if correcting {
        if counts.is_empty() {
            return redirect_with(
                &back,
                false,
                "Fill in the count of at least one vial to correct.",
            );
        }
        let (password, meaning) = (field("password"), field("meaning"));
        let signed = user
            .sign(
                &state,
                password.unwrap_or("").to_owned(),
                meaning.unwrap_or("").to_owned(),
            )
            .await;
        match signed {
            Ok(signature) => Some((
                signature,
                field("correction_reason").unwrap_or("").to_owned(),
            )),
            Err(error) => return page::refused(&back, &error, user.zone),
        }
    } else {
        None
    };
    let outcome = doses::thaw(
        &state,
        &user.user.actor(),
        id,
        Counting {
            counts,
            thawed_at: None,
            correction,
        },
    )
    .await;
    match outcome {
        Ok(record) => redirect_with(
            &back,
            true,
            format!(
                "Counts recorded: draw {}.",
                crate::labels::millilitres(record.dose.volume_ul.unwrap_or_default())
            ),
        ),
        Err(error) => page::refused(&back, &error, user.zone),
    }
}

#[derive(Debug, Deserialize)]
pub struct ReplaceForm {
    pub csrf: String,
    pub vial_id: Uuid,
    pub reason: String,
    pub password: String,
    pub meaning: String,
}

pub async fn replace_vial(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<Uuid>,
    WebForm(form): WebForm<ReplaceForm>,
) -> Response {
    if let Err(refused) = user.allow(&form.csrf, &[Role::Pharmacist]) {
        return refused.into_response();
    }
    let back = format!("/doses/{id}");
    let outcome = match user.sign(&state, form.password, form.meaning).await {
        Ok(signature) => {
            doses::replace_vial(&state, &signature, id, form.vial_id, &form.reason).await
        }
        Err(error) => Err(error),
    };
    match outcome {
        Ok(record) => redirect_with(
            &back,
            true,
            format!(
                "Vial discarded; {} reserved in its place.",
                record
                    .vials
                    .iter()
                    .find(|v| v.status == "reserved")
                    .map_or("another", |v| v.code.as_str())
            ),
        ),
        Err(error) => page::refused(&back, &error, user.zone),
    }
}

#[derive(Debug, Deserialize)]
pub struct SignForm {
    pub csrf: String,
    pub password: String,
    pub meaning: String,
}

pub async fn verify(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<Uuid>,
    WebForm(form): WebForm<SignForm>,
) -> Response {
    if let Err(refused) = user.allow(&form.csrf, &[Role::Pharmacist]) {
        return refused.into_response();
    }
    let back = format!("/doses/{id}");
    let outcome = match user.sign(&state, form.password, form.meaning).await {
        Ok(signature) => doses::verify(&state, &signature, id).await,
        Err(error) => Err(error),
    };
    match outcome {
        Ok(_) => redirect_with(&back, true, "Dose verified and signed."),
        Err(error) => page::refused(&back, &error, user.zone),
    }
}

#[derive(Debug, Deserialize)]
pub struct CancelForm {
    pub csrf: String,
    pub reason: String,
}

pub async fn cancel(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<Uuid>,
    WebForm(form): WebForm<CancelForm>,
) -> Response {
    if let Err(refused) = user.allow(&form.csrf, &[Role::Pharmacist]) {
        return refused.into_response();
    }
    let back = format!("/doses/{id}");
    match doses::cancel(&state, &user.user.actor(), id, &form.reason).await {
        Ok(record) => {
            let discarded = record
                .vials
                .iter()
                .filter(|v| v.status == "discarded")
                .count();
            redirect_with(
                &back,
                true,
                if discarded > 0 {
                    format!(
                        "Dose cancelled; its {discarded} thawed vials are recorded as discarded: destroy them."
                    )
                } else {
                    "Dose cancelled; its vials are back in stock.".to_owned()
                },
            )
        }
        Err(error) => page::refused(&back, &error, user.zone),
    }
}

pub const BEDSIDE: &str = r#"
(function(){
  var p=document.getElementById('patient_scan'),b=document.getElementById('product_scan');
  if(!p)return;
  (p.value?b:p).focus();
  p.addEventListener('keydown',function(e){if(e.key==='Enter'){e.preventDefault();b.focus();}});
})();
"#;

/// A volume that needs its confirmation at the bedside: what was typed.
struct VolumeToConfirm {
    millilitres: String,
    message: String,
}

fn bedside_body(
    user: &WebUser,
    record: &DoseRecord,
    flash: &Flash,
    mismatch: Option<&Markup>,
    volume: Option<&VolumeToConfirm>,
) -> Markup {
    let d = &record.dose;
    let clinician = user.user.role == Role::Clinician;
    html! {
        h1 { "Bedside check · " span class="code" { (record.subject_code) } }
        (flash.render())
        @if let Some(m) = mismatch { (m) }
        p { "Dose " span class="code" { (d.code) } " " (pill(&d.status)) " · infusion " (d.infusion_number) " of " (record.infusions_total)
            @if let Some(v) = d.volume_ul { " · give " strong { (crate::labels::millilitres(v)) } }
            @if let Some(u) = record.use_by { " · use by " strong { (user.when(u)) } } }
        @if d.status == "verified" && clinician {
            form class="card" method="post" action={ "/doses/" (d.id) "/bedside" } {
                input type="hidden" name="csrf" value=(user.csrf());
                label for="patient_scan" { "1 · Scan the patient's wristband" }
                input id="patient_scan" class="scanbox code" name="patient_scan" autocomplete="off" required;
                label for="product_scan" { "2 · Scan the dose bag's label" }
                input id="product_scan" class="scanbox code" name="product_scan" autocomplete="off" required;
                div class="actions" { button type="submit" { "Check and start the infusion" } }
            }
            details class="card" {
                summary { "Infusion given during an outage? Record a late entry (signed)" }
                form method="post" action={ "/doses/" (d.id) "/late-entry" } {
                    input type="hidden" name="csrf" value=(user.csrf());
                    p class="muted" { "For an infusion already given while celltrail could not be reached. It is judged against the time you give (shelf life, lot expiry, weight) and marked as a late entry everywhere." }
                    label { "Started (site time, " (user.zone.name()) ")" input type="datetime-local" name="started_at" required; }
                    label { "Why it is recorded late" input name="reason" required placeholder="network outage 09:00-11:30"; }
                    label { "Scan the patient's wristband" input class="code" name="patient_scan" autocomplete="off" required; }
                    label { "Scan the dose bag's label" input class="code" name="product_scan" autocomplete="off" required; }
                    (page::signature_fields("late entry of an infusion given"))
                    div class="actions" { button type="submit" { "Sign and record the late entry" } }
                }
            }
        }
        @if d.status == "infusing" && clinician {
            @if let Some(infusion) = &record.infusion {
                div class="match ok" role="status" { "✓ Wristband and bag match: infusion started " (user.when(infusion.started_at))
                    @if infusion.late_entry { " (late entry)" } }
                form class="card" method="post" action={ "/infusions/" (infusion.id) "/complete" } {
                    h2 { "Record the end of the infusion" }
                    input type="hidden" name="csrf" value=(user.csrf());
                    @if let Some(v) = volume {
                        div class="msg bad" role="alert" id="confirm-volume" {
                            p { strong { (v.message) } }
                            label { input type="checkbox" name="confirm_volume" value="true" required; " " (v.millilitres) " mL is right" }
                            label { "Why" input name="volume_reason" required placeholder="infusion stopped early for a reaction"; }
                        }
                    }
                    label for="volume" { "Volume infused (mL, as on the bag)" }
                    input id="volume" name="volume_ml" inputmode="decimal" required style="max-width:10rem"
                        value=(volume.map(|v| v.millilitres.clone()).unwrap_or_else(|| millilitres_number(d.volume_ul.unwrap_or_default())));
                    fieldset {
                        legend { "Adverse event (if any)" }
                        label { "Term" input name="ae_term" placeholder="e.g. Infusion related reaction"; }
                        label { "Grade (1-5)" input name="ae_grade" inputmode="numeric" style="max-width:6rem"; }
                    }
                    div class="actions" { button type="submit" { "Record infusion" } }
                }
            }
        }
        script src="/assets/bedside.js" {}
    }
}

/// µL as a number of mL without the unit: `4400` → `4.4`.
fn millilitres_number(ul: i64) -> String {
    crate::labels::millilitres(ul)
        .trim_end_matches(" mL")
        .to_owned()
}

pub async fn bedside(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<Uuid>,
    flash: WebQuery<Flash>,
) -> Response {
    let WebQuery(flash) = flash;
    match doses::get(&state, id).await {
        Ok(record) => shell(
            "Bedside",
            Some(&user),
            bedside_body(&user, &record, &flash, None, None),
        )
        .into_response(),
        Err(error) => page::app_error(error),
    }
}

#[derive(Debug, Deserialize)]
pub struct BedsideForm {
    pub csrf: String,
    pub patient_scan: String,
    pub product_scan: String,
}

/// A refused bedside check as a red banner over the page.
async fn bedside_refusal(state: &AppState, user: &WebUser, id: Uuid, error: AppError) -> Response {
    let record = match doses::get(state, id).await {
        Ok(r) => r,
        Err(e) => return page::app_error(e),
    };
    let details = if let AppError::IdentityMismatch(list) = &error {
        html! { ul { @for m in list {
        li { (if m.scan == "patient_scan" { "Wristband" } else { "Bag label" }) ": "
            (match m.problem { "wrong_record" => "another record's label", "wrong_kind" => "not this kind of label", "not_scanned" => "typed by hand, not scanned", _ => "could not be read" })
            " (expected " span class="code" { (m.expected) } @if let Some(f) = &m.found { ", read " span class="code" { (f) } } ")" } } } }
    } else {
        html! {}
    };
    let banner = html! {
        div class="match bad" role="alert" id="mismatch" {
            "✕ STOP: " (sentence(&error, user.zone))
            (details)
            p { "Nothing was infused." @if matches!(error, AppError::IdentityMismatch(_)) { " The mismatch is recorded." } }
        }
    };
    let status = error.status();
    (
        status,
        shell(
            "Bedside",
            Some(user),
            bedside_body(user, &record, &Flash::default(), Some(&banner), None),
        ),
    )
        .into_response()
}

pub async fn bedside_check(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<Uuid>,
    WebForm(form): WebForm<BedsideForm>,
) -> Response {
    if let Err(refused) = user.allow(&form.csrf, &[Role::Clinician]) {
        return refused.into_response();
    }
    let now = state.clock.now();
    let outcome = infusions::start(
        &state,
        &user.user.actor(),
        infusions::Start {
            dose_id: id,
            patient_scan: &form.patient_scan,
            product_scan: &form.product_scan,
            started_at: now,
            late_entry: None,
        },
    )
    .await;
    match outcome {
        Ok(_) => see_other(&format!("/doses/{id}/bedside")),
        Err(error) => bedside_refusal(&state, &user, id, error).await,
    }
}

#[derive(Debug, Deserialize)]
pub struct LateEntryForm {
    pub csrf: String,
    pub started_at: String,
    pub reason: String,
    pub patient_scan: String,
    pub product_scan: String,
    pub password: String,
    pub meaning: String,
}

pub async fn late_entry(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<Uuid>,
    WebForm(form): WebForm<LateEntryForm>,
) -> Response {
    if let Err(refused) = user.allow(&form.csrf, &[Role::Clinician]) {
        return refused.into_response();
    }
    let back = format!("/doses/{id}/bedside");
    let started_at = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(form.started_at.trim(), f).ok())
        .and_then(|local| user.zone.from_local(local));
    let Some(started_at) = started_at else {
        return redirect_with(
            &back,
            false,
            "Give the date and time the infusion started, in the site's time.",
        );
    };
    let signature = match user.sign(&state, form.password, form.meaning).await {
        Ok(s) => s,
        Err(error) => return page::refused(&back, &error, user.zone),
    };
    let outcome = infusions::start(
        &state,
        &user.user.actor(),
        infusions::Start {
            dose_id: id,
            patient_scan: &form.patient_scan,
            product_scan: &form.product_scan,
            started_at,
            late_entry: Some((signature, form.reason)),
        },
    )
    .await;
    match outcome {
        Ok(_) => redirect_with(
            &back,
            true,
            format!(
                "Late entry recorded: infusion started {}. Record its end below.",
                user.when(started_at)
            ),
        ),
        Err(error) => bedside_refusal(&state, &user, id, error).await,
    }
}

#[derive(Debug, Deserialize)]
pub struct CompleteForm {
    pub csrf: String,
    pub volume_ml: String,
    #[serde(default)]
    pub confirm_volume: bool,
    #[serde(default)]
    pub volume_reason: String,
    #[serde(default)]
    pub ae_term: String,
    #[serde(default)]
    pub ae_grade: String,
}

pub async fn complete(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<Uuid>,
    WebForm(form): WebForm<CompleteForm>,
) -> Response {
    if let Err(refused) = user.allow(&form.csrf, &[Role::Clinician]) {
        return refused.into_response();
    }
    let infusion = match infusions::get(&state, id).await {
        Ok(i) => i,
        Err(error) => return page::app_error(error),
    };
    let dose_id = infusion.dose.dose.id;
    let back = format!("/doses/{dose_id}/bedside");
    let Some(volume) = parse_millilitres(form.volume_ml.trim()) else {
        return redirect_with(
            &back,
            false,
            "Give the volume infused in mL, as on the bag (for example 4.4).",
        );
    };
    let now = state.clock.now();
    let mut events = Vec::new();
    if !form.ae_term.trim().is_empty() {
        let Ok(grade) = form.ae_grade.trim().parse::<i32>() else {
            return redirect_with(&back, false, "An adverse event needs its grade, 1 to 5.");
        };
        events.push(infusions::NewAdverseEvent {
            term: form.ae_term.clone(),
            grade,
            onset_at: now,
        });
    }
    let outcome = infusions::complete(
        &state,
        &user.user.actor(),
        id,
        infusions::Completion {
            ended_at: now,
            volume_infused_ul: volume,
            confirm_volume: form.confirm_volume,
            volume_reason: Some(form.volume_reason.as_str()),
            adverse_events: &events,
        },
    )
    .await;
    match outcome {
        Ok(done) => redirect_with(
            &format!("/patients/{}", done.infusion.patient_id),
            true,
            format!(
                "Infusion {} recorded: {} given.",
                done.infusion.infusion_number,
                crate::labels::millilitres(volume)
            ),
        ),
        Err(AppError::VolumeUnconfirmed {
            volume_infused_ul,
            volume_prepared_ul,
            tolerance_pct,
        }) => {
            let record = match doses::get(&state, dose_id).await {
                Ok(r) => r,
                Err(error) => return page::app_error(error),
            };
            let confirm = VolumeToConfirm {
                millilitres: form.volume_ml.trim().to_owned(),
                message: format!(
                    "{} is not what the bag holds ({}; more than {tolerance_pct} % apart). Check the number: the bag is labelled in mL. If it is right, say why and confirm.",
                    crate::labels::millilitres(volume_infused_ul),
                    crate::labels::millilitres(volume_prepared_ul)
                ),
            };
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                shell(
                    "Bedside",
                    Some(&user),
                    bedside_body(&user, &record, &Flash::default(), None, Some(&confirm)),
                ),
            )
                .into_response()
        }
        Err(error) => page::refused(&back, &error, user.zone),
    }
}
