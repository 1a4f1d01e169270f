//! A patient's assessment visits on their page: baseline, then the
//! follow-ups weeks after Day 1, each with its window in the site's dates
//! and where it stands today (`services::visits::of_patient`).

use maud::{Markup, html};

use crate::domain::visits::{PatientVisit, VisitStatus};
use crate::i18n::{arg, t, t_with};
use crate::web::home::visit_name;

/// The visits card; before the first infusion it says the schedule starts
/// on Day 1.
pub fn visits_card(visits: &[PatientVisit]) -> Markup {
    html! {
        section class="card" id="visits" {
            h2 { (t("pvisits-title")) }
            @if visits.is_empty() {
                p class="muted" { (t("pvisits-none")) }
            } @else {
                table {
                    thead { tr { th { (t("visits-col-visit")) } th { (t("visits-col-window")) } th { (t("col-status")) } } }
                    tbody { @for v in visits {
                        tr class="visit" {
                            td { (visit_name(v.week)) }
                            td class="nowrap" { (t_with("visits-window", &[("opens", arg(v.opens)), ("closes", arg(v.closes))])) }
                            td {
                                (state_pill(v.status))
                                @if v.optional { " " span class="pill" { (t("pvisits-optional")) } }
                            }
                        }
                    } }
                }
            }
        }
    }
}

/// The visit's state as a coloured pill, the word always there.
fn state_pill(status: VisitStatus) -> Markup {
    let class = match status {
        VisitStatus::Done => "ok",
        VisitStatus::Due => "warn",
        VisitStatus::Overdue | VisitStatus::Missed => "bad",
        VisitStatus::Upcoming => "",
    };
    html! { span class={ "pill " (class) } { (t(&format!("pvisits-{}", status.as_str()))) } }
}
