use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "din_sequences")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub facility_code: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub din_year: i32,
    pub last_sequence: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
