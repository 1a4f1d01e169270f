//! The calculator: a dose from the patient's weight and the protocol, the
//! weight's and the lot's fitness on the server's clock, and the lot a dose
//! would come from.
//!
//! A calculation costs at most two queries, run side by side: the
//! patient's latest weight, and the lots with their available vials
//! counted in the same statement (a third, for a patient never weighed,
//! tells "no such patient" from "not weighed yet").
//! The protocol in force is this instance's (`protocol::in_force`): no
//! query, and an amendment is used within a second everywhere.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Asterisk, Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect, Select,
};
use uuid::Uuid;

use crate::domain::dose::{
    DoseTarget, WeightSource, dose_target, parse_dose_per_kg, plausible_weight, vials_needed,
    weight_source,
};
use crate::domain::lifecycle::{LotStatus, VialStatus};
use crate::domain::protocol::Protocol;
use crate::domain::zone::SiteZone;
use crate::entities::{lot, vial, weight};
use crate::error::{AppError, AppResult};
use crate::services::{patients, protocol};
use crate::state::AppState;

/// What the calculator is asked.
#[derive(Debug, Clone, Copy, Default)]
pub struct CalculationInput {
    pub patient_id: Option<Uuid>,
    pub weight_g: Option<i64>,
    pub dose_per_kg: Option<i64>,
    pub lot_id: Option<Uuid>,
}

/// A lot that can (or, asked for, cannot) serve a dose.
#[derive(Debug, Clone)]
pub struct LotOption {
    pub lot: lot::Model,
    pub vials_needed: i64,
    pub available: i64,
}

/// The calculator's answer, with its working.
#[derive(Debug, Clone)]
pub struct Calculation {
    pub protocol_version: i32,
    pub weight: Option<weight::Model>,
    pub target: DoseTarget,
    pub recovery_pct: i32,
    pub lot: Option<LotOption>,
    pub steps: Vec<String>,
}

/// Works out a dose without changing anything.
///
/// The patient's latest weight and the lots are read at the same time, on
/// two connections: neither needs the other, and a pharmacist waits for
/// the slower of the two instead of both.
pub async fn calculate(state: &AppState, input: CalculationInput) -> AppResult<Calculation> {
    let db = state.db.conn();
    let now = state.clock.now();
    let current = protocol::in_force(state).await?;
    let rules = &current.protocol;
    let source = weight_source(input.patient_id, input.weight_g)?;
    let latest = async {
        match source {
            WeightSource::Patient(patient_id) => patients::latest_weight(db, patient_id).await,
            WeightSource::Given(_) => Ok(None),
        }
    };
    let lots = async {
        match input.lot_id {
            Some(lot_id) => Ok(with_available(lot::Entity::find_by_id(lot_id))
                .one(db)
                .await?
                .into_iter()
                .collect()),
            None => usable_lots(db, now).await,
        }
    };
    let (latest, lots) = tokio::try_join!(latest, lots)?;
    let (weight_g, weight) = match source {
        WeightSource::Patient(patient_id) => {
            // a patient who left the trial has no dose to calculate
            crate::services::withdrawals::refuse_patient_by_id(db, patient_id).await?;
            let Some(weight) = latest else {
                // no weight: of no patient (404), or of one not yet weighed
                patients::find(db, patient_id).await?;
                return Err(AppError::NoWeight);
            };
            weight_still_valid(rules, &weight, now)?;
            (weight.weight_g, Some(weight))
        }
        WeightSource::Given(weight_g) => (
            plausible_weight(weight_g, rules.weight_min_g, rules.weight_max_g)?,
            None,
        ),
    };
    let dose_per_kg = parse_dose_per_kg(input.dose_per_kg.unwrap_or(rules.dose_cells_per_kg))?;
    let target = dose_target(dose_per_kg, weight_g, rules.dose_tolerance_pct);
    let lot = match input.lot_id {
        Some(lot_id) => {
            let LotAvailable { lot, available } = lots
                .into_iter()
                .next()
                .ok_or_else(|| AppError::not_found("lot", lot_id))?;
            let needed = vials_for(&lot, &target, rules).ok_or_else(|| {
                AppError::invalid("lot_id", "the lot is not frozen into vials yet")
            })?;
            Some(LotOption {
                vials_needed: needed,
                available,
                lot,
            })
        }
        None => first_sufficient(lots, rules, &target),
    };
    let steps = working(
        rules,
        &target,
        weight.as_ref(),
        lot.as_ref(),
        state.settings.timezone,
    );
    Ok(Calculation {
        protocol_version: current.version,
        weight,
        target,
        recovery_pct: rules.post_thaw_recovery_pct,
        lot,
        steps,
    })
}

/// The calculation step by step, for the pharmacist's worksheet.
fn working(
    rules: &Protocol,
    target: &DoseTarget,
    weight: Option<&weight::Model>,
    lot: Option<&LotOption>,
    zone: SiteZone,
) -> Vec<String> {
    let mut steps = Vec::new();
    match weight {
        Some(w) => steps.push(format!(
            "weight {} {} measured {} = {} g",
            w.value,
            w.unit,
            zone.minute(w.measured_at),
            target.weight_g
        )),
        None => steps.push(format!("weight {} g", target.weight_g)),
    }
    steps.push(format!(
        "target = {} cells/kg × {} g ÷ 1000 = {} viable cells",
        target.dose_per_kg, target.weight_g, target.target_cells
    ));
    steps.push(format!(
        "accepted = target ± {} % = {} to {} cells",
        target.tolerance_pct, target.min_cells, target.max_cells
    ));
    if let Some(option) = lot {
        let per_vial = option.lot.cells_per_vial.unwrap_or_default();
        steps.push(format!(
            "vials = ⌈{} ÷ ({} cells × {} % recovery)⌉ = {} from lot {} ({} available, expires {})",
            target.target_cells,
            per_vial,
            rules.post_thaw_recovery_pct,
            option.vials_needed,
            option.lot.code,
            option.available,
            zone.day(option.lot.expires_at),
        ));
    }
    steps
}

/// A weight is used only unvoided and measured within the protocol's days.
pub(super) fn weight_still_valid(
    rules: &Protocol,
    weight: &weight::Model,
    at: DateTime<Utc>,
) -> AppResult<()> {
    if weight.voided_at.is_some() {
        return Err(AppError::WeightVoided {
            weight_id: weight.id,
            weight_g: weight.weight_g.get(),
        });
    }
    if weight.measured_at < at - Duration::days(i64::from(rules.weight_valid_days)) {
        return Err(AppError::StaleWeight {
            measured_at: weight.measured_at,
            valid_days: rules.weight_valid_days,
        });
    }
    Ok(())
}

/// The vials of `lot` a dose of `target` needs, allowing for the
/// protocol's post-thaw recovery; `None` for a lot not frozen into vials.
pub(super) fn vials_for(lot: &lot::Model, target: &DoseTarget, rules: &Protocol) -> Option<i64> {
    lot.cells_per_vial.map(|cells_per_vial| {
        vials_needed(
            target.target_cells,
            cells_per_vial,
            rules.post_thaw_recovery_pct,
        )
    })
}

/// A lot with its available vials, counted in the same statement.
#[derive(Debug, FromQueryResult)]
struct LotAvailable {
    #[sea_orm(nested)]
    lot: lot::Model,
    available: i64,
}

/// `lots` with each one's available vials counted alongside (one query).
fn with_available(
    lots: Select<lot::Entity>,
) -> sea_orm::Selector<sea_orm::SelectModel<LotAvailable>> {
    let count = Query::select()
        .expr(Expr::col(Asterisk).count())
        .from(vial::Entity)
        .and_where(
            Expr::col((vial::Entity, vial::Column::LotId)).equals((lot::Entity, lot::Column::Id)),
        )
        .and_where(
            Expr::col((vial::Entity, vial::Column::Status)).eq(VialStatus::Available.as_str()),
        )
        .to_owned();
    lots.expr_as(Expr::SubQuery(None, Box::new(count.into())), "available")
        .into_model::<LotAvailable>()
}

/// The released, unexpired lots frozen into vials, first-expiring first,
/// each with its available vials (one query).
async fn usable_lots(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> AppResult<Vec<LotAvailable>> {
    Ok(with_available(
        lot::Entity::find()
            .filter(lot::Column::Status.eq(LotStatus::Released.as_str()))
            .filter(lot::Column::ExpiresAt.gt(now))
            .filter(lot::Column::CellsPerVial.is_not_null())
            .order_by_asc(lot::Column::ExpiresAt)
            .order_by_asc(lot::Column::Code),
    )
    .all(db)
    .await?)
}

/// The first of `lots` with enough available vials for `target`.
fn first_sufficient(
    lots: Vec<LotAvailable>,
    rules: &Protocol,
    target: &DoseTarget,
) -> Option<LotOption> {
    lots.into_iter()
        .find_map(|LotAvailable { lot, available }| {
            let needed = vials_for(&lot, target, rules)?;
            (available >= needed).then_some(LotOption {
                lot,
                vials_needed: needed,
                available,
            })
        })
}
