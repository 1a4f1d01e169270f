//! `celltrail import FILE`: the command line's edge of the import. It
//! names the people (the lab person with `--as`, the quality officer with
//! `--signer`, whose password is asked on the terminal or read from
//! `CELLTRAIL_SIGNER_PASSWORD`), shows progress on standard error (a bar
//! on a terminal, a line per chunk otherwise) and ends with a summary.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::Context as _;

use super::{FileImport, Outcome, Progress, check, import_file, person};
use crate::config::ImportArgs;
use crate::domain::accounts::Role;
use crate::error::AppError;
use crate::services::signatures::{self, SignatureInput};
use crate::state::AppState;
use uuid::Uuid;

/// Runs the command; an error (problems in the file, a wrong password)
/// makes the process exit non-zero.
pub async fn run(state: &AppState, args: &ImportArgs) -> anyhow::Result<()> {
    let fail = |e: AppError| anyhow::anyhow!("{e}");
    let bytes = std::fs::read(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let file_name = args
        .file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned());
    let lab = person(state, &args.lab, Role::Lab).await.map_err(fail)?;
    let lab = lab.actor();
    let site = match &args.site {
        Some(code) => Some(site_by_code(state, code).await?),
        None => None,
    };
    if args.dry_run {
        let checked = check(state, &lab, &bytes, args.release, args.chunk_vials, site)
            .await
            .map_err(fail)?;
        if checked.finished() {
            println!(
                "{} was imported before (SHA-256 {}): nothing to import",
                args.file.display(),
                checked.file_sha256
            );
            return Ok(());
        }
        for problem in &checked.problems {
            println!("{problem}");
        }
        if !checked.problems.is_empty() {
            anyhow::bail!(
                "{} problem(s) in {}; nothing was written",
                checked.problems.len(),
                args.file.display()
            );
        }
        let bank = &checked.bank;
        println!(
            "{} is ready to import: {} rows; {} donors, {} donations, {} lots, {} vials in {} boxes (SHA-256 {})",
            args.file.display(),
            bank.rows,
            bank.donors.len(),
            bank.donations.len(),
            bank.lots.len(),
            bank.vials(),
            bank.boxes.len(),
            checked.file_sha256
        );
        return Ok(());
    }
    let Some(signer) = &args.signer else {
        anyhow::bail!(
            "an import is accepted by a quality officer's signature: give --signer USERNAME (or --dry-run to check the file)"
        );
    };
    let signer = person(state, signer, Role::Quality).await.map_err(fail)?;
    let password = signer_password(&signer.username)?;
    let signature = signatures::verify(
        state,
        &signer,
        &SignatureInput {
            password,
            meaning: args.meaning.clone(),
        },
    )
    .await
    .map_err(fail)?;
    let terminal = std::io::stderr().is_terminal();
    let started = std::time::Instant::now();
    let outcome = import_file(
        state,
        &lab,
        &signature,
        FileImport {
            bytes: &bytes,
            file_name: file_name.as_deref(),
            release: args.release,
            chunk_vials: args.chunk_vials,
            site,
        },
        |p| show(p, terminal),
    )
    .await;
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(AppError::ImportInvalid { problems }) => {
            for problem in &problems {
                println!("{problem}");
            }
            anyhow::bail!(
                "{} problem(s) in {}; nothing was written",
                problems.len(),
                args.file.display()
            );
        }
        Err(e) => return Err(fail(e)),
    };
    if terminal {
        eprintln!();
    }
    match outcome {
        Outcome::AlreadyImported(found) => println!(
            "{} was imported before (SHA-256 {}): nothing to import",
            args.file.display(),
            found.file_sha256
        ),
        Outcome::Imported(found, summary) => println!(
            "imported {} in {:.1} s (SHA-256 {}): created {} donors, {} donations, {} lots ({}), {} vials, {} storage units; {} screening and {} QC results",
            args.file.display(),
            started.elapsed().as_secs_f64(),
            found.file_sha256,
            summary.donors,
            summary.donations,
            summary.lots,
            if found.release_lots {
                "released"
            } else {
                "in quarantine"
            },
            summary.vials,
            summary.storage_units,
            summary.screening_results,
            summary.qc_results,
        ),
    }
    Ok(())
}

/// Progress on standard error: a bar redrawn on a terminal, else a line
/// per chunk (what a log or a test reads).
fn show(p: Progress, terminal: bool) {
    let mut err = std::io::stderr().lock();
    if terminal {
        let width = 30;
        let filled = (p.rows_done * width)
            .checked_div(p.rows_total)
            .unwrap_or(width);
        let _ = write!(
            err,
            "\r[{}{}] {:>3}%  {}/{} vials, chunk {}/{}",
            "#".repeat(filled),
            ".".repeat(width - filled.min(width)),
            (p.rows_done * 100).checked_div(p.rows_total).unwrap_or(100),
            p.rows_done,
            p.rows_total,
            p.chunks_done,
            p.chunks_total
        );
    } else {
        let _ = writeln!(
            err,
            "imported chunk {}/{}: {}/{} vials",
            p.chunks_done, p.chunks_total, p.rows_done, p.rows_total
        );
    }
    let _ = err.flush();
}

/// The signer's password: from `CELLTRAIL_SIGNER_PASSWORD` (scripts), or
/// asked on the terminal without echo.
fn signer_password(username: &str) -> anyhow::Result<String> {
    if let Ok(password) = std::env::var("CELLTRAIL_SIGNER_PASSWORD") {
        return Ok(password);
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("password of {username} (signing to accept the import): ");
        let _ = std::io::stderr().flush();
    }
    let echo = EchoOff::new(stdin.is_terminal());
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .context("cannot read the signer's password")?;
    drop(echo);
    if stdin.is_terminal() {
        eprintln!();
    }
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

/// Terminal echo turned off while a password is typed, back on when
/// dropped.
struct EchoOff {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    saved: Option<libc::termios>,
}

impl EchoOff {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn new(terminal: bool) -> EchoOff {
        if !terminal {
            return EchoOff { saved: None };
        }
        // SAFETY: tcgetattr/tcsetattr on standard input with a zeroed
        // termios they fill in; nothing else is touched.
        unsafe {
            let mut t: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(0, &mut t) != 0 {
                return EchoOff { saved: None };
            }
            let saved = t;
            t.c_lflag &= !libc::ECHO;
            libc::tcsetattr(0, libc::TCSANOW, &t);
            EchoOff { saved: Some(saved) }
        }
    }

    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    fn new(_terminal: bool) -> EchoOff {
        EchoOff {}
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        if let Some(saved) = self.saved {
            // SAFETY: restores the settings read in `new`.
            unsafe {
                libc::tcsetattr(0, libc::TCSANOW, &saved);
            }
        }
    }
}

/// The site whose facility code (or id) is `code`, for `--site`.
async fn site_by_code(state: &AppState, code: &str) -> anyhow::Result<Uuid> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let code = code.trim();
    let found = match code.parse::<Uuid>() {
        Ok(id) => {
            crate::entities::site::Entity::find_by_id(id)
                .one(state.db.conn())
                .await?
        }
        Err(_) => {
            crate::entities::site::Entity::find()
                .filter(crate::entities::site::Column::FacilityCode.eq(code.to_uppercase()))
                .one(state.db.conn())
                .await?
        }
    };
    found
        .map(|site| site.id)
        .ok_or_else(|| anyhow::anyhow!("no site has the facility code {code:?}"))
}
