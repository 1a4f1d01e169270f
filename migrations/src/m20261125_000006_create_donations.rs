//! Donations (one cord each) with their ISBT 128 DIN, and the per-facility,
//! per-year DIN sequence counters.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261125_000005_create_donors::Donors;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(DinSequences::Table)
                    .if_not_exists()
                    .col(string_len(DinSequences::FacilityCode, 5))
                    .col(integer(DinSequences::DinYear))
                    .col(integer(DinSequences::LastSequence))
                    .primary_key(
                        Index::create()
                            .col(DinSequences::FacilityCode)
                            .col(DinSequences::DinYear),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Donations::Table)
                    .if_not_exists()
                    .col(uuid(Donations::Id).primary_key())
                    .col(uuid(Donations::DonorId))
                    .col(string_len_uniq(Donations::Din, 13))
                    .col(string_len(Donations::CheckCharacter, 1))
                    .col(timestamp_with_time_zone(Donations::CollectedAt))
                    .col(timestamp_with_time_zone(Donations::ReceivedAt))
                    .col(timestamp_with_time_zone(Donations::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_donations_donor")
                            .from(Donations::Table, Donations::DonorId)
                            .to(Donors::Table, Donors::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_donations_donor")
                    .table(Donations::Table)
                    .col(Donations::DonorId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Donations::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(DinSequences::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum Donations {
    Table,
    Id,
    DonorId,
    Din,
    CheckCharacter,
    CollectedAt,
    ReceivedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum DinSequences {
    Table,
    FacilityCode,
    DinYear,
    LastSequence,
}
