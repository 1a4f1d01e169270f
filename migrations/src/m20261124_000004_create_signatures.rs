//! Electronic signatures (21 CFR Part 11 §11.50, §11.70): the signer's name,
//! the time and the meaning, linked to the ledger event of the action signed,
//! whose hash covers the same facts.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261124_000001_create_users::Users;
use crate::m20261124_000003_create_custody_events::CustodyEvents;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Signatures::Table)
                    .if_not_exists()
                    .col(uuid(Signatures::Id).primary_key())
                    .col(uuid(Signatures::SignerId))
                    .col(string_len(Signatures::SignerUsername, 64))
                    .col(string_len(Signatures::SignerFullName, 200))
                    .col(string_len(Signatures::Meaning, 200))
                    .col(timestamp_with_time_zone(Signatures::SignedAt))
                    .col(string_len(Signatures::Action, 64))
                    .col(string_len(Signatures::SubjectKind, 32))
                    .col(uuid(Signatures::SubjectId))
                    .col(big_integer_uniq(Signatures::EventSeq))
                    .col(string_len(Signatures::EventHash, 64))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_signatures_signer")
                            .from(Signatures::Table, Signatures::SignerId)
                            .to(Users::Table, Users::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_signatures_event")
                            .from(Signatures::Table, Signatures::EventSeq)
                            .to(CustodyEvents::Table, CustodyEvents::Seq),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_signatures_subject")
                    .table(Signatures::Table)
                    .col(Signatures::SubjectKind)
                    .col(Signatures::SubjectId)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Signatures::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Signatures {
    Table,
    Id,
    SignerId,
    SignerUsername,
    SignerFullName,
    Meaning,
    SignedAt,
    Action,
    SubjectKind,
    SubjectId,
    EventSeq,
    EventHash,
}
