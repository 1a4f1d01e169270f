//! A page form sent twice is done once: every form the pages render
//! carries a token of its own (`WebUser::csrf`), and its first sending is
//! kept. A second sending of the same token, whether a double click or a
//! resend after a slow answer, finds it and is answered "already sent";
//! two sendings racing each other are decided by the table's key.

use sea_orm::sea_query::OnConflict;
use sea_orm::{EntityTrait, Set};
use uuid::Uuid;

use crate::entities::form_sending;
use crate::error::AppResult;
use crate::state::AppState;

/// Keeps the first sending of `token` by `user_id`: `true` when this is
/// it, `false` when the form was sent before.
pub async fn first_sending(state: &AppState, user_id: Uuid, token: &str) -> AppResult<bool> {
    let row = form_sending::ActiveModel {
        token: Set(token.to_owned()),
        user_id: Set(user_id),
        sent_at: Set(state.clock.now()),
    };
    let txn = state.db.write().await?;
    let inserted = form_sending::Entity::insert(row)
        .on_conflict(
            OnConflict::column(form_sending::Column::Token)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
    txn.commit().await?;
    Ok(inserted == 1)
}
