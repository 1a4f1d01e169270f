//! Whether the database holds the demo trial. The marker is one row in
//! `demo_marks`, written with its `demo.loaded` custody event when the demo
//! starts loading (before its first record, so even a load cut short leaves
//! a marked database), and never removed: the demo loads only into an empty
//! database, so a marked database holds nothing but demo data.
//!
//! Labels, pages, CSV exports and the start-up log ask [`is_demo`]; it is
//! decided from the database, never from a command-line flag.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use sea_orm::{EntityTrait, IntoActiveModel};
use serde_json::json;
use uuid::Uuid;

use crate::entities::demo_mark;
use crate::error::AppResult;
use crate::services::Actor;
use crate::services::ledger::{self, NewEvent};
use crate::state::AppState;

/// The marker's only row.
const MARK_ID: i32 = 1;

pub use crate::labels::DEMO_BAND as DEMO_NOTICE;

/// Remembers a marker once seen: it is never removed, so a database seen
/// marked stays marked and later asks cost nothing.
#[derive(Debug, Clone, Default)]
pub struct DemoFlag(Arc<AtomicBool>);

impl DemoFlag {
    fn seen(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    fn remember(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Whether the database holds demo data. A database not (yet) marked is
/// asked again each time: another process may load the demo into it.
pub async fn is_demo(state: &AppState) -> AppResult<bool> {
    if state.demo.seen() {
        return Ok(true);
    }
    let marked = demo_mark::Entity::find_by_id(MARK_ID)
        .one(state.db.conn())
        .await?
        .is_some();
    if marked {
        state.demo.remember();
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
            marked_at: crate::domain::ledger::ledger_time(now),
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
    state.demo.remember();
    Ok(())
}
