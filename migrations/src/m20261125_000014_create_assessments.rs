//! Outcome assessments (PASI, DLQI) with the inputs they were computed from.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261125_000011_create_patients::Patients;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Assessments::Table)
                    .if_not_exists()
                    .col(uuid(Assessments::Id).primary_key())
                    .col(uuid(Assessments::PatientId))
                    .col(string_len(Assessments::Kind, 8))
                    .col(timestamp_with_time_zone(Assessments::AssessedAt))
                    .col(integer(Assessments::Score))
                    .col(text(Assessments::Inputs))
                    .col(timestamp_with_time_zone(Assessments::RecordedAt))
                    .col(uuid_null(Assessments::RecordedBy))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_assessments_patient")
                            .from(Assessments::Table, Assessments::PatientId)
                            .to(Patients::Table, Patients::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_assessments_patient")
                    .table(Assessments::Table)
                    .col(Assessments::PatientId)
                    .col(Assessments::AssessedAt)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Assessments::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Assessments {
    Table,
    Id,
    PatientId,
    Kind,
    AssessedAt,
    /// PASI in tenths, DLQI in points.
    Score,
    Inputs,
    RecordedAt,
    RecordedBy,
}
