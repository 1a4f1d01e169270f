//! `/trace/lots/{id}`: the lot's graph as SVG, donor → donation → lot →
//! vials → doses → patients, with recalled and discarded vials marked (in
//! colour and in words), and the CSV download.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::response::Html;
use maud::{Markup, html};
use uuid::Uuid;

use crate::i18n::{arg, t, t_maybe, t_with};
use crate::services::trace::{self, LotTrace};
use crate::state::AppState;
use crate::web::error::PageError;
use crate::web::extract::PageUser;
use crate::web::page::{self, pill};
use crate::web::user::WebUser;

const ROW: i64 = 18;
const TOP: i64 = 40;
const COLS: [i64; 6] = [5, 130, 275, 480, 728, 864];

fn colour(status: &str) -> &'static str {
    match status {
        "recalled" | "discarded" | "rejected" | "cancelled" | "ineligible" => "#a4161a",
        "infused" | "released" | "eligible" | "completed" => "#146c2e",
        "available" => "#0b5cad",
        "patient" | "received" => "#102a43",
        _ => "#7a4d00",
    }
}

/// One node: its colour by class (the SVG's own stylesheet), so a lot of a
/// thousand vials stays a light page.
fn node(
    x: i64,
    y: i64,
    width: i64,
    label: &str,
    status: impl AsRef<str>,
    href: Option<String>,
) -> Markup {
    let status = status.as_ref();
    let class = format!("s{}", &colour(status)[1..]);
    let body = html! {
        rect class=(class) x=(x) y=(y - 11) width=(width) height="16" {}
        text class=(class) x=(x + 4) y=(y + 1) { (label) @if matches!(status, "recalled" | "discarded") { " ✕ " (t_maybe(&format!("status-{status}")).unwrap_or_else(|| status.to_owned())) } }
    };
    html! {
        @match href {
            Some(href) => a href=(href) { (body) },
            None => g { (body) },
        }
    }
}

fn line(x1: i64, y1: i64, x2: i64, y2: i64) -> Markup {
    html! { line x1=(x1) y1=(y1) x2=(x2) y2=(y2) {} }
}

/// The colours nodes use, as classes `s<hex>`: the outline of the box and
/// the colour of its text.
const SVG_STYLE: &str = "rect{fill:#fff;stroke-width:1.5px}g.l line{stroke:#9aa5b1}rect.sa4161a{stroke:#a4161a}text.sa4161a{fill:#a4161a}rect.s146c2e{stroke:#146c2e}text.s146c2e{fill:#146c2e}rect.s0b5cad{stroke:#0b5cad}text.s0b5cad{fill:#0b5cad}rect.s102a43{stroke:#102a43}text.s102a43{fill:#102a43}rect.s7a4d00{stroke:#7a4d00}text.s7a4d00{fill:#7a4d00}";

pub fn graph(lt: &LotTrace) -> Markup {
    let vials = &lt.vials;
    let height = TOP + (vials.len().max(6) as i64) * ROW + 20;
    let mid = TOP + (vials.len().max(1) as i64 - 1) * ROW / 2;
    let vial_y: BTreeMap<Uuid, i64> = vials
        .iter()
        .enumerate()
        .map(|(i, v)| (v.id, TOP + i as i64 * ROW))
        .collect();
    // a dose sits at the middle of its vials; a patient at the middle of their doses
    let mut dose_y: BTreeMap<Uuid, i64> = BTreeMap::new();
    for d in &lt.doses {
        let ys: Vec<i64> = vials
            .iter()
            .filter(|v| v.dose_id == Some(d.id))
            .map(|v| vial_y[&v.id])
            .collect();
        if !ys.is_empty() {
            dose_y.insert(d.id, ys.iter().sum::<i64>() / ys.len() as i64);
        }
    }
    let mut patient_y: BTreeMap<String, (Uuid, Vec<i64>)> = BTreeMap::new();
    for d in &lt.doses {
        if let Some(y) = dose_y.get(&d.id) {
            patient_y
                .entry(d.subject_code.clone())
                .or_insert_with(|| (d.patient_id, Vec::new()))
                .1
                .push(*y);
        }
    }
    html! {
        svg xmlns="http://www.w3.org/2000/svg" viewBox={ "0 0 995 " (height) } width="100%" role="img"
            aria-label=(t_with("trace-aria", &[("code", arg(&lt.lot.code))])) {
            style { (maud::PreEscaped(SVG_STYLE)) }
            @for (i, head) in ["col-donor", "scan-kind-donation", "col-lot", "vials-title", "doses-title", "patients-title"].iter().map(|key| t(key)).enumerate() {
                text x=(COLS[i]) y="16" font-weight="bold" { (head) }
            }
            g class="l" {
            (line(COLS[0] + 120, mid, COLS[1], mid))
            (line(COLS[1] + 140, mid, COLS[2], mid))
            @for v in vials {
                (line(COLS[2] + 200, mid, COLS[3], vial_y[&v.id]))
                @if let Some(y) = v.dose_id.and_then(|d| dose_y.get(&d)) {
                    (line(COLS[3] + 240, vial_y[&v.id], COLS[4], *y))
                }
            }
            @for d in &lt.doses {
                @if let Some(y) = dose_y.get(&d.id) {
                    @if let Some((_, ys)) = patient_y.get(&d.subject_code) {
                        (line(COLS[4] + 130, *y, COLS[5], ys.iter().sum::<i64>() / ys.len() as i64))
                    }
                }
            }
            }
            (node(COLS[0], mid, 120, &lt.donor.code, lt.donor.eligibility, None))
            (node(COLS[1], mid, 140, &lt.donation.din_display, "received", None))
            (node(COLS[2], mid, 200, &lt.lot.code, lt.lot.status, Some(format!("/lots/{}", lt.lot.id))))
            @for v in vials {
                (node(COLS[3], vial_y[&v.id], 240, &v.code, v.status, Some(format!("/vials/{}", v.id))))
            }
            @for d in &lt.doses {
                @if let Some(y) = dose_y.get(&d.id) {
                    (node(COLS[4], *y, 130, &d.code, d.status, Some(format!("/doses/{}", d.id))))
                }
            }
            @for (subject, (id, ys)) in &patient_y {
                (node(COLS[5], ys.iter().sum::<i64>() / ys.len() as i64, 130, subject, "patient", Some(format!("/patients/{id}"))))
            }
        }
    }
}

pub async fn lot_trace(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<Uuid>,
) -> Result<Html<String>, PageError> {
    let lt = trace::lot(&state, id).await?;
    Ok(page::show(
        &t_with("trace-title", &[("code", arg(&lt.lot.code))]),
        &user,
        lot_trace_view(&user, &lt),
    ))
}

fn lot_trace_view(user: &WebUser, lt: &LotTrace) -> Markup {
    html! {
        h1 { (t("trace-heading")) " " span class="code" { (lt.lot.code) } " " (pill(lt.lot.status)) }
        div class="actions" {
            a class="button" href={ "/api/v1/trace/lots/" (lt.lot.id) "?format=csv" } { (t("trace-download-csv")) }
            a class="button secondary" href={ "/lots/" (lt.lot.id) } { (t("trace-lot-page")) }
            a class="button secondary" href={ "/api/v1/trace/donors/" (lt.donor.id) "?format=csv" } { (t("trace-donor-csv")) }
        }
        p class="muted" {
            (t("trace-legend")) span class="pill available" { (t("status-available")) } " " span class="pill infused" { (t("status-infused")) } " "
            span class="pill reserved" { (t("trace-reserved-thawed")) } " " span class="pill recalled" { (t("trace-recalled-mark")) } " "
            span class="pill discarded" { (t("trace-discarded-mark")) }
        }
        section class="card" style="overflow-x:auto" { (graph(lt)) }
        div class="grid" {
            section class="card" {
                h2 { (t("trace-recipients")) }
                @if lt.recipients.is_empty() { p class="muted" { (t("trace-nobody")) } }
                table { tbody { @for r in &lt.recipients {
                    tr {
                        td { a href={ "/patients/" (r.patient_id) } { (r.subject_code) } }
                        td { @for at in &r.infused_at { (user.when(*at)) br; } }
                    }
                } } }
            }
            section class="card" {
                h2 { (t("trace-donor-donation")) }
                p { (lt.donor.code) " " (pill(lt.donor.eligibility)) }
                p { "DIN " span class="code" { (lt.donation.din_display) } (t_with("trace-collected", &[("when", arg(user.when(lt.donation.collected_at)))])) }
                @if !lt.adverse_events.is_empty() {
                    h2 { (t("trace-adverse-events")) }
                    ul { @for e in &lt.adverse_events { li { (t_with("trace-adverse-event", &[("subject", arg(&e.subject_code)), ("term", arg(&e.term)), ("grade", arg(e.grade))])) } } }
                }
            }
        }
    }
}
