//! Patients (known by their subject code) and their weights. Weights are
//! whole grams, with the value and unit as entered kept beside them.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Patients::Table)
                    .if_not_exists()
                    .col(uuid(Patients::Id).primary_key())
                    .col(string_len_uniq(Patients::SubjectCode, 20))
                    .col(date(Patients::BirthDate))
                    .col(string_len(Patients::Sex, 8))
                    .col(timestamp_with_time_zone(Patients::EnrolledAt))
                    .col(integer(Patients::BaselinePasiTenths))
                    .col(text(Patients::Criteria))
                    .col(integer(Patients::ProtocolVersion))
                    .col(timestamp_with_time_zone(Patients::CreatedAt))
                    .col(uuid_null(Patients::CreatedBy))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Weights::Table)
                    .if_not_exists()
                    .col(uuid(Weights::Id).primary_key())
                    .col(uuid(Weights::PatientId))
                    .col(big_integer(Weights::WeightG))
                    .col(string_len(Weights::Value, 24))
                    .col(string_len(Weights::Unit, 2))
                    .col(timestamp_with_time_zone(Weights::MeasuredAt))
                    .col(boolean(Weights::ConfirmedChange))
                    .col(timestamp_with_time_zone(Weights::RecordedAt))
                    .col(uuid_null(Weights::RecordedBy))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_weights_patient")
                            .from(Weights::Table, Weights::PatientId)
                            .to(Patients::Table, Patients::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_weights_patient_measured")
                    .table(Weights::Table)
                    .col(Weights::PatientId)
                    .col(Weights::MeasuredAt)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Weights::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Patients::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum Patients {
    Table,
    Id,
    SubjectCode,
    BirthDate,
    Sex,
    EnrolledAt,
    BaselinePasiTenths,
    Criteria,
    ProtocolVersion,
    CreatedAt,
    CreatedBy,
}

#[derive(DeriveIden)]
pub enum Weights {
    Table,
    Id,
    PatientId,
    WeightG,
    Value,
    Unit,
    MeasuredAt,
    ConfirmedChange,
    RecordedAt,
    RecordedBy,
}
