//! Lots and their QC results.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261125_000006_create_donations::Donations;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Lots::Table)
                    .if_not_exists()
                    .col(uuid(Lots::Id).primary_key())
                    .col(uuid(Lots::DonationId))
                    .col(string_len_uniq(Lots::Code, 32))
                    .col(string_len(Lots::Din, 13))
                    .col(string_len(Lots::ProductCode, 8))
                    .col(integer(Lots::Passage))
                    .col(timestamp_with_time_zone(Lots::ManufacturedAt))
                    .col(timestamp_with_time_zone(Lots::ExpiresAt))
                    .col(string_len(Lots::Status, 16))
                    .col(timestamp_with_time_zone_null(Lots::FrozenAt))
                    .col(big_integer_null(Lots::CellsPerVial))
                    .col(big_integer_null(Lots::VolumeUl))
                    .col(integer_null(Lots::VialCount))
                    .col(timestamp_with_time_zone(Lots::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_lots_donation")
                            .from(Lots::Table, Lots::DonationId)
                            .to(Donations::Table, Donations::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_lots_donation")
                    .table(Lots::Table)
                    .col(Lots::DonationId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_lots_status_expiry")
                    .table(Lots::Table)
                    .col(Lots::Status)
                    .col(Lots::ExpiresAt)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(QcResults::Table)
                    .if_not_exists()
                    .col(uuid(QcResults::Id).primary_key())
                    .col(uuid(QcResults::LotId))
                    .col(string_len(QcResults::Test, 16))
                    .col(string_len(QcResults::Value, 64))
                    .col(string_len_null(QcResults::Unit, 16))
                    .col(boolean(QcResults::Pass))
                    .col(string_len(QcResults::Specification, 32))
                    .col(timestamp_with_time_zone(QcResults::RecordedAt))
                    .col(uuid(QcResults::RecordedBy))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_qc_results_lot")
                            .from(QcResults::Table, QcResults::LotId)
                            .to(Lots::Table, Lots::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_qc_results_lot")
                    .table(QcResults::Table)
                    .col(QcResults::LotId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(QcResults::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Lots::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum Lots {
    Table,
    Id,
    DonationId,
    Code,
    Din,
    ProductCode,
    Passage,
    ManufacturedAt,
    ExpiresAt,
    Status,
    FrozenAt,
    CellsPerVial,
    VolumeUl,
    VialCount,
    CreatedAt,
}

#[derive(DeriveIden)]
enum QcResults {
    Table,
    Id,
    LotId,
    Test,
    Value,
    Unit,
    Pass,
    Specification,
    RecordedAt,
    RecordedBy,
}
