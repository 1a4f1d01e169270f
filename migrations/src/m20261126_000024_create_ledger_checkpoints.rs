//! Signed checkpoints of the ledger's head. The database keeps a copy; the
//! checkpoint log outside it is the one verification trusts.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LedgerCheckpoints::Table)
                    .if_not_exists()
                    .col(big_integer(LedgerCheckpoints::Seq).primary_key())
                    .col(string_len(LedgerCheckpoints::HeadHash, 64))
                    .col(timestamp_with_time_zone(LedgerCheckpoints::SignedAt))
                    .col(string_len(LedgerCheckpoints::Signature, 128))
                    .col(string_len(LedgerCheckpoints::PublicKey, 80))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(LedgerCheckpoints::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum LedgerCheckpoints {
    Table,
    Seq,
    HeadHash,
    SignedAt,
    Signature,
    PublicKey,
}
