use crate::domain::assessment::AssessmentKind;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "assessments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub patient_id: Uuid,
    /// `pasi` or `dlqi`.
    pub kind: AssessmentKind,
    pub assessed_at: DateTimeUtc,
    /// PASI in tenths (0-720), DLQI in points (0-30).
    pub score: i32,
    /// The regions or answers as JSON.
    pub inputs: String,
    pub recorded_at: DateTimeUtc,
    pub recorded_by: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
