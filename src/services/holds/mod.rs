//! Holds: the vials a temperature excursion stopped, and quality's signed
//! decision on them (release from hold, or discard).
//!
//! An excursion that holds ([`Excursion::holds`]) opens one hold: one row
//! in `holds`, one custody event `hold.opened` for the excursion, and one
//! `vial.held` per vial it stopped, all in one transaction. A vial keeps
//! the status it had in `vials.held_from`; released, it gets that status
//! back, except a vial held from `quarantine` whose lot was released
//! meanwhile, which becomes `available` (the release found it on hold and
//! left it). A vial already on hold from another excursion is listed in
//! the new hold too (`held_from` empty there) and stays held until every
//! open hold on it is decided.
//!
//! Which vials were inside a storage unit: see [`presence`]; quality's
//! decision: [`decision`].

mod decision;
mod presence;

pub use decision::{Decide, decide};
pub(crate) use presence::{boxes_under, inside, presences};

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
    QuerySelect, SqlErr,
};
use serde_json::json;
use uuid::Uuid;

use crate::db::WriteTxn;
use crate::domain::lifecycle::{VialAction, VialStatus, vial_transition};
use crate::domain::temperature::{Excursion, Limits};
use crate::entities::hold::{self, HoldStatus, SourceKind};
use crate::entities::{hold_vial, vial};
use crate::error::{AppError, AppResult};
use crate::services::ledger::{self, NewEvent};
use crate::services::lists::{Page, SiteScope};
use crate::services::{Actor, store};
use crate::state::AppState;

/// The statuses a hold stops: a vial still in the cold chain.
const HOLDABLE: [VialStatus; 4] = [
    VialStatus::Quarantine,
    VialStatus::Available,
    VialStatus::Reserved,
    VialStatus::InTransit,
];

/// The thing whose temperature went out of its limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Source {
    pub kind: SourceKind,
    pub id: Uuid,
    pub site_id: Uuid,
}

/// A hold with its vials.
#[derive(Debug, Clone)]
pub struct HoldRecord {
    pub hold: hold::Model,
    pub vials: Vec<HeldVial>,
}

/// One vial of a hold, with its code and status now.
#[derive(Debug, Clone)]
pub struct HeldVial {
    pub link: hold_vial::Model,
    pub code: String,
    pub status: VialStatus,
}

/// What one excursion did.
#[derive(Debug, Clone)]
pub struct Opened {
    pub hold_id: Uuid,
    /// Newly held by this excursion.
    pub held: Vec<Uuid>,
    /// Inside during the excursion but past holding (thawed, infused,
    /// discarded, recalled since): named for quality, not held.
    pub not_held: Vec<(Uuid, String)>,
}

/// Puts the vials inside during `excursion` on hold (see the module notes),
/// or, when this excursion already has a hold and grew since (more readings
/// above the limit), records its new extent and holds the vials that came
/// in meanwhile. Inside the caller's transaction.
pub(crate) async fn open_for_excursion(
    txn: &WriteTxn,
    actor: &Actor,
    now: DateTime<Utc>,
    source: Source,
    limits: &Limits,
    excursion: &Excursion,
    inside: &[Uuid],
) -> AppResult<Option<Opened>> {
    let existing = hold::Entity::find()
        .filter(hold::Column::SourceKind.eq(source.kind))
        .filter(hold::Column::SourceId.eq(source.id))
        .filter(hold::Column::ExcursionStart.eq(excursion.start))
        .one(txn)
        .await?;
    let already: HashSet<Uuid> = match &existing {
        Some(hold) => hold_vial::Entity::find()
            .filter(hold_vial::Column::HoldId.eq(hold.id))
            .all(txn)
            .await?
            .into_iter()
            .map(|link| link.vial_id)
            .collect(),
        None => HashSet::new(),
    };
    if let Some(hold) = &existing
        && hold.excursion_end >= excursion.end
        && inside.iter().all(|id| already.contains(id))
    {
        return Ok(None);
    }
    let new_ids: Vec<Uuid> = inside
        .iter()
        .copied()
        .filter(|id| !already.contains(id))
        .collect();
    let vials = store::by_ids::<vial::Entity>(txn, new_ids.iter().copied()).await?;
    let mut to_hold: Vec<&vial::Model> = Vec::new();
    let mut already_held: Vec<&vial::Model> = Vec::new();
    let mut not_held = Vec::new();
    for id in &new_ids {
        let Some(vial) = vials.get(id) else { continue };
        if HOLDABLE.contains(&vial.status) {
            to_hold.push(vial);
        } else if vial.status == VialStatus::OnHold {
            already_held.push(vial);
        } else {
            not_held.push((vial.id, vial.code.to_string()));
        }
    }
    let hold_id = match &existing {
        Some(hold) => hold.id,
        None => Uuid::now_v7(),
    };
    let count = (already.len() + to_hold.len() + already_held.len()) as i32;
    match &existing {
        None => {
            let row = hold::Model {
                id: hold_id,
                cause: "excursion".into(),
                source_kind: source.kind,
                source_id: source.id,
                site_id: source.site_id,
                excursion_start: excursion.start,
                excursion_end: excursion.end,
                back_within_limit: excursion.back_within_limit,
                peak_centi_celsius: excursion.peak.get(),
                peak_at: excursion.peak_at,
                limit_centi_celsius: limits.max.get(),
                allowed_minutes: limits.allowed_minutes as i32,
                vial_count: count,
                status: HoldStatus::Open,
                created_at: now,
                decided_at: None,
                decided_by: None,
                decision: None,
                reason: None,
            };
            if let Err(error) = hold::Entity::insert(row.into_active_model())
                .exec_without_returning(txn)
                .await
            {
                return Err(match error.sql_err() {
                    // another request recorded the same excursion first
                    Some(SqlErr::UniqueConstraintViolation(_)) => AppError::ConcurrentChange {
                        kind: "hold",
                        id: hold_id,
                    },
                    _ => error.into(),
                });
            }
        }
        Some(hold) => {
            store_update_extent(txn, hold, excursion, count).await?;
        }
    }
    // each vial from the status it has, in one guarded UPDATE per status
    let mut by_status: HashMap<VialStatus, Vec<Uuid>> = HashMap::new();
    for vial in &to_hold {
        vial_transition(vial.status, VialAction::Hold)?;
        by_status.entry(vial.status).or_default().push(vial.id);
    }
    for (from, ids) in &by_status {
        let changed = vial::Entity::update_many()
            .col_expr(vial::Column::Status, Expr::value(VialStatus::OnHold))
            .col_expr(vial::Column::HeldFrom, Expr::value(Some(*from)))
            .filter(vial::Column::Id.is_in(ids.iter().copied()))
            .filter(vial::Column::Status.eq(*from))
            .exec(txn)
            .await?;
        if changed.rows_affected != ids.len() as u64 {
            return Err(AppError::ConcurrentChange {
                kind: "hold",
                id: hold_id,
            });
        }
    }
    let links: Vec<hold_vial::ActiveModel> = to_hold
        .iter()
        .map(|v| (v.id, Some(v.status)))
        .chain(already_held.iter().map(|v| (v.id, None)))
        .map(|(vial_id, held_from)| {
            hold_vial::Model {
                hold_id,
                vial_id,
                held_from,
                decision: None,
                decided_at: None,
                decided_by: None,
                reason: None,
            }
            .into_active_model()
        })
        .collect();
    if !links.is_empty() {
        hold_vial::Entity::insert_many(links)
            .exec_without_returning(txn)
            .await?;
    }
    let excursion_details = json!({
        "source_kind": source.kind.as_str(),
        "source_id": source.id,
        "start": excursion.start,
        "end": excursion.end,
        "back_within_limit": excursion.back_within_limit,
        "peak_centi_celsius": excursion.peak.get(),
        "peak_at": excursion.peak_at,
        "limit_centi_celsius": limits.max.get(),
        "allowed_minutes": limits.allowed_minutes,
        "vials_held": to_hold.iter().map(|v| v.code.to_string()).collect::<Vec<_>>(),
        "vials_already_on_hold": already_held.iter().map(|v| v.code.to_string()).collect::<Vec<_>>(),
        "vials_inside_not_held": not_held.iter().map(|(_, code)| code.clone()).collect::<Vec<_>>(),
    });
    let mut events = vec![
        NewEvent::new(
            if existing.is_some() {
                "hold.extended"
            } else {
                "hold.opened"
            },
            "hold",
            hold_id,
        )
        .details(excursion_details),
    ];
    events.extend(to_hold.iter().map(|v| {
        NewEvent::new("vial.held", "vial", v.id).details(json!({
            "code": v.code,
            "from": v.status,
            "to": VialStatus::OnHold,
            "hold_id": hold_id,
            "cause": "excursion",
        }))
    }));
    ledger::append_many(txn, actor, now, events).await?;
    Ok(Some(Opened {
        hold_id,
        held: to_hold.iter().map(|v| v.id).collect(),
        not_held,
    }))
}

async fn store_update_extent(
    txn: &WriteTxn,
    hold: &hold::Model,
    excursion: &Excursion,
    count: i32,
) -> AppResult<()> {
    let changed = hold::Entity::update_many()
        .col_expr(hold::Column::ExcursionEnd, Expr::value(excursion.end))
        .col_expr(
            hold::Column::BackWithinLimit,
            Expr::value(excursion.back_within_limit),
        )
        .col_expr(
            hold::Column::PeakCentiCelsius,
            Expr::value(excursion.peak.get()),
        )
        .col_expr(hold::Column::PeakAt, Expr::value(excursion.peak_at))
        .col_expr(hold::Column::VialCount, Expr::value(count))
        .col_expr(hold::Column::Status, Expr::value(HoldStatus::Open))
        .filter(hold::Column::Id.eq(hold.id))
        .filter(hold::Column::ExcursionEnd.eq(hold.excursion_end))
        .filter(hold::Column::VialCount.eq(hold.vial_count))
        .exec(txn)
        .await?;
    if changed.rows_affected != 1 {
        return Err(AppError::ConcurrentChange {
            kind: "hold",
            id: hold.id,
        });
    }
    Ok(())
}

/// Holds, newest first, at the sites asked for; `open` only when asked.
pub async fn list(
    state: &AppState,
    sites: &SiteScope,
    status: Option<HoldStatus>,
    limit: u64,
    before: Option<Uuid>,
) -> AppResult<Page<HoldRecord>> {
    let mut select = hold::Entity::find().order_by_desc(hold::Column::Id);
    if let SiteScope::Only(ids) = sites {
        if ids.is_empty() {
            return Ok(Page {
                items: Vec::new(),
                next_cursor: None,
            });
        }
        select = select.filter(hold::Column::SiteId.is_in(ids.iter().copied()));
    }
    if let Some(status) = status {
        select = select.filter(hold::Column::Status.eq(status));
    }
    if let Some(before) = before {
        select = select.filter(hold::Column::Id.lt(before));
    }
    let mut holds = select.limit(limit + 1).all(state.db.conn()).await?;
    let next_cursor = if holds.len() as u64 > limit {
        holds.truncate(limit as usize);
        holds
            .last()
            .map(|h| crate::domain::paging::cursor_after(&h.id.to_string().to_uppercase()))
    } else {
        None
    };
    let mut items = Vec::with_capacity(holds.len());
    for hold in holds {
        items.push(with_vials(state.db.conn(), hold).await?);
    }
    Ok(Page { items, next_cursor })
}

pub async fn get(state: &AppState, id: Uuid) -> AppResult<HoldRecord> {
    let hold = hold::Entity::find_by_id(id)
        .one(state.db.conn())
        .await?
        .ok_or_else(|| AppError::not_found("hold", id))?;
    with_vials(state.db.conn(), hold).await
}

/// The open holds at a site, for its pages.
pub async fn open_at(state: &AppState, source: (SourceKind, Uuid)) -> AppResult<Vec<HoldRecord>> {
    let holds = hold::Entity::find()
        .filter(hold::Column::SourceKind.eq(source.0))
        .filter(hold::Column::SourceId.eq(source.1))
        .order_by_desc(hold::Column::Id)
        .all(state.db.conn())
        .await?;
    let mut records = Vec::new();
    for hold in holds {
        records.push(with_vials(state.db.conn(), hold).await?);
    }
    Ok(records)
}

async fn with_vials(db: &impl ConnectionTrait, hold: hold::Model) -> AppResult<HoldRecord> {
    let links = hold_vial::Entity::find()
        .filter(hold_vial::Column::HoldId.eq(hold.id))
        .all(db)
        .await?;
    let vials = store::by_ids::<vial::Entity>(db, links.iter().map(|l| l.vial_id)).await?;
    let mut held: Vec<HeldVial> = links
        .into_iter()
        .filter_map(|link| {
            let vial = vials.get(&link.vial_id)?;
            Some(HeldVial {
                code: vial.code.to_string(),
                status: vial.status,
                link,
            })
        })
        .collect();
    held.sort_by(|a, b| a.code.cmp(&b.code));
    Ok(HoldRecord { hold, vials: held })
}

/// Gives a held vial back what it had (`held_from`, or the link's when the
/// vial's own was cleared; `available` when neither says), except that a
/// vial held in quarantine whose lot was released meanwhile comes back
/// `available` (the release found it on hold and left it). One guarded
/// UPDATE from `on_hold`; the status it got.
pub(crate) async fn give_back(
    txn: &WriteTxn,
    vial: &vial::Model,
    link_held_from: Option<VialStatus>,
    lot_released: bool,
) -> AppResult<VialStatus> {
    let held_from = vial
        .held_from
        .or(link_held_from)
        .unwrap_or(VialStatus::Available);
    let to = if held_from == VialStatus::Quarantine && lot_released {
        VialStatus::Available
    } else {
        held_from
    };
    store::guarded_update(
        txn,
        vial.id,
        vial::Entity::update_many()
            .col_expr(vial::Column::Status, Expr::value(to))
            .col_expr(
                vial::Column::HeldFrom,
                Expr::value(Option::<VialStatus>::None),
            )
            .filter(vial::Column::Status.eq(VialStatus::OnHold)),
    )
    .await?;
    Ok(to)
}

/// Discards a vial from the status it has (quality's decision on a hold):
/// out of its box, `held_from` cleared. One guarded UPDATE; the place it
/// was, for the event.
pub(crate) async fn discard_held(
    state: &AppState,
    txn: &WriteTxn,
    vial: &vial::Model,
) -> AppResult<Option<String>> {
    let was = match (vial.box_id, &vial.position) {
        (Some(box_id), Some(position)) => Some(crate::domain::storage::location_path(
            [crate::services::storage::unit(state, box_id)
                .await?
                .path
                .as_str()],
            Some(position),
        )),
        _ => None,
    };
    store::guarded_update(
        txn,
        vial.id,
        vial::Entity::update_many()
            .col_expr(vial::Column::Status, Expr::value(VialStatus::Discarded))
            .col_expr(
                vial::Column::HeldFrom,
                Expr::value(Option::<VialStatus>::None),
            )
            .col_expr(vial::Column::BoxId, Expr::value(Option::<Uuid>::None))
            .col_expr(vial::Column::Position, Expr::value(Option::<String>::None))
            .filter(vial::Column::Status.eq(vial.status)),
    )
    .await?;
    Ok(was)
}

/// Whether `status` is one a hold stops.
pub fn holdable(status: VialStatus) -> bool {
    HOLDABLE.contains(&status)
}
