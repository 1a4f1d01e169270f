//! The shapes every service's reads and writes take, written once: a record
//! by id or a 404 naming its kind, records by a set of ids in one query, and
//! a guarded status change that returns the changed row or a 409.

use std::collections::HashMap;

use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PrimaryKeyTrait, QueryFilter, UpdateMany, Value,
};
use uuid::Uuid;

use crate::entities::{
    donation, donor, dose, infusion, lot, patient, qc_result, screening_result, shipment,
    shipping_container, site, storage_unit, user, vial, weight,
};
use crate::error::{AppError, AppResult};

/// A table whose rows have a UUID id and that the API names, by kind, in
/// its 404 and 409 answers.
pub trait Record: EntityTrait<PrimaryKey: PrimaryKeyTrait<ValueType = Uuid>> {
    /// How an answer names a row of this table: "lot", "storage unit".
    const KIND: &'static str;

    fn id_column() -> Self::Column;

    fn id_of(model: &Self::Model) -> Uuid;
}

macro_rules! record {
    ($($module:ident => $kind:literal),+ $(,)?) => {$(
        impl Record for $module::Entity {
            const KIND: &'static str = $kind;

            fn id_column() -> Self::Column {
                $module::Column::Id
            }

            fn id_of(model: &Self::Model) -> Uuid {
                model.id
            }
        }
    )+};
}

record!(
    donor => "donor",
    donation => "donation",
    lot => "lot",
    qc_result => "QC result",
    screening_result => "screening result",
    vial => "vial",
    storage_unit => "storage unit",
    patient => "patient",
    weight => "weight",
    dose => "dose",
    infusion => "infusion",
    user => "user",
    site => "site",
    shipment => "shipment",
    shipping_container => "shipping container",
);

/// The row with this id, or `404 not_found` naming its kind.
pub async fn find_or_404<E: Record>(db: &impl ConnectionTrait, id: Uuid) -> AppResult<E::Model> {
    E::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found(E::KIND, id))
}

/// The rows with these ids, by id, in one query (absent ids are absent).
pub async fn by_ids<E: Record>(
    db: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = Uuid>,
) -> AppResult<HashMap<Uuid, E::Model>> {
    let mut ids: Vec<Uuid> = ids.into_iter().collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(E::find()
        .filter(E::id_column().is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|model| (E::id_of(&model), model))
        .collect())
}

/// Moves one row from the status `from` to `to` (with any other columns
/// `also` sets) only if it is still in `from`, and returns the row as
/// changed. Two requests racing for the same row: one changes it, the other
/// gets `409 concurrent_change`.
pub async fn transition<E, S>(
    txn: &impl ConnectionTrait,
    id: Uuid,
    status: E::Column,
    from: S,
    to: S,
    also: impl FnOnce(UpdateMany<E>) -> UpdateMany<E>,
) -> AppResult<E::Model>
where
    E: Record,
    S: Into<Value>,
{
    let update = E::update_many()
        .col_expr(status, Expr::value(to))
        .filter(status.eq(from));
    guarded_update(txn, id, also(update)).await
}

/// The row with this id updated by `update`, whose filters are the guard
/// (the state the change was judged on), returned as changed; `409
/// concurrent_change` when the guard no longer holds.
pub async fn guarded_update<E: Record>(
    txn: &impl ConnectionTrait,
    id: Uuid,
    update: UpdateMany<E>,
) -> AppResult<E::Model> {
    update
        .filter(E::id_column().eq(id))
        .exec_with_returning(txn)
        .await?
        .into_iter()
        .next()
        .ok_or(AppError::ConcurrentChange { kind: E::KIND, id })
}
