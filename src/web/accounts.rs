//! The administrator's watch over sign-ins, on the home page: failed
//! sign-ins of the last day by username and by address (times in the
//! site's zone), the accounts locked or slowed down now, and the signed
//! unlock that frees one.

use axum::extract::{Path, State};
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;
use uuid::Uuid;

use crate::domain::throttle::{PER_ADDRESS, PER_NAME, WINDOW_HOURS};
use crate::services::{accounts, throttle};
use crate::state::AppState;
use crate::web::error::{OrBack, PageError};
use crate::web::extract::{CsrfForm, PageUser, carries_csrf, roles};
use crate::web::page;
use crate::web::user::WebUser;

/// The cards of the administrator's home page.
pub fn sign_in_watch(report: &throttle::Report, user: &WebUser) -> Markup {
    let until = |t: Option<chrono::DateTime<chrono::Utc>>| match t {
        Some(t) => user.when(t),
        None => String::new(),
    };
    html! {
        section class="card" id="held-accounts" {
            h2 { "Accounts locked or slowed down" }
            p class="muted" {
                "An account is locked after " (crate::domain::accounts::LOCKOUT_THRESHOLD)
                " wrong passwords in a row in a signed-in session (a signature or a password change); its sessions end. "
                "Wrong sign-ins never lock anyone out: after " (PER_NAME.free) " with one username, each further attempt with it waits longer, up to a minute. "
                "Unlocking ends the lock and clears those failures."
            }
            @if report.accounts.is_empty() { p class="muted" { "None." } }
            @else {
                table {
                    thead { tr { th { "Account" } th { "State" } th { "Unlock" } } }
                    tbody { @for hold in &report.accounts {
                        tr {
                            td { span class="code" { (hold.account.username) } br; span class="muted" { (hold.account.full_name) } }
                            td {
                                @if let Some(t) = hold.locked_until { span class="pill bad" { "locked" } " until " (user.when(t)) br; }
                                @if hold.failures > 0 {
                                    (hold.failures) " failed sign-ins in the last " (WINDOW_HOURS) " hours"
                                    @if hold.slowed_until.is_some() { "; next attempt after " (until(hold.slowed_until)) }
                                }
                            }
                            td {
                                details {
                                    summary { "Unlock " (hold.account.username) "…" }
                                    form method="post" action={ "/accounts/" (hold.account.id) "/unlock" } {
                                        input type="hidden" name="csrf" value=(user.csrf());
                                        label { "Why" input name="reason" required placeholder="called the help desk, identity checked"; }
                                        (page::signature_fields("account unlocked"))
                                        div class="actions" { button type="submit" { "Unlock" } }
                                    }
                                }
                            }
                        }
                    } }
                }
            }
        }
        section class="card" id="failed-by-name" {
            h2 { "Failed sign-ins by username, last " (WINDOW_HOURS) " hours" }
            @if report.by_name.is_empty() { p class="muted" { "None." } }
            @else {
                table {
                    thead { tr { th { "Username typed" } th { "Account" } th class="num" { "Failures" } th { "Last" } th { "Next attempt after" } } }
                    tbody { @for n in &report.by_name {
                        tr {
                            td class="code" { (n.username) }
                            td { @if n.account.is_some() { "yes" } @else { span class="muted" { "no such account" } } }
                            td class="num" { (n.failures) }
                            td class="nowrap" { (user.when(n.last_failed_at)) }
                            td class="nowrap" { (until(n.slowed_until)) }
                        }
                    } }
                }
            }
        }
        section class="card" id="failed-by-address" {
            h2 { "Failed sign-ins by address, last " (WINDOW_HOURS) " hours" }
            p class="muted" { "After " (PER_ADDRESS.free) " failures from one address, each further attempt from it waits longer, up to 15 minutes." }
            @if report.by_address.is_empty() { p class="muted" { "None." } }
            @else {
                table {
                    thead { tr { th { "Address" } th class="num" { "Failures" } th class="num" { "Usernames tried" } th { "Last" } th { "Next attempt after" } } }
                    tbody { @for a in &report.by_address {
                        tr {
                            td class="code" { (a.address) }
                            td class="num" { (a.failures) }
                            td class="num" { (a.names) }
                            td class="nowrap" { (user.when(a.last_failed_at)) }
                            td class="nowrap" { (until(a.slowed_until)) }
                        }
                    } }
                }
            }
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct UnlockForm {
    pub csrf: String,
    #[serde(default)]
    pub reason: String,
    pub password: String,
    pub meaning: String,
}

carries_csrf!(UnlockForm);

/// Unlocks an account, signed by the administrator.
pub async fn unlock(
    State(state): State<AppState>,
    user: PageUser<roles::Admin>,
    Path(id): Path<Uuid>,
    CsrfForm(form): CsrfForm<UnlockForm>,
) -> Result<Response, PageError> {
    let signature = user.sign(&state, form.password, form.meaning, "/").await?;
    let account = accounts::unlock(&state, &signature, id, &form.reason)
        .await
        .or_back("/", user.zone)?;
    Ok(page::redirect_with(
        "/",
        true,
        format!("{} is unlocked and may sign in now.", account.username),
    ))
}
