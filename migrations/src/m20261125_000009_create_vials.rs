//! Vials. One vial per box position is guaranteed by a unique index on
//! (box_id, position): two racing stores into one position cannot both
//! commit. Vials out of storage have NULL there, which unique indexes allow
//! many times on both engines.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261125_000007_create_lots::Lots;
use crate::m20261125_000008_create_storage_units::StorageUnits;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Vials::Table)
                    .if_not_exists()
                    .col(uuid(Vials::Id).primary_key())
                    .col(uuid(Vials::LotId))
                    .col(string_len_uniq(Vials::Code, 32))
                    .col(string_len(Vials::Din, 13))
                    .col(string_len(Vials::Status, 16))
                    .col(big_integer(Vials::CellsPerVial))
                    .col(big_integer(Vials::VolumeUl))
                    .col(timestamp_with_time_zone(Vials::FrozenAt))
                    .col(uuid_null(Vials::BoxId))
                    .col(string_len_null(Vials::Position, 4))
                    .col(integer(Vials::LabelsIssued).default(0))
                    .col(timestamp_with_time_zone(Vials::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_vials_lot")
                            .from(Vials::Table, Vials::LotId)
                            .to(Lots::Table, Lots::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_vials_box")
                            .from(Vials::Table, Vials::BoxId)
                            .to(StorageUnits::Table, StorageUnits::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_vials_box_position")
                    .table(Vials::Table)
                    .col(Vials::BoxId)
                    .col(Vials::Position)
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
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
            .create_index(
                Index::create()
                    .name("idx_vials_status")
                    .table(Vials::Table)
                    .col(Vials::Status)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Vials::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum Vials {
    Table,
    Id,
    LotId,
    Code,
    Din,
    Status,
    CellsPerVial,
    VolumeUl,
    FrozenAt,
    BoxId,
    Position,
    LabelsIssued,
    CreatedAt,
}
