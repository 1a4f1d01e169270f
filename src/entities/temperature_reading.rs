use sea_orm::entity::prelude::*;

/// What a reading (or a hold) is about: a storage unit (a tank, a freezer,
/// a rack or box in them) or a shipment's shipper.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum SourceKind {
    #[sea_orm(string_value = "unit")]
    Unit,
    #[sea_orm(string_value = "shipment")]
    Shipment,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Unit => "unit",
            SourceKind::Shipment => "shipment",
        }
    }
}

/// One temperature of one source at one instant, kept once (the primary
/// key): a reading sent again is not a second reading.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "temperature_readings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub source_kind: SourceKind,
    #[sea_orm(primary_key, auto_increment = false)]
    pub source_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub at: DateTimeUtc,
    /// Hundredths of a degree Celsius.
    pub centi_celsius: i32,
    /// The account that sent it.
    pub sent_by: Option<Uuid>,
    /// How it came: `api`, `csv`, `csv:hoboware 20512345`.
    pub sent_via: String,
    pub recorded_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
