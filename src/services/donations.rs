//! Donations: a cord received from a consented donor, given its ISBT 128
//! DIN. Sequences are per facility and year and assigned atomically by one
//! upsert, so concurrent donations never share a number.

use chrono::{DateTime, Datelike, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{EntityTrait, IntoActiveModel, Set};
use serde_json::json;
use uuid::Uuid;

use crate::clock::not_in_future;
use crate::db::WriteTxn;
use crate::domain::din::{Din, DinError, FacilityCode};
use crate::domain::donor::{
    Eligibility, check_collected_after_consent, check_received_after_collected,
};
use crate::entities::{din_sequence, donation, donor};
use crate::error::{AppError, AppResult};
use crate::services::Actor;
use crate::services::ledger::{self, NewEvent};
use crate::services::store;
use crate::state::AppState;

pub async fn create(
    state: &AppState,
    actor: &Actor,
    donor_id: Uuid,
    collected_at: DateTime<Utc>,
    received_at: DateTime<Utc>,
) -> AppResult<donation::Model> {
    let now = state.clock.now();
    not_in_future("collected_at", collected_at, now)?;
    not_in_future("received_at", received_at, now)?;
    check_received_after_collected(collected_at, received_at)?;
    let txn = state.db.write().await?;
    let donor = store::find_or_404::<donor::Entity>(&txn, donor_id).await?;
    let eligibility: Eligibility = donor.eligibility;
    if eligibility == Eligibility::Ineligible {
        return Err(AppError::DonorNotEligible {
            donor_id,
            eligibility,
            gaps: None,
        });
    }
    check_collected_after_consent(collected_at, donor.consent_at)?;
    let year = (collected_at.year().rem_euclid(100)) as u8;
    let sequence = next_sequence(&txn, &state.settings.facility_code, year).await?;
    let din =
        Din::new(state.settings.facility_code.clone(), year, sequence).map_err(|e| match e {
            DinError::SequenceOutOfRange => AppError::Exhausted(format!(
                "all 999999 DINs of facility {} for 20{year:02} are used",
                state.settings.facility_code.as_str()
            )),
            other => AppError::internal(other),
        })?;
    let model = donation::Model {
        id: Uuid::now_v7(),
        donor_id,
        din: din.compact(),
        check_character: din.check_character().to_string(),
        collected_at,
        received_at,
        created_at: now,
    };
    donation::Entity::insert(model.clone().into_active_model())
        .exec_without_returning(&txn)
        .await?;
    ledger::append(
        &txn,
        actor,
        now,
        NewEvent::new("donation.received", "donation", model.id).details(json!({
            "din": model.din,
            "check_character": model.check_character,
            "donor_id": donor_id,
            "collected_at": collected_at,
            "received_at": received_at,
        })),
    )
    .await?;
    txn.commit().await?;
    Ok(model)
}

/// Takes the next sequence number of a facility and year: one statement
/// that inserts 1 or increments, and returns the number.
async fn next_sequence(txn: &WriteTxn, facility: &FacilityCode, year: u8) -> AppResult<u32> {
    let row = din_sequence::Entity::insert(din_sequence::ActiveModel {
        facility_code: Set(facility.as_str().to_owned()),
        din_year: Set(i32::from(year)),
        last_sequence: Set(1),
    })
    .on_conflict(
        OnConflict::columns([
            din_sequence::Column::FacilityCode,
            din_sequence::Column::DinYear,
        ])
        .value(
            din_sequence::Column::LastSequence,
            Expr::col((din_sequence::Entity, din_sequence::Column::LastSequence)).add(1),
        )
        .to_owned(),
    )
    .exec_with_returning(txn)
    .await?;
    u32::try_from(row.last_sequence).map_err(AppError::internal)
}

pub async fn get(state: &AppState, id: Uuid) -> AppResult<donation::Model> {
    store::find_or_404::<donation::Entity>(state.db.conn(), id).await
}

/// The DIN of a stored donation.
pub fn din_of(model: &donation::Model) -> AppResult<Din> {
    Din::parse(&model.din).map_err(AppError::internal)
}
