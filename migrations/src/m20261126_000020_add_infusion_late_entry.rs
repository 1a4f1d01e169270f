//! Infusions given during an outage and recorded afterwards: signed late
//! entries, marked as such wherever the infusion is shown.

use sea_orm_migration::{prelude::*, schema::*};

use crate::add_columns::{add_columns, drop_columns};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_columns(
            manager,
            "infusions",
            vec![
                boolean(Alias::new("late_entry")).default(false).to_owned(),
                text_null(Alias::new("late_reason")),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_columns(manager, "infusions", &["late_reason", "late_entry"]).await
    }
}
