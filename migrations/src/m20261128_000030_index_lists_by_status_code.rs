//! Lists filtered by status, in code order, straight from an index.
//!
//! Every list pages by code (keyset: `status = ? AND code > ? ORDER BY
//! code LIMIT n`). With an index on the status alone the database would
//! fetch every row of that status and sort them for each page, so a page
//! of available vials on a bank of a million would cost what the whole
//! bank does; with `(status, code)` a page reads its `n` index entries,
//! deep or not. The vials' new index serves every lookup the status-only
//! one served (its first column), so that one goes.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (index, table, status column): each indexed with `code` after it.
const INDEXES: [(&str, &str, &str); 4] = [
    ("idx_vials_status_code", "vials", "status"),
    ("idx_lots_status_code", "lots", "status"),
    ("idx_doses_status_code", "doses", "status"),
    ("idx_donors_eligibility_code", "donors", "eligibility"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table, status) in INDEXES {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Alias::new(table))
                        .col(Alias::new(status))
                        .col(Alias::new("code"))
                        .if_not_exists()
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_index(
                Index::drop()
                    .name("idx_vials_status")
                    .table(Alias::new("vials"))
                    .if_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("idx_vials_status")
                    .table(Alias::new("vials"))
                    .col(Alias::new("status"))
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        for (name, table, _) in INDEXES {
            manager
                .drop_index(
                    Index::drop()
                        .name(name)
                        .table(Alias::new(table))
                        .if_exists()
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
