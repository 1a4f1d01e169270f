//! Failed sign-ins: what throttles further attempts per username and per
//! client address, and what the administrator's home page shows. Operational
//! data, not custody history: a successful sign-in or an administrator's
//! unlock marks rows cleared, and rows older than the retention go.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SignInFailures::Table)
                    .if_not_exists()
                    .col(uuid(SignInFailures::Id).primary_key())
                    // the name as typed (trimmed, lower case), account or not
                    .col(string_len(SignInFailures::Username, 64))
                    // an IPv4 address or an IPv6 /64
                    .col(string_len(SignInFailures::Address, 64))
                    .col(timestamp_with_time_zone(SignInFailures::FailedAt))
                    .col(timestamp_with_time_zone_null(SignInFailures::NameClearedAt))
                    .col(timestamp_with_time_zone_null(
                        SignInFailures::AddressClearedAt,
                    ))
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("idx_sign_in_failures_username", SignInFailures::Username),
            ("idx_sign_in_failures_address", SignInFailures::Address),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(SignInFailures::Table)
                        .col(column)
                        .col(SignInFailures::FailedAt)
                        .if_not_exists()
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("idx_sign_in_failures_failed_at")
                    .table(SignInFailures::Table)
                    .col(SignInFailures::FailedAt)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SignInFailures::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum SignInFailures {
    Table,
    Id,
    Username,
    Address,
    FailedAt,
    NameClearedAt,
    AddressClearedAt,
}
