use crate::domain::dose::WeightUnit;
use crate::domain::quantity::Grams;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "weights")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub patient_id: Uuid,
    pub weight_g: Grams,
    /// As entered.
    pub value: String,
    pub unit: WeightUnit,
    pub measured_at: DateTimeUtc,
    pub confirmed_change: bool,
    pub recorded_at: DateTimeUtc,
    pub recorded_by: Option<Uuid>,
    /// Voided (signed, with a reason): shown struck out, never used.
    pub voided_at: Option<DateTimeUtc>,
    pub voided_by: Option<Uuid>,
    pub void_reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
