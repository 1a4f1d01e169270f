//! The administrator's pages. Here, the watch over sign-ins on the home
//! page: failed sign-ins of the last day by username and by address (times
//! in the site's zone), the accounts locked or slowed down now, and the
//! signed unlock that frees one; the accounts page is [`manage`].

pub mod manage;
pub mod sites;

use axum::extract::{Path, State};
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;
use uuid::Uuid;

use crate::domain::throttle::{PER_ADDRESS, PER_NAME, WINDOW_HOURS};
use crate::i18n::{arg, t, t_with};
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
            h2 { (t("accounts-held")) }
            p class="muted" {
                (t_with("accounts-explain", &[
                    ("lockout", arg(crate::domain::accounts::LOCKOUT_THRESHOLD)),
                    ("free", arg(PER_NAME.free)),
                ]))
            }
            @if report.accounts.is_empty() { p class="muted" { (t("home-none")) } }
            @else {
                table {
                    thead { tr { th { (t("accounts-col-account")) } th { (t("accounts-col-state")) } th { (t("accounts-unlock")) } } }
                    tbody { @for hold in &report.accounts {
                        tr {
                            td { span class="code" { (hold.account.username) } br; span class="muted" { (hold.account.full_name) } }
                            td {
                                @if let Some(at) = hold.locked_until { span class="pill bad" { (t("accounts-locked")) } (t_with("accounts-until", &[("when", arg(user.when(at)))])) br; }
                                @if hold.failures > 0 {
                                    (t_with("accounts-failures", &[("failures", arg(hold.failures)), ("hours", arg(WINDOW_HOURS))]))
                                    @if hold.slowed_until.is_some() { (t_with("accounts-next-after", &[("when", arg(until(hold.slowed_until)))])) }
                                }
                            }
                            td {
                                details {
                                    summary { (t_with("accounts-unlock-name", &[("username", arg(&hold.account.username))])) }
                                    form method="post" action={ "/accounts/" (hold.account.id) "/unlock" } {
                                        input type="hidden" name="csrf" value=(user.csrf());
                                        label { (t("lot-why")) input name="reason" required placeholder=(t("accounts-why-placeholder")); }
                                        (page::signature_fields("account unlocked"))
                                        div class="actions" { button type="submit" { (t("accounts-unlock")) } }
                                    }
                                }
                            }
                        }
                    } }
                }
            }
        }
        section class="card" id="failed-by-name" {
            h2 { (t_with("accounts-by-name", &[("hours", arg(WINDOW_HOURS))])) }
            @if report.by_name.is_empty() { p class="muted" { (t("home-none")) } }
            @else {
                table {
                    thead { tr { th { (t("accounts-col-typed")) } th { (t("accounts-col-account")) } th class="num" { (t("accounts-col-failures")) } th { (t("accounts-col-last")) } th { (t("accounts-col-next")) } } }
                    tbody { @for n in &report.by_name {
                        tr {
                            td class="code" { (n.username) }
                            td { @if n.account.is_some() { (t("accounts-yes")) } @else { span class="muted" { (t("accounts-no-such")) } } }
                            td class="num" { (n.failures) }
                            td class="nowrap" { (user.when(n.last_failed_at)) }
                            td class="nowrap" { (until(n.slowed_until)) }
                        }
                    } }
                }
            }
        }
        section class="card" id="failed-by-address" {
            h2 { (t_with("accounts-by-address", &[("hours", arg(WINDOW_HOURS))])) }
            p class="muted" { (t_with("accounts-address-explain", &[("free", arg(PER_ADDRESS.free))])) }
            @if report.by_address.is_empty() { p class="muted" { (t("home-none")) } }
            @else {
                table {
                    thead { tr { th { (t("accounts-col-address")) } th class="num" { (t("accounts-col-failures")) } th class="num" { (t("accounts-col-names")) } th { (t("accounts-col-last")) } th { (t("accounts-col-next")) } } }
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
    /// The page the form was sent from: the home page's watch, or the
    /// accounts page.
    #[serde(default)]
    pub back: String,
}

carries_csrf!(UnlockForm);

/// Unlocks an account, signed by the administrator.
pub async fn unlock(
    State(state): State<AppState>,
    user: PageUser<roles::Admin>,
    Path(id): Path<Uuid>,
    CsrfForm(form): CsrfForm<UnlockForm>,
) -> Result<Response, PageError> {
    let back = if form.back == manage::BACK {
        manage::BACK
    } else {
        "/"
    };
    let signature = user.sign(&state, form.password, form.meaning, back).await?;
    let account = accounts::unlock(&state, &signature, id, &form.reason)
        .await
        .or_back(back, user.zone)?;
    Ok(page::redirect_with(
        back,
        true,
        t_with(
            "accounts-flash-unlocked",
            &[("username", arg(&account.username))],
        ),
    ))
}

/// The accounts page and its forms (the unlock is routed with the pages).
/// The accounts page and its forms; `/accounts/` is the same page.
pub fn routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route(
            "/accounts/",
            get(|| async { page::see_other(manage::BACK) }),
        )
        .route(
            manage::BACK,
            get(manage::accounts_page).post(manage::create),
        )
        .route(sites::BACK, get(sites::sites_page).post(sites::create))
        .route("/accounts/sites/grant", post(sites::grant))
        .route("/accounts/sites/{id}/revoke", post(sites::revoke))
        .route("/accounts/{id}/password", post(manage::reset_password))
        .route("/accounts/{id}/{action}", post(manage::set_active))
}
