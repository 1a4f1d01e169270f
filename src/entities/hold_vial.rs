use sea_orm::entity::prelude::*;

use super::hold::Decision;
use crate::domain::lifecycle::VialStatus;

/// A vial a hold stopped, the status it had (`None` when another hold had
/// already stopped it) and quality's decision for it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "hold_vials")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub hold_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub vial_id: Uuid,
    pub held_from: Option<VialStatus>,
    pub decision: Option<Decision>,
    pub decided_at: Option<DateTimeUtc>,
    pub decided_by: Option<Uuid>,
    pub reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
