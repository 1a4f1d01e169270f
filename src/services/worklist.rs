//! What needs doing now: the lists the home page shows each role.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use crate::domain::lifecycle::{DoseStatus, LotStatus, VialStatus};
use crate::entities::{dose, lot, patient, vial};
use crate::error::AppResult;
use crate::state::AppState;

/// Stock that expires within this many days is flagged.
pub const EXPIRY_WARNING_DAYS: i64 = 60;

#[derive(Debug, Clone)]
pub struct LotItem {
    pub id: Uuid,
    pub code: String,
    pub status: String,
    pub expires_at: DateTime<Utc>,
    pub vials: i64,
}

#[derive(Debug, Clone)]
pub struct DoseItem {
    pub id: Uuid,
    pub code: String,
    pub status: String,
    pub subject_code: String,
    pub patient_id: Uuid,
    pub infusion_number: i32,
    pub created_at: DateTime<Utc>,
    pub thawed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default)]
pub struct Worklist {
    /// Lots frozen and waiting for QC release.
    pub awaiting_release: Vec<LotItem>,
    /// Doses not yet infused, oldest first.
    pub open_doses: Vec<DoseItem>,
    /// Vials by status, for the statuses that ask for work.
    pub quarantine_vials: i64,
    pub reserved_vials: i64,
    /// Thawed vials with no dose going ahead: to be discarded.
    pub thawed_vials: i64,
    /// Released lots expiring soon, with their available vials.
    pub expiring: Vec<LotItem>,
    /// Lots recalled.
    pub recalled: Vec<LotItem>,
}

pub async fn load(state: &AppState) -> AppResult<Worklist> {
    let db = state.db.conn();
    let now = state.clock.now();
    let lots = lot::Entity::find()
        .filter(lot::Column::Status.is_in([
            LotStatus::Quarantine.as_str(),
            LotStatus::Released.as_str(),
            LotStatus::Recalled.as_str(),
        ]))
        .order_by_asc(lot::Column::ExpiresAt)
        .all(db)
        .await?;
    let counts: Vec<(Uuid, String, i64)> = vial::Entity::find()
        .select_only()
        .column(vial::Column::LotId)
        .column(vial::Column::Status)
        .column_as(vial::Column::Id.count(), "n")
        .group_by(vial::Column::LotId)
        .group_by(vial::Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    let count = |lot_id: Uuid, status: VialStatus| {
        counts
            .iter()
            .filter(|(l, s, _)| *l == lot_id && s == status.as_str())
            .map(|(_, _, n)| *n)
            .sum::<i64>()
    };
    let total = |status: VialStatus| {
        counts
            .iter()
            .filter(|(_, s, _)| s == status.as_str())
            .map(|(_, _, n)| *n)
            .sum::<i64>()
    };
    let mut list = Worklist {
        quarantine_vials: total(VialStatus::Quarantine),
        reserved_vials: total(VialStatus::Reserved),
        thawed_vials: total(VialStatus::Thawed),
        ..Worklist::default()
    };
    for l in lots {
        let item = |vials| LotItem {
            id: l.id,
            code: l.code.clone(),
            status: l.status.clone(),
            expires_at: l.expires_at,
            vials,
        };
        match l.status.as_str() {
            s if s == LotStatus::Quarantine.as_str() => list
                .awaiting_release
                .push(item(count(l.id, VialStatus::Quarantine))),
            s if s == LotStatus::Recalled.as_str() => {
                list.recalled.push(item(count(l.id, VialStatus::Recalled)))
            }
            _ if l.expires_at <= now + Duration::days(EXPIRY_WARNING_DAYS) => {
                list.expiring.push(item(count(l.id, VialStatus::Available)))
            }
            _ => {}
        }
    }
    let doses = dose::Entity::find()
        .filter(dose::Column::Status.is_in(DoseStatus::OPEN.map(DoseStatus::as_str)))
        .find_also_related(patient::Entity)
        .order_by_asc(dose::Column::CreatedAt)
        .all(db)
        .await?;
    list.open_doses = doses
        .into_iter()
        .map(|(d, p)| DoseItem {
            id: d.id,
            code: d.code,
            status: d.status,
            subject_code: p.map(|p| p.subject_code).unwrap_or_default(),
            patient_id: d.patient_id,
            infusion_number: d.infusion_number,
            created_at: d.created_at,
            thawed_at: d.thawed_at,
        })
        .collect();
    Ok(list)
}
