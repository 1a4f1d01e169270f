//! Quality's signed decision on a hold: release from hold, or discard.

use std::collections::HashSet;

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;
use uuid::Uuid;

use super::{HoldRecord, get};
use crate::domain::lifecycle::{LotStatus, VialAction, VialStatus, vial_transition};
use crate::domain::reason::Reason;
use crate::entities::hold::{self, Decision, HoldStatus};
use crate::entities::{hold_vial, lot, vial};
use crate::error::{AppError, AppResult};
use crate::services::ledger::{self, NewEvent};
use crate::services::signatures::{self, VerifiedSignature};
use crate::services::{sites, store};
use crate::state::AppState;

/// What quality decides for the vials of a hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decide {
    Release,
    Discard,
}

/// Quality's signed decision on a hold: on every undecided vial, or on
/// `vial_ids` only. Each vial released gets its status back (see the module
/// notes) and each discarded leaves storage; one signed `hold.released` or
/// `hold.discarded` event names them, and each vial has its own
/// `vial.hold_released` or `vial.discarded`.
pub async fn decide(
    state: &AppState,
    signature: &VerifiedSignature,
    hold_id: Uuid,
    decide: Decide,
    reason: &str,
    vial_ids: Option<&[Uuid]>,
) -> AppResult<HoldRecord> {
    let reason = Reason::parse(reason)?;
    let actor = signature.signer.actor();
    let hold = hold::Entity::find_by_id(hold_id)
        .one(state.db.conn())
        .await?
        .ok_or_else(|| AppError::not_found("hold", hold_id))?;
    sites::check_works_at(state, &actor, hold.site_id).await?;
    let now = state.clock.now();
    let txn = state.db.write().await?;
    let links = hold_vial::Entity::find()
        .filter(hold_vial::Column::HoldId.eq(hold_id))
        .all(&txn)
        .await?;
    let undecided: Vec<&hold_vial::Model> = links.iter().filter(|l| l.decision.is_none()).collect();
    let chosen: Vec<&hold_vial::Model> = match vial_ids {
        None => undecided.clone(),
        Some(ids) => {
            if ids.is_empty() {
                return Err(AppError::invalid(
                    "vial_ids",
                    "name at least one vial of the hold, or leave vial_ids out to decide them all",
                ));
            }
            let mut chosen = Vec::new();
            for id in ids {
                match links.iter().find(|l| l.vial_id == *id) {
                    None => {
                        return Err(AppError::invalid(
                            "vial_ids",
                            format!("vial {id} is not in this hold"),
                        ));
                    }
                    Some(link) if link.decision.is_some() => {
                        return Err(AppError::InvalidState(
                            crate::domain::lifecycle::TransitionRefused {
                                kind: "hold vial",
                                from: "decided",
                                action: decide.action(),
                            },
                        ));
                    }
                    Some(link) => {
                        if !chosen.iter().any(|c: &&hold_vial::Model| c.vial_id == *id) {
                            chosen.push(link);
                        }
                    }
                }
            }
            chosen
        }
    };
    if chosen.is_empty() {
        return Err(AppError::InvalidState(
            crate::domain::lifecycle::TransitionRefused {
                kind: "hold",
                from: "decided",
                action: decide.action(),
            },
        ));
    }
    let ids: Vec<Uuid> = chosen.iter().map(|l| l.vial_id).collect();
    let vials = store::by_ids::<vial::Entity>(&txn, ids.iter().copied()).await?;
    // vials another open hold still stops: decided here, they stay held
    let other_open: HashSet<Uuid> = hold_vial::Entity::find()
        .filter(hold_vial::Column::VialId.is_in(ids.iter().copied()))
        .filter(hold_vial::Column::HoldId.ne(hold_id))
        .filter(hold_vial::Column::Decision.is_null())
        .all(&txn)
        .await?
        .into_iter()
        .map(|l| l.vial_id)
        .collect();
    // …and so do vials a consent withdrawal holds undecided
    let other_open: HashSet<Uuid> = other_open
        .into_iter()
        .chain(crate::services::withdrawals::held_by_withdrawal(&txn, &ids).await?)
        .collect();
    let lots = store::by_ids::<lot::Entity>(&txn, vials.values().map(|v| v.lot_id)).await?;
    let mut vial_events = Vec::new();
    let mut codes = Vec::new();
    for link in &chosen {
        let vial = vials
            .get(&link.vial_id)
            .ok_or_else(|| AppError::not_found("vial", link.vial_id))?;
        codes.push(vial.code.to_string());
        if vial.status != VialStatus::OnHold {
            // discarded or recalled since it was held: nothing to give back
            // (discarded already, e.g. by a consent withdrawal's decision:
            // nothing to discard either)
            if decide == Decide::Discard && vial.status != VialStatus::Discarded {
                vial_transition(vial.status, VialAction::Discard)?;
            } else {
                continue;
            }
        }
        if decide == Decide::Release && other_open.contains(&vial.id) {
            continue;
        }
        match decide {
            Decide::Release => {
                let lot_released = lots
                    .get(&vial.lot_id)
                    .is_some_and(|l| l.status == LotStatus::Released);
                let to = super::give_back(&txn, vial, link.held_from, lot_released).await?;
                vial_events.push(
                    NewEvent::new("vial.hold_released", "vial", vial.id).details(json!({
                        "code": vial.code,
                        "from": VialStatus::OnHold,
                        "to": to,
                        "hold_id": hold_id,
                        "reason": reason,
                    })),
                );
            }
            Decide::Discard => {
                let from = vial.status;
                let was = super::discard_held(state, &txn, vial).await?;
                vial_events.push(
                    NewEvent::new("vial.discarded", "vial", vial.id)
                        .moved(was, None)
                        .details(json!({
                            "code": vial.code,
                            "from": from,
                            "to": VialStatus::Discarded,
                            "hold_id": hold_id,
                            "reason": reason,
                        })),
                );
            }
        }
    }
    let decision = decide.decision();
    let changed = hold_vial::Entity::update_many()
        .col_expr(hold_vial::Column::Decision, Expr::value(Some(decision)))
        .col_expr(hold_vial::Column::DecidedAt, Expr::value(Some(now)))
        .col_expr(
            hold_vial::Column::DecidedBy,
            Expr::value(Some(signature.signer.user_id)),
        )
        .col_expr(
            hold_vial::Column::Reason,
            Expr::value(Some(reason.as_str().to_owned())),
        )
        .filter(hold_vial::Column::HoldId.eq(hold_id))
        .filter(hold_vial::Column::VialId.is_in(ids.iter().copied()))
        .filter(hold_vial::Column::Decision.is_null())
        .exec(&txn)
        .await?;
    if changed.rows_affected != ids.len() as u64 {
        return Err(AppError::ConcurrentChange {
            kind: "hold",
            id: hold_id,
        });
    }
    let all_decided = undecided.len() == chosen.len();
    if all_decided {
        let mut decisions: HashSet<Decision> = links.iter().filter_map(|l| l.decision).collect();
        decisions.insert(decision);
        let overall = if decisions.len() == 1 {
            decision
        } else {
            Decision::Mixed
        };
        let changed = hold::Entity::update_many()
            .col_expr(hold::Column::Status, Expr::value(HoldStatus::Decided))
            .col_expr(hold::Column::DecidedAt, Expr::value(Some(now)))
            .col_expr(
                hold::Column::DecidedBy,
                Expr::value(Some(signature.signer.user_id)),
            )
            .col_expr(hold::Column::Decision, Expr::value(Some(overall)))
            .col_expr(
                hold::Column::Reason,
                Expr::value(Some(reason.as_str().to_owned())),
            )
            .filter(hold::Column::Id.eq(hold_id))
            .filter(hold::Column::Status.eq(HoldStatus::Open))
            .exec(&txn)
            .await?;
        if changed.rows_affected != 1 {
            return Err(AppError::ConcurrentChange {
                kind: "hold",
                id: hold_id,
            });
        }
    }
    signatures::append_signed(
        &txn,
        signature,
        now,
        NewEvent::new(decide.event(), "hold", hold_id).details(json!({
            "vials": codes,
            "reason": reason,
            "hold_decided": all_decided,
        })),
    )
    .await?;
    ledger::append_many(&txn, &actor, now, vial_events).await?;
    txn.commit().await?;
    get(state, hold_id).await
}

impl Decide {
    fn action(self) -> &'static str {
        match self {
            Decide::Release => "release",
            Decide::Discard => "discard",
        }
    }

    fn decision(self) -> Decision {
        match self {
            Decide::Release => Decision::Released,
            Decide::Discard => Decision::Discarded,
        }
    }

    fn event(self) -> &'static str {
        match self {
            Decide::Release => "hold.released",
            Decide::Discard => "hold.discarded",
        }
    }
}
