//! Storage: tanks, racks and boxes. Units are created, never edited, so
//! their paths can be cached.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(StorageUnits::Table)
                    .if_not_exists()
                    .col(uuid(StorageUnits::Id).primary_key())
                    .col(string_len(StorageUnits::Name, 100))
                    .col(string_len(StorageUnits::Kind, 8))
                    .col(uuid_null(StorageUnits::ParentId))
                    .col(integer_null(StorageUnits::Rows))
                    .col(integer_null(StorageUnits::Cols))
                    .col(timestamp_with_time_zone(StorageUnits::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_storage_units_parent")
                            .from(StorageUnits::Table, StorageUnits::ParentId)
                            .to(StorageUnits::Table, StorageUnits::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_storage_units_parent")
                    .table(StorageUnits::Table)
                    .col(StorageUnits::ParentId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(StorageUnits::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum StorageUnits {
    Table,
    Id,
    Name,
    Kind,
    ParentId,
    Rows,
    Cols,
    CreatedAt,
}
