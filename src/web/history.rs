//! A record's history on its page: who did what and when (in the site's
//! time), in words, with the signature's meaning and every reason given;
//! corrections marked as corrections, newest first.

use maud::{Markup, html};

use crate::domain::history::{describe, reasons};
use crate::services::history::Entry;
use crate::web::user::WebUser;

/// The history section of a record's page.
pub fn history_view(entries: &[Entry], user: &WebUser) -> Markup {
    html! {
        section class="card" id="history" {
            h2 { "History" }
            @if entries.is_empty() {
                p class="muted" { "Nothing recorded yet." }
            } @else {
                table class="history" {
                    thead { tr { th { "When" } th { "What" } th { "Who" } th { "Signed, reasons, where" } } }
                    tbody { @for entry in entries.iter().rev() { (row(entry, user)) } }
                }
            }
        }
    }
}

fn row(entry: &Entry, user: &WebUser) -> Markup {
    let e = &entry.event;
    let described = describe(&e.action);
    let details: serde_json::Value = serde_json::from_str(&e.details).unwrap_or_default();
    html! {
        tr class=[described.filter(|d| d.correction).map(|_| "correction")] {
            td class="nowrap" { (user.when(e.occurred_at)) }
            td {
                @match described {
                    Some(d) => {
                        (d.words)
                        @if d.correction { " " span class="pill warn" { "correction" } }
                    }
                    None => span class="code" { (e.action) },
                }
            }
            td { (e.actor_username) }
            td {
                @if let Some(s) = &entry.signature {
                    div { "Signed by " (s.signer_full_name) " (" (s.signer_username) "), meaning “" (s.meaning) "”" }
                }
                @for reason in reasons(&details) {
                    div { "Reason: " q { (reason) } }
                }
                @match (&e.from_location, &e.to_location) {
                    (Some(from), Some(to)) => div class="muted" { (from) " → " (to) },
                    (None, Some(to)) => div class="muted" { "→ " (to) },
                    (Some(from), None) => div class="muted" { (from) " →" },
                    (None, None) => {},
                }
                div class="muted small" { "ledger event " (e.seq) }
            }
        }
    }
}
