//! The sessions this instance has seen, kept in memory so that an
//! authenticated request needs no database read for its session.
//!
//! Staleness is bounded. Every revocation (sign-out, password change or
//! reset, deactivation, lock) and every unlock raises the database's
//! session epoch in its own transaction ([`raise_epoch`]); the instance that
//! made it also forgets every session at once after the commit
//! ([`SessionCache::changed`]), and every instance reads the epoch every
//! [`POLL`] ([`watch`]) and forgets every session when it moved. So a
//! session ended anywhere is refused here within a second. Until the epoch
//! has been read, or while it cannot be, nothing is served from memory.
//!
//! What is kept is who the session belongs to and until when; expiry is
//! judged against the server's clock on every request. No record state
//! (vials, lots, doses) is ever cached: only sessions.

use std::time::Duration;

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::db::WriteTxn;
use crate::entities::session_epoch;
use crate::error::AppResult;
use crate::state::AppState;
pub use crate::state::sessions::{Lookup, SessionCache};

/// How often each instance reads the session epoch: a session ended on
/// another instance is refused here within twice this.
pub const POLL: Duration = Duration::from_millis(400);

/// Raises the session epoch, in the transaction that revokes a session or
/// changes an account, so every instance reads its sessions again.
pub async fn raise_epoch(txn: &WriteTxn) -> AppResult<()> {
    session_epoch::Entity::update_many()
        .col_expr(
            session_epoch::Column::Epoch,
            Expr::col(session_epoch::Column::Epoch).add(1),
        )
        .filter(session_epoch::Column::Id.eq(1))
        .exec(txn)
        .await?;
    Ok(())
}

async fn read_epoch(state: &AppState) -> AppResult<Option<i64>> {
    Ok(session_epoch::Entity::find_by_id(1)
        .one(state.db.conn())
        .await?
        .map(|row| row.epoch))
}

/// Reads the session epoch every [`POLL`] for as long as the instance
/// serves; while it cannot be read, sessions are read from the database.
pub async fn watch(state: AppState) {
    let cache = state.sessions.clone();
    let mut seen: Option<i64> = None;
    let mut every = tokio::time::interval(POLL);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        match read_epoch(&state).await {
            Ok(Some(epoch)) => {
                if seen.is_some_and(|seen| seen != epoch) {
                    cache.changed();
                }
                seen = Some(epoch);
                cache.set_live(true);
            }
            Ok(None) | Err(_) => {
                if cache.is_live() {
                    tracing::warn!(
                        "the session epoch cannot be read: sessions are read from the database until it can"
                    );
                }
                seen = None;
                cache.set_live(false);
            }
        }
    }
}
