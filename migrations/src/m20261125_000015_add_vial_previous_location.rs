//! Where a vial was before its latest move. A move sets these from the
//! current place in the same UPDATE that changes it, so the old and new
//! places come back in one statement (RETURNING) instead of a read first.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261125_000009_create_vials::Vials;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // one column per statement: SQLite adds one at a time
        if !manager.has_column("vials", "previous_box_id").await? {
            manager
                .alter_table(
                    Table::alter()
                        .table(Vials::Table)
                        .add_column(uuid_null(Alias::new("previous_box_id")))
                        .to_owned(),
                )
                .await?;
        }
        if !manager.has_column("vials", "previous_position").await? {
            manager
                .alter_table(
                    Table::alter()
                        .table(Vials::Table)
                        .add_column(string_len_null(Alias::new("previous_position"), 4))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in ["previous_position", "previous_box_id"] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Vials::Table)
                        .drop_column(Alias::new(column))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
