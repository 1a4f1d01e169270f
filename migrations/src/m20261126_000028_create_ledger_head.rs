//! The ledger's head in one row, on PostgreSQL: appenders on every instance
//! serialise on this row, and an append is one statement that moves the
//! head only from the head it was hashed against (see `services::ledger`).
//! SQLite has one writer per file and remembers the head in its process,
//! so the table is not created there.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        db.execute_unprepared(
            "CREATE TABLE IF NOT EXISTS ledger_head (\
               id integer PRIMARY KEY CHECK (id = 1), \
               seq bigint NOT NULL, \
               hash varchar(64) NOT NULL)",
        )
        .await?;
        // the chain as it stands: its last event, or the genesis link
        db.execute_unprepared(
            "INSERT INTO ledger_head (id, seq, hash) \
             SELECT 1, COALESCE(last.seq, 0), \
                    COALESCE(last.hash, repeat('0', 64)) \
             FROM (SELECT 1) AS one \
             LEFT JOIN (SELECT seq, hash FROM custody_events ORDER BY seq DESC LIMIT 1) AS last \
               ON true \
             ON CONFLICT (id) DO NOTHING",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        manager
            .get_connection()
            .execute_unprepared("DROP TABLE IF EXISTS ledger_head")
            .await?;
        Ok(())
    }
}
