//! Storage units: tanks, racks and boxes, and what is in them.
//!
//! Units are created and never edited (there is no rename or move), so each
//! unit and its path are cached once read: storing a vial then costs no
//! query for its box. Should units ever become editable, this cache must be
//! invalidated on edit.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde_json::json;
use uuid::Uuid;

use crate::domain::storage::{StorageKind, check_new_unit, location_path};
use crate::entities::{lot, storage_unit, vial};
use crate::error::{AppError, AppResult};
use crate::services::Actor;
use crate::services::ledger::{self, NewEvent};
use crate::services::lists::SiteScope;
use crate::services::{sites, store};
use crate::state::AppState;
pub use crate::state::storage::{StorageCache, Unit};

/// A new unit as asked for.
#[derive(Debug, Clone)]
pub struct NewUnit<'a> {
    pub name: &'a str,
    pub kind: StorageKind,
    pub parent_id: Option<Uuid>,
    pub rows: Option<i32>,
    pub cols: Option<i32>,
    /// For a tank: the site it is at (by default the creator's only one);
    /// a rack or box is at its parent's.
    pub site_id: Option<Uuid>,
}

pub async fn create(state: &AppState, actor: &Actor, new: NewUnit<'_>) -> AppResult<Arc<Unit>> {
    let name = crate::domain::storage::unit_name(new.name)?;
    let parent = match new.parent_id {
        Some(id) => Some(unit(state, id).await?),
        None => None,
    };
    check_new_unit(
        new.kind,
        parent.as_ref().map(|p| p.kind),
        new.rows,
        new.cols,
    )?;
    let site_id = match &parent {
        Some(parent) => {
            if new.site_id.is_some_and(|asked| asked != parent.site_id) {
                return Err(AppError::invalid(
                    "site_id",
                    "a rack or box is at the site of the unit it goes into",
                ));
            }
            sites::check_works_at(state, actor, parent.site_id).await?;
            parent.site_id
        }
        None => sites::for_new_record(state, actor, new.site_id).await?,
    };

    let now = state.clock.now();
    let id = Uuid::now_v7();
    let txn = state.db.write().await?;
    let mut siblings = storage_unit::Entity::find().filter(storage_unit::Column::Name.eq(name));
    siblings = match new.parent_id {
        Some(parent_id) => siblings.filter(storage_unit::Column::ParentId.eq(parent_id)),
        None => siblings.filter(storage_unit::Column::ParentId.is_null()),
    };
    if siblings.one(&txn).await?.is_some() {
        return Err(AppError::StorageNameTaken(name.to_owned()));
    }
    // The lookup answers the common case in words; the unique index
    // answers the race (two instances creating the same name at once).
    let inserted = storage_unit::Entity::insert(storage_unit::ActiveModel {
        id: Set(id),
        name: Set(name.to_owned()),
        kind: Set(new.kind),
        parent_id: Set(new.parent_id),
        rows: Set(new.rows),
        cols: Set(new.cols),
        created_at: Set(now),
        site_id: Set(site_id),
    })
    .exec_without_returning(&txn)
    .await;
    if let Err(error) = inserted {
        return Err(match error.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => {
                AppError::StorageNameTaken(name.to_owned())
            }
            _ => error.into(),
        });
    }
    let path = location_path(parent.iter().map(|p| p.path.as_str()).chain([name]), None);
    ledger::append(
        &txn,
        actor,
        now,
        NewEvent::new("storage.created", "storage", id).details(json!({
            "name": name,
            "kind": new.kind,
            "parent_id": new.parent_id,
            "rows": new.rows,
            "cols": new.cols,
            "path": path,
            "site_id": site_id,
        })),
    )
    .await?;
    txn.commit().await?;
    Ok(state.storage.put(Unit {
        id,
        name: name.to_owned(),
        kind: new.kind,
        parent_id: new.parent_id,
        rows: new.rows.and_then(|r| u8::try_from(r).ok()),
        cols: new.cols.and_then(|c| u8::try_from(c).ok()),
        path,
        created_at: now,
        site_id,
    }))
}

/// A unit with its path; from the cache when it has been read before.
pub async fn unit(state: &AppState, id: Uuid) -> AppResult<Arc<Unit>> {
    if let Some(unit) = state.storage.get(id) {
        return Ok(unit);
    }
    let model = store::find_or_404::<storage_unit::Entity>(state.db.conn(), id).await?;
    let parent_path = match model.parent_id {
        // At most two levels up (box › rack › tank), each cached after.
        Some(parent_id) => Some(Box::pin(unit(state, parent_id)).await?.path.clone()),
        None => None,
    };
    let path = location_path(
        parent_path
            .as_deref()
            .into_iter()
            .chain([model.name.as_str()]),
        None,
    );
    let kind = model.kind;
    Ok(state.storage.put(Unit {
        id: model.id,
        name: model.name,
        kind,
        parent_id: model.parent_id,
        rows: model.rows.and_then(|r| u8::try_from(r).ok()),
        cols: model.cols.and_then(|c| u8::try_from(c).ok()),
        path,
        created_at: model.created_at,
        site_id: model.site_id,
    }))
}

/// A unit with what is directly inside it.
pub struct Contents {
    pub unit: Arc<Unit>,
    pub children: Vec<Arc<Unit>>,
    /// For a box: its vials, by position.
    pub vials: Vec<vial::Model>,
    /// For a box: the expiry of each of its vials' lots, by lot id.
    pub lot_expiry: HashMap<Uuid, DateTime<Utc>>,
}

pub async fn contents(state: &AppState, id: Uuid) -> AppResult<Contents> {
    let unit = unit(state, id).await?;
    let mut children = Vec::new();
    let mut vials = Vec::new();
    let mut lot_expiry = HashMap::new();
    if unit.kind == StorageKind::Box {
        vials = vial::Entity::find()
            .filter(vial::Column::BoxId.eq(id))
            .all(state.db.conn())
            .await?;
        vials.sort_by_key(|v| position_order(v.position.as_deref()));
        lot_expiry = store::by_ids::<lot::Entity>(state.db.conn(), vials.iter().map(|v| v.lot_id))
            .await?
            .into_iter()
            .map(|(id, lot)| (id, lot.expires_at))
            .collect();
    } else {
        let ids: Vec<Uuid> = storage_unit::Entity::find()
            .filter(storage_unit::Column::ParentId.eq(id))
            .order_by_asc(storage_unit::Column::Name)
            .all(state.db.conn())
            .await?
            .into_iter()
            .map(|m| m.id)
            .collect();
        for child in ids {
            children.push(self::unit(state, child).await?);
        }
    }
    Ok(Contents {
        unit,
        children,
        vials,
        lot_expiry,
    })
}

/// Every unit at every site, tanks first then by path.
pub async fn list(state: &AppState) -> AppResult<Vec<Arc<Unit>>> {
    list_at(state, &SiteScope::Everywhere).await
}

/// The units at the sites asked for (the storage list: an account's
/// own sites), by path.
pub async fn list_at(state: &AppState, sites: &SiteScope) -> AppResult<Vec<Arc<Unit>>> {
    let mut select = storage_unit::Entity::find();
    if let SiteScope::Only(ids) = sites {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        select = select.filter(storage_unit::Column::SiteId.is_in(ids.iter().copied()));
    }
    let ids: Vec<Uuid> = select
        .all(state.db.conn())
        .await?
        .into_iter()
        .map(|m| m.id)
        .collect();
    let mut units = Vec::with_capacity(ids.len());
    for id in ids {
        units.push(unit(state, id).await?);
    }
    units.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(units)
}

/// Sorts positions row by row: A1, A2, …, A10, B1.
fn position_order(position: Option<&str>) -> (u8, u8) {
    let Some(position) = position else {
        return (u8::MAX, u8::MAX);
    };
    let row = position.bytes().next().unwrap_or(b'Z');
    let col = position[1..].parse().unwrap_or(u8::MAX);
    (row, col)
}
