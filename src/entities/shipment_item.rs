use sea_orm::entity::prelude::*;

/// A vial on a shipment's sealed packing list, and what became of it at
/// receipt: scanned into a box, or missing with the receiver's reason.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "shipment_items")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub shipment_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub vial_id: Uuid,
    /// When the seal put it on the list.
    pub packed_at: DateTimeUtc,
    pub received_at: Option<DateTimeUtc>,
    pub received_by: Option<Uuid>,
    pub box_id: Option<Uuid>,
    pub position: Option<String>,
    pub missing_reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
