//! The domain's enums, codes and quantities as column types, so an entity carries a
//! `VialStatus` rather than a `String` to parse back.
//!
//! These are the impls sea-orm's `DeriveValueType` would derive (an enum
//! stored as its text, a newtype stored as its inner value). They are written
//! here, once, because `src/domain/` holds no sea-orm. The stored text is
//! each enum's `as_str()`, the same strings the tables already hold: no data
//! migration.

/// An enum stored as its `as_str()` text, read back through `FromStr`. A
/// stored text no variant names is a corrupt row: a database error, never a
/// guess.
macro_rules! text_enum_column {
    ($($ty:ty),+ $(,)?) => {$(
        impl From<$ty> for sea_orm::Value {
            fn from(value: $ty) -> Self {
                sea_orm::Value::String(Some(value.as_str().to_owned()))
            }
        }

        impl sea_orm::TryGetable for $ty {
            fn try_get_by<I: sea_orm::ColIdx>(
                res: &sea_orm::QueryResult,
                idx: I,
            ) -> Result<Self, sea_orm::TryGetError> {
                let text = String::try_get_by(res, idx)?;
                text.parse().map_err(|_| {
                    sea_orm::TryGetError::DbErr(sea_orm::DbErr::Type(format!(
                        "{text:?} is not a {}",
                        stringify!($ty)
                    )))
                })
            }
        }

        impl sea_orm::sea_query::ValueType for $ty {
            fn try_from(value: sea_orm::Value) -> Result<Self, sea_orm::sea_query::ValueTypeErr> {
                let text = <String as sea_orm::sea_query::ValueType>::try_from(value)?;
                text.parse().map_err(|_| sea_orm::sea_query::ValueTypeErr)
            }

            fn type_name() -> String {
                stringify!($ty).to_owned()
            }

            fn array_type() -> sea_orm::sea_query::ArrayType {
                sea_orm::sea_query::ArrayType::String
            }

            fn column_type() -> sea_orm::sea_query::ColumnType {
                sea_orm::sea_query::ColumnType::String(sea_orm::sea_query::StringLen::None)
            }
        }

        impl sea_orm::sea_query::Nullable for $ty {
            fn null() -> sea_orm::Value {
                sea_orm::Value::String(None)
            }
        }

        impl sea_orm::IntoActiveValue<$ty> for $ty {
            fn into_active_value(self) -> sea_orm::ActiveValue<$ty> {
                sea_orm::ActiveValue::Set(self)
            }
        }
    )+};
}

/// A domain code stored as its text. Only a checked code is ever written,
/// so one read back is taken as it is (`from_stored`).
macro_rules! code_column {
    ($($ty:ty),+ $(,)?) => {$(
        impl From<$ty> for sea_orm::Value {
            fn from(code: $ty) -> Self {
                sea_orm::Value::String(Some(code.into_inner()))
            }
        }

        impl sea_orm::TryGetable for $ty {
            fn try_get_by<I: sea_orm::ColIdx>(
                res: &sea_orm::QueryResult,
                idx: I,
            ) -> Result<Self, sea_orm::TryGetError> {
                String::try_get_by(res, idx).map(<$ty>::from_stored)
            }
        }

        impl sea_orm::sea_query::ValueType for $ty {
            fn try_from(value: sea_orm::Value) -> Result<Self, sea_orm::sea_query::ValueTypeErr> {
                <String as sea_orm::sea_query::ValueType>::try_from(value).map(<$ty>::from_stored)
            }

            fn type_name() -> String {
                stringify!($ty).to_owned()
            }

            fn array_type() -> sea_orm::sea_query::ArrayType {
                sea_orm::sea_query::ArrayType::String
            }

            fn column_type() -> sea_orm::sea_query::ColumnType {
                sea_orm::sea_query::ColumnType::String(sea_orm::sea_query::StringLen::None)
            }
        }

        impl sea_orm::sea_query::Nullable for $ty {
            fn null() -> sea_orm::Value {
                sea_orm::Value::String(None)
            }
        }

        impl sea_orm::IntoActiveValue<$ty> for $ty {
            fn into_active_value(self) -> sea_orm::ActiveValue<$ty> {
                sea_orm::ActiveValue::Set(self)
            }
        }
    )+};
}

/// A domain quantity stored as its integer (`BIGINT`), read back through
/// its `parse`. A stored value outside the quantity's range is a corrupt
/// row: a database error, never a guess.
macro_rules! quantity_column {
    ($($ty:ty),+ $(,)?) => {$(
        impl From<$ty> for sea_orm::Value {
            fn from(quantity: $ty) -> Self {
                sea_orm::Value::BigInt(Some(quantity.get()))
            }
        }

        impl sea_orm::TryGetable for $ty {
            fn try_get_by<I: sea_orm::ColIdx>(
                res: &sea_orm::QueryResult,
                idx: I,
            ) -> Result<Self, sea_orm::TryGetError> {
                let stored = i64::try_get_by(res, idx)?;
                <$ty>::parse(stored).map_err(|e| {
                    sea_orm::TryGetError::DbErr(sea_orm::DbErr::Type(e.to_string()))
                })
            }
        }

        impl sea_orm::sea_query::ValueType for $ty {
            fn try_from(value: sea_orm::Value) -> Result<Self, sea_orm::sea_query::ValueTypeErr> {
                let stored = <i64 as sea_orm::sea_query::ValueType>::try_from(value)?;
                <$ty>::parse(stored).map_err(|_| sea_orm::sea_query::ValueTypeErr)
            }

            fn type_name() -> String {
                stringify!($ty).to_owned()
            }

            fn array_type() -> sea_orm::sea_query::ArrayType {
                sea_orm::sea_query::ArrayType::BigInt
            }

            fn column_type() -> sea_orm::sea_query::ColumnType {
                sea_orm::sea_query::ColumnType::BigInteger
            }
        }

        impl sea_orm::sea_query::Nullable for $ty {
            fn null() -> sea_orm::Value {
                sea_orm::Value::BigInt(None)
            }
        }

        impl sea_orm::IntoActiveValue<$ty> for $ty {
            fn into_active_value(self) -> sea_orm::ActiveValue<$ty> {
                sea_orm::ActiveValue::Set(self)
            }
        }
    )+};
}

use crate::domain::accounts::Role;
use crate::domain::assessment::AssessmentKind;
use crate::domain::codes::{DoseCode, SubjectCode, VialCode};
use crate::domain::donor::{Eligibility, ScreeningOutcome, ScreeningTest, Specimen};
use crate::domain::dose::WeightUnit;
use crate::domain::lifecycle::{DoseStatus, InfusionStatus, LotStatus, VialStatus};
use crate::domain::patient::Sex;
use crate::domain::quantity::{Cells, CellsPerKg, Grams, Microlitres};
use crate::domain::shipment::{DiscrepancyKind, HandoverKind, ShipmentStatus};
use crate::domain::site::SiteKind;
use crate::domain::storage::StorageKind;

text_enum_column!(
    Role,
    AssessmentKind,
    Eligibility,
    ScreeningOutcome,
    ScreeningTest,
    Specimen,
    WeightUnit,
    DoseStatus,
    InfusionStatus,
    LotStatus,
    VialStatus,
    Sex,
    StorageKind,
    SiteKind,
    ShipmentStatus,
    HandoverKind,
    DiscrepancyKind,
);

code_column!(VialCode, SubjectCode, DoseCode);

quantity_column!(Grams, Cells, Microlitres, CellsPerKg);
