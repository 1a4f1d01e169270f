use sea_orm::entity::prelude::*;

use crate::domain::shipment::DiscrepancyKind;

/// Something scanned at receipt that was not on the packing list.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "shipment_discrepancies")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub shipment_id: Uuid,
    pub kind: DiscrepancyKind,
    /// The celltrail vial it is, if it is one.
    pub vial_id: Option<Uuid>,
    /// What the scanner read (or the person typed), as read.
    pub scanned: String,
    pub noted_by: Uuid,
    pub noted_at: DateTimeUtc,
    /// The receiver's reason, given when the receipt is signed.
    pub reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
