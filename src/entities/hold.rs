use sea_orm::entity::prelude::*;

pub use super::temperature_reading::SourceKind;

/// Open while a vial of the hold awaits quality's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum HoldStatus {
    #[sea_orm(string_value = "open")]
    Open,
    #[sea_orm(string_value = "decided")]
    Decided,
}

impl HoldStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            HoldStatus::Open => "open",
            HoldStatus::Decided => "decided",
        }
    }
}

/// What quality decided for a vial (or, when all agree, the hold).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum Decision {
    #[sea_orm(string_value = "released")]
    Released,
    #[sea_orm(string_value = "discarded")]
    Discarded,
    /// A hold whose vials were decided differently.
    #[sea_orm(string_value = "mixed")]
    Mixed,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Released => "released",
            Decision::Discarded => "discarded",
            Decision::Mixed => "mixed",
        }
    }
}

/// A hold: an excursion of a source and the vials it stopped.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "holds")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `excursion`.
    pub cause: String,
    pub source_kind: SourceKind,
    pub source_id: Uuid,
    pub site_id: Uuid,
    pub excursion_start: DateTimeUtc,
    pub excursion_end: DateTimeUtc,
    pub back_within_limit: bool,
    pub peak_centi_celsius: i32,
    pub peak_at: DateTimeUtc,
    pub limit_centi_celsius: i32,
    pub allowed_minutes: i32,
    pub vial_count: i32,
    pub status: HoldStatus,
    pub created_at: DateTimeUtc,
    pub decided_at: Option<DateTimeUtc>,
    pub decided_by: Option<Uuid>,
    pub decision: Option<Decision>,
    pub reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
