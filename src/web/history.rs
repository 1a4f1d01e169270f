//! A record's history on its page: who did what and when (in the site's
//! time), in words, with the signature's meaning and every reason given;
//! corrections marked as corrections, newest first.

use fluent_bundle::FluentValue;
use maud::{Markup, html};

use crate::domain::history::{describe, reasons};
use crate::i18n::{t, t_with};
use crate::services::history::Entry;
use crate::web::user::WebUser;

/// The history section of a record's page.
pub fn history_view(entries: &[Entry], user: &WebUser) -> Markup {
    html! {
        section class="card" id="history" {
            h2 { (t("history-title")) }
            @if entries.is_empty() {
                p class="muted" { (t("history-empty")) }
            } @else {
                table class="history" {
                    thead { tr { th { (t("col-when")) } th { (t("col-what-happened")) } th { (t("col-who")) } th { (t("col-signed")) } } }
                    tbody { @for entry in entries.iter().rev() { (row(entry, user)) } }
                }
            }
        }
    }
}

fn row(entry: &Entry, user: &WebUser) -> Markup {
    let e = &entry.event;
    let described = describe(&e.action);
    let correction = described.as_ref().is_some_and(|d| d.correction);
    let details: serde_json::Value = serde_json::from_str(&e.details).unwrap_or_default();
    html! {
        tr class=[correction.then_some("correction")] {
            td class="nowrap" { (user.when(e.occurred_at)) }
            td {
                @match &described {
                    Some(d) => {
                        (t(&d.key))
                        @if d.correction { " " span class="pill warn" { (t("history-correction")) } }
                    }
                    None => span class="code" { (e.action) },
                }
            }
            td { (e.actor_username) }
            td {
                @if let Some(s) = &entry.signature {
                    div { (t_with("history-signed", &[
                        ("name", FluentValue::from(s.signer_full_name.as_str())),
                        ("username", FluentValue::from(s.signer_username.as_str())),
                        ("meaning", FluentValue::from(s.meaning.as_str())),
                    ])) }
                }
                @for reason in reasons(&details) {
                    div { (t("history-reason")) " " q { (reason) } }
                }
                @match (&e.from_location, &e.to_location) {
                    (Some(from), Some(to)) => div class="muted" { (from) " → " (to) },
                    (None, Some(to)) => div class="muted" { "→ " (to) },
                    (Some(from), None) => div class="muted" { (from) " →" },
                    (None, None) => {},
                }
                div class="muted small" { (t_with("history-event", &[("seq", FluentValue::from(e.seq.to_string()))])) }
            }
        }
    }
}
