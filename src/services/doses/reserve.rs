//! Writing a reservation: whole vials of one lot picked and reserved in one
//! statement (never a vial to two doses), and the dose inserted with them.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, FromQueryResult, IdenStatic,
    IntoActiveModel, Iterable, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Set, Statement,
};
use uuid::Uuid;

use crate::db::WriteTxn;
use crate::domain::lifecycle::VialStatus;
use crate::entities::{dose, dose_vial, vial};
use crate::error::AppResult;
use crate::services::vials;

/// The dose and the vials it holds: two INSERTs on SQLite, one statement
/// on PostgreSQL.
pub(super) async fn insert_dose(
    txn: &WriteTxn,
    model: &dose::Model,
    vials: &[vial::Model],
    now: DateTime<Utc>,
) -> AppResult<()> {
    let backend = txn.get_database_backend();
    let dose = dose::Entity::insert(model.clone().into_active_model());
    let links = vials.iter().map(|v| dose_vial::ActiveModel {
        dose_id: Set(model.id),
        vial_id: Set(v.id),
        reserved_at: Set(now),
        removed_at: Set(None),
        removed_reason: Set(None),
    });
    if backend != DbBackend::Postgres {
        dose.exec_without_returning(txn).await?;
        dose_vial::Entity::insert_many(links)
            .exec_without_returning(txn)
            .await?;
        return Ok(());
    }
    let first = dose.build(backend);
    let second = dose_vial::Entity::insert_many(links).build(backend);
    // the second statement's placeholders follow the first's
    let offset = first.values.as_ref().map_or(0, |v| v.0.len());
    let renumbered = renumber(&second.sql, offset);
    let mut values = first.values.map(|v| v.0).unwrap_or_default();
    values.extend(second.values.map(|v| v.0).unwrap_or_default());
    txn.execute_raw(Statement::from_sql_and_values(
        backend,
        format!("WITH dose AS ({} RETURNING id) {renumbered}", first.sql),
        values,
    ))
    .await?;
    Ok(())
}

/// `$n` → `$(n + offset)` in a statement sea-query built (its only `$`s
/// are placeholders: values are never inlined).
fn renumber(sql: &str, offset: usize) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '$' {
            let mut digits = String::new();
            while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                digits.push(*d);
                chars.next();
            }
            match digits.parse::<usize>() {
                Ok(n) => out.push_str(&(n + offset).to_string()),
                Err(_) => out.push_str(&digits),
            }
        }
    }
    out
}

pub(super) enum Reserve {
    Done(Vec<vial::Model>),
    /// Not enough: how many were available.
    Short(i64),
}

/// Reserves `count` available vials of the lot, first by code, in one
/// statement: an UPDATE of the vials a sub-select picks (on PostgreSQL
/// `FOR UPDATE SKIP LOCKED`, so concurrent orders take disjoint vials),
/// still `available` when updated. Fewer than `count` (a concurrent order
/// took them): the few are given back and the lot is short. Only vials
/// held at `site_id` (the patient's site) are taken.
pub(super) async fn reserve(
    txn: &WriteTxn,
    lot_id: Uuid,
    site_id: Uuid,
    count: i64,
) -> AppResult<Reserve> {
    let backend = txn.get_database_backend();
    let mut vials = if backend == DbBackend::Postgres {
        // A CTE, run once: as `IN (sub-select)` PostgreSQL may run the
        // sub-select again for each row, and `SKIP LOCKED` then skips the
        // rows this statement just updated and picks further vials.
        let rows = txn
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                format!(
                    "WITH picked AS (SELECT id FROM vials WHERE lot_id = $1 AND status = $2 \
                     AND site_id = $5 ORDER BY code LIMIT $3 FOR UPDATE SKIP LOCKED) \
                     UPDATE vials SET status = $4 FROM picked \
                     WHERE vials.id = picked.id AND vials.status = $2 RETURNING {}",
                    vial::Column::iter()
                        .map(|c| format!("vials.{}", c.as_str()))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                [
                    lot_id.into(),
                    VialStatus::Available.as_str().into(),
                    count.into(),
                    VialStatus::Reserved.as_str().into(),
                    site_id.into(),
                ],
            ))
            .await?;
        rows.iter()
            .map(|row| vial::Model::from_query_result(row, ""))
            .collect::<Result<Vec<_>, _>>()?
    } else {
        let pick = vial::Entity::find()
            .select_only()
            .column(vial::Column::Id)
            .filter(vial::Column::LotId.eq(lot_id))
            .filter(vial::Column::Status.eq(VialStatus::Available.as_str()))
            .filter(vial::Column::SiteId.eq(site_id))
            .order_by_asc(vial::Column::Code)
            .limit(u64::try_from(count).unwrap_or(0));
        vial::Entity::update_many()
            .col_expr(
                vial::Column::Status,
                Expr::value(VialStatus::Reserved.as_str()),
            )
            // Only the ids: with the status tested again here too, SQLite
            // walked every available vial of every lot by the status
            // index to find the few picked (most of an order's time on a
            // 16,000-vial bank). One writer at a time: the picked vials
            // are still available when this same statement updates them.
            .filter(vial::Column::Id.in_subquery(pick.into_query()))
            .exec_with_returning(txn)
            .await?
    };
    if (vials.len() as i64) < count {
        let ids: Vec<Uuid> = vials.iter().map(|v| v.id).collect();
        vials::transition_all(
            txn,
            &ids,
            &[VialStatus::Reserved],
            VialStatus::Available,
            false,
            ("lot", lot_id),
        )
        .await?;
        return Ok(Reserve::Short(vials.len() as i64));
    }
    vials.sort_by(|a, b| a.code.cmp(&b.code));
    Ok(Reserve::Done(vials))
}
