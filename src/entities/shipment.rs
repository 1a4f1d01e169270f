use sea_orm::entity::prelude::*;

use crate::domain::shipment::ShipmentStatus;

/// A shipment from one site to another (`domain::shipment`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "shipments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub code: String,
    pub from_site_id: Uuid,
    pub to_site_id: Uuid,
    pub container_id: Uuid,
    pub status: ShipmentStatus,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
    pub sealed_at: Option<DateTimeUtc>,
    pub picked_up_at: Option<DateTimeUtc>,
    pub arrived_at: Option<DateTimeUtc>,
    pub received_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
