use sea_orm::entity::prelude::*;

/// A patient's withdrawal from the trial (clinician, signed): one per
/// patient.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "patient_withdrawals")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub patient_id: Uuid,
    pub withdrawn_at: DateTimeUtc,
    pub reason: String,
    /// The dose codes the withdrawal cancelled, as a JSON array.
    pub doses_cancelled: String,
    pub recorded_by: Uuid,
    pub recorded_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
