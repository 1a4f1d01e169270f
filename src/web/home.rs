//! `/`: the sign-in form, or what needs doing now for the signed-in role.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;

use crate::domain::accounts::Role;
use crate::domain::zone::SiteZone;
use crate::error::AppError;
use crate::services::{auth, ledger, throttle, worklist};
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
    let web = WebUser::from_parts(
        user,
        session_token(&headers).unwrap_or_default(),
        state.settings.timezone,
    );
    if !query.next.is_empty() && safe_next(&query.next) != "/" {
        return Ok(page::see_other(safe_next(&query.next)));
    }
    let watch = match web.user.role {
        Role::Admin => Some(throttle::report(&state).await?),
        _ => None,
    };
    let day = match web.user.role {
        Role::Pharmacist | Role::Clinician => worklist::clinic_day(&state).await?,
        _ => worklist::ClinicDay::default(),
    };
    let list = worklist::load(&state).await?;
    let ledger = LedgerStanding {
        check: ledger::last_check(&state),
        alarm: state.db.floor().alarm(),
        signing_key: state.checkpoint_signer.as_ref().map(|s| s.public_key()),
    };
    let home = Home {
        list: &list,
        day: &day,
        watch: watch.as_ref(),
        ledger: &ledger,
    };
    Ok(page::show("Home", &web, home_view(&web, &home, &query.flash)).into_response())
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
    day: &'a worklist::ClinicDay,
    watch: Option<&'a throttle::Report>,
    ledger: &'a LedgerStanding,
}

/// Patients whose next infusion the protocol allows today: the pharmacist
/// opens the worksheet when the weight is recent enough, the clinician
/// weighs those without one.
fn infusions_due(day: &worklist::ClinicDay, user: &WebUser) -> Markup {
    let role = user.user.role;
    html! {
        section class="card" id="infusions-due" {
            h2 { "Infusions that may be given today" }
            @if day.infusions_due.is_empty() { p class="muted" { "None." } }
            @else {
                table {
                    thead { tr { th { "Patient" } th { "Weight" } } }
                    tbody { @for d in &day.infusions_due {
                        tr {
                            td {
                                a class="code" href={ "/patients/" (d.patient_id) } { (d.subject_code) }
                                " · infusion " (d.infusion_number)
                                @if let Some(last) = d.last_day { div class="muted" { "window ends " (last) } }
                            }
                            td {
                                @match d.current_weight_g {
                                    Some(g) => {
                                        (crate::domain::dose::kg_text(g)) " kg"
                                        @if role == Role::Pharmacist { div { a href={ "/patients/" (d.patient_id) "/dose" } { "Dose worksheet" } } }
                                    }
                                    None => {
                                        "none within " (day.weight_valid_days) " days: "
                                        @if role == Role::Clinician { a href={ "/patients/" (d.patient_id) } { "weigh the patient" } }
                                        @else { "the clinician weighs the patient first" }
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

/// Follow-up PASI and DLQI due today or overdue.
fn follow_ups_due(day: &worklist::ClinicDay) -> Markup {
    html! {
        section class="card" id="follow-ups-due" {
            h2 { "Follow-up assessments due" }
            @if day.follow_ups.is_empty() { p class="muted" { "None." } }
            @else {
                table {
                    thead { tr { th { "Patient" } th { "Visit" } th { "To record" } } }
                    tbody { @for f in &day.follow_ups {
                        tr {
                            td { a class="code" href={ "/patients/" (f.patient_id) } { (f.subject_code) } }
                            td { "Week " (f.due.week)
                                div class="muted" { "due " (f.due.due) }
                                @if day.today.is_some_and(|t| f.due.due < t) { span class="pill bad" { "overdue" } } }
                            td { (f.due.missing.iter().map(|k| k.as_str().to_uppercase()).collect::<Vec<_>>().join(" and ")) }
                        }
                    } }
                }
            }
        }
    }
}

fn lots_table(lots: &[worklist::LotItem], vials_label: &str, zone: SiteZone) -> Markup {
    html! {
        table {
            thead { tr { th { "Lot" } th { "Status" } th { "Expires" } th class="num" { (vials_label) } } }
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
        day,
        watch,
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
        h1 { "What needs doing" }
        (flash.render())
        @if role != Role::Admin {
            div class="actions" {
                a class="button" href="/scan" { "Scan a label" }
                a class="button secondary" href="/patients" { "Patients" }
                a class="button secondary" href="/storage" { "Storage" }
            }
        }
        @if let Some(report) = watch { (sign_in_watch(report, user)) }
        div class="grid" {
            @if role == Role::Quality {
                section class="card" {
                    h2 { "Lots awaiting release" }
                    @if list.awaiting_release.is_empty() { p class="muted" { "None." } }
                    @else { (lots_table(&list.awaiting_release, "Vials", user.zone)) }
                }
            }
            @if role == Role::Pharmacist {
                section class="card" {
                    h2 { "Doses to prepare or verify" }
                    @let todo = doses(&["reserved", "count_failed", "thawed"]);
                    @if todo.is_empty() { p class="muted" { "None open." } }
                    @else {
                        table {
                            thead { tr { th { "Dose" } th { "Patient" } th { "Status" } th { "Ordered" } } }
                            tbody { @for d in todo {
                                tr {
                                    td { a class="code" href={ "/doses/" (d.id) } { (d.code) } }
                                    td { (d.subject_code) " · infusion " (d.infusion_number) }
                                    td { (pill(d.status)) }
                                    td { (user.when(d.created_at)) }
                                }
                            } }
                        }
                    }
                }
            }
            @if role == Role::Pharmacist || role == Role::Clinician {
                (infusions_due(day, user))
            }
            @if role == Role::Clinician {
                (follow_ups_due(day))
                section class="card" {
                    h2 { "Doses ready at the bedside" }
                    @let ready = doses(&["verified", "infusing"]);
                    @if ready.is_empty() { p class="muted" { "None." } }
                    @else {
                        table {
                            thead { tr { th { "Dose" } th { "Patient" } th { "Status" } th { "Thawed" } } }
                            tbody { @for d in ready {
                                tr {
                                    td { a class="code" href={ "/doses/" (d.id) "/bedside" } { (d.code) } }
                                    td { (d.subject_code) }
                                    td { (pill(d.status)) }
                                    td { @if let Some(t) = d.thawed_at { (user.when(t)) } }
                                }
                            } }
                        }
                    }
                }
            }
            @if role == Role::Lab {
                section class="card" {
                    h2 { "Vials that need the lab" }
                    table { tbody {
                        tr { td { "Frozen, not in a box yet: to store" } td class="num" { (list.unstored_vials) } }
                        tr { td { "In quarantine (awaiting release)" } td class="num" { (list.quarantine_vials) } }
                        tr { td { "Reserved for doses" } td class="num" { (list.reserved_vials) } }
                        tr { td { "Thawed, not infused: to discard" } td class="num" { (list.thawed_vials) } }
                    } }
                    @if !list.awaiting_release.is_empty() {
                        h2 { "Lots in quarantine" }
                        (lots_table(&list.awaiting_release, "Vials", user.zone))
                    }
                }
            }
            @if role != Role::Admin {
                section class="card" {
                    h2 { "Expiring within " (worklist::EXPIRY_WARNING_DAYS) " days" }
                    @if list.expiring.is_empty() { p class="muted" { "No released stock expires soon." } }
                    @else { (lots_table(&list.expiring, "Available", user.zone)) }
                    @if !list.recalled.is_empty() {
                        h2 { "Recalled lots" }
                        (lots_table(&list.recalled, "Held", user.zone))
                    }
                }
            }
            section class="card" {
                h2 { "Custody ledger" }
                @if let Some(alarm) = &standing.alarm {
                    div class="msg bad" role="alert" id="ledger-alarm" {
                        strong { "The ledger no longer matches its signed checkpoint: " } (alarm)
                        ". Nothing can be recorded until quality has investigated. Restore from the last backup that verifies."
                    }
                }
                @match &standing.check {
                    Some(c) if c.report.ok => {
                        p { span class="pill ok" { "intact" } " " (c.report.events) " events verified at " (user.when(c.at))
                            @if let Some(cp) = c.report.checkpoints.as_ref().filter(|cp| cp.checked > 0) { ", against " (cp.checked) " signed checkpoints" }
                            @if let Some(r) = &c.report.replay { "; replayed against " (r.rows_compared) " rows of the tables, all as the ledger says" } }
                        p class="muted code" { "head " (c.report.head_hash.get(..16).unwrap_or("")) "…" }
                    }
                    Some(c) => {
                        div class="msg bad" role="alert" {
                            "The ledger does not verify"
                            " (checked " (user.when(c.at)) "):"
                            @let problems = c.report.problems();
                            ul id="ledger-problems" {
                                @for p in problems.iter().take(SHOWN_PROBLEMS) { li { (p) } }
                                @if problems.len() > SHOWN_PROBLEMS {
                                    li { "and " (problems.len() - SHOWN_PROBLEMS) " more (the verification report lists them all)" }
                                }
                            }
                            " Tell the quality officer."
                        }
                    }
                    None => { p class="muted" { "Not checked yet since the server started." } }
                }
                @if role == Role::Quality {
                    @if let Some(key) = &standing.signing_key {
                        p { "Checkpoints are signed with the key " span class="code" id="ledger-key" { (key) }
                            ". Keep it on file outside this system: an auditor verifies the ledger with it. "
                            a href="/api/v1/audit/checkpoints" { "Signed checkpoints" } }
                    }
                    form method="post" action="/ledger/verify" {
                        input type="hidden" name="csrf" value=(user.csrf());
                        button class="secondary" type="submit" { "Verify now" }
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
            format!("Ledger intact: {} events verified.", c.report.events),
        )
    } else {
        page::redirect_with(
            "/",
            false,
            format!(
                "The ledger does not verify: {}.",
                c.report.problems().first().map_or("", String::as_str)
            ),
        )
    })
}
