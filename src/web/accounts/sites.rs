//! `/accounts/sites`: the administrator's sites page. Every site with its
//! kind, facility identification number, time zone and who works there;
//! a new site; access given to an account, or ended with a reason. Each
//! form calls one service (`services::sites`) and comes back here saying
//! what was done, or why not, in words.

use axum::extract::{Path, State};
use axum::response::{Html, Response};
use maud::html;
use serde::Deserialize;
use uuid::Uuid;

use crate::domain::site::{NewSite, SiteKind};
use crate::i18n::{arg, t, t_with};
use crate::services::{accounts, sites};
use crate::state::AppState;
use crate::web::error::{OrBack, PageError};
use crate::web::extract::{CsrfForm, PageUser, WebQuery, carries_csrf, roles};
use crate::web::page::{self, Flash, redirect_with};

/// Where every form of this page comes back to.
pub const BACK: &str = "/accounts/sites";

pub async fn sites_page(
    State(state): State<AppState>,
    user: PageUser<roles::Admin>,
    WebQuery(flash): WebQuery<Flash>,
) -> Result<Html<String>, PageError> {
    let all = sites::list(&state).await?;
    let people = accounts::list(&state).await?;
    let access = sites::accesses(&state).await?;
    let body = html! {
        h1 { (t("sites-title")) }
        (flash.render())
        div class="actions" { a class="button secondary" href="/accounts" { (t("acct-title")) } }
        section class="card" {
            table {
                thead { tr { th { (t("sites-col-name")) } th { (t("sites-col-kind")) } th { (t("sites-col-fin")) } th { (t("sites-col-zone")) } th { (t("sites-col-people")) } } }
                tbody { @for s in &all {
                    tr id={ "site-" (s.facility_code) } {
                        td { (s.name) }
                        td { (t(&format!("sites-kind-{}", s.kind.as_str()))) }
                        td class="code" { (s.facility_code) }
                        td { (s.time_zone) }
                        td {
                            @for a in access.iter().filter(|a| a.site_id == s.id) {
                                @if let Some(p) = people.iter().find(|p| p.id == a.user_id) {
                                    details class="inline" {
                                        summary class="code" { (p.username) }
                                        form method="post" action={ "/accounts/sites/" (s.id) "/revoke" } {
                                            input type="hidden" name="csrf" value=(user.csrf());
                                            input type="hidden" name="user_id" value=(p.id);
                                            label { (t_with("sites-revoke-why", &[("username", arg(&p.username)), ("site", arg(&s.name))])) input name="reason" required; }
                                            div class="actions" { button class="danger" type="submit" { (t("sites-revoke")) } }
                                        }
                                    }
                                }
                            }
                        }
                    }
                } }
            }
        }
        div class="grid" {
            section class="card" {
                h2 { (t("sites-grant-heading")) }
                form method="post" action="/accounts/sites/grant" {
                    input type="hidden" name="csrf" value=(user.csrf());
                    label for="grant-user" { (t("sites-grant-who")) }
                    select id="grant-user" name="user_id" required {
                        @for p in people.iter().filter(|p| p.active && p.role != crate::domain::accounts::Role::Admin) { option value=(p.id) { (p.username) " · " (p.full_name) } }
                    }
                    label for="grant-site" { (t("sites-grant-where")) }
                    select id="grant-site" name="site_id" required {
                        @for s in &all { option value=(s.id) { (s.name) " (" (s.facility_code) ")" } }
                    }
                    div class="actions" { button type="submit" { (t("sites-grant")) } }
                }
            }
            section class="card" {
                h2 { (t("sites-new")) }
                form method="post" action="/accounts/sites" {
                    input type="hidden" name="csrf" value=(user.csrf());
                    label for="site-name" { (t("sites-col-name")) }
                    input id="site-name" name="name" required maxlength="100";
                    label for="site-kind" { (t("sites-col-kind")) }
                    select id="site-kind" name="kind" required {
                        @for k in SiteKind::ALL { option value=(k.as_str()) { (t(&format!("sites-kind-{}", k.as_str()))) } }
                    }
                    label for="site-fin" { (t("sites-col-fin")) }
                    input id="site-fin" name="facility_code" required maxlength="5" placeholder="B1234" autocomplete="off";
                    p class="muted" { (t("sites-fin-hint")) }
                    label for="site-zone" { (t("sites-col-zone")) }
                    input id="site-zone" name="time_zone" required value="Asia/Shanghai" autocomplete="off";
                    div class="actions" { button type="submit" { (t("sites-add")) } }
                }
            }
        }
    };
    Ok(page::show(&t("sites-title"), &user, body))
}

#[derive(Debug, Deserialize)]
pub struct NewSiteForm {
    csrf: String,
    name: String,
    kind: String,
    facility_code: String,
    time_zone: String,
}

#[derive(Debug, Deserialize)]
pub struct GrantForm {
    csrf: String,
    user_id: Uuid,
    site_id: Uuid,
}

#[derive(Debug, Deserialize)]
pub struct RevokeForm {
    csrf: String,
    user_id: Uuid,
    reason: String,
}

carries_csrf!(NewSiteForm, GrantForm, RevokeForm);

pub async fn create(
    State(state): State<AppState>,
    user: PageUser<roles::Admin>,
    CsrfForm(form): CsrfForm<NewSiteForm>,
) -> Result<Response, PageError> {
    let new = NewSite::parse(&form.name, &form.kind, &form.facility_code, &form.time_zone)
        .map_err(crate::error::AppError::from)
        .or_back(BACK, user.zone)?;
    let site = sites::create(&state, &user.user.actor(), new)
        .await
        .or_back(BACK, user.zone)?;
    Ok(redirect_with(
        BACK,
        true,
        t_with("sites-flash-added", &[("site", arg(&site.name))]),
    ))
}

pub async fn grant(
    State(state): State<AppState>,
    user: PageUser<roles::Admin>,
    CsrfForm(form): CsrfForm<GrantForm>,
) -> Result<Response, PageError> {
    sites::grant(&state, &user.user.actor(), form.user_id, form.site_id)
        .await
        .or_back(BACK, user.zone)?;
    let site = sites::get(&state, form.site_id).await?;
    Ok(redirect_with(
        BACK,
        true,
        t_with("sites-flash-granted", &[("site", arg(&site.name))]),
    ))
}

pub async fn revoke(
    State(state): State<AppState>,
    user: PageUser<roles::Admin>,
    Path(site_id): Path<Uuid>,
    CsrfForm(form): CsrfForm<RevokeForm>,
) -> Result<Response, PageError> {
    sites::revoke(
        &state,
        &user.user.actor(),
        form.user_id,
        site_id,
        &form.reason,
    )
    .await
    .or_back(BACK, user.zone)?;
    let site = sites::get(&state, site_id).await?;
    Ok(redirect_with(
        BACK,
        true,
        t_with("sites-flash-revoked", &[("site", arg(&site.name))]),
    ))
}
