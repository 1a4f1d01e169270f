//! The list pages (`/lots`, `/vials`, `/doses`, `/patients`, `/donors`):
//! the same lists, filters and search
//! as the API (`services::lists`), a page of 50 at a time by code, with a
//! link to the next. A filter that cannot be read is said in words above
//! an empty table, never an error page. Lots, vials, doses and patients
//! are those at the user's sites (`site_id` narrows to one of them).

use axum::extract::State;
use axum::response::Html;
use maud::{Markup, html};
use serde::Deserialize;
use uuid::Uuid;

use crate::domain::din::Din;
use crate::domain::donor::Eligibility;
use crate::domain::lifecycle::{DoseStatus, LotStatus, VialStatus};
use crate::domain::paging::PageRequest;
use crate::error::{AppError, AppResult};
use crate::i18n::{arg, t, t_maybe, t_with};
use crate::services::lists::{
    self, DoseFilter, ExpiringWithin, LotFilter, Page, SiteScope, VialFilter,
};
use crate::state::AppState;
use crate::web::error::{PageError, sentence};
use crate::web::extract::{PageUser, WebQuery};
use crate::web::page::{self, cells, pill, url_encode};
use crate::web::user::WebUser;

/// What a list page's form sends: text, so a mangled value is said in
/// words rather than dropping every filter.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    expiring_within_days: Option<String>,
    #[serde(default)]
    lot_id: Option<String>,
    #[serde(default)]
    box_id: Option<String>,
    #[serde(default)]
    site_id: Option<String>,
    #[serde(default)]
    cursor: Option<String>,
    /// A message carried across a redirect (`page::redirect_with`).
    #[serde(default)]
    ok: Option<String>,
}

/// Expiry choices the forms offer, in days.
const EXPIRY_CHOICES: [u32; 4] = [7, 30, 90, 180];

impl ListQuery {
    fn text(value: &Option<String>) -> Option<&str> {
        value.as_deref().map(str::trim).filter(|v| !v.is_empty())
    }

    fn page(&self) -> AppResult<PageRequest> {
        Ok(PageRequest::parse(
            Self::text(&self.q),
            None,
            Self::text(&self.cursor),
        )?)
    }

    fn status<T: std::str::FromStr>(&self) -> AppResult<Option<T>> {
        Self::text(&self.status)
            .map(|s| {
                s.parse()
                    .map_err(|_| AppError::invalid("status", t("filter-bad-status")))
            })
            .transpose()
    }

    fn expiring(&self, now: chrono::DateTime<chrono::Utc>) -> AppResult<Option<ExpiringWithin>> {
        Self::text(&self.expiring_within_days)
            .map(|days| {
                let days: u32 = days
                    .parse()
                    .map_err(|_| AppError::invalid("expiring_within_days", t("filter-bad-days")))?;
                Ok(ExpiringWithin::parse(days, now)?)
            })
            .transpose()
    }

    fn id(value: &Option<String>, what: &'static str) -> AppResult<Option<Uuid>> {
        Self::text(value)
            .map(|v| {
                v.parse()
                    .map_err(|_| AppError::invalid(what, t("filter-bad-link")))
            })
            .transpose()
    }

    /// The user's sites, or the one of them the query names.
    async fn sites(&self, state: &AppState, user: &WebUser) -> AppResult<SiteScope> {
        let asked = Self::id(&self.site_id, "site_id")?;
        SiteScope::of_user(state, user.user.user_id, asked).await
    }

    /// This query's link with the page starting at `cursor`.
    fn next_link(&self, path: &str, cursor: &str) -> String {
        let mut link = format!("{path}?cursor={}", url_encode(cursor));
        for (name, value) in [
            ("q", &self.q),
            ("status", &self.status),
            ("expiring_within_days", &self.expiring_within_days),
            ("lot_id", &self.lot_id),
            ("box_id", &self.box_id),
            ("site_id", &self.site_id),
        ] {
            if let Some(value) = Self::text(value) {
                link.push_str(&format!("&{name}={}", url_encode(value)));
            }
        }
        link
    }
}

/// A page's records, or why the filters could not be read (a refusal in
/// words; anything worse is the error page).
fn found<T>(
    user: &WebUser,
    result: AppResult<Page<T>>,
) -> Result<(Page<T>, Option<String>), PageError> {
    match result {
        Ok(page) => Ok((page, None)),
        Err(error) if error.status().is_client_error() => Ok((
            Page {
                items: Vec::new(),
                next_cursor: None,
            },
            Some(sentence(&error, user.zone)),
        )),
        Err(error) => Err(error.into()),
    }
}

pub async fn lot_list(
    State(state): State<AppState>,
    user: PageUser,
    WebQuery(query): WebQuery<ListQuery>,
) -> Result<Html<String>, PageError> {
    let result = async {
        let filter = LotFilter {
            status: query.status::<LotStatus>()?,
            expiring: query.expiring(state.clock.now())?,
        };
        let sites = query.sites(&state, &user).await?;
        lists::lots(&state, &sites, &filter, &query.page()?).await
    }
    .await;
    let (found, problem) = found(&user, result)?;
    let body = html! {
        h1 { (t("lots-title")) }
        (done_view(&query))
        div class="actions" {
            @if user.user.role == crate::domain::accounts::Role::Lab { a class="button" href="/lots/new" { (t("lab-new-lot-title")) } }
            a class="button secondary" href="/stock" { (t("stock-title")) }
        }
        (filters("/lots", &query, &t("search-lots"), &statuses(LotStatus::ALL), true))
        (problem_view(problem.as_deref()))
        div class="scroll" { table {
            thead { tr { th { (t("col-lot")) } th { (t("col-din")) } th { (t("col-status")) } th { (t("col-expires")) } th class="num" { (t("col-available")) } th class="num" { (t("col-vials")) } th { (t("col-qc")) } } }
            tbody {
                @for record in &found.items {
                    @let lot = &record.lot;
                    tr {
                        td { a class="code" href={ "/lots/" (lot.id) } { (lot.code) } }
                        td class="code nowrap" { (din_display(&lot.din)) }
                        td { (pill(lot.status)) }
                        td class="nowrap" { (user.date(lot.expires_at)) }
                        td class="num" { (record.vial_counts.get("available").copied().unwrap_or(0)) }
                        td class="num" { (record.vial_counts.values().sum::<u64>()) }
                        td { @if record.standing.passes() { span class="pill ok" { (t("qc-complete")) } } @else {
                            span class="pill pending" { (t_with("qc-open", &[("count", arg(record.standing.missing.len() + record.standing.failed.len()))])) }
                        } }
                    }
                }
            }
        } }
        (empty_or_next(found.items.is_empty(), problem.is_some(), "/lots", &query, found.next_cursor.as_deref()))
    };
    Ok(page::show(&t("lots-title"), &user, body))
}

pub async fn vial_list(
    State(state): State<AppState>,
    user: PageUser,
    WebQuery(query): WebQuery<ListQuery>,
) -> Result<Html<String>, PageError> {
    let result = async {
        let filter = VialFilter {
            status: query.status::<VialStatus>()?,
            lot_id: ListQuery::id(&query.lot_id, "lot_id")?,
            box_id: ListQuery::id(&query.box_id, "box_id")?,
            expiring: query.expiring(state.clock.now())?,
        };
        let sites = query.sites(&state, &user).await?;
        lists::vials(&state, &sites, &filter, &query.page()?).await
    }
    .await;
    let (found, problem) = found(&user, result)?;
    let body = html! {
        h1 { (t("vials-title")) }
        (done_view(&query))
        (filters("/vials", &query, &t("search-vials"), &statuses(VialStatus::ALL), true))
        (problem_view(problem.as_deref()))
        div class="scroll" { table {
            thead { tr { th { (t("col-vial")) } th { (t("col-status")) } th { (t("col-where")) } th class="num" { (t("col-cells")) } th { (t("col-lot")) } } }
            tbody {
                @for record in &found.items {
                    @let vial = &record.vial;
                    tr {
                        td { a class="code" href={ "/vials/" (vial.id) } { (vial.code) } }
                        td { (pill(vial.status)) }
                        td { @match &record.location { Some(at) => (at.path()), None => span class="muted" { (t("not-in-storage")) } } }
                        td class="num nowrap" { (cells(vial.cells_per_vial.get())) }
                        td { a href={ "/lots/" (vial.lot_id) } { (t("lot-link")) } }
                    }
                }
            }
        } }
        (empty_or_next(found.items.is_empty(), problem.is_some(), "/vials", &query, found.next_cursor.as_deref()))
    };
    Ok(page::show(&t("vials-title"), &user, body))
}

pub async fn dose_list(
    State(state): State<AppState>,
    user: PageUser,
    WebQuery(query): WebQuery<ListQuery>,
) -> Result<Html<String>, PageError> {
    let result = async {
        let filter = DoseFilter {
            status: query.status::<DoseStatus>()?,
            lot_id: ListQuery::id(&query.lot_id, "lot_id")?,
            patient_id: None,
        };
        let sites = query.sites(&state, &user).await?;
        lists::doses(&state, &sites, &filter, &query.page()?).await
    }
    .await;
    let (found, problem) = found(&user, result)?;
    let body = html! {
        h1 { (t("doses-title")) }
        (done_view(&query))
        (filters("/doses", &query, &t("search-doses"), &statuses(DoseStatus::ALL), false))
        (problem_view(problem.as_deref()))
        div class="scroll" { table {
            thead { tr { th { (t("col-dose")) } th { (t("col-patient")) } th class="num" { (t("col-infusion")) } th { (t("col-status")) } th class="num" { (t("col-target-cells")) } th { (t("col-lot")) } th { (t("col-ordered")) } } }
            tbody {
                @for record in &found.items {
                    @let dose = &record.dose;
                    tr {
                        td { a class="code" href={ "/doses/" (dose.id) } { (dose.code) } }
                        td { a class="code" href={ "/patients/" (dose.patient_id) } { (record.subject_code) } }
                        td class="num" { (t_with("infusion-of", &[("number", arg(dose.infusion_number)), ("total", arg(record.infusions_total))])) }
                        td { (pill(dose.status)) }
                        td class="num nowrap" { (cells(dose.target_cells.get())) }
                        td { a class="code" href={ "/lots/" (record.lot.id) } { (record.lot.code) } }
                        td class="nowrap" { (user.when(dose.created_at)) }
                    }
                }
            }
        } }
        (empty_or_next(found.items.is_empty(), problem.is_some(), "/doses", &query, found.next_cursor.as_deref()))
    };
    Ok(page::show(&t("doses-title"), &user, body))
}

pub async fn patient_list(
    State(state): State<AppState>,
    user: PageUser,
    WebQuery(query): WebQuery<ListQuery>,
) -> Result<Html<String>, PageError> {
    let result = async {
        let sites = query.sites(&state, &user).await?;
        lists::patients(&state, &sites, &query.page()?).await
    }
    .await;
    let (found, problem) = found(&user, result)?;
    let body = html! {
        h1 { (t("patients-title")) }
        @if user.user.role == crate::domain::accounts::Role::Clinician {
            div class="actions" { a class="button" href="/patients/new" { (t("enrol-a-patient")) } }
        }
        (done_view(&query))
        (filters("/patients", &query, &t("search-patients"), &[], false))
        (problem_view(problem.as_deref()))
        div class="scroll" { table {
            thead { tr { th { (t("col-subject")) } th { (t("col-enrolled")) } th class="num" { (t("col-infusions")) } th { (t("col-latest-weight")) } } }
            tbody {
                @for record in &found.items {
                    @let p = &record.patient;
                    tr {
                        td { a class="code" href={ "/patients/" (p.id) } { (p.subject_code) } }
                        td class="nowrap" { (user.date(p.enrolled_at)) }
                        td class="num" { (record.infusions.len()) }
                        td class="nowrap" { @match record.weights.iter().find(|w| w.voided_at.is_none()) {
                            Some(w) => { (t_with("weight-kg-on", &[("kg", arg(crate::domain::dose::kg_text(w.weight_g))), ("date", arg(user.date(w.measured_at)))])) }
                            None => span class="muted" { (t("none-yet")) },
                        } }
                    }
                }
            }
        } }
        (empty_or_next(found.items.is_empty(), problem.is_some(), "/patients", &query, found.next_cursor.as_deref()))
    };
    Ok(page::show(&t("patients-title"), &user, body))
}

pub async fn donor_list(
    State(state): State<AppState>,
    user: PageUser,
    WebQuery(query): WebQuery<ListQuery>,
) -> Result<Html<String>, PageError> {
    let result =
        async { lists::donors(&state, query.status::<Eligibility>()?, &query.page()?).await }.await;
    let (found, problem) = found(&user, result)?;
    let body = html! {
        h1 { (t("donors-title")) }
        @if user.user.role == crate::domain::accounts::Role::Lab {
            div class="actions" { a class="button" href="/donors/new" { (t("donors-register")) } }
        }
        (done_view(&query))
        (filters("/donors", &query, &t("search-donors"), &statuses(Eligibility::ALL), false))
        (problem_view(problem.as_deref()))
        div class="scroll" { table {
            thead { tr { th { (t("col-donor")) } th { (t("col-eligibility")) } th { (t("col-consent")) } th { (t("col-donations")) } } }
            tbody {
                @for record in &found.items {
                    @let donor = &record.donor;
                    tr {
                        td { a class="code" href={ "/donors/" (donor.id) } { (donor.code) } }
                        td { (pill(donor.eligibility)) }
                        td class="nowrap" { (user.date(donor.consent_at)) }
                        td { @for donation in &record.donations {
                            a class="code" href={ "/donations/" (donation.id) } { (donation.din) } " "
                        } }
                    }
                }
            }
        } }
        (empty_or_next(found.items.is_empty(), problem.is_some(), "/donors", &query, found.next_cursor.as_deref()))
    };
    Ok(page::show(&t("donors-title"), &user, body))
}

fn statuses<T: AsRef<str>>(all: &[T]) -> Vec<&str> {
    all.iter().map(AsRef::as_ref).collect()
}

/// The filter form above a list.
fn filters(
    path: &str,
    query: &ListQuery,
    search_hint: &str,
    statuses: &[&str],
    expiry: bool,
) -> Markup {
    let chosen = ListQuery::text(&query.status).unwrap_or("");
    let days = ListQuery::text(&query.expiring_within_days).unwrap_or("");
    html! {
        form class="card filters" method="get" action=(path) role="search" {
            label { (search_hint)
                input type="search" name="q" value=(ListQuery::text(&query.q).unwrap_or("")) autocomplete="off";
            }
            @if !statuses.is_empty() {
                label { (t("filter-status"))
                    select name="status" {
                        option value="" selected[chosen.is_empty()] { (t("filter-any")) }
                        @for s in statuses { option value=(s) selected[*s == chosen] { (t_maybe(&format!("status-{s}")).unwrap_or_else(|| s.replace('_', " "))) } }
                    }
                }
            }
            @if expiry {
                label { (t("filter-expiring"))
                    select name="expiring_within_days" {
                        option value="" selected[days.is_empty()] { (t("filter-any-time")) }
                        @for d in EXPIRY_CHOICES { option value=(d) selected[d.to_string() == days] { (t_with("filter-within-days", &[("days", arg(d))])) } }
                    }
                }
            }
            @if let Some(lot) = ListQuery::text(&query.lot_id) { input type="hidden" name="lot_id" value=(lot); }
            @if let Some(the_box) = ListQuery::text(&query.box_id) { input type="hidden" name="box_id" value=(the_box); }
            div class="actions" {
                button type="submit" { (t("filter-show")) }
                a class="button secondary" href=(path) { (t("filter-clear")) }
            }
        }
    }
}

/// A DIN as its label prints it, with the check character (a stored DIN
/// is always well formed; shown as stored otherwise).
fn din_display(din: &str) -> String {
    Din::parse(din).map_or_else(|_| din.to_owned(), |d| d.display())
}

pub(crate) fn problem_view(problem: Option<&str>) -> Markup {
    html! { @if let Some(problem) = problem { div class="msg bad" role="alert" { (problem) } } }
}

/// A message carried to the list across a redirect.
fn done_view(query: &ListQuery) -> Markup {
    html! { @if let Some(ok) = ListQuery::text(&query.ok) { div class="msg ok" role="status" { (ok) } } }
}

fn empty_or_next(
    empty: bool,
    refused: bool,
    path: &str,
    query: &ListQuery,
    next: Option<&str>,
) -> Markup {
    html! {
        @if empty && !refused { p class="muted" { (t("nothing-matches")) } }
        @if let Some(next) = next {
            p { a class="button secondary" href=(query.next_link(path, next)) { (t("next-page")) } }
        }
    }
}
