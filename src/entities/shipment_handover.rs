use sea_orm::entity::prelude::*;

use crate::domain::shipment::HandoverKind;

/// Who took or brought a shipment's container, recorded by whom, when
/// (the server's time).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "shipment_handovers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub shipment_id: Uuid,
    pub kind: HandoverKind,
    /// The courier (name and company) or whoever brought it.
    pub party: String,
    pub recorded_by: Uuid,
    pub at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
