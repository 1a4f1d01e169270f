//! Shipments (issue 15): vials leave one site in a shipping container and
//! are scanned into boxes at another. Every act is one custody event in
//! the same transaction as its change, and every change is a conditional
//! UPDATE naming the state it expects, so two people acting on one vial or
//! one shipment at once cannot both win.
//!
//! - `mod` (here): shipping containers, creating a shipment, reading one,
//!   the hand-overs on the way.
//! - `packing`: scanning vials (or a whole box) in, taking them out,
//!   sealing under signature, cancelling.
//! - `receipt`: scanning vials into boxes at the receiving site, and the
//!   signed receipt that closes the shipment.

pub mod documents;
mod packing;
mod receipt;

use std::collections::HashMap;

use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, SqlErr,
};
use serde_json::json;
use uuid::Uuid;

pub use packing::{Packed, cancel, pack, seal, unpack};
pub use receipt::{ReasonFor, ReceiptScan, ReceiptScanOutcome, close, scan_in};

use crate::db::WriteTxn;
use crate::domain::accounts::Role;
use crate::domain::shipment::{
    HandoverKind, ShipmentAction, ShipmentStatus, container_code, party, shipment_code,
    shipment_transition,
};
use crate::entities::{
    din_sequence, shipment, shipment_discrepancy, shipment_handover, shipment_item,
    shipping_container, site, vial,
};
use crate::error::{AppError, AppResult};
use crate::services::Actor;
use crate::services::ledger::{self, NewEvent};
use crate::services::{sites, store};
use crate::state::AppState;

/// The key shipment numbers are counted under in `din_sequences` (not a
/// facility code: those are a letter and four characters).
const SEQUENCE_KEY: &str = "SH";

/// A shipment as its pages and the API show it.
#[derive(Debug, Clone)]
pub struct ShipmentRecord {
    pub shipment: shipment::Model,
    pub from_site: site::Model,
    pub to_site: site::Model,
    pub container: shipping_container::Model,
    /// Its vials by code: packed (before the seal) or on the packing list.
    pub items: Vec<Item>,
    pub handovers: Vec<shipment_handover::Model>,
    pub discrepancies: Vec<shipment_discrepancy::Model>,
}

/// A vial of a shipment and, once sealed, its line on the packing list.
#[derive(Debug, Clone)]
pub struct Item {
    pub vial: vial::Model,
    pub line: Option<shipment_item::Model>,
}

/// Adds a shipping container (lab): a dry shipper with its code written on
/// it, at a site of the person adding it.
pub async fn add_container(
    state: &AppState,
    actor: &Actor,
    code: &str,
    site_id: Option<Uuid>,
) -> AppResult<shipping_container::Model> {
    let code = container_code(code)?;
    let site_id = sites::for_new_record(state, actor, site_id).await?;
    let now = state.clock.now();
    let model = shipping_container::Model {
        id: Uuid::now_v7(),
        code,
        site_id,
        labels_issued: 0,
        created_at: now,
    };
    let txn = state.db.write().await?;
    let inserted = shipping_container::Entity::insert(shipping_container::ActiveModel {
        id: Set(model.id),
        code: Set(model.code.clone()),
        site_id: Set(site_id),
        labels_issued: Set(0),
        created_at: Set(now),
    })
    .exec_without_returning(&txn)
    .await;
    if let Err(error) = inserted {
        return Err(match error.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => AppError::invalid(
                "code",
                format!("{} is already the code of a shipping container", model.code),
            ),
            _ => error.into(),
        });
    }
    ledger::append(
        &txn,
        actor,
        now,
        NewEvent::new("container.created", "shipping_container", model.id)
            .details(json!({ "code": model.code, "site_id": site_id })),
    )
    .await?;
    txn.commit().await?;
    Ok(model)
}

/// Every shipping container at these sites (all of them for `None`), by code.
pub async fn containers(
    state: &AppState,
    sites: Option<&[Uuid]>,
) -> AppResult<Vec<shipping_container::Model>> {
    let mut select = shipping_container::Entity::find();
    if let Some(ids) = sites {
        select = select.filter(shipping_container::Column::SiteId.is_in(ids.iter().copied()));
    }
    Ok(select
        .order_by_asc(shipping_container::Column::Code)
        .all(state.db.conn())
        .await?)
}

pub async fn container(state: &AppState, id: Uuid) -> AppResult<shipping_container::Model> {
    store::find_or_404::<shipping_container::Entity>(state.db.conn(), id).await
}

/// A container by its id or its code (as typed or read from its label).
pub async fn container_by_code(
    state: &AppState,
    code: &str,
) -> AppResult<shipping_container::Model> {
    let code = container_code(code)?;
    shipping_container::Entity::find()
        .filter(shipping_container::Column::Code.eq(code.as_str()))
        .one(state.db.conn())
        .await?
        .ok_or(AppError::UnknownCode {
            kind: "shipping container",
            code,
        })
}

/// Starts a shipment (lab) from a site the person works at to another,
/// in a container at the sending site that no unreceived shipment uses.
pub async fn create(
    state: &AppState,
    actor: &Actor,
    from: Option<Uuid>,
    to: Uuid,
    container_id: Uuid,
) -> AppResult<ShipmentRecord> {
    let from = sites::for_new_record(state, actor, from).await?;
    let to_site = sites::get(state, to).await?;
    if to == from {
        return Err(AppError::invalid(
            "to_site_id",
            "a shipment goes to another site than the one it leaves",
        ));
    }
    let now = state.clock.now();
    let txn = state.db.write().await?;
    // the container's row, locked (PostgreSQL) while its use is checked:
    // two shipments created at once for one shipper, one gets it
    let mut find = shipping_container::Entity::find_by_id(container_id);
    if txn.get_database_backend() == DbBackend::Postgres {
        find = find.lock_exclusive();
    }
    let container = find
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("shipping container", container_id))?;
    if container.site_id != from {
        return Err(AppError::WrongSite {
            what: format!("shipper {}", container.code),
            at: sites::get(state, container.site_id).await?.name,
            why: "a shipment leaves in a shipper that is at its sending site".into(),
        });
    }
    if let Some(busy) = shipment::Entity::find()
        .filter(shipment::Column::ContainerId.eq(container_id))
        .filter(shipment::Column::Status.is_not_in([
            ShipmentStatus::Received.as_str(),
            ShipmentStatus::Cancelled.as_str(),
        ]))
        .one(&txn)
        .await?
    {
        return Err(AppError::ContainerInUse {
            container: container.code,
            shipment: busy.code,
        });
    }
    let sequence = next_number(&txn, chrono::Datelike::year(&now)).await?;
    let model = shipment::Model {
        id: Uuid::now_v7(),
        code: shipment_code(now, sequence),
        from_site_id: from,
        to_site_id: to,
        container_id,
        status: ShipmentStatus::Packing,
        created_by: actor.id.unwrap_or(Uuid::nil()),
        created_at: now,
        sealed_at: None,
        picked_up_at: None,
        arrived_at: None,
        received_at: None,
    };
    shipment::Entity::insert(shipment::ActiveModel {
        id: Set(model.id),
        code: Set(model.code.clone()),
        from_site_id: Set(from),
        to_site_id: Set(to),
        container_id: Set(container_id),
        status: Set(model.status),
        created_by: Set(model.created_by),
        created_at: Set(now),
        sealed_at: Set(None),
        picked_up_at: Set(None),
        arrived_at: Set(None),
        received_at: Set(None),
    })
    .exec_without_returning(&txn)
    .await?;
    ledger::append(
        &txn,
        actor,
        now,
        NewEvent::new("shipment.created", "shipment", model.id).details(json!({
            "code": model.code,
            "from_site_id": from,
            "to_site_id": to,
            "to_site": to_site.name,
            "container_id": container_id,
            "container": container.code,
        })),
    )
    .await?;
    txn.commit().await?;
    get(state, model.id).await
}

/// The next shipment number of `year`: one statement that inserts 1 or
/// increments, and returns the number.
async fn next_number(txn: &WriteTxn, year: i32) -> AppResult<i32> {
    let row = din_sequence::Entity::insert(din_sequence::ActiveModel {
        facility_code: Set(SEQUENCE_KEY.to_owned()),
        din_year: Set(year),
        last_sequence: Set(1),
    })
    .on_conflict(
        OnConflict::columns([
            din_sequence::Column::FacilityCode,
            din_sequence::Column::DinYear,
        ])
        .value(
            din_sequence::Column::LastSequence,
            Expr::col((din_sequence::Entity, din_sequence::Column::LastSequence)).add(1),
        )
        .to_owned(),
    )
    .exec_with_returning(txn)
    .await?;
    Ok(row.last_sequence)
}

/// One shipment with its sites, container, vials, hand-overs and
/// discrepancies.
pub async fn get(state: &AppState, id: Uuid) -> AppResult<ShipmentRecord> {
    let db = state.db.conn();
    let shipment = store::find_or_404::<shipment::Entity>(db, id).await?;
    load(state, db, shipment).await
}

/// A shipment by its code (`SH-2026-0012`).
pub async fn by_code(state: &AppState, code: &str) -> AppResult<ShipmentRecord> {
    let code = code.trim().to_ascii_uppercase();
    let db = state.db.conn();
    let shipment = shipment::Entity::find()
        .filter(shipment::Column::Code.eq(code.as_str()))
        .one(db)
        .await?
        .ok_or(AppError::UnknownCode {
            kind: "shipment",
            code,
        })?;
    load(state, db, shipment).await
}

async fn load(
    state: &AppState,
    db: &impl ConnectionTrait,
    shipment: shipment::Model,
) -> AppResult<ShipmentRecord> {
    let lines = shipment_item::Entity::find()
        .filter(shipment_item::Column::ShipmentId.eq(shipment.id))
        .all(db)
        .await?;
    let mut ids: Vec<Uuid> = lines.iter().map(|l| l.vial_id).collect();
    let packed: Vec<vial::Model> = vial::Entity::find()
        .filter(vial::Column::ShipmentId.eq(shipment.id))
        .all(db)
        .await?;
    ids.extend(packed.iter().map(|v| v.id));
    let vials = store::by_ids::<vial::Entity>(db, ids.iter().copied()).await?;
    let mut lines: HashMap<Uuid, shipment_item::Model> =
        lines.into_iter().map(|l| (l.vial_id, l)).collect();
    let mut items: Vec<Item> = vials
        .into_values()
        .map(|vial| Item {
            line: lines.remove(&vial.id),
            vial,
        })
        .collect();
    items.sort_by(|a, b| a.vial.code.as_str().cmp(b.vial.code.as_str()));
    let handovers = shipment_handover::Entity::find()
        .filter(shipment_handover::Column::ShipmentId.eq(shipment.id))
        .order_by_asc(shipment_handover::Column::At)
        .order_by_asc(shipment_handover::Column::Id)
        .all(db)
        .await?;
    let discrepancies = shipment_discrepancy::Entity::find()
        .filter(shipment_discrepancy::Column::ShipmentId.eq(shipment.id))
        .order_by_asc(shipment_discrepancy::Column::NotedAt)
        .order_by_asc(shipment_discrepancy::Column::Id)
        .all(db)
        .await?;
    let container =
        store::find_or_404::<shipping_container::Entity>(db, shipment.container_id).await?;
    Ok(ShipmentRecord {
        from_site: sites::get(state, shipment.from_site_id).await?,
        to_site: sites::get(state, shipment.to_site_id).await?,
        container,
        shipment,
        items,
        handovers,
        discrepancies,
    })
}

/// Who hands a shipment over and receives it: the lab, and the pharmacy of
/// a clinical site.
const HANDLERS: &[Role] = &[Role::Lab, Role::Pharmacist];

/// Records who took or brought the container: a courier's pick-up (by the
/// sending site), a hand-over between couriers, the arrival (by the
/// receiving site). The time is the server's.
pub async fn hand_over(
    state: &AppState,
    actor: &Actor,
    id: Uuid,
    kind: HandoverKind,
    who: &str,
) -> AppResult<ShipmentRecord> {
    let who = party(who)?;
    let current = store::find_or_404::<shipment::Entity>(state.db.conn(), id).await?;
    let at_site = match kind {
        HandoverKind::PickUp => current.from_site_id,
        HandoverKind::Arrival => current.to_site_id,
        // whichever end the person works at
        HandoverKind::Transfer => {
            if sites::check_works_at(state, actor, current.from_site_id)
                .await
                .is_ok()
            {
                current.from_site_id
            } else {
                current.to_site_id
            }
        }
    };
    check_actor(state, actor, HANDLERS, at_site).await?;
    let from = current.status;
    let to = shipment_transition(from, kind.action())?;
    let now = state.clock.now();
    let txn = state.db.write().await?;
    let mut update = shipment::Entity::update_many()
        .col_expr(shipment::Column::Status, Expr::value(to))
        .filter(shipment::Column::Id.eq(id))
        .filter(shipment::Column::Status.eq(from));
    update = match kind {
        HandoverKind::PickUp => update.col_expr(shipment::Column::PickedUpAt, Expr::value(now)),
        HandoverKind::Arrival => update.col_expr(shipment::Column::ArrivedAt, Expr::value(now)),
        HandoverKind::Transfer => update,
    };
    if update.exec(&txn).await?.rows_affected != 1 {
        return Err(AppError::ConcurrentChange {
            kind: "shipment",
            id,
        });
    }
    let handover_id = Uuid::now_v7();
    shipment_handover::Entity::insert(shipment_handover::ActiveModel {
        id: Set(handover_id),
        shipment_id: Set(id),
        kind: Set(kind),
        party: Set(who.clone()),
        recorded_by: Set(actor.id.unwrap_or(Uuid::nil())),
        at: Set(now),
    })
    .exec_without_returning(&txn)
    .await?;
    let action = match kind {
        HandoverKind::PickUp => "shipment.picked_up",
        HandoverKind::Transfer => "shipment.handed_over",
        HandoverKind::Arrival => "shipment.arrived",
    };
    ledger::append(
        &txn,
        actor,
        now,
        NewEvent::new(action, "shipment", id).details(json!({
            "code": current.code,
            "handover_id": handover_id,
            "party": who,
            "from": from,
            "to": to,
        })),
    )
    .await?;
    txn.commit().await?;
    get(state, id).await
}

/// Refuses unless the actor is of one of `roles` (the route checked the
/// role already; this is for the pages that share the service) and works
/// at `site_id`.
async fn check_actor(
    state: &AppState,
    actor: &Actor,
    roles: &'static [Role],
    site_id: Uuid,
) -> AppResult<()> {
    if let Some(role) = actor.role
        && !roles.contains(&role)
    {
        return Err(AppError::Forbidden {
            required: roles,
            role,
        });
    }
    sites::check_works_at(state, actor, site_id).await
}

/// Takes the shipment's row for this act: it must allow `action` now; on
/// PostgreSQL the row stays locked until the transaction ends, so acts on
/// one shipment queue (SQLite has one writer).
async fn shipment_for(
    txn: &WriteTxn,
    id: Uuid,
    action: ShipmentAction,
) -> AppResult<(shipment::Model, ShipmentStatus)> {
    let mut find = shipment::Entity::find_by_id(id);
    if txn.get_database_backend() == DbBackend::Postgres {
        find = find.lock_exclusive();
    }
    let current = find
        .one(txn)
        .await?
        .ok_or_else(|| AppError::not_found("shipment", id))?;
    let to = shipment_transition(current.status, action)?;
    Ok((current, to))
}

/// Records the shipper's data logger (lab or pharmacy at either end, once
/// the shipment is sealed): every vial on the packing list was inside for
/// the whole journey, so an excursion holds them all, for the receiving
/// site's quality officer to decide (`services::temperature`).
pub async fn record_logger(
    state: &AppState,
    actor: &Actor,
    id: Uuid,
    readings: &[crate::domain::temperature::Reading],
    via: &str,
) -> AppResult<crate::services::temperature::Recorded> {
    let record = get(state, id).await?;
    let s = &record.shipment;
    let at_sending = sites::check_works_at(state, actor, s.from_site_id)
        .await
        .is_ok();
    let at = if at_sending {
        s.from_site_id
    } else {
        s.to_site_id
    };
    check_actor(state, actor, HANDLERS, at).await?;
    if matches!(
        s.status,
        ShipmentStatus::Packing | ShipmentStatus::Cancelled
    ) {
        return Err(AppError::InvalidState(
            crate::domain::lifecycle::TransitionRefused {
                kind: "shipment",
                from: s.status.as_str(),
                action: "record_temperatures",
            },
        ));
    }
    let vial_ids: Vec<Uuid> = record
        .items
        .iter()
        .filter(|i| i.line.as_ref().is_none_or(|l| l.missing_reason.is_none()))
        .map(|i| i.vial.id)
        .collect();
    crate::services::temperature::record_for_shipment(
        state,
        actor,
        id,
        s.to_site_id,
        readings,
        &vial_ids,
        None,
        via,
    )
    .await
}
