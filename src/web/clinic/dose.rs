//! `/doses/{id}`: a dose as the pharmacist prepares it, steps 3 to 5 of
//! the worksheet: counts after thaw, the volume to draw in large type, the
//! signature; and the signed corrections, replacements and cancellation a
//! failing count calls for (carried out in `preparation`).

use axum::extract::{Path, State};
use axum::response::Html;
use chrono::{DateTime, Utc};
use maud::{Markup, html};
use uuid::Uuid;

use crate::domain::accounts::Role;
use crate::domain::dose::kg_text;
use crate::domain::lifecycle::DoseStatus;
use crate::domain::lifecycle::LotStatus;
use crate::domain::lifecycle::VialStatus;
use crate::domain::patient::tenths_display;
use crate::domain::printer::PrintKind;
use crate::i18n::{arg, t, t_with};
use crate::services::doses::{self, DoseRecord};
use crate::services::printing::printers;
use crate::services::{history, storage};
use crate::state::AppState;
use crate::web::error::PageError;
use crate::web::extract::{PageUser, WebQuery};
use crate::web::history::history_view;
use crate::web::page::{self, Flash, pill, signature_fields};
use crate::web::printing::print_form_counted;
use crate::web::user::WebUser;

/// Why a dose's counts failed, in words, from its stored code.
fn count_failure_words(code: &str) -> String {
    match code {
        "viability_too_low" => t("dose-failure-viability-too-low"),
        "implausible_count" => t("dose-failure-implausible"),
        "dose_out_of_range" => t("dose-failure-out-of-range"),
        "thawed_product_expired" => t("dose-failure-thawed-expired"),
        "lot_expired" => t("dose-failure-lot-expired"),
        "lot_recalled" => t("dose-failure-lot-recalled"),
        "stale_weight" => t("dose-failure-stale-weight"),
        "weight_voided" => t("dose-failure-weight-voided"),
        _ => t("dose-failure-other"),
    }
}

/// Steps 3 to 5: counts after thaw, the volume to draw, the signature.
pub async fn dose_page(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<Uuid>,
    WebQuery(flash): WebQuery<Flash>,
) -> Result<Html<String>, PageError> {
    let record = doses::get(&state, id).await?;
    let places = places_of(&state, &record).await;
    let history = history::of(&state, "dose", id).await?;
    Ok(page::show(
        &t_with("dose-title", &[("code", arg(&record.dose.code))]),
        &user,
        html! {
            (dose_view(&user, &record, &places, state.clock.now(), &flash))
            // the bag's label to a label printer, and how many were issued
            (print_form_counted(PrintKind::Dose, id, printers(&state), &user, &history))
            (history_view(&history, &user))
        },
    ))
}

/// Where to pick each of the dose's vials from: `box path › position`.
async fn places_of(state: &AppState, record: &DoseRecord) -> Vec<Option<String>> {
    let mut places = Vec::with_capacity(record.vials.len());
    for v in &record.vials {
        places.push(match (v.box_id, &v.position) {
            (Some(box_id), Some(position)) => storage::unit(state, box_id)
                .await
                .ok()
                .map(|u| format!("{} › {position}", u.path)),
            _ => None,
        });
    }
    places
}

fn dose_view(
    user: &WebUser,
    record: &DoseRecord,
    places: &[Option<String>],
    now: DateTime<Utc>,
    flash: &Flash,
) -> Markup {
    let d = &record.dose;
    let pharmacist = user.user.role == Role::Pharmacist;
    let reserved: Vec<_> = record
        .vials
        .iter()
        .filter(|v| v.status == VialStatus::Reserved)
        .collect();
    let thawed: Vec<_> = record
        .vials
        .iter()
        .filter(|v| v.status == VialStatus::Thawed)
        .collect();
    let counted_by_me = record
        .counts
        .iter()
        .any(|c| c.recorded_by == Some(user.user.user_id));
    let weight_valid_until = record.weight.measured_at
        + chrono::Duration::days(i64::from(record.rules.weight_valid_days));
    let code_of = |vial_id: Uuid| {
        record
            .vials
            .iter()
            .chain(record.removed.iter().map(|(v, _)| v))
            .find(|v| v.id == vial_id)
            .map(|v| v.code.to_string())
            .unwrap_or_default()
    };
    html! {
        h1 { (t("dose-heading")) " " span class="code" { (d.code) } " " (pill(d.status)) }
        (flash.render())
        p id="coi" { (t("coi-label")) " " (crate::web::clinic::patient::coi_markup(record.coi.as_deref())) " · DIN " span class="code" { (crate::domain::din::Din::parse(&record.lot.din).map(|din| din.display()).unwrap_or_else(|_| record.lot.din.clone())) } }
        p { (t("dose-patient")) " " a href={ "/patients/" (d.patient_id) } { (record.subject_code) } " · "
            (t_with("dose-infusion-of", &[("number", arg(d.infusion_number)), ("total", arg(record.infusions_total))])) " · " (t("dose-lot")) " " a class="code" href={ "/lots/" (record.lot.id) } { (record.lot.code) }
            " " @if record.lot.status != LotStatus::Released { (pill(record.lot.status)) } " " (t("dose-expires")) " " strong { (user.date(record.lot.expires_at)) }
            @if record.lot.expires_at <= now { " " span class="pill bad" { (t("dose-expired")) } } }
        p { (t("dose-target")) " " strong { (page::cells(d.target_cells.get())) } " "
            (t_with("dose-accepted-for", &[("min", arg(crate::domain::units::grouped(d.min_cells))), ("max", arg(crate::domain::units::grouped(d.max_cells)))])) " "
            strong { (kg_text(d.weight_g)) " kg" } (t_with("dose-weighed", &[("when", arg(user.when(record.weight.measured_at)))]))
            @if record.weight.voided_at.is_some() { " " span class="pill bad" { (t("dose-weight-voided")) } }
            @else if weight_valid_until < now { " " span class="pill bad" { (t("dose-weight-too-old")) } }
            @else { span class="muted" { " " (t_with("dose-weight-valid-until", &[("when", arg(user.when(weight_valid_until)))])) } } (t("dose-sentence-end")) }
        @if d.status == DoseStatus::CountFailed {
            div class="msg bad" role="alert" id="count-failed" {
                strong { (t("dose-counts-fail")) " " }
                (count_failure_words(d.count_failure.as_deref().unwrap_or("")))
                " " (t("dose-count-failed-next"))
            }
        }
        section class="card" {
            h2 { (t("dose-vials")) }
            table {
                thead { tr { th { (t("col-vial")) } th { (t("col-status")) } th { (t("col-where")) } th class="num" { (t("dose-col-viable")) } th class="num" { (t("dose-col-viability")) } th class="num" { (t("dose-col-recovery")) } th { (t("dose-col-count")) } } }
                tbody { @for (v, place) in record.vials.iter().zip(places) {
                    @let count = record.current_count(v.id);
                    tr {
                        td class="code" { (v.code) }
                        td { (pill(v.status)) }
                        td { @match place { Some(p) => (p), None => span class="muted" { (t("dose-out-of-storage")) } } }
                        td class="num" { @if let Some(c) = count { (crate::domain::units::grouped(c.viable_cells_per_ml)) } }
                        td class="num" { @if let Some(c) = count { (tenths_display(c.viability_tenths)) " %" } }
                        td class="num" { @if let Some(c) = count { @if let Some(r) = c.recovery_tenths { (r / 10) "." (r % 10) " %" } } }
                        td { @if let Some(c) = count {
                            @match c.failure.as_deref() {
                                Some("viability_too_low") => span class="pill bad" { (t("dose-viability-too-low")) },
                                Some("implausible_count") => span class="pill bad" { (t("dose-implausible")) },
                                Some(other) => span class="pill bad" { (other.replace('_', " ")) },
                                None => @if c.confirmed { span class="pill ok" title=(c.confirm_reason.clone().unwrap_or_default()) { (t("dose-confirmed")) } } @else { span class="pill ok" { (t("dose-passes")) } },
                            }
                        } }
                    }
                } }
            }
            @if !record.counts.is_empty() {
                details {
                    summary { (t_with("dose-every-count", &[("count", arg(record.counts.len()))])) }
                    table {
                        thead { tr { th { (t("dose-col-recorded")) } th { (t("col-vial")) } th class="num" { (t("dose-col-viable")) } th class="num" { (t("dose-col-viability")) } th { (t("dose-col-note")) } } }
                        tbody { @for c in &record.counts {
                            @let superseded = record.is_superseded(c.id);
                            tr {
                                td { (user.when(c.recorded_at)) }
                                td class="code" { (code_of(c.vial_id)) }
                                td class="num" { @if superseded { s { (crate::domain::units::grouped(c.viable_cells_per_ml)) } } @else { (crate::domain::units::grouped(c.viable_cells_per_ml)) } }
                                td class="num" { (tenths_display(c.viability_tenths)) " %" }
                                td {
                                    @if superseded { (t("dose-corrected-later")) " · " }
                                    @if let Some(reason) = &c.correction_reason { (t_with("dose-correction-reason", &[("reason", arg(reason))])) " · " }
                                    @if let Some(reason) = &c.confirm_reason { (t_with("dose-confirm-reason", &[("reason", arg(reason))])) " · " }
                                    @if let Some(f) = &c.failure { (f.replace('_', " ")) }
                                }
                            }
                        } }
                    }
                }
            }
            @if !record.removed.is_empty() {
                p class="muted" { (t("dose-replaced")) " " @for (v, reason) in &record.removed { span class="code" { (v.code) } " (" (reason) ") " } }
            }
        }
        @if pharmacist && !reserved.is_empty() && matches!(d.status.as_str(), "reserved" | "count_failed") {
            form class="card" method="post" action={ "/doses/" (d.id) "/thaw" } id="thaw" {
                h2 { "3 · " (t("dose-step-counts")) }
                p class="muted" { (t_with("dose-thaw-note", &[("hours", arg(record.rules.post_thaw_shelf_life_minutes / 60))])) }
                input type="hidden" name="csrf" value=(user.csrf());
                input type="hidden" name="mode" value="count";
                @for (i, v) in reserved.iter().enumerate() {
                    fieldset {
                        legend class="code" { (v.code) }
                        input type="hidden" name={ "vial_" (i) } value=(v.id);
                        label { (t("dose-cells-per-ml")) input name={ "cells_" (i) } inputmode="numeric" required placeholder="16000000"; }
                        label { (t("dose-viability-pct")) input name={ "viability_" (i) } inputmode="decimal" required placeholder="91.5"; }
                    }
                }
                div class="actions" { button type="submit" { (t("dose-record-counts")) } }
            }
        }
        @if pharmacist && !thawed.is_empty() && matches!(d.status.as_str(), "count_failed" | "thawed") {
            details class="card" open[d.status == DoseStatus::CountFailed] {
                summary { (t("dose-correct-summary")) }
                form method="post" action={ "/doses/" (d.id) "/thaw" } id="correct" {
                    p class="muted" { (t("dose-correct-hint")) }
                    input type="hidden" name="csrf" value=(user.csrf());
                    input type="hidden" name="mode" value="correct";
                    @for (i, v) in thawed.iter().enumerate() {
                        @let count = record.current_count(v.id);
                        fieldset {
                            legend class="code" { (v.code) }
                            input type="hidden" name={ "vial_" (i) } value=(v.id);
                            label { (t("dose-cells-per-ml")) input name={ "cells_" (i) } inputmode="numeric" placeholder=(count.map(|c| c.viable_cells_per_ml.to_string()).unwrap_or_default()); }
                            label { (t("dose-viability-pct")) input name={ "viability_" (i) } inputmode="decimal" placeholder=(count.map(|c| tenths_display(c.viability_tenths)).unwrap_or_default()); }
                            label { input type="checkbox" name={ "confirm_" (i) } value="true"; " " (t("dose-unusual-right")) }
                            label { (t("dose-why-right")) input name={ "reason_" (i) } placeholder=(t("dose-why-right-placeholder")); }
                        }
                    }
                    label { (t("dose-why-corrected")) input name="correction_reason" required placeholder=(t("dose-why-corrected-placeholder")); }
                    (signature_fields("count corrected"))
                    div class="actions" { button type="submit" { (t("dose-sign-count")) } }
                }
            }
        }
        @if pharmacist && matches!(d.status.as_str(), "reserved" | "count_failed") {
            details class="card" {
                summary { (t("dose-replace-summary")) }
                form method="post" action={ "/doses/" (d.id) "/replace-vial" } {
                    input type="hidden" name="csrf" value=(user.csrf());
                    label { (t("dose-vial-to-discard")) select name="vial_id" { @for v in &record.vials { option value=(v.id) { (v.code) } } } }
                    label { (t("dose-replace-why")) input name="reason" required placeholder=(t("dose-replace-why-placeholder")); }
                    (signature_fields("vial discarded"))
                    div class="actions" { button class="danger" type="submit" { (t("dose-replace-button")) } }
                }
            }
        }
        @if let (Some(volume), Some(cells)) = (d.volume_ul, d.cells_to_administer) {
            section class="card" {
                h2 { "4 · " (t("dose-step-volume")) }
                p class="big" id="volume" { (crate::domain::units::millilitres(volume)) }
                p { (t("dose-holding")) " " strong { (page::cells(cells.get())) } " " (t_with("dose-pooled", &[("concentration", arg(crate::domain::units::grouped(d.concentration_cells_per_ml.unwrap_or_default())))])) }
                @if let (Some(thawed_at), Some(use_by)) = (d.thawed_at, record.use_by) {
                    p { (t_with("dose-thawed-at", &[("when", arg(user.when(thawed_at)))])) " " strong { (t_with("dose-use-by", &[("when", arg(user.when(use_by)))])) }
                        @if use_by < now { " " span class="pill bad" { (t("dose-expired")) } } }
                }
                a class="button secondary" href={ "/api/v1/doses/" (d.id) "/label.png" } { (t("dose-bag-label")) }
                a class="button secondary" href={ "/api/v1/doses/" (d.id) "/label.pdf" } { (t("label-pdf-bag")) }
            }
        }
        @if d.status == DoseStatus::Thawed && pharmacist {
            @if counted_by_me && record.rules.independent_verification {
                div class="msg bad" role="status" { (t("dose-another-verifies")) }
            } @else {
                form class="card" method="post" action={ "/doses/" (d.id) "/verify" } {
                    h2 { "5 · " (t("dose-step-verify")) }
                    input type="hidden" name="csrf" value=(user.csrf());
                    (signature_fields("dose verified"))
                    div class="actions" { button type="submit" { (t("dose-sign-verify")) } }
                }
            }
        }
        @if matches!(d.status.as_str(), "verified" | "infusing") {
            div class="actions" { a class="button" href={ "/doses/" (d.id) "/bedside" } { (t("dose-bedside-check")) } }
        }
        @if pharmacist && matches!(d.status.as_str(), "reserved" | "count_failed" | "thawed" | "verified") {
            details class="card" {
                summary { (t("dose-cancel-summary")) }
                form method="post" action={ "/doses/" (d.id) "/cancel" } {
                    input type="hidden" name="csrf" value=(user.csrf());
                    p class="muted" { (t("dose-cancel-hint")) }
                    label for="cancel-reason" { (t("dose-cancel-reason")) }
                    input id="cancel-reason" name="reason" required;
                    div class="actions" { button class="danger" type="submit" { (t("dose-cancel-button")) } }
                }
            }
        }
    }
}
