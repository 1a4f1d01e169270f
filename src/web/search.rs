//! `/search`: one box for any code, DIN or subject code, typed or scanned
//! (in every staff page's header too). Exactly one match opens its record;
//! otherwise every match is listed by kind, with links to the full lists.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;

use crate::domain::paging::PageRequest;
use crate::error::AppError;
use crate::services::lists::{self, DoseFilter, LotFilter, VialFilter};
use crate::state::AppState;
use crate::web::error::{PageError, sentence};
use crate::web::extract::{PageUser, WebQuery};
use crate::web::lists::problem_view;
use crate::web::page::{self, pill, see_other, url_encode};

#[derive(Debug, Default, Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    q: Option<String>,
}

/// Most records of each kind the search page shows.
const SEARCH_SHOWS: u64 = 10;

/// One box for any code, DIN or subject code, typed or scanned: straight
/// to the record when exactly one matches, else every match by kind.
pub async fn search(
    State(state): State<AppState>,
    user: PageUser,
    WebQuery(query): WebQuery<SearchQuery>,
) -> Result<Response, PageError> {
    let typed = query.q.as_deref().map(str::trim).unwrap_or("");
    let body = if typed.is_empty() {
        html! { h1 { "Search" } (search_form("")) }
    } else {
        let page = PageRequest::parse(Some(typed), Some(SEARCH_SHOWS), None);
        match page {
            Err(refused) => html! {
                h1 { "Search" }
                (search_form(typed))
                (problem_view(Some(&sentence(&AppError::from(refused), user.zone))))
            },
            Ok(page) => {
                let lots = lists::lots(&state, &LotFilter::default(), &page).await?;
                let vials = lists::vials(&state, &VialFilter::default(), &page).await?;
                let doses = lists::doses(&state, &DoseFilter::default(), &page).await?;
                let patients = lists::patients(&state, &page).await?;
                let donors = lists::donors(&state, None, &page).await?;
                let mut links: Vec<(&str, String, String, &str)> = Vec::new();
                links.extend(lots.items.iter().map(|r| {
                    (
                        "Lot",
                        format!("/lots/{}", r.lot.id),
                        r.lot.code.clone(),
                        r.lot.status.as_str(),
                    )
                }));
                links.extend(vials.items.iter().map(|r| {
                    (
                        "Vial",
                        format!("/vials/{}", r.vial.id),
                        r.vial.code.to_string(),
                        r.vial.status.as_str(),
                    )
                }));
                links.extend(doses.items.iter().map(|r| {
                    (
                        "Dose",
                        format!("/doses/{}", r.dose.id),
                        r.dose.code.to_string(),
                        r.dose.status.as_str(),
                    )
                }));
                links.extend(patients.items.iter().map(|r| {
                    (
                        "Patient",
                        format!("/patients/{}", r.patient.id),
                        r.patient.subject_code.to_string(),
                        "",
                    )
                }));
                links.extend(donors.items.iter().map(|r| {
                    (
                        "Donor",
                        format!("/donors?q={}", url_encode(&r.donor.code)),
                        r.donor.code.clone(),
                        r.donor.eligibility.as_str(),
                    )
                }));
                if let [(_, only, _, _)] = links.as_slice() {
                    return Ok(see_other(only));
                }
                let term = page.search.as_deref().unwrap_or("");
                let more: Vec<(&str, String)> = [
                    ("lots", "/lots", &lots.next_cursor),
                    ("vials", "/vials", &vials.next_cursor),
                    ("doses", "/doses", &doses.next_cursor),
                    ("patients", "/patients", &patients.next_cursor),
                    ("donors", "/donors", &donors.next_cursor),
                ]
                .into_iter()
                .filter(|(_, _, next)| next.is_some())
                .map(|(kind, path, _)| (kind, format!("{path}?q={}", url_encode(term))))
                .collect();
                html! {
                    h1 { "Search" }
                    (search_form(typed))
                    @if links.is_empty() {
                        p class="msg warn" role="status" { "Nothing has a code, DIN or subject code that starts with " strong class="code" { (typed) } "." }
                    } @else {
                        table {
                            thead { tr { th { "What" } th { "Code" } th { "Status" } } }
                            tbody { @for (kind, href, code, status) in &links {
                                tr { td { (kind) } td { a class="code" href=(href) { (code) } } td { @if !status.is_empty() { (pill(status)) } } }
                            } }
                        }
                        @if !more.is_empty() {
                            p class="muted" {
                                "Only the first " (SEARCH_SHOWS) " of each kind are shown. Every match: "
                                @for (i, (kind, href)) in more.iter().enumerate() {
                                    @if i > 0 { ", " }
                                    a href=(href) { (kind) }
                                }
                                "."
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(page::show("Search", &user, body).into_response())
}

fn search_form(typed: &str) -> Markup {
    html! {
        form method="get" action="/search" role="search" {
            label { "Code, DIN or subject code — type it or scan a label"
                input class="scanbox" type="search" name="q" value=(typed) autofocus autocomplete="off";
            }
            div class="actions" { button type="submit" { "Find" } }
        }
    }
}
