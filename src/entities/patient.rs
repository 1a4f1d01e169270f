use crate::domain::codes::SubjectCode;
use crate::domain::dose::WeightUnit;
use crate::domain::patient::Sex;
use crate::domain::quantity::Grams;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "patients")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub subject_code: SubjectCode,
    pub birth_date: Date,
    pub sex: Sex,
    pub enrolled_at: DateTimeUtc,
    pub baseline_pasi_tenths: i32,
    /// The criteria answers as JSON.
    pub criteria: String,
    pub protocol_version: i32,
    pub created_at: DateTimeUtc,
    pub created_by: Option<Uuid>,
    /// The weight at enrolment, in grams and as entered.
    pub enrolment_weight_g: Option<Grams>,
    pub enrolment_weight_value: Option<String>,
    pub enrolment_weight_unit: Option<WeightUnit>,
    /// Height at enrolment, in millimetres.
    pub height_mm: Option<i32>,
    /// The site that enrolled the patient and gives the doses.
    pub site_id: Uuid,
    /// The ISBT 128 Chain of Identity identifier's 15 data characters
    /// (`CHA999926000001`, `domain::coi`): given at enrolment; `None` only
    /// for a patient enrolled before identifiers existed, until the service
    /// next starts and gives one.
    #[sea_orm(unique)]
    pub coi: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
