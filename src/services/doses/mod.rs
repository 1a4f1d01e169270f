//! Dose orders: the weight-based calculation, reserving whole vials from one
//! released lot without ever handing a vial to two doses, the post-thaw
//! counts (always recorded: a count is a fact about thawed vials), the
//! pharmacist's signed verification, cancelling, replacing a vial.
//!
//! Every step after the order re-judges what can expire on the server's
//! clock at that moment: the lot (expired, recalled), the weight (voided,
//! older than the protocol allows) and the thawed product's shelf life. A
//! time a client sends never makes an expired product valid.
//!
//! Reservation is one transaction. On SQLite the single writer serialises
//! it; on PostgreSQL each order locks its patient row (so one patient's
//! orders are numbered one at a time) and picks vials with `FOR UPDATE SKIP
//! LOCKED` (so concurrent orders take disjoint vials). Either way the
//! status change is conditional (`WHERE status = 'available'`) and its row
//! count is checked: a vial cannot be reserved twice.
//!
//! By idea: `calculator` (the dose a weight calls for and the lot it would
//! come from), `order` (the schedule's answer and the lot that serves it),
//! `reserve` (the vials reserved and the dose written in one statement),
//! `cancel` (a reservation undone),
//! `preparation` (the post-thaw counts), `verification` (the signed check),
//! `replacement` (a vial replaced); this module holds the dose record and
//! the guards every step re-applies on the server's clock.

mod calculator;
mod cancel;
mod order;
mod preparation;
mod replacement;
mod reserve;
mod verification;

pub use calculator::{Calculation, CalculationInput, LotOption, calculate};
pub use cancel::cancel;
pub(crate) use cancel::release_vials;
pub(crate) use order::schedule;
pub use order::{infusion_starts, order};
pub use preparation::{Counting, VialCount, target_of, thaw};
pub use replacement::replace_vial;
pub use verification::verify;

use calculator::weight_still_valid;

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use crate::db::WriteTxn;
use crate::domain::lifecycle::{DoseStatus, LotStatus};
use crate::domain::protocol::Protocol;
use crate::entities::{dose, dose_vial, infusion, lot, patient, thaw_count, vial, weight};
use crate::error::{AppError, AppResult};
use crate::services::protocol;
use crate::services::store;
use crate::state::AppState;

/// A lot may serve a dose at `at` only released and unexpired.
pub(crate) fn lot_usable(lot: &lot::Model, at: DateTime<Utc>) -> AppResult<()> {
    if lot.status == LotStatus::Recalled {
        return Err(AppError::LotRecalled {
            lot_id: lot.id,
            code: lot.code.clone(),
        });
    }
    if lot.status != LotStatus::Released {
        return Err(AppError::LotNotReleased {
            lot_id: lot.id,
            code: lot.code.clone(),
            status: lot.status.to_string(),
        });
    }
    if lot.expires_at <= at {
        return Err(AppError::LotExpired {
            lot_id: lot.id,
            code: lot.code.clone(),
            expires_at: lot.expires_at,
        });
    }
    Ok(())
}

/// A dose with what it is made of.
#[derive(Debug, Clone)]
pub struct DoseRecord {
    pub dose: dose::Model,
    pub subject_code: String,
    /// The patient's ISBT 128 Chain of Identity identifier (15 data
    /// characters), printed on the bag beside the DIN.
    pub coi: Option<String>,
    /// The patient's second identifier, printed (never encoded) on the bag.
    pub birth_date: NaiveDate,
    pub lot: lot::Model,
    /// The weight the dose was computed from.
    pub weight: weight::Model,
    /// The vials in the dose now, by code.
    pub vials: Vec<vial::Model>,
    /// Vials that left the dose (replaced), with why.
    pub removed: Vec<(vial::Model, String)>,
    /// Every count recorded, oldest first (superseded ones too).
    pub counts: Vec<thaw_count::Model>,
    pub infusion: Option<infusion::Model>,
    /// Infusions the protocol gives each patient.
    pub infusions_total: i32,
    /// When a thawed product must have started infusing.
    pub use_by: Option<DateTime<Utc>>,
    /// The protocol version the dose was ordered under.
    pub rules: std::sync::Arc<Protocol>,
}

impl DoseRecord {
    pub fn status(&self) -> AppResult<DoseStatus> {
        Ok(self.dose.status)
    }

    /// The count of a vial that no later count supersedes.
    pub fn current_count(&self, vial_id: Uuid) -> Option<&thaw_count::Model> {
        let superseded: HashSet<Uuid> =
            self.counts.iter().filter_map(|c| c.supersedes_id).collect();
        self.counts
            .iter()
            .rev()
            .find(|c| c.vial_id == vial_id && !superseded.contains(&c.id))
    }

    /// Whether a count was superseded by a signed correction.
    pub fn is_superseded(&self, count_id: Uuid) -> bool {
        self.counts
            .iter()
            .any(|c| c.supersedes_id == Some(count_id))
    }
}

/// Re-checks, at `at`, what can go stale between the order and the bedside:
/// the lot (recalled, expired) and the weight (voided, too old).
pub(crate) fn still_usable(record: &DoseRecord, at: DateTime<Utc>) -> AppResult<()> {
    lot_usable(&record.lot, at)?;
    weight_still_valid(&record.rules, &record.weight, at)
}

/// Refuses a thawed product past its shelf life at `at`.
pub(crate) fn within_shelf_life(record: &DoseRecord, at: DateTime<Utc>) -> AppResult<()> {
    if let (Some(thawed_at), Some(use_by)) = (record.dose.thawed_at, record.use_by)
        && at > use_by
    {
        return Err(AppError::ThawedProductExpired { thawed_at, use_by });
    }
    Ok(())
}

async fn set_status(
    txn: &WriteTxn,
    dose_id: Uuid,
    from: DoseStatus,
    to: DoseStatus,
    extra: impl FnOnce(sea_orm::UpdateMany<dose::Entity>) -> sea_orm::UpdateMany<dose::Entity>,
) -> AppResult<()> {
    let update = dose::Entity::update_many()
        .col_expr(dose::Column::Status, Expr::value(to))
        .filter(dose::Column::Id.eq(dose_id))
        .filter(dose::Column::Status.eq(from));
    let changed = extra(update).exec(txn).await?;
    if changed.rows_affected != 1 {
        return Err(AppError::ConcurrentChange {
            kind: "dose",
            id: dose_id,
        });
    }
    Ok(())
}

pub async fn get(state: &AppState, id: Uuid) -> AppResult<DoseRecord> {
    load(state, state.db.conn(), id, false).await
}

/// The dose with this code.
pub async fn by_code(db: &impl ConnectionTrait, code: &str) -> AppResult<Option<dose::Model>> {
    Ok(dose::Entity::find()
        .filter(dose::Column::Code.eq(code))
        .one(db)
        .await?)
}

/// Loads a dose and what it is made of; `lock` takes the dose row for
/// update on PostgreSQL (inside a write transaction).
pub async fn load(
    state: &AppState,
    db: &impl ConnectionTrait,
    id: Uuid,
    lock: bool,
) -> AppResult<DoseRecord> {
    let mut find = dose::Entity::find_by_id(id);
    if lock && db.get_database_backend() == DbBackend::Postgres {
        find = find.lock_exclusive();
    }
    let dose = find
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("dose", id))?;
    record(state, db, dose).await
}

/// The dose with its patient, lot, weight, vials, counts and infusion.
pub(crate) async fn record(
    state: &AppState,
    db: &impl ConnectionTrait,
    dose: dose::Model,
) -> AppResult<DoseRecord> {
    let id = dose.id;
    records(state, db, vec![dose])
        .await?
        .pop()
        .ok_or_else(|| AppError::not_found("dose", id))
}

/// The doses, each with its patient, lot, weight, vials, counts and
/// infusion, in the order given: seven queries however many doses (a
/// list's page).
pub(crate) async fn records(
    state: &AppState,
    db: &impl ConnectionTrait,
    doses: Vec<dose::Model>,
) -> AppResult<Vec<DoseRecord>> {
    if doses.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = doses.iter().map(|d| d.id).collect();
    let patients = store::by_ids::<patient::Entity>(db, doses.iter().map(|d| d.patient_id)).await?;
    let lots = store::by_ids::<lot::Entity>(db, doses.iter().map(|d| d.lot_id)).await?;
    let weights = store::by_ids::<weight::Entity>(db, doses.iter().map(|d| d.weight_id)).await?;
    let mut links: HashMap<Uuid, Vec<dose_vial::Model>> = HashMap::new();
    for link in dose_vial::Entity::find()
        .filter(dose_vial::Column::DoseId.is_in(ids.clone()))
        .all(db)
        .await?
    {
        links.entry(link.dose_id).or_default().push(link);
    }
    let vials =
        store::by_ids::<vial::Entity>(db, links.values().flatten().map(|l| l.vial_id)).await?;
    let mut counts: HashMap<Uuid, Vec<thaw_count::Model>> = HashMap::new();
    for count in thaw_count::Entity::find()
        .filter(thaw_count::Column::DoseId.is_in(ids))
        .order_by_asc(thaw_count::Column::RecordedAt)
        .order_by_asc(thaw_count::Column::Id)
        .all(db)
        .await?
    {
        counts.entry(count.dose_id).or_default().push(count);
    }
    // only a dose at or past the bedside has an infusion
    let at_bedside: Vec<Uuid> = doses
        .iter()
        .filter(|d| [DoseStatus::Infusing, DoseStatus::Infused].contains(&d.status))
        .map(|d| d.id)
        .collect();
    let mut infusions: HashMap<Uuid, infusion::Model> = HashMap::new();
    if !at_bedside.is_empty() {
        for infusion in infusion::Entity::find()
            .filter(infusion::Column::DoseId.is_in(at_bedside))
            .all(db)
            .await?
        {
            infusions.entry(infusion.dose_id).or_insert(infusion);
        }
    }
    let mut records = Vec::with_capacity(doses.len());
    for dose in doses {
        let patient = patients
            .get(&dose.patient_id)
            .ok_or_else(|| AppError::not_found("patient", dose.patient_id))?;
        let lot = lots
            .get(&dose.lot_id)
            .cloned()
            .ok_or_else(|| AppError::not_found("lot", dose.lot_id))?;
        let weight = weights
            .get(&dose.weight_id)
            .cloned()
            .ok_or_else(|| AppError::not_found("weight", dose.weight_id))?;
        let mut current = Vec::new();
        let mut removed = Vec::new();
        for link in links.remove(&dose.id).unwrap_or_default() {
            if let Some(v) = vials.get(&link.vial_id).cloned() {
                match link.removed_at {
                    None => current.push(v),
                    Some(_) => removed.push((v, link.removed_reason.unwrap_or_default())),
                }
            }
        }
        current.sort_by(|a, b| a.code.cmp(&b.code));
        let rules = protocol::cached_version(state, db, dose.protocol_version).await?;
        records.push(DoseRecord {
            use_by: dose
                .thawed_at
                .map(|t| crate::domain::dose::use_by(t, rules.post_thaw_shelf_life_minutes)),
            infusions_total: rules.infusions,
            subject_code: patient.subject_code.clone().into(),
            coi: patient.coi.clone(),
            birth_date: patient.birth_date,
            counts: counts.remove(&dose.id).unwrap_or_default(),
            infusion: infusions.remove(&dose.id),
            dose,
            lot,
            weight,
            vials: current,
            removed,
            rules,
        });
    }
    Ok(records)
}
