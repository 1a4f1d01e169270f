//! `/donors/{id}`: a donor's details and consent, screening results and
//! the eligibility decision (`screening` draws those), the donations with
//! the form to record one, a box to open a donation by its DIN, and the
//! donor's history from the ledger.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::response::Html;
use maud::{Markup, html};
use uuid::Uuid;

use crate::domain::accounts::Role;
use crate::domain::din::Din;
use crate::domain::donor::Eligibility;
use crate::i18n::{arg, t, t_with};
use crate::services::donors::{self, DonorRecord};
use crate::services::history::{self, Entry};
use crate::state::AppState;
use crate::web::donors::screening;
use crate::web::error::PageError;
use crate::web::extract::{PageUser, WebQuery};
use crate::web::history::history_view;
use crate::web::page::{self, Flash, pill};
use crate::web::user::WebUser;

/// The donor's page: the API's `GET /donors/{id}` admits all staff, and so
/// does this page; the forms on it are shown to the role that may send them.
pub async fn donor_page(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<Uuid>,
    WebQuery(flash): WebQuery<Flash>,
) -> Result<Html<String>, PageError> {
    let record = donors::get(&state, id).await?;
    let history = history::of(&state, "donor", id).await?;
    let now = user.field_time(state.clock.now());
    let corrections = crate::web::corrections::section(
        &state,
        &user,
        crate::domain::correction::SubjectKind::Donor,
        id,
    )
    .await?;
    let withdrawal =
        crate::web::withdrawals::donor_section(&state, &user, id, &record.donor.code).await?;
    Ok(page::show(
        &t_with("donor-title", &[("code", arg(&record.donor.code))]),
        &user,
        html! {
            (donor_view(&user, &record, &history, &flash, &now))
            (withdrawal)
            (corrections)
            (history_view(&history, &user))
        },
    ))
}

/// Who recorded each screening result, from the ledger event that
/// recorded it (the result itself keeps only the account's id).
fn recorders(history: &[Entry]) -> HashMap<String, String> {
    history
        .iter()
        .filter(|e| e.event.action == "donor.screening_recorded")
        .filter_map(|e| {
            let details: serde_json::Value = serde_json::from_str(&e.event.details).ok()?;
            let id = details["screening_id"].as_str()?.to_owned();
            Some((id, e.event.actor_username.clone()))
        })
        .collect()
}

fn donor_view(
    user: &WebUser,
    record: &DonorRecord,
    history: &[Entry],
    flash: &Flash,
    now: &str,
) -> Markup {
    let d = &record.donor;
    let lab = user.user.role == Role::Lab;
    html! {
        h1 { (t("donor-heading")) " " span class="code" { (d.code) } " " (pill(d.eligibility)) }
        (flash.render())
        div class="grid" {
            section class="card" {
                table { tbody {
                    tr { th { (t("donor-code")) } td class="code" { (d.code) } }
                    tr { th { (t("donor-consent")) } td { (t_with("donor-consent-given", &[("when", arg(user.when(d.consent_at)))])) } }
                    tr { th { (t("col-eligibility")) } td {
                        (pill(d.eligibility))
                        @if let Some(reason) = &d.eligibility_reason { " " q { (reason) } }
                        @if let Some(at) = d.eligibility_decided_at {
                            div class="muted small" {
                                @if d.eligibility_decided_by.is_some() { (t_with("donor-decided-at", &[("when", arg(user.when(at)))])) }
                                @else { (t_with("donor-found-at", &[("when", arg(user.when(at)))])) }
                            }
                        }
                    } }
                    tr { th { (t("donor-registered")) } td { (user.when(d.created_at)) } }
                } }
            }
            (screening::standing_view(user, record))
        }
        (screening::results_view(user, record, &recorders(history), now))
        section class="card" id="donations" {
            h2 { (t("donor-donations-heading")) }
            @if record.donations.is_empty() {
                p class="muted" { (t("donor-no-donations")) }
            } @else {
                table {
                    thead { tr { th { (t("donor-col-din")) } th { (t("donor-col-collected")) } th { (t("donor-col-received")) } } }
                    tbody { @for donation in &record.donations {
                        tr {
                            td { a class="code" href={ "/donations/" (donation.id) } { (din_text(&donation.din)) } }
                            td class="nowrap" { (user.when(donation.collected_at)) }
                            td class="nowrap" { (user.when(donation.received_at)) }
                        }
                    } }
                }
            }
            (find_din_form(d.id))
            @if lab && d.eligibility != Eligibility::Ineligible {
                details open[record.donations.is_empty() && d.eligibility == Eligibility::Eligible] {
                    summary { (t("donor-record-donation")) }
                    form method="post" action={ "/donors/" (d.id) "/donations" } {
                        input type="hidden" name="csrf" value=(user.csrf());
                        p class="muted" { (t("donor-din-assigned")) }
                        label { (t_with("donor-collected-at", &[("zone", arg(user.zone.name()))]))
                            input type="datetime-local" name="collected_at" value=(now) required;
                        }
                        label { (t_with("donor-received-at", &[("zone", arg(user.zone.name()))]))
                            input type="datetime-local" name="received_at" value=(now) required;
                        }
                        div class="actions" { button type="submit" { (t("donor-record-donation-button")) } }
                    }
                }
            } @else if lab {
                p class="msg warn" { (t("donor-ineligible-no-donation")) }
            }
        }
    }
}

/// A box for a DIN typed or scanned from a cord's label, with its check
/// character: it opens that donation (a wrong check character is said in
/// words, never looked up).
fn find_din_form(donor_id: Uuid) -> Markup {
    html! {
        form method="get" action="/donations/find" {
            input type="hidden" name="donor" value=(donor_id);
            label { (t("donor-find-din"))
                input class="scanbox code" name="din" autocomplete="off" required placeholder="A9999 26 000123 K";
            }
            div class="actions" { button class="secondary" type="submit" { (t("donor-find-din-button")) } }
        }
    }
}

/// A stored DIN as its label prints it, check character last.
pub(crate) fn din_text(din: &str) -> String {
    Din::parse(din).map_or_else(|_| din.to_owned(), |d| d.display())
}
