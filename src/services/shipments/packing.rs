//! Packing a shipment: vials scanned into its container (one by one, or a
//! box's worth at once), taken out again before the seal, the seal under
//! the packer's signature, and cancelling a shipment still packing.
//!
//! A packed vial has left storage: `in_transit` from the scan, its box
//! position free, its last place kept as `previous_box_id`/`position`.
//! Only an available vial of the sending site, of an unexpired lot, in no
//! other shipment, may go; a box scanned whole goes whole or not at all,
//! and the refusal names every vial that may not go and why.

use std::collections::HashMap;

use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::json;
use uuid::Uuid;

use super::{ShipmentRecord, check_actor, get, shipment_for};
use crate::domain::accounts::Role;
use crate::domain::lifecycle::{VialAction, VialStatus, vial_transition};
use crate::domain::reason::Reason;
use crate::domain::scan::{self, ScanKind, Scanned};
use crate::domain::shipment::{ShipmentAction, in_transit_location};
use crate::domain::storage::{StorageKind, location_path};
use crate::entities::{lot, shipment, shipment_item, shipping_container, vial};
use crate::error::{AppError, AppResult};
use crate::services::Actor;
use crate::services::ledger::{self, NewEvent};
use crate::services::signatures::{self, VerifiedSignature};
use crate::services::{sites, storage, store};
use crate::state::AppState;

const LAB: &[Role] = &[Role::Lab];

/// What a packing scan did.
#[derive(Debug, Clone)]
pub struct Packed {
    pub record: ShipmentRecord,
    /// Codes of the vials this scan packed.
    pub packed: Vec<String>,
    /// Codes of vials scanned that were in this shipment already.
    pub already: Vec<String>,
}

/// What a packing or unpacking scan names: one vial, or every vial in a box.
enum Scan {
    Vial(String),
    Box(Uuid),
}

fn read_scan(scanned: &str) -> AppResult<Scan> {
    let refused = || {
        AppError::invalid(
            "scanned",
            "scan a vial's label or a box's label (or type a vial code)",
        )
    };
    match scan::parse(scanned) {
        Ok(Scanned::Payload {
            kind: ScanKind::Vial,
            code,
        })
        | Ok(Scanned::VialCode(code)) => Ok(Scan::Vial(code)),
        Ok(Scanned::Payload {
            kind: ScanKind::Box,
            code,
        }) => Uuid::parse_str(&code).map(Scan::Box).map_err(|_| refused()),
        Ok(_) => Err(refused()),
        Err(error) => Err(AppError::MalformedPayload(error)),
    }
}

async fn vial_by_code(txn: &crate::db::WriteTxn, code: String) -> AppResult<vial::Model> {
    vial::Entity::find()
        .filter(vial::Column::Code.eq(code.as_str()))
        .one(txn)
        .await?
        .ok_or(AppError::UnknownCode { kind: "vial", code })
}

/// Packs the vial or box scanned into the shipment (lab, at the sending
/// site, while it is packing).
pub async fn pack(state: &AppState, actor: &Actor, id: Uuid, scanned: &str) -> AppResult<Packed> {
    let scan = read_scan(scanned)?;
    let current = store::find_or_404::<shipment::Entity>(state.db.conn(), id).await?;
    check_actor(state, actor, LAB, current.from_site_id).await?;
    let now = state.clock.now();
    let txn = state.db.write().await?;
    let (shipment, _) = shipment_for(&txn, id, ShipmentAction::Pack).await?;
    let container =
        store::find_or_404::<shipping_container::Entity>(&txn, shipment.container_id).await?;
    let whole_box = matches!(scan, Scan::Box(_));
    let vials = match scan {
        Scan::Vial(code) => vec![vial_by_code(&txn, code).await?],
        Scan::Box(box_id) => {
            let unit = storage::unit(state, box_id).await?;
            if unit.kind != StorageKind::Box {
                return Err(AppError::NotABox(box_id));
            }
            if unit.site_id != shipment.from_site_id {
                return Err(AppError::WrongSite {
                    what: unit.path.clone(),
                    at: sites::get(state, unit.site_id).await?.name,
                    why: "a shipment takes vials from boxes of its sending site".into(),
                });
            }
            let inside = vial::Entity::find()
                .filter(vial::Column::BoxId.eq(box_id))
                .order_by_asc(vial::Column::Code)
                .all(&txn)
                .await?;
            if inside.is_empty() {
                return Err(AppError::invalid(
                    "scanned",
                    format!("{} holds no vial", unit.path),
                ));
            }
            inside
        }
    };
    let lots = store::by_ids::<lot::Entity>(&txn, vials.iter().map(|v| v.lot_id)).await?;
    let withdrawn =
        crate::services::withdrawals::withdrawn_lots(&txn, lots.keys().copied()).await?;
    let mut refusals = Vec::new();
    let mut already = Vec::new();
    let mut going = Vec::new();
    for vial in vials {
        let code = vial.code.to_string();
        if vial.shipment_id == Some(id) {
            already.push(code);
            continue;
        }
        let refusal = if let Some(other) = vial.shipment_id {
            let other = store::find_or_404::<shipment::Entity>(&txn, other).await?;
            AppError::InShipment {
                vial: code.clone(),
                shipment: other.code,
            }
        } else if vial.site_id != shipment.from_site_id {
            AppError::WrongSite {
                what: format!("vial {code}"),
                at: sites::get(state, vial.site_id).await?.name,
                why: "a shipment takes vials of its sending site".into(),
            }
        } else if withdrawn.contains(&vial.lot_id)
            && let Some(lot) = lots.get(&vial.lot_id)
        {
            AppError::ConsentWithdrawn {
                lot_id: lot.id,
                code: lot.code.clone(),
            }
        } else if let Err(refused) = vial_transition(vial.status, VialAction::Pack) {
            AppError::InvalidState(refused)
        } else if let Some(lot) = lots.get(&vial.lot_id)
            && lot.expires_at <= now
        {
            AppError::LotExpired {
                lot_id: lot.id,
                code: lot.code.clone(),
                expires_at: lot.expires_at,
            }
        } else {
            going.push(vial);
            continue;
        };
        if !whole_box {
            return Err(refusal);
        }
        refusals.push(format!("{code}: {refusal}"));
    }
    if !refusals.is_empty() {
        return Err(AppError::NotShippable { vials: refusals });
    }
    let ids: Vec<Uuid> = going.iter().map(|v| v.id).collect();
    if !ids.is_empty() {
        let changed = vial::Entity::update_many()
            .col_expr(vial::Column::Status, Expr::value(VialStatus::InTransit))
            .col_expr(vial::Column::ShipmentId, Expr::value(id))
            .col_expr(vial::Column::PreviousBoxId, Expr::col(vial::Column::BoxId))
            .col_expr(
                vial::Column::PreviousPosition,
                Expr::col(vial::Column::Position),
            )
            .col_expr(vial::Column::BoxId, Expr::value(Option::<Uuid>::None))
            .col_expr(vial::Column::Position, Expr::value(Option::<String>::None))
            .filter(vial::Column::Id.is_in(ids.clone()))
            .filter(vial::Column::Status.eq(VialStatus::Available))
            .filter(vial::Column::ShipmentId.is_null())
            .filter(vial::Column::SiteId.eq(shipment.from_site_id))
            .exec(&txn)
            .await?;
        if changed.rows_affected != ids.len() as u64 {
            return Err(AppError::ConcurrentChange {
                kind: "vial",
                id: ids[0],
            });
        }
    }
    // the boxes' paths, from the storage cache
    let mut paths: HashMap<Uuid, String> = HashMap::new();
    for box_id in going.iter().filter_map(|v| v.box_id) {
        if let std::collections::hash_map::Entry::Vacant(entry) = paths.entry(box_id) {
            entry.insert(storage::unit(state, box_id).await?.path.clone());
        }
    }
    let into = in_transit_location(&container.code, &shipment.code);
    let events = going
        .iter()
        .map(|v| {
            let was = v
                .box_id
                .and_then(|b| paths.get(&b))
                .map(|path| location_path([path.as_str()], v.position.as_deref()));
            NewEvent::new("vial.packed", "vial", v.id)
                .moved(was, Some(into.clone()))
                .details(json!({
                    "code": v.code,
                    "from": VialStatus::Available,
                    "to": VialStatus::InTransit,
                    "shipment_id": id,
                    "shipment": shipment.code,
                    "container": container.code,
                    "from_box_id": v.box_id,
                    "from_position": v.position,
                }))
        })
        .collect();
    ledger::append_many(&txn, actor, now, events).await?;
    txn.commit().await?;
    Ok(Packed {
        record: get(state, id).await?,
        packed: going.into_iter().map(|v| v.code.to_string()).collect(),
        already,
    })
}

/// Takes a vial out of a shipment still packing (lab, sending site): it
/// is available again if it was packed available, out of storage until
/// stored; a vial recalled or discarded since keeps that status.
pub async fn unpack(
    state: &AppState,
    actor: &Actor,
    id: Uuid,
    scanned: &str,
) -> AppResult<ShipmentRecord> {
    let Scan::Vial(code) = read_scan(scanned)? else {
        return Err(AppError::invalid(
            "scanned",
            "take vials out one at a time: scan the vial's label",
        ));
    };
    let current = store::find_or_404::<shipment::Entity>(state.db.conn(), id).await?;
    check_actor(state, actor, LAB, current.from_site_id).await?;
    let now = state.clock.now();
    let txn = state.db.write().await?;
    let (shipment, _) = shipment_for(&txn, id, ShipmentAction::Unpack).await?;
    let vial = vial_by_code(&txn, code).await?;
    if vial.shipment_id != Some(id) {
        return Err(AppError::invalid(
            "scanned",
            format!("vial {} is not in shipment {}", vial.code, shipment.code),
        ));
    }
    take_out(&txn, actor, now, &shipment, vec![vial], None).await?;
    txn.commit().await?;
    get(state, id).await
}

/// Takes vials out of a packing shipment, each event naming why.
async fn take_out(
    txn: &crate::db::WriteTxn,
    actor: &Actor,
    now: chrono::DateTime<chrono::Utc>,
    shipment: &shipment::Model,
    vials: Vec<vial::Model>,
    reason: Option<&str>,
) -> AppResult<()> {
    let mut events = Vec::new();
    for vial in vials {
        let to = match vial.status {
            VialStatus::InTransit => vial_transition(vial.status, VialAction::Unpack)?,
            other => other,
        };
        let changed = vial::Entity::update_many()
            .col_expr(vial::Column::Status, Expr::value(to))
            .col_expr(vial::Column::ShipmentId, Expr::value(Option::<Uuid>::None))
            .filter(vial::Column::Id.eq(vial.id))
            .filter(vial::Column::Status.eq(vial.status))
            .filter(vial::Column::ShipmentId.eq(shipment.id))
            .exec(txn)
            .await?;
        if changed.rows_affected != 1 {
            return Err(AppError::ConcurrentChange {
                kind: "vial",
                id: vial.id,
            });
        }
        events.push(
            NewEvent::new("vial.unpacked", "vial", vial.id).details(json!({
                "code": vial.code,
                "from": vial.status,
                "to": to,
                "shipment_id": shipment.id,
                "shipment": shipment.code,
                "reason": reason,
            })),
        );
    }
    ledger::append_many(txn, actor, now, events).await?;
    Ok(())
}

/// Seals the shipment under the packer's signature: its vials become the
/// packing list. Every vial in it must still be in transit (one recalled
/// or discarded since it was packed is taken out first).
pub async fn seal(
    state: &AppState,
    signature: &VerifiedSignature,
    id: Uuid,
) -> AppResult<ShipmentRecord> {
    let actor = signature.signer.actor();
    let current = store::find_or_404::<shipment::Entity>(state.db.conn(), id).await?;
    check_actor(state, &actor, LAB, current.from_site_id).await?;
    let now = state.clock.now();
    let txn = state.db.write().await?;
    let (shipment, to) = shipment_for(&txn, id, ShipmentAction::Seal).await?;
    let vials = vial::Entity::find()
        .filter(vial::Column::ShipmentId.eq(id))
        .order_by_asc(vial::Column::Code)
        .all(&txn)
        .await?;
    if vials.is_empty() {
        return Err(AppError::ShipmentEmpty {
            shipment: shipment.code,
        });
    }
    let changed: Vec<String> = vials
        .iter()
        .filter(|v| v.status != VialStatus::InTransit)
        .map(|v| {
            format!(
                "{}: {} since it was packed; take it out of the shipment",
                v.code, v.status
            )
        })
        .collect();
    if !changed.is_empty() {
        return Err(AppError::NotShippable { vials: changed });
    }
    let container =
        store::find_or_404::<shipping_container::Entity>(&txn, shipment.container_id).await?;
    for chunk in vials.chunks(500) {
        shipment_item::Entity::insert_many(chunk.iter().map(|v| shipment_item::ActiveModel {
            shipment_id: Set(id),
            vial_id: Set(v.id),
            packed_at: Set(now),
            received_at: Set(None),
            received_by: Set(None),
            box_id: Set(None),
            position: Set(None),
            missing_reason: Set(None),
        }))
        .exec_without_returning(&txn)
        .await?;
    }
    let sealed = shipment::Entity::update_many()
        .col_expr(shipment::Column::Status, Expr::value(to))
        .col_expr(shipment::Column::SealedAt, Expr::value(now))
        .filter(shipment::Column::Id.eq(id))
        .filter(shipment::Column::Status.eq(shipment.status))
        .exec(&txn)
        .await?;
    if sealed.rows_affected != 1 {
        return Err(AppError::ConcurrentChange {
            kind: "shipment",
            id,
        });
    }
    signatures::append_signed(
        &txn,
        signature,
        now,
        NewEvent::new("shipment.sealed", "shipment", id).details(json!({
            "code": shipment.code,
            "from": shipment.status,
            "to": to,
            "container": container.code,
            "vial_count": vials.len(),
            "vials": vials.iter().map(|v| v.code.to_string()).collect::<Vec<_>>(),
            "vial_ids": vials.iter().map(|v| v.id).collect::<Vec<_>>(),
        })),
    )
    .await?;
    txn.commit().await?;
    get(state, id).await
}

/// Cancels a shipment still packing (lab, sending site), with the reason:
/// its vials come out as [`unpack`] takes them.
pub async fn cancel(
    state: &AppState,
    actor: &Actor,
    id: Uuid,
    reason: &str,
) -> AppResult<ShipmentRecord> {
    let reason = Reason::parse(reason)?;
    let current = store::find_or_404::<shipment::Entity>(state.db.conn(), id).await?;
    check_actor(state, actor, LAB, current.from_site_id).await?;
    let now = state.clock.now();
    let txn = state.db.write().await?;
    let (shipment, to) = shipment_for(&txn, id, ShipmentAction::Cancel).await?;
    let vials = vial::Entity::find()
        .filter(vial::Column::ShipmentId.eq(id))
        .order_by_asc(vial::Column::Code)
        .all(&txn)
        .await?;
    let count = vials.len();
    take_out(&txn, actor, now, &shipment, vials, Some(reason.as_str())).await?;
    let cancelled = shipment::Entity::update_many()
        .col_expr(shipment::Column::Status, Expr::value(to))
        .filter(shipment::Column::Id.eq(id))
        .filter(shipment::Column::Status.eq(shipment.status))
        .exec(&txn)
        .await?;
    if cancelled.rows_affected != 1 {
        return Err(AppError::ConcurrentChange {
            kind: "shipment",
            id,
        });
    }
    ledger::append(
        &txn,
        actor,
        now,
        NewEvent::new("shipment.cancelled", "shipment", id).details(json!({
            "code": shipment.code,
            "from": shipment.status,
            "to": to,
            "reason": reason.as_str(),
            "vials_taken_out": count,
        })),
    )
    .await?;
    txn.commit().await?;
    get(state, id).await
}
