//! Adding columns to a table that exists: one `ALTER TABLE … ADD COLUMN`
//! per column (SQLite adds one at a time), each skipped when it is there
//! already, so a migration that stopped half-way runs again cleanly.

use sea_orm_migration::prelude::*;

pub async fn add_columns(
    manager: &SchemaManager<'_>,
    table: &str,
    columns: Vec<ColumnDef>,
) -> Result<(), DbErr> {
    for mut column in columns {
        let name = column.get_column_name();
        if manager.has_column(table, &name).await? {
            continue;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new(table))
                    .add_column(&mut column)
                    .to_owned(),
            )
            .await?;
    }
    Ok(())
}

pub async fn drop_columns(
    manager: &SchemaManager<'_>,
    table: &str,
    columns: &[&str],
) -> Result<(), DbErr> {
    for column in columns {
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new(table))
                    .drop_column(Alias::new(*column))
                    .to_owned(),
            )
            .await?;
    }
    Ok(())
}
