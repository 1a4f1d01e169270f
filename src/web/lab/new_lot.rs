//! `/lots/new`: the lab starts a lot from a donation, chosen by the
//! donation page's link (`?donation=`) or by typing or scanning its DIN.
//! The same service as `POST /api/v1/lots` decides; the new lot's page
//! follows.

use axum::extract::State;
use axum::response::{Html, Response};
use chrono::Duration;
use maud::{Markup, html};
use serde::Deserialize;
use uuid::Uuid;

use crate::entities::donation;
use crate::i18n::{arg, t, t_with};
use crate::services::{donations, lots, scan};
use crate::state::AppState;
use crate::web::error::{OrBack, PageError, sentence};
use crate::web::extract::{CsrfForm, PageUser, WebQuery, carries_csrf, roles};
use crate::web::page::{self, Flash, redirect_with};
use crate::web::user::WebUser;

#[derive(Debug, Default, Deserialize)]
pub struct NewLotQuery {
    #[serde(default)]
    pub donation: Option<Uuid>,
    #[serde(flatten)]
    pub flash: Flash,
}

pub async fn form(
    State(state): State<AppState>,
    user: PageUser<roles::Lab>,
    WebQuery(query): WebQuery<NewLotQuery>,
) -> Result<Html<String>, PageError> {
    let chosen = match query.donation {
        Some(id) => Some(donations::get(&state, id).await?),
        None => None,
    };
    let now = state.clock.now();
    let sites = crate::web::site_choice::choices(&state, user.user.user_id).await?;
    Ok(page::show(
        &t("lab-new-lot-title"),
        &user,
        new_lot_view(&user, chosen.as_ref(), &sites, &query.flash, now),
    ))
}

fn new_lot_view(
    user: &WebUser,
    chosen: Option<&donation::Model>,
    sites: &[crate::entities::site::Model],
    flash: &Flash,
    now: chrono::DateTime<chrono::Utc>,
) -> Markup {
    let zone = arg(user.zone.name());
    html! {
        h1 { (t("lab-new-lot-title")) }
        (flash.render())
        form class="card" method="post" action="/lots/new" {
            input type="hidden" name="csrf" value=(user.csrf());
            @match chosen {
                Some(d) => {
                    input type="hidden" name="donation_id" value=(d.id);
                    p { (t_with("lab-new-lot-from", &[("din", arg(din_display(&d.din))), ("collected", arg(user.date(d.collected_at)))])) }
                }
                None => {
                    label { (t("lab-new-lot-din"))
                        input class="scanbox code" name="din" required autofocus autocomplete="off" placeholder="A9999 26 000123 Q"; }
                }
            }
            label { (t("lab-new-lot-product")) input name="product_code" required value="S1395" autocomplete="off"; }
            label { (t("lab-new-lot-passage")) input name="passage" type="number" min="0" max="50" required inputmode="numeric"; }
            label { (t_with("lab-new-lot-manufactured", &[("zone", zone.clone())]))
                input name="manufactured_at" type="datetime-local" required value=(user.field_time(now)); }
            label { (t_with("lab-new-lot-expires", &[("zone", zone)]))
                input name="expires_at" type="date" required value=(user.date(now + Duration::days(365))); }
            (crate::web::site_choice::menu(sites, true))
            div class="actions" { button type="submit" { (t("lab-new-lot-create")) } }
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct NewLotForm {
    pub csrf: String,
    #[serde(default)]
    pub donation_id: Option<Uuid>,
    #[serde(default)]
    pub din: String,
    pub product_code: String,
    pub passage: String,
    pub manufactured_at: String,
    pub expires_at: String,
    /// By someone who works at several sites.
    #[serde(default)]
    pub site_id: String,
}

carries_csrf!(NewLotForm);

pub async fn create(
    State(state): State<AppState>,
    user: PageUser<roles::Lab>,
    CsrfForm(form): CsrfForm<NewLotForm>,
) -> Result<Response, PageError> {
    let back = match form.donation_id {
        Some(id) => format!("/lots/new?donation={id}"),
        None => "/lots/new".to_owned(),
    };
    let donation_id = match form.donation_id {
        Some(id) => id,
        None => donation_by_din(&state, &user, &form.din, &back).await?,
    };
    let Ok(passage) = form.passage.trim().parse::<i32>() else {
        return Err(PageError::back(&back, t("lab-new-lot-bad-passage")));
    };
    let Some(manufactured_at) = user.typed_time(&form.manufactured_at) else {
        return Err(PageError::back(&back, t("lab-bad-time")));
    };
    let Some(expires_at) = user.typed_day(&form.expires_at) else {
        return Err(PageError::back(&back, t("lab-bad-date")));
    };
    let record = lots::create(
        &state,
        &user.user.actor(),
        lots::NewLot {
            donation_id,
            product_code: &form.product_code,
            passage,
            manufactured_at,
            expires_at,
            site_id: crate::web::site_choice::chosen(&form.site_id),
        },
    )
    .await
    .or_back(&back, user.zone)?;
    Ok(redirect_with(
        &format!("/lots/{}", record.lot.id),
        true,
        t_with("lab-new-lot-created", &[("code", arg(&record.lot.code))]),
    ))
}

/// The donation a typed or scanned DIN names, as the scan station finds it.
async fn donation_by_din(
    state: &AppState,
    user: &WebUser,
    din: &str,
    back: &str,
) -> Result<Uuid, PageError> {
    if din.trim().is_empty() {
        return Err(PageError::back(back, t("lab-new-lot-no-din")));
    }
    let found = scan::resolve(state, &user.user, din)
        .await
        .map_err(|error| PageError::back(back, sentence(&error, user.zone)))?;
    if found.kind != "donation" {
        return Err(PageError::back(
            back,
            t_with("lab-new-lot-not-a-din", &[("code", arg(&found.code))]),
        ));
    }
    Ok(found.id)
}

/// A DIN as people read it (`A9999 26 000123`).
fn din_display(din: &str) -> String {
    crate::domain::din::Din::parse(din)
        .map(|d| d.display())
        .unwrap_or_else(|_| din.to_owned())
}
