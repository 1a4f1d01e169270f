//! Chain of Identity identifiers (`domain::coi`): issued by the patient's
//! site, from its facility identification number, the year of issue on the
//! site's calendar and the next sequence number of that facility and year.
//!
//! The next number is taken by one upsert on `coi_sequences` inside the
//! transaction that writes the identifier, as DINs are (`services::
//! donations`): concurrent enrolments queue on the sequence row, and an
//! enrolment that fails rolls its number back with it, so numbers are
//! exact, without gaps, and never shared; the unique index on
//! `patients.coi` is the last word.
//!
//! Patients enrolled before identifiers existed (migrated data) get theirs
//! when the service starts ([`assign_missing`], called from
//! `Application::build` only, never from a command that only reads): each
//! in its own transaction with its `patient.coi_assigned` ledger event,
//! earliest enrolled first. Instances starting together on one database
//! each give a patient an identifier only if it still has none, so none
//! gets two.

use chrono::{DateTime, Datelike, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::json;
use uuid::Uuid;

use crate::db::WriteTxn;
use crate::domain::coi::{Coi, CoiError};
use crate::domain::din::FacilityCode;
use crate::domain::zone::SiteZone;
use crate::entities::{coi_sequence, patient, site};
use crate::error::{AppError, AppResult};
use crate::services::Actor;
use crate::services::ledger::{self, NewEvent};
use crate::services::store;
use crate::state::AppState;

/// Issues the next identifier of `site` at `now` (the year is the site's
/// calendar year). Call inside the transaction that writes it.
pub(crate) async fn issue(
    txn: &WriteTxn,
    site: &site::Model,
    now: DateTime<Utc>,
) -> AppResult<Coi> {
    let facility = FacilityCode::parse(&site.facility_code).map_err(AppError::internal)?;
    let zone = SiteZone::parse(&site.time_zone).ok_or_else(|| {
        AppError::internal(anyhow::anyhow!(
            "site {} has an unknown time zone",
            site.name
        ))
    })?;
    let year = zone.date(now).year().rem_euclid(100) as u8;
    let sequence = next_sequence(txn, &facility, year).await?;
    Coi::issue(facility, year, sequence).map_err(|e| match e {
        CoiError::SequenceOutOfRange => AppError::Exhausted(format!(
            "all 999999 Chain of Identity identifiers of facility {} for 20{year:02} are used",
            site.facility_code
        )),
        other => AppError::internal(other),
    })
}

/// Takes the next sequence number of a facility and year: one statement
/// that inserts 1 or increments, and returns the number.
async fn next_sequence(txn: &WriteTxn, facility: &FacilityCode, year: u8) -> AppResult<u32> {
    let row = coi_sequence::Entity::insert(coi_sequence::ActiveModel {
        facility_code: sea_orm::Set(facility.as_str().to_owned()),
        coi_year: sea_orm::Set(i32::from(year)),
        last_sequence: sea_orm::Set(1),
    })
    .on_conflict(
        OnConflict::columns([
            coi_sequence::Column::FacilityCode,
            coi_sequence::Column::CoiYear,
        ])
        .value(
            coi_sequence::Column::LastSequence,
            Expr::col((coi_sequence::Entity, coi_sequence::Column::LastSequence)).add(1),
        )
        .to_owned(),
    )
    .exec_with_returning(txn)
    .await?;
    u32::try_from(row.last_sequence).map_err(AppError::internal)
}

/// Gives every patient without an identifier one (see the module's
/// comment); returns how many were given.
pub async fn assign_missing(state: &AppState) -> AppResult<usize> {
    let missing: Vec<Uuid> = patient::Entity::find()
        .select_only()
        .column(patient::Column::Id)
        .filter(patient::Column::Coi.is_null())
        .order_by_asc(patient::Column::EnrolledAt)
        .order_by_asc(patient::Column::SubjectCode)
        .into_tuple()
        .all(state.db.conn())
        .await?;
    let actor = Actor::system("configuration");
    let mut given = 0;
    for id in missing {
        if assign_one(state, &actor, id).await? {
            given += 1;
        }
    }
    Ok(given)
}

/// Gives one patient an identifier if it still has none.
async fn assign_one(state: &AppState, actor: &Actor, id: Uuid) -> AppResult<bool> {
    let now = state.clock.now();
    let txn = state.db.write().await?;
    let mut find = patient::Entity::find_by_id(id).filter(patient::Column::Coi.is_null());
    if txn.get_database_backend() == DbBackend::Postgres {
        // another instance starting: it waits here, then finds it done
        find = find.lock_exclusive();
    }
    let Some(patient) = find.one(&txn).await? else {
        return Ok(false);
    };
    let site = store::find_or_404::<site::Entity>(&txn, patient.site_id).await?;
    let coi = issue(&txn, &site, now).await?;
    let updated = patient::Entity::update_many()
        .col_expr(patient::Column::Coi, Expr::value(coi.compact()))
        .filter(patient::Column::Id.eq(id))
        .filter(patient::Column::Coi.is_null())
        .exec(&txn)
        .await?;
    if updated.rows_affected != 1 {
        return Ok(false);
    }
    ledger::append(
        &txn,
        actor,
        now,
        NewEvent::new("patient.coi_assigned", "patient", id).details(json!({
            "subject_code": patient.subject_code,
            "coi": coi.compact(),
            "coi_check_character": coi.check_character().to_string(),
            "site_id": site.id,
            "facility_code": site.facility_code,
            "why": "enrolled before Chain of Identity identifiers existed; given at the service's start",
        })),
    )
    .await?;
    txn.commit().await?;
    Ok(true)
}

/// The patient whose identifier this is.
pub async fn by_coi(db: &impl ConnectionTrait, coi: &Coi) -> AppResult<Option<patient::Model>> {
    Ok(patient::Entity::find()
        .filter(patient::Column::Coi.eq(coi.compact()))
        .one(db)
        .await?)
}
