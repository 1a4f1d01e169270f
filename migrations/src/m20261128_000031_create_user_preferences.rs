//! Each person's own settings for the pages: for now, the language they
//! read. Not part of the custody record (like sessions, it says nothing
//! about a product or a patient), so it is kept as a row per person,
//! replaced when they choose again, with no ledger event.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(UserPreferences::Table)
                    .if_not_exists()
                    .col(uuid(UserPreferences::UserId).primary_key())
                    .col(string_len(UserPreferences::Language, 16))
                    .col(timestamp_with_time_zone(UserPreferences::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_user_preferences_user")
                            .from(UserPreferences::Table, UserPreferences::UserId)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(UserPreferences::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum UserPreferences {
    Table,
    UserId,
    Language,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}
