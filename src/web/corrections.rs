//! Corrections on the pages (issue 16): each record page's "Corrections"
//! section (every correctable value now, a "Correct" link for the role that
//! types the record, and the history of every earlier value with who, when
//! and why, in the site's time), and `/corrections/{kind}/{id}`, the signed
//! form (current value, new value, reason, password, meaning). Through the
//! service of `POST /api/v1/corrections`; a refusal comes back in words and
//! records nothing.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{Html, Response};
use axum::routing::get;
use maud::{Markup, html};
use serde::Deserialize;
use uuid::Uuid;

use crate::domain::correction::SubjectKind;
use crate::entities::{assessment, qc_result};
use crate::i18n::{arg, t, t_with};
use crate::services::corrections::{self, Entry};
use crate::state::AppState;
use crate::web::error::{PageError, sentence};
use crate::web::extract::{CsrfForm, PageUser, carries_csrf};
use crate::web::page::{self, Flash, redirect_with, signature_fields};
use crate::web::user::WebUser;

pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/corrections/{kind}/{id}",
        get(corrections_page).post(correct),
    )
}

/// What a record page shows of its corrections, read before the page is
/// drawn.
#[derive(Debug, Clone, Default)]
pub struct Sheet {
    kind: Option<SubjectKind>,
    id: Uuid,
    current: Vec<(String, serde_json::Value)>,
    entries: Vec<Entry>,
}

/// Reads a record's correctable values and its corrections.
pub async fn sheet(
    state: &AppState,
    kind: SubjectKind,
    id: Uuid,
) -> crate::error::AppResult<Sheet> {
    Ok(Sheet {
        kind: Some(kind),
        id,
        current: corrections::current(state, kind, id).await?,
        entries: corrections::history(state, kind, id).await?,
    })
}

/// The "Corrections" section of a record's page.
pub async fn section(
    state: &AppState,
    user: &WebUser,
    kind: SubjectKind,
    id: Uuid,
) -> Result<Markup, PageError> {
    Ok(section_view(user, &sheet(state, kind, id).await?, html! {}))
}

/// A value kept as JSON, as people read it: a time in the site's zone.
fn shown(user: &WebUser, value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Null => "—".to_owned(),
        serde_json::Value::String(s) => match s.parse::<chrono::DateTime<chrono::Utc>>() {
            Ok(t) if s.contains('T') => user.when(t),
            _ => s.clone(),
        },
        other => other.to_string(),
    }
}

fn shown_text(user: &WebUser, json_text: &str) -> String {
    shown(
        user,
        &serde_json::from_str(json_text).unwrap_or(serde_json::Value::Null),
    )
}

/// The section, with `more` (the patient page's assessments) at its end.
pub fn section_view(user: &WebUser, sheet: &Sheet, more: Markup) -> Markup {
    let Some(kind) = sheet.kind else {
        return html! {};
    };
    let corrects = user.user.role == kind.corrector();
    html! {
        section class="card" id="corrections" {
            h2 { (t("corrections-section")) }
            table {
                thead { tr { th { (t("corrections-field")) } th { (t("corrections-current")) } th {} } }
                tbody {
                    @for (field, value) in &sheet.current {
                        tr {
                            td { (field_words(field)) }
                            td { (shown(user, value)) }
                            td {
                                @if corrects {
                                    a href={ "/corrections/" (kind) "/" (sheet.id) "?field=" (field) } { (t("corrections-correct")) }
                                }
                            }
                        }
                    }
                }
            }
            (more)
            (history_view(user, &sheet.entries))
        }
    }
}

/// A field in words, as the people who typed it know it (never the
/// column's name): "Expiry", "DLQI question 3", "PASI Head: Erythema".
fn field_words(field: &str) -> String {
    if let Some(number) = field
        .strip_prefix("answers[")
        .and_then(|rest| rest.strip_suffix(']'))
        .and_then(|n| n.parse::<usize>().ok())
    {
        return t_with(
            "corrections-field-dlqi-answer",
            &[("number", arg(number + 1))],
        );
    }
    if let Some((region, part)) = field
        .strip_prefix("regions.")
        .and_then(|rest| rest.split_once('.'))
    {
        return t_with(
            "corrections-field-pasi-score",
            &[
                (
                    "region",
                    arg(t(&format!("assess-region-{}", region.replace('_', "-")))),
                ),
                ("part", arg(t(&format!("assess-part-{part}")))),
            ],
        );
    }
    t(&format!("corrections-field-{}", field.replace('_', "-")))
}

/// Every earlier value, oldest first, with who, when and why.
fn history_view(user: &WebUser, entries: &[Entry]) -> Markup {
    html! {
        h3 { (t("corrections-history")) }
        @if entries.is_empty() {
            p class="muted" { (t("corrections-none")) }
        } @else {
            table class="history" {
                thead { tr { th { (t("col-when")) } th { (t("corrections-field")) } th { (t("corrections-change")) } th { (t("col-who")) } th { (t("corrections-why")) } } }
                tbody {
                    @for e in entries {
                        @let c = &e.correction;
                        tr class="correction" {
                            td class="nowrap" { (user.when(c.corrected_at)) }
                            td { (field_words(&c.field)) }
                            td { (t_with("corrections-old-new", &[("old", arg(shown_text(user, &c.old_value))), ("new", arg(shown_text(user, &c.new_value)))])) }
                            td {
                                @if let Some(s) = &e.signature {
                                    (t_with("corrections-by", &[("name", arg(&s.signer_full_name)), ("username", arg(&s.signer_username)), ("meaning", arg(&s.meaning))]))
                                }
                            }
                            td { q { (c.reason) } }
                        }
                    }
                }
            }
        }
    }
}

/// The patient page's links to correct each assessment's answers.
pub fn assessment_links(user: &WebUser, scored: &[assessment::Model]) -> Markup {
    if user.user.role != SubjectKind::Assessment.corrector() || scored.is_empty() {
        return html! {};
    }
    html! {
        p { (t("corrections-assessments")) }
        ul {
            @for a in scored {
                li { a href={ "/corrections/assessment/" (a.id) } {
                    (a.kind.as_str().to_uppercase()) " " (user.date(a.assessed_at)) " (" (a.score) ")"
                } }
            }
        }
    }
}

/// The lot page's links to correct each QC result's value.
pub fn qc_links(user: &WebUser, results: &[qc_result::Model]) -> Markup {
    if user.user.role != SubjectKind::QcResult.corrector() || results.is_empty() {
        return html! {};
    }
    html! {
        p { (t("corrections-qc")) }
        ul {
            @for r in results {
                li { a href={ "/corrections/qc_result/" (r.id) } {
                    (r.test) ": " (r.value) (r.unit.as_deref().map(|u| format!(" {u}")).unwrap_or_default())
                } }
            }
        }
    }
}

fn kind_of(raw: &str) -> Result<SubjectKind, PageError> {
    raw.parse()
        .map_err(|_| PageError::App(crate::error::AppError::not_found("record kind", raw)))
}

/// Where a record's own page is.
fn record_path(kind: SubjectKind, id: Uuid) -> Option<String> {
    match kind {
        SubjectKind::Donor => Some(format!("/donors/{id}")),
        SubjectKind::Lot => Some(format!("/lots/{id}")),
        SubjectKind::Vial => Some(format!("/vials/{id}")),
        SubjectKind::Patient => Some(format!("/patients/{id}")),
        _ => None,
    }
}

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    pub field: Option<String>,
    #[serde(default)]
    pub ok: Option<String>,
    #[serde(default)]
    pub error: Option<String>,
}

/// The record's correctable values, each with its signed form, and the
/// history.
pub async fn corrections_page(
    State(state): State<AppState>,
    user: PageUser,
    Path((kind, id)): Path<(String, Uuid)>,
    Query(query): Query<PageQuery>,
) -> Result<Html<String>, PageError> {
    let kind = kind_of(&kind)?;
    let sheet = sheet(&state, kind, id).await?;
    let flash = Flash {
        ok: query.ok.clone(),
        error: query.error.clone(),
    };
    Ok(page::show(
        &t_with(
            "corrections-title",
            &[("what", arg(t(&format!("corrections-kind-{kind}"))))],
        ),
        &user,
        html! {
            (flash.render())
            @if let Some(path) = record_path(kind, id) {
                p { a href=(path) { (t("corrections-back")) } }
            }
            p class="muted" { (t("corrections-hint")) }
            @if user.user.role == kind.corrector() {
                @for (field, value) in &sheet.current {
                    (form_view(&user, kind, id, field, value, query.field.as_deref() == Some(field.as_str())))
                }
            }
            (section_view(&user, &sheet, html! {}))
        },
    ))
}

/// How a field is typed on the form.
fn input(user: &WebUser, field: &str, value: &serde_json::Value) -> Markup {
    let text = match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    };
    if field.ends_with("_at") {
        let local = text
            .parse::<chrono::DateTime<chrono::Utc>>()
            .map(|t| user.field_time(t))
            .unwrap_or_default();
        return html! { input name="value" type="datetime-local" required value=(local); };
    }
    match field {
        "birth_date" => html! { input name="value" type="date" required value=(text); },
        "sex" => html! {
            select name="value" required {
                @for s in ["female", "male"] { option value=(s) selected[s == text] { (s) } }
            }
        },
        _ => html! { input name="value" required autocomplete="off" value=(text); },
    }
}

fn form_view(
    user: &WebUser,
    kind: SubjectKind,
    id: Uuid,
    field: &str,
    value: &serde_json::Value,
    open: bool,
) -> Markup {
    let old = match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    };
    html! {
        details class="correct-field" open[open] {
            summary { (t("corrections-correct")) " " (field_words(field)) ": " (shown(user, value)) }
            form method="post" action={ "/corrections/" (kind) "/" (id) } {
                input type="hidden" name="csrf" value=(user.csrf());
                input type="hidden" name="field" value=(field);
                input type="hidden" name="old_value" value=(old);
                label { (t("corrections-new-value")) (input(user, field, value)) }
                label { (t("corrections-reason")) input name="reason" required maxlength="1000"; }
                (signature_fields("correction"))
                div class="actions" { button type="submit" { (t("corrections-sign")) } }
            }
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct CorrectionForm {
    pub csrf: String,
    #[serde(default)]
    pub field: String,
    #[serde(default)]
    pub value: String,
    #[serde(default)]
    pub old_value: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub meaning: String,
}

carries_csrf!(CorrectionForm);

/// Corrects the field (signed) and goes back to the corrections page,
/// saying what changed and what to reprint; a refusal goes back saying why.
pub async fn correct(
    State(state): State<AppState>,
    user: PageUser,
    Path((kind, id)): Path<(String, Uuid)>,
    CsrfForm(form): CsrfForm<CorrectionForm>,
) -> Result<Response, PageError> {
    let kind = kind_of(&kind)?;
    let page_path = format!("/corrections/{kind}/{id}");
    let back = format!("{page_path}?field={}", form.field);
    let refused =
        |error: crate::error::AppError| PageError::back(&back, sentence(&error, user.zone));
    // a time typed on the site's clock, as the service reads times
    let value = if form.field.ends_with("_at") {
        user.typed_time(&form.value)
            .map(|t| t.to_rfc3339())
            .unwrap_or_else(|| form.value.clone())
    } else {
        form.value.clone()
    };
    let old = (!form.old_value.is_empty()).then_some(form.old_value.as_str());
    let asked = corrections::ask(
        user.user.role,
        kind.as_str(),
        &form.field,
        &value,
        old,
        &form.reason,
    )
    .map_err(refused)?;
    let signature = user
        .sign(&state, form.password, form.meaning, &back)
        .await?;
    let made = corrections::correct(&state, &signature, id, asked)
        .await
        .map_err(refused)?;
    let mut message = t_with(
        "corrections-done",
        &[
            ("field", arg(field_words(&made.correction.field))),
            ("old", arg(shown_text(&user, &made.correction.old_value))),
            ("new", arg(shown_text(&user, &made.correction.new_value))),
        ],
    );
    if !made.labels_to_reprint.is_empty() {
        message.push(' ');
        message.push_str(&t_with(
            "corrections-reprint",
            &[("labels", arg(made.labels_to_reprint.join(", ")))],
        ));
    }
    if !made.reserved_doses.is_empty() {
        message.push(' ');
        message.push_str(&t_with(
            "corrections-reserved",
            &[("doses", arg(made.reserved_doses.join(", ")))],
        ));
    }
    Ok(redirect_with(&page_path, true, message))
}
