use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "dose_vials")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub dose_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub vial_id: Uuid,
    pub reserved_at: DateTimeUtc,
    /// Set when the vial left the dose (replaced after a failed count).
    pub removed_at: Option<DateTimeUtc>,
    pub removed_reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::dose::Entity",
        from = "Column::DoseId",
        to = "super::dose::Column::Id"
    )]
    Dose,
}

impl Related<super::dose::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Dose.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
