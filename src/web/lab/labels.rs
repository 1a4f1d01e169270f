//! The lot's label sheet (lab): recording its issue first
//! (`services::labels::issue_for_lot`, as `POST /api/v1/lots/{id}/label-issues`:
//! who, when, how many, why for a reprint), then the PDF; and the
//! reconciliation of labels issued against vials, in words, from the
//! vials' counts and the lot's ledger.

use axum::extract::{Path, State};
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;
use uuid::Uuid;

use crate::domain::accounts::Role;
use crate::i18n::{arg, t, t_with};
use crate::services::{history, labels, vials};
use crate::state::AppState;
use crate::web::error::{PageError, sentence};
use crate::web::extract::{CsrfForm, PageUser, carries_csrf, roles};
use crate::web::page::redirect_with;
use crate::web::user::WebUser;

/// Labels issued against vials, each issue in words, and (for the lab) the
/// form that records the next issue.
pub fn labels_section(
    user: &WebUser,
    lot_id: Uuid,
    vial_list: &[vials::VialRecord],
    history: &[history::Entry],
) -> Markup {
    let labelled = vial_list
        .iter()
        .filter(|v| v.vial.labels_issued > 0)
        .count();
    let issued: i64 = vial_list
        .iter()
        .map(|v| i64::from(v.vial.labels_issued))
        .sum();
    let issues = history
        .iter()
        .filter(|e| e.event.action == "lot.labels_issued")
        .collect::<Vec<_>>();
    html! {
        section class="card" id="labels" {
            h2 { (t("lab-labels-heading")) }
            p id="label-reconciliation" {
                (t_with("lab-labels-reconciled", &[
                    ("vials", arg(vial_list.len())),
                    ("labelled", arg(labelled)),
                    ("labels", arg(issued)),
                ]))
                @if labelled < vial_list.len() {
                    " " strong { (t_with("lab-labels-missing", &[("count", arg(vial_list.len() - labelled))])) }
                }
            }
            @if !issues.is_empty() {
                ul { @for e in &issues { li { (issue_words(user, e)) } } }
                div class="actions" {
                    a class="button" href={ "/api/v1/lots/" (lot_id) "/labels.pdf" } { (t("lab-labels-open-pdf")) }
                }
            }
            @if user.user.role == Role::Lab {
                form method="post" action={ "/lots/" (lot_id) "/label-issues" } {
                    input type="hidden" name="csrf" value=(user.csrf());
                    label { (t("lab-labels-count")) input name="count" type="number" min="1" max="10" value="1" required style="max-width:8rem"; }
                    @if !issues.is_empty() {
                        label { (t("lab-labels-reason")) input name="reason" required placeholder=(t("lab-labels-reason-placeholder")); }
                    }
                    div class="actions" { button type="submit" { (t("lab-labels-issue")) } }
                }
            }
        }
    }
}

/// One recorded issue: when, who, how many, why.
fn issue_words(user: &WebUser, entry: &history::Entry) -> String {
    let e = &entry.event;
    let details: serde_json::Value = serde_json::from_str(&e.details).unwrap_or_default();
    let words = t_with(
        "lab-labels-issue-line",
        &[
            ("when", arg(user.when(e.occurred_at))),
            ("who", arg(&e.actor_username)),
            ("count", arg(details["count"].as_i64().unwrap_or_default())),
            ("vials", arg(details["vials"].as_i64().unwrap_or_default())),
        ],
    );
    match details["reason"].as_str() {
        Some(reason) => format!(
            "{words} {}",
            t_with("lab-labels-reprint-line", &[("reason", arg(reason))])
        ),
        None => words,
    }
}

#[derive(Debug, Deserialize)]
pub struct IssueForm {
    pub csrf: String,
    pub count: String,
    #[serde(default)]
    pub reason: String,
}

carries_csrf!(IssueForm);

/// Records the issue of the lot's label sheet; then the page offers the PDF.
pub async fn issue(
    State(state): State<AppState>,
    user: PageUser<roles::Lab>,
    Path(id): Path<Uuid>,
    CsrfForm(form): CsrfForm<IssueForm>,
) -> Result<Response, PageError> {
    let back = format!("/lots/{id}");
    let refuse =
        |why: String| PageError::back(&back, t_with("lab-labels-refused", &[("why", arg(why))]));
    let Ok(count) = form.count.trim().parse::<i32>() else {
        return Err(refuse(t("lab-labels-bad-count")));
    };
    let reason = Some(form.reason.trim()).filter(|r| !r.is_empty());
    let issue = labels::issue_for_lot(&state, &user.user.actor(), id, count, reason)
        .await
        .map_err(|error| refuse(sentence(&error, user.zone)))?;
    Ok(redirect_with(
        &back,
        true,
        t_with(
            "lab-labels-issued",
            &[
                ("count", arg(issue.count)),
                ("vials", arg(issue.vials.len())),
                ("who", arg(&issue.issued_by)),
                ("when", arg(user.when(issue.issued_at))),
            ],
        ),
    ))
}
