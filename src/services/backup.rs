//! Backups. A copy of the SQLite database taken while the server runs
//! (`VACUUM INTO` reads one snapshot while writers carry on), carrying a
//! checkpoint of the ledger's head signed just before, with that
//! checkpoint's receipt beside it.
//!
//! A restored copy is verified against its receipt: the server's own
//! checkpoint log goes on past the copy, and held against that log the copy
//! is, truthfully, a ledger whose tail was cut. The receipt says what the
//! copy must hold; the log says what a restore of it lost.
//!
//! PostgreSQL has its own tool for a consistent online copy (pg_dump); the
//! `checkpoint` command gives it its receipt (see the README).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::domain::checkpoint::Checkpoint;
use crate::services::checkpoints;
use crate::state::AppState;

/// A copy written.
#[derive(Debug, Clone)]
pub struct Backup {
    pub copy: PathBuf,
    pub bytes: u64,
    /// The checkpoint the copy holds and its receipt (none while the
    /// ledger is empty).
    pub checkpoint: Option<(Checkpoint, PathBuf)>,
}

/// Where the receipt of a copy goes: `FILE.checkpoint`.
pub fn receipt_path(copy: &Path) -> PathBuf {
    let mut name = copy.as_os_str().to_owned();
    name.push(".checkpoint");
    PathBuf::from(name)
}

/// Refuses a file that exists (it may be the only good backup: a backup
/// never overwrites) or a folder that does not.
pub fn refuse_existing(path: &Path) -> anyhow::Result<()> {
    if path.symlink_metadata().is_ok() {
        anyhow::bail!(
            "{} already exists: a backup never overwrites a file; choose a new name (e.g. with the date)",
            path.display()
        );
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && !dir.is_dir()
    {
        anyhow::bail!("the folder {} does not exist", dir.display());
    }
    Ok(())
}

/// What `backup` checks before it opens the database, so that a refusal
/// signs and writes nothing: the engine, the copy and its receipt.
pub fn check(database_url: &str, copy: &Path) -> anyhow::Result<()> {
    if !database_url.starts_with("sqlite:") {
        anyhow::bail!(
            "celltrail backup copies SQLite databases; back PostgreSQL up with its own tool: \
             `celltrail checkpoint -o FILE.checkpoint`, then `pg_dump -Fc -f FILE DATABASE` \
             (see \"Backup and restore\" in the README)"
        );
    }
    if database_url.contains(":memory:") || database_url.contains("mode=memory") {
        anyhow::bail!("an in-memory database cannot be backed up from another process");
    }
    refuse_existing(copy)?;
    refuse_existing(&receipt_path(copy))
}

/// Signs the head, copies the database to `copy`, syncs it and writes the
/// receipt beside it. `state` carries the server's signer.
pub async fn sqlite(state: &AppState, copy: &Path) -> anyhow::Result<Backup> {
    let target = copy
        .to_str()
        .ok_or_else(|| anyhow::anyhow!("{} is not a UTF-8 path", copy.display()))?;
    let checkpoint = checkpoints::of_head(state)
        .await
        .map_err(|e| anyhow::anyhow!("cannot sign a checkpoint of the ledger's head: {e}"))?;
    // One read transaction: the copy is the database as of one commit,
    // at or after the checkpoint just signed. SQLite refuses an existing
    // target itself, should one appear since `check`.
    state
        .db
        .conn()
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "VACUUM INTO ?",
            [target.into()],
        ))
        .await
        .with_context(|| format!("cannot copy the database to {}", copy.display()))?;
    // VACUUM INTO does not sync what it wrote; a backup is on disk or it
    // is not a backup
    let file = std::fs::File::open(copy)
        .with_context(|| format!("cannot open the copy {}", copy.display()))?;
    file.sync_all()
        .with_context(|| format!("cannot sync the copy {}", copy.display()))?;
    let bytes = file.metadata()?.len();
    let checkpoint = match checkpoint {
        Some(checkpoint) => {
            let receipt = receipt_path(copy);
            write_receipt(&receipt, &checkpoint)?;
            Some((checkpoint, receipt))
        }
        None => None,
    };
    Ok(Backup {
        copy: copy.to_owned(),
        bytes,
        checkpoint,
    })
}

/// Writes a checkpoint's receipt to a new file, never over another.
pub fn write_receipt(path: &Path, checkpoint: &Checkpoint) -> anyhow::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| format!("cannot create the receipt {}", path.display()))?;
    file.write_all(checkpoint.receipt().as_bytes())?;
    file.sync_all()
        .with_context(|| format!("cannot write the receipt {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_receipt_sits_beside_the_copy() {
        assert_eq!(
            receipt_path(Path::new("/backups/celltrail-2026-11-26.db")),
            PathBuf::from("/backups/celltrail-2026-11-26.db.checkpoint")
        );
    }

    #[test]
    fn postgresql_and_existing_files_are_refused_before_anything_is_done() {
        let dir = tempfile::tempdir().unwrap();
        let copy = dir.path().join("copy.db");
        let error = check("postgres://u@h/db", &copy).unwrap_err().to_string();
        assert!(error.contains("pg_dump"), "{error}");
        assert!(check("sqlite://x.db?mode=rwc", &copy).is_ok());
        std::fs::write(&copy, b"an older backup").unwrap();
        let error = check("sqlite://x.db?mode=rwc", &copy)
            .unwrap_err()
            .to_string();
        assert!(error.contains("already exists"), "{error}");
        std::fs::remove_file(&copy).unwrap();
        std::fs::write(receipt_path(&copy), b"a receipt").unwrap();
        assert!(check("sqlite://x.db?mode=rwc", &copy).is_err());
        let error = check(
            "sqlite://x.db?mode=rwc",
            &dir.path().join("missing/copy.db"),
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("does not exist"), "{error}");
    }
}
