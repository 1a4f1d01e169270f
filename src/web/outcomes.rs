//! `/lots/{id}/outcomes`: what a lot did for its recipients, as a quality
//! officer or the sponsor would rather look than read: a waterfall of each
//! recipient's PASI change from baseline (best to the right, the PASI 75
//! line across), the adverse events by grade, and the same numbers in a
//! table (`services::outcomes`, as the API's `/lots/{id}/outcomes`).

use axum::extract::{Path, State};
use axum::response::Html;
use maud::{Markup, html};
use uuid::Uuid;

use crate::i18n::{arg, t, t_with};
use crate::services::outcomes::{self, LotOutcomes, RecipientOutcome};
use crate::state::AppState;
use crate::web::error::PageError;
use crate::web::extract::PageUser;
use crate::web::page::{self, pill};
use crate::web::user::WebUser;

pub async fn lot_outcomes(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<Uuid>,
) -> Result<Html<String>, PageError> {
    let o = outcomes::lot(&state, id).await?;
    Ok(page::show(
        &t_with("outcomes-title", &[("code", arg(&o.lot_code))]),
        &user,
        outcomes_view(&user, &o),
    ))
}

fn outcomes_view(user: &WebUser, o: &LotOutcomes) -> Markup {
    let totals = &o.totals;
    html! {
        h1 { (t("outcomes-heading")) " " span class="code" { (o.lot_code) } " " (pill(o.lot_status)) }
        div class="actions" {
            a class="button secondary" href={ "/lots/" (o.lot_id) } { (t("trace-lot-page")) }
            a class="button secondary" href={ "/trace/lots/" (o.lot_id) } { (t("outcomes-trace")) }
        }
        p {
            (t_with("outcomes-summary", &[
                ("recipients", arg(totals.recipients)),
                ("infusions", arg(totals.infusions)),
                ("followed", arg(totals.with_follow_up)),
                ("reached", arg(totals.pasi75_reached)),
            ]))
            @if let Some(rate) = &totals.pasi75_rate_pct { " " (t_with("outcomes-rate", &[("rate", arg(rate.as_str()))])) }
        }
        div class="grid" {
            section class="card" {
                h2 { (t("outcomes-waterfall")) }
                (waterfall(&o.recipients))
            }
            section class="card" {
                h2 { (t("outcomes-ae-by-grade")) }
                (grades(o))
            }
        }
        section class="card scroll" {
            h2 { (t("outcomes-by-recipient")) }
            @if o.recipients.is_empty() { p class="muted" { (t("trace-nobody")) } }
            @else {
                table {
                    thead { tr {
                        th { (t("col-patient")) } th class="num" { (t("outcomes-col-infusions")) }
                        th class="num" { (t("outcomes-col-baseline")) } th class="num" { (t("outcomes-col-latest")) }
                        th class="num" { (t("outcomes-col-change")) } th { "PASI 75" } th class="num" { "DLQI" } th { (t("trace-adverse-events")) }
                    } }
                    tbody { @for r in &o.recipients {
                        tr {
                            td { a class="code" href={ "/patients/" (r.patient_id) } { (r.subject_code) } }
                            td class="num" { (r.infusions.len()) " / " (r.infusions_total) }
                            td class="num" { (tenths(r.baseline_pasi_tenths)) }
                            td class="num" {
                                @if let Some(latest) = r.latest_pasi_tenths { (tenths(latest)) }
                                @if let Some(at) = r.latest_pasi_at { br; span class="small muted" { (user.date(at)) } }
                            }
                            td class="num" { @if let Some(pct) = &r.pasi_change_pct { (pct) " %" } @else { span class="muted" { "—" } } }
                            td { @if r.pasi75 { span class="pill ok" { (t("outcomes-reached")) } } }
                            td class="num" { @if let Some(d) = r.latest_dlqi { (d) } }
                            td { @for e in &r.adverse_events { (t_with("outcomes-ae", &[("term", arg(&e.term)), ("grade", arg(e.grade))])) br; } }
                        }
                    } }
                }
            }
        }
    }
}

fn tenths(value: i32) -> String {
    format!("{}.{}", value / 10, value % 10)
}

/// Percent change is drawn from +100 % (worse, bars up) to −100 % (clear,
/// bars down); a change beyond +100 % is drawn at the edge and says so.
const ZERO_Y: i64 = 130;
const PX_PER_PCT: i64 = 1;
const TOP_PCT: i64 = 100;

/// The y of a change in tenths of a percent, clamped to the frame.
fn change_y(tenths_pct: i32) -> i64 {
    let pct_tenths = i64::from(tenths_pct).clamp(-1000, TOP_PCT * 10);
    ZERO_Y - pct_tenths * PX_PER_PCT / 10
}

/// The waterfall: one bar per recipient with a follow-up PASI, sorted from
/// the worst change to the best; PASI 75 reached in green.
pub fn waterfall(recipients: &[RecipientOutcome]) -> Markup {
    let mut bars: Vec<(&RecipientOutcome, i32)> = recipients
        .iter()
        .filter_map(|r| r.pasi_change_tenths_pct.map(|c| (r, c)))
        .collect();
    bars.sort_by_key(|(r, change)| (std::cmp::Reverse(*change), r.subject_code.clone()));
    let left = 48_i64;
    let step = if bars.len() > 30 { 12 } else { 24 };
    let width = left + (bars.len().max(6) as i64) * step + 10;
    let line75 = change_y(-750);
    html! {
        @if bars.is_empty() { p class="muted" { (t("outcomes-no-follow-up")) } }
        @else {
            // drawn at its own size (a bar a recipient), never blown up to the card
            svg xmlns="http://www.w3.org/2000/svg" viewBox={ "0 0 " (width) " 260" } width=(width) height="260" style="max-width:100%;height:auto" role="img"
                aria-label=(t("outcomes-waterfall")) {
                @for pct in [100_i64, 50, 0, -50, -100] {
                    @let y = change_y((pct * 10) as i32);
                    line x1=(left - 4) y1=(y) x2=(width) y2=(y) stroke="#e4e7eb" {}
                    text x=(left - 8) y=(y + 4) text-anchor="end" { (pct) "%" }
                }
                line x1=(left) y1=(ZERO_Y) x2=(width) y2=(ZERO_Y) stroke="#5b6470" {}
                @for (i, (r, change)) in bars.iter().enumerate() {
                    @let x = left + i as i64 * step + 2;
                    @let y = change_y(*change);
                    @let (top, height) = if y < ZERO_Y { (y, ZERO_Y - y) } else { (ZERO_Y, y - ZERO_Y) };
                    a href={ "/patients/" (r.patient_id) } {
                        title { (r.subject_code) ": " (r.pasi_change_pct.as_deref().unwrap_or("")) " %" }
                        rect x=(x) y=(top) width=(step - 4) height=(height.max(1))
                            fill=(if r.pasi75 { "#146c2e" } else if *change > 0 { "#a4161a" } else { "#0b5cad" }) {}
                    }
                }
                line x1=(left) y1=(line75) x2=(width) y2=(line75) stroke="#7a4d00" stroke-dasharray="6 4" {}
                text x=(width - 4) y=(line75 - 4) text-anchor="end" fill="#7a4d00" { "PASI 75" }
            }
            p class="small muted" { (t("outcomes-waterfall-legend")) }
        }
    }
}

/// Adverse events of this lot's infusions by CTCAE grade, 1 to 5, as bars
/// with their counts.
fn grades(o: &LotOutcomes) -> Markup {
    let by_grade = &o.totals.adverse_events_by_grade;
    let count = |g: u8| by_grade.get(&g.to_string()).copied().unwrap_or(0);
    let most = (1..=5).map(count).max().unwrap_or(0).max(1);
    html! {
        svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 320 150" width="320" height="150" style="max-width:100%;height:auto" role="img"
            aria-label=(t("outcomes-ae-by-grade")) {
            @for g in 1..=5_u8 {
                @let y = 10 + (i64::from(g) - 1) * 27;
                @let n = count(g);
                text x="4" y=(y + 14) { (t_with("outcomes-grade", &[("grade", arg(g))])) }
                rect x="80" y=(y) width=((n as i64) * 200 / most as i64) height="18"
                    fill=(if g >= 3 { "#a4161a" } else { "#7a4d00" }) {}
                text x=(86 + (n as i64) * 200 / most as i64) y=(y + 14) { (n) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_frame_maps_changes_exactly_and_clamps_beyond_it() {
        assert_eq!(change_y(0), ZERO_Y);
        assert_eq!(change_y(-750), ZERO_Y + 75);
        assert_eq!(change_y(-1000), ZERO_Y + 100);
        assert_eq!(change_y(500), ZERO_Y - 50);
        assert_eq!(
            change_y(2500),
            ZERO_Y - 100,
            "worse than doubled: at the edge"
        );
    }

    fn recipient(code: &str, change: Option<i32>, pasi75: bool) -> RecipientOutcome {
        RecipientOutcome {
            patient_id: Uuid::nil(),
            subject_code: code.into(),
            infusions: Vec::new(),
            infusions_total: 6,
            baseline_pasi_tenths: 200,
            baseline_source: "enrolment",
            latest_pasi_tenths: None,
            latest_pasi_at: None,
            pasi_change_tenths_pct: change,
            pasi_change_pct: change.map(|c| c.to_string()),
            pasi75,
            latest_dlqi: None,
            latest_dlqi_at: None,
            adverse_events: Vec::new(),
        }
    }

    #[test]
    fn bars_go_from_the_worst_change_to_the_best_with_the_pasi75_line() {
        let svg = waterfall(&[
            recipient("PSO-001", Some(-800), true),
            recipient("PSO-002", Some(100), false),
            recipient("PSO-003", None, false),
            recipient("PSO-004", Some(-300), false),
        ])
        .into_string();
        let order: Vec<usize> = ["PSO-002", "PSO-004", "PSO-001"]
            .iter()
            .map(|c| svg.find(c).unwrap())
            .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{svg}");
        assert!(!svg.contains("PSO-003"), "no follow-up, no bar");
        assert!(svg.contains("PASI 75"));
        assert_eq!(svg.matches("<rect").count(), 3);
        assert!(svg.contains("#146c2e"), "PASI 75 reached is green");
    }
}
