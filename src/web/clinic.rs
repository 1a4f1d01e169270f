//! Patients, the pharmacist's dose worksheet (weight and calculation step by
//! step → reserve → post-thaw counts → the volume to draw in large type →
//! signature) and the bedside page (scan the wristband, scan the bag, a
//! match in green or a mismatch in red, then record).

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use chrono::Duration;
use maud::{Markup, PreEscaped, html};
use serde::Deserialize;
use uuid::Uuid;

use crate::domain::accounts::Role;
use crate::domain::dose::{WeightUnit, parse_viability};
use crate::domain::patient::tenths_display;
use crate::services::doses::{self, CalculationInput, VialCount};
use crate::services::{assessments, infusions, patients, protocol, signatures};
use crate::state::AppState;
use crate::web::page::{
    self, Flash, WebForm, WebQuery, date, pill, redirect_with, see_other, shell, when,
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
                tr { td { a class="code" href={ "/patients/" (p.id) } { (p.subject_code) } } td { (date(p.enrolled_at)) } }
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
    let record = match patients::get(&state, id).await {
        Ok(r) => r,
        Err(error) => return page::app_error(error),
    };
    let rules = match protocol::current(state.db.conn()).await {
        Ok(p) => p.protocol,
        Err(error) => return page::app_error(error),
    };
    let scored = assessments::of_patient(state.db.conn(), id)
        .await
        .unwrap_or_default();
    let p = &record.patient;
    let first = record.infusions.iter().map(|i| i.started_at).min();
    let closes = first.map(|f| f + Duration::days(i64::from(rules.window_days)));
    let open = record.doses.iter().find(|d| {
        matches!(
            d.status.as_str(),
            "reserved" | "thawed" | "verified" | "infusing"
        )
    });
    let role = user.user.role;
    let body = html! {
        h1 { "Patient " span class="code" { (p.subject_code) } }
        (flash.render())
        div class="actions" {
            a class="button secondary" href={ "/api/v1/patients/" (p.id) "/wristband.png" } { "Wristband label" }
            @if role == Role::Pharmacist && open.is_none() { a class="button" href={ "/patients/" (p.id) "/dose" } { "Dose worksheet" } }
            @if let Some(d) = open {
                @if role == Role::Pharmacist { a class="button" href={ "/doses/" (d.id) } { "Open dose " (d.code) } }
                @if role == Role::Clinician { a class="button" href={ "/doses/" (d.id) "/bedside" } { "Bedside check " (d.code) } }
            }
            a class="button secondary" href={ "/api/v1/trace/patients/" (p.id) "?format=csv" } { "Trace CSV" }
        }
        div class="grid" {
            section class="card" {
                h2 { "Infusion schedule" }
                p { (record.infusions.len()) " of " (rules.infusions) " infusions given."
                    @if let Some(c) = closes { " The " (rules.window_days) "-day window closes " (date(c)) "." } }
                table {
                    thead { tr { th { "#" } th { "Started" } th { "Status" } th { "Day" } } }
                    tbody { @for i in &record.infusions {
                        tr {
                            td class="num" { (i.infusion_number) }
                            td { (when(i.started_at)) }
                            td { (pill(&i.status)) }
                            td class="num" { @if let Some(f) = first { (i.started_at.signed_duration_since(f).num_days()) } }
                        }
                    } }
                }
            }
            section class="card" {
                h2 { "Weights" }
                table {
                    thead { tr { th { "Measured" } th class="num" { "Grams" } th { "Entered" } } }
                    tbody { @for w in record.weights.iter().take(8) {
                        tr { td { (when(w.measured_at)) } td class="num" { (w.weight_g) } td { (w.value) " " (w.unit) } }
                    } }
                }
                @if role == Role::Clinician {
                    form method="post" action={ "/patients/" (p.id) "/weights" } {
                        input type="hidden" name="csrf" value=(user.csrf());
                        label for="value" { "New weight" }
                        input id="value" name="value" inputmode="decimal" required style="max-width:10rem";
                        select name="unit" aria-label="unit" style="max-width:6rem" { option value="kg" { "kg" } option value="lb" { "lb" } }
                        label { input type="checkbox" name="confirm_change" value="true" style="width:auto"; " confirm a change of more than " (rules.weight_change_confirm_pct) " %" }
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
                            td { (when(a.assessed_at)) }
                            td { (a.kind.to_uppercase()) }
                            td class="num" { @if a.kind == "pasi" { (tenths_display(a.score)) } @else { (a.score) } }
                        }
                    } }
                }
            }
        }
    };
    shell(&format!("Patient {}", p.subject_code), Some(&user), body).into_response()
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
        Ok(w) => redirect_with(&back, true, format!("Weight recorded: {} g.", w.weight_g)),
        Err(error) => redirect_with(&back, false, error),
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
                div class="msg bad" role="alert" { (error.to_string()) }
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
        Err(error) => redirect_with(&format!("/patients/{id}/dose"), false, error),
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
    let body = html! {
        h1 { "Dose " span class="code" { (d.code) } " " (pill(&d.status)) }
        (flash.render())
        p { "Patient " a href={ "/patients/" (d.patient_id) } { (record.subject_code) } " · infusion "
            (d.infusion_number) " of " (record.infusions_total) " · lot " a class="code" href={ "/lots/" (record.lot.id) } { (record.lot.code) } }
        p { "Target " strong { (page::cells(d.target_cells)) } " viable cells (accepted " (crate::labels::grouped(d.min_cells)) " to " (crate::labels::grouped(d.max_cells)) ") for " (crate::labels::grouped(d.weight_g)) " g." }
        section class="card" {
            h2 { "Vials" }
            table {
                thead { tr { th { "Vial" } th { "Status" } th { "Where" } } }
                tbody { @for (v, place) in record.vials.iter().zip(&places) {
                    tr { td class="code" { (v.code) } td { (pill(&v.status)) } td { @match place { Some(p) => (p), None => span class="muted" { "out of storage" } } } }
                } }
            }
        }
        @if d.status == "reserved" && pharmacist {
            form class="card" method="post" action={ "/doses/" (d.id) "/thaw" } id="thaw" {
                h2 { "3 · Counts after thaw" }
                input type="hidden" name="csrf" value=(user.csrf());
                @for (i, v) in record.vials.iter().enumerate() {
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
        @if let (Some(volume), Some(cells)) = (d.volume_ul, d.cells_to_administer) {
            section class="card" {
                h2 { "4 · Volume to draw" }
                p class="big" id="volume" { (crate::labels::millilitres(volume)) }
                p { "holding " strong { (page::cells(cells)) } " viable cells (pooled " (crate::labels::grouped(d.concentration_cells_per_ml.unwrap_or_default())) " cells/mL)." }
                @if let Some(use_by) = record.use_by { p { "Thawed " (when(d.thawed_at.unwrap_or(use_by))) ". " strong { "Use by " (when(use_by)) } } }
                a class="button secondary" href={ "/api/v1/doses/" (d.id) "/label.png" } { "Bag label" }
            }
        }
        @if d.status == "thawed" && pharmacist {
            form class="card" method="post" action={ "/doses/" (d.id) "/verify" } {
                h2 { "5 · Verify and sign" }
                input type="hidden" name="csrf" value=(user.csrf());
                (page::signature_fields("dose verified"))
                div class="actions" { button type="submit" { "Sign and verify" } }
            }
        }
        @if matches!(d.status.as_str(), "verified" | "infusing") {
            div class="actions" { a class="button" href={ "/doses/" (d.id) "/bedside" } { "Bedside check" } }
        }
        @if pharmacist && matches!(d.status.as_str(), "reserved" | "thawed" | "verified") {
            details class="card" {
                summary { "Cancel this dose" }
                form method="post" action={ "/doses/" (d.id) "/cancel" } {
                    input type="hidden" name="csrf" value=(user.csrf());
                    label for="cancel-reason" { "Reason" }
                    input id="cancel-reason" name="reason" required;
                    div class="actions" { button class="danger" type="submit" { "Cancel dose" } }
                }
            }
        }
    };
    shell(&format!("Dose {}", d.code), Some(&user), body).into_response()
}

/// The counts form: `vial_N`, `cells_N`, `viability_N` for each vial.
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
    let mut counts = Vec::new();
    for i in 0.. {
        let Some(vial) = field(&format!("vial_{i}")) else {
            break;
        };
        let parsed = (
            vial.parse::<Uuid>().ok(),
            field(&format!("cells_{i}"))
                .and_then(|c| c.trim().replace([' ', ','], "").parse::<i64>().ok()),
            field(&format!("viability_{i}")).and_then(parse_viability),
        );
        match parsed {
            (Some(vial_id), Some(viable_cells_per_ml), Some(viability_tenths)) => {
                counts.push(VialCount {
                    vial_id,
                    viable_cells_per_ml,
                    viability_tenths,
                })
            }
            _ => {
                return redirect_with(
                    &back,
                    false,
                    "Each vial needs its viable cells per mL (a whole number) and its viability (a percentage with at most one decimal).",
                );
            }
        }
    }
    let now = state.clock.now();
    match doses::thaw(&state, &user.user.actor(), id, &counts, now).await {
        Ok(record) => redirect_with(
            &back,
            true,
            format!(
                "Counts recorded: draw {}.",
                crate::labels::millilitres(record.dose.volume_ul.unwrap_or_default())
            ),
        ),
        Err(error) => redirect_with(&back, false, error),
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
    let input = signatures::SignatureInput {
        password: form.password,
        meaning: form.meaning,
    };
    let outcome = match signatures::verify(&state, &user.user, &input).await {
        Ok(signature) => doses::verify(&state, &signature, id).await,
        Err(error) => Err(error),
    };
    match outcome {
        Ok(_) => redirect_with(&back, true, "Dose verified and signed."),
        Err(error) => redirect_with(&back, false, error),
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
        Ok(_) => redirect_with(&back, true, "Dose cancelled."),
        Err(error) => redirect_with(&back, false, error),
    }
}

const BEDSIDE: &str = r#"
(function(){
  var p=document.getElementById('patient_scan'),b=document.getElementById('product_scan');
  if(!p)return;
  (p.value?b:p).focus();
  p.addEventListener('keydown',function(e){if(e.key==='Enter'){e.preventDefault();b.focus();}});
})();
"#;

fn bedside_body(
    user: &WebUser,
    record: &doses::DoseRecord,
    flash: &Flash,
    mismatch: Option<&Markup>,
) -> Markup {
    let d = &record.dose;
    html! {
        h1 { "Bedside check · " span class="code" { (record.subject_code) } }
        (flash.render())
        @if let Some(m) = mismatch { (m) }
        p { "Dose " span class="code" { (d.code) } " " (pill(&d.status)) " · infusion " (d.infusion_number) " of " (record.infusions_total)
            @if let Some(v) = d.volume_ul { " · give " strong { (crate::labels::millilitres(v)) } }
            @if let Some(u) = record.use_by { " · use by " strong { (when(u)) } } }
        @if d.status == "verified" && user.user.role == Role::Clinician {
            form class="card" method="post" action={ "/doses/" (d.id) "/bedside" } {
                input type="hidden" name="csrf" value=(user.csrf());
                label for="patient_scan" { "1 · Scan the patient's wristband" }
                input id="patient_scan" class="scanbox code" name="patient_scan" autocomplete="off" required;
                label for="product_scan" { "2 · Scan the dose bag's label" }
                input id="product_scan" class="scanbox code" name="product_scan" autocomplete="off" required;
                div class="actions" { button type="submit" { "Check and start the infusion" } }
            }
        }
        @if d.status == "infusing" && user.user.role == Role::Clinician {
            @if let Some(infusion) = &record.infusion {
                div class="match ok" role="status" { "✓ Wristband and bag match: infusion started " (when(infusion.started_at)) }
                form class="card" method="post" action={ "/infusions/" (infusion.id) "/complete" } {
                    h2 { "Record the end of the infusion" }
                    input type="hidden" name="csrf" value=(user.csrf());
                    label for="volume" { "Volume infused (µL)" }
                    input id="volume" name="volume_infused_ul" inputmode="numeric" required value=(d.volume_ul.unwrap_or_default());
                    fieldset {
                        legend { "Adverse event (if any)" }
                        label { "Term" input name="ae_term" placeholder="e.g. Infusion related reaction"; }
                        label { "Grade (1-5)" input name="ae_grade" inputmode="numeric" style="max-width:6rem"; }
                    }
                    div class="actions" { button type="submit" { "Record infusion" } }
                }
            }
        }
        script { (PreEscaped(BEDSIDE)) }
    }
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
            bedside_body(&user, &record, &flash, None),
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
        id,
        &form.patient_scan,
        &form.product_scan,
        now,
    )
    .await;
    match outcome {
        Ok(_) => see_other(&format!("/doses/{id}/bedside")),
        Err(error) => {
            let record = match doses::get(&state, id).await {
                Ok(r) => r,
                Err(e) => return page::app_error(e),
            };
            let details = if let crate::error::AppError::IdentityMismatch(list) = &error {
                html! { ul { @for m in list { li { (m.scan.replace('_', " ")) ": " (m.problem.replace('_', " "))
                " (expected " span class="code" { (m.expected) } @if let Some(f) = &m.found { ", read " span class="code" { (f) } } ")" } } } }
            } else {
                html! {}
            };
            let banner = html! {
                div class="match bad" role="alert" id="mismatch" {
                    "✕ STOP: " (error.to_string())
                    (details)
                    p { "Nothing was infused. The mismatch is recorded." }
                }
            };
            let status = error.status();
            (
                status,
                shell(
                    "Bedside",
                    Some(&user),
                    bedside_body(&user, &record, &Flash::default(), Some(&banner)),
                ),
            )
                .into_response()
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct CompleteForm {
    pub csrf: String,
    pub volume_infused_ul: String,
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
    let back = format!("/doses/{}/bedside", infusion.dose.dose.id);
    let Ok(volume) = form.volume_infused_ul.trim().parse::<i64>() else {
        return redirect_with(&back, false, "The volume infused is a whole number of µL.");
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
    match infusions::complete(&state, &user.user.actor(), id, now, volume, &events).await {
        Ok(done) => redirect_with(
            &format!("/patients/{}", done.infusion.patient_id),
            true,
            format!("Infusion {} recorded.", done.infusion.infusion_number),
        ),
        Err(error) => redirect_with(&back, false, error),
    }
}
