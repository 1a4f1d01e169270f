//! Quality's signed investigation of a failing QC result: `invalid_test`
//! (a retest counts) or `confirmed` (the lot is rejected), with the reason.

use sea_orm_migration::{prelude::*, schema::*};

use crate::add_columns::{add_columns, drop_columns};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_columns(
            manager,
            "qc_results",
            vec![
                string_len_null(Alias::new("investigation"), 16),
                text_null(Alias::new("investigation_reason")),
                timestamp_with_time_zone_null(Alias::new("investigated_at")),
                uuid_null(Alias::new("investigated_by")),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_columns(
            manager,
            "qc_results",
            &[
                "investigated_by",
                "investigated_at",
                "investigation_reason",
                "investigation",
            ],
        )
        .await
    }
}
