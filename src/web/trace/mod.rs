//! `/trace/lots/{id}`: the lot's trace as a picture, recipients first
//! ([`graph`]), each recipient's doses and their vials to open below it,
//! and the CSV download.

pub mod graph;

use axum::extract::{Path, State};
use axum::response::Html;
use maud::{Markup, html};
use uuid::Uuid;

use crate::i18n::{arg, t, t_with};
use crate::services::trace::{self, LotTrace};
use crate::state::AppState;
use crate::web::error::PageError;
use crate::web::extract::PageUser;
use crate::web::page::{self, pill};
use crate::web::user::WebUser;

pub async fn lot_trace(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<Uuid>,
) -> Result<Html<String>, PageError> {
    let lt = trace::lot(&state, id).await?;
    Ok(page::show(
        &t_with("trace-title", &[("code", arg(&lt.lot.code))]),
        &user,
        lot_trace_view(&user, &lt),
    ))
}

fn lot_trace_view(user: &WebUser, lt: &LotTrace) -> Markup {
    html! {
        h1 { (t("trace-heading")) " " span class="code" { (lt.lot.code) } " " (pill(lt.lot.status)) }
        div class="actions" {
            a class="button" href={ "/api/v1/trace/lots/" (lt.lot.id) "?format=csv" } { (t("trace-download-csv")) }
            a class="button secondary" href={ "/lots/" (lt.lot.id) } { (t("trace-lot-page")) }
            a class="button secondary" href={ "/api/v1/trace/donors/" (lt.donor.id) "?format=csv" } { (t("trace-donor-csv")) }
        }
        (crate::web::withdrawals::trace_banner(user, lt))
        p class="muted" {
            (t("trace-legend")) span class="pill available" { (t("status-available")) } " " span class="pill infused" { (t("status-infused")) } " "
            span class="pill reserved" { (t("trace-reserved-thawed")) } " " span class="pill recalled" { (t("trace-recalled-mark")) } " "
            span class="pill discarded" { (t("trace-discarded-mark")) }
        }
        section class="card" style="overflow-x:auto" { (graph::graph(lt)) }
        (dose_details(lt))
        @if !lt.shipments.is_empty() {
            section class="card" {
                h2 { (t("trace-shipments")) }
                table {
                    thead { tr { th { (t("ship-col-code")) } th { (t("ship-from")) } th { (t("ship-to")) } th { (t("col-status")) } th { (t("ship-sealed-at")) } th { (t("ship-received-at")) } th class="num" { (t("ship-vials")) } th { (t("trace-shipment-missing")) } } }
                    tbody { @for s in &lt.shipments {
                        tr {
                            td { a class="code" href={ "/shipments/" (s.id) } { (s.code) } }
                            td { (s.from_site) }
                            td { (s.to_site) }
                            td { (pill(s.status)) }
                            td class="nowrap" { @if let Some(at) = s.sealed_at { (user.when(at)) } }
                            td class="nowrap" { @if let Some(at) = s.received_at { (user.when(at)) } }
                            td class="num" { (s.vial_codes.len()) }
                            td { (s.missing.join(", ")) }
                        }
                    } }
                }
            }
        }
        div class="grid" {
            section class="card" {
                h2 { (t("trace-recipients")) }
                @if lt.recipients.is_empty() { p class="muted" { (t("trace-nobody")) } }
                table { tbody { @for r in &lt.recipients {
                    tr {
                        td { a href={ "/patients/" (r.patient_id) } { (r.subject_code) } }
                        // the recipient's Chain of Identity identifier, beside
                        // the DIN of the donation the lot came from
                        td class="nowrap" title=(t("coi-label")) { (crate::web::clinic::patient::coi_markup(r.coi.as_deref())) }
                        td { @for at in &r.infused_at { (user.when(*at)) br; } }
                    }
                } } }
            }
            section class="card" {
                h2 { (t("trace-donor-donation")) }
                p { (lt.donor.code) " " (pill(lt.donor.eligibility)) }
                p { "DIN " span class="code" { (lt.donation.din_display) } (t_with("trace-collected", &[("when", arg(user.when(lt.donation.collected_at)))])) }
                @if !lt.adverse_events.is_empty() {
                    h2 { (t("trace-adverse-events")) }
                    ul { @for e in &lt.adverse_events { li { (t_with("trace-adverse-event", &[("subject", arg(&e.subject_code)), ("term", arg(&e.term)), ("grade", arg(e.grade))])) } } }
                }
            }
        }
    }
}

/// Each recipient's doses of this lot and the vials in each, closed until
/// opened: the picture counts them, this names them.
fn dose_details(lt: &LotTrace) -> Markup {
    let rows = graph::rows(lt);
    html! {
        section class="card" {
            h2 { (t("trace-doses-and-vials")) }
            @for row in &rows {
                @match row {
                    graph::Row::Recipient { patient_id, subject_code, doses } => {
                        details {
                            summary {
                                (t_with("trace-recipient-summary", &[
                                    ("subject", arg(*subject_code)),
                                    ("doses", arg(doses.len())),
                                    ("vials", arg(doses.iter().map(|d| d.vial_codes.len()).sum::<usize>())),
                                ]))
                            }
                            p { a href={ "/patients/" (patient_id) } { (t("trace-patient-page")) } }
                            table { tbody { @for d in doses {
                                tr {
                                    td class="nowrap" { a class="code" href={ "/doses/" (d.id) } { (d.code) } }
                                    td { "#" (d.infusion_number) }
                                    td { (pill(d.status)) }
                                    td { @for (i, code) in d.vial_codes.iter().enumerate() { @if i > 0 { ", " } span class="code" { (code) } } }
                                }
                            } } }
                        }
                    }
                    graph::Row::Unused { status, count } => {
                        p {
                            a href={ "/vials?lot_id=" (lt.lot.id) "&status=" (status.as_str()) } {
                                (t_with("trace-unused-vials", &[("count", arg(*count)), ("status", arg(t(&format!("status-{}", status.as_str()))))]))
                            }
                        }
                    }
                }
            }
        }
    }
}
