//! Vials: where they are and what becomes of them. Every move and status
//! change is a conditional UPDATE (it names the state it expects), so two
//! requests racing for one vial cannot both win, and one vial per box
//! position is the database's unique index, so two vials racing for one
//! position cannot both land there.

use std::sync::Arc;

use sea_orm::sea_query::{Expr, ExprTrait, SimpleExpr};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, SqlErr,
};
use serde_json::json;
use uuid::Uuid;

use crate::domain::lifecycle::{DoseStatus, VialAction, VialStatus, vial_transition};
use crate::domain::reason::Reason;
use crate::domain::storage::{Position, StorageKind, location_path};
use crate::entities::{dose, dose_vial, shipment, vial};
use crate::error::{AppError, AppResult};
use crate::services::Actor;
use crate::services::ledger::{self, NewEvent};
use crate::services::signatures::{self, VerifiedSignature};
use crate::services::storage::{self, Unit};
use crate::services::{sites, store};
use crate::state::AppState;

/// Where a vial is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub box_unit: Arc<Unit>,
    pub position: String,
}

impl Location {
    /// `Tank 1 › Rack A › Box 3 › B4`.
    pub fn path(&self) -> String {
        location_path([self.box_unit.path.as_str()], Some(&self.position))
    }
}

#[derive(Debug, Clone)]
pub struct VialRecord {
    pub vial: vial::Model,
    pub location: Option<Location>,
}

impl VialRecord {
    pub fn status(&self) -> AppResult<VialStatus> {
        Ok(self.vial.status)
    }
}

/// Puts a vial into a box position, or moves it there. Storing a vial where
/// it already is changes nothing and records nothing.
pub async fn store(
    state: &AppState,
    actor: &Actor,
    vial_id: Uuid,
    box_id: Uuid,
    position: &str,
) -> AppResult<VialRecord> {
    let target = storage::unit(state, box_id).await?;
    let (StorageKind::Box, Some(rows), Some(cols)) = (target.kind, target.rows, target.cols) else {
        return Err(AppError::NotABox(box_id));
    };
    let position = Position::parse(position, rows, cols)?.to_string();
    // the lab stores into boxes of a site it works at
    sites::check_works_at(state, actor, target.site_id).await?;
    let now = state.clock.now();
    let storable: Vec<&str> = VialStatus::ALL
        .iter()
        .filter(|s| vial_transition(**s, VialAction::Store).is_ok())
        .map(|s| s.as_str())
        .collect();
    let txn = state.db.write().await?;
    // One statement moves the vial and returns where it was: the SET
    // expressions read the row as it was before the update. The status and
    // "somewhere else" conditions make it touch nothing when the move is
    // not allowed or not a move; only then is the vial read, to say why.
    let moved = vial::Entity::update_many()
        .col_expr(vial::Column::PreviousBoxId, Expr::col(vial::Column::BoxId))
        .col_expr(
            vial::Column::PreviousPosition,
            Expr::col(vial::Column::Position),
        )
        .col_expr(vial::Column::BoxId, Expr::value(box_id))
        .col_expr(vial::Column::Position, Expr::value(position.clone()))
        .filter(vial::Column::Id.eq(vial_id))
        .filter(vial::Column::Status.is_in(storable))
        // a vial moves between boxes of its own site only: a shipment
        // takes it to another
        .filter(vial::Column::SiteId.eq(target.site_id))
        .filter(
            vial::Column::BoxId
                .is_null()
                .or(vial::Column::BoxId.ne(box_id))
                .or(vial::Column::Position.is_null())
                .or(vial::Column::Position.ne(position.clone())),
        )
        .exec_with_returning(&txn)
        .await;
    let current = match moved {
        Ok(mut rows) if rows.len() == 1 => rows.remove(0),
        Ok(_) => {
            let current = store::find_or_404::<vial::Entity>(&txn, vial_id).await?;
            let status: VialStatus = current.status;
            vial_transition(status, VialAction::Store)?;
            if current.site_id != target.site_id {
                return Err(AppError::WrongSite {
                    what: format!("vial {}", current.code),
                    at: sites::get(state, current.site_id).await?.name,
                    why: "it is stored only in a box of that site; a shipment takes it to another"
                        .into(),
                });
            }
            if current.box_id == Some(box_id)
                && current.position.as_deref() == Some(position.as_str())
            {
                let location = location_of(state, &current).await?;
                return Ok(VialRecord {
                    vial: current,
                    location,
                });
            }
            return Err(AppError::ConcurrentChange {
                kind: "vial",
                id: vial_id,
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
    };
    let status: VialStatus = current.status;
    let from = match (current.previous_box_id, &current.previous_position) {
        (Some(was_box), Some(was_position)) => Some(Location {
            box_unit: storage::unit(state, was_box).await?,
            position: was_position.clone(),
        }),
        _ => None,
    };
    let to = Location {
        box_unit: target,
        position: position.clone(),
    };
    let action = if from.is_some() {
        "vial.moved"
    } else {
        "vial.stored"
    };
    ledger::append(
        &txn,
        actor,
        now,
        NewEvent::new(action, "vial", vial_id)
            .moved(from.as_ref().map(Location::path), Some(to.path()))
            .details(json!({
                "code": current.code,
                "status": status,
                "from_box_id": current.previous_box_id,
                "from_position": current.previous_position,
                "box_id": box_id,
                "position": position,
            })),
    )
    .await?;
    txn.commit().await?;
    Ok(VialRecord {
        vial: current,
        location: Some(to),
    })
}

/// Discards a vial, signed, with a reason: from any state before infused.
/// It leaves storage, so its position is free again.
pub async fn discard(
    state: &AppState,
    signature: &VerifiedSignature,
    vial_id: Uuid,
    reason: &str,
) -> AppResult<VialRecord> {
    let reason = Reason::parse(reason)?;
    let now = state.clock.now();
    let txn = state.db.write().await?;
    let current = store::find_or_404::<vial::Entity>(&txn, vial_id).await?;
    let from: VialStatus = current.status;
    let to = vial_transition(from, VialAction::Discard)?;
    // packed, it is the shipment's: taken out before the seal, or found
    // missing at receipt
    if let Some(shipment_id) = current.shipment_id {
        let shipment = store::find_or_404::<shipment::Entity>(&txn, shipment_id).await?;
        return Err(AppError::InShipment {
            vial: current.code.into(),
            shipment: shipment.code,
        });
    }
    if matches!(from, VialStatus::Reserved | VialStatus::Thawed)
        && let Some(refusal) = held_by_dose(&txn, &current).await?
    {
        return Err(refusal);
    }
    let was = location_of(state, &current).await?;
    let changed = vial::Entity::update_many()
        .col_expr(vial::Column::Status, Expr::value(to))
        .col_expr(vial::Column::BoxId, Expr::value(Option::<Uuid>::None))
        .col_expr(vial::Column::Position, Expr::value(Option::<String>::None))
        .filter(vial::Column::Id.eq(vial_id))
        .filter(vial::Column::Status.eq(from))
        .filter(same_place(&current))
        .exec(&txn)
        .await?;
    if changed.rows_affected != 1 {
        return Err(AppError::ConcurrentChange {
            kind: "vial",
            id: vial_id,
        });
    }
    signatures::append_signed(
        &txn,
        signature,
        now,
        NewEvent::new("vial.discarded", "vial", vial_id)
            .moved(was.as_ref().map(Location::path), None)
            .details(json!({
                "code": current.code,
                "from": from,
                "to": to,
                "reason": reason,
            })),
    )
    .await?;
    txn.commit().await?;
    let mut vial = current;
    vial.status = to;
    vial.box_id = None;
    vial.position = None;
    Ok(VialRecord {
        vial,
        location: None,
    })
}

/// Why a dose still holds the vial, if one does: a verified or infusing
/// dose has it in use (`409 in_use`: the patient may be receiving it); an
/// earlier open dose counts on it, and replacing goes through the dose,
/// which reserves another in the same transaction (`409 vial_reserved`).
async fn held_by_dose(
    txn: &crate::db::WriteTxn,
    vial: &vial::Model,
) -> AppResult<Option<AppError>> {
    let link = dose_vial::Entity::find()
        .filter(dose_vial::Column::VialId.eq(vial.id))
        .filter(dose_vial::Column::RemovedAt.is_null())
        .find_also_related(dose::Entity)
        .order_by_desc(dose_vial::Column::ReservedAt)
        .one(txn)
        .await?;
    let Some((_, Some(dose))) = link else {
        // A reserved vial always belongs to a dose; a thawed one whose dose
        // is gone is free to be discarded.
        return Ok(
            (vial.status == VialStatus::Reserved).then(|| AppError::VialReserved {
                vial_id: vial.id,
                code: vial.code.clone().into(),
                dose_id: Uuid::nil(),
                dose_code: "unknown".to_owned(),
            }),
        );
    };
    let status: DoseStatus = dose.status;
    Ok(if status.in_use() {
        Some(AppError::InUse {
            vial_id: vial.id,
            code: vial.code.clone().into(),
            dose_id: dose.id,
            dose_code: dose.code.into(),
            dose_status: dose.status.to_string(),
        })
    } else if status.is_open() {
        Some(AppError::VialReserved {
            vial_id: vial.id,
            code: vial.code.clone().into(),
            dose_id: dose.id,
            dose_code: dose.code.into(),
        })
    } else {
        None
    })
}

/// Moves `ids` from one of the `from` states to `to` in one guarded UPDATE,
/// freeing their positions when `leave_storage`. If any of them is no
/// longer in a `from` state, another request changed it first: 409 on
/// `owner` (the record the caller is changing) and the caller's transaction
/// rolls back.
pub(crate) async fn transition_all(
    txn: &impl ConnectionTrait,
    ids: &[Uuid],
    from: &[VialStatus],
    to: VialStatus,
    leave_storage: bool,
    owner: (&'static str, Uuid),
) -> AppResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let mut update = vial::Entity::update_many().col_expr(vial::Column::Status, Expr::value(to));
    if leave_storage {
        update = update
            .col_expr(vial::Column::BoxId, Expr::value(Option::<Uuid>::None))
            .col_expr(vial::Column::Position, Expr::value(Option::<String>::None));
    }
    let changed = update
        .filter(vial::Column::Id.is_in(ids.iter().copied()))
        .filter(vial::Column::Status.is_in(from.iter().map(|s| s.as_str())))
        .exec(txn)
        .await?;
    if changed.rows_affected != ids.len() as u64 {
        let (kind, id) = owner;
        return Err(AppError::ConcurrentChange { kind, id });
    }
    Ok(())
}

pub async fn get(state: &AppState, id: Uuid) -> AppResult<VialRecord> {
    let vial = store::find_or_404::<vial::Entity>(state.db.conn(), id).await?;
    let location = location_of(state, &vial).await?;
    Ok(VialRecord { vial, location })
}

/// Most vials one list answers.
pub const MAX_LIST: u64 = 5000;

pub async fn list(
    state: &AppState,
    lot_id: Option<Uuid>,
    status: Option<VialStatus>,
    limit: u64,
) -> AppResult<Vec<VialRecord>> {
    let mut query = vial::Entity::find().order_by_asc(vial::Column::Code);
    if let Some(lot_id) = lot_id {
        query = query.filter(vial::Column::LotId.eq(lot_id));
    }
    if let Some(status) = status {
        query = query.filter(vial::Column::Status.eq(status));
    }
    let vials = query
        .limit(Ord::min(limit, MAX_LIST))
        .all(state.db.conn())
        .await?;
    let mut records = Vec::with_capacity(vials.len());
    for vial in vials {
        let location = location_of(state, &vial).await?;
        records.push(VialRecord { vial, location });
    }
    Ok(records)
}

/// The vial with where it is.
pub(crate) async fn record(state: &AppState, vial: vial::Model) -> AppResult<VialRecord> {
    let location = location_of(state, &vial).await?;
    Ok(VialRecord { vial, location })
}

async fn location_of(state: &AppState, vial: &vial::Model) -> AppResult<Option<Location>> {
    match (vial.box_id, &vial.position) {
        (Some(box_id), Some(position)) => Ok(Some(Location {
            box_unit: storage::unit(state, box_id).await?,
            position: position.clone(),
        })),
        _ => Ok(None),
    }
}

/// Matches the vial only where it was read: a concurrent move makes the
/// conditional update touch nothing.
fn same_place(vial: &vial::Model) -> SimpleExpr {
    let in_box = match vial.box_id {
        Some(id) => vial::Column::BoxId.eq(id),
        None => vial::Column::BoxId.is_null(),
    };
    let at = match &vial.position {
        Some(p) => vial::Column::Position.eq(p.clone()),
        None => vial::Column::Position.is_null(),
    };
    in_box.and(at)
}
