//! A post-thaw count is a fact with its judgement: the recovery it
//! implies, why it failed (if it did), a person's confirmation of an
//! implausible count with the reason, and, for a signed correction, the
//! count it supersedes (both kept).

use sea_orm_migration::{prelude::*, schema::*};

use crate::add_columns::{add_columns, drop_columns};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_columns(
            manager,
            "thaw_counts",
            vec![
                big_integer_null(Alias::new("recovery_tenths")),
                string_len_null(Alias::new("failure"), 32),
                boolean(Alias::new("confirmed")).default(false).to_owned(),
                text_null(Alias::new("confirm_reason")),
                uuid_null(Alias::new("supersedes_id")),
                text_null(Alias::new("correction_reason")),
                string_len_null(Alias::new("viability_text"), 48),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_columns(
            manager,
            "thaw_counts",
            &[
                "viability_text",
                "correction_reason",
                "supersedes_id",
                "confirm_reason",
                "confirmed",
                "failure",
                "recovery_tenths",
            ],
        )
        .await
    }
}
