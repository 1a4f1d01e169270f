//! Every page form carries a token of its own; the first sending of a
//! token is kept here so a second sending of the same form (a double
//! click, a resend after a slow answer) is recognised and not done again.
//! Not custody state: it says nothing about a product or a patient, so no
//! ledger event goes with it.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(FormSendings::Table)
                    .if_not_exists()
                    .col(string_len(FormSendings::Token, 64).primary_key())
                    .col(uuid(FormSendings::UserId))
                    .col(timestamp_with_time_zone(FormSendings::SentAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(FormSendings::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum FormSendings {
    Table,
    Token,
    UserId,
    SentAt,
}
