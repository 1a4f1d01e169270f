//! The database: connecting with the right settings for each engine,
//! migrating, and the write transaction every state change goes through.
//!
//! SQLite is the embedded default. It is opened in WAL mode with
//! `synchronous=FULL` (an acknowledged write survives a power cut: this is a
//! medical record), foreign keys on, and a busy timeout. SQLite allows one
//! writer at a time; writers here queue on an async mutex rather than on
//! SQLite's sleeping busy handler, on one connection kept for writing, and
//! begin `IMMEDIATE` so a second process (the `admin` CLI next to a running
//! server) waits its turn instead of failing half-way through a
//! transaction. Writers queued together share one commit (see `write`).
//!
//! PostgreSQL is the scale-out engine: a sized pool that pings only
//! connections that sat idle (a ping on every checkout costs 20-30 %).

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use celltrail_migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx::Connection as _;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, Statement,
};
use tokio::sync::Mutex;

use crate::database_url;

mod write;

use write::SqliteWriter;
pub use write::WriteTxn;

const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long an unused SQLite connection is kept open.
const SQLITE_IDLE: Duration = Duration::from_secs(60);
/// Arbitrary, fixed key of the PostgreSQL advisory lock taken while
/// migrating, so instances starting together migrate one after another.
const MIGRATION_LOCK_KEY: i64 = 0x63_656c_6c74_7261; // "celltra"

#[derive(Clone, Debug)]
pub struct Db {
    conn: DatabaseConnection,
    /// Present on SQLite: one writer at a time within this process. The
    /// lock also guards the last ledger head this process committed, which
    /// saves each append a query (see `services::ledger`), and the
    /// transaction writers queued together share (see `write`).
    sqlite_writer: Option<Arc<Mutex<SqliteWriter>>>,
    /// How many writers wait for `sqlite_writer` now (`writers_waiting`).
    waiting: Arc<std::sync::atomic::AtomicUsize>,
    /// On a SQLite file: the one connection write transactions use. It is
    /// the only writer, so its page cache stays valid from one write to
    /// the next; a write on any pooled connection would first find the
    /// other connections' commits in the WAL and drop its whole cache, and
    /// read every page it needs again.
    sqlite_write_conn: Option<DatabaseConnection>,
    /// Present on PostgreSQL: the last ledger head this process committed.
    /// A hint only: an append states the head it hashed against and the
    /// database moves its head from exactly there or not at all (see
    /// `services::ledger`), so another instance's appends cannot fork the
    /// chain; a stale hint costs one statement more.
    pg_head: Option<Arc<std::sync::Mutex<Option<LedgerHead>>>>,
    /// What the last signed checkpoint says the ledger still holds.
    floor: Arc<LedgerFloor>,
    /// The statements of write transactions, when a test asks for them.
    trace: Arc<WriteTrace>,
}

/// The statements each committed write transaction ran (between its BEGIN
/// and COMMIT), recorded while switched on: how tests prove what an
/// operation costs in round trips.
#[derive(Debug, Default)]
pub struct WriteTrace {
    on: std::sync::atomic::AtomicBool,
    committed: std::sync::Mutex<Vec<Vec<String>>>,
}

/// Prefix of the database error an append refused by the floor carries.
pub const LEDGER_INCONSISTENT: &str = "ledger inconsistent: ";

/// Events between signed checkpoints, at most.
pub const CHECKPOINT_EVERY: i64 = 1000;

/// The ledger's floor: the head its last signed checkpoint holds. A chain
/// found behind it (events removed) or different at it (rewritten) raises
/// the alarm, and from then on every append is refused instead of sealing
/// the gap with new events.
#[derive(Debug, Default)]
pub struct LedgerFloor {
    checkpoint: std::sync::Mutex<Option<LedgerHead>>,
    alarm: std::sync::RwLock<Option<String>>,
    /// Woken when enough events were committed for a new checkpoint.
    pub due: tokio::sync::Notify,
}

impl LedgerFloor {
    pub fn checkpoint(&self) -> Option<LedgerHead> {
        self.checkpoint.lock().ok().and_then(|c| c.clone())
    }

    pub fn set_checkpoint(&self, head: LedgerHead) {
        if let Ok(mut current) = self.checkpoint.lock()
            && current.as_ref().is_none_or(|c| c.seq <= head.seq)
        {
            *current = Some(head);
        }
    }

    /// Why the ledger is inconsistent, once found so.
    pub fn alarm(&self) -> Option<String> {
        self.alarm.read().ok().and_then(|a| a.clone())
    }

    pub fn raise(&self, why: String) {
        tracing::error!(%why, "the custody ledger is inconsistent with its signed checkpoint; writes are refused");
        if let Ok(mut alarm) = self.alarm.write()
            && alarm.is_none()
        {
            *alarm = Some(why);
        }
    }

    /// Whether a chain whose head is `head` may be appended to.
    pub fn admit(&self, head: &LedgerHead) -> Result<(), DbErr> {
        if let Some(checkpoint) = self.checkpoint() {
            if head.seq < checkpoint.seq {
                self.raise(format!(
                    "the ledger ends at event {}, but a signed checkpoint holds event {}",
                    head.seq, checkpoint.seq
                ));
            } else if head.seq == checkpoint.seq && head.hash != checkpoint.hash {
                self.raise(format!(
                    "event {} is not the one the last signed checkpoint holds",
                    head.seq
                ));
            }
        }
        match self.alarm() {
            Some(why) => Err(DbErr::Custom(format!("{LEDGER_INCONSISTENT}{why}"))),
            None => Ok(()),
        }
    }

    /// After a commit: wakes the checkpointer when enough events passed.
    fn committed(&self, head: &LedgerHead) {
        let last = self.checkpoint().map_or(0, |c| c.seq);
        if head.seq - last >= CHECKPOINT_EVERY {
            self.due.notify_one();
        }
    }
}

/// The last event of the custody ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerHead {
    pub seq: i64,
    pub hash: String,
}

impl Db {
    /// Connects; a refusal names its cause and fix once (see
    /// `database_url`).
    pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<Db> {
        database_url::check_before_connect(url)?;
        let mut options = ConnectOptions::new(url.to_owned());
        options
            .sqlx_logging(false)
            .connect_timeout(Duration::from_secs(10))
            .acquire_timeout(Duration::from_secs(15));
        let is_sqlite = url.starts_with("sqlite:");
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        if is_sqlite {
            // Each in-memory connection would be a database of its own.
            // A connection idle for a minute is closed (one stays open):
            // its page and statement caches go with it, so a burst (the
            // demo's load, a month's trace) is not held for good.
            // A connection to a local file cannot have gone away: no ping
            // before each use (sqlx's default), which would cost every
            // statement a second trip to the connection's thread.
            options
                .max_connections(if in_memory { 1 } else { max_connections })
                .min_connections(1)
                .idle_timeout(SQLITE_IDLE)
                .test_before_acquire(false)
                .map_sqlx_sqlite_pool_opts(|pool| {
                    pool.after_connect(|connection, _| Box::pin(stable_plans(connection)))
                })
                .map_sqlx_sqlite_opts(|opts| {
                    opts.journal_mode(SqliteJournalMode::Wal)
                        .synchronous(SqliteSynchronous::Full)
                        .foreign_keys(true)
                        .busy_timeout(SQLITE_BUSY_TIMEOUT)
                });
        } else {
            options
                .max_connections(max_connections)
                .min_connections(1)
                .idle_timeout(Duration::from_secs(300))
                .max_lifetime(Duration::from_secs(1800))
                .test_before_acquire_if_idle_for(Duration::from_secs(30));
        }
        let open = |options: ConnectOptions| async move {
            Database::connect(options).await.map_err(|error| {
                match database_url::explain(url, &error) {
                    Some(words) => anyhow::anyhow!(words),
                    None => anyhow::Error::new(error)
                        .context(format!("cannot open the database at {}", redact(url))),
                }
            })
        };
        // The writer: one connection, opened with the same settings and
        // closed, like the others, after a minute unused (an in-memory
        // database has one connection for everything).
        let sqlite_write_conn = match is_sqlite && !in_memory {
            true => {
                let mut writer = options.clone();
                writer.max_connections(1).min_connections(0);
                Some(open(writer).await?)
            }
            false => None,
        };
        let conn = open(options).await?;
        Ok(Db {
            sqlite_writer: is_sqlite.then(Arc::default),
            waiting: Arc::default(),
            sqlite_write_conn,
            pg_head: (!is_sqlite).then(Arc::default),
            conn,
            floor: Arc::default(),
            trace: Arc::default(),
        })
    }

    /// Starts (or stops) recording the statements of write transactions.
    pub fn trace_writes(&self, on: bool) {
        self.trace.on.store(on, std::sync::atomic::Ordering::SeqCst);
    }

    /// The statements of each write transaction committed since the last
    /// call, oldest first (BEGIN and COMMIT not included).
    pub fn traced_writes(&self) -> Vec<Vec<String>> {
        self.trace
            .committed
            .lock()
            .map(|mut c| std::mem::take(&mut *c))
            .unwrap_or_default()
    }

    pub fn conn(&self) -> &DatabaseConnection {
        &self.conn
    }

    /// Hands back what idle SQLite connections hold (each its page cache,
    /// up to a hundred prepared statements and a thread), after a burst of
    /// work such as loading the demo: all but one are closed, and that one
    /// drops its statements and shrinks its cache (`PRAGMA shrink_memory`);
    /// the writer's connection is closed.
    /// The pool opens connections again as requests need them. A
    /// connection in use is left alone. No-op on PostgreSQL.
    pub async fn hand_back_idle(&self) {
        if self.backend() != DbBackend::Sqlite {
            return;
        }
        let pool = self.conn.get_sqlite_connection_pool();
        let mut idle = Vec::new();
        while let Some(connection) = pool.try_acquire() {
            idle.push(connection);
        }
        let Some(kept) = idle.pop() else {
            return;
        };
        for connection in idle {
            if let Err(error) = connection.close().await {
                tracing::debug!(%error, "an idle connection did not close cleanly");
            }
        }
        shrink(kept).await;
        // the writer's is closed, between two writes (with no shared
        // transaction open, it is idle in its pool of one), and opened
        // again by the next write
        if let (Some(lock), Some(writer)) = (&self.sqlite_writer, &self.sqlite_write_conn) {
            let shared = lock.lock().await;
            if let Some(connection) = writer.get_sqlite_connection_pool().try_acquire()
                && let Err(error) = connection.close().await
            {
                tracing::debug!(%error, "the writer's connection did not close cleanly");
            }
            drop(shared);
        }
    }

    /// The ledger's floor (its last signed checkpoint, and any alarm).
    pub fn floor(&self) -> &LedgerFloor {
        &self.floor
    }

    pub fn backend(&self) -> DbBackend {
        self.conn.get_database_backend()
    }

    /// Applies every pending migration. On PostgreSQL the migration runs on a
    /// connection of its own holding an advisory lock, so several instances
    /// starting at once do not trip over each other.
    pub async fn migrate(&self, url: &str) -> anyhow::Result<()> {
        if self.backend() != DbBackend::Postgres {
            return Migrator::up(&self.conn, None)
                .await
                .context("migration failed");
        }
        let mut options = ConnectOptions::new(url.to_owned());
        options.sqlx_logging(false).max_connections(1);
        let single = Database::connect(options).await?;
        let lock = |sql: &'static str| {
            Statement::from_sql_and_values(DbBackend::Postgres, sql, [MIGRATION_LOCK_KEY.into()])
        };
        single
            .execute_raw(lock("SELECT pg_advisory_lock($1)"))
            .await?;
        let result = Migrator::up(&single, None).await;
        single
            .execute_raw(lock("SELECT pg_advisory_unlock($1)"))
            .await?;
        single.close().await?;
        result.context("migration failed")
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<(), DbErr> {
        self.conn.ping().await
    }
}

/// The URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..scheme_end + 3], user, &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Drops a connection's prepared statements and shrinks its page cache.
async fn shrink(mut connection: sea_orm::sqlx::pool::PoolConnection<sea_orm::sqlx::Sqlite>) {
    let shrunk = match connection.clear_cached_statements().await {
        Ok(()) => sea_orm::sqlx::query("PRAGMA shrink_memory")
            .execute(&mut *connection)
            .await
            .map(drop),
        Err(error) => Err(error),
    };
    if let Err(error) = shrunk {
        tracing::debug!(%error, "a connection could not shrink its caches");
    }
}

/// Keeps each prepared statement's plan for as long as the statement is
/// cached (SQLite's query planner stability guarantee).
///
/// Without it SQLite (3.47 on) reads a bound `LIMIT ?` while planning and
/// marks the statement to be planned again whenever that parameter is
/// bound: every `.one()` lookup (a scan, a record by id) was parsed and
/// planned anew on every call, a fifth of a scan's time. With it a
/// statement is prepared once per connection, as the statement cache
/// intends. Plans here never depend on bound values (no `ANALYZE`
/// statistics are kept), so nothing else changes.
async fn stable_plans(
    connection: &mut sea_orm::sqlx::SqliteConnection,
) -> Result<(), sea_orm::sqlx::Error> {
    let mut handle = connection.lock_handle().await?;
    let raw = handle.as_raw_handle().as_ptr();
    // SAFETY: `raw` is this connection's open handle, held locked for the
    // call; SQLITE_DBCONFIG_ENABLE_QPSG takes an int (1: on) and a
    // nullable pointer for the previous setting.
    let on: std::ffi::c_int = 1;
    let rc = unsafe {
        libsqlite3_sys::sqlite3_db_config(
            raw,
            libsqlite3_sys::SQLITE_DBCONFIG_ENABLE_QPSG,
            on,
            std::ptr::null_mut::<std::ffi::c_int>(),
        )
    };
    if rc != libsqlite3_sys::SQLITE_OK {
        return Err(sea_orm::sqlx::Error::Protocol(format!(
            "SQLite refused the query planner stability setting (code {rc})"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_are_hidden_in_urls() {
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(
            redact("sqlite://celltrail.db?mode=rwc"),
            "sqlite://celltrail.db?mode=rwc"
        );
    }
}
