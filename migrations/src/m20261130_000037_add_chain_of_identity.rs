//! Chain of Identity identifiers (issue 15): each patient's therapy carries
//! an ISBT 128 CoI Identifier (ST-028, data structure 040), unique in the
//! database. The column is nullable only because patients enrolled before
//! it existed have none until the service, starting, gives each one (a
//! ledgered act, `services::patients::coi`); a new patient gets one in
//! the enrolment's transaction. `coi_sequences` holds the last sequence
//! number issued per facility and year, taken by one upsert as the DIN's
//! `din_sequences` are (the two number spaces are separate).

use sea_orm_migration::{prelude::*, schema::*};

use crate::add_columns::{add_columns, drop_columns};

#[derive(DeriveMigrationName)]
pub struct Migration;

const UNIQUE_COI: &str = "ux_patients_coi";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CoiSequences::Table)
                    .if_not_exists()
                    .col(string_len(CoiSequences::FacilityCode, 5))
                    .col(integer(CoiSequences::CoiYear))
                    .col(integer(CoiSequences::LastSequence))
                    .primary_key(
                        Index::create()
                            .col(CoiSequences::FacilityCode)
                            .col(CoiSequences::CoiYear),
                    )
                    .to_owned(),
            )
            .await?;
        add_columns(
            manager,
            "patients",
            vec![string_len_null(Patients::Coi, 15)],
        )
        .await?;
        // several NULLs are allowed by a unique index on both engines
        manager
            .create_index(
                Index::create()
                    .name(UNIQUE_COI)
                    .table(Patients::Table)
                    .col(Patients::Coi)
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
                    .name(UNIQUE_COI)
                    .table(Patients::Table)
                    .to_owned(),
            )
            .await?;
        drop_columns(manager, "patients", &["coi"]).await?;
        manager
            .drop_table(Table::drop().table(CoiSequences::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum CoiSequences {
    Table,
    FacilityCode,
    CoiYear,
    LastSequence,
}

#[derive(DeriveIden)]
enum Patients {
    Table,
    Coi,
}
