//! `/patients/new`: the clinician enrols a patient with the protocol's
//! eligibility checklist (every criterion answered yes or no, in the
//! protocol's words), birth date, sex, height, the weight at enrolment and
//! the baseline PASI, through the same service as `POST /api/v1/patients`.
//!
//! What the protocol refuses is said in words on the form again, with what
//! was typed kept, and nothing is saved. A weight that gives an
//! implausible body-mass index with the height (154 typed in kg for a
//! patient of 70 kg) is asked about by the service (the same question as
//! `POST /api/v1/patients` without `confirm_weight`); the page says it in
//! words and sends the form again confirmed only when the person says so.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use chrono::NaiveDate;
use maud::{Markup, html};

use crate::domain::dose::{WeightConcern, WeightUnit, kg_text, weight_to_grams};
use crate::domain::patient::{Sex, parse_tenths, tenths_display};
use crate::domain::protocol::{CriterionKind, Protocol};
use crate::error::AppError;
use crate::i18n::{arg, t, t_maybe, t_with};
use crate::services::{patients, protocol};
use crate::state::AppState;
use crate::web::clinic::form_field;
use crate::web::error::{PageError, sentence};
use crate::web::extract::{CsrfForm, PageUser, roles};
use crate::web::page::{self, redirect_with};
use crate::web::user::WebUser;

/// The form as typed: kept when the form comes back refused.
type Entry = Vec<(String, String)>;

pub async fn enrolment_page(
    State(state): State<AppState>,
    user: PageUser<roles::Clinician>,
) -> Result<Html<String>, PageError> {
    let rules = protocol::current(state.db.conn()).await?.protocol;
    let sites = crate::web::site_choice::choices(&state, user.user.user_id).await?;
    Ok(enrolment_html(
        &user,
        &rules,
        &sites,
        &Entry::new(),
        None,
        None,
    ))
}

/// Why the form came back.
enum Refusal {
    /// Something to correct, in words.
    Said(String),
    /// A weight to confirm: the question, in words.
    Ask(String),
}

pub async fn enrol(
    State(state): State<AppState>,
    user: PageUser<roles::Clinician>,
    CsrfForm(form): CsrfForm<Entry>,
) -> Result<Response, PageError> {
    let rules = protocol::current(state.db.conn()).await?.protocol;
    let refusal = match enrol_from(&state, &user, &rules, &form).await {
        Ok(response) => return Ok(response),
        Err(refusal) => refusal,
    };
    let (said, ask) = match refusal {
        Refusal::Said(words) => (Some(words), None),
        Refusal::Ask(question) => (None, Some(question)),
    };
    let sites = crate::web::site_choice::choices(&state, user.user.user_id).await?;
    Ok((
        StatusCode::UNPROCESSABLE_ENTITY,
        enrolment_html(
            &user,
            &rules,
            &sites,
            &form,
            said.as_deref(),
            ask.as_deref(),
        ),
    )
        .into_response())
}

/// Reads the form, asks about a doubtful weight, and enrols.
async fn enrol_from(
    state: &AppState,
    user: &WebUser,
    rules: &Protocol,
    form: &Entry,
) -> Result<Response, Refusal> {
    let said = |key: &str| Refusal::Said(t(key));
    let birth_date: NaiveDate = form_field(form, "birth_date")
        .parse()
        .map_err(|_| said("enrol-refused-birth-date"))?;
    let sex: Sex = form_field(form, "sex")
        .parse()
        .map_err(|_| said("enrol-refused-sex"))?;
    let pasi = parse_tenths(form_field(form, "baseline_pasi"), 720)
        .ok_or_else(|| said("enrol-refused-pasi"))?;
    let height_mm = match form_field(form, "height_cm") {
        "" => None,
        cm => Some(parse_tenths(cm, 2500).ok_or_else(|| said("enrol-refused-height"))?),
    };
    let value = form_field(form, "weight_value");
    let unit: WeightUnit = form_field(form, "weight_unit")
        .parse()
        .unwrap_or(WeightUnit::Kg);
    // a confirmation stands for the weight it was asked about, not another
    let entered = format!("{} {}", value.trim(), unit.as_str());
    let confirm_weight = !value.is_empty() && form_field(form, "confirmed_weight") == entered;
    // unanswered criteria stay out of the answers: the service names them
    let criteria: BTreeMap<String, bool> = rules
        .criteria
        .iter()
        .filter_map(|c| match form_field(form, &format!("c.{}", c.key)) {
            "yes" => Some((c.key.clone(), true)),
            "no" => Some((c.key.clone(), false)),
            _ => None,
        })
        .collect();
    let enrolled = patients::enrol_confirming(
        state,
        &user.user.actor(),
        patients::NewPatient {
            subject_code: form_field(form, "subject_code"),
            birth_date,
            sex,
            enrolled_at: state.clock.now(),
            baseline_pasi_tenths: pasi,
            criteria,
            weight: (!value.is_empty()).then_some((value, unit)),
            height_mm,
            site_id: crate::web::site_choice::chosen(form_field(form, "site_id")),
        },
        confirm_weight,
    )
    .await
    .map_err(|error| match weight_question(&error, value, unit, user) {
        Some(question) => Refusal::Ask(question),
        None => Refusal::Said(refusal_words(&error, rules, user)),
    })?;
    let p = &enrolled.patient;
    Ok(redirect_with(
        &format!("/patients/{}", p.id),
        true,
        t_with("enrol-done", &[("code", arg(&p.subject_code))]),
    ))
}

/// The question the service asks about a weight at enrolment that gives,
/// with the height, a body-mass index outside the protocol's range, in
/// the page's words: "154 kg gives a body-mass index of 60.1, outside 12
/// to 60. Was it typed in pounds? 154 lb would be 69.9 kg." `None` for
/// any other refusal.
fn weight_question(
    error: &AppError,
    value: &str,
    unit: WeightUnit,
    user: &WebUser,
) -> Option<String> {
    let AppError::WeightChangeUnconfirmed {
        concerns,
        likely_slip,
        ..
    } = error
    else {
        return None;
    };
    let entered = format!("{} {}", value.trim(), unit.as_str());
    let Some(WeightConcern::Bmi {
        bmi_tenths,
        min,
        max,
    }) = concerns.first()
    else {
        // nothing but the body-mass index is asked at enrolment today;
        // anything else in the weights' words
        return Some(crate::web::refusals::page_weight_question(
            &entered,
            concerns,
            None,
            likely_slip.as_deref(),
            user.zone,
        ));
    };
    let bmi = t_with(
        "enrol-weight-bmi",
        &[
            ("weight", arg(&entered)),
            (
                "bmi",
                arg(tenths_display(
                    i32::try_from(*bmi_tenths).unwrap_or(i32::MAX),
                )),
            ),
            ("min", arg(min)),
            ("max", arg(max)),
        ],
    );
    // the service found the other unit plausible: say what it would be
    let (other, key) = match unit {
        WeightUnit::Kg => (WeightUnit::Lb, "enrol-weight-in-pounds"),
        WeightUnit::Lb => (WeightUnit::Kg, "enrol-weight-in-kilograms"),
    };
    let slip = likely_slip
        .as_ref()
        .and_then(|_| weight_to_grams(value, other))
        .map(|g| {
            t_with(
                key,
                &[("value", arg(value.trim())), ("kg", arg(kg_text(g)))],
            )
        });
    Some(match slip {
        Some(slip) => format!("{bmi} {slip}"),
        None => bmi,
    })
}

/// A refusal of the enrolment service in words: the criteria not met in
/// the protocol's words, the age, the baseline PASI, a code already used.
fn refusal_words(error: &AppError, rules: &Protocol, user: &WebUser) -> String {
    match error {
        AppError::NotEligible(findings) => {
            let mut parts = vec![t("enrol-not-eligible")];
            for failure in &findings.criteria {
                let key = match (failure.kind, failure.answer) {
                    (_, None) => "enrol-unanswered",
                    (CriterionKind::Inclusion, _) => "enrol-not-met",
                    (CriterionKind::Exclusion, _) => "enrol-applies",
                };
                let words = criterion_words(&failure.criterion, &failure.text);
                parts.push(t_with(key, &[("criterion", arg(words))]));
            }
            if let Some(age) = findings.age {
                parts.push(t_with(
                    "enrol-age",
                    &[
                        ("age", arg(age)),
                        ("min", arg(rules.age_min_years)),
                        ("max", arg(rules.age_max_years)),
                    ],
                ));
            }
            if let Some(pasi) = findings.baseline_pasi_tenths {
                parts.push(t_with(
                    "enrol-low-pasi",
                    &[
                        ("score", arg(tenths_display(pasi))),
                        ("min", arg(tenths_display(rules.baseline_pasi_min_tenths))),
                    ],
                ));
            }
            parts.join(" ")
        }
        AppError::SubjectCodeTaken(code) => t_with("enrol-code-taken", &[("code", arg(code))]),
        AppError::InvalidField { field, .. } if field == "subject_code" => {
            t("enrol-refused-subject-code")
        }
        AppError::ImplausibleWeight {
            weight_g,
            min_g,
            max_g,
        } => t_with(
            "enrol-weight-implausible",
            &[
                ("kg", arg(kg_text(*weight_g))),
                ("min", arg(kg_text(*min_g))),
                ("max", arg(kg_text(*max_g))),
            ],
        ),
        AppError::InvalidField { field, .. } if field.starts_with("weight") => {
            t("enrol-refused-weight")
        }
        AppError::InvalidField { field, .. } if field == "birth_date" => {
            t("enrol-refused-born-after")
        }
        other => sentence(other, user.zone),
    }
}

/// A criterion in the page's language; the protocol's own words for one
/// the catalogue does not know (a criterion added by an amendment).
fn criterion_words(key: &str, protocol_text: &str) -> String {
    t_maybe(&format!("enrol-criterion-{}", key.replace('_', "-")))
        .unwrap_or_else(|| protocol_text.to_owned())
}

fn enrolment_html(
    user: &WebUser,
    rules: &Protocol,
    sites: &[crate::entities::site::Model],
    entry: &Entry,
    said: Option<&str>,
    ask: Option<&str>,
) -> Html<String> {
    page::show(
        &t("enrol-title"),
        user,
        enrolment_view(user, rules, sites, entry, said, ask),
    )
}

fn enrolment_view(
    user: &WebUser,
    rules: &Protocol,
    sites: &[crate::entities::site::Model],
    entry: &Entry,
    said: Option<&str>,
    ask: Option<&str>,
) -> Markup {
    let typed = |name: &str| form_field(entry, name).to_owned();
    let unit = typed("weight_unit");
    let sex = typed("sex");
    html! {
        h1 { (t("enrol-title")) }
        p class="muted" { (t_with("enrol-intro", &[("trial", arg(&rules.trial_id))])) }
        @if let Some(words) = said { div class="msg bad" role="alert" id="refusal" { (words) } }
        @if let Some(question) = ask {
            div class="msg bad" role="alert" id="confirm-weight" {
                p { strong { (question) } }
                p { (t("enrol-weight-confirm-hint")) }
            }
        }
        form method="post" action="/patients/new" {
            input type="hidden" name="csrf" value=(user.csrf());
            @if ask.is_some() { input type="hidden" name="confirmed_weight" value={ (form_field(entry, "weight_value").trim()) " " (if unit == "lb" { "lb" } else { "kg" }) }; }
            div class="grid" {
                section class="card" {
                    h2 { (t("enrol-patient")) }
                    label { (t("enrol-subject-code")) input name="subject_code" required autocomplete="off" placeholder="PV-007" value=(typed("subject_code")); }
                    (crate::web::site_choice::menu_keeping(sites, true, form_field(entry, "site_id")))
                    label { (t("enrol-birth-date")) input name="birth_date" type="date" required value=(typed("birth_date")); }
                    fieldset {
                        legend { (t("enrol-sex")) }
                        label { input type="radio" name="sex" value="female" required checked[sex == "female"]; (t("enrol-female")) }
                        label { input type="radio" name="sex" value="male" checked[sex == "male"]; (t("enrol-male")) }
                    }
                    label { (t("enrol-height")) input name="height_cm" inputmode="decimal" required value=(typed("height_cm")); }
                    label for="weight_value" { (t("enrol-weight")) }
                    input id="weight_value" name="weight_value" inputmode="decimal" required style="max-width:10rem" value=(typed("weight_value"));
                    select name="weight_unit" aria-label=(t("patient-unit")) style="max-width:6rem" {
                        option value="kg" selected[unit != "lb"] { "kg" }
                        option value="lb" selected[unit == "lb"] { "lb" }
                    }
                    label { (t_with("enrol-baseline-pasi", &[("min", arg(tenths_display(rules.baseline_pasi_min_tenths)))]))
                        input name="baseline_pasi" inputmode="decimal" required value=(typed("baseline_pasi")); }
                    p class="muted" { (t_with("enrol-age-range", &[("min", arg(rules.age_min_years)), ("max", arg(rules.age_max_years))])) }
                }
                section class="card" {
                    h2 { (t("enrol-checklist")) }
                    (checklist(rules, entry, CriterionKind::Inclusion))
                    (checklist(rules, entry, CriterionKind::Exclusion))
                }
            }
            div class="actions" {
                button type="submit" {
                    @if ask.is_some() { (t("enrol-confirm-button")) } @else { (t("enrol-button")) }
                }
                a class="button secondary" href="/patients" { (t("enrol-cancel")) }
            }
        }
    }
}

/// The criteria of one kind, each a question answered yes or no (never
/// left to a default: an unanswered criterion is named in the refusal).
fn checklist(rules: &Protocol, entry: &Entry, kind: CriterionKind) -> Markup {
    let heading = match kind {
        CriterionKind::Inclusion => t("enrol-inclusion"),
        CriterionKind::Exclusion => t("enrol-exclusion"),
    };
    html! {
        h3 { (heading) }
        @for c in rules.criteria.iter().filter(|c| c.kind == kind) {
            @let name = format!("c.{}", c.key);
            @let answer = form_field(entry, &name);
            // yes and no side by side: thirteen questions stay short
            fieldset class="criterion" style="display:flex;flex-wrap:wrap;gap:0 1.5rem" {
                legend { (criterion_words(&c.key, &c.text)) }
                label { input type="radio" name=(name) value="yes" required checked[answer == "yes"]; (t("enrol-yes")) }
                label { input type="radio" name=(name) value="no" checked[answer == "no"]; (t("enrol-no")) }
            }
        }
    }
}
