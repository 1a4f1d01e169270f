use crate::domain::codes::DoseCode;
use crate::domain::lifecycle::DoseStatus;
use crate::domain::quantity::{Cells, CellsPerKg, Grams, Microlitres};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "doses")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub code: DoseCode,
    pub patient_id: Uuid,
    pub infusion_number: i32,
    pub protocol_version: i32,
    pub weight_id: Uuid,
    pub weight_g: Grams,
    pub dose_per_kg: CellsPerKg,
    pub target_cells: Cells,
    pub min_cells: Cells,
    pub max_cells: Cells,
    pub lot_id: Uuid,
    pub cells_per_vial: Cells,
    pub vials_needed: i32,
    pub status: DoseStatus,
    pub thawed_at: Option<DateTimeUtc>,
    pub concentration_cells_per_ml: Option<i64>,
    pub available_ul: Option<Microlitres>,
    pub volume_ul: Option<Microlitres>,
    pub cells_to_administer: Option<Cells>,
    pub verified_at: Option<DateTimeUtc>,
    pub verified_by: Option<Uuid>,
    pub cancelled_at: Option<DateTimeUtc>,
    pub cancel_reason: Option<String>,
    pub created_at: DateTimeUtc,
    pub created_by: Option<Uuid>,
    /// Why the counts failed, for a dose that is `count_failed`.
    pub count_failure: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::patient::Entity",
        from = "Column::PatientId",
        to = "super::patient::Column::Id"
    )]
    Patient,
}

impl Related<super::patient::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Patient.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
