//! A record's history: its custody events, oldest first, each with the
//! electronic signature that was given with it (who, the meaning, when).
//! Read from the ledger and the signatures it links, never from a copy.

use std::collections::HashMap;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::entities::{custody_event, signature};
use crate::error::AppResult;
use crate::services::ledger;
use crate::state::AppState;

/// One event of a record's history.
#[derive(Debug, Clone)]
pub struct Entry {
    pub event: custody_event::Model,
    /// The signature given with the event, if it was signed.
    pub signature: Option<signature::Model>,
}

/// The history of the record `kind`/`id`, oldest first.
pub async fn of(state: &AppState, kind: &str, id: Uuid) -> AppResult<Vec<Entry>> {
    let events = ledger::events_of(&state.db, kind, id).await?;
    let mut signatures: HashMap<i64, signature::Model> = signature::Entity::find()
        .filter(signature::Column::SubjectKind.eq(kind))
        .filter(signature::Column::SubjectId.eq(id))
        .all(state.db.conn())
        .await?
        .into_iter()
        .map(|s| (s.event_seq, s))
        .collect();
    Ok(events
        .into_iter()
        .map(|event| Entry {
            signature: signatures.remove(&event.seq),
            event,
        })
        .collect())
}
