use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sign_in_failures")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub username: String,
    pub address: String,
    pub failed_at: DateTimeUtc,
    /// From then on it no longer slows sign-ins to the name.
    pub name_cleared_at: Option<DateTimeUtc>,
    /// From then on it no longer slows sign-ins from the address.
    pub address_cleared_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
