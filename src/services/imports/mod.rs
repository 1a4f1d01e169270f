//! Imports (issue 16): an existing bank brought in from one CSV file.
//!
//! The lab brings the file; a quality officer's signature accepts it (the
//! signature under the imported eligibility decisions, and under the
//! release of every lot when release is chosen in the same act). Before
//! anything is written the whole file is checked, against itself and the
//! database (`domain::import`): one problem and nothing is written. The
//! records are then written in chunks of whole lots, each chunk one write
//! transaction with its custody events and the import's progress (the
//! `imports` row, keyed by the file's SHA-256): killed halfway, the same
//! file run again continues after the last committed chunk; run again
//! once finished, it imports nothing.

pub mod command;
pub mod facts;
mod write;

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::domain::accounts::Role;
use crate::domain::actor::AuthenticatedUser;
use crate::domain::event::hex;
use crate::domain::import::plan::Chunk;
use crate::domain::import::{Bank, Context, Kind, Problem, check_against, check_file, chunks};
use crate::domain::lifecycle::TransitionRefused;
use crate::domain::zone::SiteZone;
use crate::entities::{import, site, user};
use crate::error::{AppError, AppResult};
use crate::services::Actor;
use crate::services::ledger::{self, NewEvent};
use crate::services::signatures::{self, VerifiedSignature};
use crate::services::{protocol, sites, store};
use crate::state::AppState;

pub use write::Summary;

/// Vials per write transaction (whole lots: a chunk may be a lot larger).
pub const DEFAULT_CHUNK_VIALS: usize = 5000;

pub const PENDING: &str = "pending";
pub const RUNNING: &str = "running";
pub const FINISHED: &str = "finished";

/// A file checked: its records, its chunks and every problem.
#[derive(Debug, Clone)]
pub struct Checked {
    pub file_sha256: String,
    pub bank: Bank,
    pub chunks: Vec<Chunk>,
    pub problems: Vec<Problem>,
    /// The file's import, when it was seen before.
    pub import: Option<import::Model>,
    pub site_id: Uuid,
}

impl Checked {
    /// Already imported to the end: nothing to do.
    pub fn finished(&self) -> bool {
        self.import.as_ref().is_some_and(|i| i.status == FINISHED)
    }
}

/// How far a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub chunks_done: usize,
    pub chunks_total: usize,
    pub rows_done: usize,
    pub rows_total: usize,
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Checks the file (the dry run): every problem, nothing written. A file
/// seen before is checked for what is left of it (its committed chunks
/// are in the database already).
pub async fn check(
    state: &AppState,
    lab: &Actor,
    bytes: &[u8],
    release: bool,
    chunk_vials: usize,
    site: Option<Uuid>,
) -> AppResult<Checked> {
    let file_sha256 = sha256_hex(bytes);
    let found = find_by_sha(state, &file_sha256).await?;
    // the importing site: the one the lab works at, or the one asked for
    // among theirs; a file seen before stays at its own
    let site_id = match &found {
        Some(found) => found.site_id,
        None => sites::for_new_record(state, lab, site).await?,
    };
    let mut checked = Checked {
        file_sha256,
        bank: Bank::default(),
        chunks: Vec::new(),
        problems: Vec::new(),
        import: found.clone(),
        site_id,
    };
    if checked.finished() {
        return Ok(checked);
    }
    if std::str::from_utf8(bytes).is_err() {
        checked.problems.push(Problem::at(
            1,
            "file",
            Kind::new("imp-problem-not-utf8", []),
        ));
        return Ok(checked);
    }
    let zone = zone_of(state, site_id).await?;
    let spec = protocol::specification(state.db.conn()).await?;
    let ctx = Context {
        zone,
        now: state.clock.now(),
        spec: &spec,
        release,
    };
    let (bank, mut problems) = check_file(bytes, &ctx);
    let (chunk_vials, done) = match &found {
        Some(found) => (found.chunk_vials as usize, found.chunks_done as usize),
        None => (chunk_vials, 0),
    };
    let chunks = chunks(&bank, chunk_vials);
    let facts = facts::load(state.db.conn(), &bank, site_id).await?;
    let remaining: Vec<usize> = chunks
        .iter()
        .skip(done)
        .flat_map(|c| c.lots.iter().copied())
        .collect();
    problems.extend(check_against(&bank, &facts.existing, &remaining));
    checked.problems = crate::domain::import::sorted(problems);
    checked.bank = bank;
    checked.chunks = chunks;
    Ok(checked)
}

/// Stores a checked file as pending, for quality to accept (the upload);
/// a file seen before answers its import as it is.
pub async fn submit(
    state: &AppState,
    lab: &Actor,
    bytes: &[u8],
    file_name: Option<&str>,
    site: Option<Uuid>,
) -> AppResult<(import::Model, bool)> {
    let checked = check(state, lab, bytes, false, DEFAULT_CHUNK_VIALS, site).await?;
    if let Some(found) = checked.import {
        return Ok((found, false));
    }
    if !checked.problems.is_empty() {
        return Err(AppError::ImportInvalid {
            problems: checked.problems,
        });
    }
    let content = String::from_utf8(bytes.to_vec()).map_err(AppError::internal)?;
    let model = new_row(state, lab, &checked, file_name, Some(content))?;
    let txn = state.db.write().await?;
    import::Entity::insert(model.clone().into_active_model())
        .exec_without_returning(&txn)
        .await?;
    ledger::append(
        &txn,
        lab,
        model.created_at,
        NewEvent::new("import.uploaded", "import", model.id).details(json!({
            "file_sha256": model.file_sha256,
            "file_name": model.file_name,
            "rows": model.rows_total,
        })),
    )
    .await?;
    txn.commit().await?;
    Ok((model, true))
}

fn new_row(
    state: &AppState,
    lab: &Actor,
    checked: &Checked,
    file_name: Option<&str>,
    content: Option<String>,
) -> AppResult<import::Model> {
    let created_by = lab
        .id
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("an import is made by a person")))?;
    let chunk_vials = checked
        .chunks
        .iter()
        .map(|c| c.vials)
        .max()
        .unwrap_or(DEFAULT_CHUNK_VIALS);
    Ok(import::Model {
        id: Uuid::now_v7(),
        file_sha256: checked.file_sha256.clone(),
        file_name: file_name.map(|n| n.chars().take(255).collect()),
        content,
        status: PENDING.into(),
        site_id: checked.site_id,
        release_lots: false,
        // the size the chunks were cut with, so a resumed run cuts the same
        chunk_vials: chunk_vials as i32,
        chunks_total: checked.chunks.len() as i32,
        chunks_done: 0,
        rows_total: checked.bank.rows as i32,
        rows_done: 0,
        summary: serde_json::to_string(&Summary::default()).map_err(AppError::internal)?,
        created_by,
        created_at: state.clock.now(),
        accepted_by: None,
        signature_id: None,
        started_at: None,
        finished_at: None,
        stopped: None,
    })
}

/// A run about to write: the import, its records and who writes them.
pub struct Started {
    pub import: import::Model,
    pub checked: Checked,
    pub lab: Actor,
    pub signer: Actor,
    pub acceptance: Value,
}

/// Quality accepts a checked file, signed (the first time; a resumed run
/// signs again, as `import.resumed`): the import is marked running.
/// `chunk_vials` sizes a file never seen before (the command line).
pub async fn accept(
    state: &AppState,
    signature: &VerifiedSignature,
    lab: &Actor,
    checked: Checked,
    file_name: Option<&str>,
    release: bool,
) -> AppResult<Started> {
    if !checked.problems.is_empty() {
        return Err(AppError::ImportInvalid {
            problems: checked.problems,
        });
    }
    let now = state.clock.now();
    let txn = state.db.write().await?;
    let (mut model, resumed) = match checked.import.clone() {
        None => {
            let model = new_row(state, lab, &checked, file_name, None)?;
            import::Entity::insert(model.clone().into_active_model())
                .exec_without_returning(&txn)
                .await?;
            (model, false)
        }
        Some(found) if found.status == PENDING => (found, false),
        Some(found) if found.status == RUNNING => {
            if found.release_lots != release {
                return Err(AppError::invalid(
                    "release",
                    format!(
                        "this import was accepted {} releasing its lots; resume it the same way",
                        if found.release_lots {
                            "with"
                        } else {
                            "without"
                        }
                    ),
                ));
            }
            (found, true)
        }
        Some(found) => {
            return Err(TransitionRefused {
                kind: "import",
                from: if found.status == FINISHED {
                    "finished"
                } else {
                    "unknown"
                },
                action: "accept",
            }
            .into());
        }
    };
    let (action, from) = if resumed {
        ("import.resumed", RUNNING)
    } else {
        ("import.accepted", PENDING)
    };
    let (_, signature_row) = signatures::append_signed(
        &txn,
        signature,
        now,
        NewEvent::new(action, "import", model.id).details(json!({
            "from": from,
            "to": RUNNING,
            "file_sha256": model.file_sha256,
            "file_name": model.file_name,
            "rows": model.rows_total,
            "donors": checked.bank.donors.len(),
            "lots": checked.bank.lots.len(),
            "vials": checked.bank.vials(),
            "release_lots": release,
            "chunks_done": model.chunks_done,
            "rule": "this signature is quality's under the imported donors' eligibility decisions and, when release_lots, the release of every imported lot",
        })),
    )
    .await?;
    if !resumed {
        let changed = import::Entity::update_many()
            .col_expr(import::Column::Status, Expr::value(RUNNING))
            .col_expr(import::Column::ReleaseLots, Expr::value(release))
            .col_expr(
                import::Column::AcceptedBy,
                Expr::value(signature.signer.user_id),
            )
            .col_expr(import::Column::SignatureId, Expr::value(signature_row.id))
            .col_expr(import::Column::StartedAt, Expr::value(now))
            .filter(import::Column::Id.eq(model.id))
            .filter(import::Column::Status.eq(PENDING))
            .exec(&txn)
            .await?;
        if changed.rows_affected != 1 {
            return Err(AppError::ConcurrentChange {
                kind: "import",
                id: model.id,
            });
        }
        model.status = RUNNING.into();
        model.release_lots = release;
        model.accepted_by = Some(signature.signer.user_id);
        model.signature_id = Some(signature_row.id);
        model.started_at = Some(now);
    } else if model.stopped.is_some() {
        // resumed: the reason it stopped was the last run's
        import::Entity::update_many()
            .col_expr(import::Column::Stopped, Expr::value(Option::<String>::None))
            .filter(import::Column::Id.eq(model.id))
            .exec(&txn)
            .await?;
        model.stopped = None;
    }
    txn.commit().await?;
    let acceptance = json!({
        "import_id": model.id,
        "signature_id": model.signature_id,
        "signer": signature.signer.username,
        "file_sha256": model.file_sha256,
    });
    Ok(Started {
        import: model,
        checked,
        lab: lab.clone(),
        signer: signature.signer.actor(),
        acceptance,
    })
}

/// Writes what is left of a started import, chunk by chunk, telling
/// `progress` after each; marks it finished.
pub async fn run(
    state: &AppState,
    started: &Started,
    mut progress: impl FnMut(Progress),
) -> AppResult<(import::Model, Summary)> {
    let import_row = &started.import;
    let bank = &started.checked.bank;
    let facts = facts::load(state.db.conn(), bank, import_row.site_id).await?;
    let mut known = write::Known {
        donors: facts.donor_ids,
        donations: facts.donation_ids,
        units: facts.units,
    };
    let mut summary: Summary = serde_json::from_str(&import_row.summary).unwrap_or_default();
    let writer = write::Writer {
        state,
        import: import_row,
        bank,
        lab: &started.lab,
        signer: &started.signer,
        acceptance: started.acceptance.clone(),
        facility: &state.settings.facility_code,
    };
    let chunks = &started.checked.chunks;
    let done = import_row.chunks_done as usize;
    let rows_total = import_row.rows_total as usize;
    let mut rows_done = import_row.rows_done as usize;
    for (index, chunk) in chunks.iter().enumerate().skip(done) {
        write::chunk(&writer, &mut known, chunk, index, &mut summary).await?;
        rows_done += chunk.vials;
        progress(Progress {
            chunks_done: index + 1,
            chunks_total: chunks.len(),
            rows_done,
            rows_total,
        });
    }
    let now = state.clock.now();
    let txn = state.db.write().await?;
    let changed = import::Entity::update_many()
        .col_expr(import::Column::Status, Expr::value(FINISHED))
        .col_expr(import::Column::FinishedAt, Expr::value(now))
        .col_expr(import::Column::Stopped, Expr::value(Option::<String>::None))
        .col_expr(import::Column::Content, Expr::value(Option::<String>::None))
        .filter(import::Column::Id.eq(import_row.id))
        .filter(import::Column::Status.eq(RUNNING))
        .exec(&txn)
        .await?;
    if changed.rows_affected != 1 {
        return Err(AppError::ConcurrentChange {
            kind: "import",
            id: import_row.id,
        });
    }
    ledger::append(
        &txn,
        &started.lab,
        now,
        NewEvent::new("import.finished", "import", import_row.id).details(json!({
            "from": RUNNING,
            "to": FINISHED,
            "file_sha256": import_row.file_sha256,
            "summary": summary,
        })),
    )
    .await?;
    txn.commit().await?;
    let finished = get(state, import_row.id).await?;
    Ok((finished, summary))
}

/// Writes a started import in a task of its own (the API's and the
/// page's acceptance answer at once; the page follows the progress). A
/// run that stops before the end (a record changed meanwhile, the
/// database refused) records why on the import, with a custody event, so
/// its page says it and quality can resume it; what was written stays.
pub fn run_in_background(state: &AppState, started: Started) {
    let state = state.clone();
    tokio::spawn(async move {
        match run(&state, &started, |_| {}).await {
            Ok(_) => {}
            // another run of the same import (a second click on accept)
            // is writing it: this one stepped aside, nothing stopped
            Err(AppError::ConcurrentChange { kind: "import", .. }) => {
                tracing::info!(import_id = %started.import.id, "another run is writing this import");
            }
            Err(error) => {
                tracing::error!(import_id = %started.import.id, "the import stopped: {error}");
                if let Err(not_kept) = record_stop(&state, &started, &error.to_string()).await {
                    tracing::error!(import_id = %started.import.id, "why the import stopped was not kept: {not_kept}");
                }
            }
        }
    });
}

async fn record_stop(state: &AppState, started: &Started, why: &str) -> AppResult<()> {
    let now = state.clock.now();
    let txn = state.db.write().await?;
    let found = import::Entity::find_by_id(started.import.id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("import", started.import.id))?;
    if found.status == FINISHED {
        return Ok(());
    }
    import::Entity::update_many()
        .col_expr(import::Column::Stopped, Expr::value(Some(why.to_owned())))
        .filter(import::Column::Id.eq(found.id))
        .exec(&txn)
        .await?;
    ledger::append(
        &txn,
        &started.lab,
        now,
        NewEvent::new("import.stopped", "import", found.id).details(json!({
            "file_sha256": found.file_sha256,
            "chunks_done": found.chunks_done,
            "rows_done": found.rows_done,
            "why": why,
        })),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// What became of a whole command-line import.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// The file was imported before, to the end: nothing was written.
    AlreadyImported(import::Model),
    Imported(import::Model, Summary),
}

/// A file to import from the command line, and how.
#[derive(Debug, Clone, Copy)]
pub struct FileImport<'a> {
    pub bytes: &'a [u8],
    pub file_name: Option<&'a str>,
    /// Release every lot in the accepting act.
    pub release: bool,
    /// Vials per chunk, for a file never seen before.
    pub chunk_vials: usize,
    /// The importing site, for a lab person who works at several.
    pub site: Option<Uuid>,
}

/// The command line's import: check, sign, write, with progress.
pub async fn import_file(
    state: &AppState,
    lab: &Actor,
    signature: &VerifiedSignature,
    file: FileImport<'_>,
    progress: impl FnMut(Progress),
) -> AppResult<Outcome> {
    let FileImport {
        bytes,
        file_name,
        release,
        chunk_vials,
        site,
    } = file;
    let checked = check(state, lab, bytes, release, chunk_vials, site).await?;
    if checked.finished() {
        let found = checked
            .import
            .clone()
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("a finished import has its row")))?;
        return Ok(Outcome::AlreadyImported(found));
    }
    let started = accept(state, signature, lab, checked, file_name, release).await?;
    let (model, summary) = run(state, &started, progress).await?;
    Ok(Outcome::Imported(model, summary))
}

/// Quality accepts an uploaded import (the API): checked again as it
/// stands now, signed, then written in the background.
pub async fn accept_uploaded(
    state: &AppState,
    signature: &VerifiedSignature,
    import_id: Uuid,
    release: bool,
) -> AppResult<Started> {
    let found = get(state, import_id).await?;
    if found.status == FINISHED {
        return Err(TransitionRefused {
            kind: "import",
            from: "finished",
            action: "accept",
        }
        .into());
    }
    let Some(content) = found.content.clone() else {
        return Err(AppError::invalid(
            "import",
            "this import was started from the command line: resume it there, with its file",
        ));
    };
    let lab = actor_of(state, found.created_by).await?;
    let checked = check(
        state,
        &lab,
        content.as_bytes(),
        release,
        found.chunk_vials as usize,
        Some(found.site_id),
    )
    .await?;
    accept(
        state,
        signature,
        &lab,
        checked,
        found.file_name.as_deref(),
        release,
    )
    .await
}

/// The latest imports, newest first (their files' text left out).
pub async fn recent(state: &AppState, limit: u64) -> AppResult<Vec<import::Model>> {
    let mut found = import::Entity::find()
        .order_by_desc(import::Column::CreatedAt)
        .limit(limit)
        .all(state.db.conn())
        .await?;
    for model in &mut found {
        model.content = None;
    }
    Ok(found)
}

pub async fn get(state: &AppState, id: Uuid) -> AppResult<import::Model> {
    import::Entity::find_by_id(id)
        .one(state.db.conn())
        .await?
        .ok_or_else(|| AppError::not_found("import", id))
}

async fn find_by_sha(state: &AppState, sha: &str) -> AppResult<Option<import::Model>> {
    Ok(import::Entity::find()
        .filter(import::Column::FileSha256.eq(sha))
        .one(state.db.conn())
        .await?)
}

async fn zone_of(state: &AppState, site_id: Uuid) -> AppResult<SiteZone> {
    let found = site::Entity::find_by_id(site_id)
        .one(state.db.conn())
        .await?;
    Ok(found
        .and_then(|s| SiteZone::parse(&s.time_zone))
        .unwrap_or(state.settings.timezone))
}

/// A person as the ledger names them.
pub async fn actor_of(state: &AppState, user_id: Uuid) -> AppResult<Actor> {
    let account = store::find_or_404::<user::Entity>(state.db.conn(), user_id).await?;
    Ok(Actor {
        id: Some(account.id),
        username: account.username,
        full_name: account.full_name,
        role: Some(account.role),
    })
}

/// A person named on the command line, who must be an active account with
/// `role`: the lab person importing, or the quality officer signing.
pub async fn person(state: &AppState, username: &str, role: Role) -> AppResult<AuthenticatedUser> {
    let account = user::Entity::find()
        .filter(user::Column::Username.eq(username))
        .one(state.db.conn())
        .await?
        .ok_or_else(|| AppError::invalid("user", format!("no account {username:?}")))?;
    if !account.active {
        return Err(AppError::AccountDeactivated);
    }
    if account.role != role {
        return Err(AppError::Forbidden {
            required: match role {
                Role::Quality => &[Role::Quality],
                _ => &[Role::Lab],
            },
            role: account.role,
        });
    }
    Ok(AuthenticatedUser {
        user_id: account.id,
        session_id: Uuid::nil(),
        username: account.username,
        full_name: account.full_name,
        role: account.role,
        locked_until: account.locked_until,
        created_at: account.created_at,
    })
}
