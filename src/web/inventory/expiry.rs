//! `/stock`: the stock against its dates, as a picture: for each released
//! lot, soonest expiry first, a bar as long as its available vials, red
//! when the lot expires within a month (or has expired, with vials still
//! to discard), amber within three months, blue beyond. Judged on the
//! server's clock, read in the site's calendar.

use axum::extract::State;
use axum::response::Html;
use chrono::{DateTime, Utc};
use maud::{Markup, html};

use crate::i18n::{arg, t, t_with};
use crate::services::lists;
use crate::services::lots::LotRecord;
use crate::state::AppState;
use crate::web::error::PageError;
use crate::web::extract::PageUser;
use crate::web::page;
use crate::web::user::WebUser;

/// Lots drawn at most; a site holds a few dozen released lots at a time.
const SHOWN: u64 = 60;

pub async fn stock_page(
    State(state): State<AppState>,
    user: PageUser,
) -> Result<Html<String>, PageError> {
    let lots = lists::stock_by_expiry(&state, SHOWN).await?;
    let now = state.clock.now();
    Ok(page::show(
        &t("stock-title"),
        &user,
        html! {
            h1 { (t("stock-title")) }
            p class="muted" { (t("stock-explain")) }
            section class="card" { (chart(&user, &lots, now)) }
        },
    ))
}

/// How soon a lot expires, as the bar's colour.
fn urgency(days_left: i64) -> &'static str {
    match days_left {
        ..=30 => "#a4161a",
        31..=90 => "#7a4d00",
        _ => "#0b5cad",
    }
}

fn available(record: &LotRecord) -> u64 {
    record.vial_counts.get("available").copied().unwrap_or(0)
}

/// A bar's words: how many vials and when they expire, on the site's
/// calendar.
fn bar_words(user: &WebUser, vials: u64, expires_at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let date = arg(user.date(expires_at));
    if expires_at <= now {
        return t_with(
            "stock-bar-expired",
            &[("vials", arg(vials)), ("date", date)],
        );
    }
    match (expires_at - now).num_days() {
        0 => t_with("stock-bar-today", &[("vials", arg(vials)), ("date", date)]),
        days => t_with(
            "stock-bar",
            &[("vials", arg(vials)), ("date", date), ("days", arg(days))],
        ),
    }
}

pub fn chart(user: &WebUser, lots: &[LotRecord], now: DateTime<Utc>) -> Markup {
    const ROW: i64 = 26;
    const BAR_X: i64 = 170;
    const BAR_MAX: i64 = 420;
    let most = lots.iter().map(available).max().unwrap_or(0).max(1);
    let height = 20 + ROW * lots.len().max(1) as i64;
    html! {
        @if lots.is_empty() { p class="muted" { (t("stock-none")) } }
        @else {
            svg xmlns="http://www.w3.org/2000/svg" viewBox={ "0 0 1000 " (height) } width="100%" role="img" aria-label=(t("stock-title")) {
                @for (i, record) in lots.iter().enumerate() {
                    @let y = 10 + i as i64 * ROW;
                    @let lot = &record.lot;
                    @let n = available(record);
                    @let days_left = (lot.expires_at - now).num_days();
                    @let width = (n as i64) * BAR_MAX / most as i64;
                    a href={ "/lots/" (lot.id) } {
                        text x="4" y=(y + 14) class="code" { (lot.code) }
                        rect x=(BAR_X) y=(y) width=(width.max(1)) height="18" fill=(urgency(days_left)) {}
                    }
                    text x=(BAR_X + width + 8) y=(y + 14) {
                        (bar_words(user, n, lot.expires_at, now))
                    }
                }
            }
            p class="small muted" { (t("stock-legend")) }
        }
    }
}
