use crate::domain::donor::ScreeningOutcome;
use crate::domain::donor::ScreeningTest;
use crate::domain::donor::Specimen;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "screening_results")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub donor_id: Uuid,
    pub test: ScreeningTest,
    pub result: ScreeningOutcome,
    pub specimen: Specimen,
    pub tested_at: DateTimeUtc,
    pub recorded_at: DateTimeUtc,
    pub recorded_by: Uuid,
    /// Invalidated by quality (signed, with the reason): out of the rule.
    pub invalidated_at: Option<DateTimeUtc>,
    pub invalidated_by: Option<Uuid>,
    pub invalidation_reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
