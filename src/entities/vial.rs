use crate::domain::codes::VialCode;
use crate::domain::lifecycle::VialStatus;
use crate::domain::quantity::{Cells, Microlitres};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "vials")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub lot_id: Uuid,
    #[sea_orm(unique)]
    pub code: VialCode,
    pub din: String,
    pub status: VialStatus,
    pub cells_per_vial: Cells,
    pub volume_ul: Microlitres,
    pub frozen_at: DateTimeUtc,
    pub box_id: Option<Uuid>,
    pub position: Option<String>,
    pub labels_issued: i32,
    pub created_at: DateTimeUtc,
    /// Where it was before its latest move.
    pub previous_box_id: Option<Uuid>,
    pub previous_position: Option<String>,
    /// The site holding it: its lot's, until a shipment takes it elsewhere.
    pub site_id: Uuid,
    /// The shipment it is packed into, from the packing scan until it is
    /// received (or found missing).
    pub shipment_id: Option<Uuid>,
    /// While `on_hold`: the status it had, given back when released.
    pub held_from: Option<VialStatus>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::lot::Entity",
        from = "Column::LotId",
        to = "super::lot::Column::Id"
    )]
    Lot,
}

impl Related<super::lot::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Lot.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
