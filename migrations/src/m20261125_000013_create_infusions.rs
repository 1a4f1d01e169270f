//! Infusions (one per dose, begun only after the bedside two-scan check)
//! and the adverse events recorded with them.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261125_000011_create_patients::Patients;
use crate::m20261125_000012_create_doses::Doses;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Infusions::Table)
                    .if_not_exists()
                    .col(uuid(Infusions::Id).primary_key())
                    .col(uuid_uniq(Infusions::DoseId))
                    .col(uuid(Infusions::PatientId))
                    .col(integer(Infusions::InfusionNumber))
                    .col(string_len(Infusions::Status, 16))
                    .col(timestamp_with_time_zone(Infusions::StartedAt))
                    .col(timestamp_with_time_zone_null(Infusions::EndedAt))
                    .col(big_integer_null(Infusions::VolumeInfusedUl))
                    .col(string_len(Infusions::PatientScan, 128))
                    .col(string_len(Infusions::ProductScan, 128))
                    .col(timestamp_with_time_zone(Infusions::CreatedAt))
                    .col(uuid_null(Infusions::CreatedBy))
                    .col(timestamp_with_time_zone_null(Infusions::CompletedAt))
                    .col(uuid_null(Infusions::CompletedBy))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_infusions_dose")
                            .from(Infusions::Table, Infusions::DoseId)
                            .to(Doses::Table, Doses::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_infusions_patient")
                            .from(Infusions::Table, Infusions::PatientId)
                            .to(Patients::Table, Patients::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_infusions_patient")
                    .table(Infusions::Table)
                    .col(Infusions::PatientId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AdverseEvents::Table)
                    .if_not_exists()
                    .col(uuid(AdverseEvents::Id).primary_key())
                    .col(uuid(AdverseEvents::InfusionId))
                    .col(uuid(AdverseEvents::PatientId))
                    .col(string_len(AdverseEvents::Term, 200))
                    .col(integer(AdverseEvents::Grade))
                    .col(timestamp_with_time_zone(AdverseEvents::OnsetAt))
                    .col(timestamp_with_time_zone(AdverseEvents::RecordedAt))
                    .col(uuid_null(AdverseEvents::RecordedBy))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_adverse_events_infusion")
                            .from(AdverseEvents::Table, AdverseEvents::InfusionId)
                            .to(Infusions::Table, Infusions::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_adverse_events_patient")
                            .from(AdverseEvents::Table, AdverseEvents::PatientId)
                            .to(Patients::Table, Patients::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_adverse_events_infusion")
                    .table(AdverseEvents::Table)
                    .col(AdverseEvents::InfusionId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AdverseEvents::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Infusions::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum Infusions {
    Table,
    Id,
    DoseId,
    PatientId,
    InfusionNumber,
    Status,
    StartedAt,
    EndedAt,
    VolumeInfusedUl,
    PatientScan,
    ProductScan,
    CreatedAt,
    CreatedBy,
    CompletedAt,
    CompletedBy,
}

#[derive(DeriveIden)]
enum AdverseEvents {
    Table,
    Id,
    InfusionId,
    PatientId,
    Term,
    Grade,
    OnsetAt,
    RecordedAt,
    RecordedBy,
}
