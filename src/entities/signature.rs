use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "signatures")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub signer_id: Uuid,
    pub signer_username: String,
    pub signer_full_name: String,
    pub meaning: String,
    pub signed_at: DateTimeUtc,
    pub action: String,
    pub subject_kind: String,
    pub subject_id: Uuid,
    #[sea_orm(unique)]
    pub event_seq: i64,
    pub event_hash: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
