//! Imports (issue 16): a bank's CSV file brought in by the lab and
//! accepted by quality's signature. One row per file, keyed by its
//! SHA-256, records how far the import got (chunks and rows committed), so
//! an interrupted import resumes and a finished one is never run twice.
//! An uploaded file waits here (`content`) for quality's acceptance.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Imports::Table)
                    .if_not_exists()
                    .col(uuid(Imports::Id).primary_key())
                    .col(string_len(Imports::FileSha256, 64).unique_key())
                    .col(string_len_null(Imports::FileName, 255))
                    .col(text_null(Imports::Content))
                    .col(string_len(Imports::Status, 16))
                    .col(uuid(Imports::SiteId))
                    .col(boolean(Imports::ReleaseLots).default(false))
                    .col(integer(Imports::ChunkVials))
                    .col(integer(Imports::ChunksTotal))
                    .col(integer(Imports::ChunksDone).default(0))
                    .col(integer(Imports::RowsTotal))
                    .col(integer(Imports::RowsDone).default(0))
                    .col(text(Imports::Summary))
                    .col(uuid(Imports::CreatedBy))
                    .col(timestamp_with_time_zone(Imports::CreatedAt))
                    .col(uuid_null(Imports::AcceptedBy))
                    .col(uuid_null(Imports::SignatureId))
                    .col(timestamp_with_time_zone_null(Imports::StartedAt))
                    .col(timestamp_with_time_zone_null(Imports::FinishedAt))
                    // why the last run stopped before the end (the page says it)
                    .col(text_null(Imports::Stopped))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Imports::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Imports {
    Table,
    Id,
    FileSha256,
    FileName,
    Content,
    Status,
    SiteId,
    ReleaseLots,
    ChunkVials,
    ChunksTotal,
    ChunksDone,
    RowsTotal,
    RowsDone,
    Summary,
    CreatedBy,
    CreatedAt,
    AcceptedBy,
    SignatureId,
    StartedAt,
    FinishedAt,
    Stopped,
}
