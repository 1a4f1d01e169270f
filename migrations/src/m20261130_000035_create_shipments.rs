//! Shipments (issue 15): vials leave one site in a named shipping
//! container (a dry shipper with its own label) and are scanned in at
//! another. A vial records the shipment it is packed into (until it is
//! received) and, when a hold stops it, the status it had before
//! (`held_from`), given back when quality releases the hold.
//!
//! `shipment_items` is the sealed packing list (written at the seal) and
//! what became of each item at receipt; `shipment_discrepancies` the
//! vials scanned at receipt that were not on it; `shipment_handovers` who
//! took the container when. The custody ledger holds every act.

use sea_orm_migration::{prelude::*, schema::*};

use crate::add_columns::{add_columns, drop_columns};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ShippingContainers::Table)
                    .if_not_exists()
                    .col(uuid(ShippingContainers::Id).primary_key())
                    .col(string_len(ShippingContainers::Code, 32).unique_key())
                    .col(uuid(ShippingContainers::SiteId))
                    .col(integer(ShippingContainers::LabelsIssued).default(0))
                    .col(timestamp_with_time_zone(ShippingContainers::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Shipments::Table)
                    .if_not_exists()
                    .col(uuid(Shipments::Id).primary_key())
                    .col(string_len(Shipments::Code, 32).unique_key())
                    .col(uuid(Shipments::FromSiteId))
                    .col(uuid(Shipments::ToSiteId))
                    .col(uuid(Shipments::ContainerId))
                    .col(string_len(Shipments::Status, 16))
                    .col(uuid(Shipments::CreatedBy))
                    .col(timestamp_with_time_zone(Shipments::CreatedAt))
                    .col(timestamp_with_time_zone_null(Shipments::SealedAt))
                    .col(timestamp_with_time_zone_null(Shipments::PickedUpAt))
                    .col(timestamp_with_time_zone_null(Shipments::ArrivedAt))
                    .col(timestamp_with_time_zone_null(Shipments::ReceivedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_shipments_container")
                            .from(Shipments::Table, Shipments::ContainerId)
                            .to(ShippingContainers::Table, ShippingContainers::Id),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("idx_shipments_from", Shipments::FromSiteId),
            ("idx_shipments_to", Shipments::ToSiteId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .if_not_exists()
                        .name(name)
                        .table(Shipments::Table)
                        .col(column)
                        .col(Shipments::Code)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(ShipmentItems::Table)
                    .if_not_exists()
                    .col(uuid(ShipmentItems::ShipmentId))
                    .col(uuid(ShipmentItems::VialId))
                    .col(timestamp_with_time_zone(ShipmentItems::PackedAt))
                    .col(timestamp_with_time_zone_null(ShipmentItems::ReceivedAt))
                    .col(uuid_null(ShipmentItems::ReceivedBy))
                    .col(uuid_null(ShipmentItems::BoxId))
                    .col(string_len_null(ShipmentItems::Position, 8))
                    .col(text_null(ShipmentItems::MissingReason))
                    .primary_key(
                        Index::create()
                            .col(ShipmentItems::ShipmentId)
                            .col(ShipmentItems::VialId),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_shipment_items_vial")
                    .table(ShipmentItems::Table)
                    .col(ShipmentItems::VialId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ShipmentDiscrepancies::Table)
                    .if_not_exists()
                    .col(uuid(ShipmentDiscrepancies::Id).primary_key())
                    .col(uuid(ShipmentDiscrepancies::ShipmentId))
                    .col(string_len(ShipmentDiscrepancies::Kind, 16))
                    .col(uuid_null(ShipmentDiscrepancies::VialId))
                    .col(string_len(ShipmentDiscrepancies::Scanned, 200))
                    .col(uuid(ShipmentDiscrepancies::NotedBy))
                    .col(timestamp_with_time_zone(ShipmentDiscrepancies::NotedAt))
                    .col(text_null(ShipmentDiscrepancies::Reason))
                    .index(
                        Index::create()
                            .unique()
                            .name("idx_shipment_discrepancies_scanned")
                            .col(ShipmentDiscrepancies::ShipmentId)
                            .col(ShipmentDiscrepancies::Scanned),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ShipmentHandovers::Table)
                    .if_not_exists()
                    .col(uuid(ShipmentHandovers::Id).primary_key())
                    .col(uuid(ShipmentHandovers::ShipmentId))
                    .col(string_len(ShipmentHandovers::Kind, 16))
                    .col(string_len(ShipmentHandovers::Party, 200))
                    .col(uuid(ShipmentHandovers::RecordedBy))
                    .col(timestamp_with_time_zone(ShipmentHandovers::At))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_shipment_handovers_shipment")
                    .table(ShipmentHandovers::Table)
                    .col(ShipmentHandovers::ShipmentId)
                    .to_owned(),
            )
            .await?;
        add_columns(
            manager,
            "vials",
            vec![
                uuid_null(Alias::new("shipment_id")),
                string_len_null(Alias::new("held_from"), 16),
            ],
        )
        .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_vials_shipment")
                    .table(Alias::new("vials"))
                    .col(Alias::new("shipment_id"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_vials_shipment")
                    .table(Alias::new("vials"))
                    .to_owned(),
            )
            .await?;
        drop_columns(manager, "vials", &["shipment_id", "held_from"]).await?;
        for table in [
            ShipmentHandovers::Table.into_iden(),
            ShipmentDiscrepancies::Table.into_iden(),
            ShipmentItems::Table.into_iden(),
            Shipments::Table.into_iden(),
            ShippingContainers::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum ShippingContainers {
    Table,
    Id,
    Code,
    SiteId,
    LabelsIssued,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Shipments {
    Table,
    Id,
    Code,
    FromSiteId,
    ToSiteId,
    ContainerId,
    Status,
    CreatedBy,
    CreatedAt,
    SealedAt,
    PickedUpAt,
    ArrivedAt,
    ReceivedAt,
}

#[derive(DeriveIden)]
enum ShipmentItems {
    Table,
    ShipmentId,
    VialId,
    PackedAt,
    ReceivedAt,
    ReceivedBy,
    BoxId,
    Position,
    MissingReason,
}

#[derive(DeriveIden)]
enum ShipmentDiscrepancies {
    Table,
    Id,
    ShipmentId,
    Kind,
    VialId,
    Scanned,
    NotedBy,
    NotedAt,
    Reason,
}

#[derive(DeriveIden)]
enum ShipmentHandovers {
    Table,
    Id,
    ShipmentId,
    Kind,
    Party,
    RecordedBy,
    At,
}
