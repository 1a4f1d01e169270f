//! What needs doing now: the lists the home page shows each role, of
//! the sites the person works at (`SiteScope`): a ward's pharmacist is not
//! shown the cell lab's quarantine, nor the lab the ward's doses.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::sea_query::{Asterisk, Expr, ExprTrait};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use crate::domain::lifecycle::{DoseStatus, LotStatus, VialStatus};
use crate::domain::patient::next_infusion;
use crate::domain::shipment::ShipmentStatus;
use crate::entities::{dose, dose_vial, infusion, lot, patient, shipment, vial, weight};
use crate::error::AppResult;
use crate::services::lists::SiteScope;
use crate::services::protocol;
use crate::state::AppState;

/// Stock that expires within this many days is flagged.
pub const EXPIRY_WARNING_DAYS: i64 = 60;

#[derive(Debug, Clone)]
pub struct LotItem {
    pub id: Uuid,
    pub code: String,
    pub status: LotStatus,
    pub expires_at: DateTime<Utc>,
    pub vials: i64,
}

#[derive(Debug, Clone)]
pub struct DoseItem {
    pub id: Uuid,
    pub code: String,
    pub status: DoseStatus,
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
    /// Frozen vials in no box yet (quarantine or available): to store.
    pub unstored_vials: i64,
    /// Released lots expiring soon, with their available vials.
    pub expiring: Vec<LotItem>,
    /// Lots recalled.
    pub recalled: Vec<LotItem>,
}

pub async fn load(state: &AppState, sites: &SiteScope) -> AppResult<Worklist> {
    if sites.is_nowhere() {
        return Ok(Worklist::default());
    }
    let db = state.db.conn();
    let backend = db.get_database_backend();
    let now = state.clock.now();
    let mut lots = lot::Entity::find();
    let mut vials = vial::Entity::find();
    let mut unstored = vial::Entity::find();
    let mut doses = dose::Entity::find();
    if let (Some(lot_site), Some(vial_site), Some(unstored_site), Some(patient_site)) = (
        sites.on(backend, lot::Column::SiteId),
        sites.on(backend, vial::Column::SiteId),
        sites.on(backend, vial::Column::SiteId),
        sites.on(backend, patient::Column::SiteId),
    ) {
        lots = lots.filter(lot_site);
        vials = vials.filter(vial_site);
        unstored = unstored.filter(unstored_site);
        doses = doses.filter(patient_site);
    }
    let lots = lots
        .filter(lot::Column::Status.is_in([
            LotStatus::Quarantine.as_str(),
            LotStatus::Released.as_str(),
            LotStatus::Recalled.as_str(),
        ]))
        .order_by_asc(lot::Column::ExpiresAt)
        .all(db)
        .await?;
    let counts: Vec<(Uuid, String, i64)> = vials
        .select_only()
        .column(vial::Column::LotId)
        .column(vial::Column::Status)
        .column_as(Expr::col(Asterisk).count(), "n")
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
    list.unstored_vials = unstored
        .filter(vial::Column::BoxId.is_null())
        .filter(vial::Column::Status.is_in([
            VialStatus::Quarantine.as_str(),
            VialStatus::Available.as_str(),
        ]))
        .count(db)
        .await? as i64;
    for l in lots {
        let item = |vials| LotItem {
            id: l.id,
            code: l.code.clone(),
            status: l.status,
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
    let doses = doses
        .filter(dose::Column::Status.is_in(DoseStatus::OPEN.map(DoseStatus::as_str)))
        .find_also_related(patient::Entity)
        .order_by_asc(dose::Column::CreatedAt)
        .all(db)
        .await?;
    list.open_doses = doses
        .into_iter()
        .map(|(d, p)| DoseItem {
            id: d.id,
            code: d.code.into(),
            status: d.status,
            subject_code: p.map(|p| p.subject_code.into()).unwrap_or_default(),
            patient_id: d.patient_id,
            infusion_number: d.infusion_number,
            created_at: d.created_at,
            thawed_at: d.thawed_at,
        })
        .collect();
    // thawed vials of a dose still going ahead are the pharmacist's, not
    // waste: only the rest are to discard
    let open_ids: Vec<Uuid> = list.open_doses.iter().map(|d| d.id).collect();
    if !open_ids.is_empty() {
        let held: Vec<Uuid> = dose_vial::Entity::find()
            .select_only()
            .column(dose_vial::Column::VialId)
            .filter(dose_vial::Column::DoseId.is_in(open_ids))
            .filter(dose_vial::Column::RemovedAt.is_null())
            .into_tuple()
            .all(db)
            .await?;
        if !held.is_empty() {
            let thawed_held = vial::Entity::find()
                .filter(vial::Column::Status.eq(VialStatus::Thawed))
                .filter(vial::Column::Id.is_in(held))
                .count(db)
                .await? as i64;
            list.thawed_vials -= thawed_held;
        }
    }
    Ok(list)
}

/// A patient whose next infusion the protocol allows today, with no dose
/// in progress.
#[derive(Debug, Clone)]
pub struct InfusionDue {
    pub patient_id: Uuid,
    pub subject_code: String,
    /// Which infusion it would be (1 to the protocol's count).
    pub infusion_number: i32,
    /// The last day of the window, once Day 1 is known.
    pub last_day: Option<NaiveDate>,
    /// The weight a dose would be computed from, if one is recent enough.
    pub current_weight_g: Option<i64>,
}

/// The patients' side of the day: infusions that may be given today (the
/// visits due are `services::visits`). Three queries, whatever the number
/// of patients.
#[derive(Debug, Clone, Default)]
pub struct ClinicDay {
    pub today: Option<NaiveDate>,
    /// How recent a weight must be for a dose (the protocol's days).
    pub weight_valid_days: i32,
    pub infusions_due: Vec<InfusionDue>,
}

pub async fn clinic_day(state: &AppState, sites: &SiteScope) -> AppResult<ClinicDay> {
    if sites.is_nowhere() {
        return Ok(ClinicDay::default());
    }
    let db = state.db.conn();
    let now = state.clock.now();
    let zone = state.settings.timezone;
    let today = zone.date(now);
    let rules = protocol::current(db).await?.protocol;
    let mut patients = patient::Entity::find();
    if let Some(at) = sites.on(db.get_database_backend(), patient::Column::SiteId) {
        patients = patients.filter(at);
    }
    let patients = patients
        .order_by_asc(patient::Column::SubjectCode)
        .all(db)
        .await?;
    let starts: Vec<(Uuid, DateTime<Utc>)> = infusion::Entity::find()
        .select_only()
        .column(infusion::Column::PatientId)
        .column(infusion::Column::StartedAt)
        .into_tuple()
        .all(db)
        .await?;
    let open: Vec<Uuid> = dose::Entity::find()
        .select_only()
        .column(dose::Column::PatientId)
        .filter(dose::Column::Status.is_in(DoseStatus::OPEN.map(DoseStatus::as_str)))
        .into_tuple()
        .all(db)
        .await?;
    // newest first, so the first one seen for a patient is the one a dose
    // would be computed from
    let weights: Vec<(Uuid, i64)> = weight::Entity::find()
        .select_only()
        .column(weight::Column::PatientId)
        .column(weight::Column::WeightG)
        .filter(weight::Column::VoidedAt.is_null())
        .filter(
            weight::Column::MeasuredAt
                .gte(now - Duration::days(i64::from(rules.weight_valid_days))),
        )
        .order_by_desc(weight::Column::MeasuredAt)
        .order_by_desc(weight::Column::RecordedAt)
        .into_tuple()
        .all(db)
        .await?;
    // a patient withdrawn from the trial has no further infusion due
    let withdrawn: Vec<Uuid> =
        crate::services::withdrawals::of_patients(db, patients.iter().map(|p| p.id))
            .await?
            .into_iter()
            .map(|w| w.patient_id)
            .collect();
    let mut day = ClinicDay {
        today: Some(today),
        weight_valid_days: rules.weight_valid_days,
        ..ClinicDay::default()
    };
    for p in patients {
        let given: Vec<NaiveDate> = starts
            .iter()
            .filter(|(id, _)| *id == p.id)
            .map(|(_, t)| zone.date(*t))
            .collect();
        let first_day = given.iter().min().copied();
        if !open.contains(&p.id)
            && !withdrawn.contains(&p.id)
            && let Ok(infusion_number) = next_infusion(&rules, &given, today)
        {
            day.infusions_due.push(InfusionDue {
                patient_id: p.id,
                subject_code: p.subject_code.clone().into(),
                infusion_number,
                last_day: first_day.map(|d| d + Duration::days(i64::from(rules.window_days - 1))),
                current_weight_g: weights.iter().find(|(id, _)| *id == p.id).map(|(_, g)| *g),
            });
        }
    }
    Ok(day)
}

/// Shipments waiting for someone at these sites: to seal or hand to the
/// courier at the sending end, to record the arrival of or receive at the
/// receiving end; oldest first.
pub async fn shipments(state: &AppState, sites: &SiteScope) -> AppResult<Vec<shipment::Model>> {
    let SiteScope::Only(ids) = sites else {
        return Ok(Vec::new());
    };
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sending = shipment::Column::FromSiteId.is_in(ids.iter().copied()).and(
        shipment::Column::Status.is_in([
            ShipmentStatus::Packing.as_str(),
            ShipmentStatus::Sealed.as_str(),
        ]),
    );
    let receiving =
        shipment::Column::ToSiteId
            .is_in(ids.iter().copied())
            .and(shipment::Column::Status.is_in([
                ShipmentStatus::InTransit.as_str(),
                ShipmentStatus::Arrived.as_str(),
            ]));
    Ok(shipment::Entity::find()
        .filter(sending.or(receiving))
        .order_by_asc(shipment::Column::CreatedAt)
        .limit(50)
        .all(state.db.conn())
        .await?)
}
