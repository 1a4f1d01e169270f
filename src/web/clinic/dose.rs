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
use crate::services::doses::{self, DoseRecord};
use crate::services::{history, storage};
use crate::state::AppState;
use crate::web::error::PageError;
use crate::web::extract::{PageUser, WebQuery};
use crate::web::history::history_view;
use crate::web::page::{self, Flash, pill, signature_fields};
use crate::web::user::WebUser;

/// Why a dose's counts failed, in words, from its stored code.
fn count_failure_words(code: &str) -> &'static str {
    match code {
        "viability_too_low" => "A vial's viability is below the protocol's minimum.",
        "implausible_count" => {
            "A count is implausible: its recovery is outside the protocol's range, or it is far from the other vials' counts. Check it (a slip of ten?): correct it, or confirm it with a reason."
        }
        "dose_out_of_range" => {
            "The counted cells do not give a volume that holds a dose in the accepted range."
        }
        "thawed_product_expired" => "The thawed product is past its shelf life.",
        "lot_expired" => "The lot has expired.",
        "lot_recalled" => "The lot has been recalled.",
        "stale_weight" => "The patient's weight is older than the protocol allows.",
        "weight_voided" => "The weight the dose was computed from has been voided.",
        _ => "The counts failed.",
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
        &format!("Dose {}", record.dose.code),
        &user,
        html! {
            (dose_view(&user, &record, &places, state.clock.now(), &flash))
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
        h1 { "Dose " span class="code" { (d.code) } " " (pill(d.status)) }
        (flash.render())
        p { "Patient " a href={ "/patients/" (d.patient_id) } { (record.subject_code) } " · infusion "
            (d.infusion_number) " of " (record.infusions_total) " · lot " a class="code" href={ "/lots/" (record.lot.id) } { (record.lot.code) }
            " " @if record.lot.status != LotStatus::Released { (pill(record.lot.status)) } " expires " strong { (user.date(record.lot.expires_at)) }
            @if record.lot.expires_at <= now { " " span class="pill bad" { "expired" } } }
        p { "Target " strong { (page::cells(d.target_cells.get())) } " viable cells (accepted " (crate::domain::units::grouped(d.min_cells)) " to " (crate::domain::units::grouped(d.max_cells)) ") for "
            strong { (kg_text(d.weight_g)) " kg" } ", weighed " (user.when(record.weight.measured_at))
            @if record.weight.voided_at.is_some() { " " span class="pill bad" { "weight voided" } }
            @else if weight_valid_until < now { " " span class="pill bad" { "weight too old" } }
            @else { span class="muted" { " (valid until " (user.when(weight_valid_until)) ")" } } "." }
        @if d.status == DoseStatus::CountFailed {
            div class="msg bad" role="alert" id="count-failed" {
                strong { "The counts do not make a dose. " }
                (count_failure_words(d.count_failure.as_deref().unwrap_or("")))
                " The vials are thawed and recorded: correct a mistyped count (signed), replace a failing vial, or cancel the dose (its thawed vials are discarded)."
            }
        }
        section class="card" {
            h2 { "Vials" }
            table {
                thead { tr { th { "Vial" } th { "Status" } th { "Where" } th class="num" { "Viable cells/mL" } th class="num" { "Viability" } th class="num" { "Recovery" } th { "Count" } } }
                tbody { @for (v, place) in record.vials.iter().zip(places) {
                    @let count = record.current_count(v.id);
                    tr {
                        td class="code" { (v.code) }
                        td { (pill(v.status)) }
                        td { @match place { Some(p) => (p), None => span class="muted" { "out of storage" } } }
                        td class="num" { @if let Some(c) = count { (crate::domain::units::grouped(c.viable_cells_per_ml)) } }
                        td class="num" { @if let Some(c) = count { (tenths_display(c.viability_tenths)) " %" } }
                        td class="num" { @if let Some(c) = count { @if let Some(r) = c.recovery_tenths { (r / 10) "." (r % 10) " %" } } }
                        td { @if let Some(c) = count {
                            @match c.failure.as_deref() {
                                Some("viability_too_low") => span class="pill bad" { "viability too low" },
                                Some("implausible_count") => span class="pill bad" { "implausible: check" },
                                Some(other) => span class="pill bad" { (other.replace('_', " ")) },
                                None => @if c.confirmed { span class="pill ok" title=(c.confirm_reason.clone().unwrap_or_default()) { "confirmed" } } @else { span class="pill ok" { "passes" } },
                            }
                        } }
                    }
                } }
            }
            @if !record.counts.is_empty() {
                details {
                    summary { "Every count recorded (" (record.counts.len()) ")" }
                    table {
                        thead { tr { th { "Recorded" } th { "Vial" } th class="num" { "Viable cells/mL" } th class="num" { "Viability" } th { "Note" } } }
                        tbody { @for c in &record.counts {
                            @let superseded = record.is_superseded(c.id);
                            tr {
                                td { (user.when(c.recorded_at)) }
                                td class="code" { (code_of(c.vial_id)) }
                                td class="num" { @if superseded { s { (crate::domain::units::grouped(c.viable_cells_per_ml)) } } @else { (crate::domain::units::grouped(c.viable_cells_per_ml)) } }
                                td class="num" { (tenths_display(c.viability_tenths)) " %" }
                                td {
                                    @if superseded { "corrected later · " }
                                    @if let Some(reason) = &c.correction_reason { "correction: " (reason) " · " }
                                    @if let Some(reason) = &c.confirm_reason { "confirmed: " (reason) " · " }
                                    @if let Some(f) = &c.failure { (f.replace('_', " ")) }
                                }
                            }
                        } }
                    }
                }
            }
            @if !record.removed.is_empty() {
                p class="muted" { "Replaced: " @for (v, reason) in &record.removed { span class="code" { (v.code) } " (" (reason) ") " } }
            }
        }
        @if pharmacist && !reserved.is_empty() && matches!(d.status.as_str(), "reserved" | "count_failed") {
            form class="card" method="post" action={ "/doses/" (d.id) "/thaw" } id="thaw" {
                h2 { "3 · Counts after thaw" }
                p class="muted" { "Recording the counts records the thaw: the vials leave the freezer for good and the " (record.rules.post_thaw_shelf_life_minutes / 60) "-hour clock starts." }
                input type="hidden" name="csrf" value=(user.csrf());
                input type="hidden" name="mode" value="count";
                @for (i, v) in reserved.iter().enumerate() {
                    fieldset {
                        legend class="code" { (v.code) }
                        input type="hidden" name={ "vial_" (i) } value=(v.id);
                        label { "Viable cells per mL" input name={ "cells_" (i) } inputmode="numeric" required placeholder="16000000"; }
                        label { "Viability %" input name={ "viability_" (i) } inputmode="decimal" required placeholder="91.5"; }
                    }
                }
                div class="actions" { button type="submit" { "Record counts" } }
            }
        }
        @if pharmacist && !thawed.is_empty() && matches!(d.status.as_str(), "count_failed" | "thawed") {
            details class="card" open[d.status == DoseStatus::CountFailed] {
                summary { "Correct or confirm a count (signed)" }
                form method="post" action={ "/doses/" (d.id) "/thaw" } id="correct" {
                    p class="muted" { "Fill in only the vials to correct. The recorded count stays on record, struck out." }
                    input type="hidden" name="csrf" value=(user.csrf());
                    input type="hidden" name="mode" value="correct";
                    @for (i, v) in thawed.iter().enumerate() {
                        @let count = record.current_count(v.id);
                        fieldset {
                            legend class="code" { (v.code) }
                            input type="hidden" name={ "vial_" (i) } value=(v.id);
                            label { "Viable cells per mL" input name={ "cells_" (i) } inputmode="numeric" placeholder=(count.map(|c| c.viable_cells_per_ml.to_string()).unwrap_or_default()); }
                            label { "Viability %" input name={ "viability_" (i) } inputmode="decimal" placeholder=(count.map(|c| tenths_display(c.viability_tenths)).unwrap_or_default()); }
                            label { input type="checkbox" name={ "confirm_" (i) } value="true"; " The count is unusual but right" }
                            label { "Why it is right" input name={ "reason_" (i) } placeholder="recounted twice, same result"; }
                        }
                    }
                    label { "Why the count is corrected" input name="correction_reason" required placeholder="10× slip when typing"; }
                    (signature_fields("count corrected"))
                    div class="actions" { button type="submit" { "Sign and record the count" } }
                }
            }
        }
        @if pharmacist && matches!(d.status.as_str(), "reserved" | "count_failed") {
            details class="card" {
                summary { "Replace a vial (signed)" }
                form method="post" action={ "/doses/" (d.id) "/replace-vial" } {
                    input type="hidden" name="csrf" value=(user.csrf());
                    label { "Vial to discard" select name="vial_id" { @for v in &record.vials { option value=(v.id) { (v.code) } } } }
                    label { "Why" input name="reason" required placeholder="viability 62 % on count"; }
                    (signature_fields("vial discarded"))
                    div class="actions" { button class="danger" type="submit" { "Discard and reserve another" } }
                }
            }
        }
        @if let (Some(volume), Some(cells)) = (d.volume_ul, d.cells_to_administer) {
            section class="card" {
                h2 { "4 · Volume to draw" }
                p class="big" id="volume" { (crate::domain::units::millilitres(volume)) }
                p { "holding " strong { (page::cells(cells.get())) } " viable cells (pooled " (crate::domain::units::grouped(d.concentration_cells_per_ml.unwrap_or_default())) " cells/mL)." }
                @if let (Some(thawed_at), Some(use_by)) = (d.thawed_at, record.use_by) {
                    p { "Thawed " (user.when(thawed_at)) ". " strong { "Use by " (user.when(use_by)) }
                        @if use_by < now { " " span class="pill bad" { "expired" } } }
                }
                a class="button secondary" href={ "/api/v1/doses/" (d.id) "/label.png" } { "Bag label" }
            }
        }
        @if d.status == DoseStatus::Thawed && pharmacist {
            @if counted_by_me && record.rules.independent_verification {
                div class="msg bad" role="status" { "You recorded this dose's counts: another pharmacist verifies it." }
            } @else {
                form class="card" method="post" action={ "/doses/" (d.id) "/verify" } {
                    h2 { "5 · Verify and sign" }
                    input type="hidden" name="csrf" value=(user.csrf());
                    (signature_fields("dose verified"))
                    div class="actions" { button type="submit" { "Sign and verify" } }
                }
            }
        }
        @if matches!(d.status.as_str(), "verified" | "infusing") {
            div class="actions" { a class="button" href={ "/doses/" (d.id) "/bedside" } { "Bedside check" } }
        }
        @if pharmacist && matches!(d.status.as_str(), "reserved" | "count_failed" | "thawed" | "verified") {
            details class="card" {
                summary { "Cancel this dose" }
                form method="post" action={ "/doses/" (d.id) "/cancel" } {
                    input type="hidden" name="csrf" value=(user.csrf());
                    p class="muted" { "Reserved vials go back to stock; thawed vials are discarded." }
                    label for="cancel-reason" { "Reason" }
                    input id="cancel-reason" name="reason" required;
                    div class="actions" { button class="danger" type="submit" { "Cancel dose" } }
                }
            }
        }
    }
}
