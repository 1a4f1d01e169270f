//! A mis-entered weight is voided (signed, with a reason), never edited or
//! deleted: it stays on record, struck out, and no dose uses it.

use sea_orm_migration::{prelude::*, schema::*};

use crate::add_columns::{add_columns, drop_columns};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_columns(
            manager,
            "weights",
            vec![
                timestamp_with_time_zone_null(Alias::new("voided_at")),
                uuid_null(Alias::new("voided_by")),
                text_null(Alias::new("void_reason")),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_columns(
            manager,
            "weights",
            &["void_reason", "voided_by", "voided_at"],
        )
        .await
    }
}
