//! `/protocol`: the protocol record in words for every member of staff (the
//! numbers in force, the assessment visits, the QC specification, the
//! eligibility checklist) and its version history, each amendment with its
//! signer, meaning, reason and what it changed. A quality officer amends
//! it in [`amend`]: change values, see each old → new, then sign.

pub mod amend;

use axum::Router;
use axum::extract::State;
use axum::response::Html;
use maud::{Markup, html};
use serde_json::Value;

use crate::domain::accounts::Role;
use crate::domain::protocol::Protocol;
use crate::domain::visits::ScheduledVisit;
use crate::i18n::{arg, t, t_maybe, t_with};
use crate::services::history::{self, Entry};
use crate::services::protocol::{self, Versioned};
use crate::state::AppState;
use crate::web::error::PageError;
use crate::web::extract::{PageUser, WebQuery};
use crate::web::home::visit_name;
use crate::web::page::{self, Flash};
use crate::web::user::WebUser;

pub fn routes() -> Router<AppState> {
    use axum::routing::{get, post};
    Router::new()
        .route("/protocol", get(protocol_page))
        .route("/protocol/review", post(amend::review))
        .route("/protocol/amend", post(amend::amend))
}

/// The protocol's whole numbers a quality officer amends on the page, by
/// their names in the protocol record (`domain::protocol::Protocol`).
pub const NUMBERS: [&str; 23] = [
    "dose_cells_per_kg",
    "dose_tolerance_pct",
    "infusions",
    "window_days",
    "min_interval_days",
    "post_thaw_recovery_pct",
    "min_viability_pct",
    "plausible_recovery_min_pct",
    "plausible_recovery_max_pct",
    "count_spread_max_pct",
    "post_thaw_shelf_life_minutes",
    "weight_valid_days",
    "weight_min_g",
    "weight_max_g",
    "weight_change_confirm_pct",
    "weight_change_lookback_days",
    "weight_change_confirm_pct_older",
    "bmi_min",
    "bmi_max",
    "infused_volume_tolerance_pct",
    "age_min_years",
    "age_max_years",
    "baseline_pasi_min_tenths",
];

/// A field of the protocol record as people read it (never its name).
pub fn field_words(field: &str) -> String {
    t_maybe(&format!("proto-f-{}", field.replace('_', "-"))).unwrap_or_else(|| t("proto-f-other"))
}

/// A value of the protocol record as people read it.
pub fn value_words(field: &str, value: &Value) -> String {
    match (field, value) {
        ("dose_cells_per_kg", Value::Number(n)) => {
            n.as_i64().map_or_else(|| n.to_string(), page::cells)
        }
        (_, Value::Bool(true)) => t("proto-yes"),
        (_, Value::Bool(false)) => t("proto-no"),
        (_, Value::Number(n)) => n
            .as_i64()
            .map_or_else(|| n.to_string(), crate::domain::units::grouped),
        (_, Value::String(s)) => s.clone(),
        ("visit_schedule", schedule) => {
            serde_json::from_value::<Vec<ScheduledVisit>>(schedule.clone())
                .map(|s| schedule_words(&s))
                .unwrap_or_default()
        }
        (_, Value::Array(items)) => t_with("proto-entries", &[("count", arg(items.len()))]),
        _ => String::new(),
    }
}

/// "Baseline (−28 / +0 days), Week 4 (−7 / +7 days), …"
pub fn schedule_words(schedule: &[ScheduledVisit]) -> String {
    schedule
        .iter()
        .map(|v| {
            t_with(
                "proto-visit-short",
                &[
                    ("visit", arg(visit_name(v.week))),
                    ("early", arg(v.early_days)),
                    ("late", arg(v.late_days)),
                ],
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub async fn protocol_page(
    State(state): State<AppState>,
    user: PageUser,
    WebQuery(flash): WebQuery<Flash>,
) -> Result<Html<String>, PageError> {
    let current = protocol::current(state.db.conn()).await?;
    let versions = history::of(&state, "protocol", uuid::Uuid::nil()).await?;
    Ok(page::show(
        &t("proto-title"),
        &user,
        html! {
            (protocol_view(&user, &current, &flash))
            (versions_view(&user, &versions))
            @if user.user.role == Role::Quality { (amend::amend_form(&user, &current)) }
        },
    ))
}

fn protocol_view(user: &WebUser, v: &Versioned, flash: &Flash) -> Markup {
    let p = &v.protocol;
    let fields = serde_json::to_value(p).unwrap_or_default();
    html! {
        h1 { (t("proto-title")) " " span class="code" { (p.trial_id) } }
        (flash.render())
        p id="protocol-version" { strong { (t_with("proto-version", &[("version", arg(v.version))])) } " · "
            (t_with("proto-in-force-since", &[("when", arg(user.when(v.record.created_at))), ("who", arg(&v.record.created_by_username))])) }
        p { (p.title) }
        p class="muted" { (p.schedule_rule(user.zone.name())) }
        div class="grid" {
            section class="card" id="protocol-numbers" {
                h2 { (t("proto-numbers")) }
                table { tbody {
                    @for field in NUMBERS {
                        tr { th { (field_words(field)) } td class="num" { (value_words(field, &fields[field])) } }
                    }
                    tr { th { (field_words("independent_verification")) } td class="num" { (value_words("independent_verification", &fields["independent_verification"])) } }
                } }
            }
            div {
                (visits_view(&p.visit_schedule))
                (qc_view(p))
            }
        }
        (criteria_view(p))
    }
}

fn visits_view(schedule: &[ScheduledVisit]) -> Markup {
    html! {
        section class="card" id="protocol-visits" {
            h2 { (t("proto-visits")) }
            p class="muted" { (t("proto-visits-explain")) }
            table {
                thead { tr { th { (t("visits-col-visit")) } th class="num" { (t("proto-col-day")) } th { (t("visits-col-window")) } } }
                tbody { @for v in schedule {
                    tr {
                        td { (visit_name(v.week)) }
                        td class="num" { (t_with("proto-day", &[("day", arg(7 * v.week + 1))])) }
                        td { (t_with("proto-window-days", &[("early", arg(v.early_days)), ("late", arg(v.late_days))])) }
                    }
                } }
            }
        }
    }
}

fn qc_view(p: &Protocol) -> Markup {
    html! {
        section class="card" id="protocol-qc" {
            h2 { (t("proto-qc")) }
            table {
                thead { tr { th { (t("lot-col-test")) } th { (t("lot-col-limit")) } } }
                tbody { @for e in &p.qc_specification {
                    tr { td class="code" { (e.test) } td { (e.limit) " " (e.unit.clone().unwrap_or_default()) } }
                } }
            }
        }
    }
}

fn criteria_view(p: &Protocol) -> Markup {
    use crate::domain::protocol::CriterionKind;
    html! {
        section class="card" id="protocol-criteria" {
            h2 { (t("proto-criteria")) }
            p class="muted" { (t_with("proto-ages", &[("min", arg(p.age_min_years)), ("max", arg(p.age_max_years))])) }
            @for (kind, heading) in [(CriterionKind::Inclusion, t("proto-inclusion")), (CriterionKind::Exclusion, t("proto-exclusion"))] {
                h2 { (heading) }
                ul { @for c in p.criteria.iter().filter(|c| c.kind == kind) { li { (c.text) } } }
            }
        }
    }
}

/// Every version, newest first: when, who signed it and what it means,
/// why, and what changed (old → new).
fn versions_view(user: &WebUser, entries: &[Entry]) -> Markup {
    html! {
        section class="card" id="protocol-history" {
            h2 { (t("proto-history")) }
            table {
                thead { tr { th { (t("proto-col-version")) } th { (t("col-when")) } th { (t("proto-col-signed")) } th { (t("proto-col-changes")) } } }
                tbody { @for e in entries.iter().rev() {
                    @let details: Value = serde_json::from_str(&e.event.details).unwrap_or_default();
                    tr {
                        td class="num" { (details["version"]) }
                        td class="nowrap" { (user.when(e.event.occurred_at)) }
                        td {
                            @match &e.signature {
                                Some(s) => { (t_with("history-signed", &[("name", arg(&s.signer_full_name)), ("username", arg(&s.signer_username)), ("meaning", arg(&s.meaning))])) }
                                None => { (e.event.actor_username) }
                            }
                            @if let Some(reason) = details["reason"].as_str() { div { (t("history-reason")) " " q { (reason) } } }
                        }
                        td {
                            @if let Some(changes) = details["changes"].as_object() {
                                ul { @for (field, change) in changes {
                                    li { (field_words(field)) ": " (value_words(field, &change["from"])) " → " (value_words(field, &change["to"])) }
                                } }
                            } @else { span class="muted" { (t("proto-seeded")) } }
                        }
                    }
                } }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::language::Language;

    /// Every field of the record has its words in both languages, so no
    /// page ever shows a field's name.
    #[test]
    fn every_field_has_its_words() {
        let fields = serde_json::to_value(Protocol::seed()).unwrap();
        for language in Language::ALL {
            let known = crate::i18n::keys(language);
            for field in fields.as_object().unwrap().keys() {
                let key = format!("proto-f-{}", field.replace('_', "-"));
                assert!(known.contains(&key), "{language:?}: {key}");
            }
        }
    }
}
