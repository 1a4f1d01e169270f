use sea_orm::entity::prelude::*;

pub use super::hold::HoldStatus;

/// What quality decided for a lot held by a consent withdrawal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum WithdrawalDecision {
    #[sea_orm(string_value = "released")]
    Released,
    #[sea_orm(string_value = "discarded")]
    Discarded,
}

impl WithdrawalDecision {
    pub fn as_str(self) -> &'static str {
        match self {
            WithdrawalDecision::Released => "released",
            WithdrawalDecision::Discarded => "discarded",
        }
    }
}

/// One lot a donor's consent withdrawal put on hold.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "withdrawal_holds")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub withdrawal_id: Uuid,
    #[sea_orm(unique)]
    pub lot_id: Uuid,
    pub status: HoldStatus,
    pub vial_count: i32,
    pub created_at: DateTimeUtc,
    pub decision: Option<WithdrawalDecision>,
    pub decided_at: Option<DateTimeUtc>,
    pub decided_by: Option<Uuid>,
    pub reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
