//! The weight and height taken at enrolment: a patient's first weight is
//! compared with it, and the body-mass index needs the height. Both are
//! optional: patients enrolled before have neither.

use sea_orm_migration::{prelude::*, schema::*};

use crate::add_columns::{add_columns, drop_columns};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_columns(
            manager,
            "patients",
            vec![
                big_integer_null(Alias::new("enrolment_weight_g")),
                string_len_null(Alias::new("enrolment_weight_value"), 32),
                string_len_null(Alias::new("enrolment_weight_unit"), 4),
                integer_null(Alias::new("height_mm")),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_columns(
            manager,
            "patients",
            &[
                "height_mm",
                "enrolment_weight_unit",
                "enrolment_weight_value",
                "enrolment_weight_g",
            ],
        )
        .await
    }
}
