use sea_orm::entity::prelude::*;

use crate::domain::lifecycle::VialStatus;

/// A vial of a lot held by a consent withdrawal: the status it had then,
/// the status the hold took it from (`None` when it was not stopped here:
/// thawed already, or stopped by another hold first) and whether this
/// withdrawal put it on hold (`held`) or only listed it for quality.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "withdrawal_hold_vials")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub hold_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub vial_id: Uuid,
    pub status_then: VialStatus,
    pub held_from: Option<VialStatus>,
    pub held: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
