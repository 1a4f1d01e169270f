//! Failed sign-ins, per name typed and per client address: the record that
//! slows guessing down (see `domain::throttle` for the rule) and what the
//! administrator's home page shows.
//!
//! These rows are operational data, not custody history: nothing in them
//! is a state change of a record. A sign-in is first *admitted*: in one
//! short write transaction the throttle is checked and the attempt written
//! as a failure, before the password is checked; so a burst of parallel
//! guesses is counted like the same guesses in a row. A right password then
//! withdraws the row again.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Set, Statement,
};
use uuid::Uuid;

use crate::db::WriteTxn;
use crate::domain::throttle::{
    self, ClientAddress, Failures, PER_ADDRESS, PER_NAME, retry_after_seconds, throttled_until,
    window_start,
};
use crate::entities::{sign_in_failure as failure, user};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// Arbitrary, fixed key of the PostgreSQL advisory lock that makes
/// check-and-record one step across instances ("signin").
const ADMIT_LOCK_KEY: i64 = 0x7369_676e_696e;
/// How long failures are kept for the record.
pub const RETENTION_DAYS: i64 = 30;
/// Most rows per table on the administrator's page.
const REPORT_ROWS: u64 = 50;

/// A sign-in let through, recorded as a failure until its password is
/// found right.
#[derive(Debug, Clone)]
pub struct Attempt {
    id: Uuid,
    name: String,
    address: ClientAddress,
}

/// Lets a sign-in go on, or refuses it while the name or the address must
/// wait. The refusal is the same whether the name is an account or not.
pub async fn admit(
    state: &AppState,
    typed_name: &str,
    address: &ClientAddress,
) -> AppResult<Attempt> {
    let name = throttle::attempted_name(typed_name);
    let now = state.clock.now();
    let txn = state.db.write().await?;
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock($1)",
            [ADMIT_LOCK_KEY.into()],
        ))
        .await?;
    }
    let by_name = pending(&txn, failure::Column::Username, &name, now).await?;
    let by_address = pending(&txn, failure::Column::Address, address.as_str(), now).await?;
    if let Some(until) = throttled_until(&by_name, &by_address, now) {
        tracing::info!(address = address.as_str(), %until, "sign-in slowed down");
        return Err(AppError::AccountLocked {
            until,
            retry_after_seconds: retry_after_seconds(until, now),
        });
    }
    let attempt = Attempt {
        id: Uuid::now_v7(),
        name,
        address: address.clone(),
    };
    failure::Entity::insert(failure::ActiveModel {
        id: Set(attempt.id),
        username: Set(attempt.name.clone()),
        address: Set(attempt.address.as_str().to_owned()),
        failed_at: Set(now),
        name_cleared_at: Set(None),
        address_cleared_at: Set(None),
    })
    .exec_without_returning(&txn)
    .await?;
    txn.commit().await?;
    Ok(attempt)
}

/// The password was right but the sign-in is refused for another reason
/// (a locked or deactivated account): no failure to count.
pub async fn withdraw(state: &AppState, attempt: &Attempt) -> AppResult<()> {
    let txn = state.db.write().await?;
    failure::Entity::delete_by_id(attempt.id).exec(&txn).await?;
    txn.commit().await?;
    Ok(())
}

/// A successful sign-in: the attempt was no failure; the name's failures no
/// longer slow it, and this address's failures against this name no longer
/// slow the address (a person who mistyped and then got in is no
/// attacker). Failures against other names from the address still count.
pub async fn succeeded(txn: &WriteTxn, attempt: &Attempt, now: DateTime<Utc>) -> AppResult<()> {
    failure::Entity::delete_by_id(attempt.id).exec(txn).await?;
    clear_name(txn, &attempt.name, now).await?;
    failure::Entity::update_many()
        .col_expr(failure::Column::AddressClearedAt, Expr::value(now))
        .filter(failure::Column::Username.eq(attempt.name.as_str()))
        .filter(failure::Column::Address.eq(attempt.address.as_str()))
        .filter(failure::Column::AddressClearedAt.is_null())
        .exec(txn)
        .await?;
    Ok(())
}

/// Stops the name's failures from slowing its sign-ins (an administrator's
/// unlock, a password reset); returns how many were cleared.
pub async fn clear_name(txn: &WriteTxn, name: &str, now: DateTime<Utc>) -> AppResult<u64> {
    Ok(failure::Entity::update_many()
        .col_expr(failure::Column::NameClearedAt, Expr::value(now))
        .filter(failure::Column::Username.eq(name))
        .filter(failure::Column::NameClearedAt.is_null())
        .filter(failure::Column::FailedAt.gt(window_start(now)))
        .exec(txn)
        .await?
        .rows_affected)
}

/// The failures that count against a name now.
pub async fn pending_for_name(
    db: &impl ConnectionTrait,
    name: &str,
    now: DateTime<Utc>,
) -> AppResult<Failures> {
    pending(db, failure::Column::Username, name, now).await
}

/// Forgets failures past the retention.
pub async fn prune(state: &AppState) -> AppResult<u64> {
    let before = state.clock.now() - Duration::days(RETENTION_DAYS);
    let txn = state.db.write().await?;
    let removed = failure::Entity::delete_many()
        .filter(failure::Column::FailedAt.lt(before))
        .exec(&txn)
        .await?
        .rows_affected;
    txn.commit().await?;
    Ok(removed)
}

/// Uncleared failures in the window against a name or an address.
async fn pending(
    db: &impl ConnectionTrait,
    key: failure::Column,
    value: &str,
    now: DateTime<Utc>,
) -> AppResult<Failures> {
    let cleared = match key {
        failure::Column::Address => failure::Column::AddressClearedAt,
        _ => failure::Column::NameClearedAt,
    };
    let (count, last): (i64, Option<DateTime<Utc>>) = failure::Entity::find()
        .select_only()
        .column_as(failure::Column::Id.count(), "n")
        .column_as(failure::Column::FailedAt.max(), "last")
        .filter(key.eq(value))
        .filter(cleared.is_null())
        .filter(failure::Column::FailedAt.gt(window_start(now)))
        .into_tuple()
        .one(db)
        .await?
        .unwrap_or((0, None));
    Ok(Failures { count, last })
}

/// Failed sign-ins of the window for one name typed.
#[derive(Debug, Clone)]
pub struct NameFailures {
    pub username: String,
    pub failures: i64,
    pub last_failed_at: DateTime<Utc>,
    /// Until when sign-ins with this name must wait, if they must.
    pub slowed_until: Option<DateTime<Utc>>,
    /// Whether the name's failures would slow its next sign-in.
    pub slowed: bool,
    /// The account of that name, if there is one.
    pub account: Option<user::Model>,
}

/// Failed sign-ins of the window from one address.
#[derive(Debug, Clone)]
pub struct AddressFailures {
    pub address: String,
    pub failures: i64,
    /// How many different names were tried from it.
    pub names: i64,
    pub last_failed_at: DateTime<Utc>,
    pub slowed_until: Option<DateTime<Utc>>,
}

/// What the administrator's home page shows: failed sign-ins of the last
/// day by name and by address, and the accounts locked or slowed now.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub by_name: Vec<NameFailures>,
    pub by_address: Vec<AddressFailures>,
    /// Accounts locked, or whose failures slow their sign-ins.
    pub accounts: Vec<AccountHold>,
}

#[derive(Debug, Clone)]
pub struct AccountHold {
    pub account: user::Model,
    pub locked_until: Option<DateTime<Utc>>,
    pub failures: i64,
    pub slowed_until: Option<DateTime<Utc>>,
}

/// Name, failures, last failure, uncleared failures, last uncleared one.
type NameRow = (String, i64, DateTime<Utc>, i64, Option<DateTime<Utc>>);
/// Address, failures, names tried, last failure, uncleared failures, last
/// uncleared one.
type AddressRow = (String, i64, i64, DateTime<Utc>, i64, Option<DateTime<Utc>>);

pub async fn report(state: &AppState) -> AppResult<Report> {
    let db = state.db.conn();
    let now = state.clock.now();
    let since = window_start(now);
    let uncleared_count = |column: failure::Column| {
        Expr::expr(Expr::case(Expr::col(column).is_null(), 1).finally(0)).sum()
    };
    let uncleared_last = |column: failure::Column| {
        Expr::expr(Expr::case(
            Expr::col(column).is_null(),
            Expr::col(failure::Column::FailedAt),
        ))
        .max()
    };
    let names: Vec<NameRow> = failure::Entity::find()
        .select_only()
        .column(failure::Column::Username)
        .column_as(failure::Column::Id.count(), "n")
        .column_as(failure::Column::FailedAt.max(), "last")
        .column_as(uncleared_count(failure::Column::NameClearedAt), "pending")
        .column_as(
            uncleared_last(failure::Column::NameClearedAt),
            "pending_last",
        )
        .filter(failure::Column::FailedAt.gt(since))
        .group_by(failure::Column::Username)
        .order_by_desc(failure::Column::FailedAt.max())
        .limit(REPORT_ROWS)
        .into_tuple()
        .all(db)
        .await?;
    let addresses: Vec<AddressRow> = failure::Entity::find()
        .select_only()
        .column(failure::Column::Address)
        .column_as(failure::Column::Id.count(), "n")
        .column_as(
            Expr::expr(Func::count_distinct(Expr::col(failure::Column::Username))),
            "names",
        )
        .column_as(failure::Column::FailedAt.max(), "last")
        .column_as(
            uncleared_count(failure::Column::AddressClearedAt),
            "pending",
        )
        .column_as(
            uncleared_last(failure::Column::AddressClearedAt),
            "pending_last",
        )
        .filter(failure::Column::FailedAt.gt(since))
        .group_by(failure::Column::Address)
        .order_by_desc(failure::Column::FailedAt.max())
        .limit(REPORT_ROWS)
        .into_tuple()
        .all(db)
        .await?;

    let accounts = user::Entity::find()
        .filter(
            user::Column::Username
                .is_in(names.iter().map(|n| n.0.clone()))
                .or(user::Column::LockedUntil.gt(now)),
        )
        .order_by_asc(user::Column::Username)
        .all(db)
        .await?;
    let account_named = |name: &str| accounts.iter().find(|a| a.username == name).cloned();

    let waiting = |until: Option<DateTime<Utc>>| until.filter(|u| *u > now);
    let by_name: Vec<NameFailures> = names
        .into_iter()
        .map(|(username, failures, last_failed_at, count, last)| {
            let pending = Failures { count, last };
            NameFailures {
                account: account_named(&username),
                slowed_until: waiting(PER_NAME.next_allowed(&pending)),
                slowed: PER_NAME.delay(count) > Duration::zero(),
                username,
                failures,
                last_failed_at,
            }
        })
        .collect();
    let by_address = addresses
        .into_iter()
        .map(
            |(address, failures, names, last_failed_at, count, last)| AddressFailures {
                slowed_until: waiting(PER_ADDRESS.next_allowed(&Failures { count, last })),
                address,
                failures,
                names,
                last_failed_at,
            },
        )
        .collect();
    let accounts = accounts
        .iter()
        .filter_map(|account| {
            let locked_until = waiting(account.locked_until);
            let name = by_name.iter().find(|n| n.username == account.username);
            let slowed = name.is_some_and(|n| n.slowed);
            (locked_until.is_some() || slowed).then(|| AccountHold {
                account: account.clone(),
                locked_until,
                failures: name.map_or(0, |n| n.failures),
                slowed_until: name.and_then(|n| n.slowed_until),
            })
        })
        .collect();
    Ok(Report {
        by_name,
        by_address,
        accounts,
    })
}
