//! A signed correction of one typed field of a record (issue 16): never
//! updated or deleted; the record's column holds the corrected value.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "corrections")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `donor`, `donation`, `lot`, `vial`, `patient`, `assessment`, `qc_result`.
    pub subject_kind: String,
    pub subject_id: Uuid,
    /// As the API names it (`expires_at`, `answers[3]`).
    pub field: String,
    /// JSON text.
    #[sea_orm(column_type = "Text")]
    pub old_value: String,
    /// JSON text.
    #[sea_orm(column_type = "Text")]
    pub new_value: String,
    #[sea_orm(column_type = "Text")]
    pub reason: String,
    pub corrected_by: Uuid,
    pub corrected_at: DateTimeUtc,
    pub signature_id: Uuid,
    #[sea_orm(unique)]
    pub event_seq: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
