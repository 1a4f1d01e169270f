//! Appending to and verifying the custody ledger.
//!
//! Appends are serialised so the chain can never fork: on SQLite by the
//! single-writer transaction (see `db`), on PostgreSQL by a
//! transaction-scoped advisory lock taken just before the head is read. The
//! lock is the last one a write transaction takes and is held only until
//! commit, so appends queue briefly and cannot deadlock with row locks.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, Statement,
};
use serde_json::Value;
use uuid::Uuid;

use crate::db::{Db, WriteTxn};
use crate::domain::ledger::{
    ChainReport, ChainVerifier, EventContent, GENESIS_HASH, event_hash, ledger_time,
};
use crate::entities::custody_event;
use crate::services::Actor;

/// Key of the PostgreSQL advisory lock that serialises appends.
const LEDGER_LOCK_KEY: i64 = 0x6c65_6467_6572; // "ledger"
/// Events read per query while verifying.
const VERIFY_BATCH: u64 = 10_000;

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
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock($1)",
            [LEDGER_LOCK_KEY.into()],
        ))
        .await?;
    }
    let head: Option<(i64, String)> = custody_event::Entity::find()
        .select_only()
        .column(custody_event::Column::Seq)
        .column(custody_event::Column::Hash)
        .order_by_desc(custody_event::Column::Seq)
        .limit(1)
        .into_tuple()
        .one(txn)
        .await?;
    let (prev_seq, prev_hash) = head.unwrap_or((0, GENESIS_HASH.to_owned()));

    let seq = prev_seq + 1;
    let occurred_at = ledger_time(now);
    let details = serde_json::to_string(&event.details)
        .map_err(|e| DbErr::Custom(format!("event details do not serialise: {e}")))?;
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
        details: &details,
        prev_hash: &prev_hash,
    });
    custody_event::Entity::insert(custody_event::ActiveModel {
        seq: Set(seq),
        occurred_at: Set(occurred_at),
        actor_id: Set(actor.id),
        actor_username: Set(actor.username.clone()),
        action: Set(event.action.to_owned()),
        subject_kind: Set(event.subject_kind.to_owned()),
        subject_id: Set(event.subject_id),
        from_location: Set(event.from_location),
        to_location: Set(event.to_location),
        details: Set(details),
        prev_hash: Set(prev_hash),
        hash: Set(hash.clone()),
    })
    .exec_without_returning(txn)
    .await?;
    Ok(Appended {
        seq,
        hash,
        occurred_at,
    })
}

/// Recomputes the whole chain, oldest first, and names the first broken link.
pub async fn verify(db: &Db) -> Result<ChainReport, DbErr> {
    let mut verifier = ChainVerifier::default();
    let mut after_seq = i64::MIN;
    loop {
        let batch = custody_event::Entity::find()
            .filter(custody_event::Column::Seq.gt(after_seq))
            .order_by_asc(custody_event::Column::Seq)
            .limit(VERIFY_BATCH)
            .all(db.conn())
            .await?;
        let Some(last) = batch.last() else { break };
        after_seq = last.seq;
        let full = batch.len() as u64 == VERIFY_BATCH;
        for event in &batch {
            if !verifier.check(&content(event), &event.hash) {
                return Ok(verifier.finish());
            }
        }
        if !full {
            break;
        }
    }
    Ok(verifier.finish())
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
    custody_event::Entity::find()
        .filter(custody_event::Column::SubjectKind.eq(subject_kind))
        .filter(custody_event::Column::SubjectId.eq(subject_id))
        .order_by_asc(custody_event::Column::Seq)
        .all(db.conn())
        .await
}
