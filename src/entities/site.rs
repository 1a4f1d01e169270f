use sea_orm::entity::prelude::*;

use crate::domain::site::SiteKind;

/// A site: where cells are made, kept or given (`domain::site`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sites")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub name: String,
    pub kind: SiteKind,
    /// The ISBT 128 facility identification number.
    #[sea_orm(unique)]
    pub facility_code: String,
    /// IANA name of the zone the site's people read times in.
    pub time_zone: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
