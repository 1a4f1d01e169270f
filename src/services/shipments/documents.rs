//! A shipment's papers and labels (issue 15): the shipper's side label
//! (`CT1:S:<container code>`) and the labels issued for it, what a scan of
//! a shipper or of a packing list's QR (`CT1:H:<shipment code>`) answers,
//! and the packing list itself (`packing_list`).
//!
//! Everything here carries codes only: shipment, container, vial, lot and
//! DIN codes and the sites' facility codes; never a patient's or donor's
//! name, subject code or birth date (21 CFR 1271.290(c)).

mod packing_list;

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::json;
use uuid::Uuid;

pub use packing_list::{PackingList, packing_list};

use crate::domain::accounts::Role;
use crate::domain::label::check_request;
use crate::domain::scan::{self, ScanKind, payload};
use crate::domain::shipment::ShipmentStatus;
use crate::entities::{shipment, shipping_container};
use crate::error::{AppError, AppResult};
use crate::labels::{LabelData, LabelKind};
use crate::services::auth::AuthenticatedUser;
use crate::services::labels::LabelIssue;
use crate::services::ledger::{self, NewEvent};
use crate::services::scan::Resolved;
use crate::services::{Actor, demo_mark, sites};
use crate::state::AppState;

use super::{ShipmentRecord, get};

/// The ledger action of shipper labels issued for printing.
pub const LABELS_ISSUED: &str = "container.labels_issued";

/// What a shipper's side label prints: its code and its site; the QR
/// carries the code (`CT1:S:DS-07`).
pub async fn shipper_label(state: &AppState, container_id: Uuid) -> AppResult<LabelData> {
    let container = super::container(state, container_id).await?;
    let site = sites::get(state, container.site_id).await?;
    let mut data = LabelData::new(
        LabelKind::Shipper,
        payload(ScanKind::Shipper, &container.code),
    );
    data.set("container_code", container.code);
    data.set("site_name", site.name);
    data.demo = demo_mark::is_demo(state).await?;
    Ok(data)
}

/// Records `count` labels issued for the shipper (lab, at its site), as a
/// vial's labels are counted (FACT-JACIE: every label issued accounted
/// for); a reprint needs a reason. The count is conditional on the one
/// read, so two first prints racing cannot both pass as first prints.
pub async fn issue_shipper_labels(
    state: &AppState,
    actor: &Actor,
    container_id: Uuid,
    count: i32,
    reason: Option<&str>,
) -> AppResult<(shipping_container::Model, LabelIssue)> {
    let reason = check_request(count, reason)?;
    let current = super::container(state, container_id).await?;
    super::check_actor(state, actor, &[Role::Lab], current.site_id).await?;
    let reprint = current.labels_issued > 0;
    if reprint && reason.is_none() {
        return Err(AppError::ReprintReasonRequired);
    }
    let now = state.clock.now();
    let txn = state.db.write().await?;
    let changed = shipping_container::Entity::update_many()
        .col_expr(
            shipping_container::Column::LabelsIssued,
            Expr::col(shipping_container::Column::LabelsIssued).add(count),
        )
        .filter(shipping_container::Column::Id.eq(container_id))
        .filter(shipping_container::Column::LabelsIssued.eq(current.labels_issued))
        .exec(&txn)
        .await?;
    if changed.rows_affected != 1 {
        return Err(AppError::ConcurrentChange {
            kind: "shipping container",
            id: container_id,
        });
    }
    let total = current.labels_issued + count;
    ledger::append(
        &txn,
        actor,
        now,
        NewEvent::new(LABELS_ISSUED, "shipping_container", container_id).details(json!({
            "code": current.code,
            "count": count,
            "reprint": reprint,
            "reason": reason,
            "labels_issued": total,
        })),
    )
    .await?;
    txn.commit().await?;
    let issue = LabelIssue {
        subject_kind: "shipping_container",
        subject_id: container_id,
        count,
        reprint,
        reason,
        issued_at: now,
        issued_by: actor.username.clone(),
        vials: Vec::new(),
    };
    Ok((
        shipping_container::Model {
            labels_issued: total,
            ..current
        },
        issue,
    ))
}

/// Which ends of the shipment the person works at: (sending, receiving).
async fn ends(
    state: &AppState,
    user: &AuthenticatedUser,
    record: &ShipmentRecord,
) -> AppResult<(bool, bool)> {
    let mine = sites::of_user(state, user.user_id).await?;
    Ok((
        mine.contains(&record.shipment.from_site_id),
        mine.contains(&record.shipment.to_site_id),
    ))
}

/// Refuses someone working at neither end of the shipment: its papers are
/// its two sites'.
pub async fn check_either_end(
    state: &AppState,
    user: &AuthenticatedUser,
    record: &ShipmentRecord,
) -> AppResult<()> {
    match ends(state, user, record).await? {
        (false, false) => Err(AppError::NotYourSite {
            site: record.from_site.name.clone(),
        }),
        _ => Ok(()),
    }
}

/// A site as a scan shows it: its name and facility code.
fn site_words(site: &crate::entities::site::Model) -> String {
    format!("{} ({})", site.name, site.facility_code)
}

/// The shipment's part of a scan's details.
fn shipment_details(record: &ShipmentRecord) -> serde_json::Value {
    let s = &record.shipment;
    let sealed = s.sealed_at.is_some();
    let received = record
        .items
        .iter()
        .filter(|i| i.line.as_ref().is_some_and(|l| l.received_at.is_some()))
        .count();
    json!({
        "shipment_id": s.id,
        "shipment_code": s.code,
        "shipment_status": s.status,
        "from_site_id": s.from_site_id,
        "from_site": record.from_site.name,
        "from_facility_code": record.from_site.facility_code,
        "to_site_id": s.to_site_id,
        "to_site": record.to_site.name,
        "to_facility_code": record.to_site.facility_code,
        "container_id": record.container.id,
        "container_code": record.container.code,
        "vial_count": record.items.len(),
        "received_count": received,
        "missing_count": if sealed { record.items.len() - received } else { 0 },
        "sealed_at": s.sealed_at,
        "picked_up_at": s.picked_up_at,
        "arrived_at": s.arrived_at,
        "received_at": s.received_at,
    })
}

fn shipment_summary(record: &ShipmentRecord) -> String {
    format!(
        "Shipment {} · {} · {} → {} · shipper {} · {} vial(s)",
        record.shipment.code,
        record.shipment.status,
        site_words(&record.from_site),
        site_words(&record.to_site),
        record.container.code,
        record.items.len(),
    )
}

/// A packing list's QR (`CT1:H:SH-2026-0012`): the shipment's status,
/// sites, container and vial count, and what the person may do with it
/// now by role and by the end they work at. Someone of a third site sees
/// what it is and may do nothing with it.
pub async fn scan_shipment(
    state: &AppState,
    user: &AuthenticatedUser,
    code: String,
) -> AppResult<Resolved> {
    let Some(found) = shipment::Entity::find()
        .select_only()
        .column(shipment::Column::Id)
        .filter(shipment::Column::Code.eq(code.as_str()))
        .into_tuple::<Uuid>()
        .one(state.db.conn())
        .await?
    else {
        return Err(AppError::UnknownCode {
            kind: "shipment",
            code,
        });
    };
    let record = get(state, found).await?;
    let (sending, receiving) = ends(state, user, &record).await?;
    let status = record.shipment.status;
    let mut details = shipment_details(&record);
    details["sending"] = json!(sending);
    details["receiving"] = json!(receiving);
    details["third_site"] = json!(!(sending || receiving));
    Ok(Resolved {
        kind: "shipment",
        id: record.shipment.id,
        code: record.shipment.code.clone(),
        status: status.as_str(),
        summary: shipment_summary(&record),
        allowed_actions: scan::shipment_actions(user.role, status, sending, receiving),
        details,
    })
}

/// A shipper's label (`CT1:S:DS-07`): the container, where it belongs, and
/// the shipment it is on now (one not yet received or cancelled), if any,
/// with what the person may do with that shipment.
pub async fn scan_shipper(
    state: &AppState,
    user: &AuthenticatedUser,
    code: String,
) -> AppResult<Resolved> {
    let db = state.db.conn();
    let Some(container) = shipping_container::Entity::find()
        .filter(shipping_container::Column::Code.eq(code.as_str()))
        .one(db)
        .await?
    else {
        return Err(AppError::UnknownCode {
            kind: "shipping container",
            code,
        });
    };
    let site = sites::get(state, container.site_id).await?;
    let mine = sites::of_user(state, user.user_id).await?;
    let at_its_site = mine.contains(&container.site_id);
    let current = shipment::Entity::find()
        .select_only()
        .column(shipment::Column::Id)
        .filter(shipment::Column::ContainerId.eq(container.id))
        .filter(shipment::Column::Status.is_not_in([
            ShipmentStatus::Received.as_str(),
            ShipmentStatus::Cancelled.as_str(),
        ]))
        .order_by_desc(shipment::Column::CreatedAt)
        .into_tuple::<Uuid>()
        .one(db)
        .await?;
    let current = match current {
        Some(id) => Some(get(state, id).await?),
        None => None,
    };
    let mut details = json!({
        "container_site_id": container.site_id,
        "site": site.name,
        "facility_code": site.facility_code,
        "labels_issued": container.labels_issued,
        "shipment": null,
    });
    let (summary, shipment_state) = match &current {
        Some(record) => {
            let sending = mine.contains(&record.shipment.from_site_id);
            let receiving = mine.contains(&record.shipment.to_site_id);
            details["shipment"] = shipment_details(record);
            details["third_site"] = json!(!(sending || receiving || at_its_site));
            (
                format!(
                    "Shipper {} · {} · on shipment {} ({}) to {} · {} vial(s)",
                    container.code,
                    site_words(&site),
                    record.shipment.code,
                    record.shipment.status,
                    site_words(&record.to_site),
                    record.items.len(),
                ),
                Some((record.shipment.status, sending, receiving)),
            )
        }
        None => {
            details["third_site"] = json!(!at_its_site);
            (
                format!(
                    "Shipper {} · {} · on no shipment",
                    container.code,
                    site_words(&site)
                ),
                None,
            )
        }
    };
    Ok(Resolved {
        kind: "shipper",
        id: container.id,
        status: if current.is_some() { "in_use" } else { "free" },
        summary,
        allowed_actions: scan::shipper_actions(user.role, at_its_site, shipment_state),
        details,
        code: container.code,
    })
}

/// The container so named (its id or its code) for the `label` command.
pub async fn find_container(
    state: &AppState,
    name: &crate::services::labels::RecordName,
) -> AppResult<Option<Uuid>> {
    use crate::services::labels::RecordName;
    let query = shipping_container::Entity::find()
        .select_only()
        .column(shipping_container::Column::Id);
    let query = match name {
        RecordName::Id(id) => query.filter(shipping_container::Column::Id.eq(*id)),
        RecordName::Code(code) => query.filter(shipping_container::Column::Code.eq(code.as_str())),
    };
    Ok(query.into_tuple().one(state.db.conn()).await?)
}

/// The shipment so named (its id or its code) for the `label` command.
pub async fn find_shipment(
    state: &AppState,
    name: &crate::services::labels::RecordName,
) -> AppResult<Option<Uuid>> {
    use crate::services::labels::RecordName;
    let query = shipment::Entity::find()
        .select_only()
        .column(shipment::Column::Id);
    let query = match name {
        RecordName::Id(id) => query.filter(shipment::Column::Id.eq(*id)),
        RecordName::Code(code) => query.filter(shipment::Column::Code.eq(code.as_str())),
    };
    Ok(query.into_tuple().one(state.db.conn()).await?)
}
