//! Temperature readings of storage units and shippers, and what they hold.
//!
//! Recording readings is one transaction: the readings are inserted once
//! each (a reading of the same source at the same instant is the same
//! reading: sent again, it is counted as a duplicate and ignored), the
//! source's series is analysed with the domain's rules
//! ([`crate::domain::temperature::analyse`]) from the last reading within
//! the limit before the new ones, and each excursion long enough to hold
//! the product puts the vials that were inside on hold
//! ([`holds::open_for_excursion`]; which vials: see [`holds`]). A reading
//! may not lie ahead of the server's clock by more than the usual skew: a
//! logger with a wrong clock must not write the future.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
    QuerySelect, TryInsertResult,
};
use serde_json::json;
use uuid::Uuid;

use crate::clock::CLOCK_SKEW;
use crate::db::WriteTxn;
use crate::domain::temperature::{
    CentiCelsius, DEFAULT_MAX_GAP_MINUTES, Excursion, Limits, Reading, analyse,
};
use crate::entities::temperature_limit;
use crate::entities::temperature_reading::{self, SourceKind};
use crate::error::{AppError, AppResult};
use crate::services::holds::{self, Opened, Source};
use crate::services::ledger::{self, NewEvent};
use crate::services::lists::Page;
use crate::services::{Actor, sites, storage};
use crate::state::AppState;

/// Readings inserted per statement (7 parameters each: far inside SQLite's
/// and PostgreSQL's limits).
const INSERT_CHUNK: usize = 1000;

/// A reading as sent, with where it was in the request (`readings[3]`,
/// `reading 12 of the file`) for a refusal to name.
#[derive(Debug, Clone)]
pub struct Sent {
    pub reading: Reading,
    pub place: String,
}

/// What recording did.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// Readings new to the series.
    pub accepted: usize,
    /// Readings the series already had (same instant), not counted again.
    pub duplicates: usize,
    /// Every excursion found from the last reading within the limit before
    /// the new ones on, holding or not.
    pub excursions: Vec<Excursion>,
    /// The holds opened or extended.
    pub holds: Vec<Opened>,
    pub limits: Limits,
}

/// The readings of a storage unit (any kind: a tank's readings cover every
/// box under it), by a lab or quality user of its site, or by the service.
pub async fn record_for_unit(
    state: &AppState,
    actor: &Actor,
    unit_id: Uuid,
    sent: Vec<Sent>,
    via: &str,
) -> AppResult<Recorded> {
    let unit = storage::unit(state, unit_id).await?;
    sites::check_works_at(state, actor, unit.site_id).await?;
    let now = state.clock.now();
    check_sent(&sent, now)?;
    let limits = unit_limits(state.db.conn(), unit_id).await?;
    let source = Source {
        kind: SourceKind::Unit,
        id: unit_id,
        site_id: unit.site_id,
    };
    let txn = state.db.write().await?;
    let recorded = record(&txn, actor, now, source, &limits, sent, via, Inside::Unit).await?;
    txn.commit().await?;
    Ok(recorded)
}

/// A shipper's readings (its data logger's file, read with
/// `domain::temperature::csv::parse`), for the shipment route: the readings
/// are kept under the shipment, and an excursion that holds puts
/// `vial_ids`, the vials packed in the shipper for the whole journey, on
/// hold. The caller has checked who may attach them. `limits`: the
/// shipper's validated limits, or the product's default.
#[allow(clippy::too_many_arguments)]
pub async fn record_for_shipment(
    state: &AppState,
    actor: &Actor,
    shipment_id: Uuid,
    site_id: Uuid,
    readings: &[Reading],
    vial_ids: &[Uuid],
    limits: Option<Limits>,
    via: &str,
) -> AppResult<Recorded> {
    let now = state.clock.now();
    let sent: Vec<Sent> = readings
        .iter()
        .enumerate()
        .map(|(i, reading)| Sent {
            reading: *reading,
            place: format!("reading {}", i + 1),
        })
        .collect();
    check_sent(&sent, now)?;
    let limits = limits.unwrap_or_default();
    let source = Source {
        kind: SourceKind::Shipment,
        id: shipment_id,
        site_id,
    };
    let txn = state.db.write().await?;
    let recorded = record(
        &txn,
        actor,
        now,
        source,
        &limits,
        sent,
        via,
        Inside::AllOf(vial_ids),
    )
    .await?;
    txn.commit().await?;
    Ok(recorded)
}

/// Which vials were inside the source.
enum Inside<'a> {
    /// The ledger says (see [`holds`]).
    Unit,
    /// These, all of the time.
    AllOf(&'a [Uuid]),
}

/// Refuses the whole request when any reading lies in the future, naming
/// each.
fn check_sent(sent: &[Sent], now: DateTime<Utc>) -> AppResult<()> {
    if sent.is_empty() {
        return Err(AppError::InvalidReadings {
            problems: vec!["no readings were sent".into()],
        });
    }
    let latest = now + CLOCK_SKEW;
    let problems: Vec<String> = sent
        .iter()
        .filter(|s| s.reading.at > latest)
        .take(crate::domain::temperature::csv::MAX_PROBLEMS)
        .map(|s| {
            format!(
                "{}: {} is in the future (the server's clock reads {})",
                s.place,
                s.reading
                    .at
                    .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
                now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            )
        })
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(AppError::InvalidReadings { problems })
    }
}

#[allow(clippy::too_many_arguments)]
async fn record(
    txn: &WriteTxn,
    actor: &Actor,
    now: DateTime<Utc>,
    source: Source,
    limits: &Limits,
    sent: Vec<Sent>,
    via: &str,
    inside: Inside<'_>,
) -> AppResult<Recorded> {
    // one reading per instant: of two sent for the same instant, the
    // warmer (the one that would decide)
    let mut readings: Vec<Reading> = sent.iter().map(|s| s.reading).collect();
    readings.sort_by_key(|r| (r.at, std::cmp::Reverse(r.temperature)));
    let sent_count = readings.len();
    readings.dedup_by_key(|r| r.at);
    let mut accepted = 0usize;
    for chunk in readings.chunks(INSERT_CHUNK) {
        let rows = chunk.iter().map(|r| {
            temperature_reading::Model {
                source_kind: source.kind,
                source_id: source.id,
                at: r.at,
                centi_celsius: r.temperature.get(),
                sent_by: actor.id,
                sent_via: via.chars().take(64).collect(),
                recorded_at: now,
            }
            .into_active_model()
        });
        let inserted = temperature_reading::Entity::insert_many(rows)
            // the primary key: (source kind, source, instant)
            .on_conflict_do_nothing()
            .exec_without_returning(txn)
            .await?;
        if let TryInsertResult::Inserted(n) = inserted {
            accepted += n as usize;
        }
    }
    let duplicates = sent_count - accepted;
    let first_new = readings.first().map(|r| r.at).unwrap_or(now);
    if accepted > 0 {
        ledger::append(
            txn,
            actor,
            now,
            NewEvent::new(
                "temperature.recorded",
                match source.kind {
                    SourceKind::Unit => "storage",
                    SourceKind::Shipment => "shipment",
                },
                source.id,
            )
            .details(json!({
                "accepted": accepted,
                "duplicates": duplicates,
                "first": readings.first().map(|r| r.at),
                "last": readings.last().map(|r| r.at),
                "via": via,
            })),
        )
        .await?;
    }
    // The series from the last reading within the limit before the new
    // ones: an excursion under way when they came is seen from its start.
    let anchor: Option<DateTime<Utc>> = temperature_reading::Entity::find()
        .select_only()
        .column(temperature_reading::Column::At)
        .filter(temperature_reading::Column::SourceKind.eq(source.kind))
        .filter(temperature_reading::Column::SourceId.eq(source.id))
        .filter(temperature_reading::Column::At.lt(first_new))
        .filter(temperature_reading::Column::CentiCelsius.lte(limits.max.get()))
        .order_by_desc(temperature_reading::Column::At)
        .limit(1)
        .into_tuple()
        .one(txn)
        .await?;
    let series = series_from(txn, source.kind, source.id, anchor, None).await?;
    let analysis = analyse(&series, limits, DEFAULT_MAX_GAP_MINUTES);
    let mut opened = Vec::new();
    let holding: Vec<&Excursion> = analysis.holding().collect();
    if !holding.is_empty() {
        let stays = match inside {
            Inside::Unit => {
                let boxes = holds::boxes_under(txn, source.id, source.site_id).await?;
                Some(holds::presences(txn, &boxes).await?)
            }
            Inside::AllOf(_) => None,
        };
        for excursion in holding {
            let ids = match (&stays, &inside) {
                (Some(stays), _) => holds::inside(excursion, stays),
                (None, Inside::AllOf(ids)) => ids.to_vec(),
                (None, Inside::Unit) => Vec::new(),
            };
            if let Some(hold) =
                holds::open_for_excursion(txn, actor, now, source, limits, excursion, &ids).await?
            {
                opened.push(hold);
            }
        }
    }
    Ok(Recorded {
        accepted,
        duplicates,
        excursions: analysis.excursions,
        holds: opened,
        limits: *limits,
    })
}

/// The readings of a source from `from` (inclusive) to `to` (inclusive), in
/// time order.
async fn series_from(
    db: &impl ConnectionTrait,
    kind: SourceKind,
    id: Uuid,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> AppResult<Vec<Reading>> {
    let mut select = temperature_reading::Entity::find()
        .select_only()
        .column(temperature_reading::Column::At)
        .column(temperature_reading::Column::CentiCelsius)
        .filter(temperature_reading::Column::SourceKind.eq(kind))
        .filter(temperature_reading::Column::SourceId.eq(id))
        .order_by_asc(temperature_reading::Column::At);
    if let Some(from) = from {
        select = select.filter(temperature_reading::Column::At.gte(from));
    }
    if let Some(to) = to {
        select = select.filter(temperature_reading::Column::At.lte(to));
    }
    let rows: Vec<(DateTime<Utc>, i32)> = select.into_tuple().all(db).await?;
    Ok(rows
        .into_iter()
        .filter_map(|(at, centi)| {
            Some(Reading {
                at,
                temperature: CentiCelsius::new(centi)?,
            })
        })
        .collect())
}

/// The unit's own limits, or the product's default.
pub async fn unit_limits(db: &impl ConnectionTrait, unit_id: Uuid) -> AppResult<Limits> {
    let own = temperature_limit::Entity::find_by_id(unit_id)
        .one(db)
        .await?;
    Ok(match own {
        Some(row) => Limits {
            max: CentiCelsius::new(row.max_centi_celsius)
                .ok_or_else(|| AppError::broken("stored limit out of range"))?,
            allowed_minutes: u32::try_from(row.allowed_minutes).unwrap_or(0),
        },
        None => Limits::default(),
    })
}

/// Sets a unit's own limits (quality: a validated unit's allowance).
/// Readings already recorded are not judged again; the next readings are.
pub async fn set_unit_limits(
    state: &AppState,
    actor: &Actor,
    unit_id: Uuid,
    limits: Limits,
) -> AppResult<Limits> {
    let unit = storage::unit(state, unit_id).await?;
    sites::check_works_at(state, actor, unit.site_id).await?;
    if limits.allowed_minutes > 24 * 60 {
        return Err(AppError::invalid(
            "allowed_minutes",
            "at most 1440 minutes (a day)",
        ));
    }
    let Some(user_id) = actor.id else {
        return Err(AppError::broken("limits are set by a person"));
    };
    let now = state.clock.now();
    let txn = state.db.write().await?;
    let before = unit_limits(&txn, unit_id).await?;
    temperature_limit::Entity::insert(
        temperature_limit::Model {
            storage_unit_id: unit_id,
            max_centi_celsius: limits.max.get(),
            allowed_minutes: limits.allowed_minutes as i32,
            set_by: user_id,
            set_at: now,
        }
        .into_active_model(),
    )
    .on_conflict(
        OnConflict::column(temperature_limit::Column::StorageUnitId)
            .update_columns([
                temperature_limit::Column::MaxCentiCelsius,
                temperature_limit::Column::AllowedMinutes,
                temperature_limit::Column::SetBy,
                temperature_limit::Column::SetAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    ledger::append(
        &txn,
        actor,
        now,
        NewEvent::new("temperature.limits_set", "storage", unit_id).details(json!({
            "from": { "max_centi_celsius": before.max.get(), "allowed_minutes": before.allowed_minutes },
            "to": { "max_centi_celsius": limits.max.get(), "allowed_minutes": limits.allowed_minutes },
        })),
    )
    .await?;
    txn.commit().await?;
    Ok(limits)
}

/// A page of a unit's readings between `from` and `to` (inclusive), oldest
/// first, after the instant `after` (the cursor).
pub async fn unit_readings(
    state: &AppState,
    unit_id: Uuid,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    limit: u64,
    after: Option<DateTime<Utc>>,
) -> AppResult<Page<temperature_reading::Model>> {
    storage::unit(state, unit_id).await?;
    let mut select = temperature_reading::Entity::find()
        .filter(temperature_reading::Column::SourceKind.eq(SourceKind::Unit))
        .filter(temperature_reading::Column::SourceId.eq(unit_id))
        .order_by_asc(temperature_reading::Column::At);
    if let Some(from) = from {
        select = select.filter(temperature_reading::Column::At.gte(from));
    }
    if let Some(to) = to {
        select = select.filter(temperature_reading::Column::At.lte(to));
    }
    if let Some(after) = after {
        select = select.filter(temperature_reading::Column::At.gt(after));
    }
    let mut rows = select.limit(limit + 1).all(state.db.conn()).await?;
    let next_cursor = if rows.len() as u64 > limit {
        rows.truncate(limit as usize);
        rows.last()
            .map(|r| crate::domain::paging::cursor_after(&r.at.timestamp_micros().to_string()))
    } else {
        None
    };
    Ok(Page {
        items: rows,
        next_cursor,
    })
}

/// The readings of a unit over a span, for its chart.
pub async fn unit_series(
    state: &AppState,
    unit_id: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> AppResult<Vec<Reading>> {
    series_from(
        state.db.conn(),
        SourceKind::Unit,
        unit_id,
        Some(from),
        Some(to),
    )
    .await
}

/// The latest reading of a unit, if any.
pub async fn latest_at(state: &AppState, unit_id: Uuid) -> AppResult<Option<DateTime<Utc>>> {
    Ok(temperature_reading::Entity::find()
        .select_only()
        .column(temperature_reading::Column::At)
        .filter(temperature_reading::Column::SourceKind.eq(SourceKind::Unit))
        .filter(temperature_reading::Column::SourceId.eq(unit_id))
        .order_by_desc(temperature_reading::Column::At)
        .limit(1)
        .into_tuple()
        .one(state.db.conn())
        .await?)
}
