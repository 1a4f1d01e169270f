//! A screening result invalidated by quality (signed, with a reason, such
//! as a documented specimen mix-up): kept, and out of the eligibility rule.

use sea_orm_migration::{prelude::*, schema::*};

use crate::add_columns::{add_columns, drop_columns};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_columns(
            manager,
            "screening_results",
            vec![
                timestamp_with_time_zone_null(Alias::new("invalidated_at")),
                uuid_null(Alias::new("invalidated_by")),
                text_null(Alias::new("invalidation_reason")),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_columns(
            manager,
            "screening_results",
            &["invalidation_reason", "invalidated_by", "invalidated_at"],
        )
        .await
    }
}
