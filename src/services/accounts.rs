//! Accounts: creating them, listing them, deactivating, reactivating and
//! unlocking them (signed), resetting a password from the command line, and the
//! first administrator on an empty database.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, Set, SqlErr,
};
use serde_json::json;
use uuid::Uuid;

use crate::domain::accounts::{FullName, NewPassword, Role, Username};
use crate::domain::invalid::Invalid;
use crate::entities::{site, user, user_site};
use crate::error::{AppError, AppResult};
use crate::services::auth::revoke_sessions;
use crate::services::ledger::{self, NewEvent};
use crate::services::signatures::{self, VerifiedSignature};
use crate::services::store;
use crate::services::{Actor, passwords, throttle};
use crate::state::AppState;

/// A new account as asked for; parsed here.
#[derive(Debug, Clone)]
pub struct NewAccount<'a> {
    pub username: &'a str,
    pub full_name: &'a str,
    pub role: &'a str,
    pub password: &'a str,
}

pub async fn create(
    state: &AppState,
    actor: &Actor,
    new: NewAccount<'_>,
) -> AppResult<user::Model> {
    let username = Username::parse(new.username).map_err(Invalid::from)?;
    let full_name = FullName::parse(new.full_name).map_err(Invalid::from)?;
    let role = new.role.parse::<Role>().map_err(Invalid::from)?;
    let password = NewPassword::parse(new.password, &username)?;
    let password_hash = passwords::hash(&password).await?;

    let now = state.clock.now();
    let account = user::Model {
        id: Uuid::now_v7(),
        username: username.into_inner(),
        full_name: full_name.into_inner(),
        role,
        password_hash,
        active: true,
        failed_logins: 0,
        locked_until: None,
        created_at: now,
        password_changed_at: now,
    };
    let txn = state.db.write().await?;
    let inserted = user::Entity::insert(account.clone().into_active_model())
        .exec_without_returning(&txn)
        .await;
    if let Err(error) = inserted {
        return Err(match error.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => AppError::UsernameTaken(account.username),
            _ => error.into(),
        });
    }
    // where there is one site, everyone works there; where there are
    // several, an administrator says who works where
    let sites: Vec<Uuid> = match site::Entity::find().all(&txn).await?.as_slice() {
        [only] => vec![only.id],
        _ => Vec::new(),
    };
    for site_id in &sites {
        user_site::Entity::insert(user_site::ActiveModel {
            user_id: Set(account.id),
            site_id: Set(*site_id),
            granted_at: Set(now),
            revoked_at: Set(None),
        })
        .exec_without_returning(&txn)
        .await?;
    }
    ledger::append(
        &txn,
        actor,
        now,
        NewEvent::new("user.created", "user", account.id).details(json!({
            "username": account.username,
            "full_name": account.full_name,
            "role": account.role,
            "site_ids": sites,
        })),
    )
    .await?;
    txn.commit().await?;
    Ok(account)
}

pub async fn list(state: &AppState) -> AppResult<Vec<user::Model>> {
    Ok(user::Entity::find()
        .order_by_asc(user::Column::Username)
        .all(state.db.conn())
        .await?)
}

pub async fn get(state: &AppState, id: Uuid) -> AppResult<user::Model> {
    store::find_or_404::<user::Entity>(state.db.conn(), id).await
}

/// Deactivates (`active = false`) or reactivates an account, signed. A
/// deactivated account's sessions end at once. The last active
/// administrator cannot be deactivated: nobody could manage accounts after.
pub async fn set_active(
    state: &AppState,
    signature: &VerifiedSignature,
    id: Uuid,
    active: bool,
    reason: &str,
) -> AppResult<user::Model> {
    let reason = crate::domain::reason::Reason::parse(reason)?;
    let now = state.clock.now();
    let txn = state.db.write().await?;
    let mut account = store::find_or_404::<user::Entity>(&txn, id).await?;
    if account.active == active {
        return Err(AppError::AccountAlreadyInState { active });
    }
    if !active && account.role == Role::Admin {
        let active_admins = user::Entity::find()
            .filter(user::Column::Role.eq(Role::Admin))
            .filter(user::Column::Active.eq(true))
            .count(&txn)
            .await?;
        if active_admins <= 1 {
            return Err(AppError::LastAdministrator);
        }
    }
    user::Entity::update_many()
        .col_expr(user::Column::Active, Expr::value(active))
        .filter(user::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    let sessions_ended = if active {
        0
    } else {
        revoke_sessions(&txn, id, now, None).await?
    };
    let action = if active {
        "user.reactivated"
    } else {
        "user.deactivated"
    };
    signatures::append_signed(
        &txn,
        signature,
        now,
        NewEvent::new(action, "user", id).details(json!({
            "reason": reason,
            "sessions_ended": sessions_ended,
        })),
    )
    .await?;
    txn.commit().await?;
    state.sessions.changed();
    account.active = active;
    Ok(account)
}

/// Unlocks an account (an administrator, signed): ends a lock and clears
/// the failed sign-ins that slow its name down, so its owner can sign in
/// at once. Refused when there is nothing to unlock.
pub async fn unlock(
    state: &AppState,
    signature: &VerifiedSignature,
    id: Uuid,
    reason: &str,
) -> AppResult<user::Model> {
    let reason = crate::domain::reason::Reason::parse(reason)?;
    let now = state.clock.now();
    let txn = state.db.write().await?;
    let mut account = store::find_or_404::<user::Entity>(&txn, id).await?;
    let locked_until = account.locked_until.filter(|until| *until > now);
    let pending = throttle::pending_for_name(&txn, &account.username, now).await?;
    if locked_until.is_none() && pending.count == 0 && account.failed_logins == 0 {
        return Err(AppError::AccountNotLocked);
    }
    user::Entity::update_many()
        .col_expr(user::Column::FailedLogins, Expr::value(0))
        .col_expr(
            user::Column::LockedUntil,
            Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
        )
        .filter(user::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    let cleared = throttle::clear_name(&txn, &account.username, now).await?;
    signatures::append_signed(
        &txn,
        signature,
        now,
        NewEvent::new("user.unlocked", "user", id).details(json!({
            "reason": reason,
            // the new values, for replay
            "locked_until": null,
            "failed_logins": 0,
            // what was undone
            "was_locked_until": locked_until,
            "sign_in_failures_cleared": cleared,
        })),
    )
    .await?;
    crate::services::sessions::raise_epoch(&txn).await?;
    txn.commit().await?;
    state.sessions.changed();
    account.locked_until = None;
    account.failed_logins = 0;
    Ok(account)
}

/// Sets a new password from the server's command line (a forgotten
/// password, a locked-out administrator), unlocks the account and ends its
/// sessions.
pub async fn reset_password(
    state: &AppState,
    actor: &Actor,
    username: &str,
    new_password: &str,
) -> AppResult<user::Model> {
    let username = Username::parse(username).map_err(Invalid::from)?;
    let password = NewPassword::parse(new_password, &username)?;
    let password_hash = passwords::hash(&password).await?;
    let now = state.clock.now();
    let txn = state.db.write().await?;
    let account = user::Entity::find()
        .filter(user::Column::Username.eq(username.as_str()))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("user", username.as_str()))?;
    user::Entity::update_many()
        .col_expr(user::Column::PasswordHash, Expr::value(password_hash))
        .col_expr(user::Column::PasswordChangedAt, Expr::value(now))
        .col_expr(user::Column::FailedLogins, Expr::value(0))
        .col_expr(
            user::Column::LockedUntil,
            Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
        )
        .filter(user::Column::Id.eq(account.id))
        .exec(&txn)
        .await?;
    let sessions_ended = revoke_sessions(&txn, account.id, now, None).await?;
    let sign_in_failures_cleared = throttle::clear_name(&txn, &account.username, now).await?;
    ledger::append(
        &txn,
        actor,
        now,
        NewEvent::new("user.password_reset", "user", account.id).details(json!({
            "sessions_ended": sessions_ended,
            "locked_until": null,
            "failed_logins": 0,
            "sign_in_failures_cleared": sign_in_failures_cleared,
        })),
    )
    .await?;
    txn.commit().await?;
    state.sessions.changed();
    Ok(account)
}

/// The first administrator, on a database without accounts.
pub enum Bootstrap {
    /// Accounts exist already.
    NotNeeded,
    /// `admin` was created with the configured password.
    Created,
    /// `admin` was created with this generated password, to be shown once.
    CreatedWithPassword(String),
}

pub async fn bootstrap_admin(state: &AppState) -> AppResult<Bootstrap> {
    if user::Entity::find().count(state.db.conn()).await? > 0 {
        return Ok(Bootstrap::NotNeeded);
    }
    let (password, generated) = match &state.settings.admin_password {
        Some(password) => (password.clone(), false),
        None => (passwords::generate()?, true),
    };
    let created = create(
        state,
        &Actor::system("bootstrap"),
        NewAccount {
            username: "admin",
            full_name: "Administrator",
            role: Role::Admin.as_str(),
            password: &password,
        },
    )
    .await;
    match created {
        Ok(_) if generated => Ok(Bootstrap::CreatedWithPassword(password)),
        Ok(_) => Ok(Bootstrap::Created),
        // Another instance starting on the same database won the race.
        Err(AppError::UsernameTaken(_)) => Ok(Bootstrap::NotNeeded),
        Err(AppError::WeakPassword(weak)) => {
            Err(AppError::invalid("CELLTRAIL_ADMIN_PASSWORD", weak))
        }
        Err(other) => Err(other),
    }
}
