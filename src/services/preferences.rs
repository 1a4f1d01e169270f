//! A person's own settings: the language of their pages. Not custody
//! state (no ledger event; see the migration), but written through the
//! same write transaction as everything else, so SQLite's one writer is
//! never contended.

use sea_orm::sea_query::OnConflict;
use sea_orm::{EntityTrait, Set};
use uuid::Uuid;

use crate::domain::language::Language;
use crate::entities::user_preference;
use crate::error::AppResult;
use crate::state::AppState;

/// The language a person chose, if they chose one.
pub async fn language(state: &AppState, user_id: Uuid) -> AppResult<Option<Language>> {
    Ok(user_preference::Entity::find_by_id(user_id)
        .one(state.db.conn())
        .await?
        .and_then(|p| Language::from_tag(&p.language)))
}

/// Makes `language` the person's own, replacing any earlier choice.
pub async fn choose_language(state: &AppState, user_id: Uuid, language: Language) -> AppResult<()> {
    let row = user_preference::ActiveModel {
        user_id: Set(user_id),
        language: Set(language.tag().to_owned()),
        updated_at: Set(state.clock.now()),
    };
    let txn = state.db.write().await?;
    user_preference::Entity::insert(row)
        .on_conflict(
            OnConflict::column(user_preference::Column::UserId)
                .update_columns([
                    user_preference::Column::Language,
                    user_preference::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
}
