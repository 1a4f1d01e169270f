//! An adverse event corrected (its grade, term or onset) by a signed
//! correction with a reason, never an edit: a new row carrying the full
//! corrected values and `corrects_id`, the row it supersedes, which stays
//! as it was. A row is superseded once (a unique index): a further
//! correction corrects the newest row, so an event's rows are a chain and
//! its current values are the row nothing corrects.

use sea_orm_migration::{prelude::*, schema::*};

use crate::add_columns::{add_columns, drop_columns};

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "adverse_events";
const UNIQUE: &str = "uq_adverse_events_corrects";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_columns(
            manager,
            TABLE,
            vec![
                // written inline: SQLite adds a foreign key only with the
                // column (ALTER TABLE … ADD COLUMN … REFERENCES), and
                // PostgreSQL reads the same words
                uuid_null(Alias::new("corrects_id"))
                    .extra("REFERENCES adverse_events (id)")
                    .to_owned(),
                text_null(Alias::new("correction_reason")),
                uuid_null(Alias::new("signature_id")),
            ],
        )
        .await?;
        // both engines let many rows hold NULL under a unique index: only a
        // correction is unique in what it corrects
        manager
            .create_index(
                Index::create()
                    .name(UNIQUE)
                    .table(Alias::new(TABLE))
                    .col(Alias::new("corrects_id"))
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(UNIQUE)
                    .table(Alias::new(TABLE))
                    .if_exists()
                    .to_owned(),
            )
            .await?;
        drop_columns(
            manager,
            TABLE,
            &["signature_id", "correction_reason", "corrects_id"],
        )
        .await
    }
}
