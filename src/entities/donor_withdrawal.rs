use sea_orm::entity::prelude::*;

/// A donor's consent withdrawn (quality, signed): one per donor.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "donor_withdrawals")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub donor_id: Uuid,
    /// When the donor (the birth mother) withdrew.
    pub withdrawn_at: DateTimeUtc,
    pub reason: String,
    pub recorded_by: Uuid,
    pub recorded_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
