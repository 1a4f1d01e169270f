use crate::domain::quantity::Microlitres;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "thaw_counts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub dose_id: Uuid,
    pub vial_id: Uuid,
    pub viable_cells_per_ml: i64,
    pub viability_tenths: i32,
    pub volume_ul: Microlitres,
    pub thawed_at: DateTimeUtc,
    pub recorded_at: DateTimeUtc,
    pub recorded_by: Option<Uuid>,
    /// Viable cells recovered ÷ cells frozen, in tenths of a percent.
    pub recovery_tenths: Option<i64>,
    /// Why the count fails (`viability_too_low`, `implausible_count`);
    /// `None` when it passes.
    pub failure: Option<String>,
    /// A person confirmed an implausible count, with the reason.
    pub confirmed: bool,
    pub confirm_reason: Option<String>,
    /// The count this signed correction replaces (both are kept).
    pub supersedes_id: Option<Uuid>,
    pub correction_reason: Option<String>,
    /// The viability as entered (the tenths are floored from it).
    pub viability_text: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
