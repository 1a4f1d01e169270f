//! `/lots/{id}/recall-notice`: what a recall means for the people who
//! received the lot, on one page to print. Who recalled it, when and why
//! (from the ledger's signed event); every recipient with the infusions
//! they had from the lot (an infusion still running is said first, to be
//! stopped); for each, what to tell them in plain words; the vials held,
//! the doses cancelled and the thawed vials to destroy. Printed, the page
//! drops its header and buttons (`page.rs`'s print rules).

use axum::extract::{Path, State};
use axum::response::Html;
use maud::{Markup, html};
use serde_json::Value;
use uuid::Uuid;

use crate::domain::lifecycle::LotStatus;
use crate::i18n::{arg, t, t_with};
use crate::services::history::{self, Entry};
use crate::services::lots;
use crate::services::recall::{self, Recipient};
use crate::state::AppState;
use crate::web::error::PageError;
use crate::web::extract::PageUser;
use crate::web::page::{self, pill};
use crate::web::user::WebUser;

pub async fn recall_notice(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<Uuid>,
) -> Result<Html<String>, PageError> {
    let record = lots::get(&state, id).await?;
    let recipients = recall::recipients(state.db.conn(), id).await?;
    let history = history::of(&state, "lot", id).await?;
    let recalled = history
        .iter()
        .rev()
        .find(|e| e.event.action == "lot.recalled");
    Ok(page::show(
        &t_with("notice-title", &[("code", arg(&record.lot.code))]),
        &user,
        notice_view(&user, &record, recalled, &recipients),
    ))
}

/// A list of codes from the recall event's details.
fn codes(details: &Value, key: &str) -> Vec<String> {
    details[key]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|c| c.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn notice_view(
    user: &WebUser,
    record: &lots::LotRecord,
    recalled: Option<&Entry>,
    recipients: &[Recipient],
) -> Markup {
    let lot = &record.lot;
    let (Some(event), LotStatus::Recalled) = (recalled, lot.status) else {
        return html! {
            h1 { (t("notice-heading")) " " span class="code" { (lot.code) } " " (pill(lot.status)) }
            p class="msg warn" { (t("notice-not-recalled")) }
            p { a class="button secondary" href={ "/lots/" (lot.id) } { (t("trace-lot-page")) } }
        };
    };
    let details: Value = serde_json::from_str(&event.event.details).unwrap_or(Value::Null);
    let reason = details["reason"].as_str().unwrap_or_default();
    let signer = event
        .signature
        .as_ref()
        .map(|s| format!("{} ({})", s.signer_full_name, s.signer_username))
        .unwrap_or_else(|| event.event.actor_username.clone());
    let running: Vec<&Recipient> = recipients
        .iter()
        .filter(|r| r.infusions.iter().any(|i| i.3))
        .collect();
    let held = codes(&details, "vials_recalled");
    let cancelled = codes(&details, "doses_cancelled");
    let destroy = codes(&details, "thawed_vials_to_discard");
    html! {
        h1 { (t("notice-heading")) " " span class="code" { (lot.code) } " " (pill(lot.status)) }
        div class="actions" {
            button type="button" data-print { (t("notice-print")) }
            a class="button secondary" href={ "/lots/" (lot.id) } { (t("trace-lot-page")) }
            a class="button secondary" href={ "/trace/lots/" (lot.id) } { (t("outcomes-trace")) }
        }
        section class="card" {
            p { (t_with("notice-recalled", &[
                ("when", arg(user.when(event.event.occurred_at))),
                ("who", arg(signer)),
            ])) }
            p { strong { (t("notice-reason")) } " " (reason) }
            p class="muted" { (t_with("notice-product", &[
                ("product", arg(&lot.product_code)),
                ("din", arg(lot.code.split('-').next().unwrap_or_default())),
                ("expires", arg(user.date(lot.expires_at))),
            ])) }
        }
        @if !running.is_empty() {
            div class="msg bad" role="alert" {
                strong { (t_with("notice-running", &[("subjects", arg(running.iter().map(|r| r.subject_code.as_str()).collect::<Vec<_>>().join(", ")))])) }
            }
        }
        section class="card" {
            h2 { (t_with("notice-recipients", &[("count", arg(recipients.len()))])) }
            @if recipients.is_empty() { p { (t("notice-nobody")) } }
            @for r in recipients {
                article class="recipient" {
                    h3 { a class="code" href={ "/patients/" (r.patient_id) } { (r.subject_code) } }
                    ul { @for (_, number, at, live) in &r.infusions {
                        li {
                            (t_with("notice-infusion", &[("number", arg(*number)), ("when", arg(user.when(*at)))]))
                            @if *live { " " span class="pill bad" { (t("notice-still-running")) } }
                        }
                    } }
                    p { strong { (t("notice-tell")) } }
                    p { (t_with("notice-tell-text", &[
                        ("dates", arg(r.infusions.iter().map(|i| user.date(i.2)).collect::<Vec<_>>().join(", "))),
                        ("reason", arg(reason)),
                    ])) }
                }
            }
        }
        section class="card" {
            h2 { (t("notice-stock")) }
            p { (t_with("notice-held", &[("count", arg(held.len()))])) }
            @if !cancelled.is_empty() { p { (t_with("notice-cancelled", &[("doses", arg(cancelled.join(", ")))])) } }
            @if !destroy.is_empty() { p { (t_with("notice-destroy", &[("vials", arg(destroy.join(", ")))])) } }
        }
        script src="/assets/print.js" {}
    }
}
