//! `/doses/{id}/bedside`: the clinician's check before an infusion. Scan
//! the wristband, scan the bag: a match in green starts the infusion, a
//! mismatch in red stops it (and is recorded); then the volume given in mL,
//! as the bag says, and any adverse event. An infusion given during an
//! outage is recorded late, under signature.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;
use uuid::Uuid;

use crate::domain::accounts::Role;
use crate::domain::dose::parse_millilitres;
use crate::domain::lifecycle::DoseStatus;
use crate::error::AppError;
use crate::i18n::{arg, t, t_with};
use crate::services::doses::{self, DoseRecord};
use crate::services::infusions;
use crate::state::AppState;
use crate::web::error::{PageError, sentence};
use crate::web::extract::{CsrfForm, PageUser, WebQuery, carries_csrf, roles};
use crate::web::page::{self, Flash, pill, redirect_with, see_other, signature_fields};
use crate::web::user::WebUser;

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

fn bedside_view(
    user: &WebUser,
    record: &DoseRecord,
    flash: &Flash,
    mismatch: Option<&Markup>,
    volume: Option<&VolumeToConfirm>,
) -> Markup {
    let d = &record.dose;
    let clinician = user.user.role == Role::Clinician;
    html! {
        h1 { (t("bedside-heading")) " · " span class="code" { (record.subject_code) } }
        (flash.render())
        @if let Some(m) = mismatch { (m) }
        p { (t("bedside-dose")) " " span class="code" { (d.code) } " " (pill(d.status)) " · "
            (t_with("bedside-infusion-of", &[("number", arg(d.infusion_number)), ("total", arg(record.infusions_total))]))
            @if let Some(v) = d.volume_ul { " · " (t("bedside-give")) " " strong { (crate::domain::units::millilitres(v)) } }
            @if let Some(u) = record.use_by { " · " (t("bedside-use-by")) " " strong { (user.when(u)) } } }
        @if d.status == DoseStatus::Verified && clinician {
            form class="card" method="post" action={ "/doses/" (d.id) "/bedside" } {
                input type="hidden" name="csrf" value=(user.csrf());
                label for="patient_scan" { "1 · " (t("bedside-scan-wristband")) }
                input id="patient_scan" class="scanbox code" name="patient_scan" autocomplete="off" required;
                label for="product_scan" { "2 · " (t("bedside-scan-bag")) }
                input id="product_scan" class="scanbox code" name="product_scan" autocomplete="off" required;
                div class="actions" { button type="submit" { (t("bedside-check-start")) } }
            }
            details class="card" {
                summary { (t("bedside-late-summary")) }
                form method="post" action={ "/doses/" (d.id) "/late-entry" } {
                    input type="hidden" name="csrf" value=(user.csrf());
                    p class="muted" { (t("bedside-late-hint")) }
                    label { (t_with("bedside-late-started", &[("zone", arg(user.zone.name()))])) input type="datetime-local" name="started_at" required; }
                    label { (t("bedside-late-why")) input name="reason" required placeholder=(t("bedside-late-why-placeholder")); }
                    label { (t("bedside-scan-wristband")) input class="code" name="patient_scan" autocomplete="off" required; }
                    label { (t("bedside-scan-bag")) input class="code" name="product_scan" autocomplete="off" required; }
                    (signature_fields("late entry of an infusion given"))
                    div class="actions" { button type="submit" { (t("bedside-late-button")) } }
                }
            }
        }
        @if d.status == DoseStatus::Infusing && clinician {
            @if let Some(infusion) = &record.infusion {
                div class="match ok" role="status" { "✓ " (t_with("bedside-match", &[("when", arg(user.when(infusion.started_at)))]))
                    @if infusion.late_entry { " " (t("bedside-late-entry")) } }
                form class="card" method="post" action={ "/infusions/" (infusion.id) "/complete" } {
                    h2 { (t("bedside-end-heading")) }
                    input type="hidden" name="csrf" value=(user.csrf());
                    @if let Some(v) = volume {
                        div class="msg bad" role="alert" id="confirm-volume" {
                            p { strong { (v.message) } }
                            label { input type="checkbox" name="confirm_volume" value="true" required; " " (t_with("bedside-volume-right", &[("ml", arg(&v.millilitres))])) }
                            label { (t("bedside-volume-why")) input name="volume_reason" required placeholder=(t("bedside-volume-why-placeholder")); }
                        }
                    }
                    label for="volume" { (t("bedside-volume-label")) }
                    input id="volume" name="volume_ml" inputmode="decimal" required style="max-width:10rem"
                        value=(volume.map(|v| v.millilitres.clone()).unwrap_or_else(|| millilitres_number(i64::from(d.volume_ul.unwrap_or_default()))));
                    fieldset {
                        legend { (t("bedside-ae-legend")) }
                        label { (t("bedside-ae-term")) input name="ae_term" placeholder=(t("bedside-ae-term-placeholder")); }
                        label { (t("bedside-ae-grade")) input name="ae_grade" inputmode="numeric" style="max-width:6rem"; }
                    }
                    div class="actions" { button type="submit" { (t("bedside-record-infusion")) } }
                }
            }
        }
        script src="/assets/bedside.js" {}
    }
}

/// µL as a number of mL without the unit: `4400` → `4.4`.
fn millilitres_number(ul: i64) -> String {
    crate::domain::units::millilitres(ul)
        .trim_end_matches(" mL")
        .to_owned()
}

pub async fn bedside(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<Uuid>,
    WebQuery(flash): WebQuery<Flash>,
) -> Result<Html<String>, PageError> {
    let record = doses::get(&state, id).await?;
    Ok(page::show(
        &t("bedside-title"),
        &user,
        bedside_view(&user, &record, &flash, None, None),
    ))
}

#[derive(Debug, Deserialize)]
pub struct BedsideForm {
    pub csrf: String,
    pub patient_scan: String,
    pub product_scan: String,
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

carries_csrf!(BedsideForm, LateEntryForm, CompleteForm);

/// A refused bedside check: the page again, with the error's status and a
/// red banner over it.
async fn bedside_refusal(
    state: &AppState,
    user: &WebUser,
    id: Uuid,
    error: AppError,
) -> Result<Response, PageError> {
    let record = doses::get(state, id).await?;
    let banner = mismatch_view(user, &error);
    Ok((
        error.status(),
        page::show(
            &t("bedside-title"),
            user,
            bedside_view(user, &record, &Flash::default(), Some(&banner), None),
        ),
    )
        .into_response())
}

/// Why the infusion may not start, in red: each label that does not match.
fn mismatch_view(user: &WebUser, error: &AppError) -> Markup {
    let details = if let AppError::IdentityMismatch(list) = error {
        html! { ul { @for m in list {
        li { (t_with("bedside-mismatch-item", &[
                ("scan", arg(if m.scan == "patient_scan" { t("bedside-wristband") } else { t("bedside-bag-label") })),
                ("problem", arg(match m.problem { "wrong_record" => t("bedside-problem-wrong-record"), "wrong_kind" => t("bedside-problem-wrong-kind"), "not_scanned" => t("bedside-problem-not-scanned"), _ => t("bedside-problem-unreadable") })),
            ]))
            " " (t("bedside-expected")) " " span class="code" { (m.expected) } @if let Some(f) = &m.found { (t("bedside-read")) " " span class="code" { (f) } } (t("bedside-close")) } } } }
    } else {
        html! {}
    };
    html! {
        div class="match bad" role="alert" id="mismatch" {
            "✕ " (t("bedside-stop")) " " (sentence(error, user.zone))
            (details)
            p { (t("bedside-nothing-infused")) @if matches!(error, AppError::IdentityMismatch(_)) { " " (t("bedside-mismatch-recorded")) } }
        }
    }
}

pub async fn bedside_check(
    State(state): State<AppState>,
    user: PageUser<roles::Clinician>,
    Path(id): Path<Uuid>,
    CsrfForm(form): CsrfForm<BedsideForm>,
) -> Result<Response, PageError> {
    let outcome = infusions::start(
        &state,
        &user.user.actor(),
        infusions::Start {
            dose_id: id,
            patient_scan: &form.patient_scan,
            product_scan: &form.product_scan,
            started_at: state.clock.now(),
            late_entry: None,
        },
    )
    .await;
    match outcome {
        Ok(_) => Ok(see_other(&format!("/doses/{id}/bedside"))),
        Err(error) => bedside_refusal(&state, &user, id, error).await,
    }
}

pub async fn late_entry(
    State(state): State<AppState>,
    user: PageUser<roles::Clinician>,
    Path(id): Path<Uuid>,
    CsrfForm(form): CsrfForm<LateEntryForm>,
) -> Result<Response, PageError> {
    let back = format!("/doses/{id}/bedside");
    let Some(started_at) = user.typed_time(&form.started_at) else {
        return Err(PageError::back(&back, t("bedside-late-bad-time")));
    };
    let signature = user
        .sign(&state, form.password, form.meaning, &back)
        .await?;
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
        Ok(_) => Ok(redirect_with(
            &back,
            true,
            t_with(
                "bedside-late-recorded",
                &[("when", arg(user.when(started_at)))],
            ),
        )),
        Err(error) => bedside_refusal(&state, &user, id, error).await,
    }
}

/// Records the end of an infusion: the volume given, as the bag says, and
/// any adverse event. A volume far from the bag's shows the page again
/// (422) asking for its confirmation and a reason.
pub async fn complete(
    State(state): State<AppState>,
    user: PageUser<roles::Clinician>,
    Path(id): Path<Uuid>,
    CsrfForm(form): CsrfForm<CompleteForm>,
) -> Result<Response, PageError> {
    let infusion = infusions::get(&state, id).await?;
    let dose_id = infusion.dose.dose.id;
    let back = format!("/doses/{dose_id}/bedside");
    let Some(volume) = parse_millilitres(form.volume_ml.trim()) else {
        return Err(PageError::back(&back, t("bedside-volume-bad")));
    };
    let now = state.clock.now();
    let mut events = Vec::new();
    if !form.ae_term.trim().is_empty() {
        let Ok(grade) = form.ae_grade.trim().parse::<i32>() else {
            return Err(PageError::back(&back, t("bedside-ae-grade-missing")));
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
        Ok(done) => Ok(redirect_with(
            &format!("/patients/{}", done.infusion.patient_id),
            true,
            t_with(
                "bedside-infusion-recorded",
                &[
                    ("number", arg(done.infusion.infusion_number)),
                    ("volume", arg(crate::domain::units::millilitres(volume))),
                ],
            ),
        )),
        Err(AppError::VolumeUnconfirmed {
            volume_infused_ul,
            volume_prepared_ul,
            tolerance_pct,
        }) => {
            let record = doses::get(&state, dose_id).await?;
            let confirm = VolumeToConfirm {
                millilitres: form.volume_ml.trim().to_owned(),
                message: t_with(
                    "bedside-volume-confirm",
                    &[
                        (
                            "infused",
                            arg(crate::domain::units::millilitres(volume_infused_ul)),
                        ),
                        (
                            "prepared",
                            arg(crate::domain::units::millilitres(volume_prepared_ul)),
                        ),
                        ("tolerance", arg(tolerance_pct)),
                    ],
                ),
            };
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                page::show(
                    &t("bedside-title"),
                    &user,
                    bedside_view(&user, &record, &Flash::default(), None, Some(&confirm)),
                ),
            )
                .into_response())
        }
        Err(error) => Err(PageError::back(&back, sentence(&error, user.zone))),
    }
}
