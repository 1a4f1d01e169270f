//! The available vials of a lot in code order, straight from an index.
//!
//! A dose order reserves the first `n` available vials of a lot by code.
//! With the index on `(lot_id, status)` alone the database fetched every
//! available vial of the lot and sorted them for each order (1.3 ms for
//! a lot of 5,000 vials on SQLite, under the write lock); with `code` as
//! the index's third column the pick reads `n` index entries. The new
//! index also serves every lookup the old one served (its first two
//! columns), so the old one goes.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("idx_vials_lot_status_code")
                    .table(Vials::Table)
                    .col(Vials::LotId)
                    .col(Vials::Status)
                    .col(Vials::Code)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_vials_lot_status")
                    .table(Vials::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("idx_vials_lot_status")
                    .table(Vials::Table)
                    .col(Vials::LotId)
                    .col(Vials::Status)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_vials_lot_status_code")
                    .table(Vials::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Vials {
    Table,
    LotId,
    Status,
    Code,
}
