//! Signing the ledger's head and keeping the signatures outside the
//! database: the key in its own file (created mode 0600 on first start),
//! every checkpoint both in the database and appended to a log file. The
//! log is what verification trusts; the database copy is for listing.
//!
//! A checkpoint is taken at least every 1,000 events (the commit that
//! crosses the mark wakes the checkpointer), every 10 minutes while
//! anything is written, at shutdown, and when quality asks for one.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use ed25519_dalek::{SigningKey, VerifyingKey};
use sea_orm::{EntityTrait, QueryOrder, QuerySelect, Set};

use crate::db::LedgerHead;
use crate::domain::checkpoint::{Checkpoint, parse_checkpoints, parse_public_key, sign};
use crate::domain::event::hex;
use crate::entities::{custody_event, ledger_checkpoint};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
pub use crate::state::signer::Signer;

/// How often the checkpointer looks, and the longest a written head waits
/// for its checkpoint.
const TICK: Duration = Duration::from_secs(10);
const AT_LEAST_EVERY: chrono::Duration = chrono::Duration::minutes(10);

/// The checkpoint log in a checkpoint folder.
pub fn log_path(dir: &Path) -> PathBuf {
    dir.join("checkpoints.jsonl")
}

/// Reads the signing key, or creates it (32 random bytes as hex, readable
/// by the owner only) when the file does not exist.
pub fn load_or_create_key(path: &Path) -> anyhow::Result<SigningKey> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse_key(&text).ok_or_else(|| {
            anyhow::anyhow!(
                "the ledger key file {} does not hold a key (64 hex digits)",
                path.display()
            )
        }),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            let mut seed = [0u8; 32];
            getrandom::fill(&mut seed).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            match options.open(path) {
                Ok(mut file) => {
                    file.write_all(format!("{}\n", hex(&seed)).as_bytes())?;
                    file.sync_all()?;
                    Ok(SigningKey::from_bytes(&seed))
                }
                // another instance created it first: use theirs
                Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
                    load_or_create_key(path)
                }
                Err(error) => Err(anyhow::anyhow!(
                    "cannot create the ledger key file {}: {error}",
                    path.display()
                )),
            }
        }
        Err(error) => Err(anyhow::anyhow!(
            "cannot read the ledger key file {}: {error}",
            path.display()
        )),
    }
}

fn parse_key(text: &str) -> Option<SigningKey> {
    let digits = text.trim();
    if digits.len() != 64 {
        return None;
    }
    let mut seed = [0u8; 32];
    for (i, byte) in seed.iter_mut().enumerate() {
        *byte = u8::from_str_radix(digits.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(SigningKey::from_bytes(&seed))
}

/// The public key of a key file, without creating one.
pub fn public_key_of(path: &Path) -> Option<VerifyingKey> {
    let text = std::fs::read_to_string(path).ok()?;
    parse_key(&text).map(|k| k.verifying_key())
}

/// A public key as an auditor gives it: `ed25519:<hex>`, or a file holding
/// that.
pub fn read_public_key(text_or_file: &str) -> anyhow::Result<VerifyingKey> {
    if let Some(key) = parse_public_key(text_or_file) {
        return Ok(key);
    }
    let text = std::fs::read_to_string(text_or_file).map_err(|e| {
        anyhow::anyhow!("{text_or_file:?} is neither a public key (ed25519:…) nor a file: {e}")
    })?;
    parse_public_key(&text)
        .ok_or_else(|| anyhow::anyhow!("{text_or_file} does not hold a public key (ed25519:…)"))
}

/// Every checkpoint in a log or receipts file; a file that does not exist
/// holds none.
pub fn read_log(path: &Path) -> anyhow::Result<Vec<Checkpoint>> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let (found, unreadable) = parse_checkpoints(&text);
            if unreadable > 0 {
                tracing::warn!(
                    path = %path.display(),
                    unreadable,
                    "lines of the checkpoint log could not be read"
                );
            }
            Ok(found)
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(error) => Err(anyhow::anyhow!(
            "cannot read the checkpoint log {}: {error}",
            path.display()
        )),
    }
}

fn append_log(path: &Path, checkpoint: &Checkpoint) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .read(true)
        .append(true)
        .open(path)?;
    let mut line = serde_json::to_string(checkpoint).map_err(std::io::Error::other)?;
    line.push('\n');
    // A line cut short (a crash or a full disk mid-append) stays one
    // unreadable line; glued to this one, it would take this one with it.
    let len = file.metadata()?.len();
    if len > 0 {
        let mut last = [0u8; 1];
        file.seek(SeekFrom::Start(len - 1))?;
        file.read_exact(&mut last)?;
        if last[0] != b'\n' {
            line.insert(0, '\n');
        }
    }
    file.write_all(line.as_bytes())?;
    file.sync_data()
}

/// The last event of the stored chain (seq 0 when empty).
async fn stored_head(state: &AppState) -> AppResult<LedgerHead> {
    let head: Option<(i64, String)> = custody_event::Entity::find()
        .select_only()
        .column(custody_event::Column::Seq)
        .column(custody_event::Column::Hash)
        .order_by_desc(custody_event::Column::Seq)
        .limit(1)
        .into_tuple()
        .one(state.db.conn())
        .await?;
    Ok(head
        .map(|(seq, hash)| LedgerHead { seq, hash })
        .unwrap_or(LedgerHead {
            seq: 0,
            hash: crate::domain::event::GENESIS_HASH.to_owned(),
        }))
}

/// At start: the floor is the last checkpoint of the log (the trusted
/// record); a stored chain behind it, or other than it, raises the alarm.
pub async fn load_floor(state: &AppState) -> anyhow::Result<()> {
    let log = read_log(&log_path(&state.settings.checkpoint_dir))?;
    let Some(last) = log.iter().max_by_key(|c| c.seq) else {
        return Ok(());
    };
    let floor = state.db.floor();
    floor.set_checkpoint(LedgerHead {
        seq: last.seq,
        hash: last.head_hash.clone(),
    });
    let head = stored_head(state)
        .await
        .map_err(|e| anyhow::anyhow!("cannot read the ledger's head: {e}"))?;
    if head.seq < last.seq {
        // nothing to compare at the checkpoint: events were removed
        floor.raise(format!(
            "the ledger ends at event {}, but the checkpoint signed {} holds event {}",
            head.seq,
            last.time.format("%Y-%m-%d %H:%M UTC"),
            last.seq
        ));
    } else {
        let at_checkpoint: Option<String> = custody_event::Entity::find_by_id(last.seq)
            .select_only()
            .column(custody_event::Column::Hash)
            .into_tuple()
            .one(state.db.conn())
            .await?;
        if at_checkpoint.as_deref() != Some(last.head_hash.as_str()) {
            floor.raise(format!(
                "event {} is not the one the checkpoint signed {} holds",
                last.seq,
                last.time.format("%Y-%m-%d %H:%M UTC")
            ));
        }
    }
    Ok(())
}

/// The signer of a serving instance: its key (created on first start).
pub fn signer(state: &AppState) -> anyhow::Result<Signer> {
    Ok(Signer {
        key: load_or_create_key(&state.settings.ledger_key_file)?,
        log: log_path(&state.settings.checkpoint_dir),
        busy: tokio::sync::Mutex::new(()),
    })
}

/// The signer of a command run beside the server (`backup`, `checkpoint`):
/// the server's key, which must exist. A command started with another key
/// file than the server's would otherwise create a key of its own and sign
/// a checkpoint that nobody trusts.
pub fn existing_signer(state: &AppState) -> anyhow::Result<Signer> {
    let path = &state.settings.ledger_key_file;
    if !path.exists() {
        anyhow::bail!(
            "the ledger key file {} does not exist: run this with the server's CELLTRAIL_LEDGER_KEY_FILE and CELLTRAIL_CHECKPOINT_DIR",
            path.display()
        );
    }
    signer(state)
}

/// A checkpoint that holds the stored head: signed now, or the last one
/// when it already holds the head (`None` while the ledger is empty).
pub async fn of_head(state: &AppState) -> AppResult<Option<Checkpoint>> {
    if let Some(signed) = take(state).await? {
        return Ok(Some(signed));
    }
    // take() found the floor's checkpoint at the head (or an empty ledger)
    let Some(held) = state.db.floor().checkpoint() else {
        return Ok(None);
    };
    let log = log_path(&state.settings.checkpoint_dir);
    read_log(&log)
        .map_err(AppError::internal)?
        .into_iter()
        .rev()
        .find(|c| c.seq == held.seq && c.head_hash == held.hash)
        .map(Some)
        .ok_or_else(|| {
            AppError::internal(anyhow::anyhow!(
                "the checkpoint of event {} is not in the checkpoint log {}",
                held.seq,
                log.display()
            ))
        })
}

/// Signs the stored head, unless the last checkpoint already holds it.
/// Refuses (and raises the alarm) when the head is behind that checkpoint.
pub async fn take(state: &AppState) -> AppResult<Option<Checkpoint>> {
    let Some(signer) = state.checkpoint_signer.as_ref() else {
        return Err(AppError::internal(anyhow::anyhow!(
            "this instance does not sign checkpoints"
        )));
    };
    let _one_at_a_time = signer.busy.lock().await;
    let floor = state.db.floor();
    let head = stored_head(state).await?;
    floor.admit(&head)?;
    if head.seq == 0 || floor.checkpoint().is_some_and(|c| c.seq == head.seq) {
        return Ok(None);
    }
    let checkpoint = sign(&signer.key, head.seq, &head.hash, state.clock.now());
    ledger_checkpoint::Entity::insert(ledger_checkpoint::ActiveModel {
        seq: Set(checkpoint.seq),
        head_hash: Set(checkpoint.head_hash.clone()),
        signed_at: Set(checkpoint.time),
        signature: Set(checkpoint.signature.clone()),
        public_key: Set(checkpoint.public_key.clone()),
    })
    .on_conflict_do_nothing_on([ledger_checkpoint::Column::Seq])
    .exec(state.db.conn())
    .await?;
    let log = signer.log.clone();
    let written = checkpoint.clone();
    tokio::task::spawn_blocking(move || append_log(&log, &written))
        .await
        .map_err(AppError::internal)?
        .map_err(|e| {
            AppError::internal(anyhow::anyhow!(
                "cannot append to the checkpoint log {}: {e}",
                signer.log.display()
            ))
        })?;
    floor.set_checkpoint(LedgerHead {
        seq: checkpoint.seq,
        hash: checkpoint.head_hash.clone(),
    });
    tracing::info!(seq = checkpoint.seq, "ledger checkpoint signed");
    Ok(Some(checkpoint))
}

/// The checkpoints, newest first: the log's (trusted), or the database's
/// copy when this instance has no log.
pub async fn list(state: &AppState) -> AppResult<Vec<Checkpoint>> {
    let mut found =
        read_log(&log_path(&state.settings.checkpoint_dir)).map_err(AppError::internal)?;
    if found.is_empty() {
        found = ledger_checkpoint::Entity::find()
            .order_by_asc(ledger_checkpoint::Column::Seq)
            .all(state.db.conn())
            .await?
            .into_iter()
            .map(|row| Checkpoint {
                seq: row.seq,
                head_hash: row.head_hash,
                time: row.signed_at,
                signature: row.signature,
                public_key: row.public_key,
            })
            .collect();
    }
    found.sort_by_key(|c| std::cmp::Reverse(c.seq));
    found.dedup_by(|a, b| a.seq == b.seq && a.head_hash == b.head_hash);
    Ok(found)
}

/// What verification trusts: the checkpoints of the log and the key of the
/// key file (none when this instance has neither).
pub fn trusted(state: &AppState) -> (Vec<Checkpoint>, Option<VerifyingKey>) {
    let checkpoints = read_log(&log_path(&state.settings.checkpoint_dir)).unwrap_or_else(|e| {
        tracing::error!(%e, "the checkpoint log cannot be read");
        Vec::new()
    });
    let key = state
        .checkpoint_signer
        .as_ref()
        .map(|s| s.verifying_key())
        .or_else(|| public_key_of(&state.settings.ledger_key_file));
    (checkpoints, key)
}

/// The checkpointer of a serving instance: wakes when 1,000 events were
/// committed, and every ten seconds to sign a head that has waited ten
/// minutes; runs until the task is dropped.
pub async fn run(state: AppState) {
    let mut last_signed: Option<DateTime<Utc>> = None;
    loop {
        let woken = tokio::select! {
            _ = state.db.floor().due.notified() => true,
            _ = tokio::time::sleep(TICK) => false,
        };
        let head = match stored_head(&state).await {
            Ok(head) => head,
            Err(error) => {
                tracing::warn!(%error, "the checkpointer cannot read the ledger's head");
                continue;
            }
        };
        let floor = state.db.floor();
        if floor.admit(&head).is_err() {
            continue;
        }
        let signed_seq = floor.checkpoint().map_or(0, |c| c.seq);
        let waited = last_signed.is_none_or(|t| state.clock.now() - t >= AT_LEAST_EVERY);
        let due = head.seq > signed_seq
            && (woken || head.seq - signed_seq >= crate::db::CHECKPOINT_EVERY || waited);
        if due {
            match take(&state).await {
                Ok(_) => last_signed = Some(state.clock.now()),
                Err(error) => tracing::error!(%error, "a ledger checkpoint could not be taken"),
            }
        }
    }
}

/// The key's public half, printed at start and shown to quality.
pub fn announce(signer: &Arc<Signer>) {
    tracing::info!(public_key = %signer.public_key(), log = %signer.log.display(), "ledger checkpoints are signed with this key");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_cut_short_does_not_take_the_next_checkpoint_with_it() {
        let dir = tempfile::tempdir().unwrap();
        let log = log_path(dir.path());
        let key = SigningKey::from_bytes(&[7; 32]);
        let first = sign(&key, 10, &"ab".repeat(32), Utc::now());
        append_log(&log, &first).unwrap();
        // the next append was cut off half-way
        let mut torn = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
        torn.write_all(br#"{"seq":20,"head_hash":"cd"#).unwrap();
        let next = sign(&key, 30, &"ef".repeat(32), Utc::now());
        append_log(&log, &next).unwrap();
        let text = std::fs::read_to_string(&log).unwrap();
        assert_eq!(parse_checkpoints(&text), (vec![first, next], 1));
    }
}
