//! The patient's course drawn on the server as SVG: PASI and DLQI over
//! time, one panel each on a shared time axis, with every infusion's day
//! marked across both; and the patient's adverse events at their current
//! values, with the dose they followed and their signed corrections.
//!
//! Every SVG element is written with its closing tag: inside `<svg>` an
//! HTML parser reads `<rect>` as opening, never as empty.
//!
//! Coordinates are integers computed from seconds and tenths (no floating
//! point); the drawing scales to its box (`viewBox`), so it reads at 768 px
//! as on a desktop.

use chrono::{DateTime, Utc};
use maud::{Markup, html};

use crate::domain::assessment::AssessmentKind;
use crate::domain::patient::tenths_display;
use crate::entities::{assessment, dose, infusion};
use crate::i18n::{arg, t, t_with};
use crate::services::adverse_events::{AdverseEvent, Corrected};
use crate::web::clinic::adverse_events::correction_form;
use crate::web::user::WebUser;

/// The drawing's box: the width, and each panel's plot height.
const WIDTH: i64 = 720;
const LEFT: i64 = 56;
const RIGHT: i64 = 16;
const PANEL: i64 = 120;
/// Where each panel's plot starts, from the top.
const PASI_TOP: i64 = 24;
const DLQI_TOP: i64 = PASI_TOP + PANEL + 44;
const HEIGHT: i64 = DLQI_TOP + PANEL + 36;

/// What the chart draws.
pub struct Course<'a> {
    pub enrolled_at: DateTime<Utc>,
    pub baseline_pasi_tenths: i32,
    pub scored: &'a [assessment::Model],
    pub infusions: &'a [infusion::Model],
}

/// The time axis: from enrolment to the latest thing drawn.
struct Axis {
    from: DateTime<Utc>,
    span_s: i64,
}

impl Axis {
    fn x(&self, t: DateTime<Utc>) -> i64 {
        let plot = WIDTH - LEFT - RIGHT;
        LEFT + (t - self.from).num_seconds().clamp(0, self.span_s) * plot / self.span_s
    }
}

/// `y` of `value` in a panel starting at `top` whose scale ends at `max`.
fn y(top: i64, value: i64, max: i64) -> i64 {
    top + PANEL - value.clamp(0, max) * PANEL / max
}

/// The top of a scale: `value` rounded up to a multiple of `step`, at least
/// one step.
fn scale_top(value: i64, step: i64) -> i64 {
    ((value + step - 1) / step).max(1) * step
}

pub fn course_chart(user: &WebUser, course: &Course<'_>) -> Markup {
    let times = course
        .scored
        .iter()
        .map(|a| a.assessed_at)
        .chain(course.infusions.iter().map(|i| i.started_at))
        .chain([course.enrolled_at]);
    let first = times.clone().min().unwrap_or(course.enrolled_at);
    let to = times.max().unwrap_or(course.enrolled_at);
    // a day at least, so a course of one day still has a width; and a
    // twentieth more at each end, so no mark sits on the frame
    let span_s = (to - first).num_seconds().max(86_400);
    let margin = chrono::Duration::seconds(span_s / 20);
    let from = first - margin;
    let axis = Axis {
        from,
        span_s: span_s + 2 * margin.num_seconds(),
    };
    let pasi: Vec<_> = course
        .scored
        .iter()
        .filter(|a| a.kind == AssessmentKind::Pasi)
        .collect();
    let dlqi: Vec<_> = course
        .scored
        .iter()
        .filter(|a| a.kind == AssessmentKind::Dlqi)
        .collect();
    // PASI in tenths, its scale in steps of 10 (100 tenths); DLQI in 5s
    let pasi_max = scale_top(
        pasi.iter()
            .map(|a| i64::from(a.score))
            .chain([i64::from(course.baseline_pasi_tenths)])
            .max()
            .unwrap_or(0),
        100,
    );
    let dlqi_max = scale_top(
        dlqi.iter().map(|a| i64::from(a.score)).max().unwrap_or(0),
        5,
    );
    let line = |points: &[&assessment::Model], top: i64, max: i64| -> String {
        points
            .iter()
            .map(|a| {
                format!(
                    "{},{}",
                    axis.x(a.assessed_at),
                    y(top, i64::from(a.score), max)
                )
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let bottom = DLQI_TOP + PANEL;
    html! {
        section class="card" id="course-chart" {
            h2 { (t("chart-title")) }
            @if course.scored.is_empty() && course.infusions.is_empty() {
                p class="muted" { (t("chart-nothing-yet")) }
            }
            svg xmlns="http://www.w3.org/2000/svg" viewBox={ "0 0 " (WIDTH) " " (HEIGHT) }
                width="100%" role="img" aria-label=(t("chart-label"))
                style="max-width:100%;height:auto;font-size:13px" {
                title { (t("chart-label")) }
                // the panels' frames and scales
                @for (top, name, shown) in [(PASI_TOP, t("chart-pasi"), tenths_display(i32::try_from(pasi_max).unwrap_or(720))), (DLQI_TOP, t("chart-dlqi"), dlqi_max.to_string())] {
                    text x=(LEFT) y=(top - 8) font-weight="bold" { (name) }
                    rect x=(LEFT) y=(top) width=(WIDTH - LEFT - RIGHT) height=(PANEL) fill="none" stroke="#999" {}
                    text x=(LEFT - 6) y=(top + 5) text-anchor="end" { (shown) }
                    text x=(LEFT - 6) y=(top + PANEL) text-anchor="end" { "0" }
                }
                // each infusion's day, across both panels
                @for i in course.infusions {
                    @let x = axis.x(i.started_at);
                    line class="infusion-mark" x1=(x) x2=(x) y1=(PASI_TOP) y2=(bottom) stroke="#b35c00" stroke-width="2" stroke-dasharray="6 4" {
                        title { (t_with("chart-infusion", &[("n", arg(i.infusion_number)), ("date", arg(user.date(i.started_at)))])) }
                    }
                    text x=(x) y=(bottom + 16) text-anchor="middle" fill="#b35c00" { "#" (i.infusion_number) }
                }
                // the enrolment PASI, hollow: it was typed, not scored on the grid
                circle class="pasi-baseline" cx=(axis.x(course.enrolled_at)) cy=(y(PASI_TOP, i64::from(course.baseline_pasi_tenths), pasi_max)) r="6" fill="#fff" stroke="#1f5fa8" stroke-width="2" {
                    title { (t_with("chart-baseline", &[("score", arg(tenths_display(course.baseline_pasi_tenths)))])) }
                }
                @if pasi.len() > 1 { polyline points=(line(&pasi, PASI_TOP, pasi_max)) fill="none" stroke="#1f5fa8" stroke-width="2" {} }
                @for a in &pasi {
                    circle class="pasi-point" cx=(axis.x(a.assessed_at)) cy=(y(PASI_TOP, i64::from(a.score), pasi_max)) r="6" fill="#1f5fa8" {
                        title { (t_with("chart-point", &[("kind", arg("PASI")), ("score", arg(tenths_display(a.score))), ("date", arg(user.date(a.assessed_at)))])) }
                    }
                }
                @if dlqi.len() > 1 { polyline points=(line(&dlqi, DLQI_TOP, dlqi_max)) fill="none" stroke="#2e7d32" stroke-width="2" {} }
                @for a in &dlqi {
                    rect class="dlqi-point" x=(axis.x(a.assessed_at) - 6) y=(y(DLQI_TOP, i64::from(a.score), dlqi_max) - 6) width="12" height="12" fill="#2e7d32" {
                        title { (t_with("chart-point", &[("kind", arg("DLQI")), ("score", arg(a.score)), ("date", arg(user.date(a.assessed_at)))])) }
                    }
                }
                // the time axis: its two ends, as site dates
                text x=(axis.x(first)) y=(HEIGHT - 4) { (user.date(first)) }
                @if user.date(to) != user.date(first) {
                    text x=(axis.x(to)) y=(HEIGHT - 4) text-anchor="end" { (user.date(to)) }
                }
            }
            p class="muted" { (t("chart-legend")) }
        }
    }
}

/// The patient's adverse events, recorded at the bedside or afterwards,
/// each once at its current values with the infusion and dose it
/// followed, and its corrections shown as corrections (who, when, why);
/// `correcting` offers a signed correction of each; `form` records another.
pub fn adverse_events_card(
    user: &WebUser,
    patient_id: uuid::Uuid,
    events: &[AdverseEvent],
    infusions: &[infusion::Model],
    doses: &[dose::Model],
    correcting: bool,
    form: Markup,
) -> Markup {
    html! {
        section class="card" id="adverse-events" {
            h2 { (t("ae-title")) }
            @if events.is_empty() {
                p class="muted" { (t("ae-none")) }
            } @else {
                table {
                    thead { tr { th { (t("ae-col-term")) } th class="num" { (t("ae-col-grade")) } th { (t("ae-col-onset")) } th { (t("ae-col-dose")) } } }
                    tbody { @for event in events {
                        @let e = &event.current;
                        @let given = infusions.iter().find(|i| i.id == e.infusion_id);
                        @let d = given.and_then(|i| doses.iter().find(|d| d.id == i.dose_id));
                        tr class="adverse-event" id={ "adverse-event-" (e.id) } {
                            td { (e.term)
                                @if !event.corrections.is_empty() { " " span class="pill" { (t("ae-corrected-pill")) } } }
                            td class="num" { (e.grade) }
                            td { (user.when(e.onset_at)) }
                            td { @if let (Some(i), Some(d)) = (given, d) {
                                a class="code" href={ "/doses/" (d.id) } { (d.code) }
                                " " (t_with("ae-infusion", &[("n", arg(i.infusion_number))]))
                            } }
                        }
                        @for c in &event.corrections {
                            tr class="adverse-event-correction" {
                                td colspan="4" class="muted" { (correction_line(user, c)) }
                            }
                        }
                        @if correcting {
                            tr class="adverse-event-correct" {
                                td colspan="4" { (correction_form(user, patient_id, e)) }
                            }
                        }
                    } }
                }
            }
            p class="muted" { (t("ae-where")) }
            (form)
        }
    }
}

/// "Corrected: grade 2 → 3, by …, at … (site time), because …".
fn correction_line(user: &WebUser, c: &Corrected) -> String {
    let (old, new) = (&c.before, &c.after);
    let mut changes = Vec::new();
    if old.grade != new.grade {
        changes.push(t_with(
            "ae-change-grade",
            &[("old", arg(old.grade)), ("new", arg(new.grade))],
        ));
    }
    if old.term != new.term {
        changes.push(t_with(
            "ae-change-term",
            &[("old", arg(&old.term)), ("new", arg(&new.term))],
        ));
    }
    if old.onset_at != new.onset_at {
        changes.push(t_with(
            "ae-change-onset",
            &[
                ("old", arg(user.when(old.onset_at))),
                ("new", arg(user.when(new.onset_at))),
            ],
        ));
    }
    let who = c
        .signature
        .as_ref()
        .map(|s| s.signer_full_name.clone())
        .unwrap_or_else(|| t("ae-corrected-by-unknown"));
    t_with(
        "ae-corrected-line",
        &[
            ("changes", arg(changes.join(&t("ae-change-sep")))),
            ("who", arg(who)),
            ("when", arg(user.when(new.recorded_at))),
            ("zone", arg(user.zone.name())),
            (
                "reason",
                arg(new.correction_reason.clone().unwrap_or_default()),
            ),
        ],
    )
}
