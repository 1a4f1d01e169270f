//! `/accounts/`: the administrator's accounts page. Every account with its
//! role and whether it is active or locked; a new account (the API's
//! password rules, `services::accounts::create`); deactivation and
//! reactivation signed with a reason; a new password; the unlock of the
//! sign-in watch. Each form calls one service and comes back here saying
//! what was done, or why not, in words.

use axum::extract::{Path, State};
use axum::response::{Html, Response};
use maud::{Markup, html};
use serde::Deserialize;
use uuid::Uuid;

use crate::domain::accounts::{MIN_PASSWORD_CHARS, Role};
use crate::entities::user;
use crate::i18n::{arg, t, t_with};
use crate::services::accounts::{self, NewAccount};
use crate::state::AppState;
use crate::web::error::{OrBack, PageError};
use crate::web::extract::{CsrfForm, PageUser, WebQuery, carries_csrf, roles};
use crate::web::page::{self, Flash, redirect_with};
use crate::web::user::WebUser;

/// Where every form of this page comes back to.
pub const BACK: &str = "/accounts";

pub async fn accounts_page(
    State(state): State<AppState>,
    user: PageUser<roles::Admin>,
    WebQuery(flash): WebQuery<Flash>,
) -> Result<Html<String>, PageError> {
    let list = accounts::list(&state).await?;
    let now = state.clock.now();
    Ok(page::show(
        &t("acct-title"),
        &user,
        accounts_view(&user, &list, now, &flash),
    ))
}

/// A role as people read it.
fn role_words(role: Role) -> String {
    t(&format!("acct-role-{}", role.as_str()))
}

fn accounts_view(
    user: &WebUser,
    list: &[user::Model],
    now: chrono::DateTime<chrono::Utc>,
    flash: &Flash,
) -> Markup {
    html! {
        h1 { (t("acct-title")) }
        (flash.render())
        div class="actions" { a class="button secondary" href="/accounts/sites" { (t("sites-title")) } }
        section class="card" id="accounts" {
            table {
                thead { tr {
                    th { (t("acct-col-username")) } th { (t("acct-col-name")) } th { (t("acct-col-role")) }
                    th { (t("acct-col-state")) } th { (t("acct-col-actions")) }
                } }
                tbody { @for a in list { (account_row(user, a, now)) } }
            }
        }
        (new_account_form(user))
    }
}

fn account_row(user: &WebUser, a: &user::Model, now: chrono::DateTime<chrono::Utc>) -> Markup {
    let locked = a.locked_until.filter(|until| *until > now);
    let is_me = a.id == user.user.user_id;
    html! {
        tr id={ "account-" (a.username) } {
            td class="code" { (a.username) }
            td { (a.full_name) @if is_me { " " span class="muted" { (t("acct-you")) } } }
            td { (role_words(a.role)) }
            td {
                @if a.active { span class="pill ok" { (t("acct-active")) } }
                @else { span class="pill bad" { (t("acct-inactive")) } }
                @if let Some(until) = locked {
                    " " span class="pill bad" { (t("accounts-locked")) }
                    (t_with("accounts-until", &[("when", arg(user.when(until)))]))
                }
            }
            td {
                @let (action, label, meaning) = if a.active {
                    ("deactivate", t_with("acct-deactivate-name", &[("username", arg(&a.username))]), "account deactivated")
                } else {
                    ("reactivate", t_with("acct-reactivate-name", &[("username", arg(&a.username))]), "account reactivated")
                };
                // The administrator is not offered their own deactivation
                // (the service refuses the last administrator's).
                @if !(is_me && a.active) { details {
                    summary { (label) }
                    form method="post" action={ "/accounts/" (a.id) "/" (action) } {
                        input type="hidden" name="csrf" value=(user.csrf());
                        label { (t("lot-why")) input name="reason" required; }
                        (page::signature_fields(meaning))
                        div class="actions" {
                            @if a.active { button class="danger" type="submit" { (t("acct-deactivate")) } }
                            @else { button type="submit" { (t("acct-reactivate")) } }
                        }
                    }
                } }
                details {
                    summary { (t_with("acct-password-name", &[("username", arg(&a.username))])) }
                    form method="post" action={ "/accounts/" (a.id) "/password" } {
                        input type="hidden" name="csrf" value=(user.csrf());
                        p class="muted" { (t_with("acct-password-explain", &[("min", arg(MIN_PASSWORD_CHARS))])) }
                        label { (t("acct-new-password")) input name="new_password" type="password" autocomplete="new-password" required; }
                        div class="actions" { button type="submit" { (t("acct-set-password")) } }
                    }
                }
                @if locked.is_some() || a.failed_logins > 0 {
                    details {
                        summary { (t_with("accounts-unlock-name", &[("username", arg(&a.username))])) }
                        form method="post" action={ "/accounts/" (a.id) "/unlock" } {
                            input type="hidden" name="csrf" value=(user.csrf());
                            input type="hidden" name="back" value=(BACK);
                            label { (t("lot-why")) input name="reason" required placeholder=(t("accounts-why-placeholder")); }
                            (page::signature_fields("account unlocked"))
                            div class="actions" { button type="submit" { (t("accounts-unlock")) } }
                        }
                    }
                }
            }
        }
    }
}

fn new_account_form(user: &WebUser) -> Markup {
    html! {
        section class="card" id="new-account" {
            h2 { (t("acct-new")) }
            form method="post" action=(BACK) {
                input type="hidden" name="csrf" value=(user.csrf());
                label { (t("acct-col-username")) input name="username" required autocomplete="off"; }
                p class="muted" { (t("acct-username-explain")) }
                label { (t("acct-col-name")) input name="full_name" required autocomplete="off"; }
                label { (t("acct-col-role")) select name="role" {
                    @for role in Role::ALL { option value=(role.as_str()) { (role_words(role)) } }
                } }
                label { (t("acct-initial-password")) input name="password" type="password" autocomplete="new-password" required; }
                p class="muted" { (t_with("acct-password-explain", &[("min", arg(MIN_PASSWORD_CHARS))])) }
                div class="actions" { button type="submit" { (t("acct-create")) } }
            }
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct NewAccountForm {
    pub csrf: String,
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub full_name: String,
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub password: String,
}

#[derive(Debug, Deserialize)]
pub struct ActiveForm {
    pub csrf: String,
    #[serde(default)]
    pub reason: String,
    pub password: String,
    pub meaning: String,
}

#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    pub csrf: String,
    #[serde(default)]
    pub new_password: String,
}

carries_csrf!(NewAccountForm, ActiveForm, PasswordForm);

/// Creates an account with the API's rules (`POST /api/v1/users`).
pub async fn create(
    State(state): State<AppState>,
    user: PageUser<roles::Admin>,
    CsrfForm(form): CsrfForm<NewAccountForm>,
) -> Result<Response, PageError> {
    let account = accounts::create(
        &state,
        &user.user.actor(),
        NewAccount {
            username: &form.username,
            full_name: &form.full_name,
            role: &form.role,
            password: &form.password,
        },
    )
    .await
    .or_back(BACK, user.zone)?;
    Ok(redirect_with(
        BACK,
        true,
        t_with(
            "acct-flash-created",
            &[
                ("username", arg(&account.username)),
                ("role", arg(role_words(account.role))),
            ],
        ),
    ))
}

/// Deactivates or reactivates an account, signed by the administrator;
/// whatever the service refuses (the last administrator, an account
/// already so) comes back in words.
pub async fn set_active(
    State(state): State<AppState>,
    user: PageUser<roles::Admin>,
    Path((id, action)): Path<(Uuid, String)>,
    CsrfForm(form): CsrfForm<ActiveForm>,
) -> Result<Response, PageError> {
    let active = match action.as_str() {
        "reactivate" => true,
        "deactivate" => false,
        _ => return Err(PageError::back(BACK, t("acct-no-such-action"))),
    };
    let signature = user.sign(&state, form.password, form.meaning, BACK).await?;
    let account = accounts::set_active(&state, &signature, id, active, &form.reason)
        .await
        .or_back(BACK, user.zone)?;
    let key = if active {
        "acct-flash-reactivated"
    } else {
        "acct-flash-deactivated"
    };
    Ok(redirect_with(
        BACK,
        true,
        t_with(key, &[("username", arg(&account.username))]),
    ))
}

/// Sets a new password (the service the command line uses): the account
/// is unlocked and its sessions end.
pub async fn reset_password(
    State(state): State<AppState>,
    user: PageUser<roles::Admin>,
    Path(id): Path<Uuid>,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> Result<Response, PageError> {
    let account = accounts::get(&state, id).await.or_back(BACK, user.zone)?;
    accounts::reset_password(
        &state,
        &user.user.actor(),
        &account.username,
        &form.new_password,
    )
    .await
    .or_back(BACK, user.zone)?;
    Ok(redirect_with(
        BACK,
        true,
        t_with(
            "acct-flash-password",
            &[("username", arg(&account.username))],
        ),
    ))
}
