//! The session epoch: one counter, raised in the same transaction as every
//! revocation of a session (sign-out, password change, deactivation, lock).
//! Each instance keeps the sessions it has seen in memory and reads this
//! counter once every half second: when it has moved, every session is read
//! again from the database, so a revocation on one instance ends the session
//! on every other instance within a second.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SessionEpoch::Table)
                    .if_not_exists()
                    // always 1
                    .col(integer(SessionEpoch::Id).primary_key())
                    .col(big_integer(SessionEpoch::Epoch))
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared("INSERT INTO session_epoch (id, epoch) VALUES (1, 0)")
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SessionEpoch::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum SessionEpoch {
    Table,
    Id,
    Epoch,
}
