//! Dose orders, the vials reserved for them, and the post-thaw counts.
//! Numbers are integers: cells, grams, microlitres, tenths of a percent.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261125_000007_create_lots::Lots;
use crate::m20261125_000009_create_vials::Vials;
use crate::m20261125_000011_create_patients::{Patients, Weights};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Doses::Table)
                    .if_not_exists()
                    .col(uuid(Doses::Id).primary_key())
                    .col(string_len_uniq(Doses::Code, 32))
                    .col(uuid(Doses::PatientId))
                    .col(integer(Doses::InfusionNumber))
                    .col(integer(Doses::ProtocolVersion))
                    .col(uuid(Doses::WeightId))
                    .col(big_integer(Doses::WeightG))
                    .col(big_integer(Doses::DosePerKg))
                    .col(big_integer(Doses::TargetCells))
                    .col(big_integer(Doses::MinCells))
                    .col(big_integer(Doses::MaxCells))
                    .col(uuid(Doses::LotId))
                    .col(big_integer(Doses::CellsPerVial))
                    .col(integer(Doses::VialsNeeded))
                    .col(string_len(Doses::Status, 16))
                    .col(timestamp_with_time_zone_null(Doses::ThawedAt))
                    .col(big_integer_null(Doses::ConcentrationCellsPerMl))
                    .col(big_integer_null(Doses::AvailableUl))
                    .col(big_integer_null(Doses::VolumeUl))
                    .col(big_integer_null(Doses::CellsToAdminister))
                    .col(timestamp_with_time_zone_null(Doses::VerifiedAt))
                    .col(uuid_null(Doses::VerifiedBy))
                    .col(timestamp_with_time_zone_null(Doses::CancelledAt))
                    .col(text_null(Doses::CancelReason))
                    .col(timestamp_with_time_zone(Doses::CreatedAt))
                    .col(uuid_null(Doses::CreatedBy))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_doses_patient")
                            .from(Doses::Table, Doses::PatientId)
                            .to(Patients::Table, Patients::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_doses_weight")
                            .from(Doses::Table, Doses::WeightId)
                            .to(Weights::Table, Weights::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_doses_lot")
                            .from(Doses::Table, Doses::LotId)
                            .to(Lots::Table, Lots::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_doses_patient")
                    .table(Doses::Table)
                    .col(Doses::PatientId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_doses_lot")
                    .table(Doses::Table)
                    .col(Doses::LotId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DoseVials::Table)
                    .if_not_exists()
                    .col(uuid(DoseVials::DoseId))
                    .col(uuid(DoseVials::VialId))
                    .col(timestamp_with_time_zone(DoseVials::ReservedAt))
                    .col(timestamp_with_time_zone_null(DoseVials::RemovedAt))
                    .col(text_null(DoseVials::RemovedReason))
                    .primary_key(
                        Index::create()
                            .col(DoseVials::DoseId)
                            .col(DoseVials::VialId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_dose_vials_dose")
                            .from(DoseVials::Table, DoseVials::DoseId)
                            .to(Doses::Table, Doses::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_dose_vials_vial")
                            .from(DoseVials::Table, DoseVials::VialId)
                            .to(Vials::Table, Vials::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_dose_vials_vial")
                    .table(DoseVials::Table)
                    .col(DoseVials::VialId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ThawCounts::Table)
                    .if_not_exists()
                    .col(uuid(ThawCounts::Id).primary_key())
                    .col(uuid(ThawCounts::DoseId))
                    .col(uuid(ThawCounts::VialId))
                    .col(big_integer(ThawCounts::ViableCellsPerMl))
                    .col(integer(ThawCounts::ViabilityTenths))
                    .col(big_integer(ThawCounts::VolumeUl))
                    .col(timestamp_with_time_zone(ThawCounts::ThawedAt))
                    .col(timestamp_with_time_zone(ThawCounts::RecordedAt))
                    .col(uuid_null(ThawCounts::RecordedBy))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_thaw_counts_dose")
                            .from(ThawCounts::Table, ThawCounts::DoseId)
                            .to(Doses::Table, Doses::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_thaw_counts_vial")
                            .from(ThawCounts::Table, ThawCounts::VialId)
                            .to(Vials::Table, Vials::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_thaw_counts_dose")
                    .table(ThawCounts::Table)
                    .col(ThawCounts::DoseId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ThawCounts::Table.into_iden(),
            DoseVials::Table.into_iden(),
            Doses::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
pub enum Doses {
    Table,
    Id,
    Code,
    PatientId,
    InfusionNumber,
    ProtocolVersion,
    WeightId,
    WeightG,
    DosePerKg,
    TargetCells,
    MinCells,
    MaxCells,
    LotId,
    CellsPerVial,
    VialsNeeded,
    Status,
    ThawedAt,
    ConcentrationCellsPerMl,
    AvailableUl,
    VolumeUl,
    CellsToAdminister,
    VerifiedAt,
    VerifiedBy,
    CancelledAt,
    CancelReason,
    CreatedAt,
    CreatedBy,
}

#[derive(DeriveIden)]
enum DoseVials {
    Table,
    DoseId,
    VialId,
    ReservedAt,
    RemovedAt,
    RemovedReason,
}

#[derive(DeriveIden)]
enum ThawCounts {
    Table,
    Id,
    DoseId,
    VialId,
    ViableCellsPerMl,
    ViabilityTenths,
    VolumeUl,
    ThawedAt,
    RecordedAt,
    RecordedBy,
}
