use crate::domain::lifecycle::LotStatus;
use crate::domain::quantity::{Cells, Microlitres};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "lots")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub donation_id: Uuid,
    #[sea_orm(unique)]
    pub code: String,
    pub din: String,
    pub product_code: String,
    pub passage: i32,
    pub manufactured_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub status: LotStatus,
    pub frozen_at: Option<DateTimeUtc>,
    pub cells_per_vial: Option<Cells>,
    pub volume_ul: Option<Microlitres>,
    pub vial_count: Option<i32>,
    pub created_at: DateTimeUtc,
    /// The site it belongs to (`domain::site`).
    pub site_id: Uuid,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
