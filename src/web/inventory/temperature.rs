//! A storage unit's temperature on its page: the readings of the last two
//! days as a chart (hand-written SVG: the readings a line, the limit a
//! dashed line, excursions shaded, times in the site's zone), and for the
//! quality officer the unit's open holds with the signed release and
//! discard forms.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Duration, Utc};
use maud::{Markup, html};
use serde::Deserialize;
use uuid::Uuid;

use crate::domain::accounts::Role;
use crate::domain::temperature::{
    Analysis, CentiCelsius, DEFAULT_MAX_GAP_MINUTES, Limits, Reading, analyse,
};
use crate::domain::zone::SiteZone;
use crate::entities::hold::{HoldStatus, SourceKind};
use crate::i18n::{arg, t, t_with};
use crate::services::holds::{self, Decide, HoldRecord};
use crate::services::storage::Unit;
use crate::services::{sites, temperature};
use crate::state::AppState;
use crate::web::error::{OrBack, PageError};
use crate::web::extract::{CsrfForm, PageUser, carries_csrf, roles};
use crate::web::page::{self, pill, redirect_with};
use crate::web::user::WebUser;

/// How far back the chart looks from the latest reading.
const SPAN_HOURS: i64 = 48;
const WIDTH: i64 = 640;
const HEIGHT: i64 = 220;
const LEFT: i64 = 84;
const RIGHT: i64 = 12;
const TOP: i64 = 12;
const BOTTOM: i64 = 36;

/// The unit's temperature section: chart, and its open holds.
pub async fn temperature_section(
    state: &AppState,
    user: &WebUser,
    unit: &Unit,
) -> Result<Markup, PageError> {
    let limits = temperature::unit_limits(state.db.conn(), unit.id).await?;
    let zone =
        SiteZone::parse(&sites::get(state, unit.site_id).await?.time_zone).unwrap_or(user.zone);
    let latest = temperature::latest_at(state, unit.id).await?;
    let readings = match latest {
        Some(to) => {
            temperature::unit_series(state, unit.id, to - Duration::hours(SPAN_HOURS), to).await?
        }
        None => Vec::new(),
    };
    let analysis = analyse(&readings, &limits, DEFAULT_MAX_GAP_MINUTES);
    let holds: Vec<HoldRecord> = holds::open_at(state, (SourceKind::Unit, unit.id))
        .await?
        .into_iter()
        .filter(|h| h.hold.status == HoldStatus::Open)
        .collect();
    let quality = user.user.role == Role::Quality;
    Ok(html! {
        section class="card" {
            h2 { (t("temp-title")) }
            p class="muted" { (t_with("temp-limits", &[("max", arg(limits.max.to_string())), ("minutes", arg(limits.allowed_minutes))])) }
            @if readings.is_empty() {
                p class="muted" { (t("temp-none")) }
            } @else {
                (chart(&readings, &limits, &analysis, zone))
                @let holding = analysis.holding().count();
                @let alarms = analysis.alarms().count();
                p { (t_with("temp-summary", &[("readings", arg(readings.len())), ("holding", arg(holding)), ("alarms", arg(alarms))])) }
            }
        }
        @if !holds.is_empty() {
            section class="card" {
                h2 { (t("hold-title")) }
                @for record in &holds {
                    (hold_view(record, zone, quality, user))
                }
            }
        }
    })
}

fn hold_view(record: &HoldRecord, zone: SiteZone, quality: bool, user: &WebUser) -> Markup {
    let h = &record.hold;
    let celsius = |centi: i32| {
        CentiCelsius::new(centi)
            .map(|c| c.to_string())
            .unwrap_or_default()
    };
    html! {
        div class="hold" data-hold=(h.id) {
            p { (t_with("hold-excursion", &[
                ("start", arg(zone.minute(h.excursion_start))),
                ("end", arg(zone.minute(h.excursion_end))),
                ("peak", arg(celsius(h.peak_centi_celsius))),
                ("limit", arg(celsius(h.limit_centi_celsius))),
                ("count", arg(h.vial_count)),
            ])) }
            table {
                thead { tr { th { (t("col-vial")) } th { (t("col-status")) } th { (t("hold-decision")) } } }
                tbody { @for v in &record.vials {
                    tr {
                        td { a class="code" href={ "/vials/" (v.link.vial_id) } { (v.code) } }
                        td { (pill(v.status)) }
                        td { @if let Some(d) = v.link.decision { (t(&format!("hold-decided-{}", d.as_str()))) } }
                    }
                } }
            }
            @if quality {
                @for (action, meaning, danger) in [("release", "released from hold", false), ("discard", "discarded after excursion", true)] {
                    details {
                        summary { (t(&format!("hold-{action}"))) }
                        form method="post" action={ "/holds/" (h.id) "/" (action) } {
                            input type="hidden" name="csrf" value=(user.csrf());
                            label for={ "hold-" (action) "-reason-" (h.id) } { (t("scan-reason")) }
                            input id={ "hold-" (action) "-reason-" (h.id) } name="reason" required;
                            (page::signature_fields(meaning))
                            div class="actions" {
                                @if danger {
                                    button class="danger" type="submit" { (t(&format!("hold-{action}"))) }
                                } @else {
                                    button type="submit" { (t(&format!("hold-{action}"))) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The chart: x is time, y is temperature (warm up), all in integers.
fn chart(readings: &[Reading], limits: &Limits, analysis: &Analysis, zone: SiteZone) -> Markup {
    let mut sorted = readings.to_vec();
    sorted.sort_by_key(|r| r.at);
    let (first, last) = (sorted[0].at, sorted[sorted.len() - 1].at);
    let span = (last - first).num_seconds().max(60);
    let cold = sorted
        .iter()
        .map(|r| i64::from(r.temperature.get()))
        .min()
        .unwrap_or(0)
        .min(i64::from(limits.max.get()));
    let warm = sorted
        .iter()
        .map(|r| i64::from(r.temperature.get()))
        .max()
        .unwrap_or(0)
        .max(i64::from(limits.max.get()));
    // a margin of a tenth of the range, at least a degree
    let pad = ((warm - cold) / 10).max(100);
    let (low, high) = (cold - pad, warm + pad);
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let x = |at: DateTime<Utc>| LEFT + (at - first).num_seconds() * plot_w / span;
    let y = |centi: i64| TOP + (high - centi) * plot_h / (high - low);
    let points: String = sorted
        .iter()
        .map(|r| format!("{},{}", x(r.at), y(i64::from(r.temperature.get()))))
        .collect::<Vec<_>>()
        .join(" ");
    let limit_y = y(i64::from(limits.max.get()));
    let label = t_with(
        "temp-chart-label",
        &[
            ("from", arg(zone.minute(first))),
            ("to", arg(zone.minute(last))),
            ("limit", arg(limits.max.to_string())),
            ("excursions", arg(analysis.excursions.len())),
        ],
    );
    let degrees = |centi: i64| {
        CentiCelsius::new(centi as i32)
            .map(|c| format!("{c} °C"))
            .unwrap_or_default()
    };
    html! {
        svg class="temperature-chart" xmlns="http://www.w3.org/2000/svg" role="img" aria-label=(label)
            width=(WIDTH) height=(HEIGHT) viewBox={ "0 0 " (WIDTH) " " (HEIGHT) } {
            title { (label) }
            rect x=(LEFT) y=(TOP) width=(plot_w) height=(plot_h) fill="#ffffff" stroke="#b8c0c8" {}
            @for e in &analysis.excursions {
                @let (x0, x1) = (x(e.start), x(e.end));
                @let words = if e.holds { t("temp-excursion-holds") } else { t("temp-excursion-alarm") };
                rect class="excursion" x=(x0) y=(TOP) width=((x1 - x0).max(2)) height=(plot_h)
                    fill=(if e.holds { "#ffc9c9" } else { "#fff3bf" }) data-holds=(e.holds) {
                    title { (words) " · " (zone.minute(e.start)) " – " (zone.minute(e.end)) " · " (t("temp-peak")) " " (e.peak) " °C" }
                }
            }
            line class="limit" x1=(LEFT) x2=(WIDTH - RIGHT) y1=(limit_y) y2=(limit_y)
                stroke="#a4161a" stroke-width="1.5" stroke-dasharray="6 4" {}
            text x=(LEFT - 4) y=(limit_y + 4) text-anchor="end" font-size="11" fill="#a4161a" { (degrees(i64::from(limits.max.get()))) }
            text x=(LEFT - 4) y=(TOP + 10) text-anchor="end" font-size="11" { (degrees(high)) }
            text x=(LEFT - 4) y=(TOP + plot_h) text-anchor="end" font-size="11" { (degrees(low)) }
            polyline class="readings" points=(points) fill="none" stroke="#1c7ed6" stroke-width="1.5" {}
            text x=(LEFT) y=(HEIGHT - 12) font-size="11" { (zone.minute(first)) }
            text x=(WIDTH - RIGHT) y=(HEIGHT - 12) text-anchor="end" font-size="11" { (zone.minute(last)) }
        }
        p class="legend muted" {
            span style="color:#1c7ed6" { "━ " } (t("temp-legend-readings")) " · "
            span style="color:#a4161a" { "┅ " } (t("temp-legend-limit")) " · "
            span style="background:#ffc9c9" { "\u{00a0}\u{00a0}\u{00a0}" } " " (t("temp-excursion-holds")) " · "
            span style="background:#fff3bf" { "\u{00a0}\u{00a0}\u{00a0}" } " " (t("temp-excursion-alarm"))
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct HoldForm {
    pub csrf: String,
    #[serde(default)]
    pub reason: String,
    pub password: String,
    pub meaning: String,
}

carries_csrf!(HoldForm);

/// Release from hold or discard, signed by a quality officer; back to the
/// unit's page.
pub async fn hold_decision(
    State(state): State<AppState>,
    user: PageUser<roles::Quality>,
    Path((id, action)): Path<(Uuid, String)>,
    CsrfForm(form): CsrfForm<HoldForm>,
) -> Result<Response, PageError> {
    let record = holds::get(&state, id)
        .await
        .or_back("/storage", user.zone)?;
    let back = match record.hold.source_kind {
        SourceKind::Unit => format!("/storage/{}", record.hold.source_id),
        SourceKind::Shipment => "/storage".to_owned(),
    };
    let decide = match action.as_str() {
        "release" => Decide::Release,
        "discard" => Decide::Discard,
        _ => {
            return Ok(page::error_page(
                StatusCode::NOT_FOUND,
                &t("lot-no-such-action"),
                &t("lot-no-such-action-hint"),
            ));
        }
    };
    let signature = user
        .sign(&state, form.password, form.meaning, &back)
        .await?;
    let decided = holds::decide(&state, &signature, id, decide, &form.reason, None)
        .await
        .or_back(&back, user.zone)?;
    let message = t_with(
        &format!("hold-flash-{action}"),
        &[("count", arg(decided.vials.len()))],
    );
    Ok(redirect_with(&back, true, &message))
}
