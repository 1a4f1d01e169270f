//! Appending to the custody ledger (verifying it: `verify`).
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

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect, SqlErr, Statement,
};
use serde_json::Value;
use uuid::Uuid;

use crate::db::{Db, LedgerHead, WriteTxn};
use crate::domain::event::{EventContent, GENESIS_HASH, event_hash, ledger_time};
use crate::entities::custody_event;
use crate::services::Actor;

mod verify;

pub use crate::state::ledger::LedgerCheck;
pub use verify::{check, last_check, verify, verify_chain, verify_with};

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
        match insert(
            txn,
            rows.into_iter()
                .map(IntoActiveModel::into_active_model)
                .collect(),
        )
        .await
        {
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
            insert(txn, rows.map(IntoActiveModel::into_active_model).collect()).await?;
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
