//! Donors: registration under a pseudonymous code, screening results, and
//! the quality officer's signed eligibility decision (21 CFR 1271.45-.50).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, SqlErr,
};
use serde_json::json;
use uuid::Uuid;

use crate::clock::not_in_future;
use crate::domain::donor::{
    Eligibility, Screening, ScreeningGaps, ScreeningOutcome, ScreeningTest, Specimen,
    check_decision, parse_donor_code, screening_gaps,
};
use crate::domain::lifecycle::TransitionRefused;
use crate::entities::{donation, donor, screening_result};
use crate::error::{AppError, AppResult};
use crate::services::Actor;
use crate::services::ledger::{self, NewEvent};
use crate::services::signatures::{self, VerifiedSignature};
use crate::services::store;
use crate::state::AppState;

/// A donor with everything recorded about them.
#[derive(Debug, Clone)]
pub struct DonorRecord {
    pub donor: donor::Model,
    /// Oldest first.
    pub screening: Vec<screening_result::Model>,
    pub donations: Vec<donation::Model>,
    pub gaps: ScreeningGaps,
}

pub async fn register(
    state: &AppState,
    actor: &Actor,
    code: &str,
    consent_at: DateTime<Utc>,
) -> AppResult<DonorRecord> {
    let code = parse_donor_code(code)?;
    let now = state.clock.now();
    not_in_future("consent_at", consent_at, now)?;
    let model = donor::Model {
        id: Uuid::now_v7(),
        code,
        consent_at,
        eligibility: Eligibility::Pending,
        eligibility_reason: None,
        eligibility_decided_at: None,
        eligibility_decided_by: None,
        created_at: now,
    };
    let txn = state.db.write().await?;
    let inserted = donor::Entity::insert(model.clone().into_active_model())
        .exec_without_returning(&txn)
        .await;
    if let Err(error) = inserted {
        return Err(match error.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => AppError::DonorCodeTaken(model.code),
            _ => error.into(),
        });
    }
    ledger::append(
        &txn,
        actor,
        now,
        NewEvent::new("donor.registered", "donor", model.id)
            .details(json!({ "code": model.code, "consent_at": consent_at })),
    )
    .await?;
    txn.commit().await?;
    Ok(DonorRecord {
        gaps: screening_gaps(&[], &[]),
        donor: model,
        screening: Vec::new(),
        donations: Vec::new(),
    })
}

/// One screening result as recorded by the lab.
#[derive(Debug, Clone, Copy)]
pub struct NewScreening {
    pub test: ScreeningTest,
    pub result: ScreeningOutcome,
    pub tested_at: DateTime<Utc>,
    pub specimen: Specimen,
}

/// Records a result. A later negative result for the same test supersedes
/// an earlier negative (the latest specimen decides the window), but never
/// a reactive one: a positive or indeterminate result of a required test
/// makes the donor ineligible in the same transaction (21 CFR 1271.80(d)),
/// and only quality's signed invalidation of that result takes it back.
pub async fn record_screening(
    state: &AppState,
    actor: &Actor,
    donor_id: Uuid,
    new: NewScreening,
) -> AppResult<screening_result::Model> {
    let now = state.clock.now();
    not_in_future("tested_at", new.tested_at, now)?;
    let recorded_by = actor
        .id
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("screening needs a person")))?;
    let txn = state.db.write().await?;
    let donor = store::find_or_404::<donor::Entity>(&txn, donor_id).await?;
    let model = screening_result::Model {
        id: Uuid::now_v7(),
        donor_id,
        test: new.test,
        result: new.result,
        specimen: new.specimen,
        tested_at: new.tested_at,
        recorded_at: now,
        recorded_by,
        invalidated_at: None,
        invalidated_by: None,
        invalidation_reason: None,
    };
    screening_result::Entity::insert(model.clone().into_active_model())
        .exec_without_returning(&txn)
        .await?;
    let mut events = vec![
        NewEvent::new("donor.screening_recorded", "donor", donor.id).details(json!({
            "screening_id": model.id,
            "test": new.test,
            "result": new.result,
            "specimen": new.specimen,
            "tested_at": new.tested_at,
        })),
    ];
    let reactive = Screening {
        test: new.test,
        outcome: new.result,
        tested_at: new.tested_at,
        invalidated: false,
    }
    .is_reactive();
    let eligibility: Eligibility = donor.eligibility;
    if reactive && eligibility != Eligibility::Ineligible {
        let reason = format!(
            "{} {} result (specimen of {})",
            new.test,
            new.result,
            state.settings.timezone.day(new.tested_at)
        );
        store::guarded_update(
            &txn,
            donor_id,
            donor::Entity::update_many()
                .col_expr(
                    donor::Column::Eligibility,
                    Expr::value(Eligibility::Ineligible),
                )
                .col_expr(
                    donor::Column::EligibilityReason,
                    Expr::value(reason.clone()),
                )
                .col_expr(donor::Column::EligibilityDecidedAt, Expr::value(now))
                .col_expr(
                    donor::Column::EligibilityDecidedBy,
                    Expr::value(Option::<Uuid>::None),
                )
                .filter(donor::Column::Eligibility.eq(eligibility)),
        )
        .await?;
        events.push(
            NewEvent::new("donor.found_ineligible", "donor", donor_id).details(json!({
                "from": eligibility,
                "to": Eligibility::Ineligible,
                "reason": reason,
                "screening_id": model.id,
                "rule": "21 CFR 1271.80(d): a reactive result of a required test makes the donor ineligible; a later negative does not undo it",
            })),
        );
    }
    ledger::append_many(&txn, actor, now, events).await?;
    txn.commit().await?;
    Ok(model)
}

/// Invalidates a screening result (quality, signed, with the reason, such
/// as a documented specimen mix-up). The result stays on record, marked;
/// it no longer counts for eligibility. When the donor was found ineligible
/// only by reactive results that are now all invalidated, the donor is
/// `pending` again: a quality officer decides anew.
pub async fn invalidate_screening(
    state: &AppState,
    signature: &VerifiedSignature,
    donor_id: Uuid,
    screening_id: Uuid,
    reason: &str,
) -> AppResult<DonorRecord> {
    let reason = crate::domain::reason::Reason::parse(reason)?.into_inner();
    let now = state.clock.now();
    let txn = state.db.write().await?;
    let mut record = load(&txn, donor_id).await?;
    let Some(result) = record
        .screening
        .iter()
        .find(|r| r.id == screening_id)
        .cloned()
    else {
        return Err(AppError::not_found("screening result", screening_id));
    };
    if result.invalidated_at.is_some() {
        return Err(TransitionRefused {
            kind: "screening result",
            from: "invalidated",
            action: "invalidate",
        }
        .into());
    }
    let signer = signature.signer.user_id;
    store::guarded_update(
        &txn,
        screening_id,
        screening_result::Entity::update_many()
            .col_expr(screening_result::Column::InvalidatedAt, Expr::value(now))
            .col_expr(screening_result::Column::InvalidatedBy, Expr::value(signer))
            .col_expr(
                screening_result::Column::InvalidationReason,
                Expr::value(reason.clone()),
            )
            .filter(screening_result::Column::InvalidatedAt.is_null()),
    )
    .await?;
    for r in &mut record.screening {
        if r.id == screening_id {
            r.invalidated_at = Some(now);
            r.invalidated_by = Some(signer);
            r.invalidation_reason = Some(reason.clone());
        }
    }
    let results = screenings(&record.screening)?;
    let still_reactive = results.iter().any(Screening::is_reactive);
    let eligibility: Eligibility = record.donor.eligibility;
    // An automatic finding (no decider) falls with its last reactive result.
    let reopen = eligibility == Eligibility::Ineligible
        && record.donor.eligibility_decided_by.is_none()
        && !still_reactive;
    if reopen {
        donor::Entity::update_many()
            .col_expr(
                donor::Column::Eligibility,
                Expr::value(Eligibility::Pending),
            )
            .col_expr(
                donor::Column::EligibilityReason,
                Expr::value(Option::<String>::None),
            )
            .col_expr(
                donor::Column::EligibilityDecidedAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .filter(donor::Column::Id.eq(donor_id))
            .filter(donor::Column::Eligibility.eq(Eligibility::Ineligible))
            .exec(&txn)
            .await?;
    }
    signatures::append_signed(
        &txn,
        signature,
        now,
        NewEvent::new("donor.screening_invalidated", "donor", donor_id).details(json!({
            "screening_id": screening_id,
            "test": result.test,
            "result": result.result,
            "tested_at": result.tested_at,
            "reason": reason,
            "eligibility_from": eligibility,
            "eligibility_to": if reopen { Eligibility::Pending } else { eligibility },
        })),
    )
    .await?;
    txn.commit().await?;
    if reopen {
        record.donor.eligibility = Eligibility::Pending;
        record.donor.eligibility_reason = None;
        record.donor.eligibility_decided_at = None;
    }
    let collections: Vec<_> = record.donations.iter().map(|d| d.collected_at).collect();
    record.gaps = screening_gaps(&results, &collections);
    Ok(record)
}

pub async fn get(state: &AppState, id: Uuid) -> AppResult<DonorRecord> {
    load(state.db.conn(), id).await
}

async fn load(db: &impl ConnectionTrait, id: Uuid) -> AppResult<DonorRecord> {
    let donor = store::find_or_404::<donor::Entity>(db, id).await?;
    let mut records = records(db, vec![donor]).await?;
    records
        .pop()
        .ok_or_else(|| AppError::not_found("donor", id))
}

/// The donors with their screening results, donations and screening gaps,
/// in the order given: two queries however many donors (a list's page).
pub(crate) async fn records(
    db: &impl ConnectionTrait,
    donors: Vec<donor::Model>,
) -> AppResult<Vec<DonorRecord>> {
    if donors.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = donors.iter().map(|d| d.id).collect();
    let mut screening: HashMap<Uuid, Vec<screening_result::Model>> = HashMap::new();
    for result in screening_result::Entity::find()
        .filter(screening_result::Column::DonorId.is_in(ids.clone()))
        .order_by_asc(screening_result::Column::RecordedAt)
        .order_by_asc(screening_result::Column::Id)
        .all(db)
        .await?
    {
        screening.entry(result.donor_id).or_default().push(result);
    }
    let mut donations: HashMap<Uuid, Vec<donation::Model>> = HashMap::new();
    for donation in donation::Entity::find()
        .filter(donation::Column::DonorId.is_in(ids))
        .order_by_asc(donation::Column::CollectedAt)
        .all(db)
        .await?
    {
        donations
            .entry(donation.donor_id)
            .or_default()
            .push(donation);
    }
    donors
        .into_iter()
        .map(|donor| {
            let screening = screening.remove(&donor.id).unwrap_or_default();
            let donations = donations.remove(&donor.id).unwrap_or_default();
            let collections: Vec<_> = donations.iter().map(|d| d.collected_at).collect();
            let gaps = screening_gaps(&screenings(&screening)?, &collections);
            Ok(DonorRecord {
                donor,
                screening,
                donations,
                gaps,
            })
        })
        .collect()
}

/// The rule's view of stored results, in recording order.
pub fn screenings(rows: &[screening_result::Model]) -> AppResult<Vec<Screening>> {
    rows.iter()
        .map(|row| {
            Ok(Screening {
                test: row.test,
                outcome: row.result,
                tested_at: row.tested_at,
                invalidated: row.invalidated_at.is_some(),
            })
        })
        .collect()
}

/// A quality officer's signed decision. `eligible` needs every required
/// test negative within 7 days of each collection and no reactive result;
/// `ineligible` needs a reason and is final. An eligible donor can later be
/// found ineligible (a late reactive result); nothing moves back from a
/// quality officer's ineligible decision.
pub async fn decide_eligibility(
    state: &AppState,
    signature: &VerifiedSignature,
    donor_id: Uuid,
    decision: Eligibility,
    reason: Option<&str>,
) -> AppResult<DonorRecord> {
    let reason = check_decision(decision, reason)?;
    let now = state.clock.now();
    let txn = state.db.write().await?;
    let mut record = load(&txn, donor_id).await?;
    let current: Eligibility = record.donor.eligibility;
    // A finding of ineligibility made by a reactive result (no decider)
    // can be confirmed by quality's signed decision; nothing else moves.
    let automatic = record.donor.eligibility_decided_by.is_none();
    let allowed = matches!(
        (current, decision),
        (Eligibility::Pending, _) | (Eligibility::Eligible, Eligibility::Ineligible)
    ) || (current == Eligibility::Ineligible
        && automatic
        && decision == Eligibility::Ineligible);
    if !allowed && decision == Eligibility::Eligible && automatic && !record.gaps.is_empty() {
        // found ineligible by a reactive result: say which
        return Err(AppError::ScreeningIncomplete(record.gaps));
    }
    if !allowed {
        return Err(TransitionRefused {
            kind: "donor",
            from: current.as_str(),
            action: if decision == Eligibility::Eligible {
                "declare eligible"
            } else {
                "declare ineligible"
            },
        }
        .into());
    }
    if decision == Eligibility::Eligible && !record.gaps.is_empty() {
        return Err(AppError::ScreeningIncomplete(record.gaps));
    }
    donor::Entity::update_many()
        .col_expr(donor::Column::Eligibility, Expr::value(decision))
        .col_expr(
            donor::Column::EligibilityReason,
            Expr::value(reason.map(str::to_owned)),
        )
        .col_expr(donor::Column::EligibilityDecidedAt, Expr::value(now))
        .col_expr(
            donor::Column::EligibilityDecidedBy,
            Expr::value(signature.signer.user_id),
        )
        .filter(donor::Column::Id.eq(donor_id))
        .exec(&txn)
        .await?;
    signatures::append_signed(
        &txn,
        signature,
        now,
        NewEvent::new("donor.eligibility_decided", "donor", donor_id).details(json!({
            "from": current,
            "decision": decision,
            "reason": reason,
            "screening_ids": record.screening.iter().map(|s| s.id).collect::<Vec<_>>(),
        })),
    )
    .await?;
    txn.commit().await?;
    record.donor.eligibility = decision;
    record.donor.eligibility_reason = reason.map(str::to_owned);
    record.donor.eligibility_decided_at = Some(now);
    record.donor.eligibility_decided_by = Some(signature.signer.user_id);
    Ok(record)
}
