//! The protocol record: seeded with the seed trial on first start, read by
//! every rule that needs a number, amended only by a new signed version.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use sea_orm::{ConnectionTrait, EntityTrait, QueryOrder, QuerySelect, Set, SqlErr};
use serde_json::{Value, json};

use crate::domain::protocol::Protocol;
use crate::domain::qc::Specification;
use crate::entities::protocol_version;
use crate::error::{AppError, AppResult};
use crate::services::Actor;
use crate::services::donors::internal;
use crate::services::ledger::{self, NewEvent};
use crate::services::signatures::{self, VerifiedSignature};
use crate::state::AppState;

/// A protocol and its version number.
#[derive(Debug, Clone)]
pub struct Versioned {
    pub version: i32,
    pub protocol: Protocol,
    pub record: protocol_version::Model,
}

/// The protocol in force (one query).
pub async fn current(db: &impl ConnectionTrait) -> AppResult<Versioned> {
    let record = protocol_version::Entity::find()
        .order_by_desc(protocol_version::Column::Version)
        .limit(1)
        .one(db)
        .await?
        .ok_or_else(|| internal("no protocol is recorded; the start-up seeds one".into()))?;
    let protocol: Protocol = serde_json::from_str(&record.body).map_err(|e| {
        internal(format!(
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

/// Protocol versions already read. A version is never changed once
/// written (an amendment is a new version), so what was read stays true.
#[derive(Debug, Clone, Default)]
pub struct Versions(Arc<RwLock<HashMap<i32, Arc<Protocol>>>>);

/// A given version of the protocol, from this process's cache when it was
/// read before.
pub async fn cached_version(
    state: &AppState,
    db: &impl ConnectionTrait,
    number: i32,
) -> AppResult<Arc<Protocol>> {
    if let Some(found) = state
        .protocols
        .0
        .read()
        .ok()
        .and_then(|known| known.get(&number).cloned())
    {
        return Ok(found);
    }
    let read = Arc::new(version(db, number).await?);
    if let Ok(mut known) = state.protocols.0.write() {
        known.insert(number, read.clone());
    }
    Ok(read)
}

/// A given version of the protocol (what a dose was ordered under).
pub async fn version(db: &impl ConnectionTrait, version: i32) -> AppResult<Protocol> {
    let record = protocol_version::Entity::find_by_id(version)
        .one(db)
        .await?
        .ok_or_else(|| internal(format!("protocol version {version} is missing")))?;
    serde_json::from_str(&record.body)
        .map_err(|e| internal(format!("protocol version {version} unreadable: {e}")))
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
    let reason = crate::services::lots::required_reason(reason)?;
    protocol
        .check()
        .map_err(|e| AppError::invalid(e.field, e.message))?;
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
    insert(&txn, version, &protocol, Some(reason), &actor, now).await?;
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
    current(state.db.conn()).await
}

/// `{field: {from, to}}` for every top-level field that differs.
fn changed_fields(before: &Protocol, after: &Protocol) -> AppResult<Value> {
    let (Value::Object(old), Value::Object(new)) = (
        serde_json::to_value(before).map_err(AppError::internal)?,
        serde_json::to_value(after).map_err(AppError::internal)?,
    ) else {
        return Err(internal("a protocol serialises to an object".into()));
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
