//! `/search`: one box for any code, DIN or subject code, typed or scanned
//! (in every staff page's header too). Exactly one match opens its record;
//! otherwise every match is listed by kind, with links to the full lists.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;

use crate::domain::paging::PageRequest;
use crate::error::AppError;
use crate::i18n::{arg, t, t_with};
use crate::services::lists::{self, DoseFilter, LotFilter, SiteScope, VialFilter};
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
        html! { h1 { (t("search-title")) } (search_form("")) }
    } else {
        let page = PageRequest::parse(Some(typed), Some(SEARCH_SHOWS), None);
        match page {
            Err(refused) => html! {
                h1 { (t("search-title")) }
                (search_form(typed))
                (problem_view(Some(&sentence(&AppError::from(refused), user.zone))))
            },
            Ok(page) => {
                // what is at the user's sites; donors have none
                let sites = SiteScope::of_user(&state, user.user.user_id, None).await?;
                let lots = lists::lots(&state, &sites, &LotFilter::default(), &page).await?;
                let vials = lists::vials(&state, &sites, &VialFilter::default(), &page).await?;
                let doses = lists::doses(&state, &sites, &DoseFilter::default(), &page).await?;
                let patients = lists::patients(&state, &sites, &page).await?;
                let donors = lists::donors(&state, None, &page).await?;
                // (what, link, code, status), by kind
                let mut links: Vec<(&str, String, String, &str)> = Vec::new();
                for r in &lots.items {
                    let l = &r.lot;
                    links.push((
                        "kind-lot",
                        format!("/lots/{}", l.id),
                        l.code.clone(),
                        l.status.as_str(),
                    ));
                }
                for r in &vials.items {
                    let v = &r.vial;
                    links.push((
                        "kind-vial",
                        format!("/vials/{}", v.id),
                        v.code.to_string(),
                        v.status.as_str(),
                    ));
                }
                for r in &doses.items {
                    let d = &r.dose;
                    links.push((
                        "kind-dose",
                        format!("/doses/{}", d.id),
                        d.code.to_string(),
                        d.status.as_str(),
                    ));
                }
                for r in &patients.items {
                    let p = &r.patient;
                    links.push((
                        "kind-patient",
                        format!("/patients/{}", p.id),
                        p.subject_code.to_string(),
                        "",
                    ));
                }
                for r in &donors.items {
                    let d = &r.donor;
                    let href = format!("/donors/{}", d.id);
                    links.push(("kind-donor", href, d.code.clone(), d.eligibility.as_str()));
                }
                if let [(_, only, _, _)] = links.as_slice() {
                    return Ok(see_other(only));
                }
                let term = page.search.as_deref().unwrap_or("");
                let more: Vec<(&str, String)> = [
                    ("more-lots", "/lots", &lots.next_cursor),
                    ("more-vials", "/vials", &vials.next_cursor),
                    ("more-doses", "/doses", &doses.next_cursor),
                    ("more-patients", "/patients", &patients.next_cursor),
                    ("more-donors", "/donors", &donors.next_cursor),
                ]
                .into_iter()
                .filter(|(_, _, next)| next.is_some())
                .map(|(kind, path, _)| (kind, format!("{path}?q={}", url_encode(term))))
                .collect();
                html! {
                    h1 { (t("search-title")) }
                    (search_form(typed))
                    @if links.is_empty() {
                        p class="msg warn" role="status" { (t_with("search-nothing", &[("typed", arg(typed))])) }
                    } @else {
                        table {
                            thead { tr { th { (t("col-what")) } th { (t("col-code")) } th { (t("col-status")) } } }
                            tbody { @for (kind, href, code, status) in &links {
                                tr { td { (t(kind)) } td { a class="code" href=(href) { (code) } } td { @if !status.is_empty() { (pill(status)) } } }
                            } }
                        }
                        @if !more.is_empty() {
                            p class="muted" {
                                (t_with("search-more", &[("count", arg(SEARCH_SHOWS))])) " "
                                @for (i, (kind, href)) in more.iter().enumerate() {
                                    @if i > 0 { ", " }
                                    a href=(href) { (t(kind)) }
                                }
                                "."
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(page::show(&t("search-title"), &user, body).into_response())
}

fn search_form(typed: &str) -> Markup {
    html! {
        form method="get" action="/search" role="search" {
            label { (t("search-box"))
                input class="scanbox" type="search" name="q" value=(typed) autofocus autocomplete="off";
            }
            div class="actions" { button type="submit" { (t("search-find")) } }
        }
    }
}
