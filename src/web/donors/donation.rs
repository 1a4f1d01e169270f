//! A donation in the browser: the lab records a received cord (the
//! service gives it its DIN), a DIN typed or scanned from a label opens
//! its donation, and `/donations/{id}` shows the DIN large with its check
//! character set apart as ISBT 128 prints it, the donor, the lots made
//! from it, and its DIN label as PNG, SVG and ZPL, or sent to a label
//! printer (recorded as issued, with how many so far).

use axum::extract::{Path, State};
use axum::response::{Html, Response};
use fluent_bundle::FluentValue;
use maud::{Markup, html};
use serde::Deserialize;
use uuid::Uuid;

use crate::domain::accounts::Role;
use crate::domain::din::Din;
use crate::domain::paging::PageRequest;
use crate::domain::printer::PrintKind;
use crate::entities::donation;
use crate::i18n::{arg, t, t_with};
use crate::services::history::Entry;
use crate::services::labels::DONATION_LABEL_ISSUED;
use crate::services::lists::{self, LotFilter, SiteScope};
use crate::services::lots::LotRecord;
use crate::services::printing::printers;
use crate::services::{donations, donors, history, scan};
use crate::state::AppState;
use crate::web::error::{OrBack, PageError};
use crate::web::extract::{CsrfForm, PageUser, WebQuery, carries_csrf, roles};
use crate::web::history::history_view;
use crate::web::page::{self, Flash, pill, redirect_with, see_other};
use crate::web::printing::print_form;
use crate::web::user::WebUser;

#[derive(Debug, Deserialize)]
pub struct DonationForm {
    pub csrf: String,
    pub collected_at: String,
    pub received_at: String,
}

carries_csrf!(DonationForm);

/// Records a received cord (the API's `POST /donations`, lab); its page,
/// with its new DIN, on success.
pub async fn record(
    State(state): State<AppState>,
    user: PageUser<roles::Lab>,
    Path(donor_id): Path<Uuid>,
    CsrfForm(form): CsrfForm<DonationForm>,
) -> Result<Response, PageError> {
    let back = format!("/donors/{donor_id}");
    let unreadable = || PageError::back(&back, t("donor-time-unreadable"));
    let collected_at = user.typed_time(&form.collected_at).ok_or_else(unreadable)?;
    let received_at = user.typed_time(&form.received_at).ok_or_else(unreadable)?;
    let donation = donations::create(
        &state,
        &user.user.actor(),
        donor_id,
        collected_at,
        received_at,
    )
    .await
    .or_back(&back, user.zone)?;
    let din = donations::din_of(&donation)?;
    Ok(redirect_with(
        &format!("/donations/{}", donation.id),
        true,
        t_with("donation-recorded", &[("din", arg(din.display()))]),
    ))
}

#[derive(Debug, Default, Deserialize)]
pub struct FindQuery {
    #[serde(default)]
    pub din: String,
    /// The donor whose page the box was on: where a refusal goes back to.
    #[serde(default)]
    pub donor: Option<Uuid>,
}

/// Opens the donation a DIN names, read as the scan station reads it
/// (`services::scan`, check character and all).
pub async fn find(
    State(state): State<AppState>,
    user: PageUser,
    WebQuery(query): WebQuery<FindQuery>,
) -> Result<Response, PageError> {
    let back = query
        .donor
        .map_or_else(|| "/donors".to_owned(), |id| format!("/donors/{id}"));
    let resolved = scan::resolve(&state, &user.user, &query.din)
        .await
        .or_back(&back, user.zone)?;
    if resolved.kind != "donation" {
        return Err(PageError::back(&back, t("donation-find-not-a-din")));
    }
    Ok(see_other(&format!("/donations/{}", resolved.id)))
}

pub async fn donation_page(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<Uuid>,
    WebQuery(flash): WebQuery<Flash>,
) -> Result<Html<String>, PageError> {
    let donation = donations::get(&state, id).await?;
    let din = donations::din_of(&donation)?;
    let donor = donors::get(&state, donation.donor_id).await?;
    // A lot's code begins with its donation's DIN: the lots list searched
    // by the DIN, kept to this donation's, wherever they are (the
    // donation's record follows its product to every site).
    let page = PageRequest::parse(Some(&din.compact()), Some(500), None)
        .map_err(crate::error::AppError::from)?;
    let lots: Vec<LotRecord> =
        lists::lots(&state, &SiteScope::Everywhere, &LotFilter::default(), &page)
            .await?
            .items
            .into_iter()
            .filter(|r| r.lot.donation_id == id)
            .collect();
    let history = history::of(&state, "donation", id).await?;
    let issued = din_labels_issued(&history);
    let printing = html! {
        // said where labels can be printed, or once some were
        @if issued > 0 || !printers(&state).is_empty() {
            p { (t_with("donation-labels-issued", &[("count", FluentValue::from(issued))])) }
            p class="muted" { (t("donation-labels-downloads")) }
        }
    };
    let print = print_form(PrintKind::Donation, id, printers(&state), &user);
    let corrections = crate::web::corrections::section(
        &state,
        &user,
        crate::domain::correction::SubjectKind::Donation,
        id,
    )
    .await?;
    Ok(page::show(
        &t_with("donation-title", &[("din", arg(din.display()))]),
        &user,
        html! {
            (donation_view(&user, &donation, &din, &donor.donor, &flash, printing))
            // beside the label it prints
            (print)
            (lots_view(&user, &donation, &lots))
            (corrections)
            (history_view(&history, &user))
        },
    ))
}

/// DIN labels issued so far: the counts of the issues the history holds
/// (the ledger is the record; the page only adds them up).
fn din_labels_issued(history: &[Entry]) -> i64 {
    history
        .iter()
        .filter(|e| e.event.action == DONATION_LABEL_ISSUED)
        .filter_map(|e| serde_json::from_str::<serde_json::Value>(&e.event.details).ok())
        .filter_map(|details| details["count"].as_i64())
        .sum()
}

fn donation_view(
    user: &WebUser,
    donation: &donation::Model,
    din: &Din,
    donor: &crate::entities::donor::Model,
    flash: &Flash,
    printing: Markup,
) -> Markup {
    let display = din.display();
    // "A9999 26 000123 K": the check character is printed apart, boxed
    let data = display[..display.len() - 1].trim_end();
    html! {
        h1 { (t("donation-heading")) }
        (flash.render())
        section class="card" {
            p class="big code" aria-label=(t_with("donation-din-aria", &[("din", arg(&display))])) {
                (data) " "
                span class="din-check" style="border:3px solid currentColor;padding:0 .35rem;margin-left:.4rem" title=(t("donation-check-character")) { (din.check_character()) }
            }
            p class="muted" { (t("donation-din-hint")) }
            table { tbody {
                tr { th { (t("donation-donor")) } td { a class="code" href={ "/donors/" (donor.id) } { (donor.code) } " " (pill(donor.eligibility)) } }
                tr { th { (t("donor-col-collected")) } td { (user.when(donation.collected_at)) } }
                tr { th { (t("donor-col-received")) } td { (user.when(donation.received_at)) } }
            } }
            h2 { (t("donation-label-heading")) }
            div class="actions" {
                a class="button secondary" href={ "/api/v1/donations/" (donation.id) "/label.png" } { (t("donation-label-png")) }
                a class="button secondary" href={ "/api/v1/donations/" (donation.id) "/label.svg" } { (t("donation-label-svg")) }
                a class="button secondary" href={ "/api/v1/donations/" (donation.id) "/label.pdf" } { (t("label-pdf")) }
                a class="button secondary" href={ "/api/v1/donations/" (donation.id) "/label.zpl" } { (t("donation-label-zpl")) }
            }
            (printing)
        }
    }
}

/// The lots made from the donation, and (for the lab) starting one.
fn lots_view(user: &WebUser, donation: &donation::Model, lots: &[LotRecord]) -> Markup {
    html! {
        section class="card" id="lots" {
            h2 { (t("donation-lots-heading")) }
            @if lots.is_empty() {
                p class="muted" { (t("donation-no-lots")) }
            } @else {
                table {
                    thead { tr { th { (t("col-lot")) } th { (t("col-status")) } th { (t("col-expires")) } } }
                    tbody { @for r in lots {
                        tr {
                            td { a class="code" href={ "/lots/" (r.lot.id) } { (r.lot.code) } }
                            td { (pill(r.lot.status)) }
                            td class="nowrap" { (user.date(r.lot.expires_at)) }
                        }
                    } }
                }
            }
            @if user.user.role == Role::Lab {
                div class="actions" { a class="button" href={ "/lots/new?donation=" (donation.id) } { (t("donation-start-lot")) } }
            }
        }
    }
}
