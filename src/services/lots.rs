//! Lots: made from a donation, frozen into vials, and released or rejected
//! by a quality officer's signature (their QC results: `services::qc`).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Asterisk, Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::json;
use uuid::Uuid;

use crate::clock::not_in_future;
use crate::domain::codes::{MAX_LOTS_PER_DONATION, VialCode, lot_code, parse_product_code};
use crate::domain::donor::{Eligibility, screening_gaps};
use crate::domain::lifecycle::{LotAction, LotStatus, VialStatus, lot_transition};
use crate::domain::lot::{
    Vials, check_expiry, check_frozen_after_made, check_made_after_collection, check_passage,
};
use crate::domain::qc::{Conclusion, QcStanding, ResultFact, Specification, standing};
use crate::domain::reason::Reason;
use crate::entities::{donation, donor, lot, qc_result, screening_result, vial};
use crate::error::{AppError, AppResult};
use crate::services::Actor;
use crate::services::donors::screenings;
use crate::services::ledger::{self, NewEvent};
use crate::services::protocol;
use crate::services::signatures::{self, VerifiedSignature};
use crate::services::{sites, store};
use crate::state::AppState;

/// A lot with its QC and vial counts.
#[derive(Debug, Clone)]
pub struct LotRecord {
    pub lot: lot::Model,
    /// Every result, oldest first.
    pub qc: Vec<qc_result::Model>,
    pub standing: QcStanding,
    pub vial_counts: BTreeMap<String, u64>,
}

#[derive(Debug, Clone)]
pub struct NewLot<'a> {
    pub donation_id: Uuid,
    pub product_code: &'a str,
    pub passage: i32,
    pub manufactured_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// The site making it: one of the maker's (by default their only one).
    pub site_id: Option<Uuid>,
}

pub async fn create(state: &AppState, actor: &Actor, new: NewLot<'_>) -> AppResult<LotRecord> {
    let product_code = parse_product_code(new.product_code)?;
    check_passage(new.passage)?;
    let now = state.clock.now();
    not_in_future("manufactured_at", new.manufactured_at, now)?;
    check_expiry(new.manufactured_at, new.expires_at)?;
    let site_id = sites::for_new_record(state, actor, new.site_id).await?;
    let txn = state.db.write().await?;
    let mut find_donation = donation::Entity::find_by_id(new.donation_id);
    if txn.get_database_backend() == DbBackend::Postgres {
        // Numbers lots of one donation one at a time.
        find_donation = find_donation.lock_exclusive();
    }
    let donation = find_donation
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("donation", new.donation_id))?;
    check_made_after_collection(new.manufactured_at, donation.collected_at)?;
    let donor = store::find_or_404::<donor::Entity>(&txn, donation.donor_id).await?;
    let eligibility: Eligibility = donor.eligibility;
    if eligibility == Eligibility::Ineligible {
        return Err(AppError::DonorNotEligible {
            donor_id: donor.id,
            eligibility,
            gaps: None,
        });
    }
    let existing = lot::Entity::find()
        .filter(lot::Column::DonationId.eq(donation.id))
        .count(&txn)
        .await?;
    let number = u32::try_from(existing + 1).unwrap_or(u32::MAX);
    if number > MAX_LOTS_PER_DONATION {
        return Err(AppError::Exhausted(format!(
            "donation {} already has {MAX_LOTS_PER_DONATION} lots",
            donation.din
        )));
    }
    let model = lot::Model {
        id: Uuid::now_v7(),
        donation_id: donation.id,
        code: lot_code(&donation.din, number),
        din: donation.din.clone(),
        product_code,
        passage: new.passage,
        manufactured_at: new.manufactured_at,
        expires_at: new.expires_at,
        status: LotStatus::InProcess,
        frozen_at: None,
        cells_per_vial: None,
        volume_ul: None,
        vial_count: None,
        created_at: now,
        site_id,
    };
    lot::Entity::insert(model.clone().into_active_model())
        .exec_without_returning(&txn)
        .await?;
    ledger::append(
        &txn,
        actor,
        now,
        NewEvent::new("lot.created", "lot", model.id).details(json!({
            "code": model.code,
            "donation_id": donation.id,
            "din": donation.din,
            "product_code": model.product_code,
            "passage": model.passage,
            "manufactured_at": model.manufactured_at,
            "expires_at": model.expires_at,
            "site_id": site_id,
        })),
    )
    .await?;
    let spec = protocol::specification(&txn).await?;
    txn.commit().await?;
    Ok(LotRecord {
        standing: standing(&spec, &[]),
        lot: model,
        qc: Vec::new(),
        vial_counts: BTreeMap::new(),
    })
}

#[derive(Debug, Clone, Copy)]
pub struct Freezing {
    pub vial_count: i32,
    pub cells_per_vial: i64,
    pub volume_ul: i64,
    pub frozen_at: DateTime<Utc>,
}

/// Freezes the lot into vials (`in_process -> quarantine`); each vial gets
/// its code and its own ledger event. Answers the lot as `get` does (its QC
/// results and vial counts, read in the same transaction) and the new vials.
pub async fn freeze(
    state: &AppState,
    actor: &Actor,
    lot_id: Uuid,
    freezing: Freezing,
) -> AppResult<(LotRecord, Vec<vial::Model>)> {
    let vials = Vials::parse(
        freezing.vial_count,
        freezing.cells_per_vial,
        freezing.volume_ul,
    )?;
    let now = state.clock.now();
    not_in_future("frozen_at", freezing.frozen_at, now)?;
    let txn = state.db.write().await?;
    let lot = store::find_or_404::<lot::Entity>(&txn, lot_id).await?;
    let from: LotStatus = lot.status;
    let to = lot_transition(from, LotAction::Freeze)?;
    check_frozen_after_made(freezing.frozen_at, lot.manufactured_at)?;
    store::guarded_update(
        &txn,
        lot_id,
        lot::Entity::update_many()
            .col_expr(lot::Column::Status, Expr::value(to))
            .col_expr(lot::Column::FrozenAt, Expr::value(freezing.frozen_at))
            .col_expr(lot::Column::CellsPerVial, Expr::value(vials.cells_per_vial))
            .col_expr(lot::Column::VolumeUl, Expr::value(vials.volume_ul))
            .col_expr(lot::Column::VialCount, Expr::value(vials.count as i32))
            .filter(lot::Column::Status.eq(from)),
    )
    .await?;
    let frozen = vials;
    let vials: Vec<vial::Model> = (1..=frozen.count)
        .map(|n| vial::Model {
            id: Uuid::now_v7(),
            lot_id,
            code: VialCode::new(&lot.code, n),
            din: lot.din.clone(),
            status: VialStatus::Quarantine,
            cells_per_vial: frozen.cells_per_vial,
            volume_ul: frozen.volume_ul,
            frozen_at: freezing.frozen_at,
            box_id: None,
            position: None,
            labels_issued: 0,
            created_at: now,
            previous_box_id: None,
            previous_position: None,
            site_id: lot.site_id,
            shipment_id: None,
            held_from: None,
        })
        .collect();
    for chunk in vials.chunks(200) {
        vial::Entity::insert_many(chunk.iter().map(|v| v.clone().into_active_model()))
            .exec_without_returning(&txn)
            .await?;
    }
    let mut events = vec![NewEvent::new("lot.frozen", "lot", lot_id).details(json!({
        "from": from,
        "to": to,
        "vial_count": freezing.vial_count,
        "cells_per_vial": freezing.cells_per_vial,
        "volume_ul": freezing.volume_ul,
        "frozen_at": freezing.frozen_at,
    }))];
    events.extend(vials.iter().map(|v| {
        NewEvent::new("vial.frozen", "vial", v.id).details(json!({
            "code": v.code,
            "lot_id": lot_id,
            "status": v.status,
            "cells_per_vial": v.cells_per_vial,
            "volume_ul": v.volume_ul,
        }))
    }));
    ledger::append_many(&txn, actor, now, events).await?;
    let record = load(&txn, lot_id).await?;
    txn.commit().await?;
    Ok((record, vials))
}

/// Releases a lot for clinical use, signed: the lot must be in quarantine
/// and unexpired, its donor eligible with complete, negative, in-window
/// screening, and the latest result of every required QC test passing.
/// Its quarantined vials become available.
pub async fn release(
    state: &AppState,
    signature: &VerifiedSignature,
    lot_id: Uuid,
) -> AppResult<LotRecord> {
    let now = state.clock.now();
    let txn = state.db.write().await?;
    let mut record = load(&txn, lot_id).await?;
    let from: LotStatus = record.lot.status;
    let to = lot_transition(from, LotAction::Release)?;
    // a lot whose donor withdrew consent waits for quality's decision on it
    crate::services::withdrawals::refuse_lot(&txn, &record.lot).await?;
    if record.lot.expires_at <= now {
        return Err(AppError::LotExpired {
            lot_id,
            code: record.lot.code.clone(),
            expires_at: record.lot.expires_at,
        });
    }
    let donation = store::find_or_404::<donation::Entity>(&txn, record.lot.donation_id).await?;
    let donor = store::find_or_404::<donor::Entity>(&txn, donation.donor_id).await?;
    let eligibility: Eligibility = donor.eligibility;
    let screening = screening_result::Entity::find()
        .filter(screening_result::Column::DonorId.eq(donor.id))
        .order_by_asc(screening_result::Column::RecordedAt)
        .order_by_asc(screening_result::Column::Id)
        .all(&txn)
        .await?;
    // Eligibility is re-checked against the screening as it stands now: a
    // reactive result recorded after the decision blocks release too.
    let gaps = screening_gaps(&screenings(&screening)?, &[donation.collected_at]);
    if eligibility != Eligibility::Eligible || !gaps.is_empty() {
        return Err(AppError::DonorNotEligible {
            donor_id: donor.id,
            eligibility,
            gaps: Some(gaps),
        });
    }
    if !record.standing.missing.is_empty() {
        return Err(AppError::QcIncomplete(record.standing));
    }
    if !record.standing.failed.is_empty() {
        return Err(AppError::QcFailed(record.standing));
    }
    set_status(&txn, lot_id, from, to).await?;
    let released_vials: Vec<Uuid> = vial::Entity::find()
        .select_only()
        .column(vial::Column::Id)
        .filter(vial::Column::LotId.eq(lot_id))
        .filter(vial::Column::Status.eq(VialStatus::Quarantine))
        .into_tuple()
        .all(&txn)
        .await?;
    vial::Entity::update_many()
        .col_expr(vial::Column::Status, Expr::value(VialStatus::Available))
        .filter(vial::Column::LotId.eq(lot_id))
        .filter(vial::Column::Status.eq(VialStatus::Quarantine))
        .exec(&txn)
        .await?;
    signatures::append_signed(
        &txn,
        signature,
        now,
        NewEvent::new("lot.released", "lot", lot_id).details(json!({
            "from": from,
            "to": to,
            "donor_id": donor.id,
            "qc_result_ids": latest_ids(&record.qc),
            "vials_released": released_vials.len(),
        })),
    )
    .await?;
    let vial_events = released_vials.iter().map(|id| {
        NewEvent::new("vial.released", "vial", *id).details(json!({
            "from": VialStatus::Quarantine,
            "to": VialStatus::Available,
            "lot_id": lot_id,
        }))
    });
    ledger::append_many(&txn, &signature.signer.actor(), now, vial_events.collect()).await?;
    txn.commit().await?;
    record.lot.status = to;
    let moved = released_vials.len() as u64;
    let quarantine = VialStatus::Quarantine.as_str();
    let left = record
        .vial_counts
        .remove(quarantine)
        .unwrap_or(0)
        .saturating_sub(moved);
    if left > 0 {
        record.vial_counts.insert(quarantine.into(), left);
    }
    if moved > 0 {
        *record
            .vial_counts
            .entry(VialStatus::Available.to_string())
            .or_default() += moved;
    }
    Ok(record)
}

/// Rejects a lot, signed, with a reason. Its vials stay where they are, in
/// quarantine, until the lab discards them.
pub async fn reject(
    state: &AppState,
    signature: &VerifiedSignature,
    lot_id: Uuid,
    reason: &str,
) -> AppResult<LotRecord> {
    let reason = Reason::parse(reason)?;
    let now = state.clock.now();
    let txn = state.db.write().await?;
    let mut record = load(&txn, lot_id).await?;
    let from: LotStatus = record.lot.status;
    let to = lot_transition(from, LotAction::Reject)?;
    set_status(&txn, lot_id, from, to).await?;
    signatures::append_signed(
        &txn,
        signature,
        now,
        NewEvent::new("lot.rejected", "lot", lot_id).details(json!({
            "from": from,
            "to": to,
            "reason": reason,
            "qc_result_ids": latest_ids(&record.qc),
        })),
    )
    .await?;
    txn.commit().await?;
    record.lot.status = to;
    Ok(record)
}

pub async fn get(state: &AppState, id: Uuid) -> AppResult<LotRecord> {
    load(state.db.conn(), id).await
}

pub(crate) async fn load(db: &impl ConnectionTrait, id: Uuid) -> AppResult<LotRecord> {
    let lot = store::find_or_404::<lot::Entity>(db, id).await?;
    let mut records = records(db, vec![lot]).await?;
    records.pop().ok_or_else(|| AppError::not_found("lot", id))
}

/// The lots with their QC results, standing and vial counts, in the order
/// given: three queries however many lots (a list's page).
pub(crate) async fn records(
    db: &impl ConnectionTrait,
    lots: Vec<lot::Model>,
) -> AppResult<Vec<LotRecord>> {
    if lots.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = lots.iter().map(|l| l.id).collect();
    let mut qc: BTreeMap<Uuid, Vec<qc_result::Model>> = BTreeMap::new();
    for result in qc_result::Entity::find()
        .filter(qc_result::Column::LotId.is_in(ids.clone()))
        .order_by_asc(qc_result::Column::RecordedAt)
        .order_by_asc(qc_result::Column::Id)
        .all(db)
        .await?
    {
        qc.entry(result.lot_id).or_default().push(result);
    }
    let counts: Vec<(Uuid, String, i64)> = vial::Entity::find()
        .select_only()
        .column(vial::Column::LotId)
        .column(vial::Column::Status)
        .column_as(Expr::col(Asterisk).count(), "n")
        .filter(vial::Column::LotId.is_in(ids))
        .group_by(vial::Column::LotId)
        .group_by(vial::Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    let mut vial_counts: BTreeMap<Uuid, BTreeMap<String, u64>> = BTreeMap::new();
    for (lot_id, status, n) in counts {
        vial_counts
            .entry(lot_id)
            .or_default()
            .insert(status, u64::try_from(n).unwrap_or(0));
    }
    let spec = protocol::specification(db).await?;
    lots.into_iter()
        .map(|lot| {
            let qc = qc.remove(&lot.id).unwrap_or_default();
            Ok(LotRecord {
                standing: standing_of(&spec, &qc)?,
                vial_counts: vial_counts.remove(&lot.id).unwrap_or_default(),
                qc,
                lot,
            })
        })
        .collect()
}

pub(crate) async fn set_status(
    txn: &crate::db::WriteTxn,
    lot_id: Uuid,
    from: LotStatus,
    to: LotStatus,
) -> AppResult<()> {
    store::guarded_update(
        txn,
        lot_id,
        lot::Entity::update_many()
            .col_expr(lot::Column::Status, Expr::value(to))
            .filter(lot::Column::Status.eq(from)),
    )
    .await?;
    Ok(())
}

/// Where the lot stands, from every result in recording order.
pub(crate) fn standing_of(spec: &Specification, qc: &[qc_result::Model]) -> AppResult<QcStanding> {
    let facts = qc
        .iter()
        .map(|r| {
            Ok(ResultFact {
                test: &r.test,
                pass: r.pass,
                investigation: r
                    .investigation
                    .as_deref()
                    .map(str::parse::<Conclusion>)
                    .transpose()
                    .map_err(AppError::broken)?,
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    Ok(standing(spec, &facts))
}

/// The ids of the latest result of each test: what a decision was based on.
fn latest_ids(qc: &[qc_result::Model]) -> Vec<Uuid> {
    let mut latest: BTreeMap<&str, Uuid> = BTreeMap::new();
    for result in qc {
        latest.insert(&result.test, result.id);
    }
    latest.into_values().collect()
}
