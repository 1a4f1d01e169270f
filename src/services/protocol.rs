//! The protocol record: seeded with the seed trial on first start, read by
//! every rule that needs a number, amended only by a new signed version.
//!
//! The protocol is configuration, not record state, and versions are never
//! changed once written: so each instance keeps the version in force
//! ([`in_force`]) and every version it has read ([`cached_version`]).
//! Staleness of the one in force is bounded like sessions'
//! (`services::sessions`): the instance that amends keeps the new version
//! at once after its commit, and every instance reads the latest version
//! number every [`POLL`] ([`watch`]) and reads the protocol again when it
//! moved. Until that number has been read, or while it cannot be, the
//! protocol is read from the database on every use.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ConnectionTrait, EntityTrait, QueryOrder, QuerySelect, Set, SqlErr};
use serde_json::{Value, json};

use crate::domain::protocol::Protocol;
use crate::domain::qc::Specification;
use crate::entities::protocol_version;
use crate::error::{AppError, AppResult};
use crate::services::Actor;
use crate::services::ledger::{self, NewEvent};
use crate::services::signatures::{self, VerifiedSignature};
use crate::state::AppState;
pub use crate::state::protocols::{Versioned, Versions};

/// The protocol in force (one query).
pub async fn current(db: &impl ConnectionTrait) -> AppResult<Versioned> {
    let record = protocol_version::Entity::find()
        .order_by_desc(protocol_version::Column::Version)
        .limit(1)
        .one(db)
        .await?
        .ok_or_else(|| AppError::broken("no protocol is recorded; the start-up seeds one"))?;
    let protocol: Protocol = serde_json::from_str(&record.body).map_err(|e| {
        AppError::broken(format!(
            "protocol version {} unreadable: {e}",
            record.version
        ))
    })?;
    Ok(Versioned {
        version: record.version,
        protocol,
        record,
    })
}

/// How often each instance reads the latest protocol version number: an
/// amendment made on another instance is used here within twice this.
pub const POLL: Duration = Duration::from_millis(400);

/// The protocol in force, from this instance's memory when it has it (no
/// query), else read (one query) and kept.
pub async fn in_force(state: &AppState) -> AppResult<Arc<Versioned>> {
    if let Some(current) = state.protocols.current() {
        return Ok(current);
    }
    let read = Arc::new(current(state.db.conn()).await?);
    if state.protocols.in_force.live.load(Ordering::Acquire) {
        state.protocols.keep(&read);
    }
    Ok(read)
}

/// The latest version number recorded.
async fn latest_version(state: &AppState) -> AppResult<Option<i32>> {
    Ok(protocol_version::Entity::find()
        .select_only()
        .expr(Expr::col(protocol_version::Column::Version).max())
        .into_tuple::<Option<i32>>()
        .one(state.db.conn())
        .await?
        .flatten())
}

/// Reads the latest protocol version number every [`POLL`] for as long as
/// the instance serves, and the protocol itself when another version was
/// recorded (a reader still holding the older one cannot put it back);
/// while the number cannot be read, the protocol is read from the database
/// on every use.
pub async fn watch(state: AppState) {
    let versions = state.protocols.clone();
    let mut every = tokio::time::interval(POLL);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failing = false;
    loop {
        every.tick().await;
        match latest_version(&state).await {
            Ok(latest) => {
                if latest != versions.kept_version() {
                    versions.replace(current(state.db.conn()).await.ok().map(Arc::new));
                }
                versions.set_live(true);
                failing = false;
            }
            Err(error) => {
                if !failing {
                    tracing::warn!(%error,
                        "the protocol version cannot be read: the protocol is read from the database until it can"
                    );
                }
                failing = true;
                versions.set_live(false);
            }
        }
    }
}

/// A given version of the protocol, from this process's cache when it was
/// read before.
pub async fn cached_version(
    state: &AppState,
    db: &impl ConnectionTrait,
    number: i32,
) -> AppResult<Arc<Protocol>> {
    if let Some(found) = state
        .protocols
        .read
        .read()
        .ok()
        .and_then(|known| known.get(&number).cloned())
    {
        return Ok(found);
    }
    let read = Arc::new(version(db, number).await?);
    if let Ok(mut known) = state.protocols.read.write() {
        known.insert(number, read.clone());
    }
    Ok(read)
}

/// A given version of the protocol (what a dose was ordered under).
pub async fn version(db: &impl ConnectionTrait, version: i32) -> AppResult<Protocol> {
    let record = protocol_version::Entity::find_by_id(version)
        .one(db)
        .await?
        .ok_or_else(|| AppError::broken(format!("protocol version {version} is missing")))?;
    serde_json::from_str(&record.body)
        .map_err(|e| AppError::broken(format!("protocol version {version} unreadable: {e}")))
}

/// The QC release specification in force.
pub async fn specification(db: &impl ConnectionTrait) -> AppResult<Specification> {
    Ok(current(db).await?.protocol.specification())
}

/// Records the seed protocol as version 1 on an empty database. Instances
/// starting together cannot both seed: the version is the primary key.
pub async fn seed(state: &AppState) -> AppResult<()> {
    if protocol_version::Entity::find()
        .limit(1)
        .one(state.db.conn())
        .await?
        .is_some()
    {
        return Ok(());
    }
    let protocol = Protocol::seed();
    let actor = Actor::system("bootstrap");
    let now = state.clock.now();
    let txn = state.db.write().await?;
    let inserted = insert(&txn, 1, &protocol, None, &actor, now).await;
    match inserted {
        Err(AppError::ConcurrentChange { .. }) => return Ok(()),
        other => other?,
    }
    ledger::append(
        &txn,
        &actor,
        now,
        NewEvent::new("protocol.seeded", "protocol", uuid::Uuid::nil()).details(json!({
            "version": 1,
            "trial_id": protocol.trial_id,
            "protocol": protocol,
        })),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

async fn insert(
    txn: &crate::db::WriteTxn,
    version: i32,
    protocol: &Protocol,
    reason: Option<&str>,
    actor: &Actor,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<()> {
    let body = serde_json::to_string(protocol).map_err(AppError::internal)?;
    let inserted = protocol_version::Entity::insert(protocol_version::ActiveModel {
        version: Set(version),
        body: Set(body),
        reason: Set(reason.map(str::to_owned)),
        created_at: Set(now),
        created_by: Set(actor.id),
        created_by_username: Set(actor.username.clone()),
    })
    .exec_without_returning(txn)
    .await;
    match inserted {
        Ok(_) => Ok(()),
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            Err(AppError::ConcurrentChange {
                kind: "protocol",
                id: uuid::Uuid::nil(),
            })
        }
        Err(e) => Err(e.into()),
    }
}

/// Amends the protocol: a new version, signed, with the reason and every
/// changed field's old and new value in the ledger.
pub async fn amend(
    state: &AppState,
    signature: &VerifiedSignature,
    protocol: Protocol,
    reason: &str,
) -> AppResult<Versioned> {
    let reason = crate::domain::reason::Reason::parse(reason)?;
    protocol.check()?;
    let now = state.clock.now();
    let txn = state.db.write().await?;
    let before = current(&txn).await?;
    let changes = changed_fields(&before.protocol, &protocol)?;
    if changes.as_object().is_some_and(serde_json::Map::is_empty) {
        return Err(AppError::invalid(
            "protocol",
            "the amendment changes nothing",
        ));
    }
    let version = before.version + 1;
    let actor = signature.signer.actor();
    insert(&txn, version, &protocol, Some(reason.as_str()), &actor, now).await?;
    signatures::append_signed(
        &txn,
        signature,
        now,
        NewEvent::new("protocol.amended", "protocol", uuid::Uuid::nil()).details(json!({
            "version": version,
            "previous_version": before.version,
            "reason": reason,
            "changes": changes,
        })),
    )
    .await?;
    txn.commit().await?;
    // Kept at once on this instance; the others see the new number within
    // a poll.
    let amended = Arc::new(current(state.db.conn()).await?);
    state.protocols.keep(&amended);
    Ok(Versioned::clone(&amended))
}

/// `{field: {from, to}}` for every top-level field that differs.
fn changed_fields(before: &Protocol, after: &Protocol) -> AppResult<Value> {
    let (Value::Object(old), Value::Object(new)) = (
        serde_json::to_value(before).map_err(AppError::internal)?,
        serde_json::to_value(after).map_err(AppError::internal)?,
    ) else {
        return Err(AppError::broken("a protocol serialises to an object"));
    };
    let mut changes = serde_json::Map::new();
    for (field, value) in &new {
        if old.get(field) != Some(value) {
            changes.insert(
                field.clone(),
                json!({ "from": old.get(field), "to": value }),
            );
        }
    }
    Ok(Value::Object(changes))
}
