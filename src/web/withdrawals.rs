//! Withdrawals on the pages (issue 16): quality withdraws a donor's
//! consent from the donor's page and decides lot by lot on each lot's
//! page; a clinician withdraws a patient from the patient's page, told in
//! plain words which open doses that cancels. Each page shows the
//! withdrawal as a banner (times in the site's zone).

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::post;
use maud::{Markup, html};
use serde::Deserialize;
use uuid::Uuid;

use crate::domain::accounts::Role;
use crate::entities::dose;
use crate::entities::patient_withdrawal;
use crate::entities::withdrawal_hold::{HoldStatus, WithdrawalDecision};
use crate::error::AppResult;
use crate::i18n::{arg, t, t_with};
use crate::services::withdrawals::{self, LotHold};
use crate::state::AppState;
use crate::web::error::{OrBack, PageError};
use crate::web::extract::{CsrfForm, PageUser, carries_csrf, roles};
use crate::web::page::{self, pill, redirect_with};
use crate::web::user::WebUser;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/donors/{id}/consent-withdrawal", post(withdraw_consent))
        .route("/lots/{id}/withdrawal-decision", post(decide_lot))
        .route("/patients/{id}/withdrawal", post(withdraw_patient))
}

/// The donor page's part: the withdrawal and its lots when consent was
/// withdrawn, else quality's form.
pub async fn donor_section(
    state: &AppState,
    user: &WebUser,
    donor_id: Uuid,
    donor_code: &str,
) -> AppResult<Markup> {
    let withdrawal = withdrawals::of_donor(state.db.conn(), donor_id).await?;
    let lots = withdrawals::lot_holds_of_donor(state.db.conn(), donor_id).await?;
    Ok(donor_view(
        user,
        user.field_time(state.clock.now()),
        donor_id,
        donor_code,
        withdrawal
            .as_ref()
            .map(|w| (w.withdrawn_at, w.reason.as_str())),
        &lots,
    ))
}

fn donor_view(
    user: &WebUser,
    now: String,
    donor_id: Uuid,
    donor_code: &str,
    withdrawal: Option<(chrono::DateTime<chrono::Utc>, &str)>,
    lots: &[LotHold],
) -> Markup {
    html! {
        @if let Some((at, reason)) = withdrawal {
            section class="card banner bad" id="consent-withdrawal" {
                h2 { (t_with("wd-donor-banner", &[("when", arg(user.when(at))), ("reason", arg(reason))])) }
                @if !lots.is_empty() {
                    h3 { (t("wd-lots-title")) }
                    table { tbody { @for h in lots {
                        tr {
                            td { a class="code" href={ "/lots/" (h.hold.lot_id) } { (h.lot_code) } }
                            td { (lot_words(user, h)) }
                            td { (t_with("wd-vials-held", &[("count", arg(h.vials.iter().filter(|v| v.0.held).count()))])) }
                        }
                    } } }
                }
            }
        } @else if user.user.role == Role::Quality {
            section class="card" id="consent-withdrawal" {
                h2 { (t("wd-donor-title")) }
                p { (t_with("wd-donor-explain", &[("code", arg(donor_code))])) }
                form method="post" action={ "/donors/" (donor_id) "/consent-withdrawal" } {
                    input type="hidden" name="csrf" value=(user.csrf());
                    label for="wd-withdrawn-at" { (t("wd-withdrawn-at")) }
                    input id="wd-withdrawn-at" name="withdrawn_at" type="datetime-local" required value=(now);
                    label for="wd-reason" { (t("wd-reason")) }
                    input id="wd-reason" name="reason" required;
                    (page::signature_fields("consent withdrawn"))
                    div class="actions" { button class="danger" type="submit" { (t("wd-donor-submit")) } }
                }
            }
        }
    }
}

/// A lot's withdrawal hold in words: on hold, released or discarded.
fn lot_words(user: &WebUser, h: &LotHold) -> Markup {
    let reason = h.hold.reason.clone().unwrap_or_default();
    let when = h
        .hold
        .decided_at
        .map(|at| user.when(at))
        .unwrap_or_default();
    html! {
        @match (h.hold.status, h.hold.decision) {
            (HoldStatus::Decided, Some(WithdrawalDecision::Released)) => {
                (pill("released")) " " (t_with("wd-lot-released", &[("when", arg(when)), ("reason", arg(reason))]))
            }
            (HoldStatus::Decided, _) => {
                (pill("discarded")) " " (t_with("wd-lot-discarded", &[("when", arg(when)), ("reason", arg(reason))]))
            }
            _ => { (pill("on_hold")) " " (t("wd-lot-banner")) }
        }
    }
}

/// The lot page's part: "consent withdrawn: on hold" and quality's
/// decision form while it is open.
pub async fn lot_section(state: &AppState, user: &WebUser, lot_id: Uuid) -> AppResult<Markup> {
    let Some(h) = withdrawals::lot_hold(state.db.conn(), lot_id).await? else {
        return Ok(html! {});
    };
    let thawed: Vec<&str> = h
        .vials
        .iter()
        .filter(|v| !v.0.held)
        .map(|v| v.1.as_str())
        .collect();
    Ok(html! {
        section class="card banner bad" id="consent-withdrawal" {
            h2 { (lot_words(user, &h)) }
            p { (t_with("wd-donor-banner", &[("when", arg(user.when(h.withdrawal.withdrawn_at))), ("reason", arg(&h.withdrawal.reason))])) }
            p { (t_with("wd-vials-held", &[("count", arg(h.vials.iter().filter(|v| v.0.held).count()))])) }
            @if !thawed.is_empty() {
                p { (t_with("wd-thawed-listed", &[("codes", arg(thawed.join(", ")))])) }
            }
            @if h.hold.status == HoldStatus::Open && user.user.role == Role::Quality {
                h3 { (t("wd-lot-decide-title")) }
                p { (t_with("wd-lot-decide-explain", &[("code", arg(&h.lot_code))])) }
                form method="post" action={ "/lots/" (lot_id) "/withdrawal-decision" } {
                    input type="hidden" name="csrf" value=(user.csrf());
                    fieldset {
                        legend { (t("wd-decision")) }
                        label { input type="radio" name="decision" value="release" required; " " (t("wd-decision-release")) }
                        label { input type="radio" name="decision" value="discard"; " " (t("wd-decision-discard")) }
                    }
                    label for="wd-decision-reason" { (t("wd-reason")) }
                    input id="wd-decision-reason" name="reason" required;
                    (page::signature_fields("decision after consent withdrawn"))
                    div class="actions" { button type="submit" { (t("wd-lot-decide-submit")) } }
                }
            }
        }
    })
}

/// The patient page's banner, when the patient withdrew.
pub fn patient_banner(user: &WebUser, withdrawal: Option<&patient_withdrawal::Model>) -> Markup {
    html! {
        @if let Some(w) = withdrawal {
            section class="card banner bad" id="withdrawal" {
                p { strong { (t_with("wd-patient-banner", &[("when", arg(user.when(w.withdrawn_at))), ("reason", arg(&w.reason))])) } }
            }
        }
    }
}

/// The clinician's form to withdraw the patient, naming the open doses it
/// cancels; nothing once withdrawn.
pub fn patient_form(
    user: &WebUser,
    patient_id: Uuid,
    subject_code: &str,
    doses: &[dose::Model],
    withdrawal: Option<&patient_withdrawal::Model>,
    now: chrono::DateTime<chrono::Utc>,
) -> Markup {
    let open: Vec<String> = doses
        .iter()
        .filter(|d| d.status.is_open())
        .map(|d| d.code.to_string())
        .collect();
    html! {
        @if withdrawal.is_none() && user.user.role == Role::Clinician {
            section class="card" id="withdraw" {
                h2 { (t("wd-patient-title")) }
                p { (t_with("wd-patient-explain", &[("subject", arg(subject_code))])) }
                @if open.is_empty() {
                    p { (t("wd-patient-no-doses")) }
                } @else {
                    p { strong { (t_with("wd-patient-doses", &[("doses", arg(open.join(", ")))])) } }
                }
                form method="post" action={ "/patients/" (patient_id) "/withdrawal" } {
                    input type="hidden" name="csrf" value=(user.csrf());
                    label for="wd-patient-at" { (t("wd-patient-withdrawn-at")) }
                    input id="wd-patient-at" name="withdrawn_at" type="datetime-local" required value=(user.field_time(now));
                    label for="wd-patient-reason" { (t("wd-reason")) }
                    input id="wd-patient-reason" name="reason" required;
                    (page::signature_fields("withdrawn from the trial"))
                    div class="actions" { button class="danger" type="submit" { (t("wd-patient-submit")) } }
                }
            }
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct WithdrawalForm {
    pub csrf: String,
    #[serde(default)]
    pub withdrawn_at: String,
    #[serde(default)]
    pub reason: String,
    pub password: String,
    pub meaning: String,
}

carries_csrf!(WithdrawalForm);

#[derive(Debug, Deserialize)]
pub struct DecisionForm {
    pub csrf: String,
    #[serde(default)]
    pub decision: String,
    #[serde(default)]
    pub reason: String,
    pub password: String,
    pub meaning: String,
}

carries_csrf!(DecisionForm);

/// The time typed in the form (the site's wall clock), or a refusal.
fn typed(user: &WebUser, text: &str) -> AppResult<chrono::DateTime<chrono::Utc>> {
    user.typed_time(text).ok_or_else(|| {
        crate::error::AppError::invalid(
            "withdrawn_at",
            "type the date and time of the withdrawal, as 2026-11-25T09:40",
        )
    })
}

async fn withdraw_consent(
    State(state): State<AppState>,
    user: PageUser<roles::Quality>,
    Path(id): Path<Uuid>,
    CsrfForm(form): CsrfForm<WithdrawalForm>,
) -> Result<Response, PageError> {
    let back = format!("/donors/{id}");
    let at = typed(&user, &form.withdrawn_at).or_back(&back, user.zone)?;
    crate::domain::reason::Reason::parse(&form.reason)
        .map_err(crate::error::AppError::from)
        .or_back(&back, user.zone)?;
    let signature = user
        .sign(&state, form.password, form.meaning, &back)
        .await?;
    let (_, lots) = withdrawals::withdraw_consent(&state, &signature, id, at, &form.reason)
        .await
        .or_back(&back, user.zone)?;
    Ok(redirect_with(
        &back,
        true,
        t_with("wd-done-donor", &[("lots", arg(lots.len()))]),
    ))
}

async fn decide_lot(
    State(state): State<AppState>,
    user: PageUser<roles::Quality>,
    Path(id): Path<Uuid>,
    CsrfForm(form): CsrfForm<DecisionForm>,
) -> Result<Response, PageError> {
    let back = format!("/lots/{id}");
    let decision =
        crate::api::withdrawals::parse_decision(&form.decision).or_back(&back, user.zone)?;
    crate::domain::reason::Reason::parse(&form.reason)
        .map_err(crate::error::AppError::from)
        .or_back(&back, user.zone)?;
    let signature = user
        .sign(&state, form.password, form.meaning, &back)
        .await?;
    let hold = withdrawals::decide_lot(&state, &signature, id, decision, &form.reason)
        .await
        .or_back(&back, user.zone)?;
    Ok(redirect_with(
        &back,
        true,
        t_with("wd-done-lot", &[("code", arg(&hold.lot_code))]),
    ))
}

async fn withdraw_patient(
    State(state): State<AppState>,
    user: PageUser<roles::Clinician>,
    Path(id): Path<Uuid>,
    CsrfForm(form): CsrfForm<WithdrawalForm>,
) -> Result<Response, PageError> {
    let back = format!("/patients/{id}");
    let at = typed(&user, &form.withdrawn_at).or_back(&back, user.zone)?;
    crate::domain::reason::Reason::parse(&form.reason)
        .map_err(crate::error::AppError::from)
        .or_back(&back, user.zone)?;
    let signature = user
        .sign(&state, form.password, form.meaning, &back)
        .await?;
    let done = withdrawals::withdraw_patient(&state, &signature, id, at, &form.reason)
        .await
        .or_back(&back, user.zone)?;
    let doses = if done.doses_cancelled.is_empty() {
        t("wd-none")
    } else {
        done.doses_cancelled.join(", ")
    };
    Ok(redirect_with(
        &back,
        true,
        t_with(
            "wd-done-patient",
            &[("subject", arg(&done.subject_code)), ("doses", arg(doses))],
        ),
    ))
}

/// The lot trace's note of withdrawals: the donor's consent (the lot's
/// hold and its decision) and each recipient who left the trial.
pub fn trace_banner(user: &WebUser, lt: &crate::services::trace::LotTrace) -> Markup {
    let withdrawn: Vec<String> = lt
        .recipients
        .iter()
        .filter_map(|r| {
            r.withdrawn_at
                .map(|at| format!("{} ({})", r.subject_code, user.when(at)))
        })
        .collect();
    html! {
        @if let Some(w) = &lt.consent_withdrawal {
            section class="card banner bad" id="consent-withdrawal" {
                p { strong { (t_with("wd-donor-banner", &[("when", arg(user.when(w.withdrawn_at))), ("reason", arg(&w.withdrawal_reason))])) } }
                p {
                    @match (w.decision.as_deref(), w.decided_at) {
                        (Some("released"), Some(at)) => { (t_with("wd-lot-released", &[("when", arg(user.when(at))), ("reason", arg(w.decision_reason.clone().unwrap_or_default()))])) }
                        (Some(_), Some(at)) => { (t_with("wd-lot-discarded", &[("when", arg(user.when(at))), ("reason", arg(w.decision_reason.clone().unwrap_or_default()))])) }
                        _ => { (t("wd-lot-banner")) }
                    }
                }
            }
        }
        @if !withdrawn.is_empty() {
            p class="card" id="recipients-withdrawn" { (t_with("wd-trace-recipients", &[("subjects", arg(withdrawn.join(", ")))])) }
        }
    }
}
