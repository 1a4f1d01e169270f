//! A donor's screening (21 CFR 1271.80): the results as a table, the lab's
//! form to record one, quality's signed invalidation of a result, and
//! quality's signed eligibility decision with what still stands in its
//! way said in words before the button (21 CFR 1271.45-.50).

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;
use uuid::Uuid;

use crate::domain::accounts::Role;
use crate::domain::donor::{
    Eligibility, REQUIRED_TESTS, ScreeningGaps, ScreeningOutcome, ScreeningTest, Specimen,
};
use crate::i18n::{arg, t, t_with};
use crate::services::donors::{self, DonorRecord, NewScreening};
use crate::state::AppState;
use crate::web::error::{OrBack, PageError};
use crate::web::extract::{CsrfForm, PageUser, carries_csrf, roles};
use crate::web::page::{self, redirect_with};
use crate::web::user::WebUser;

/// A test's name as the lab reads it.
pub fn test_name(test: ScreeningTest) -> String {
    t(match test {
        ScreeningTest::Hiv => "donor-test-hiv",
        ScreeningTest::Hbv => "donor-test-hbv",
        ScreeningTest::Hcv => "donor-test-hcv",
        ScreeningTest::Syphilis => "donor-test-syphilis",
        ScreeningTest::Htlv => "donor-test-htlv",
        ScreeningTest::Cmv => "donor-test-cmv",
    })
}

fn outcome_name(outcome: ScreeningOutcome) -> String {
    t(match outcome {
        ScreeningOutcome::Negative => "donor-result-negative",
        ScreeningOutcome::Positive => "donor-result-positive",
        ScreeningOutcome::Indeterminate => "donor-result-indeterminate",
    })
}

fn specimen_name(specimen: Specimen) -> String {
    t(match specimen {
        Specimen::Maternal => "donor-specimen-maternal",
        Specimen::Donor => "donor-specimen-donor",
    })
}

/// The tests named in a gap list (`"hiv"`, …), as people read them.
fn names(tests: &[&str]) -> String {
    tests
        .iter()
        .map(|code| match code.parse::<ScreeningTest>() {
            Ok(test) => test_name(test),
            Err(_) => (*code).to_owned(),
        })
        .collect::<Vec<_>>()
        .join(&t("inventory-and"))
}

/// What stands between the donor and eligibility, one sentence a line.
fn gaps_words(gaps: &ScreeningGaps) -> Vec<String> {
    let mut words = Vec::new();
    if !gaps.missing.is_empty() {
        words.push(t_with(
            "donor-gap-missing",
            &[("tests", arg(names(&gaps.missing)))],
        ));
    }
    if !gaps.reactive.is_empty() {
        words.push(t_with(
            "donor-gap-reactive",
            &[("tests", arg(names(&gaps.reactive)))],
        ));
    }
    if !gaps.outside_window.is_empty() {
        words.push(t_with(
            "donor-gap-window",
            &[("tests", arg(names(&gaps.outside_window)))],
        ));
    }
    words
}

/// The eligibility standing, and quality's signed decision.
pub fn standing_view(user: &WebUser, record: &DonorRecord) -> Markup {
    let d = &record.donor;
    let gaps = gaps_words(&record.gaps);
    // the service's own rule of which decisions may follow which
    let automatic = d.eligibility_decided_by.is_none();
    let may_decide = match d.eligibility {
        Eligibility::Pending => true,
        Eligibility::Eligible => true,
        Eligibility::Ineligible => automatic,
    };
    html! {
        section class="card" id="eligibility" {
            h2 { (t("donor-eligibility-heading")) }
            @if gaps.is_empty() {
                p class="msg ok" { (t("donor-gaps-none")) }
            } @else {
                div class="msg warn" role="status" { @for line in &gaps { p { (line) } } }
            }
            @if user.user.role == Role::Quality && may_decide {
                @if d.eligibility == Eligibility::Pending {
                    (decision_form(user, record, gaps.is_empty()))
                } @else {
                    // a decided donor can only be found ineligible (final)
                    details {
                        summary { (t("donor-find-ineligible")) }
                        (decision_form(user, record, false))
                    }
                }
            }
        }
    }
}

/// Quality's signed decision. Nothing is chosen for the signer unless
/// every required test is in order: an ineligible decision is final.
fn decision_form(user: &WebUser, record: &DonorRecord, clear: bool) -> Markup {
    let d = &record.donor;
    let pending = d.eligibility == Eligibility::Pending;
    html! {
        form method="post" action={ "/donors/" (d.id) "/eligibility" } {
            input type="hidden" name="csrf" value=(user.csrf());
            fieldset {
                legend { (t("donor-decision")) }
                @if pending {
                    label { input type="radio" name="decision" value="eligible" required checked[clear]; (t("donor-decide-eligible")) }
                }
                label { input type="radio" name="decision" value="ineligible" required; (t("donor-decide-ineligible")) }
            }
            label { (t("donor-decision-reason")) input name="reason" placeholder=(t("donor-decision-reason-placeholder")); }
            (page::signature_fields("donor eligibility determination"))
            div class="actions" { button type="submit" { (t("donor-decide-button")) } }
        }
    }
}

/// Every result, oldest first, invalidated ones kept and marked; the lab's
/// form to record one; quality's signed invalidation.
pub fn results_view(
    user: &WebUser,
    record: &DonorRecord,
    recorded_by: &HashMap<String, String>,
    now: &str,
) -> Markup {
    let d = &record.donor;
    let quality = user.user.role == Role::Quality;
    html! {
        section class="card" id="screening" {
            h2 { (t("donor-screening-heading")) }
            @if record.screening.is_empty() {
                p class="muted" { (t("donor-screening-none")) }
            } @else {
                table {
                    thead { tr {
                        th { (t("donor-col-test")) } th { (t("donor-col-result")) } th { (t("donor-col-specimen")) }
                        th { (t("donor-col-sampled")) } th { (t("donor-col-recorded")) } th { (t("donor-col-standing")) }
                    } }
                    tbody { @for r in &record.screening {
                        tr class=[r.invalidated_at.is_some().then_some("correction")] {
                            td { (test_name(r.test)) }
                            td { @if r.result == ScreeningOutcome::Negative { span class="pill ok" { (outcome_name(r.result)) } }
                                 @else { span class="pill bad" { (outcome_name(r.result)) } } }
                            td { (specimen_name(r.specimen)) }
                            td class="nowrap" { (user.when(r.tested_at)) }
                            td { (user.when(r.recorded_at))
                                @if let Some(who) = recorded_by.get(&r.id.to_string()) { div class="muted small" { (who) } } }
                            td {
                                @if let Some(at) = r.invalidated_at {
                                    span class="pill warn" { (t("donor-invalidated")) } " "
                                    (t_with("donor-invalidated-at", &[("when", arg(user.when(at)))])) " "
                                    q { (r.invalidation_reason.clone().unwrap_or_default()) }
                                } @else if quality {
                                    details {
                                        summary { (t("donor-invalidate")) }
                                        form method="post" action={ "/donors/" (d.id) "/screening/" (r.id) "/invalidate" } {
                                            input type="hidden" name="csrf" value=(user.csrf());
                                            label { (t("donor-invalidate-why")) input name="reason" required placeholder=(t("donor-invalidate-why-placeholder")); }
                                            (page::signature_fields("screening result invalidated"))
                                            div class="actions" { button class="danger" type="submit" { (t("donor-invalidate-button")) } }
                                        }
                                    }
                                } @else {
                                    span class="muted" { (t("donor-counts")) }
                                }
                            }
                        }
                    } }
                }
            }
            @if user.user.role == Role::Lab {
                details open[!record.gaps.missing.is_empty()] {
                    summary { (t("donor-record-screening")) }
                    form method="post" action={ "/donors/" (d.id) "/screening" } {
                        input type="hidden" name="csrf" value=(user.csrf());
                        label { (t("donor-col-test")) select name="test" required {
                            @for test in REQUIRED_TESTS {
                                option value=(test.as_str()) selected[record.gaps.missing.first() == Some(&test.as_str())] { (test_name(test)) }
                            }
                            @for test in ScreeningTest::ALL.iter().filter(|t| !REQUIRED_TESTS.contains(t)) {
                                option value=(test.as_str()) { (test_name(*test)) " " (t("donor-test-not-required")) }
                            }
                        } }
                        label { (t("donor-col-result")) select name="result" required {
                            @for outcome in ScreeningOutcome::ALL { option value=(outcome.as_str()) { (outcome_name(*outcome)) } }
                        } }
                        label { (t("donor-col-specimen")) select name="specimen" {
                            @for specimen in Specimen::ALL { option value=(specimen.as_str()) { (specimen_name(*specimen)) } }
                        } }
                        label { (t_with("donor-sampled-at", &[("zone", arg(user.zone.name()))]))
                            input type="datetime-local" name="tested_at" value=(now) required;
                        }
                        div class="actions" { button type="submit" { (t("donor-record-screening-button")) } }
                    }
                }
            }
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct ScreeningForm {
    pub csrf: String,
    pub test: ScreeningTest,
    pub result: ScreeningOutcome,
    pub specimen: Option<Specimen>,
    pub tested_at: String,
}

#[derive(Debug, Deserialize)]
pub struct InvalidateForm {
    pub csrf: String,
    pub reason: String,
    pub password: String,
    pub meaning: String,
}

#[derive(Debug, Deserialize)]
pub struct DecisionForm {
    pub csrf: String,
    /// Absent when no choice was ticked: said in words, not a 400.
    #[serde(default)]
    pub decision: Option<Eligibility>,
    #[serde(default)]
    pub reason: String,
    pub password: String,
    pub meaning: String,
}

carries_csrf!(ScreeningForm, InvalidateForm, DecisionForm);

/// Records a screening result (the API's `POST /donors/{id}/screening`, lab).
pub async fn record(
    State(state): State<AppState>,
    user: PageUser<roles::Lab>,
    Path(id): Path<Uuid>,
    CsrfForm(form): CsrfForm<ScreeningForm>,
) -> Result<Response, PageError> {
    let back = format!("/donors/{id}");
    let tested_at = user
        .typed_time(&form.tested_at)
        .ok_or_else(|| PageError::back(&back, t("donor-sampled-at-unreadable")))?;
    let new = NewScreening {
        test: form.test,
        result: form.result,
        tested_at,
        specimen: form.specimen.unwrap_or(Specimen::Maternal),
    };
    donors::record_screening(&state, &user.user.actor(), id, new)
        .await
        .or_back(&back, user.zone)?;
    let words = t_with(
        "donor-screening-recorded",
        &[
            ("test", arg(test_name(form.test))),
            ("result", arg(outcome_name(form.result))),
        ],
    );
    Ok(redirect_with(&back, true, words))
}

/// Invalidates a result (quality, signed, with the reason).
pub async fn invalidate(
    State(state): State<AppState>,
    user: PageUser<roles::Quality>,
    Path((id, result_id)): Path<(Uuid, Uuid)>,
    CsrfForm(form): CsrfForm<InvalidateForm>,
) -> Result<Response, PageError> {
    let back = format!("/donors/{id}");
    let signature = user
        .sign(&state, form.password, form.meaning, &back)
        .await?;
    donors::invalidate_screening(&state, &signature, id, result_id, &form.reason)
        .await
        .or_back(&back, user.zone)?;
    Ok(redirect_with(&back, true, t("donor-screening-invalidated")))
}

/// Quality's signed eligibility decision.
pub async fn decide(
    State(state): State<AppState>,
    user: PageUser<roles::Quality>,
    Path(id): Path<Uuid>,
    CsrfForm(form): CsrfForm<DecisionForm>,
) -> Result<Response, PageError> {
    let back = format!("/donors/{id}");
    let Some(decision) = form.decision else {
        return Err(PageError::back(&back, t("donor-decision-missing")));
    };
    let signature = user
        .sign(&state, form.password, form.meaning, &back)
        .await?;
    let record = donors::decide_eligibility(&state, &signature, id, decision, Some(&form.reason))
        .await
        .or_back(&back, user.zone)?;
    let words = match record.donor.eligibility {
        Eligibility::Eligible => t_with(
            "donor-declared-eligible",
            &[("code", arg(&record.donor.code))],
        ),
        _ => t_with(
            "donor-declared-ineligible",
            &[("code", arg(&record.donor.code))],
        ),
    };
    Ok(redirect_with(&back, true, words))
}
