//! Appending to and verifying the custody ledger.
//!
//! Appends are serialised so the chain can never fork: on SQLite by the
//! single-writer transaction (see `db`), on PostgreSQL by the one row of
//! `ledger_head`, which each append moves in the same statement that
//! inserts its events, and only from the head they were hashed against
//! (see `append_postgres`). The row lock is the last one a write
//! transaction takes and is held only until commit, so appends queue
//! briefly and cannot deadlock with row locks. And whatever happens, `seq`
//! is the primary key: two events can never claim the same link.
//!
//! Each process remembers the head it last committed, so an append is one
//! statement. On SQLite, if another process appended in between, the
//! INSERT hits the primary key and the head is read afresh; on PostgreSQL
//! the statement finds the head row elsewhere and returns it.

use std::borrow::Cow;
use std::collections::VecDeque;

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, SqlErr, Statement,
};
use serde_json::Value;
use uuid::Uuid;

use crate::db::{Db, LedgerHead, WriteTxn};
use crate::domain::checkpoint::CheckpointJudge;
use crate::domain::event::{EventContent, GENESIS_HASH, event_hash, ledger_time};
use crate::domain::ledger::{ChainReport, ChainVerifier};
use crate::domain::replay::{EventView, Replay};
use crate::entities::custody_event;
use crate::services::Actor;

/// Events read per query while verifying.
const VERIFY_BATCH: u64 = 10_000;
/// Pages read at once while verifying, each on a connection of its own.
const READ_AHEAD: usize = 3;

/// A state change to record.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// `noun.verb_past`, e.g. `user.deactivated`, `vial.stored`.
    pub action: &'static str,
    pub subject_kind: &'static str,
    pub subject_id: Uuid,
    pub from_location: Option<String>,
    pub to_location: Option<String>,
    pub details: Value,
}

impl NewEvent {
    pub fn new(action: &'static str, subject_kind: &'static str, subject_id: Uuid) -> Self {
        NewEvent {
            action,
            subject_kind,
            subject_id,
            from_location: None,
            to_location: None,
            details: Value::Object(Default::default()),
        }
    }

    pub fn details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }

    pub fn moved(mut self, from: Option<String>, to: Option<String>) -> Self {
        self.from_location = from;
        self.to_location = to;
        self
    }
}

/// Where an appended event landed in the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    pub seq: i64,
    pub hash: String,
    pub occurred_at: DateTime<Utc>,
}

/// Appends one event inside the caller's transaction.
pub async fn append(
    txn: &WriteTxn,
    actor: &Actor,
    now: DateTime<Utc>,
    event: NewEvent,
) -> Result<Appended, DbErr> {
    let mut appended = append_many(txn, actor, now, vec![event]).await?;
    Ok(appended.pop().expect("one event in, one appended"))
}

/// Appends events in order, all at the same time, with one multi-row insert
/// (freezing a lot of 96 vials records 97 events in one statement).
pub async fn append_many(
    txn: &WriteTxn,
    actor: &Actor,
    now: DateTime<Utc>,
    events: Vec<NewEvent>,
) -> Result<Vec<Appended>, DbErr> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let occurred_at = ledger_time(now);
    let details = events
        .iter()
        .map(|e| serde_json::to_string(&e.details))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| DbErr::Custom(format!("event details do not serialise: {e}")))?;
    let batch = Batch {
        actor,
        occurred_at,
        events: &events,
        details: &details,
    };
    if txn.get_database_backend() == DbBackend::Postgres {
        return append_postgres(txn, &batch).await;
    }
    let (mut head, mut confirmed) = match txn.ledger_head() {
        Some(known) => known,
        None => (read_head(txn).await?, true),
    };
    loop {
        if confirmed {
            // never append to a chain behind (or other than) its checkpoint
            txn.floor().admit(&head)?;
        }
        let (rows, appended) = chain(&head, &batch);
        match insert(txn, rows.into_iter().map(active).collect()).await {
            Ok(()) => {
                // the insert found no event after `head`: it is the head
                txn.floor().admit(&head)?;
                let last = appended.last().expect("events is not empty");
                txn.set_ledger_head(LedgerHead {
                    seq: last.seq,
                    hash: last.hash.clone(),
                });
                return Ok(appended);
            }
            // The head remembered from this process's last commit was
            // overtaken by another process (the `admin` CLI beside a running
            // server). SQLite keeps the transaction usable after a failed
            // statement: read the real head and chain again.
            Err(error) if !confirmed && is_duplicate(&error) => {
                head = read_head(txn).await?;
                confirmed = true;
            }
            Err(error) => return Err(error),
        }
    }
}

/// What one append writes.
struct Batch<'a> {
    actor: &'a Actor,
    occurred_at: DateTime<Utc>,
    events: &'a [NewEvent],
    details: &'a [String],
}

/// Appends on PostgreSQL, where several instances may append at once.
/// They serialise on the one row of `ledger_head`: each append is one
/// statement that locks that row, moves it from the head the events were
/// hashed against to the new head, and inserts the events only if it did.
/// When the head this process remembered was overtaken (by another
/// transaction or instance), the statement inserts nothing and returns the
/// real head, which it now holds locked: the events are hashed again on
/// it, and the second try cannot miss. So an append is one round trip, two
/// when overtaken, and the chain cannot fork: the head moves only from
/// where the events were chained, and `seq` is the primary key besides.
async fn append_postgres(txn: &WriteTxn, batch: &Batch<'_>) -> Result<Vec<Appended>, DbErr> {
    let (mut expected, mut base, mut confirmed) = match txn.ledger_head() {
        Some((head, confirmed)) => (head.clone(), head, confirmed),
        None => {
            let (row, events) = read_head_postgres(txn).await?;
            (row, events, true)
        }
    };
    loop {
        if confirmed {
            txn.floor().admit(&base)?;
        }
        let (rows, appended) = chain(&base, batch);
        let last = appended.last().expect("events is not empty");
        let new_head = LedgerHead {
            seq: last.seq,
            hash: last.hash.clone(),
        };
        let mut rows = rows.into_iter();
        let first: Vec<_> = rows.by_ref().take(INSERT_CHUNK).collect();
        let current = match advance(txn, &expected, &new_head, &first).await {
            Ok(current) => current,
            Err(error) => {
                // e.g. an event already at a number the head row did not
                // know of: the next append starts from the last event
                txn.forget_ledger_head();
                return Err(error);
            }
        };
        if current == new_head {
            // the head this statement moved from was `base`: the rest of a
            // large batch follows under the lock it holds
            insert(txn, rows.map(active).collect()).await?;
            txn.floor().admit(&base)?;
            txn.set_ledger_head(new_head);
            return Ok(appended);
        }
        if confirmed {
            return Err(DbErr::Custom(format!(
                "the ledger head moved to event {} while this transaction held it",
                current.seq
            )));
        }
        expected = current.clone();
        base = current;
        confirmed = true;
    }
}

/// The one statement of a PostgreSQL append: moves `ledger_head` from
/// `expected` to `new_head` and inserts `rows` if it did; returns the head
/// after the statement (`new_head` when it moved), locked until commit.
async fn advance(
    txn: &WriteTxn,
    expected: &LedgerHead,
    new_head: &LedgerHead,
    rows: &[custody_event::Model],
) -> Result<LedgerHead, DbErr> {
    use std::fmt::Write;
    let mut values: Vec<sea_orm::Value> = Vec::with_capacity(4 + rows.len() * 12);
    values.extend([
        expected.seq.into(),
        expected.hash.clone().into(),
        new_head.seq.into(),
        new_head.hash.clone().into(),
    ]);
    let mut tuples = String::with_capacity(rows.len() * 120);
    for (i, row) in rows.iter().enumerate() {
        let p = 5 + i * 12;
        let _ = write!(
            tuples,
            "{}(${}::bigint, ${}::timestamptz, ${}::uuid, ${}::text, ${}::text, ${}::text, \
             ${}::uuid, ${}::text, ${}::text, ${}::text, ${}::text, ${}::text)",
            if i == 0 { "" } else { ", " },
            p,
            p + 1,
            p + 2,
            p + 3,
            p + 4,
            p + 5,
            p + 6,
            p + 7,
            p + 8,
            p + 9,
            p + 10,
            p + 11
        );
        values.extend([
            row.seq.into(),
            row.occurred_at.into(),
            row.actor_id.into(),
            row.actor_username.clone().into(),
            row.action.clone().into(),
            row.subject_kind.clone().into(),
            row.subject_id.into(),
            row.from_location.clone().into(),
            row.to_location.clone().into(),
            row.details.clone().into(),
            row.prev_hash.clone().into(),
            row.hash.clone().into(),
        ]);
    }
    let sql = format!(
        "WITH head AS (\
           UPDATE ledger_head SET \
             seq = CASE WHEN seq = $1 AND hash = $2 THEN $3 ELSE seq END, \
             hash = CASE WHEN seq = $1 AND hash = $2 THEN $4 ELSE hash END \
           WHERE id = 1 RETURNING seq, hash), \
         appended AS (\
           INSERT INTO custody_events ({COLUMNS}) \
           SELECT e.* FROM (VALUES {tuples}) AS e ({COLUMNS}) \
           WHERE EXISTS (SELECT 1 FROM head WHERE head.seq = $3 AND head.hash = $4) \
           RETURNING seq) \
         SELECT head.seq, head.hash, (SELECT count(*) FROM appended) AS appended FROM head"
    );
    let row = txn
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            sql,
            values,
        ))
        .await?
        .ok_or_else(|| DbErr::Custom("the ledger_head row is missing".into()))?;
    let head = LedgerHead {
        seq: row.try_get("", "seq")?,
        hash: row.try_get("", "hash")?,
    };
    let appended: i64 = row.try_get("", "appended")?;
    if head == *new_head && appended != rows.len() as i64 {
        return Err(DbErr::Custom(format!(
            "the ledger head moved but {appended} of {} events were written",
            rows.len()
        )));
    }
    Ok(head)
}

const COLUMNS: &str = "seq, occurred_at, actor_id, actor_username, action, subject_kind, \
                       subject_id, from_location, to_location, details, prev_hash, hash";

/// On PostgreSQL, with no head remembered: locks `ledger_head` and reads
/// it, then the last event. They differ only when events were appended by
/// something that did not move the head row, or removed behind the
/// service's back: the events are chained onto the last event, as before
/// the head row existed, and the append moves the row there.
async fn read_head_postgres(txn: &WriteTxn) -> Result<(LedgerHead, LedgerHead), DbErr> {
    let row = txn
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT seq, hash FROM ledger_head WHERE id = 1 FOR UPDATE",
        ))
        .await?
        .ok_or_else(|| DbErr::Custom("the ledger_head row is missing".into()))?;
    let held = LedgerHead {
        seq: row.try_get("", "seq")?,
        hash: row.try_get("", "hash")?,
    };
    let last = read_head(txn).await?;
    if last != held {
        tracing::warn!(
            head_row = held.seq,
            last_event = last.seq,
            "the ledger_head row and the last event differ; chaining onto the last event"
        );
    }
    Ok((held, last))
}

/// Reads the last event of the chain.
async fn read_head(txn: &WriteTxn) -> Result<LedgerHead, DbErr> {
    let head: Option<(i64, String)> = custody_event::Entity::find()
        .select_only()
        .column(custody_event::Column::Seq)
        .column(custody_event::Column::Hash)
        .order_by_desc(custody_event::Column::Seq)
        .limit(1)
        .into_tuple()
        .one(txn)
        .await?;
    let (seq, hash) = head.unwrap_or((0, GENESIS_HASH.to_owned()));
    Ok(LedgerHead { seq, hash })
}

fn chain(head: &LedgerHead, batch: &Batch<'_>) -> (Vec<custody_event::Model>, Vec<Appended>) {
    let Batch {
        actor,
        occurred_at,
        events,
        details,
    } = *batch;
    let mut prev_hash = head.hash.clone();
    let mut rows = Vec::with_capacity(events.len());
    let mut appended = Vec::with_capacity(events.len());
    for (offset, (event, details)) in events.iter().zip(details).enumerate() {
        let seq = head.seq + 1 + offset as i64;
        let hash = event_hash(&EventContent {
            seq,
            occurred_at,
            actor_id: actor.id,
            actor_username: &actor.username,
            action: event.action,
            subject_kind: event.subject_kind,
            subject_id: event.subject_id,
            from_location: event.from_location.as_deref(),
            to_location: event.to_location.as_deref(),
            details,
            prev_hash: &prev_hash,
        });
        rows.push(custody_event::Model {
            seq,
            occurred_at,
            actor_id: actor.id,
            actor_username: actor.username.clone(),
            action: event.action.to_owned(),
            subject_kind: event.subject_kind.to_owned(),
            subject_id: event.subject_id,
            from_location: event.from_location.clone(),
            to_location: event.to_location.clone(),
            details: details.clone(),
            prev_hash: std::mem::replace(&mut prev_hash, hash.clone()),
            hash: hash.clone(),
        });
        appended.push(Appended {
            seq,
            hash,
            occurred_at,
        });
    }
    (rows, appended)
}

fn active(row: custody_event::Model) -> custody_event::ActiveModel {
    custody_event::ActiveModel {
        seq: Set(row.seq),
        occurred_at: Set(row.occurred_at),
        actor_id: Set(row.actor_id),
        actor_username: Set(row.actor_username),
        action: Set(row.action),
        subject_kind: Set(row.subject_kind),
        subject_id: Set(row.subject_id),
        from_location: Set(row.from_location),
        to_location: Set(row.to_location),
        details: Set(row.details),
        prev_hash: Set(row.prev_hash),
        hash: Set(row.hash),
    }
}

/// Rows per INSERT: 12 parameters each stays far below SQLite's and
/// PostgreSQL's parameter limits.
const INSERT_CHUNK: usize = 500;

async fn insert(txn: &WriteTxn, rows: Vec<custody_event::ActiveModel>) -> Result<(), DbErr> {
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<_> = rows.by_ref().take(INSERT_CHUNK).collect();
        custody_event::Entity::insert_many(chunk)
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}

fn is_duplicate(error: &DbErr) -> bool {
    matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

/// Recomputes the whole chain, oldest first, names the first broken link,
/// and replays the events against the tables. The next page is read while
/// the current one is hashed, so verification runs at about the speed of
/// reading.
pub async fn verify(db: &Db) -> Result<ChainReport, DbErr> {
    verify_with(db, None).await
}

/// The same, and every signed checkpoint held against the chain: each
/// checkpointed event must still be there with the hash that was signed
/// (removed, rewritten or reordered events after a checkpoint are named).
pub async fn verify_with(db: &Db, judge: Option<CheckpointJudge>) -> Result<ChainReport, DbErr> {
    walk(db, judge, true).await
}

/// The chain alone, without the replay (what verification cost before the
/// replay; the benchmark's baseline).
pub async fn verify_chain(db: &Db) -> Result<ChainReport, DbErr> {
    walk(db, None, false).await
}

async fn walk(
    db: &Db,
    mut judge: Option<CheckpointJudge>,
    replay: bool,
) -> Result<ChainReport, DbErr> {
    // The tables first, with the last event they reflect: the replay stops
    // there, however many events are appended meanwhile.
    let snapshot = if replay {
        Some(crate::services::replay::snapshot(db).await?)
    } else {
        None
    };
    let replay_until = snapshot.as_ref().map_or(0, |(_, seq)| *seq);
    let mut replayed = snapshot.as_ref().map(|_| Replay::default());
    let mut verifier = ChainVerifier::default();
    let mut last_seq = 0;
    let mut broken = false;
    let mut pages = Pages::open(db).await?;
    'pages: while let Some(page) = pages.next().await? {
        for event in &page {
            last_seq = event.seq;
            if let Some(judge) = judge.as_mut() {
                judge.event(event.seq, &event.hash);
            }
            if !broken && !verifier.check(&content(event), &event.hash) {
                broken = true;
                if judge.is_none() {
                    break 'pages;
                }
            }
            if let Some(replay) = replayed.as_mut()
                && event.seq <= replay_until
            {
                replay.apply(&EventView {
                    seq: event.seq,
                    occurred_at: event.occurred_at,
                    actor_id: event.actor_id,
                    actor_username: &event.actor_username,
                    action: &event.action,
                    subject_id: event.subject_id,
                    details: &event.details,
                    hash: &event.hash,
                });
            }
        }
    }
    let mut report = verifier.finish();
    if let Some(judge) = judge {
        let checked = judge.finish(last_seq);
        report.ok &= checked.problems.is_empty();
        report.checkpoints = Some(checked);
    }
    // A chain cut short of the snapshot leaves the replay incomplete: its
    // differences would be the missing events', already named above.
    if let (Some(replay), Some((tables, _))) = (replayed, snapshot)
        && last_seq >= replay_until
    {
        let compared = replay.compare(&tables);
        report.ok &= compared.is_clean();
        report.replay = Some(compared);
    }
    report.last_seq = last_seq;
    Ok(report)
}

type Page = Vec<custody_event::Model>;

/// The ledger in `seq` order, read ahead on several connections: up to the
/// head found at the start, pages are ranges of `seq` numbers
/// (`VERIFY_BATCH` each, `READ_AHEAD` in flight), so none waits for the one
/// before; after it, pages follow one another until the end, so events
/// appended meanwhile are read too. A range that comes back empty (a gap,
/// which the verifier names) makes the reader jump to the next event.
struct Pages {
    db: Db,
    /// The last `seq` of the last range asked for.
    asked: i64,
    /// The head when reading began.
    head: i64,
    /// The last `seq` handed out.
    last: Option<i64>,
    in_flight: VecDeque<tokio::task::JoinHandle<Result<Page, DbErr>>>,
}

impl Drop for Pages {
    fn drop(&mut self) {
        for read in &self.in_flight {
            read.abort();
        }
    }
}

impl Pages {
    async fn open(db: &Db) -> Result<Pages, DbErr> {
        let (first, head) = custody_event::Entity::find()
            .select_only()
            .column_as(custody_event::Column::Seq.min(), "first")
            .column_as(custody_event::Column::Seq.max(), "head")
            .into_tuple::<(Option<i64>, Option<i64>)>()
            .one(db.conn())
            .await?
            .unwrap_or_default();
        let mut pages = Pages {
            db: db.clone(),
            asked: first.map_or(0, |f| f.saturating_sub(1)),
            head: head.unwrap_or(0),
            last: None,
            in_flight: VecDeque::new(),
        };
        pages.ask();
        Ok(pages)
    }

    /// Keeps `READ_AHEAD` ranges in flight up to the head.
    fn ask(&mut self) {
        while self.in_flight.len() < READ_AHEAD && self.asked < self.head {
            let (after, to) = (self.asked, self.asked.saturating_add(VERIFY_BATCH as i64));
            let db = self.db.clone();
            self.in_flight.push_back(tokio::spawn(
                async move { read_range(&db, after, to).await },
            ));
            self.asked = to;
        }
    }

    async fn next(&mut self) -> Result<Option<Page>, DbErr> {
        loop {
            let Some(read) = self.in_flight.pop_front() else {
                // past the starting head: whatever was appended since
                let after = self.last.unwrap_or(self.asked.min(self.head));
                let page = read_after(&self.db, after).await?;
                self.last = page.last().map(|e| e.seq).or(self.last);
                return Ok((!page.is_empty()).then_some(page));
            };
            let page = read
                .await
                .map_err(|e| DbErr::Custom(format!("reading the ledger failed: {e}")))??;
            if page.is_empty() {
                // a gap of a whole range: jump to the next event there is
                for read in self.in_flight.drain(..) {
                    read.abort();
                }
                let after = self.last.unwrap_or(i64::MIN);
                let next = custody_event::Entity::find()
                    .select_only()
                    .column_as(custody_event::Column::Seq.min(), "next")
                    .filter(custody_event::Column::Seq.gt(after))
                    .into_tuple::<Option<i64>>()
                    .one(self.db.conn())
                    .await?
                    .flatten();
                match next {
                    Some(next) if next <= self.head => {
                        self.asked = next - 1;
                        self.ask();
                    }
                    _ => self.asked = self.head,
                }
                continue;
            }
            self.last = page.last().map(|e| e.seq);
            self.ask();
            return Ok(Some(page));
        }
    }
}

async fn read_range(db: &Db, after: i64, to: i64) -> Result<Page, DbErr> {
    if db.backend() == DbBackend::Sqlite
        && let Some(page) = read_range_sqlite(db, after, to).await?
    {
        return Ok(page);
    }
    custody_event::Entity::find()
        .filter(custody_event::Column::Seq.gt(after))
        .filter(custody_event::Column::Seq.lte(to))
        .order_by_asc(custody_event::Column::Seq)
        .all(db.conn())
        .await
}

/// One row per event costs SQLite's driver a hand-over between threads
/// and a decode per column; a page as one JSON array built by SQLite
/// costs one. `None` when a row is not as celltrail writes it (a time in
/// another format, an id that is not 16 bytes): the caller then reads the
/// page row by row, and the verifier judges what it finds.
async fn read_range_sqlite(db: &Db, after: i64, to: i64) -> Result<Option<Page>, DbErr> {
    type Row<'a> = (
        i64,
        &'a str,
        Option<&'a str>,
        Cow<'a, str>,
        Cow<'a, str>,
        Cow<'a, str>,
        &'a str,
        Option<Cow<'a, str>>,
        Option<Cow<'a, str>>,
        Cow<'a, str>,
        &'a str,
        &'a str,
    );
    let row = db
        .conn()
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "SELECT json_group_array(json_array(seq, occurred_at, nullif(hex(actor_id), ''), \
             actor_username, action, subject_kind, hex(subject_id), from_location, to_location, \
             details, prev_hash, hash)) AS page \
             FROM (SELECT * FROM custody_events WHERE seq > $1 AND seq <= $2 ORDER BY seq)",
            [after.into(), to.into()],
        ))
        .await?;
    let Some(row) = row else {
        return Ok(Some(Vec::new()));
    };
    let text: String = row.try_get("", "page")?;
    let Ok(rows) = serde_json::from_str::<Vec<Row<'_>>>(&text) else {
        return Ok(None);
    };
    let mut page = Vec::with_capacity(rows.len());
    for (seq, at, actor, username, action, kind, subject, from, to, details, prev, hash) in rows {
        let occurred_at = DateTime::parse_from_rfc3339(at).map(|t| t.to_utc());
        let actor_id = actor.map(Uuid::try_parse).transpose();
        let subject_id = Uuid::try_parse(subject);
        let (Ok(occurred_at), Ok(actor_id), Ok(subject_id)) = (occurred_at, actor_id, subject_id)
        else {
            return Ok(None);
        };
        page.push(custody_event::Model {
            seq,
            occurred_at,
            actor_id,
            actor_username: username.into_owned(),
            action: action.into_owned(),
            subject_kind: kind.into_owned(),
            subject_id,
            from_location: from.map(Cow::into_owned),
            to_location: to.map(Cow::into_owned),
            details: details.into_owned(),
            prev_hash: prev.to_owned(),
            hash: hash.to_owned(),
        });
    }
    Ok(Some(page))
}

async fn read_after(db: &Db, after: i64) -> Result<Page, DbErr> {
    custody_event::Entity::find()
        .filter(custody_event::Column::Seq.gt(after))
        .order_by_asc(custody_event::Column::Seq)
        .limit(VERIFY_BATCH)
        .all(db.conn())
        .await
}

/// A full verification and when it ran.
#[derive(Debug, Clone)]
pub struct LedgerCheck {
    pub at: DateTime<Utc>,
    pub report: ChainReport,
}

/// Verifies the whole chain against the trusted checkpoints and remembers
/// the result for the home page. A chain found behind its checkpoint, or
/// rewritten under it, raises the alarm: appends are refused from then on.
pub async fn check(state: &crate::state::AppState) -> Result<LedgerCheck, DbErr> {
    let (checkpoints, key) = crate::services::checkpoints::trusted(state);
    let report = verify_with(&state.db, Some(CheckpointJudge::new(key, checkpoints))).await?;
    if let Some(problem) = report.checkpoints.as_ref().and_then(|c| {
        c.problems.iter().find(|p| {
            !matches!(
                p,
                crate::domain::checkpoint::CheckpointProblem::BadSignature { .. }
            )
        })
    }) {
        state.db.floor().raise(problem.to_string());
    }
    let check = LedgerCheck {
        at: state.clock.now(),
        report,
    };
    if !check.report.ok {
        tracing::error!(
            first_bad_seq = check.report.first_bad_seq,
            "the custody ledger does not verify"
        );
    }
    if let Ok(mut last) = state.ledger_check.write() {
        *last = Some(check.clone());
    }
    Ok(check)
}

/// The last check, if one ran.
pub fn last_check(state: &crate::state::AppState) -> Option<LedgerCheck> {
    state.ledger_check.read().ok().and_then(|c| c.clone())
}

/// The hashed content of a stored event.
pub fn content(event: &custody_event::Model) -> EventContent<'_> {
    EventContent {
        seq: event.seq,
        occurred_at: event.occurred_at,
        actor_id: event.actor_id,
        actor_username: &event.actor_username,
        action: &event.action,
        subject_kind: &event.subject_kind,
        subject_id: event.subject_id,
        from_location: event.from_location.as_deref(),
        to_location: event.to_location.as_deref(),
        details: &event.details,
        prev_hash: &event.prev_hash,
    }
}

/// The events about one subject, oldest first.
pub async fn events_of(
    db: &Db,
    subject_kind: &str,
    subject_id: Uuid,
) -> Result<Vec<custody_event::Model>, DbErr> {
    events(
        db,
        EventQuery {
            subject_kind: Some(subject_kind.to_owned()),
            subject_id: Some(subject_id),
            after_seq: None,
            limit: u64::MAX,
        },
    )
    .await
}

/// Which events to read.
#[derive(Debug, Clone, Default)]
pub struct EventQuery {
    pub subject_kind: Option<String>,
    pub subject_id: Option<Uuid>,
    pub after_seq: Option<i64>,
    pub limit: u64,
}

/// Events matching the query, oldest first.
pub async fn events(db: &Db, query: EventQuery) -> Result<Vec<custody_event::Model>, DbErr> {
    let mut find = custody_event::Entity::find().order_by_asc(custody_event::Column::Seq);
    if let Some(kind) = query.subject_kind {
        find = find.filter(custody_event::Column::SubjectKind.eq(kind));
    }
    if let Some(id) = query.subject_id {
        find = find.filter(custody_event::Column::SubjectId.eq(id));
    }
    if let Some(after) = query.after_seq {
        find = find.filter(custody_event::Column::Seq.gt(after));
    }
    if query.limit < u64::MAX {
        find = find.limit(query.limit);
    }
    find.all(db.conn()).await
}
