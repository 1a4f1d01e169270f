//! Donors (pseudonymous codes only) and their screening results.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Donors::Table)
                    .if_not_exists()
                    .col(uuid(Donors::Id).primary_key())
                    .col(string_len_uniq(Donors::Code, 32))
                    .col(timestamp_with_time_zone(Donors::ConsentAt))
                    .col(string_len(Donors::Eligibility, 16))
                    .col(text_null(Donors::EligibilityReason))
                    .col(timestamp_with_time_zone_null(Donors::EligibilityDecidedAt))
                    .col(uuid_null(Donors::EligibilityDecidedBy))
                    .col(timestamp_with_time_zone(Donors::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ScreeningResults::Table)
                    .if_not_exists()
                    .col(uuid(ScreeningResults::Id).primary_key())
                    .col(uuid(ScreeningResults::DonorId))
                    .col(string_len(ScreeningResults::Test, 16))
                    .col(string_len(ScreeningResults::Result, 16))
                    .col(string_len(ScreeningResults::Specimen, 16))
                    .col(timestamp_with_time_zone(ScreeningResults::TestedAt))
                    .col(timestamp_with_time_zone(ScreeningResults::RecordedAt))
                    .col(uuid(ScreeningResults::RecordedBy))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_screening_results_donor")
                            .from(ScreeningResults::Table, ScreeningResults::DonorId)
                            .to(Donors::Table, Donors::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_screening_results_donor")
                    .table(ScreeningResults::Table)
                    .col(ScreeningResults::DonorId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ScreeningResults::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Donors::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum Donors {
    Table,
    Id,
    Code,
    ConsentAt,
    Eligibility,
    EligibilityReason,
    EligibilityDecidedAt,
    EligibilityDecidedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ScreeningResults {
    Table,
    Id,
    DonorId,
    Test,
    Result,
    Specimen,
    TestedAt,
    RecordedAt,
    RecordedBy,
}
