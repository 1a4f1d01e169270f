use sea_orm::entity::prelude::*;

/// The last Chain of Identity sequence number issued per facility and
/// year (`domain::coi`); one upsert takes the next.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "coi_sequences")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub facility_code: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub coi_year: i32,
    pub last_sequence: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
