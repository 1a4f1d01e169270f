use crate::domain::lifecycle::InfusionStatus;
use crate::domain::quantity::Microlitres;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "infusions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub dose_id: Uuid,
    pub patient_id: Uuid,
    pub infusion_number: i32,
    pub status: InfusionStatus,
    pub started_at: DateTimeUtc,
    pub ended_at: Option<DateTimeUtc>,
    pub volume_infused_ul: Option<Microlitres>,
    pub patient_scan: String,
    pub product_scan: String,
    pub created_at: DateTimeUtc,
    pub created_by: Option<Uuid>,
    pub completed_at: Option<DateTimeUtc>,
    pub completed_by: Option<Uuid>,
    /// Recorded after the fact (an outage), signed, with the reason.
    pub late_entry: bool,
    pub late_reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
