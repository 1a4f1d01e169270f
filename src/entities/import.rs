//! A bank file being (or brought) in: `services::imports`.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "imports")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub file_sha256: String,
    pub file_name: Option<String>,
    /// An uploaded file awaiting acceptance (the command line reads its
    /// file again instead).
    #[sea_orm(column_type = "Text", nullable)]
    pub content: Option<String>,
    /// `pending`, `running` or `finished`.
    pub status: String,
    pub site_id: Uuid,
    pub release_lots: bool,
    pub chunk_vials: i32,
    pub chunks_total: i32,
    pub chunks_done: i32,
    pub rows_total: i32,
    pub rows_done: i32,
    /// What was created, as JSON (`services::imports::Summary`).
    #[sea_orm(column_type = "Text")]
    pub summary: String,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
    pub accepted_by: Option<Uuid>,
    pub signature_id: Option<Uuid>,
    pub started_at: Option<DateTimeUtc>,
    pub finished_at: Option<DateTimeUtc>,
    /// Why the last run stopped before the end, until it is resumed.
    #[sea_orm(column_type = "Text", nullable)]
    pub stopped: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
