//! A site's lists straight from an index, on PostgreSQL (issue 15's scale
//! bench: 20 sites, 2M vials).
//!
//! A list pages by code; narrowed to one site it is asked as
//! `site_id = ? [AND status = ?] … ORDER BY site_id, code` (see
//! `services::lists::SiteScope`). Without an index that starts with the
//! site, PostgreSQL read the code index from the start and filtered on the
//! site: a site's vials sit together in code order (their DIN carries the
//! maker's facility number), so the first page of the twentieth site read
//! a million rows (130 ms instead of 0.4). With `(site_id, code)` and
//! `(site_id, status, code)` a page reads its own rows, deep or not.
//!
//! SQLite is the one-site install: its planner is kept on the code index
//! (`+site_id`), so these indexes would only cost its writes. They are
//! made on PostgreSQL only.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (index, table, columns).
const INDEXES: [(&str, &str, &[&str]); 5] = [
    ("idx_vials_site_code", "vials", &["site_id", "code"]),
    (
        "idx_vials_site_status_code",
        "vials",
        &["site_id", "status", "code"],
    ),
    ("idx_lots_site_code", "lots", &["site_id", "code"]),
    (
        "idx_lots_site_status_code",
        "lots",
        &["site_id", "status", "code"],
    ),
    (
        "idx_patients_site_code",
        "patients",
        &["site_id", "subject_code"],
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        for (name, table, columns) in INDEXES {
            let mut index = Index::create();
            index.name(name).table(Alias::new(table)).if_not_exists();
            for column in columns {
                index.col(Alias::new(*column));
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
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
