//! `/`: the sign-in form, or what needs doing now for the signed-in role.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;

use crate::domain::accounts::Role;
use crate::domain::visits::VisitStatus;
use crate::domain::zone::SiteZone;
use crate::error::AppError;
use crate::i18n::{arg, t, t_with};
use crate::services::lists::SiteScope;
use crate::services::{auth, ledger, throttle, visits, worklist};
use crate::state::AppState;
use crate::web::accounts::sign_in_watch;
use crate::web::error::PageError;
use crate::web::extract::{CsrfForm, CsrfOnly, PageUser, WebQuery, roles};
use crate::web::page::{self, Flash, pill, sign_in_page};
use crate::web::session::{safe_next, session_token};
use crate::web::user::WebUser;

#[derive(Debug, Default, Deserialize)]
pub struct HomeQuery {
    #[serde(default)]
    pub next: String,
    #[serde(flatten)]
    pub flash: Flash,
}

pub async fn home(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: WebQuery<HomeQuery>,
) -> Result<Response, PageError> {
    let WebQuery(query) = query;
    let user = match session_token(&headers) {
        Some(token) => auth::authenticate(&state, token).await.ok(),
        None => None,
    };
    let Some(user) = user else {
        return Ok(sign_in_page(
            state.settings.cookie_secure,
            &query.next,
            query.flash.error.as_deref(),
            "",
        ));
    };
    let zone = crate::services::sites::zone_of_user(&state, user.user_id)
        .await
        .unwrap_or(state.settings.timezone);
    let web = WebUser::from_parts(user, session_token(&headers).unwrap_or_default(), zone);
    crate::web::session::speak_their_language(&state, &web).await;
    if !query.next.is_empty() && safe_next(&query.next) != "/" {
        return Ok(page::see_other(safe_next(&query.next)));
    }
    let watch = match web.user.role {
        Role::Admin => Some(throttle::report(&state).await?),
        _ => None,
    };
    // what is at the sites this person works at
    let sites = SiteScope::of_user(&state, web.user.user_id, None).await?;
    let day = match web.user.role {
        Role::Pharmacist | Role::Clinician => worklist::clinic_day(&state, &sites).await?,
        _ => worklist::ClinicDay::default(),
    };
    let visits = match web.user.role {
        Role::Clinician | Role::Quality => Some(visits::to_do_today(&state, &sites).await?),
        _ => None,
    };
    let list = worklist::load(&state, &sites).await?;
    let shipments = match web.user.role {
        Role::Lab | Role::Pharmacist => worklist::shipments(&state, &sites).await?,
        _ => Vec::new(),
    };
    let ledger = LedgerStanding {
        check: ledger::last_check(&state),
        alarm: state.db.floor().alarm(),
        signing_key: state.checkpoint_signer.as_ref().map(|s| s.public_key()),
    };
    let home = Home {
        shipments: &shipments,
        list: &list,
        day: &day,
        watch: watch.as_ref(),
        visits: visits.as_ref(),
        ledger: &ledger,
    };
    Ok(page::show(&t("home-title"), &web, home_view(&web, &home, &query.flash)).into_response())
}

/// Where the custody ledger stands, as the home page shows it.
struct LedgerStanding {
    /// The last verification since the server started.
    check: Option<ledger::LedgerCheck>,
    /// Why the ledger no longer matches its signed checkpoint, if it does not.
    alarm: Option<String>,
    /// The key checkpoints are signed with, for quality to keep on file.
    signing_key: Option<String>,
}

/// What the home page shows, by role.
struct Home<'a> {
    list: &'a worklist::Worklist,
    /// Shipments waiting for the lab or pharmacy at either end.
    shipments: &'a [crate::entities::shipment::Model],
    day: &'a worklist::ClinicDay,
    watch: Option<&'a throttle::Report>,
    /// Assessment visits to do today (clinician and quality).
    visits: Option<&'a visits::VisitsToday>,
    ledger: &'a LedgerStanding,
}

/// Patients whose next infusion the protocol allows today: the pharmacist
/// opens the worksheet when the weight is recent enough, the clinician
/// weighs those without one.
fn infusions_due(day: &worklist::ClinicDay, user: &WebUser) -> Markup {
    let role = user.user.role;
    html! {
        section class="card" id="infusions-due" {
            h2 { (t("home-infusions-due")) }
            @if day.infusions_due.is_empty() { p class="muted" { (t("home-none")) } }
            @else {
                table {
                    thead { tr { th { (t("col-patient")) } th { (t("home-col-weight")) } } }
                    tbody { @for d in &day.infusions_due {
                        tr {
                            td {
                                a class="code" href={ "/patients/" (d.patient_id) } { (d.subject_code) }
                                " · " (t_with("home-infusion-number", &[("number", arg(d.infusion_number))]))
                                @if let Some(last) = d.last_day { div class="muted" { (t_with("home-window-ends", &[("date", arg(last))])) } }
                            }
                            td {
                                @match d.current_weight_g {
                                    Some(g) => {
                                        (crate::domain::dose::kg_text(g)) " kg"
                                        @if role == Role::Pharmacist { div { a href={ "/patients/" (d.patient_id) "/dose" } { (t("home-dose-worksheet")) } } }
                                    }
                                    None => {
                                        (t_with("home-no-weight", &[("days", arg(day.weight_valid_days))]))
                                        @if role == Role::Clinician { a href={ "/patients/" (d.patient_id) } { (t("home-weigh-patient")) } }
                                        @else { (t("home-clinician-weighs")) }
                                    }
                                }
                            }
                        }
                    } }
                }
            }
        }
    }
}

/// Assessment visits due or overdue today (`services::visits`). The card
/// keeps the id of the follow-up card it replaced, which the browser tests
/// look for.
fn visits_due(visits: &visits::VisitsToday) -> Markup {
    html! {
        section class="card" id="follow-ups-due" {
            h2 { (t("home-follow-ups-due")) }
            @if visits.visits.is_empty() { p class="muted" { (t("home-none")) } }
            @else {
                table {
                    thead { tr { th { (t("col-patient")) } th { (t("visits-col-visit")) } th { (t("visits-col-window")) } th { (t("visits-col-to-record")) } } }
                    tbody { @for v in &visits.visits {
                        tr {
                            td { a class="code" href={ "/patients/" (v.patient_id) } { (v.subject_code) } }
                            td {
                                (visit_name(v.visit.week))
                                div class="muted" { (t_with("visits-on", &[("date", arg(v.visit.date))])) }
                                @if v.visit.status == VisitStatus::Overdue { span class="pill bad" { (t("visits-overdue")) } }
                                @else { span class="pill warn" { (t("visits-due")) } }
                            }
                            td class="nowrap" { (t_with("visits-window", &[("opens", arg(v.visit.opens)), ("closes", arg(v.visit.closes))])) }
                            td { (v.visit.missing.iter().map(|k| k.as_str().to_uppercase()).collect::<Vec<_>>().join(&t("inventory-and"))) }
                        }
                    } }
                }
            }
        }
    }
}

/// "Baseline" or "Week 4".
pub fn visit_name(week: i32) -> String {
    if week == 0 {
        t("visits-baseline")
    } else {
        t_with("visits-week", &[("week", arg(week))])
    }
}

fn lots_table(lots: &[worklist::LotItem], vials_label: &str, zone: SiteZone) -> Markup {
    html! {
        table {
            thead { tr { th { (t("col-lot")) } th { (t("col-status")) } th { (t("col-expires")) } th class="num" { (vials_label) } } }
            tbody {
                @for l in lots {
                    tr {
                        td { a class="code" href={ "/lots/" (l.id) } { (l.code) } }
                        td { (pill(l.status)) }
                        td { (zone.day(l.expires_at)) }
                        td class="num" { (l.vials) }
                    }
                }
            }
        }
    }
}

fn home_view(user: &WebUser, home: &Home, flash: &Flash) -> Markup {
    let Home {
        list,
        shipments,
        day,
        watch,
        visits,
        ledger: standing,
    } = home;
    let role = user.user.role;
    let doses = |statuses: &[&str]| -> Vec<&worklist::DoseItem> {
        list.open_doses
            .iter()
            .filter(|d| statuses.contains(&d.status.as_str()))
            .collect()
    };
    html! {
        h1 { (t("home-heading")) }
        (flash.render())
        @if role != Role::Admin {
            div class="actions" {
                a class="button" href="/scan" { (t("home-scan-label")) }
                a class="button secondary" href="/patients" { (t("nav-patients")) }
                a class="button secondary" href="/storage" { (t("nav-storage")) }
                a class="button secondary" href="/protocol" { (t("proto-title")) }
            }
        } @else {
            div class="actions" {
                a class="button" href="/accounts" { (t("acct-title")) }
            }
        }
        @if let Some(report) = watch { (sign_in_watch(report, user)) }
        div class="grid" {
            @if role == Role::Quality {
                section class="card" {
                    h2 { (t("home-awaiting-release")) }
                    @if list.awaiting_release.is_empty() { p class="muted" { (t("home-none")) } }
                    @else { (lots_table(&list.awaiting_release, &t("col-vials"), user.zone)) }
                }
            }
            @if role == Role::Pharmacist {
                section class="card" {
                    h2 { (t("home-doses-to-prepare")) }
                    @let todo = doses(&["reserved", "count_failed", "thawed"]);
                    @if todo.is_empty() { p class="muted" { (t("home-none-open")) } }
                    @else {
                        table {
                            thead { tr { th { (t("col-dose")) } th { (t("col-patient")) } th { (t("col-status")) } th { (t("col-ordered")) } } }
                            tbody { @for d in todo {
                                tr {
                                    td { a class="code" href={ "/doses/" (d.id) } { (d.code) } }
                                    td { (d.subject_code) " · " (t_with("home-infusion-number", &[("number", arg(d.infusion_number))])) }
                                    td { (pill(d.status)) }
                                    td { (user.when(d.created_at)) }
                                }
                            } }
                        }
                    }
                }
            }
            @if !shipments.is_empty() {
                section class="card" {
                    h2 { (t("home-shipments")) }
                    table {
                        thead { tr { th { (t("ship-col-code")) } th { (t("col-status")) } th { (t("ship-col-created")) } } }
                        tbody { @for s in shipments.iter() {
                            tr {
                                td { a class="code" href={ "/shipments/" (s.id) } { (s.code) } }
                                td { (pill(s.status)) }
                                td { (user.when(s.created_at)) }
                            }
                        } }
                    }
                }
            }
            @if role == Role::Pharmacist || role == Role::Clinician {
                (infusions_due(day, user))
            }
            @if let Some(visits) = visits { (visits_due(visits)) }
            @if role == Role::Clinician {
                section class="card" {
                    h2 { (t("home-doses-ready")) }
                    @let ready = doses(&["verified", "infusing"]);
                    @if ready.is_empty() { p class="muted" { (t("home-none")) } }
                    @else {
                        table {
                            thead { tr { th { (t("col-dose")) } th { (t("col-patient")) } th { (t("col-status")) } th { (t("home-col-thawed")) } } }
                            tbody { @for d in ready {
                                tr {
                                    td { a class="code" href={ "/doses/" (d.id) "/bedside" } { (d.code) } }
                                    td { (d.subject_code) }
                                    td { (pill(d.status)) }
                                    td { @if let Some(at) = d.thawed_at { (user.when(at)) } }
                                }
                            } }
                        }
                    }
                }
            }
            @if role == Role::Lab {
                section class="card" {
                    h2 { (t("home-vials-for-lab")) }
                    table { tbody {
                        tr { td { (t("home-lab-unstored")) } td class="num" { (list.unstored_vials) } }
                        tr { td { (t("home-lab-quarantine")) } td class="num" { (list.quarantine_vials) } }
                        tr { td { (t("home-lab-reserved")) } td class="num" { (list.reserved_vials) } }
                        tr { td { (t("home-lab-thawed")) } td class="num" { (list.thawed_vials) } }
                    } }
                    @if !list.awaiting_release.is_empty() {
                        h2 { (t("home-lots-in-quarantine")) }
                        (lots_table(&list.awaiting_release, &t("col-vials"), user.zone))
                    }
                }
            }
            @if role != Role::Admin {
                section class="card" {
                    h2 { (t_with("home-expiring-within", &[("days", arg(worklist::EXPIRY_WARNING_DAYS))])) }
                    @if list.expiring.is_empty() { p class="muted" { (t("home-nothing-expiring")) } }
                    @else { (lots_table(&list.expiring, &t("col-available"), user.zone)) }
                    @if !list.recalled.is_empty() {
                        h2 { (t("home-recalled-lots")) }
                        (lots_table(&list.recalled, &t("home-col-held"), user.zone))
                    }
                }
            }
            section class="card" {
                h2 { (t("home-ledger")) }
                @if let Some(alarm) = &standing.alarm {
                    div class="msg bad" role="alert" id="ledger-alarm" {
                        strong { (t("home-ledger-alarm")) } (alarm)
                        (t("home-ledger-alarm-after"))
                    }
                }
                @match &standing.check {
                    Some(c) if c.report.ok => {
                        p { span class="pill ok" { (t("home-ledger-intact")) } " " (t_with("home-ledger-verified", &[("events", arg(c.report.events)), ("when", arg(user.when(c.at)))]))
                            @if let Some(cp) = c.report.checkpoints.as_ref().filter(|cp| cp.checked > 0) { (t_with("home-ledger-against", &[("count", arg(cp.checked))])) }
                            @if let Some(r) = &c.report.replay { (t_with("home-ledger-replayed", &[("rows", arg(r.rows_compared))])) } }
                        p class="muted code" { (t_with("home-ledger-head", &[("hash", arg(c.report.head_hash.get(..16).unwrap_or("")))])) }
                    }
                    Some(c) => {
                        div class="msg bad" role="alert" {
                            (t_with("home-ledger-fails", &[("when", arg(user.when(c.at)))]))
                            @let problems = c.report.problems();
                            ul id="ledger-problems" {
                                @for p in problems.iter().take(SHOWN_PROBLEMS) { li { (p) } }
                                @if problems.len() > SHOWN_PROBLEMS {
                                    li { (t_with("home-ledger-more", &[("count", arg(problems.len() - SHOWN_PROBLEMS))])) }
                                }
                            }
                            (t("home-tell-quality"))
                        }
                    }
                    None => { p class="muted" { (t("home-ledger-unchecked")) } }
                }
                @if role == Role::Quality {
                    @if let Some(key) = &standing.signing_key {
                        p { (t("home-key-before")) span class="code" id="ledger-key" { (key) }
                            (t("home-key-after"))
                            a href="/api/v1/audit/checkpoints" { (t("home-signed-checkpoints")) } }
                    }
                    form method="post" action="/ledger/verify" {
                        input type="hidden" name="csrf" value=(user.csrf());
                        button class="secondary" type="submit" { (t("home-verify-now")) }
                    }
                }
            }
        }
    }
}

/// Problems listed on the home page; the verification report has them all.
const SHOWN_PROBLEMS: usize = 20;

pub async fn verify_ledger(
    State(state): State<AppState>,
    _user: PageUser<roles::Quality>,
    CsrfForm(_): CsrfForm<CsrfOnly>,
) -> Result<Response, PageError> {
    let c = ledger::check(&state).await.map_err(AppError::from)?;
    Ok(if c.report.ok {
        page::redirect_with(
            "/",
            true,
            t_with("home-flash-intact", &[("events", arg(c.report.events))]),
        )
    } else {
        page::redirect_with(
            "/",
            false,
            t_with(
                "home-flash-fails",
                &[(
                    "problem",
                    arg(c.report.problems().first().map_or("", String::as_str)),
                )],
            ),
        )
    })
}
