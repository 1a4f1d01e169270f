//! Sites and who works at them. A one-site install has one site, the
//! default, which every record made before sites existed belongs to; it
//! takes the configured facility code and time zone at start-up. An
//! administrator adds sites and gives accounts access to them; every act
//! is a ledger event.

use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Set, SqlErr,
};
use serde_json::json;
use uuid::Uuid;

use crate::domain::site::{DEFAULT_SITE_ID, NewSite};
use crate::domain::zone::SiteZone;
use crate::entities::{custody_event, site, user_site};
use crate::error::{AppError, AppResult};
use crate::services::Actor;
use crate::services::ledger::{self, NewEvent};
use crate::services::store;
use crate::state::AppState;

/// Gives the default site the configured facility code and time zone (and,
/// the first time, records its creation): a one-site install's
/// configuration is its site's. A change of configuration is recorded as
/// the site's new values, with the old ones beside them.
pub async fn configure_default(state: &AppState) -> AppResult<site::Model> {
    let facility = state.settings.facility_code.as_str().to_owned();
    let zone = state.settings.timezone.name().to_owned();
    let actor = Actor::system("configuration");
    let now = state.clock.now();
    let txn = state.db.write().await?;
    // instances starting together on one database: one configures, the
    // others find it done
    let mut find = site::Entity::find_by_id(DEFAULT_SITE_ID);
    if txn.get_database_backend() == DbBackend::Postgres {
        find = find.lock_exclusive();
    }
    let current = find
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("site", DEFAULT_SITE_ID))?;
    let recorded = custody_event::Entity::find()
        .filter(custody_event::Column::SubjectId.eq(DEFAULT_SITE_ID))
        .filter(custody_event::Column::Action.eq("site.created"))
        .one(&txn)
        .await?
        .is_some();
    if recorded && current.facility_code == facility && current.time_zone == zone {
        return Ok(current);
    }
    let model = site::Model {
        facility_code: facility.clone(),
        time_zone: zone.clone(),
        ..current.clone()
    };
    let event = if recorded {
        NewEvent::new("site.configured", "site", DEFAULT_SITE_ID).details(json!({
            "facility_code": {"old": current.facility_code, "new": facility},
            "time_zone": {"old": current.time_zone, "new": zone},
        }))
    } else {
        NewEvent::new("site.created", "site", DEFAULT_SITE_ID).details(view(&model))
    };
    site::Entity::update(site::ActiveModel {
        id: Set(DEFAULT_SITE_ID),
        facility_code: Set(facility),
        time_zone: Set(zone),
        ..Default::default()
    })
    .exec(&txn)
    .await?;
    ledger::append(&txn, &actor, now, event).await?;
    txn.commit().await?;
    Ok(model)
}

fn view(site: &site::Model) -> serde_json::Value {
    json!({
        "name": site.name,
        "kind": site.kind,
        "facility_code": site.facility_code,
        "time_zone": site.time_zone,
    })
}

/// Adds a site (administrator).
pub async fn create(state: &AppState, actor: &Actor, new: NewSite) -> AppResult<site::Model> {
    let now = state.clock.now();
    let model = site::Model {
        id: Uuid::now_v7(),
        name: new.name,
        kind: new.kind,
        facility_code: new.facility_code.as_str().to_owned(),
        time_zone: new.zone.name().to_owned(),
        created_at: now,
    };
    let txn = state.db.write().await?;
    for (field, taken) in [
        (
            "name",
            site::Entity::find()
                .filter(site::Column::Name.eq(model.name.as_str()))
                .one(&txn)
                .await?,
        ),
        (
            "facility_code",
            site::Entity::find()
                .filter(site::Column::FacilityCode.eq(model.facility_code.as_str()))
                .one(&txn)
                .await?,
        ),
    ] {
        if taken.is_some() {
            let value = if field == "name" {
                model.name.clone()
            } else {
                model.facility_code.clone()
            };
            return Err(AppError::SiteTaken { field, value });
        }
    }
    // the lookups answer in words; the unique indexes answer a race
    if let Err(error) = site::Entity::insert(site::ActiveModel {
        id: Set(model.id),
        name: Set(model.name.clone()),
        kind: Set(model.kind),
        facility_code: Set(model.facility_code.clone()),
        time_zone: Set(model.time_zone.clone()),
        created_at: Set(now),
    })
    .exec_without_returning(&txn)
    .await
    {
        return Err(match error.sql_err() {
            // the other site was committed first: which of the two it took
            // is read outside this failed transaction
            Some(SqlErr::UniqueConstraintViolation(_)) => {
                let code_taken = site::Entity::find()
                    .filter(site::Column::FacilityCode.eq(model.facility_code.as_str()))
                    .one(state.db.conn())
                    .await?
                    .is_some();
                if code_taken {
                    AppError::SiteTaken {
                        field: "facility_code",
                        value: model.facility_code,
                    }
                } else {
                    AppError::SiteTaken {
                        field: "name",
                        value: model.name,
                    }
                }
            }
            _ => error.into(),
        });
    }
    ledger::append(
        &txn,
        actor,
        now,
        NewEvent::new("site.created", "site", model.id).details(view(&model)),
    )
    .await?;
    txn.commit().await?;
    Ok(model)
}

/// Every site, by name.
pub async fn list(state: &AppState) -> AppResult<Vec<site::Model>> {
    Ok(site::Entity::find()
        .order_by_asc(site::Column::Name)
        .all(state.db.conn())
        .await?)
}

pub async fn get(state: &AppState, id: Uuid) -> AppResult<site::Model> {
    store::find_or_404::<site::Entity>(state.db.conn(), id).await
}

/// The sites an account works at now.
pub async fn of_user(state: &AppState, user_id: Uuid) -> AppResult<Vec<Uuid>> {
    Ok(user_site::Entity::find()
        .filter(user_site::Column::UserId.eq(user_id))
        .filter(user_site::Column::RevokedAt.is_null())
        .all(state.db.conn())
        .await?
        .into_iter()
        .map(|access| access.site_id)
        .collect())
}

/// The site a new record made by `actor` belongs to: the one asked for,
/// which must be one of theirs, or their only one. The service acting on
/// its own (the demo, the command line) makes records at the site asked
/// for, or the default site.
pub async fn for_new_record(
    state: &AppState,
    actor: &Actor,
    asked: Option<Uuid>,
) -> AppResult<Uuid> {
    let Some(user_id) = actor.id else {
        return match asked {
            Some(id) => Ok(get(state, id).await?.id),
            None => Ok(DEFAULT_SITE_ID),
        };
    };
    let mine = of_user(state, user_id).await?;
    match asked {
        Some(id) => {
            let site = get(state, id).await?;
            if mine.contains(&id) {
                Ok(id)
            } else {
                Err(AppError::NotYourSite { site: site.name })
            }
        }
        None => match mine.as_slice() {
            [only] => Ok(*only),
            [] => Err(AppError::NotYourSite {
                site: "any site".into(),
            }),
            several => Err(AppError::SiteRequired {
                count: several.len(),
            }),
        },
    }
}

/// Refuses unless `actor` works at `site_id` (the service acting on its
/// own works everywhere).
pub async fn check_works_at(state: &AppState, actor: &Actor, site_id: Uuid) -> AppResult<()> {
    let Some(user_id) = actor.id else {
        return Ok(());
    };
    if of_user(state, user_id).await?.contains(&site_id) {
        return Ok(());
    }
    Err(AppError::NotYourSite {
        site: get(state, site_id).await?.name,
    })
}

/// Gives an account access to a site (administrator). Giving it again is
/// refused: nothing would change.
pub async fn grant(state: &AppState, actor: &Actor, user_id: Uuid, site_id: Uuid) -> AppResult<()> {
    store::find_or_404::<crate::entities::user::Entity>(state.db.conn(), user_id).await?;
    let site = get(state, site_id).await?;
    let now = state.clock.now();
    let txn = state.db.write().await?;
    let existing = user_site::Entity::find_by_id((user_id, site_id))
        .one(&txn)
        .await?;
    match existing {
        Some(access) if access.revoked_at.is_none() => {
            return Err(AppError::invalid(
                "site_id",
                format!("the account already works at {}", site.name),
            ));
        }
        Some(_) => {
            user_site::Entity::update(user_site::ActiveModel {
                user_id: Set(user_id),
                site_id: Set(site_id),
                granted_at: Set(now),
                revoked_at: Set(None),
            })
            .exec(&txn)
            .await?;
        }
        None => {
            user_site::Entity::insert(user_site::ActiveModel {
                user_id: Set(user_id),
                site_id: Set(site_id),
                granted_at: Set(now),
                revoked_at: Set(None),
            })
            .exec_without_returning(&txn)
            .await?;
        }
    }
    ledger::append(
        &txn,
        actor,
        now,
        NewEvent::new("user.site_granted", "user", user_id)
            .details(json!({ "site_id": site_id, "site": site.name })),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Ends an account's access to a site (administrator), with the reason.
pub async fn revoke(
    state: &AppState,
    actor: &Actor,
    user_id: Uuid,
    site_id: Uuid,
    reason: &str,
) -> AppResult<()> {
    let reason = crate::domain::reason::Reason::parse(reason)?;
    let site = get(state, site_id).await?;
    let now = state.clock.now();
    let txn = state.db.write().await?;
    let access = user_site::Entity::find_by_id((user_id, site_id))
        .one(&txn)
        .await?
        .filter(|access| access.revoked_at.is_none())
        .ok_or_else(|| {
            AppError::invalid(
                "site_id",
                format!("the account does not work at {}", site.name),
            )
        })?;
    user_site::Entity::update(user_site::ActiveModel {
        revoked_at: Set(Some(now)),
        ..access.into()
    })
    .exec(&txn)
    .await?;
    ledger::append(
        &txn,
        actor,
        now,
        NewEvent::new("user.site_revoked", "user", user_id).details(json!({
            "site_id": site_id,
            "site": site.name,
            "reason": reason.as_str(),
        })),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The time zone a person's pages are shown in: their sites' zone when the
/// sites they work at share one (a one-site install: the configured
/// zone), else the installation's. One query.
pub async fn zone_of_user(state: &AppState, user_id: Uuid) -> AppResult<SiteZone> {
    let zones: Vec<String> = site::Entity::find()
        .select_only()
        .column(site::Column::TimeZone)
        .distinct()
        .filter(
            site::Column::Id.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(user_site::Column::SiteId)
                    .from(user_site::Entity)
                    .and_where(user_site::Column::UserId.eq(user_id))
                    .and_where(user_site::Column::RevokedAt.is_null())
                    .to_owned(),
            ),
        )
        .into_tuple()
        .all(state.db.conn())
        .await?;
    Ok(match zones.as_slice() {
        [only] => SiteZone::parse(only).unwrap_or(state.settings.timezone),
        _ => state.settings.timezone,
    })
}

/// Who works where now: every access not revoked.
pub async fn accesses(state: &AppState) -> AppResult<Vec<user_site::Model>> {
    Ok(user_site::Entity::find()
        .filter(user_site::Column::RevokedAt.is_null())
        .all(state.db.conn())
        .await?)
}
