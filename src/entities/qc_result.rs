use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "qc_results")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub lot_id: Uuid,
    pub test: String,
    pub value: String,
    pub unit: Option<String>,
    pub pass: bool,
    pub specification: String,
    pub recorded_at: DateTimeUtc,
    pub recorded_by: Uuid,
    /// Quality's signed investigation of a failing result: `invalid_test`
    /// or `confirmed`, with the reason.
    pub investigation: Option<String>,
    pub investigation_reason: Option<String>,
    pub investigated_at: Option<DateTimeUtc>,
    pub investigated_by: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
