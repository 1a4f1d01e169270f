//! Signing in and out, bearer tokens, the slowing down of wrong sign-ins
//! (`throttle`), and the lock after repeated wrong passwords in a signed-in
//! session.
//!
//! A token is 32 random bytes, shown once to the client; the database keeps
//! only its SHA-256, so a leaked database copy hands out no sessions.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::db::WriteTxn;
use crate::domain::accounts::{
    FailedAttempt, LOCKOUT_THRESHOLD, NewPassword, Username, failed_attempt, is_locked,
};
use crate::domain::event::hex;
use crate::domain::throttle::{ClientAddress, retry_after_seconds};
use crate::entities::{session, user};
use crate::error::{AppError, AppResult};
use crate::services::ledger::{self, NewEvent};
use crate::services::store;
use crate::services::{Actor, passwords, sessions, throttle};
use crate::state::AppState;

pub use crate::domain::actor::AuthenticatedUser;

const TOKEN_PREFIX: &str = "ct_";

pub struct LoginOutcome {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub user: user::Model,
}

/// Signs in from `client`. Every wrong password, for an account or for a
/// name that is none, counts against the name and the address alike, and
/// while either must wait the answer is the same `account_locked` (see
/// `domain::throttle`). That an account is locked or deactivated is told
/// only to someone who gave its right password.
pub async fn login(
    state: &AppState,
    client: &ClientAddress,
    username: &str,
    password: &str,
) -> AppResult<LoginOutcome> {
    let attempt = throttle::admit(state, username, client).await?;
    let account = match Username::parse(username) {
        Ok(username) => find_by_username(state, &username).await?,
        Err(_) => None,
    };
    let Some(account) = account else {
        // as long as a real verification, so the answer's speed tells
        // nothing either
        passwords::verify_against_nothing(password).await?;
        return Err(AppError::InvalidCredentials);
    };
    if !passwords::verify(&account.password_hash, password).await? {
        return Err(AppError::InvalidCredentials);
    }
    let now = state.clock.now();
    if let Some(until) = account
        .locked_until
        .filter(|until| is_locked(Some(*until), now))
    {
        throttle::withdraw(state, &attempt).await?;
        return Err(AppError::AccountLocked {
            until,
            retry_after_seconds: retry_after_seconds(until, now),
        });
    }
    if !account.active {
        throttle::withdraw(state, &attempt).await?;
        return Err(AppError::AccountDeactivated);
    }

    let token = new_token()?;
    let expires_at = now + state.settings.token_ttl;
    let txn = state.db.write().await?;
    throttle::succeeded(&txn, &attempt, now).await?;
    if account.failed_logins != 0 {
        reset_failures(&txn, account.id).await?;
    }
    session::Entity::insert(session::ActiveModel {
        id: Set(Uuid::now_v7()),
        token_hash: Set(token_hash(&token)),
        user_id: Set(account.id),
        created_at: Set(now),
        expires_at: Set(expires_at),
        revoked_at: Set(None),
    })
    .exec_without_returning(&txn)
    .await?;
    txn.commit().await?;
    Ok(LoginOutcome {
        token,
        expires_at,
        user: account,
    })
}

/// Ends the session the token belongs to.
pub async fn logout(state: &AppState, session_id: Uuid) -> AppResult<()> {
    let txn = state.db.write().await?;
    let ended = session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(state.clock.now()))
        .filter(session::Column::Id.eq(session_id))
        .filter(session::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?;
    if ended.rows_affected > 0 {
        sessions::raise_epoch(&txn).await?;
    }
    txn.commit().await?;
    state.sessions.changed();
    Ok(())
}

/// Resolves a bearer token to its user, in one query.
pub async fn authenticate(state: &AppState, token: &str) -> AppResult<AuthenticatedUser> {
    let invalid = AppError::Unauthenticated {
        reason: "invalid_token",
    };
    if !is_well_formed(token) {
        return Err(invalid);
    }
    let now = state.clock.now();
    let lookup = match state.sessions.find(token_hash(token), now) {
        Ok(user) => return Ok(user),
        Err(lookup) => lookup,
    };
    let found = session::Entity::find()
        .filter(session::Column::TokenHash.eq(lookup.key()))
        .find_also_related(user::Entity)
        .one(state.db.conn())
        .await?;
    let Some((session, Some(account))) = found else {
        return Err(invalid);
    };
    if session.revoked_at.is_some() {
        return Err(AppError::Unauthenticated {
            reason: "token_revoked",
        });
    }
    if session.expires_at <= now {
        return Err(AppError::Unauthenticated {
            reason: "token_expired",
        });
    }
    if !account.active {
        return Err(AppError::AccountDeactivated);
    }
    let role = account.role;
    let user = AuthenticatedUser {
        user_id: account.id,
        session_id: session.id,
        username: account.username,
        full_name: account.full_name,
        role,
        locked_until: account.locked_until,
        created_at: account.created_at,
    };
    state.sessions.keep(lookup, &user, session.expires_at);
    Ok(user)
}

/// Checks that `password` is the signed-in user's own, as a signature or a
/// password change requires. A wrong one counts towards the lockout like a
/// failed login (21 CFR Part 11 §11.300(d): attempts at unauthorised use
/// are detected and acted on).
pub async fn confirm_own_password(
    state: &AppState,
    user: &AuthenticatedUser,
    password: &str,
    wrong: AppError,
) -> AppResult<()> {
    let account = store::find_or_404::<user::Entity>(state.db.conn(), user.user_id).await?;
    let now = state.clock.now();
    if let Some(until) = account
        .locked_until
        .filter(|until| is_locked(Some(*until), now))
    {
        return Err(AppError::AccountLocked {
            until,
            retry_after_seconds: retry_after_seconds(until, now),
        });
    }
    if !passwords::verify(&account.password_hash, password).await? {
        record_wrong_password(state, account.id).await?;
        return Err(wrong);
    }
    if account.failed_logins != 0 {
        let txn = state.db.write().await?;
        reset_failures(&txn, account.id).await?;
        txn.commit().await?;
    }
    Ok(())
}

/// Changes the signed-in user's password and signs out their other sessions.
pub async fn change_password(
    state: &AppState,
    user: &AuthenticatedUser,
    current_password: &str,
    new_password: &str,
) -> AppResult<()> {
    let username = Username::parse(&user.username).map_err(AppError::internal)?;
    let new_password = NewPassword::parse(new_password, &username)?;
    confirm_own_password(state, user, current_password, AppError::InvalidCredentials).await?;
    let password_hash = passwords::hash(&new_password).await?;

    let now = state.clock.now();
    let txn = state.db.write().await?;
    user::ActiveModel {
        id: Set(user.user_id),
        password_hash: Set(password_hash),
        password_changed_at: Set(now),
        ..Default::default()
    }
    .update(&txn)
    .await?;
    revoke_sessions(&txn, user.user_id, now, Some(user.session_id)).await?;
    ledger::append(
        &txn,
        &user.actor(),
        now,
        NewEvent::new("user.password_changed", "user", user.user_id),
    )
    .await?;
    txn.commit().await?;
    state.sessions.changed();
    Ok(())
}

/// Revokes every live session of a user but `keep`, raising the session
/// epoch so every instance reads its sessions again; the caller tells its
/// own instance after the commit (`state.sessions.changed()`).
pub async fn revoke_sessions(
    txn: &WriteTxn,
    user_id: Uuid,
    now: DateTime<Utc>,
    keep: Option<Uuid>,
) -> AppResult<u64> {
    let mut update = session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(now))
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::RevokedAt.is_null());
    if let Some(keep) = keep {
        update = update.filter(session::Column::Id.ne(keep));
    }
    let ended = update.exec(txn).await?.rows_affected;
    if ended > 0 {
        sessions::raise_epoch(txn).await?;
    }
    Ok(ended)
}

async fn find_by_username(state: &AppState, username: &Username) -> AppResult<Option<user::Model>> {
    Ok(user::Entity::find()
        .filter(user::Column::Username.eq(username.as_str()))
        .one(state.db.conn())
        .await?)
}

/// Counts one wrong password entered in a signed-in session (a signature,
/// a password change). The fifth in a row locks the account and ends all
/// its sessions: whoever holds a session but not the password is not its
/// owner. Only a session can do this, so nobody anonymous can lock anyone
/// out; wrong sign-ins are slowed down instead (`throttle`). Counted inside
/// the write transaction, so concurrent wrong attempts are all counted.
async fn record_wrong_password(state: &AppState, user_id: Uuid) -> AppResult<()> {
    let now = state.clock.now();
    let txn = state.db.write().await?;
    let account = store::find_or_404::<user::Entity>(&txn, user_id).await?;
    if is_locked(account.locked_until, now) {
        return Ok(());
    }
    match failed_attempt(account.failed_logins, now) {
        FailedAttempt::Count { failed_logins } => {
            user::ActiveModel {
                id: Set(user_id),
                failed_logins: Set(failed_logins),
                ..Default::default()
            }
            .update(&txn)
            .await?;
        }
        FailedAttempt::Lock { until } => {
            user::ActiveModel {
                id: Set(user_id),
                failed_logins: Set(0),
                locked_until: Set(Some(until)),
                ..Default::default()
            }
            .update(&txn)
            .await?;
            let sessions_ended = revoke_sessions(&txn, user_id, now, None).await?;
            ledger::append(
                &txn,
                &Actor::system("security"),
                now,
                NewEvent::new("user.locked", "user", user_id).details(json!({
                    "reason": format!("{LOCKOUT_THRESHOLD} wrong passwords in a row in a signed-in session"),
                    "locked_until": until,
                    "failed_logins": 0,
                    "sessions_ended": sessions_ended,
                })),
            )
            .await?;
        }
    }
    txn.commit().await?;
    state.sessions.changed();
    Ok(())
}

async fn reset_failures(txn: &WriteTxn, user_id: Uuid) -> AppResult<()> {
    user::ActiveModel {
        id: Set(user_id),
        failed_logins: Set(0),
        ..Default::default()
    }
    .update(txn)
    .await?;
    Ok(())
}

pub fn new_token() -> AppResult<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| AppError::internal(anyhow::anyhow!("no randomness: {e}")))?;
    Ok(format!("{TOKEN_PREFIX}{}", hex(&bytes)))
}

fn is_well_formed(token: &str) -> bool {
    token.strip_prefix(TOKEN_PREFIX).is_some_and(|rest| {
        rest.len() == 64 && rest.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    })
}

/// Whether this instance now answers `token` from memory, without reading
/// its session (for tests that prove a kept session's ending is refused).
pub fn kept_in_memory(state: &AppState, token: &str) -> bool {
    state
        .sessions
        .find(token_hash(token), state.clock.now())
        .is_ok()
}

fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_well_formed() {
        let a = new_token().unwrap();
        let b = new_token().unwrap();
        assert_ne!(a, b);
        assert!(is_well_formed(&a));
        assert!(!is_well_formed(&a[..a.len() - 1]));
        assert!(!is_well_formed(&a.to_uppercase()));
        assert!(!is_well_formed("Bearer x"));
        assert_eq!(token_hash(&a).len(), 64);
    }
}
