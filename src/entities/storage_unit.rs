use crate::domain::storage::StorageKind;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "storage_units")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub kind: StorageKind,
    pub parent_id: Option<Uuid>,
    pub rows: Option<i32>,
    pub cols: Option<i32>,
    pub created_at: DateTimeUtc,
    /// The site it belongs to (`domain::site`).
    pub site_id: Uuid,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
