//! The signed amendment of the protocol, in two steps: the quality
//! officer changes values in the form on `/protocol`; the review shows
//! each changed value old → new and asks for the reason and the signature;
//! only then is the amendment made (`services::protocol::amend`, as
//! `PUT /api/v1/protocol`). Values the form cannot read, and whatever the
//! protocol's own check refuses, are said in words before anything is
//! signed.

use axum::extract::State;
use axum::response::Response;
use maud::{Markup, html};
use serde_json::Value;

use crate::domain::protocol::Protocol;
use crate::error::AppError;
use crate::i18n::{arg, t, t_with};
use crate::services::protocol::{self, Versioned};
use crate::state::AppState;
use crate::web::error::{PageError, sentence};
use crate::web::extract::{CsrfForm, PageUser, roles};
use crate::web::page::{self, redirect_with};
use crate::web::protocol::{NUMBERS, field_words, value_words};
use crate::web::user::WebUser;

const BACK: &str = "/protocol";
/// Rows of the visit schedule the form offers beyond the current visits
/// (to add one); a row left without a week is no visit.
const SPARE_VISIT_ROWS: usize = 1;

/// The form a quality officer changes values in (then reviews them).
pub fn amend_form(user: &WebUser, current: &Versioned) -> Markup {
    let p = &current.protocol;
    let fields = serde_json::to_value(p).unwrap_or_default();
    let rows = p.visit_schedule.len() + SPARE_VISIT_ROWS;
    html! {
        details class="card" id="amend" {
            summary { (t("proto-amend")) }
            p class="muted" { (t("proto-amend-explain")) }
            form method="post" action="/protocol/review" {
                input type="hidden" name="csrf" value=(user.csrf());
                input type="hidden" name="base_version" value=(current.version);
                label { (field_words("title")) input name="title" value=(p.title) required; }
                div class="grid" {
                    @for field in NUMBERS {
                        label { (field_words(field)) input name=(field) value=(fields[field]) inputmode="numeric" required; }
                    }
                    label { (field_words("independent_verification")) select name="independent_verification" {
                        option value="yes" selected[p.independent_verification] { (t("proto-yes")) }
                        option value="no" selected[!p.independent_verification] { (t("proto-no")) }
                    } }
                }
                fieldset {
                    legend { (t("proto-visits")) }
                    p class="muted" { (t("proto-visits-form-explain")) }
                    table {
                        thead { tr { th { (t("proto-col-week")) } th { (t("proto-col-early")) } th { (t("proto-col-late")) } } }
                        tbody { @for i in 0..rows {
                            @let v = p.visit_schedule.get(i);
                            tr {
                                td { input name={ "visit_week_" (i) } aria-label=(t("proto-col-week")) inputmode="numeric" value=[v.map(|v| v.week)]; }
                                td { input name={ "visit_early_" (i) } aria-label=(t("proto-col-early")) inputmode="numeric" value=[v.map(|v| v.early_days)]; }
                                td { input name={ "visit_late_" (i) } aria-label=(t("proto-col-late")) inputmode="numeric" value=[v.map(|v| v.late_days)]; }
                            }
                        } }
                    }
                }
                div class="actions" { button type="submit" { (t("proto-review")) } }
            }
        }
    }
}

/// The form's fields by name (the visit rows are numbered).
type Fields = Vec<(String, String)>;

fn field<'a>(form: &'a Fields, name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// A whole number as typed, with the spaces or commas people group digits
/// with.
fn whole(label: &str, typed: &str) -> Result<i64, String> {
    let digits: String = typed
        .chars()
        .filter(|c| !matches!(c, ' ' | ',' | '_' | '\u{a0}'))
        .collect();
    digits.parse().map_err(|_| {
        t_with(
            "proto-not-whole",
            &[("field", arg(label)), ("typed", arg(typed.trim()))],
        )
    })
}

/// The protocol as the form would have it: the one in force with the
/// form's values put in. Said in words when a value cannot be read or the
/// protocol's check refuses it.
fn proposed(current: &Protocol, form: &Fields) -> Result<Protocol, String> {
    let mut value = serde_json::to_value(current).map_err(|_| t("proto-cannot-read"))?;
    for name in NUMBERS {
        if let Some(typed) = field(form, name) {
            value[name] = Value::from(whole(&field_words(name), typed)?);
        }
    }
    if let Some(title) = field(form, "title") {
        value["title"] = Value::from(title.trim());
    }
    if let Some(choice) = field(form, "independent_verification") {
        value["independent_verification"] = Value::from(choice == "yes");
    }
    let mut schedule = Vec::new();
    for i in 0.. {
        let Some(week) = field(form, &format!("visit_week_{i}")) else {
            break;
        };
        if week.trim().is_empty() {
            continue;
        }
        let number = |name: &str, label: String| {
            whole(&label, field(form, &format!("{name}_{i}")).unwrap_or(""))
        };
        let week = whole(&t("proto-col-week"), week)?;
        schedule.push(serde_json::json!({
            "week": week,
            "early_days": number("visit_early", t("proto-col-early"))?,
            "late_days": number("visit_late", t("proto-col-late"))?,
        }));
    }
    if field(form, "visit_week_0").is_some() {
        value["visit_schedule"] = Value::Array(schedule);
    }
    let protocol: Protocol = serde_json::from_value(value).map_err(|_| t("proto-too-large"))?;
    protocol
        .check()
        .map_err(|invalid| invalid_words(invalid.field, &invalid.message))?;
    Ok(protocol)
}

/// A refused value in words: the field as people read it, then why.
/// A field the protocol refuses, in words: on a Chinese page the whole
/// sentence comes from the refusals' table (`web::refusals`). The
/// protocol's messages carry no times, so the zone is the site default's.
fn invalid_words(field: &str, message: &str) -> String {
    if crate::i18n::current() == crate::domain::language::Language::ZhCn {
        return crate::web::refusals::invalid_field(
            field,
            message,
            crate::domain::zone::SiteZone::default(),
        );
    }
    t_with(
        "proto-invalid",
        &[("field", arg(field_words(field))), ("why", arg(message))],
    )
}

/// Each changed field: its words, old and new.
fn changes(before: &Protocol, after: &Protocol) -> Vec<(String, String, String)> {
    let (Ok(Value::Object(old)), Ok(Value::Object(new))) =
        (serde_json::to_value(before), serde_json::to_value(after))
    else {
        return Vec::new();
    };
    new.iter()
        .filter(|(name, value)| old.get(*name) != Some(value))
        .map(|(name, value)| {
            (
                field_words(name),
                value_words(name, old.get(name).unwrap_or(&Value::Null)),
                value_words(name, value),
            )
        })
        .collect()
}

/// The review: every changed value old → new, then the reason and the
/// signature; the values travel on unchanged in hidden fields.
pub async fn review(
    State(state): State<AppState>,
    user: PageUser<roles::Quality>,
    CsrfForm(form): CsrfForm<Fields>,
) -> Result<Response, PageError> {
    // read, not this instance's memory: the review and the check of
    // the version reviewed are against the version recorded now
    let current = protocol::current(state.db.conn()).await?;
    same_version(&current, &form)?;
    let after = proposed(&current.protocol, &form).map_err(|words| PageError::back(BACK, words))?;
    let changed = changes(&current.protocol, &after);
    if changed.is_empty() {
        return Err(PageError::back(BACK, t("proto-nothing-changed")));
    }
    let body = review_view(&user, &current, &form, &changed);
    Ok(axum::response::IntoResponse::into_response(page::show(
        &t("proto-review-title"),
        &user,
        body,
    )))
}

fn review_view(
    user: &WebUser,
    current: &Versioned,
    form: &Fields,
    changed: &[(String, String, String)],
) -> Markup {
    let carried = form
        .iter()
        .filter(|(name, _)| !matches!(name.as_str(), "csrf" | "base_version"));
    html! {
        h1 { (t("proto-review-title")) }
        p { (t_with("proto-review-explain", &[("version", arg(current.version)), ("next", arg(current.version + 1))])) }
        section class="card" id="changes" {
            table {
                thead { tr { th { (t("proto-col-value")) } th { (t("proto-col-old")) } th { } th { (t("proto-col-new")) } } }
                tbody { @for (label, old, new) in changed {
                    tr { th { (label) } td { (old) } td { "→" } td { strong { (new) } } }
                } }
            }
        }
        form class="card" method="post" action="/protocol/amend" {
            input type="hidden" name="csrf" value=(user.csrf());
            input type="hidden" name="base_version" value=(current.version);
            @for (name, value) in carried { input type="hidden" name=(name) value=(value); }
            label { (t("proto-reason")) input name="reason" required placeholder=(t("proto-reason-placeholder")); }
            (page::signature_fields("protocol amended"))
            div class="actions" {
                button type="submit" { (t("proto-sign-amendment")) }
                a class="button secondary" href=(BACK) { (t("proto-cancel")) }
            }
        }
    }
}

/// The form's values were typed over the version in force: one amended
/// meanwhile is said, and nothing is made (its changes would otherwise be
/// undone unseen).
fn same_version(current: &Versioned, form: &Fields) -> Result<(), PageError> {
    let typed_over = field(form, "base_version").and_then(|v| v.trim().parse::<i32>().ok());
    if typed_over == Some(current.version) {
        Ok(())
    } else {
        Err(PageError::back(BACK, t("proto-amended-meanwhile")))
    }
}

/// The signed amendment: the same values as reviewed, against the same
/// version (one amended meanwhile is said, and nothing is made).
pub async fn amend(
    State(state): State<AppState>,
    user: PageUser<roles::Quality>,
    CsrfForm(form): CsrfForm<Fields>,
) -> Result<Response, PageError> {
    // read, not this instance's memory: the review and the check of
    // the version reviewed are against the version recorded now
    let current = protocol::current(state.db.conn()).await?;
    same_version(&current, &form)?;
    let after = proposed(&current.protocol, &form).map_err(|words| PageError::back(BACK, words))?;
    let password = field(&form, "password").unwrap_or("").to_owned();
    let meaning = field(&form, "meaning").unwrap_or("").to_owned();
    let reason = field(&form, "reason").unwrap_or("");
    let signature = user.sign(&state, password, meaning, BACK).await?;
    let amended = protocol::amend(&state, &signature, after, reason)
        .await
        .map_err(|error| PageError::back(BACK, amend_refusal(&error, &user)))?;
    Ok(redirect_with(
        BACK,
        true,
        t_with("proto-flash-amended", &[("version", arg(amended.version))]),
    ))
}

/// What the service refused, in words; a protocol field by its words.
fn amend_refusal(error: &AppError, user: &WebUser) -> String {
    match error {
        AppError::InvalidField { field, message } if field != "reason" => {
            invalid_words(field, message)
        }
        other => sentence(other, user.zone),
    }
}
