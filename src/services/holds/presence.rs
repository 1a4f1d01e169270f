//! Which vials were inside a storage unit, and when.
//!
//! For a storage unit, the ledger says where
//! each vial was and when: `vial.stored`, `vial.moved` and `vial.received`
//! name the box a vial went into (`box_id` in their details); `vial.frozen`,
//! `vial.thawed`, `vial.discarded`, `vial.packed`, `vial.unpacked` and
//! `vial.lost` take it out of every box. These are the same readings of the
//! same events that the ledger's replay uses to prove the `vials` table,
//! so the presence here is as trustworthy as the table itself, and unlike
//! the table (which keeps only the current and previous box) it holds the
//! whole history: a vial moved out before the excursion, or moved in
//! during it, is placed exactly. Each stay in a box of the unit's tree (the
//! unit itself when it is a box; every box under it when it is a rack or a
//! tank) is a [`Presence`] from the event that put the vial there to the
//! event that took it out; the domain ([`vials_inside`]) decides the
//! overlap. The times are the ledger's (the server's clock at each act).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::Value;
use uuid::Uuid;

use crate::domain::storage::StorageKind;
use crate::domain::temperature::{Excursion, Presence, vials_inside};
use crate::entities::{custody_event, storage_unit};
use crate::error::AppResult;

/// Every box in the tree of `unit_id` (itself when it is a box).
pub async fn boxes_under(
    db: &impl ConnectionTrait,
    unit_id: Uuid,
    site_id: Uuid,
) -> AppResult<HashSet<Uuid>> {
    let units = storage_unit::Entity::find()
        .filter(storage_unit::Column::SiteId.eq(site_id))
        .all(db)
        .await?;
    let mut children: HashMap<Uuid, Vec<&storage_unit::Model>> = HashMap::new();
    let mut root = None;
    for unit in &units {
        if unit.id == unit_id {
            root = Some(unit);
        }
        if let Some(parent) = unit.parent_id {
            children.entry(parent).or_default().push(unit);
        }
    }
    let mut boxes = HashSet::new();
    let mut stack: Vec<&storage_unit::Model> = root.into_iter().collect();
    while let Some(unit) = stack.pop() {
        if unit.kind == StorageKind::Box {
            boxes.insert(unit.id);
        }
        stack.extend(children.get(&unit.id).into_iter().flatten().copied());
    }
    Ok(boxes)
}

/// Each stay of each vial in one of `boxes`, read from the ledger (see the
/// module notes).
pub async fn presences(
    db: &impl ConnectionTrait,
    boxes: &HashSet<Uuid>,
) -> AppResult<Vec<Presence<Uuid>>> {
    if boxes.is_empty() {
        return Ok(Vec::new());
    }
    // Candidates: vials an event put into one of the boxes. The text match
    // may find more (LIKE's `_` matches any character); the details are
    // read exactly below.
    let mut into_any = Condition::any();
    for id in boxes {
        into_any =
            into_any.add(custody_event::Column::Details.like(format!("%\"box_id\":\"{id}\"%")));
    }
    let candidates: Vec<Uuid> = custody_event::Entity::find()
        .select_only()
        .column(custody_event::Column::SubjectId)
        .distinct()
        .filter(custody_event::Column::SubjectKind.eq("vial"))
        .filter(custody_event::Column::Action.is_in(["vial.stored", "vial.moved", "vial.received"]))
        .filter(into_any)
        .into_tuple()
        .all(db)
        .await?;
    let mut stays = Vec::new();
    for chunk in candidates.chunks(500) {
        let events = custody_event::Entity::find()
            .filter(custody_event::Column::SubjectKind.eq("vial"))
            .filter(custody_event::Column::SubjectId.is_in(chunk.iter().copied()))
            .order_by_asc(custody_event::Column::Seq)
            .all(db)
            .await?;
        let mut inside_since: HashMap<Uuid, DateTime<Utc>> = HashMap::new();
        for event in events {
            let place = match event.action.as_str() {
                "vial.stored" | "vial.moved" | "vial.received" => {
                    let details: Value =
                        serde_json::from_str(&event.details).unwrap_or(Value::Null);
                    Some(
                        details["box_id"]
                            .as_str()
                            .and_then(|id| id.parse::<Uuid>().ok()),
                    )
                }
                "vial.frozen" | "vial.thawed" | "vial.discarded" | "vial.packed"
                | "vial.unpacked" | "vial.lost" => Some(None),
                _ => None,
            };
            let Some(place) = place else { continue };
            let now_inside = place.is_some_and(|b| boxes.contains(&b));
            let vial = event.subject_id;
            match (inside_since.get(&vial).copied(), now_inside) {
                (None, true) => {
                    inside_since.insert(vial, event.occurred_at);
                }
                (Some(since), false) => {
                    inside_since.remove(&vial);
                    stays.push(Presence {
                        vial,
                        in_from: since,
                        in_until: Some(event.occurred_at),
                    });
                }
                _ => {}
            }
        }
        stays.extend(inside_since.into_iter().map(|(vial, since)| Presence {
            vial,
            in_from: since,
            in_until: None,
        }));
    }
    Ok(stays)
}

/// The vials inside the unit during the excursion.
pub fn inside(excursion: &Excursion, stays: &[Presence<Uuid>]) -> Vec<Uuid> {
    vials_inside(excursion, stays)
}
