//! The demo marker: one row, written (with its `demo.loaded` custody event)
//! when the demo trial loads, and never removed. Everything a person could
//! mistake for real (labels, pages, CSV exports, the start-up log) asks it,
//! so a server restarted on a demo database still marks everything.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(DemoMarks::Table)
                    .if_not_exists()
                    // always 1: a database holds demo data or it does not
                    .col(integer(DemoMarks::Id).primary_key())
                    .col(timestamp_with_time_zone(DemoMarks::MarkedAt))
                    .col(string_len(DemoMarks::MarkedBy, 64))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(DemoMarks::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum DemoMarks {
    Table,
    Id,
    MarkedAt,
    MarkedBy,
}
