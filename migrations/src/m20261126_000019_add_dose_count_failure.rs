//! Why a dose's counts failed (the refusal's code), for the dose whose
//! status is `count_failed`.

use sea_orm_migration::{prelude::*, schema::*};

use crate::add_columns::{add_columns, drop_columns};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_columns(
            manager,
            "doses",
            vec![string_len_null(Alias::new("count_failure"), 32)],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_columns(manager, "doses", &["count_failure"]).await
    }
}
