//! The trial protocol, one row per version. A change is a new version (never
//! an edit), so what a dose was computed under stays on record.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ProtocolVersions::Table)
                    .if_not_exists()
                    .col(integer(ProtocolVersions::Version).primary_key())
                    .col(text(ProtocolVersions::Body))
                    .col(text_null(ProtocolVersions::Reason))
                    .col(timestamp_with_time_zone(ProtocolVersions::CreatedAt))
                    .col(uuid_null(ProtocolVersions::CreatedBy))
                    .col(string_len(ProtocolVersions::CreatedByUsername, 64))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ProtocolVersions::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum ProtocolVersions {
    Table,
    Version,
    Body,
    Reason,
    CreatedAt,
    CreatedBy,
    CreatedByUsername,
}
