use sea_orm::entity::prelude::*;

/// A storage unit's own limits; a unit without a row keeps the product's
/// default (`Limits::MSC_VAPOUR_PHASE_LN2`: at or below −150 °C, 10 minutes).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "temperature_limits")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub storage_unit_id: Uuid,
    pub max_centi_celsius: i32,
    pub allowed_minutes: i32,
    pub set_by: Uuid,
    pub set_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
