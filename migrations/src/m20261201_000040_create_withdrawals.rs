//! Withdrawals (issue 16): a donor's consent withdrawn and a patient's
//! withdrawal from the trial.
//!
//! `donor_withdrawals` and `patient_withdrawals` hold one row per donor or
//! patient (unique), so two requests withdrawing at once cannot both
//! succeed. A consent withdrawal holds every lot of the donor: one row per
//! lot in `withdrawal_holds` (open until quality decides: released or
//! discarded), and in `withdrawal_hold_vials` every vial of the lot not yet
//! infused, with the status it had, and whether the withdrawal stopped it
//! (`held`) or only listed it for quality (a thawed vial, or one another
//! hold had stopped already: `held_from` empty). Nothing of the donor's
//! own records changes; the custody ledger holds every act.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(DonorWithdrawals::Table)
                    .if_not_exists()
                    .col(uuid(DonorWithdrawals::Id).primary_key())
                    .col(uuid(DonorWithdrawals::DonorId).unique_key())
                    .col(timestamp_with_time_zone(DonorWithdrawals::WithdrawnAt))
                    .col(text(DonorWithdrawals::Reason))
                    .col(uuid(DonorWithdrawals::RecordedBy))
                    .col(timestamp_with_time_zone(DonorWithdrawals::RecordedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WithdrawalHolds::Table)
                    .if_not_exists()
                    .col(uuid(WithdrawalHolds::Id).primary_key())
                    .col(uuid(WithdrawalHolds::WithdrawalId))
                    .col(uuid(WithdrawalHolds::LotId).unique_key())
                    .col(string_len(WithdrawalHolds::Status, 16))
                    .col(integer(WithdrawalHolds::VialCount))
                    .col(timestamp_with_time_zone(WithdrawalHolds::CreatedAt))
                    .col(string_len_null(WithdrawalHolds::Decision, 16))
                    .col(timestamp_with_time_zone_null(WithdrawalHolds::DecidedAt))
                    .col(uuid_null(WithdrawalHolds::DecidedBy))
                    .col(text_null(WithdrawalHolds::Reason))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_withdrawal_holds_withdrawal")
                            .from(WithdrawalHolds::Table, WithdrawalHolds::WithdrawalId)
                            .to(DonorWithdrawals::Table, DonorWithdrawals::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WithdrawalHoldVials::Table)
                    .if_not_exists()
                    .col(uuid(WithdrawalHoldVials::HoldId))
                    .col(uuid(WithdrawalHoldVials::VialId))
                    .col(string_len(WithdrawalHoldVials::StatusThen, 16))
                    .col(string_len_null(WithdrawalHoldVials::HeldFrom, 16))
                    .col(boolean(WithdrawalHoldVials::Held))
                    .primary_key(
                        Index::create()
                            .col(WithdrawalHoldVials::HoldId)
                            .col(WithdrawalHoldVials::VialId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_withdrawal_hold_vials_hold")
                            .from(WithdrawalHoldVials::Table, WithdrawalHoldVials::HoldId)
                            .to(WithdrawalHolds::Table, WithdrawalHolds::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_withdrawal_hold_vials_vial")
                    .table(WithdrawalHoldVials::Table)
                    .col(WithdrawalHoldVials::VialId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PatientWithdrawals::Table)
                    .if_not_exists()
                    .col(uuid(PatientWithdrawals::Id).primary_key())
                    .col(uuid(PatientWithdrawals::PatientId).unique_key())
                    .col(timestamp_with_time_zone(PatientWithdrawals::WithdrawnAt))
                    .col(text(PatientWithdrawals::Reason))
                    .col(text(PatientWithdrawals::DosesCancelled))
                    .col(uuid(PatientWithdrawals::RecordedBy))
                    .col(timestamp_with_time_zone(PatientWithdrawals::RecordedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            PatientWithdrawals::Table.into_iden(),
            WithdrawalHoldVials::Table.into_iden(),
            WithdrawalHolds::Table.into_iden(),
            DonorWithdrawals::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum DonorWithdrawals {
    Table,
    Id,
    DonorId,
    WithdrawnAt,
    Reason,
    RecordedBy,
    RecordedAt,
}

#[derive(DeriveIden)]
enum WithdrawalHolds {
    Table,
    Id,
    WithdrawalId,
    LotId,
    Status,
    VialCount,
    CreatedAt,
    Decision,
    DecidedAt,
    DecidedBy,
    Reason,
}

#[derive(DeriveIden)]
enum WithdrawalHoldVials {
    Table,
    HoldId,
    VialId,
    StatusThen,
    HeldFrom,
    Held,
}

#[derive(DeriveIden)]
enum PatientWithdrawals {
    Table,
    Id,
    PatientId,
    WithdrawnAt,
    Reason,
    DosesCancelled,
    RecordedBy,
    RecordedAt,
}
