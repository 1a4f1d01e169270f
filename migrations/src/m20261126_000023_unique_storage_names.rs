//! Two units of one parent never share a name: a unique index, so that two
//! instances creating "Tank 1" at once cannot both succeed (a lookup then an
//! insert can). Tanks have no parent; the index reads a missing parent as
//! one value, so two tanks cannot share a name either.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const NIL: &str = "00000000-0000-0000-0000-000000000000";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let parent = match manager.get_database_backend() {
            sea_orm::DbBackend::Postgres => format!("COALESCE(parent_id, '{NIL}'::uuid)"),
            _ => "COALESCE(parent_id, '')".to_owned(),
        };
        // Duplicates made before the index (by racing creations on
        // PostgreSQL) must be renamed by a person first: say which.
        let duplicates = db
            .query_all_raw(sea_orm::Statement::from_string(
                manager.get_database_backend(),
                format!(
                    "SELECT name FROM storage_units GROUP BY {parent}, name HAVING COUNT(*) > 1"
                ),
            ))
            .await?;
        if !duplicates.is_empty() {
            let names: Vec<String> = duplicates
                .iter()
                .filter_map(|row| row.try_get::<String>("", "name").ok())
                .collect();
            return Err(DbErr::Migration(format!(
                "storage units sharing a name under one parent must be told apart before this upgrade: {}",
                names.join(", ")
            )));
        }
        db.execute_unprepared(&format!(
            "CREATE UNIQUE INDEX IF NOT EXISTS uq_storage_units_parent_name ON storage_units (({parent}), name)"
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX IF EXISTS uq_storage_units_parent_name")
            .await?;
        Ok(())
    }
}
