//! Imports (issue 16): the lab sends a bank's CSV file (`text/csv`), to
//! check it (`?dry_run=true`) or to leave it for quality; quality accepts
//! it with a signature (and may release every lot in the same act), and
//! the file is written in the background while `GET` shows its progress.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::api::extract::{ApiJson, ApiPath, ApiQuery, Authorized, roles};
use crate::domain::import::Problem;
use crate::entities::import;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::services::imports::{self, DEFAULT_CHUNK_VIALS, Summary};
use crate::services::signatures::{self, SignatureInput};
use crate::state::AppState;

/// Largest file accepted: 100 000 vial rows with every column.
pub const MAX_FILE_BYTES: usize = 64 * 1024 * 1024;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_import))
        .routes(routes!(accept_import))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(send_import))
                .layer(DefaultBodyLimit::max(MAX_FILE_BYTES)),
        )
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SendOptions {
    /// Check only: every problem, nothing stored.
    #[serde(default)]
    pub dry_run: bool,
    /// With `dry_run`: also check that every lot could be released in the
    /// accepting act.
    #[serde(default)]
    pub release: bool,
    /// The file's name, kept with the import.
    pub file_name: Option<String>,
    /// The site the bank is at, for a lab person who works at several
    /// (otherwise 422 `site_required`).
    pub site_id: Option<Uuid>,
}

/// A dry run's answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportReport {
    pub ok: bool,
    pub file_sha256: String,
    pub rows: usize,
    pub donors: usize,
    pub donations: usize,
    pub lots: usize,
    pub vials: usize,
    pub boxes: usize,
    /// The file was imported to the end before: nothing to import.
    pub already_imported: bool,
    pub problems: Vec<Problem>,
    /// The problems as `row:column: message`.
    pub lines: Vec<String>,
}

/// An import and how far it is.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportView {
    pub id: Uuid,
    pub file_sha256: String,
    pub file_name: Option<String>,
    /// `pending` (awaiting quality), `running` or `finished`.
    pub status: String,
    pub release_lots: bool,
    pub chunks_total: i32,
    pub chunks_done: i32,
    pub rows_total: i32,
    pub rows_done: i32,
    /// 0 to 100.
    pub percent_done: i32,
    pub summary: Summary,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub accepted_by: Option<Uuid>,
    pub signature_id: Option<Uuid>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Why the last run stopped before the end (a `running` import that
    /// quality may resume), until it is resumed.
    pub stopped: Option<String>,
}

impl From<import::Model> for ImportView {
    fn from(m: import::Model) -> Self {
        ImportView {
            percent_done: if m.rows_total > 0 {
                (i64::from(m.rows_done) * 100 / i64::from(m.rows_total)) as i32
            } else {
                100
            },
            summary: serde_json::from_str(&m.summary).unwrap_or_default(),
            id: m.id,
            file_sha256: m.file_sha256,
            file_name: m.file_name,
            status: m.status,
            release_lots: m.release_lots,
            chunks_total: m.chunks_total,
            chunks_done: m.chunks_done,
            rows_total: m.rows_total,
            rows_done: m.rows_done,
            created_by: m.created_by,
            created_at: m.created_at,
            accepted_by: m.accepted_by,
            signature_id: m.signature_id,
            started_at: m.started_at,
            finished_at: m.finished_at,
            stopped: m.stopped,
        }
    }
}

/// A dry run's report, or the stored import.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum ImportSendAnswer {
    Report(ImportReport),
    Import(ImportView),
}

/// Sends a bank file (lab; `text/csv`, one row per vial, see
/// `docs/import/template.csv`). With `dry_run=true`: 200 and every problem
/// as `row:column: message`, nothing stored. Otherwise the file is checked
/// the same way and, with no problem, stored as `pending` for quality to
/// accept (201; 200 with the import as it is when the same file was sent
/// before).
#[utoipa::path(post, path = "/imports", tag = "imports", security(("bearer" = [])),
    params(SendOptions),
    request_body(content = String, content_type = "text/csv", description = "The bank's file"),
    responses((status = 200, description = "The dry run's report, or the import this file already is", body = ImportSendAnswer),
        (status = 201, description = "Stored, awaiting quality's acceptance", body = ImportView),
        (status = 403, body = ErrorBody, description = "forbidden, not_your_site"),
        (status = 422, body = ErrorBody, description = "import_invalid: every problem of the file in details.problems (and details.lines); site_required")))]
async fn send_import(
    State(state): State<AppState>,
    auth: Authorized<roles::Lab>,
    ApiQuery(options): ApiQuery<SendOptions>,
    request: axum::extract::Request,
) -> AppResult<(StatusCode, ApiJson<ImportSendAnswer>)> {
    let bytes = Bytes::from_request(request, &state)
        .await
        .map_err(|_| AppError::PayloadTooLarge)?;
    let actor = auth.user.actor();
    if options.dry_run {
        let checked = imports::check(
            &state,
            &actor,
            &bytes,
            options.release,
            DEFAULT_CHUNK_VIALS,
            options.site_id,
        )
        .await?;
        let bank = &checked.bank;
        let report = ImportReport {
            ok: checked.problems.is_empty(),
            already_imported: checked.finished(),
            rows: bank.rows,
            donors: bank.donors.len(),
            donations: bank.donations.len(),
            lots: bank.lots.len(),
            vials: bank.vials(),
            boxes: bank.boxes.len(),
            lines: checked.problems.iter().map(ToString::to_string).collect(),
            problems: checked.problems,
            file_sha256: checked.file_sha256,
        };
        return Ok((StatusCode::OK, ApiJson(ImportSendAnswer::Report(report))));
    }
    let (model, created) = imports::submit(
        &state,
        &actor,
        &bytes,
        options.file_name.as_deref(),
        options.site_id,
    )
    .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, ApiJson(ImportSendAnswer::Import(model.into()))))
}

/// Quality's acceptance of an import.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportAcceptance {
    /// Release every lot in this signed act (each must pass the normal
    /// rule); otherwise they arrive in quarantine.
    #[serde(default)]
    pub release_lots: bool,
    pub signature: SignatureInput,
}

/// Accepts a pending import (quality, signed; the signature is the one
/// under the imported eligibility decisions, and under every release when
/// `release_lots`). The file is checked again as the database stands now,
/// then written in the background: 202, and `GET /imports/{id}` shows the
/// progress. A `running` import (interrupted) is resumed the same way.
#[utoipa::path(post, path = "/imports/{id}/accept", tag = "imports", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = ImportAcceptance,
    responses((status = 202, description = "Accepted; being written", body = ImportView),
        (status = 401, body = ErrorBody, description = "signature_invalid"),
        (status = 403, body = ErrorBody, description = "forbidden"),
        (status = 404, body = ErrorBody, description = "not_found"),
        (status = 409, body = ErrorBody, description = "invalid_state: already finished; concurrent_change"),
        (status = 422, body = ErrorBody, description = "import_invalid: a problem found now (e.g. a lot that cannot be released); invalid_field")))]
async fn accept_import(
    State(state): State<AppState>,
    auth: Authorized<roles::Quality>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<ImportAcceptance>,
) -> AppResult<(StatusCode, ApiJson<ImportView>)> {
    let signature = signatures::verify(&state, &auth.user, &body.signature).await?;
    let started = imports::accept_uploaded(&state, &signature, id, body.release_lots).await?;
    let view = ImportView::from(started.import.clone());
    imports::run_in_background(&state, started);
    Ok((StatusCode::ACCEPTED, ApiJson(view)))
}

/// An import: its status and progress, and what it created so far.
#[utoipa::path(get, path = "/imports/{id}", tag = "imports", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "The import", body = ImportView),
        (status = 403, body = ErrorBody, description = "forbidden (the administrator)"),
        (status = 404, body = ErrorBody, description = "not_found")))]
async fn get_import(
    State(state): State<AppState>,
    _auth: Authorized,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<ApiJson<ImportView>> {
    Ok(ApiJson(imports::get(&state, id).await?.into()))
}
