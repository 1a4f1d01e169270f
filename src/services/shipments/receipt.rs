//! Receiving a shipment: at the receiving site every vial is scanned into
//! a box position, and the receipt is signed. What was scanned and not on
//! the packing list is noted as it is scanned (`unexpected`: a celltrail
//! vial of no or another shipment, which stays where its record says;
//! `extra`: a label celltrail does not know). The receipt closes only
//! with a reason for each vial that did not arrive and each such scan.
//!
//! A vial scanned in is in its box at the receiving site but still
//! `in_transit` until the receipt is signed: only then is it available
//! there. A vial that did not arrive is discarded at the signature, never
//! available anywhere.

use std::collections::HashMap;

use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, SqlErr};
use serde_json::json;
use uuid::Uuid;

use super::{HANDLERS as RECEIVERS, ShipmentRecord, check_actor, get, shipment_for};
use crate::domain::lifecycle::{VialAction, VialStatus, vial_transition};
use crate::domain::reason::Reason;
use crate::domain::scan::{self, ScanError, ScanKind, Scanned};
use crate::domain::shipment::{DiscrepancyKind, ShipmentAction, in_transit_location};
use crate::domain::storage::{Position, StorageKind, location_path};
use crate::entities::{shipment, shipment_discrepancy, shipment_item, shipping_container, vial};
use crate::error::{AppError, AppResult};
use crate::services::Actor;
use crate::services::ledger::{self, NewEvent};
use crate::services::signatures::{self, VerifiedSignature};
use crate::services::{sites, storage, store};
use crate::state::AppState;

/// What a receipt scan found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReceiptScanOutcome {
    /// On the packing list: now in the box position given.
    Received,
    /// On the list and already in that position: nothing changed.
    AlreadyReceived,
    /// A celltrail vial not on this shipment's list: noted, not moved.
    Unexpected,
    /// Not a celltrail vial: noted.
    Extra,
}

impl ReceiptScanOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            ReceiptScanOutcome::Received => "received",
            ReceiptScanOutcome::AlreadyReceived => "already_received",
            ReceiptScanOutcome::Unexpected => "unexpected",
            ReceiptScanOutcome::Extra => "extra",
        }
    }
}

#[derive(Debug, Clone)]
pub struct ReceiptScan {
    pub outcome: ReceiptScanOutcome,
    /// The vial scanned, if it is a celltrail vial.
    pub vial_code: Option<String>,
    /// Where it now is (received) or is recorded to be (unexpected).
    pub place: Option<String>,
    pub discrepancy_id: Option<Uuid>,
    pub record: ShipmentRecord,
}

/// Scans one vial at receipt into `box_id` at `position` (receiving site,
/// after the arrival is recorded).
pub async fn scan_in(
    state: &AppState,
    actor: &Actor,
    id: Uuid,
    scanned: &str,
    box_id: Uuid,
    position: &str,
) -> AppResult<ReceiptScan> {
    let current = store::find_or_404::<shipment::Entity>(state.db.conn(), id).await?;
    check_actor(state, actor, RECEIVERS, current.to_site_id).await?;
    let target = storage::unit(state, box_id).await?;
    let (StorageKind::Box, Some(rows), Some(cols)) = (target.kind, target.rows, target.cols) else {
        return Err(AppError::NotABox(box_id));
    };
    let position = Position::parse(position, rows, cols)?.to_string();
    if target.site_id != current.to_site_id {
        return Err(AppError::WrongSite {
            what: target.path.clone(),
            at: sites::get(state, target.site_id).await?.name,
            why: "a shipment's vials go into boxes of its receiving site".into(),
        });
    }
    let code = match scan::parse(scanned) {
        Ok(Scanned::Payload {
            kind: ScanKind::Vial,
            code,
        })
        | Ok(Scanned::VialCode(code)) => Some(code),
        Ok(_) => {
            return Err(AppError::invalid(
                "scanned",
                "scan each vial's own label: a box, lot or patient label is not a vial",
            ));
        }
        Err(error @ (ScanError::Empty | ScanError::CheckCharacterMismatch { .. })) => {
            return Err(AppError::MalformedPayload(error));
        }
        // a label celltrail does not read: something in the shipper that
        // is not on its list
        Err(_) => None,
    };
    let now = state.clock.now();
    let txn = state.db.write().await?;
    let (shipment, _) = shipment_for(&txn, id, ShipmentAction::ScanIn).await?;
    let found = match &code {
        Some(code) => {
            vial::Entity::find()
                .filter(vial::Column::Code.eq(code.as_str()))
                .one(&txn)
                .await?
        }
        None => None,
    };
    let line = match &found {
        Some(v) => {
            shipment_item::Entity::find_by_id((id, v.id))
                .one(&txn)
                .await?
        }
        None => None,
    };
    let (Some(vial), Some(line)) = (found.clone(), line) else {
        // not on the list: noted once, whatever it is
        let (kind, vial_id, place) = match &found {
            Some(v) => (
                DiscrepancyKind::Unexpected,
                Some(v.id),
                Some(match (v.box_id, &v.position) {
                    (Some(b), Some(p)) => {
                        location_path([storage::unit(state, b).await?.path.as_str()], Some(p))
                    }
                    _ => format!("{} (not in storage)", v.status),
                }),
            ),
            None => (DiscrepancyKind::Extra, None, None),
        };
        let as_read: String = scanned.trim().chars().take(200).collect();
        let noted = shipment_discrepancy::Entity::find()
            .filter(shipment_discrepancy::Column::ShipmentId.eq(id))
            .filter(shipment_discrepancy::Column::Scanned.eq(as_read.as_str()))
            .one(&txn)
            .await?;
        let discrepancy_id = match noted {
            Some(d) => d.id,
            None => {
                let discrepancy_id = Uuid::now_v7();
                shipment_discrepancy::Entity::insert(shipment_discrepancy::ActiveModel {
                    id: Set(discrepancy_id),
                    shipment_id: Set(id),
                    kind: Set(kind),
                    vial_id: Set(vial_id),
                    scanned: Set(as_read.clone()),
                    noted_by: Set(actor.id.unwrap_or(Uuid::nil())),
                    noted_at: Set(now),
                    reason: Set(None),
                })
                .exec_without_returning(&txn)
                .await?;
                ledger::append(
                    &txn,
                    actor,
                    now,
                    NewEvent::new("shipment.discrepancy_noted", "shipment", id).details(json!({
                        "code": shipment.code,
                        "discrepancy_id": discrepancy_id,
                        "kind": kind,
                        "scanned": as_read,
                        "vial_id": vial_id,
                    })),
                )
                .await?;
                discrepancy_id
            }
        };
        txn.commit().await?;
        return Ok(ReceiptScan {
            outcome: match kind {
                DiscrepancyKind::Unexpected => ReceiptScanOutcome::Unexpected,
                DiscrepancyKind::Extra => ReceiptScanOutcome::Extra,
            },
            vial_code: found.map(|v| v.code.to_string()),
            place,
            discrepancy_id: Some(discrepancy_id),
            record: get(state, id).await?,
        });
    };
    let path = location_path([target.path.as_str()], Some(&position));
    if vial.box_id == Some(box_id) && vial.position.as_deref() == Some(position.as_str()) {
        txn.commit().await?;
        return Ok(ReceiptScan {
            outcome: ReceiptScanOutcome::AlreadyReceived,
            vial_code: Some(vial.code.to_string()),
            place: Some(path),
            discrepancy_id: None,
            record: get(state, id).await?,
        });
    }
    let moved = vial::Entity::update_many()
        .col_expr(vial::Column::BoxId, Expr::value(box_id))
        .col_expr(vial::Column::Position, Expr::value(position.clone()))
        .col_expr(vial::Column::SiteId, Expr::value(shipment.to_site_id))
        .filter(vial::Column::Id.eq(vial.id))
        .filter(vial::Column::ShipmentId.eq(id))
        .exec(&txn)
        .await;
    match moved {
        Ok(done) if done.rows_affected == 1 => {}
        Ok(_) => {
            return Err(AppError::ConcurrentChange {
                kind: "vial",
                id: vial.id,
            });
        }
        Err(error) => {
            return Err(match error.sql_err() {
                Some(SqlErr::UniqueConstraintViolation(_)) => {
                    AppError::PositionOccupied { box_id, position }
                }
                _ => error.into(),
            });
        }
    }
    shipment_item::Entity::update(shipment_item::ActiveModel {
        received_at: Set(Some(now)),
        received_by: Set(actor.id),
        box_id: Set(Some(box_id)),
        position: Set(Some(position.clone())),
        ..line.into()
    })
    .exec(&txn)
    .await?;
    let container =
        store::find_or_404::<shipping_container::Entity>(&txn, shipment.container_id).await?;
    let was = match (vial.box_id, &vial.position) {
        (Some(b), Some(p)) => {
            location_path([storage::unit(state, b).await?.path.as_str()], Some(p))
        }
        _ => in_transit_location(&container.code, &shipment.code),
    };
    ledger::append(
        &txn,
        actor,
        now,
        NewEvent::new("vial.received", "vial", vial.id)
            .moved(Some(was), Some(path.clone()))
            .details(json!({
                "code": vial.code,
                "to": vial.status,
                "shipment_id": id,
                "shipment": shipment.code,
                "box_id": box_id,
                "position": position,
            })),
    )
    .await?;
    txn.commit().await?;
    Ok(ReceiptScan {
        outcome: ReceiptScanOutcome::Received,
        vial_code: Some(vial.code.to_string()),
        place: Some(path),
        discrepancy_id: None,
        record: get(state, id).await?,
    })
}

/// What a reason at receipt is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReasonFor {
    /// A vial on the list that did not arrive.
    Vial(Uuid),
    /// A scan not on the list.
    Discrepancy(Uuid),
}

/// Signs the receipt (receiving site): every vial scanned in is available
/// there (or keeps its recall or hold), every vial not scanned in is
/// discarded with the reason given, every scan not on the list keeps its
/// reason, and the shipper is at the receiving site now.
pub async fn close(
    state: &AppState,
    signature: &VerifiedSignature,
    id: Uuid,
    reasons: Vec<(ReasonFor, String)>,
) -> AppResult<ShipmentRecord> {
    let actor = signature.signer.actor();
    let current = store::find_or_404::<shipment::Entity>(state.db.conn(), id).await?;
    check_actor(state, &actor, RECEIVERS, current.to_site_id).await?;
    let mut given: HashMap<ReasonFor, (usize, Reason)> = HashMap::new();
    for (index, (target, reason)) in reasons.into_iter().enumerate() {
        let reason = Reason::parse(&reason).map_err(|e| AppError::InvalidField {
            field: format!("reasons[{index}].reason").into(),
            message: e.to_string(),
        })?;
        if given.insert(target, (index, reason)).is_some() {
            return Err(AppError::InvalidField {
                field: format!("reasons[{index}]").into(),
                message: "one reason for each vial or scan".into(),
            });
        }
    }
    let now = state.clock.now();
    let txn = state.db.write().await?;
    let (shipment, to) = shipment_for(&txn, id, ShipmentAction::Receive).await?;
    let lines = shipment_item::Entity::find()
        .filter(shipment_item::Column::ShipmentId.eq(id))
        .all(&txn)
        .await?;
    let discrepancies = shipment_discrepancy::Entity::find()
        .filter(shipment_discrepancy::Column::ShipmentId.eq(id))
        .all(&txn)
        .await?;
    let vials = store::by_ids::<vial::Entity>(&txn, lines.iter().map(|l| l.vial_id)).await?;
    let code_of = |vial_id: Uuid| {
        vials
            .get(&vial_id)
            .map(|v| v.code.to_string())
            .unwrap_or_else(|| vial_id.to_string())
    };
    // every reason given is for something that needs one
    for (target, (index, _)) in &given {
        let needs_one = match target {
            ReasonFor::Vial(vial_id) => lines
                .iter()
                .any(|l| l.vial_id == *vial_id && l.received_at.is_none()),
            ReasonFor::Discrepancy(d) => discrepancies.iter().any(|x| x.id == *d),
        };
        if !needs_one {
            return Err(AppError::InvalidField {
                field: format!("reasons[{index}]").into(),
                message: match target {
                    ReasonFor::Vial(vial_id) => {
                        match lines.iter().find(|l| l.vial_id == *vial_id) {
                            Some(_) => {
                                format!("vial {} arrived: it needs no reason", code_of(*vial_id))
                            }
                            None => {
                                format!("vial {vial_id} is not on this shipment's packing list")
                            }
                        }
                    }
                    ReasonFor::Discrepancy(d) => {
                        format!("{d} is not a scan noted at this shipment's receipt")
                    }
                },
            });
        }
    }
    let missing: Vec<&shipment_item::Model> =
        lines.iter().filter(|l| l.received_at.is_none()).collect();
    let unexplained_missing: Vec<String> = missing
        .iter()
        .filter(|l| !given.contains_key(&ReasonFor::Vial(l.vial_id)))
        .map(|l| code_of(l.vial_id))
        .collect();
    let unexplained_scans: Vec<String> = discrepancies
        .iter()
        .filter(|d| !given.contains_key(&ReasonFor::Discrepancy(d.id)))
        .map(|d| d.scanned.clone())
        .collect();
    if !unexplained_missing.is_empty() || !unexplained_scans.is_empty() {
        return Err(AppError::ReceiptIncomplete {
            missing: unexplained_missing,
            discrepancies: unexplained_scans,
        });
    }
    let mut events = Vec::new();
    let mut lost = Vec::new();
    let mut arrived = 0usize;
    for line in &lines {
        let vial = vials
            .get(&line.vial_id)
            .ok_or_else(|| AppError::not_found("vial", line.vial_id))?;
        let from = vial.status;
        let (to, action, reason) = if line.received_at.is_none() {
            let (_, reason) = &given[&ReasonFor::Vial(line.vial_id)];
            (
                vial_transition(from, VialAction::Discard)?,
                "vial.lost",
                Some(reason.as_str().to_owned()),
            )
        } else {
            let to = match from {
                VialStatus::InTransit => vial_transition(from, VialAction::Receive)?,
                other => other,
            };
            (to, "vial.arrived", None)
        };
        let mut update = vial::Entity::update_many()
            .col_expr(vial::Column::Status, Expr::value(to))
            .col_expr(vial::Column::ShipmentId, Expr::value(Option::<Uuid>::None))
            .filter(vial::Column::Id.eq(vial.id))
            .filter(vial::Column::Status.eq(from))
            .filter(vial::Column::ShipmentId.eq(id));
        if reason.is_some() {
            update = update
                .col_expr(vial::Column::HeldFrom, Expr::value(Option::<String>::None))
                .col_expr(vial::Column::BoxId, Expr::value(Option::<Uuid>::None))
                .col_expr(vial::Column::Position, Expr::value(Option::<String>::None));
        } else if from == VialStatus::OnHold && vial.held_from == Some(VialStatus::InTransit) {
            // held on the way: released from hold, it is available here
            update = update.col_expr(
                vial::Column::HeldFrom,
                Expr::value(VialStatus::Available.as_str()),
            );
        }
        if update.exec(&txn).await?.rows_affected != 1 {
            return Err(AppError::ConcurrentChange {
                kind: "vial",
                id: vial.id,
            });
        }
        if let Some(reason) = &reason {
            shipment_item::Entity::update(shipment_item::ActiveModel {
                missing_reason: Set(Some(reason.clone())),
                ..line.clone().into()
            })
            .exec(&txn)
            .await?;
            lost.push(json!({ "vial_id": vial.id, "code": vial.code, "reason": reason }));
        } else {
            arrived += 1;
        }
        events.push(NewEvent::new(action, "vial", vial.id).details(json!({
            "code": vial.code,
            "from": from,
            "to": to,
            "shipment_id": id,
            "shipment": shipment.code,
            "reason": reason,
        })));
    }
    let mut noted = Vec::new();
    for d in &discrepancies {
        let (_, reason) = &given[&ReasonFor::Discrepancy(d.id)];
        shipment_discrepancy::Entity::update(shipment_discrepancy::ActiveModel {
            reason: Set(Some(reason.as_str().to_owned())),
            ..d.clone().into()
        })
        .exec(&txn)
        .await?;
        noted.push(json!({
            "discrepancy_id": d.id,
            "kind": d.kind,
            "scanned": d.scanned,
            "vial_id": d.vial_id,
            "reason": reason.as_str(),
        }));
    }
    let received = shipment::Entity::update_many()
        .col_expr(shipment::Column::Status, Expr::value(to))
        .col_expr(shipment::Column::ReceivedAt, Expr::value(now))
        .filter(shipment::Column::Id.eq(id))
        .filter(shipment::Column::Status.eq(shipment.status))
        .exec(&txn)
        .await?;
    if received.rows_affected != 1 {
        return Err(AppError::ConcurrentChange {
            kind: "shipment",
            id,
        });
    }
    // the shipper is where it was brought
    shipping_container::Entity::update_many()
        .col_expr(
            shipping_container::Column::SiteId,
            Expr::value(shipment.to_site_id),
        )
        .filter(shipping_container::Column::Id.eq(shipment.container_id))
        .exec(&txn)
        .await?;
    signatures::append_signed(
        &txn,
        signature,
        now,
        NewEvent::new("shipment.received", "shipment", id).details(json!({
            "code": shipment.code,
            "from": shipment.status,
            "to": to,
            "arrived": arrived,
            "missing": lost,
            "discrepancies": noted,
            "container_site_id": shipment.to_site_id,
        })),
    )
    .await?;
    ledger::append_many(&txn, &actor, now, events).await?;
    txn.commit().await?;
    get(state, id).await
}
