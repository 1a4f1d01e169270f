//! The write transaction every state change goes through, and on SQLite
//! the group commit that lets writers queued together share one `COMMIT`.
//!
//! SQLite takes one writer at a time, and with `synchronous=FULL` every
//! `COMMIT` waits for the disk (`fsync`): alone, that wait is most of a
//! small write's time. Writers here queue on an async mutex, and the
//! writes of those queued together go into one physical transaction, each
//! in a savepoint of its own, committed once:
//!
//! - the first writer begins the transaction (`BEGIN IMMEDIATE`) and uses
//!   it as its own, so a writer alone costs no statement more;
//! - a writer that finds a transaction open joins it with a `SAVEPOINT`,
//!   released when it commits and rolled back when it fails or is dropped:
//!   its failure takes nothing of the others with it;
//! - a writer that has committed gives the lock up and queues for it once
//!   more (in a task of its own, which finishes even if the request is
//!   given up); back at the front, it finds its transaction committed by a
//!   writer that queued before it, or commits it itself (so the writers
//!   that were waiting when it finished join first);
//! - no writer is answered before its transaction is on disk: `commit`
//!   returns when the `COMMIT` did, and fails when it failed.
//!
//! A statement that fails in a way that may have rolled the whole
//! transaction back (a full disk, an I/O error; see `ends_transaction`)
//! ends the shared transaction: it is rolled back and every writer waiting on it is
//! told its write failed. Nothing is acknowledged that was not written.

use std::ops::Deref;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use sea_orm::prelude::async_trait;
use sea_orm::{
    ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, ExecResult, QueryResult,
    SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
};
use tokio::sync::OwnedMutexGuard;

use super::{Db, LedgerFloor, LedgerHead, WriteTrace};

/// What SQLite writers share behind their mutex: the ledger head the last
/// write left, and the transaction open for writers queued together.
#[derive(Debug, Default)]
pub(super) struct SqliteWriter {
    head: Option<LedgerHead>,
    batch: Option<Batch>,
    batches: u64,
}

/// One physical transaction, shared by the writes queued together.
#[derive(Debug)]
struct Batch {
    id: u64,
    /// The `BEGIN`; held by the first writer until it commits.
    outer: Option<DatabaseTransaction>,
    /// How the `COMMIT` went, once it went (the error in words: every
    /// writer of the batch is told).
    outcome: Arc<OnceLock<Result<(), String>>>,
}

/// How a writer holds its part of the physical transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    /// Its own transaction: PostgreSQL, or a SQLite database in memory.
    Alone,
    /// It began the shared transaction and holds it.
    First,
    /// A savepoint in a transaction another writer began.
    Joined,
}

/// A writer counted as waiting for the SQLite write lock while it lives
/// (dropped with the future too, when a request is given up).
struct Waiting<'a>(&'a std::sync::atomic::AtomicUsize);

impl<'a> Waiting<'a> {
    fn count(waiting: &'a std::sync::atomic::AtomicUsize) -> Self {
        waiting.fetch_add(1, Ordering::Relaxed);
        Waiting(waiting)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Db {
    /// How many writers wait for SQLite's write lock at this moment (0 on
    /// PostgreSQL, where writers do not queue in the process).
    pub fn writers_waiting(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }

    /// Begins a write transaction. Every state change and its ledger event
    /// go through one of these, committed together or not at all.
    pub async fn write(&self) -> Result<WriteTxn, DbErr> {
        let traced = self
            .trace
            .on
            .load(Ordering::Relaxed)
            .then(|| (self.trace.clone(), std::sync::Mutex::new(Vec::new())));
        let mut writer = match &self.sqlite_writer {
            Some(lock) => {
                let _counted = Waiting::count(&self.waiting);
                Some(lock.clone().lock_owned().await)
            }
            None => None,
        };
        let (txn, part, batch) = match (writer.as_mut(), &self.sqlite_write_conn) {
            (Some(shared), Some(conn)) => match &shared.batch {
                Some(batch) => {
                    let outer = batch.outer.as_ref().ok_or_else(|| {
                        DbErr::Custom("the shared write transaction is held elsewhere".into())
                    })?;
                    (outer.begin().await?, Part::Joined, Some(batch.id))
                }
                None => {
                    let txn = conn.begin_with_options(immediate()).await?;
                    shared.batches += 1;
                    shared.batch = Some(Batch {
                        id: shared.batches,
                        outer: None,
                        outcome: Arc::default(),
                    });
                    (txn, Part::First, Some(shared.batches))
                }
            },
            (Some(_), None) => (
                self.conn.begin_with_options(immediate()).await?,
                Part::Alone,
                None,
            ),
            (None, _) => (self.conn.begin().await?, Part::Alone, None),
        };
        let cached = writer.as_ref().and_then(|shared| shared.head.clone());
        Ok(WriteTxn {
            txn: Some(txn),
            part,
            batch,
            broken: AtomicBool::new(false),
            head: std::sync::Mutex::new(HeadState {
                known: cached,
                confirmed: false,
            }),
            writer,
            sqlite_writer: self.sqlite_writer.clone(),
            pg_head: self.pg_head.clone(),
            floor: self.floor.clone(),
            traced,
        })
    }
}

fn immediate() -> TransactionOptions {
    TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    }
}

/// An open write transaction; dropped without `commit`, it rolls back.
pub struct WriteTxn {
    /// Taken by `commit`.
    txn: Option<DatabaseTransaction>,
    part: Part,
    /// The shared transaction this write is part of.
    batch: Option<u64>,
    /// A statement failed in a way that may have ended the transaction.
    broken: AtomicBool,
    head: std::sync::Mutex<HeadState>,
    // Declared after `txn` so the transaction is given back first.
    writer: Option<OwnedMutexGuard<SqliteWriter>>,
    sqlite_writer: Option<Arc<tokio::sync::Mutex<SqliteWriter>>>,
    pg_head: Option<Arc<std::sync::Mutex<Option<LedgerHead>>>>,
    floor: Arc<LedgerFloor>,
    traced: Option<(Arc<WriteTrace>, std::sync::Mutex<Vec<String>>)>,
}

#[derive(Debug)]
struct HeadState {
    known: Option<LedgerHead>,
    /// Read or written in this transaction (not merely remembered from an
    /// earlier one, which another process may have overtaken).
    confirmed: bool,
}

impl WriteTxn {
    pub async fn commit(mut self) -> Result<(), DbErr> {
        let head = self.head.get_mut().map(|h| h.known.clone()).unwrap_or(None);
        let result = match self.part {
            Part::Alone => self.commit_alone().await,
            Part::First | Part::Joined => self.commit_shared(head.clone()).await,
        };
        if result.is_ok()
            && let Some(head) = &head
        {
            self.floor.committed(head);
        }
        let appended = self.head.get_mut().is_ok_and(|h| h.confirmed);
        if let (Some(shared), true) = (&self.pg_head, appended)
            && let Ok(mut cached) = shared.lock()
        {
            // Transactions commit in any order: keep the furthest head.
            // After a failed commit, whether it landed is unknown.
            *cached = match (result.is_ok(), head, cached.take()) {
                (true, Some(ours), Some(known)) if known.seq > ours.seq => Some(known),
                (true, ours, _) => ours,
                (false, _, _) => None,
            };
        }
        if let (Ok(()), Some((trace, statements))) = (&result, self.traced.take())
            && let (Ok(statements), Ok(mut committed)) =
                (statements.into_inner(), trace.committed.lock())
        {
            committed.push(statements);
        }
        result
    }

    /// A transaction of its own: committed, and on SQLite the head kept.
    async fn commit_alone(&mut self) -> Result<(), DbErr> {
        self.still_open()?;
        let txn = self.txn.take().ok_or_else(already_committed)?;
        let result = txn.commit().await;
        if let Some(shared) = self.writer.as_mut() {
            // After a failed commit nobody knows the head: read it next time.
            shared.head = match &result {
                Ok(()) => self.head.get_mut().ok().and_then(|h| h.known.clone()),
                Err(_) => None,
            };
        }
        result
    }

    /// Its part of the shared transaction ended (savepoint released, or
    /// the transaction handed back to the batch), then the lock given up
    /// until the batch is committed, by this writer or one before it.
    async fn commit_shared(&mut self, head: Option<LedgerHead>) -> Result<(), DbErr> {
        let txn = self.txn.take().ok_or_else(already_committed)?;
        let mut shared = self.writer.take().ok_or_else(already_committed)?;
        let id = self.batch.ok_or_else(already_committed)?;
        if self.broken.load(Ordering::Relaxed) {
            // a statement may have ended the transaction: whatever the
            // caller made of the error, nothing of it is committed
            drop(txn);
            let why = "a statement failed in a way that ends the transaction";
            abandon(&mut shared, why);
            return Err(DbErr::Custom(why.into()));
        }
        let released = match self.part {
            Part::Joined => txn.commit().await,
            _ => {
                if let Some(batch) = shared.batch.as_mut() {
                    batch.outer = Some(txn);
                }
                Ok(())
            }
        };
        if let Err(error) = released {
            abandon(&mut shared, &error.to_string());
            return Err(error);
        }
        shared.head = head;
        let outcome = match &shared.batch {
            Some(batch) if batch.id == id => batch.outcome.clone(),
            _ => {
                return Err(DbErr::Custom(
                    "the shared write transaction was lost".into(),
                ));
            }
        };
        drop(shared);
        // Back in the queue: the writers waiting now go first and join.
        // A task of its own, so the batch is committed even when the
        // request that waits for it is given up (its client went away).
        let lock = self.sqlite_writer.clone().ok_or_else(already_committed)?;
        let waiting = outcome.clone();
        let finisher = tokio::spawn(async move {
            let mut shared = lock.lock_owned().await;
            if waiting.get().is_none() {
                finish(&mut shared).await;
            }
        });
        if let Err(error) = finisher.await {
            return Err(DbErr::Custom(format!(
                "the shared write transaction's commit did not finish: {error}"
            )));
        }
        match outcome.get() {
            Some(Ok(())) => Ok(()),
            Some(Err(why)) => Err(DbErr::Custom(format!("the write was not committed: {why}"))),
            None => Err(DbErr::Custom(
                "the shared write transaction ended unaccounted".into(),
            )),
        }
    }

    fn traced(&self, sql: &str) {
        if let Some((_, statements)) = &self.traced
            && let Ok(mut statements) = statements.lock()
        {
            statements.push(sql.to_owned());
        }
    }

    /// Refuses a statement, or the commit, after one that ended the
    /// transaction or may have: on SQLite it would run outside any
    /// transaction, and be committed at once whatever became of this one.
    fn still_open(&self) -> Result<(), DbErr> {
        match self.broken.load(Ordering::Relaxed) {
            true => Err(DbErr::Custom(
                "an earlier statement failed in a way that ended the transaction".into(),
            )),
            false => Ok(()),
        }
    }

    /// Notes a failed statement that ended the transaction or may have:
    /// on PostgreSQL every failed statement does (the transaction refuses
    /// every further one, and its `COMMIT` is quietly a `ROLLBACK`, which
    /// would tell a caller that carried on that its write was kept); on
    /// SQLite see `ends_transaction`.
    fn checked<T>(&self, result: Result<T, DbErr>) -> Result<T, DbErr> {
        if let Err(error) = &result
            && (self.get_database_backend() != DbBackend::Sqlite || ends_transaction(error))
        {
            self.broken.store(true, Ordering::Relaxed);
        }
        result
    }

    fn txn(&self) -> &DatabaseTransaction {
        self.txn
            .as_ref()
            .expect("a write transaction is open until it is committed")
    }

    /// The ledger's floor.
    pub fn floor(&self) -> &LedgerFloor {
        &self.floor
    }

    /// The ledger head as this transaction knows it, and whether it was
    /// confirmed inside this transaction. Unconfirmed, it is the head this
    /// process last committed, which another process (or, on PostgreSQL,
    /// another transaction) may have overtaken.
    pub fn ledger_head(&self) -> Option<(LedgerHead, bool)> {
        let state = self.head.lock().expect("the head lock is never poisoned");
        if !state.confirmed
            && let Some(shared) = &self.pg_head
        {
            let known = shared.lock().ok().and_then(|h| h.clone());
            return known.map(|head| (head, false));
        }
        state.known.clone().map(|head| (head, state.confirmed))
    }

    /// Forgets the head this process remembers (on PostgreSQL), after an
    /// append failed: the next one reads it, and the last event, afresh.
    pub fn forget_ledger_head(&self) {
        if let Some(shared) = &self.pg_head
            && let Ok(mut cached) = shared.lock()
        {
            *cached = None;
        }
    }

    /// Records the head after reading or appending to the ledger.
    pub fn set_ledger_head(&self, head: LedgerHead) {
        let mut state = self.head.lock().expect("the head lock is never poisoned");
        state.known = Some(head);
        state.confirmed = true;
    }
}

/// Commits the open shared transaction and tells its writers how it went.
async fn finish(shared: &mut SqliteWriter) {
    let Some(mut batch) = shared.batch.take() else {
        return;
    };
    let result = match batch.outer.take() {
        Some(outer) => outer.commit().await.map_err(|error| error.to_string()),
        None => Err("the shared write transaction was not handed back".to_owned()),
    };
    if result.is_err() {
        // after a failed commit nobody knows the head: read it next time
        shared.head = None;
    }
    let _ = batch.outcome.set(result);
}

/// Rolls the shared transaction back (dropping it rolls back) and tells
/// the writers waiting on it that their writes failed.
fn abandon(shared: &mut SqliteWriter, why: &str) {
    if let Some(mut batch) = shared.batch.take() {
        drop(batch.outer.take());
        let _ = batch.outcome.set(Err(why.to_owned()));
    }
    shared.head = None;
}

/// Whether a failed statement may have ended the SQLite transaction it
/// ran in. A statement refused by a constraint, or as not valid SQL, is
/// undone alone; a full disk, an I/O error, a lack of memory, an interrupt
/// or a trigger's `RAISE` may roll the whole transaction back (SQLite
/// documents which), and so may anything not from SQLite at all.
fn ends_transaction(error: &DbErr) -> bool {
    use sea_orm::RuntimeErr;
    use sea_orm::sqlx::Error;
    let (DbErr::Exec(RuntimeErr::SqlxError(cause)) | DbErr::Query(RuntimeErr::SqlxError(cause))) =
        error
    else {
        return true;
    };
    let Error::Database(database) = cause.as_ref() else {
        return true;
    };
    let code: i32 = database
        .code()
        .and_then(|code| code.parse().ok())
        .unwrap_or(-1);
    // SQLITE_ERROR, SQLITE_CONSTRAINT (but SQLITE_CONSTRAINT_TRIGGER),
    // SQLITE_MISMATCH, SQLITE_RANGE
    const TRIGGER: i32 = 19 | (7 << 8);
    !(matches!(code & 0xff, 1 | 19 | 20 | 25) && code != TRIGGER)
}

fn already_committed() -> DbErr {
    DbErr::Custom("the write transaction was already committed".into())
}

impl Drop for WriteTxn {
    /// Not committed: the transaction (or its savepoint) rolls back as it
    /// is dropped. A writer that began the shared transaction is alone in
    /// it (others join only after it committed), so the batch goes too; a
    /// broken statement takes the batch with it.
    fn drop(&mut self) {
        let Some(txn) = self.txn.take() else {
            return;
        };
        drop(txn);
        if let Some(shared) = self.writer.as_mut() {
            let broken = self.broken.load(Ordering::Relaxed);
            match self.part {
                // alone in the batch: its rollback is the batch's
                Part::First => shared.batch = None,
                Part::Joined if broken => abandon(
                    shared,
                    "a statement failed in the transaction it shared, which was rolled back",
                ),
                _ => {}
            }
        }
    }
}

impl Deref for WriteTxn {
    type Target = DatabaseTransaction;

    fn deref(&self) -> &DatabaseTransaction {
        self.txn()
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for WriteTxn {
    fn get_database_backend(&self) -> DbBackend {
        self.txn().get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.traced(&stmt.sql);
        self.still_open()?;
        self.checked(self.txn().execute_raw(stmt).await)
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.traced(sql);
        self.still_open()?;
        self.checked(self.txn().execute_unprepared(sql).await)
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.traced(&stmt.sql);
        self.still_open()?;
        self.checked(self.txn().query_one_raw(stmt).await)
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.traced(&stmt.sql);
        self.still_open()?;
        self.checked(self.txn().query_all_raw(stmt).await)
    }
}
