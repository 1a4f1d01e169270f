//! A donor's consent withdrawn (quality, signed) and quality's signed
//! decision per lot.
//!
//! One transaction writes the withdrawal, its signed `donor.consent_withdrawn`
//! event, a hold per lot of the donor (`lot.withdrawal_held`) and, per vial
//! not yet infused, `vial.held` from the status it had (quarantine,
//! available, reserved, in transit) with `held_from` kept on the vial, as a
//! temperature hold does. A vial already on hold (an excursion) is listed
//! and stays held until both holds are decided. A thawed vial cannot go
//! back: it is listed for quality, and the dose it belongs to is refused at
//! verification and at the bedside (`422 consent_withdrawn`) until quality
//! releases the lot; after a discard the dose can only be cancelled (which
//! discards its thawed vials). The lot's own status never moves: the hold
//! row says "consent withdrawn: on hold". The donor's records are not
//! touched.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, SqlErr,
};
use serde_json::json;
use uuid::Uuid;

use crate::clock::not_in_future;
use crate::domain::lifecycle::{LotStatus, TransitionRefused, VialStatus};
use crate::domain::reason::Reason;
use crate::entities::withdrawal_hold::{self, HoldStatus, WithdrawalDecision};
use crate::entities::{
    donation, donor, donor_withdrawal, hold_vial, lot, vial, withdrawal_hold_vial,
};
use crate::error::{AppError, AppResult};
use crate::services::holds::{self, holdable};
use crate::services::ledger::{self, NewEvent};
use crate::services::signatures::{self, VerifiedSignature};
use crate::services::store;
use crate::state::AppState;

/// A lot held by a consent withdrawal, with its vials.
#[derive(Debug, Clone)]
pub struct LotHold {
    pub hold: withdrawal_hold::Model,
    pub lot_code: String,
    pub withdrawal: donor_withdrawal::Model,
    /// Each vial with its code and status now.
    pub vials: Vec<(withdrawal_hold_vial::Model, String, VialStatus)>,
}

/// Quality's decision on a lot held by a consent withdrawal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LotDecision {
    Release,
    Discard,
}

/// Withdraws the donor's consent (see the module notes). `409
/// already_withdrawn` the second time; `withdrawn_at` may be neither in
/// the future nor before the consent.
pub async fn withdraw_consent(
    state: &AppState,
    signature: &VerifiedSignature,
    donor_id: Uuid,
    withdrawn_at: DateTime<Utc>,
    reason: &str,
) -> AppResult<(donor_withdrawal::Model, Vec<LotHold>)> {
    let reason = Reason::parse(reason)?.into_inner();
    let now = state.clock.now();
    let actor = signature.signer.actor();
    let txn = state.db.write().await?;
    let donor = donor::Entity::find_by_id(donor_id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("donor", donor_id))?;
    not_in_future("withdrawn_at", withdrawn_at, now)?;
    if withdrawn_at < donor.consent_at {
        return Err(AppError::invalid(
            "withdrawn_at",
            format!(
                "{withdrawn_at} is before the consent was given ({})",
                donor.consent_at
            ),
        ));
    }
    if super::of_donor(&txn, donor_id).await?.is_some() {
        return Err(AppError::AlreadyWithdrawn {
            kind: "donor",
            id: donor_id,
        });
    }
    let withdrawal = donor_withdrawal::Model {
        id: Uuid::now_v7(),
        donor_id,
        withdrawn_at,
        reason: reason.clone(),
        recorded_by: signature.signer.user_id,
        recorded_at: now,
    };
    if let Err(error) = donor_withdrawal::Entity::insert(withdrawal.clone().into_active_model())
        .exec_without_returning(&txn)
        .await
    {
        return Err(match error.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => AppError::AlreadyWithdrawn {
                kind: "donor",
                id: donor_id,
            },
            _ => error.into(),
        });
    }
    let donations: Vec<Uuid> = donation::Entity::find()
        .filter(donation::Column::DonorId.eq(donor_id))
        .all(&txn)
        .await?
        .into_iter()
        .map(|d| d.id)
        .collect();
    let lots = if donations.is_empty() {
        Vec::new()
    } else {
        lot::Entity::find()
            .filter(lot::Column::DonationId.is_in(donations))
            .order_by_asc(lot::Column::Code)
            .all(&txn)
            .await?
    };
    // a rejected or recalled lot reaches no patient already
    let lots: Vec<lot::Model> = lots
        .into_iter()
        .filter(|l| !matches!(l.status, LotStatus::Rejected | LotStatus::Recalled))
        .collect();
    let vials = if lots.is_empty() {
        Vec::new()
    } else {
        vial::Entity::find()
            .filter(vial::Column::LotId.is_in(lots.iter().map(|l| l.id)))
            .order_by_asc(vial::Column::Code)
            .all(&txn)
            .await?
    };
    let mut events = Vec::new();
    let mut summary = Vec::new();
    for lot in &lots {
        let hold_id = Uuid::now_v7();
        let mut links = Vec::new();
        let (mut held, mut already, mut listed) = (Vec::new(), Vec::new(), Vec::new());
        for v in vials.iter().filter(|v| v.lot_id == lot.id) {
            let (held_from, stopped) = if holdable(v.status) {
                store::guarded_update(
                    &txn,
                    v.id,
                    vial::Entity::update_many()
                        .col_expr(vial::Column::Status, Expr::value(VialStatus::OnHold))
                        .col_expr(vial::Column::HeldFrom, Expr::value(Some(v.status)))
                        .filter(vial::Column::Status.eq(v.status)),
                )
                .await?;
                events.push(NewEvent::new("vial.held", "vial", v.id).details(json!({
                    "code": v.code,
                    "from": v.status,
                    "to": VialStatus::OnHold,
                    "withdrawal_hold_id": hold_id,
                    "cause": "consent_withdrawn",
                })));
                held.push(v.code.to_string());
                (Some(v.status), true)
            } else if v.status == VialStatus::OnHold {
                already.push(v.code.to_string());
                (None, true)
            } else if v.status == VialStatus::Thawed {
                listed.push(v.code.to_string());
                (None, false)
            } else {
                continue;
            };
            links.push(
                withdrawal_hold_vial::Model {
                    hold_id,
                    vial_id: v.id,
                    status_then: v.status,
                    held_from,
                    held: stopped,
                }
                .into_active_model(),
            );
        }
        let row = withdrawal_hold::Model {
            id: hold_id,
            withdrawal_id: withdrawal.id,
            lot_id: lot.id,
            status: HoldStatus::Open,
            vial_count: links.len() as i32,
            created_at: now,
            decision: None,
            decided_at: None,
            decided_by: None,
            reason: None,
        };
        withdrawal_hold::Entity::insert(row.into_active_model())
            .exec_without_returning(&txn)
            .await?;
        if !links.is_empty() {
            withdrawal_hold_vial::Entity::insert_many(links)
                .exec_without_returning(&txn)
                .await?;
        }
        events.push(
            NewEvent::new("lot.withdrawal_held", "lot", lot.id).details(json!({
                "code": lot.code,
                "donor_code": donor.code,
                "withdrawal_hold_id": hold_id,
                "vials_held": held,
                "vials_already_on_hold": already,
                "vials_thawed_listed": listed,
            })),
        );
        summary.push(json!({ "lot": lot.code, "vials_held": held.len() + already.len(), "vials_thawed": listed }));
    }
    signatures::append_signed(
        &txn,
        signature,
        now,
        NewEvent::new("donor.consent_withdrawn", "donor", donor_id).details(json!({
            "code": donor.code,
            "withdrawn_at": withdrawn_at,
            "reason": reason,
            "lots": summary,
        })),
    )
    .await?;
    ledger::append_many(&txn, &actor, now, events).await?;
    txn.commit().await?;
    let holds = lot_holds_of_donor(state.db.conn(), donor_id).await?;
    Ok((withdrawal, holds))
}

/// The lots of the donor held by its consent withdrawal, by lot code.
pub async fn lot_holds_of_donor(
    db: &impl ConnectionTrait,
    donor_id: Uuid,
) -> AppResult<Vec<LotHold>> {
    let Some(withdrawal) = super::of_donor(db, donor_id).await? else {
        return Ok(Vec::new());
    };
    let holds = withdrawal_hold::Entity::find()
        .filter(withdrawal_hold::Column::WithdrawalId.eq(withdrawal.id))
        .all(db)
        .await?;
    let mut out = Vec::new();
    for hold in holds {
        out.push(with_vials(db, hold, withdrawal.clone()).await?);
    }
    out.sort_by(|a, b| a.lot_code.cmp(&b.lot_code));
    Ok(out)
}

/// The lot's withdrawal hold, if its donor withdrew consent.
pub async fn lot_hold(db: &impl ConnectionTrait, lot_id: Uuid) -> AppResult<Option<LotHold>> {
    let Some(hold) = withdrawal_hold::Entity::find()
        .filter(withdrawal_hold::Column::LotId.eq(lot_id))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let withdrawal = donor_withdrawal::Entity::find_by_id(hold.withdrawal_id)
        .one(db)
        .await?
        .ok_or_else(|| {
            AppError::broken(format!("withdrawal hold {} has no withdrawal", hold.id))
        })?;
    Ok(Some(with_vials(db, hold, withdrawal).await?))
}

async fn with_vials(
    db: &impl ConnectionTrait,
    hold: withdrawal_hold::Model,
    withdrawal: donor_withdrawal::Model,
) -> AppResult<LotHold> {
    let links = withdrawal_hold_vial::Entity::find()
        .filter(withdrawal_hold_vial::Column::HoldId.eq(hold.id))
        .all(db)
        .await?;
    let vials = store::by_ids::<vial::Entity>(db, links.iter().map(|l| l.vial_id)).await?;
    let lot_code = lot::Entity::find_by_id(hold.lot_id)
        .one(db)
        .await?
        .map(|l| l.code)
        .unwrap_or_default();
    let mut out: Vec<(withdrawal_hold_vial::Model, String, VialStatus)> = links
        .into_iter()
        .filter_map(|l| {
            let v = vials.get(&l.vial_id)?;
            Some((l, v.code.to_string(), v.status))
        })
        .collect();
    out.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(LotHold {
        hold,
        lot_code,
        withdrawal,
        vials: out,
    })
}

/// Quality's signed decision on a lot held by its donor's consent
/// withdrawal: `release` gives each held vial back the status it had (a
/// vial held from quarantine whose lot was released since becomes
/// available; one another open hold stops stays held), `discard` discards
/// them. One event per vial, one signed for the lot.
pub async fn decide_lot(
    state: &AppState,
    signature: &VerifiedSignature,
    lot_id: Uuid,
    decision: LotDecision,
    reason: &str,
) -> AppResult<LotHold> {
    let reason = Reason::parse(reason)?.into_inner();
    let now = state.clock.now();
    let actor = signature.signer.actor();
    let txn = state.db.write().await?;
    let lot = lot::Entity::find_by_id(lot_id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("lot", lot_id))?;
    let hold = withdrawal_hold::Entity::find()
        .filter(withdrawal_hold::Column::LotId.eq(lot_id))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("withdrawal hold of lot", lot_id))?;
    let (action, event) = match decision {
        LotDecision::Release => ("release", "lot.withdrawal_released"),
        LotDecision::Discard => ("discard", "lot.withdrawal_discarded"),
    };
    if hold.status != HoldStatus::Open {
        return Err(AppError::InvalidState(TransitionRefused {
            kind: "withdrawal hold",
            from: "decided",
            action,
        }));
    }
    let links: Vec<withdrawal_hold_vial::Model> = withdrawal_hold_vial::Entity::find()
        .filter(withdrawal_hold_vial::Column::HoldId.eq(hold.id))
        .filter(withdrawal_hold_vial::Column::Held.eq(true))
        .all(&txn)
        .await?;
    let ids: Vec<Uuid> = links.iter().map(|l| l.vial_id).collect();
    let vials = store::by_ids::<vial::Entity>(&txn, ids.iter().copied()).await?;
    // vials an open temperature hold still stops stay held on release
    let excursion_open: HashSet<Uuid> = if ids.is_empty() {
        HashSet::new()
    } else {
        hold_vial::Entity::find()
            .filter(hold_vial::Column::VialId.is_in(ids.iter().copied()))
            .filter(hold_vial::Column::Decision.is_null())
            .all(&txn)
            .await?
            .into_iter()
            .map(|l| l.vial_id)
            .collect()
    };
    let mut vial_events = Vec::new();
    let (mut done, mut still_held) = (Vec::new(), Vec::new());
    for link in &links {
        let Some(v) = vials.get(&link.vial_id) else {
            continue;
        };
        if v.status != VialStatus::OnHold {
            // discarded or recalled since: nothing to give back or discard
            continue;
        }
        match decision {
            LotDecision::Release if excursion_open.contains(&v.id) => {
                still_held.push(v.code.to_string());
            }
            LotDecision::Release => {
                let to =
                    holds::give_back(&txn, v, link.held_from, lot.status == LotStatus::Released)
                        .await?;
                vial_events.push(NewEvent::new("vial.hold_released", "vial", v.id).details(
                    json!({
                        "code": v.code,
                        "from": VialStatus::OnHold,
                        "to": to,
                        "withdrawal_hold_id": hold.id,
                        "reason": reason,
                    }),
                ));
                done.push(v.code.to_string());
            }
            LotDecision::Discard => {
                let was = holds::discard_held(state, &txn, v).await?;
                vial_events.push(
                    NewEvent::new("vial.discarded", "vial", v.id)
                        .moved(was, None)
                        .details(json!({
                            "code": v.code,
                            "from": VialStatus::OnHold,
                            "to": VialStatus::Discarded,
                            "withdrawal_hold_id": hold.id,
                            "reason": reason,
                        })),
                );
                done.push(v.code.to_string());
            }
        }
    }
    let outcome = match decision {
        LotDecision::Release => WithdrawalDecision::Released,
        LotDecision::Discard => WithdrawalDecision::Discarded,
    };
    let changed = withdrawal_hold::Entity::update_many()
        .col_expr(
            withdrawal_hold::Column::Status,
            Expr::value(HoldStatus::Decided),
        )
        .col_expr(
            withdrawal_hold::Column::Decision,
            Expr::value(Some(outcome)),
        )
        .col_expr(withdrawal_hold::Column::DecidedAt, Expr::value(Some(now)))
        .col_expr(
            withdrawal_hold::Column::DecidedBy,
            Expr::value(Some(signature.signer.user_id)),
        )
        .col_expr(
            withdrawal_hold::Column::Reason,
            Expr::value(Some(reason.clone())),
        )
        .filter(withdrawal_hold::Column::Id.eq(hold.id))
        .filter(withdrawal_hold::Column::Status.eq(HoldStatus::Open))
        .exec(&txn)
        .await?;
    if changed.rows_affected != 1 {
        return Err(AppError::ConcurrentChange {
            kind: "withdrawal hold",
            id: hold.id,
        });
    }
    signatures::append_signed(
        &txn,
        signature,
        now,
        NewEvent::new(event, "lot", lot_id).details(json!({
            "code": lot.code,
            "withdrawal_hold_id": hold.id,
            "vials": done,
            "vials_still_on_hold": still_held,
            "reason": reason,
        })),
    )
    .await?;
    ledger::append_many(&txn, &actor, now, vial_events).await?;
    txn.commit().await?;
    lot_hold(state.db.conn(), lot_id)
        .await?
        .ok_or_else(|| AppError::not_found("withdrawal hold of lot", lot_id))
}
