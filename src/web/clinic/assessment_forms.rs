//! The assessments card of the patient's page: past PASI and DLQI scores,
//! and for the clinician the PASI grid and the DLQI's ten questions, each
//! with the total the script (`/assets/assessments.js`) keeps as they are
//! scored. A form sent back refused ([`Entered`]) is shown open, as it was
//! filled in, with the refusal above its button.

use chrono::{DateTime, Utc};
use maud::{Markup, html};
use uuid::Uuid;

use crate::domain::assessment::AssessmentKind;
use crate::domain::patient::tenths_display;
use crate::entities::assessment;
use crate::i18n::{arg, t, t_with};
use crate::web::clinic::assessments::{
    Entered, NOT_RELEVANT_FROM, PARTS, REGIONS, part_words, region_words,
};
use crate::web::user::WebUser;

/// The assessments card: past scores, and for the clinician the two forms.
pub fn assessments_card(
    user: &WebUser,
    patient_id: Uuid,
    baseline_pasi_tenths: i32,
    scored: &[assessment::Model],
    now: DateTime<Utc>,
    can_record: bool,
    entered: Option<&Entered>,
) -> Markup {
    let today = user.zone.date(now).to_string();
    html! {
        section class="card" id="assessments" {
            h2 { (t("patient-assessments")) }
            p { (t_with("patient-baseline-pasi", &[("score", arg(tenths_display(baseline_pasi_tenths)))])) }
            table {
                thead { tr { th { (t("patient-col-assessed")) } th { (t("patient-col-kind")) } th class="num" { (t("patient-col-score")) } } }
                tbody { @for a in scored {
                    tr class="assessment" {
                        td { (user.date(a.assessed_at)) }
                        td { (a.kind.as_str().to_uppercase()) }
                        td class="num" { @if a.kind == AssessmentKind::Pasi { (tenths_display(a.score)) } @else { (a.score) } }
                    }
                } }
            }
            @if can_record {
                (pasi_form(user, patient_id, &today, entered))
                (dlqi_form(user, patient_id, &today, entered))
                script src="/assets/assessments.js" {}
            }
        }
    }
}

fn visit_date_field(today: &str, sent: Option<String>) -> Markup {
    let value = sent.unwrap_or_else(|| today.to_owned());
    html! {
        label { (t("assess-visit-date")) input type="date" name="visit_date" required value=(value) max=(today); }
    }
}

/// The refusal of a form sent back, above its button.
fn refusal_box(entered: Option<&Entered>, kind: AssessmentKind) -> Markup {
    html! {
        @if let Some(e) = entered.filter(|e| e.kind == kind) {
            div class="msg bad" role="alert" id="assessment-refusal" { (e.refusal) }
        }
    }
}

fn pasi_form(user: &WebUser, patient_id: Uuid, today: &str, entered: Option<&Entered>) -> Markup {
    let sent = |name: &str| Entered::sent(entered, AssessmentKind::Pasi, name);
    html! {
        details open[sent("csrf").is_some()] {
            summary { (t("assess-pasi-title")) }
            form method="post" action={ "/patients/" (patient_id) "/pasi" } id="pasi-form" {
                input type="hidden" name="csrf" value=(user.csrf());
                (visit_date_field(today, sent("visit_date")))
                div class="scroll" { table class="pasi-grid" {
                    thead { tr { th { (t("assess-region")) } @for (part, _) in PARTS { th { (part_words(part)) } } } }
                    tbody { @for (region, weight) in REGIONS {
                        tr data-weight=(weight) {
                            th scope="row" { (region_words(region)) }
                            @for (part, max) in PARTS {
                                @let chosen = sent(&format!("{region}.{part}"));
                                td { select name={ (region) "." (part) } aria-label={ (region_words(region)) ", " (part_words(part)) } required {
                                    @for v in 0..=max {
                                        option value=(v) selected[chosen.as_deref() == Some(&*v.to_string())] { (v) " · " (score_words(part, v)) }
                                    }
                                } }
                            }
                        }
                    } }
                } }
                p class="big" { (t("assess-pasi-total")) " " output id="pasi-total" { "0.0" } }
                p class="muted" { (t("assess-pasi-how")) }
                (refusal_box(entered, AssessmentKind::Pasi))
                div class="actions" { button type="submit" { (t("assess-pasi-record")) } }
            }
        }
    }
}

/// What a score means, beside its number: severity 0-4, area 0-6 (the
/// share of the region affected).
fn score_words(part: &str, v: i32) -> String {
    let key = if part == "area" {
        format!("assess-area-{v}")
    } else {
        format!("assess-severity-{v}")
    };
    crate::i18n::t_maybe(&key).unwrap_or_default()
}

fn dlqi_form(user: &WebUser, patient_id: Uuid, today: &str, entered: Option<&Entered>) -> Markup {
    let sent = |name: &str| Entered::sent(entered, AssessmentKind::Dlqi, name);
    html! {
        details open[sent("csrf").is_some()] {
            summary { (t("assess-dlqi-title")) }
            form method="post" action={ "/patients/" (patient_id) "/dlqi" } id="dlqi-form" {
                input type="hidden" name="csrf" value=(user.csrf());
                (visit_date_field(today, sent("visit_date")))
                p class="muted" { (t("assess-dlqi-intro")) }
                @for n in 1..=10_usize {
                    @let name = format!("q{n}");
                    @let chosen = sent(&name);
                    // the answers side by side: ten questions stay one screen or two
                    fieldset class="dlqi-question" style="display:flex;flex-wrap:wrap;gap:0 1.2rem" {
                        legend { (n) ". " (crate::i18n::t_maybe(&format!("assess-dlqi-q{n}")).unwrap_or_default()) }
                        @for (value, key) in dlqi_answers(n) {
                            label { input type="radio" name=(name) value=(value) required checked[chosen.as_deref() == Some(value)]; (crate::i18n::t_maybe(key).unwrap_or_default()) }
                        }
                    }
                }
                p class="big" { (t("assess-dlqi-total")) " " output id="dlqi-total" { "0" } }
                (refusal_box(entered, AssessmentKind::Dlqi))
                div class="actions" { button type="submit" { (t("assess-dlqi-record")) } }
            }
        }
    }
}

/// A question's answers: value sent and its words. Question 7 asks first
/// whether the skin prevented work or study (yes scores 3), then how much
/// of a problem it was there.
fn dlqi_answers(n: usize) -> Vec<(&'static str, &'static str)> {
    let mut answers = if n == 7 {
        vec![
            ("3", "assess-dlqi-q7-yes"),
            ("2", "assess-dlqi-q7-a-lot"),
            ("1", "assess-dlqi-q7-a-little"),
            ("0", "assess-dlqi-q7-not-at-all"),
        ]
    } else {
        vec![
            ("3", "assess-dlqi-very-much"),
            ("2", "assess-dlqi-a-lot"),
            ("1", "assess-dlqi-a-little"),
            ("0", "assess-dlqi-not-at-all"),
        ]
    };
    if n >= NOT_RELEVANT_FROM {
        answers.push(("nr", "assess-dlqi-not-relevant"));
    }
    answers
}
