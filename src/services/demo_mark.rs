//! Whether the database holds the demo trial. The marker is one row in
//! `demo_marks`, written with its `demo.loaded` custody event when the demo
//! starts loading (before its first record, so even a load cut short leaves
//! a marked database), and never removed: the demo loads only into an empty
//! database, so a marked database holds nothing but demo data.
//!
//! Labels, pages, CSV exports and the start-up log ask [`is_demo`]; it is
//! decided from the database, never from a command-line flag.

use sea_orm::{EntityTrait, IntoActiveModel};
use serde_json::json;
use uuid::Uuid;

use crate::entities::{demo_mark, donor, patient};
use crate::error::AppResult;
use crate::services::Actor;
use crate::services::ledger::{self, NewEvent};
use crate::state::AppState;
pub use crate::state::demo::DemoFlag;

/// The marker's only row.
const MARK_ID: i32 = 1;

pub use crate::labels::DEMO_BAND as DEMO_NOTICE;

/// Whether the database holds demo data.
pub async fn is_demo(state: &AppState) -> AppResult<bool> {
    if let Some(known) = state.demo.known() {
        return Ok(known);
    }
    let db = state.db.conn();
    // Records first, then the marker: the demo marks before its first
    // record, so records seen without a marker afterwards are real.
    let holds_records = donor::Entity::find().one(db).await?.is_some()
        || patient::Entity::find().one(db).await?.is_some();
    let marked = demo_mark::Entity::find_by_id(MARK_ID)
        .one(db)
        .await?
        .is_some();
    if marked || holds_records {
        state.demo.remember(marked);
    }
    Ok(marked)
}

/// Marks the database as holding demo data, with its custody event (the
/// event's details carry the row's values). Marking a marked database
/// changes nothing.
pub async fn mark(state: &AppState, actor: &Actor) -> AppResult<()> {
    let now = state.clock.now();
    let txn = state.db.write().await?;
    if demo_mark::Entity::find_by_id(MARK_ID)
        .one(&txn)
        .await?
        .is_none()
    {
        let row = demo_mark::Model {
            id: MARK_ID,
            marked_at: crate::domain::event::ledger_time(now),
            marked_by: actor.username.clone(),
        };
        demo_mark::Entity::insert(row.clone().into_active_model())
            .exec_without_returning(&txn)
            .await?;
        ledger::append(
            &txn,
            actor,
            now,
            NewEvent::new("demo.loaded", "database", Uuid::nil()).details(json!({
                "marked_at": row.marked_at,
                "marked_by": row.marked_by,
                "notice": DEMO_NOTICE,
            })),
        )
        .await?;
    }
    txn.commit().await?;
    state.demo.remember(true);
    Ok(())
}
