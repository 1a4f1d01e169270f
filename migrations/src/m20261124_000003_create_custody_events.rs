//! The custody ledger: append-only, hash-chained.
//!
//! `seq` is the primary key and is assigned by the appender as the previous
//! event's seq + 1, so two writers that raced past the ledger lock could not
//! both append the same link: the second insert fails. `details` is kept as
//! text, byte for byte what was hashed (a JSON column type would let
//! PostgreSQL reorder keys and break the hash).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CustodyEvents::Table)
                    .if_not_exists()
                    .col(big_integer(CustodyEvents::Seq).primary_key())
                    .col(timestamp_with_time_zone(CustodyEvents::OccurredAt))
                    .col(uuid_null(CustodyEvents::ActorId))
                    .col(string_len(CustodyEvents::ActorUsername, 64))
                    .col(string_len(CustodyEvents::Action, 64))
                    .col(string_len(CustodyEvents::SubjectKind, 32))
                    .col(uuid(CustodyEvents::SubjectId))
                    .col(text_null(CustodyEvents::FromLocation))
                    .col(text_null(CustodyEvents::ToLocation))
                    .col(text(CustodyEvents::Details))
                    .col(string_len(CustodyEvents::PrevHash, 64))
                    .col(string_len(CustodyEvents::Hash, 64))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_custody_events_subject")
                    .table(CustodyEvents::Table)
                    .col(CustodyEvents::SubjectKind)
                    .col(CustodyEvents::SubjectId)
                    .col(CustodyEvents::Seq)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CustodyEvents::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum CustodyEvents {
    Table,
    Seq,
    OccurredAt,
    ActorId,
    ActorUsername,
    Action,
    SubjectKind,
    SubjectId,
    FromLocation,
    ToLocation,
    Details,
    PrevHash,
    Hash,
}
