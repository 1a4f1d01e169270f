use sea_orm::entity::prelude::*;
use sea_orm::sea_query::{Expr as QueryExpr, Query};

/// One row of an adverse event. A correction is a new row with the full
/// corrected values and `corrects_id`, the row it supersedes (which stays
/// as it was); the event's current values are its newest row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "adverse_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub infusion_id: Uuid,
    pub patient_id: Uuid,
    pub term: String,
    /// CTCAE grade, 1 to 5.
    pub grade: i32,
    pub onset_at: DateTimeUtc,
    pub recorded_at: DateTimeUtc,
    pub recorded_by: Option<Uuid>,
    /// The row this one corrects (unique: a row is superseded once).
    pub corrects_id: Option<Uuid>,
    /// Why, for a correction.
    pub correction_reason: Option<String>,
    /// The correction's signature.
    pub signature_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Rows no correction supersedes: each adverse event once, with its
/// current values. (`NOT IN` over a subquery holding a NULL is never true,
/// hence the rows that correct nothing are left out of it.)
pub fn current() -> QueryExpr {
    Column::Id.not_in_subquery(
        Query::select()
            .column(Column::CorrectsId)
            .from(Entity)
            .and_where(Column::CorrectsId.is_not_null())
            .to_owned(),
    )
}
