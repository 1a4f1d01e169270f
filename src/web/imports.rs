//! `/imports`: bringing an existing bank in, on pages. The lab chooses (or
//! pastes) the CSV file; its problems are shown as sentences, row by row,
//! and nothing is stored until there are none. A stored file waits on its
//! page for a quality officer's signature (with the choice to release
//! every lot in the same act); while it is written, a `<progress>` bar
//! follows it (`/assets/import.js` reads the import's progress; the CSP
//! allows no inline script). The acts are the API's (`services::imports`).

use axum::extract::{DefaultBodyLimit, Path, State};
use axum::response::{Html, IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;
use uuid::Uuid;

use crate::api::extract::RoleSet;
use crate::domain::accounts::Role;
use crate::domain::import::{DETAIL, Problem};
use crate::domain::language::Language;
use crate::domain::zone::SiteZone;
use crate::entities::{import, site};
use crate::i18n::{arg, t, t_with};
use crate::services::imports::{self, DEFAULT_CHUNK_VIALS, FINISHED, PENDING, Summary};
use crate::state::AppState;
use crate::web::error::{OrBack, PageError};
use crate::web::extract::{CsrfForm, PageUser, WebQuery, carries_csrf, roles};
use crate::web::page::{self, Flash, redirect_with};
use crate::web::user::WebUser;

/// The lab brings files; quality accepts them; both follow them.
#[derive(Debug)]
pub struct LabOrQuality;

impl RoleSet for LabOrQuality {
    const ROLES: &'static [Role] = &[Role::Lab, Role::Quality];
}

/// Reads the chosen file into the form and follows a running import.
const SCRIPT: &str = include_str!("imports.js");

pub fn routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route(
            "/imports",
            get(import_list)
                .post(upload)
                .layer(DefaultBodyLimit::max(crate::api::imports::MAX_FILE_BYTES)),
        )
        .route("/imports/{id}", get(import_page))
        .route("/imports/{id}/accept", post(accept))
        .route("/assets/import.js", get(|| crate::web::script(SCRIPT)))
}

pub async fn import_list(
    State(state): State<AppState>,
    user: PageUser<LabOrQuality>,
    WebQuery(flash): WebQuery<Flash>,
) -> Result<Html<String>, PageError> {
    let recent = imports::recent(&state, 50).await?;
    let sites = crate::web::site_choice::choices(&state, user.user.user_id).await?;
    let body = list_view(&user, &recent, &flash, None, &sites);
    Ok(page::show(&t("imp-title"), &user, body))
}

fn list_view(
    user: &WebUser,
    recent: &[import::Model],
    flash: &Flash,
    problems: Option<&[Problem]>,
    sites: &[site::Model],
) -> Markup {
    html! {
        h1 { (t("imp-title")) }
        (flash.render())
        @if let Some(problems) = problems {
            section class="card" {
                h2 { (t_with("imp-problems", &[("count", arg(problems.len()))])) }
                p class="muted" { (t("imp-problems-hint")) }
                div class="scroll" { table class="import-problems" {
                    thead { tr { th { (t("imp-col-row")) } th { (t("imp-col-column")) } th { (t("imp-col-problem")) } } }
                    tbody { @for p in problems {
                        tr { td { (p.row) } td class="code" { (p.column) } td { (said(p, crate::i18n::current(), user.zone)) } }
                    } }
                } }
            }
        }
        @if user.user.role == Role::Lab {
            section class="card" {
                h2 { (t("imp-upload")) }
                p class="muted" { (t("imp-upload-hint")) " " a href="/api/openapi.json" { "API" } }
                form method="post" action="/imports" id="import-upload" {
                    input type="hidden" name="csrf" value=(user.csrf());
                    label for="import-file" { (t("imp-file")) }
                    input id="import-file" type="file" accept=".csv,text/csv" data-import-file="import-content" data-import-name="import-name";
                    input id="import-name" type="hidden" name="file_name";
                    label for="import-content" { (t("imp-content")) }
                    textarea id="import-content" name="content" rows="6" required spellcheck="false" {}
                    (crate::web::site_choice::menu(sites, true))
                    div class="actions" { button type="submit" { (t("imp-check")) } }
                }
            }
        }
        div class="scroll" { table {
            thead { tr { th { (t("imp-col-file")) } th { (t("col-status")) } th { (t("imp-col-rows")) } th { (t("imp-col-created")) } } }
            tbody { @for i in recent {
                tr {
                    td { a href={ "/imports/" (i.id) } { (i.file_name.clone().unwrap_or_else(|| i.file_sha256[..12].to_owned())) } }
                    td { (status_word(&i.status)) }
                    td { (i.rows_done) " / " (i.rows_total) }
                    td class="nowrap" { (user.when(i.created_at)) }
                }
            } }
        } }
        @if recent.is_empty() { p class="muted" { (t("imp-none")) } }
        script src="/assets/import.js" {}
    }
}

/// A problem of the file in `language`: its sentence from the import
/// catalogue (`imp-problem-…`), its values as the file has them. In
/// English this is the problem's own message (the same catalogue); in
/// another language the words a value stands for are translated too (a
/// storage unit's kind, an eligibility, a rule's free English text by the
/// refusals' table, when the table knows it).
pub fn said(problem: &Problem, language: Language, zone: SiteZone) -> String {
    if language == Language::En {
        return problem.message.clone();
    }
    let word = |prefix: &str, value: &str| {
        let key = format!("{prefix}{value}");
        let found = crate::i18n::text(language, &key, None);
        if found == key {
            value.to_owned()
        } else {
            found
        }
    };
    let mut args = fluent_bundle::FluentArgs::new();
    for (name, value) in &problem.args {
        let shown = match (problem.code.as_str(), name.as_str()) {
            (DETAIL, "detail") => crate::web::refusals::invalid_field(&problem.column, value, zone),
            ("imp-problem-din-invalid", "detail")
                if crate::web::refusals::untranslated(&[value.as_str()]).is_empty() =>
            {
                crate::web::refusals::invalid_field("din", value, zone)
            }
            (_, "kind" | "wanted") => word("storage-kind-", value),
            (_, "eligibility") | ("imp-problem-donor-eligibility-differs", "recorded" | "file") => {
                word("status-", value)
            }
            _ => value.clone(),
        };
        args.set(name.clone(), fluent_bundle::FluentValue::from(shown));
    }
    crate::i18n::text(language, &problem.code, Some(&args))
}

/// A problem with its row and column, as one sentence in `language`
/// (`第 12 行“volume_ul”列：……`); in English the CLI's line.
pub fn said_at(problem: &Problem, language: Language, zone: SiteZone) -> String {
    if language == Language::En {
        return problem.to_string();
    }
    let args = fluent_bundle::FluentArgs::from_iter([
        (
            "row",
            fluent_bundle::FluentValue::from(problem.row.to_string()),
        ),
        (
            "column",
            fluent_bundle::FluentValue::from(problem.column.clone()),
        ),
        (
            "problem",
            fluent_bundle::FluentValue::from(said(problem, language, zone)),
        ),
    ]);
    crate::i18n::text(language, "imp-problem-at", Some(&args))
}

fn status_word(status: &str) -> String {
    t(&format!("imp-status-{status}"))
}

#[derive(Debug, Deserialize)]
pub struct UploadForm {
    csrf: String,
    #[serde(default)]
    file_name: Option<String>,
    content: String,
    /// The site, from the menu a lab person at several sites gets.
    #[serde(default)]
    site_id: String,
}

carries_csrf!(UploadForm);

/// Checks the file; with problems, shows them (nothing stored); without,
/// stores it for quality and goes to its page.
pub async fn upload(
    State(state): State<AppState>,
    user: PageUser<roles::Lab>,
    CsrfForm(form): CsrfForm<UploadForm>,
) -> Result<Response, PageError> {
    let actor = user.user.actor();
    // a textarea sends CRLF line ends, which the file reader takes as they come
    let bytes = form.content.as_bytes();
    let site = crate::web::site_choice::chosen(&form.site_id);
    let checked = imports::check(&state, &actor, bytes, false, DEFAULT_CHUNK_VIALS, site)
        .await
        .or_back("/imports", user.zone)?;
    if let Some(found) = &checked.import {
        return Ok(page::see_other(&format!("/imports/{}", found.id)));
    }
    if !checked.problems.is_empty() {
        let recent = imports::recent(&state, 50).await?;
        let sites = crate::web::site_choice::choices(&state, user.user.user_id).await?;
        let body = list_view(
            &user,
            &recent,
            &Flash::default(),
            Some(&checked.problems),
            &sites,
        );
        let mut response = page::show(&t("imp-title"), &user, body).into_response();
        *response.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
        return Ok(response);
    }
    let file_name = form.file_name.as_deref().filter(|n| !n.trim().is_empty());
    let (model, _) = imports::submit(&state, &actor, bytes, file_name, site)
        .await
        .or_back("/imports", user.zone)?;
    Ok(redirect_with(
        &format!("/imports/{}", model.id),
        true,
        t("imp-flash-uploaded"),
    ))
}

pub async fn import_page(
    State(state): State<AppState>,
    user: PageUser<LabOrQuality>,
    Path(id): Path<Uuid>,
    WebQuery(flash): WebQuery<Flash>,
) -> Result<Html<String>, PageError> {
    let found = imports::get(&state, id)
        .await
        .or_back("/imports", user.zone)?;
    let summary: Summary = serde_json::from_str(&found.summary).unwrap_or_default();
    let title = found.file_name.clone().unwrap_or_else(|| t("imp-title"));
    let body = html! {
        p { a href="/imports" { "← " (t("imp-title")) } }
        h1 { (title) }
        (flash.render())
        section class="card" {
            p { (t("col-status")) ": " strong data-import-status { (status_word(&found.status)) } }
            @if let Some(why) = &found.stopped {
                p class="msg bad" { (t_with("imp-stopped", &[("why", arg(why))])) }
            }
            progress id="import-progress" value=(found.rows_done) max=(found.rows_total.max(1))
                data-import=(found.id) data-running=(found.status == imports::RUNNING) {
                (found.rows_done) " / " (found.rows_total)
            }
            p data-import-rows { (t_with("imp-progress", &[("done", arg(found.rows_done)), ("total", arg(found.rows_total))])) }
            p class="muted code" { "SHA-256 " (found.file_sha256) }
            @if found.status == FINISHED {
                p { (t_with("imp-summary", &[
                    ("donors", arg(summary.donors)),
                    ("donations", arg(summary.donations)),
                    ("lots", arg(summary.lots)),
                    ("vials", arg(summary.vials)),
                    ("units", arg(summary.storage_units)),
                ])) }
            }
        }
        @if found.status != FINISHED && user.user.role == Role::Quality && found.content.is_some() {
            @let resuming = found.status == imports::RUNNING;
            section class="card" {
                h2 { (t(if resuming { "imp-resume" } else { "imp-accept" })) }
                p class="muted" { (t(if resuming { "imp-resume-hint" } else { "imp-accept-hint" })) }
                form method="post" action={ "/imports/" (found.id) "/accept" } {
                    input type="hidden" name="csrf" value=(user.csrf());
                    label { input type="checkbox" name="release" value="on" checked[resuming && found.release_lots]; " " (t("imp-release")) }
                    (page::signature_fields(if resuming { "import resumed" } else { "accepted for import" }))
                    div class="actions" { button type="submit" { (t(if resuming { "imp-resume" } else { "imp-accept" })) } }
                }
            }
        } @else if found.status == PENDING {
            p class="muted" { (t("imp-awaiting")) }
        }
        script src="/assets/import.js" {}
    };
    Ok(page::show(&t("imp-title"), &user, body))
}

#[derive(Debug, Deserialize)]
pub struct AcceptForm {
    csrf: String,
    #[serde(default)]
    release: Option<String>,
    password: String,
    meaning: String,
}

carries_csrf!(AcceptForm);

/// Quality's signed acceptance; the file is then written in the
/// background and its page follows it.
pub async fn accept(
    State(state): State<AppState>,
    user: PageUser<roles::Quality>,
    Path(id): Path<Uuid>,
    CsrfForm(form): CsrfForm<AcceptForm>,
) -> Result<Response, PageError> {
    let back = format!("/imports/{id}");
    let signature = user
        .sign(&state, form.password, form.meaning, &back)
        .await?;
    let release = form.release.as_deref() == Some("on");
    let started = imports::accept_uploaded(&state, &signature, id, release)
        .await
        .or_back(&back, user.zone)?;
    imports::run_in_background(&state, started);
    Ok(redirect_with(&back, true, t("imp-flash-accepted")))
}
