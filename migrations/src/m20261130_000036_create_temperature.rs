//! Temperature (issue 15): readings of storage units and shippers, each
//! unit's own limits, and the holds an excursion puts on the vials that
//! were inside.
//!
//! A reading is kept once per (source kind, source, instant): the primary
//! key, so a monitoring system that sends a reading again, or a logger file
//! uploaded twice, never counts it twice. Temperatures are whole hundredths
//! of a degree Celsius (no floating point). A hold names its excursion
//! (start, end, peak) and, in `hold_vials`, every vial it stopped with the
//! status it had and what quality decided for it; one hold per excursion
//! (unique on the source and the excursion's start), so two requests
//! recording the same readings at once cannot hold the vials twice.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TemperatureReadings::Table)
                    .if_not_exists()
                    .col(string_len(TemperatureReadings::SourceKind, 16))
                    .col(uuid(TemperatureReadings::SourceId))
                    .col(timestamp_with_time_zone(TemperatureReadings::At))
                    .col(integer(TemperatureReadings::CentiCelsius))
                    .col(uuid_null(TemperatureReadings::SentBy))
                    .col(string_len(TemperatureReadings::SentVia, 64))
                    .col(timestamp_with_time_zone(TemperatureReadings::RecordedAt))
                    .primary_key(
                        Index::create()
                            .col(TemperatureReadings::SourceKind)
                            .col(TemperatureReadings::SourceId)
                            .col(TemperatureReadings::At),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TemperatureLimits::Table)
                    .if_not_exists()
                    .col(uuid(TemperatureLimits::StorageUnitId).primary_key())
                    .col(integer(TemperatureLimits::MaxCentiCelsius))
                    .col(integer(TemperatureLimits::AllowedMinutes))
                    .col(uuid(TemperatureLimits::SetBy))
                    .col(timestamp_with_time_zone(TemperatureLimits::SetAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Holds::Table)
                    .if_not_exists()
                    .col(uuid(Holds::Id).primary_key())
                    .col(string_len(Holds::Cause, 32))
                    .col(string_len(Holds::SourceKind, 16))
                    .col(uuid(Holds::SourceId))
                    .col(uuid(Holds::SiteId))
                    .col(timestamp_with_time_zone(Holds::ExcursionStart))
                    .col(timestamp_with_time_zone(Holds::ExcursionEnd))
                    .col(boolean(Holds::BackWithinLimit))
                    .col(integer(Holds::PeakCentiCelsius))
                    .col(timestamp_with_time_zone(Holds::PeakAt))
                    .col(integer(Holds::LimitCentiCelsius))
                    .col(integer(Holds::AllowedMinutes))
                    .col(integer(Holds::VialCount))
                    .col(string_len(Holds::Status, 16))
                    .col(timestamp_with_time_zone(Holds::CreatedAt))
                    .col(timestamp_with_time_zone_null(Holds::DecidedAt))
                    .col(uuid_null(Holds::DecidedBy))
                    .col(string_len_null(Holds::Decision, 16))
                    .col(text_null(Holds::Reason))
                    .index(
                        Index::create()
                            .unique()
                            .name("idx_holds_excursion")
                            .col(Holds::SourceKind)
                            .col(Holds::SourceId)
                            .col(Holds::ExcursionStart),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_holds_site_status")
                    .table(Holds::Table)
                    .col(Holds::SiteId)
                    .col(Holds::Status)
                    .col(Holds::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(HoldVials::Table)
                    .if_not_exists()
                    .col(uuid(HoldVials::HoldId))
                    .col(uuid(HoldVials::VialId))
                    .col(string_len_null(HoldVials::HeldFrom, 16))
                    .col(string_len_null(HoldVials::Decision, 16))
                    .col(timestamp_with_time_zone_null(HoldVials::DecidedAt))
                    .col(uuid_null(HoldVials::DecidedBy))
                    .col(text_null(HoldVials::Reason))
                    .primary_key(
                        Index::create()
                            .col(HoldVials::HoldId)
                            .col(HoldVials::VialId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_hold_vials_hold")
                            .from(HoldVials::Table, HoldVials::HoldId)
                            .to(Holds::Table, Holds::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_hold_vials_vial")
                    .table(HoldVials::Table)
                    .col(HoldVials::VialId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            HoldVials::Table.into_iden(),
            Holds::Table.into_iden(),
            TemperatureLimits::Table.into_iden(),
            TemperatureReadings::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum TemperatureReadings {
    Table,
    SourceKind,
    SourceId,
    At,
    CentiCelsius,
    SentBy,
    SentVia,
    RecordedAt,
}

#[derive(DeriveIden)]
enum TemperatureLimits {
    Table,
    StorageUnitId,
    MaxCentiCelsius,
    AllowedMinutes,
    SetBy,
    SetAt,
}

#[derive(DeriveIden)]
enum Holds {
    Table,
    Id,
    Cause,
    SourceKind,
    SourceId,
    SiteId,
    ExcursionStart,
    ExcursionEnd,
    BackWithinLimit,
    PeakCentiCelsius,
    PeakAt,
    LimitCentiCelsius,
    AllowedMinutes,
    VialCount,
    Status,
    CreatedAt,
    DecidedAt,
    DecidedBy,
    Decision,
    Reason,
}

#[derive(DeriveIden)]
enum HoldVials {
    Table,
    HoldId,
    VialId,
    HeldFrom,
    Decision,
    DecidedAt,
    DecidedBy,
    Reason,
}
