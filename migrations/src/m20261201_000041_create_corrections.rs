//! Signed corrections of typed fields (issue 16): one row per correction,
//! never updated or deleted, so a record's history of corrections is one
//! query (by subject, oldest first). The custody event of each holds the
//! same facts (`<kind>.corrected`, `event_seq`); the corrected column of
//! the record itself is written in the same transaction.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEX: &str = "idx_corrections_subject";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Corrections::Table)
                    .if_not_exists()
                    .col(uuid(Corrections::Id).primary_key())
                    .col(string_len(Corrections::SubjectKind, 16))
                    .col(uuid(Corrections::SubjectId))
                    .col(string_len(Corrections::Field, 64))
                    // the values as JSON text (`"2027-01-01T00:00:00Z"`, `1000`)
                    .col(text(Corrections::OldValue))
                    .col(text(Corrections::NewValue))
                    .col(text(Corrections::Reason))
                    .col(uuid(Corrections::CorrectedBy))
                    .col(timestamp_with_time_zone(Corrections::CorrectedAt))
                    .col(uuid(Corrections::SignatureId))
                    .col(big_integer(Corrections::EventSeq).unique_key())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name(INDEX)
                    .table(Corrections::Table)
                    .col(Corrections::SubjectKind)
                    .col(Corrections::SubjectId)
                    .col(Corrections::EventSeq)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(Corrections::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Corrections {
    Table,
    Id,
    SubjectKind,
    SubjectId,
    Field,
    OldValue,
    NewValue,
    Reason,
    CorrectedBy,
    CorrectedAt,
    SignatureId,
    EventSeq,
}
