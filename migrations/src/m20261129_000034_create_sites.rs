//! Sites (issue 15): the places cells are made, kept and given. Storage
//! units, lots, vials and patients gain the site they belong to, and accounts the
//! sites they work at. Everything made before sites existed belongs to the
//! default site (its fixed id below): the rows are given it here, once, and
//! the service creates the site itself at start-up from the configured
//! facility code and time zone (the migration cannot know them). The
//! custody ledger is not touched.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::prelude::Uuid;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::add_columns::{add_columns, drop_columns};

/// `domain::site::DEFAULT_SITE_ID`.
const DEFAULT_SITE: Uuid = Uuid::from_u128(0x0000_0000_0000_7000_8000_0000_0000_0001);

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A vial is at the site that holds it: its lot's until a shipment
/// takes it elsewhere.
const SITED: [&str; 4] = ["storage_units", "lots", "patients", "vials"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Sites::Table)
                    .if_not_exists()
                    .col(uuid(Sites::Id).primary_key())
                    .col(string_len(Sites::Name, 100).unique_key())
                    .col(string_len(Sites::Kind, 16))
                    .col(string_len(Sites::FacilityCode, 5).unique_key())
                    .col(string_len(Sites::TimeZone, 64))
                    .col(timestamp_with_time_zone(Sites::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(UserSites::Table)
                    .if_not_exists()
                    .col(uuid(UserSites::UserId))
                    .col(uuid(UserSites::SiteId))
                    .col(timestamp_with_time_zone(UserSites::GrantedAt))
                    .col(timestamp_with_time_zone_null(UserSites::RevokedAt))
                    .primary_key(
                        Index::create()
                            .col(UserSites::UserId)
                            .col(UserSites::SiteId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_user_sites_user")
                            .from(UserSites::Table, UserSites::UserId)
                            .to(Users::Table, Users::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_user_sites_site")
                            .from(UserSites::Table, UserSites::SiteId)
                            .to(Sites::Table, Sites::Id),
                    )
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        let backend = manager.get_database_backend();
        // the default site, with ICCBBA's example FIN and UTC until the
        // service, starting, gives it the configured ones (a ledgered act)
        if manager
            .get_connection()
            .query_one_raw(Statement::from_sql_and_values(
                backend,
                match backend {
                    DbBackend::Postgres => "SELECT id FROM sites WHERE id = $1",
                    _ => "SELECT id FROM sites WHERE id = ?",
                },
                [DEFAULT_SITE.into()],
            ))
            .await?
            .is_none()
        {
            manager
                .exec_stmt(
                    Query::insert()
                        .into_table(Sites::Table)
                        .columns([
                            Sites::Id,
                            Sites::Name,
                            Sites::Kind,
                            Sites::FacilityCode,
                            Sites::TimeZone,
                            Sites::CreatedAt,
                        ])
                        .values_panic([
                            DEFAULT_SITE.into(),
                            "Main site".into(),
                            "combined".into(),
                            "A9999".into(),
                            "UTC".into(),
                            Expr::current_timestamp(),
                        ])
                        .to_owned(),
                )
                .await?;
        }
        for table in SITED {
            add_columns(manager, table, vec![uuid_null(Alias::new("site_id"))]).await?;
            db.execute_raw(Statement::from_sql_and_values(
                backend,
                match backend {
                    DbBackend::Postgres => {
                        format!("UPDATE {table} SET site_id = $1 WHERE site_id IS NULL")
                    }
                    _ => format!("UPDATE {table} SET site_id = ? WHERE site_id IS NULL"),
                },
                [DEFAULT_SITE.into()],
            ))
            .await?;
            manager
                .create_index(
                    Index::create()
                        .if_not_exists()
                        .name(format!("idx_{table}_site"))
                        .table(Alias::new(table))
                        .col(Alias::new("site_id"))
                        .to_owned(),
                )
                .await?;
        }
        // every account works at the default site, as it did
        db.execute_raw(Statement::from_sql_and_values(
            backend,
            match backend {
                DbBackend::Postgres => {
                    "INSERT INTO user_sites (user_id, site_id, granted_at) SELECT id, $1, created_at FROM users WHERE id NOT IN (SELECT user_id FROM user_sites WHERE site_id = $1)"
                }
                _ => "INSERT INTO user_sites (user_id, site_id, granted_at) SELECT id, ?1, created_at FROM users WHERE id NOT IN (SELECT user_id FROM user_sites WHERE site_id = ?1)",
            },
            [DEFAULT_SITE.into()],
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in SITED {
            manager
                .drop_index(
                    Index::drop()
                        .name(format!("idx_{table}_site"))
                        .table(Alias::new(table))
                        .to_owned(),
                )
                .await?;
            drop_columns(manager, table, &["site_id"]).await?;
        }
        manager
            .drop_table(Table::drop().table(UserSites::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Sites::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Sites {
    Table,
    Id,
    Name,
    Kind,
    FacilityCode,
    TimeZone,
    CreatedAt,
}

#[derive(DeriveIden)]
enum UserSites {
    Table,
    UserId,
    SiteId,
    GrantedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}
