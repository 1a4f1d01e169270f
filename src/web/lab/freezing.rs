//! Freezing a lot into vials on its page (lab), as
//! `POST /api/v1/lots/{id}/freeze` does (`services::lots::freeze`). The
//! volume is typed with its unit chosen each time (mL or µL, no default),
//! converted exactly to whole microlitres; a volume or a cell count far
//! from what a cryovial holds is asked about in words and frozen only once
//! confirmed, so a mL/µL slip cannot pass unseen.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use maud::{Markup, html};
use serde::Deserialize;
use uuid::Uuid;

use crate::domain::units::{grouped, millilitres, millions};
use crate::domain::zone::SiteZone;
use crate::error::AppError;
use crate::i18n::{arg, t, t_maybe, t_with};
use crate::services::lots;
use crate::state::AppState;
use crate::web::error::{PageError, sentence};
use crate::web::extract::{CsrfForm, PageUser, carries_csrf, roles};
use crate::web::page::{self, redirect_with};
use crate::web::user::WebUser;

/// What a cryovial usually holds; outside it the person is asked first.
const USUAL_VOLUME_UL: std::ops::RangeInclusive<i64> = 100..=5_000;
/// Fewer labelled cells than this per vial is asked about (a count typed in
/// millions?).
const FEWEST_USUAL_CELLS: i64 = 1_000_000;

/// The freezing form of a lot in process.
pub fn freezing_form(user: &WebUser, lot_id: Uuid, now: DateTime<Utc>) -> Markup {
    html! {
        section class="card" id="freeze" {
            h2 { (t("lab-freeze-heading")) }
            form method="post" action={ "/lots/" (lot_id) "/freeze" } {
                input type="hidden" name="csrf" value=(user.csrf());
                label { (t("lab-freeze-count")) input name="vial_count" type="number" min="1" required inputmode="numeric" style="max-width:10rem"; }
                label { (t("lab-freeze-cells")) input name="cells_per_vial" required inputmode="numeric" autocomplete="off" placeholder="10000000" style="max-width:16rem"; }
                span class="muted small" { (t("lab-freeze-cells-hint")) }
                label { (t("lab-freeze-volume")) input name="volume" required inputmode="decimal" autocomplete="off" style="max-width:10rem"; }
                fieldset {
                    legend { (t("lab-freeze-volume-unit")) }
                    label { input type="radio" name="volume_unit" value="ml" required; (t("lab-freeze-ml")) }
                    label { input type="radio" name="volume_unit" value="ul" required; (t("lab-freeze-ul")) }
                }
                label { (t_with("lab-freeze-at", &[("zone", arg(user.zone.name()))]))
                    input name="frozen_at" type="datetime-local" required value=(user.field_time(now)); }
                div class="actions" { button type="submit" { (t("lab-freeze-button")) } }
            }
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct FreezeForm {
    pub csrf: String,
    pub vial_count: String,
    pub cells_per_vial: String,
    pub volume: String,
    #[serde(default)]
    pub volume_unit: String,
    pub frozen_at: String,
    #[serde(default)]
    pub confirm: bool,
}

carries_csrf!(FreezeForm);

pub async fn freeze(
    State(state): State<AppState>,
    user: PageUser<roles::Lab>,
    Path(id): Path<Uuid>,
    CsrfForm(form): CsrfForm<FreezeForm>,
) -> Result<Response, PageError> {
    let back = format!("/lots/{id}");
    let refuse =
        |why: String| PageError::back(&back, t_with("lab-freeze-refused", &[("why", arg(why))]));
    let Ok(vial_count) = form.vial_count.trim().parse::<i32>() else {
        return Err(refuse(t("lab-freeze-bad-count")));
    };
    let Some(cells_per_vial) = whole_number(&form.cells_per_vial) else {
        return Err(refuse(t("lab-freeze-bad-cells")));
    };
    let volume_ul = match form.volume_unit.as_str() {
        "ml" => microlitres_of_ml(&form.volume),
        "ul" => whole_number(&form.volume),
        _ => return Err(refuse(t("lab-freeze-no-unit"))),
    };
    let Some(volume_ul) = volume_ul else {
        return Err(refuse(t("lab-freeze-bad-volume")));
    };
    let Some(frozen_at) = user.typed_time(&form.frozen_at) else {
        return Err(refuse(t("lab-bad-time")));
    };
    let questions = unusual(cells_per_vial, volume_ul);
    if !form.confirm && !questions.is_empty() {
        let body = confirm_view(&user, id, &form, &questions);
        return Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            page::show(&t("lab-freeze-confirm-title"), &user, body),
        )
            .into_response());
    }
    let freezing = lots::Freezing {
        vial_count,
        cells_per_vial,
        volume_ul,
        frozen_at,
    };
    let (record, vials) = lots::freeze(&state, &user.user.actor(), id, freezing)
        .await
        .map_err(|error| refuse(why_not_frozen(&error, user.zone)))?;
    Ok(redirect_with(
        &back,
        true,
        t_with(
            "lab-freeze-done",
            &[
                ("code", arg(&record.lot.code)),
                ("count", arg(vials.len())),
                ("cells", arg(grouped(cells_per_vial))),
                ("millions", arg(millions(cells_per_vial))),
                ("ml", arg(millilitres(volume_ul))),
                ("ul", arg(grouped(volume_ul))),
            ],
        ),
    ))
}

/// Why the service refused, in words; a lot frozen already (the lifecycle
/// refuses a second freezing) is said with its status.
fn why_not_frozen(error: &AppError, zone: SiteZone) -> String {
    match error {
        AppError::InvalidState(refused) => t_with(
            "lab-freeze-not-in-process",
            &[(
                "status",
                arg(t_maybe(&format!("status-{}", refused.from))
                    .unwrap_or_else(|| refused.from.replace('_', " "))),
            )],
        ),
        other => sentence(other, zone),
    }
}

/// The questions an unusual vial raises, in words.
fn unusual(cells_per_vial: i64, volume_ul: i64) -> Vec<String> {
    let mut questions = Vec::new();
    if !USUAL_VOLUME_UL.contains(&volume_ul) {
        questions.push(t_with(
            "lab-freeze-volume-question",
            &[
                ("ul", arg(grouped(volume_ul))),
                ("ml", arg(millilitres(volume_ul))),
            ],
        ));
    }
    if cells_per_vial < FEWEST_USUAL_CELLS {
        questions.push(t_with(
            "lab-freeze-cells-question",
            &[("cells", arg(grouped(cells_per_vial)))],
        ));
    }
    questions
}

/// The question page: the same values again, sent only with `confirm`.
fn confirm_view(user: &WebUser, id: Uuid, form: &FreezeForm, questions: &[String]) -> Markup {
    html! {
        h1 { (t("lab-freeze-confirm-title")) }
        @for q in questions { div class="msg warn" role="alert" { (q) } }
        form class="card" method="post" action={ "/lots/" (id) "/freeze" } {
            input type="hidden" name="csrf" value=(user.csrf());
            input type="hidden" name="vial_count" value=(form.vial_count);
            input type="hidden" name="cells_per_vial" value=(form.cells_per_vial);
            input type="hidden" name="volume" value=(form.volume);
            input type="hidden" name="volume_unit" value=(form.volume_unit);
            input type="hidden" name="frozen_at" value=(form.frozen_at);
            input type="hidden" name="confirm" value="true";
            div class="actions" {
                button type="submit" { (t("lab-freeze-confirm")) }
                a class="button secondary" href={ "/lots/" (id) "#freeze" } { (t("lab-freeze-correct")) }
            }
        }
    }
}

/// A whole number as people type it, grouped or not (`10 000 000`).
fn whole_number(text: &str) -> Option<i64> {
    let digits: String = text
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | ',' | '_' | '\u{2009}' | '\u{202f}' | '\u{a0}'))
        .collect();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Millilitres (`1`, `1.5`, `0.25`) as whole microlitres, exactly: a
/// fraction finer than a microlitre cannot be read.
fn microlitres_of_ml(text: &str) -> Option<i64> {
    let text = text.trim();
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || whole.len() > 9 || !digits(whole) || !digits(fraction) {
        return None;
    }
    let (kept, rest) = fraction.split_at(fraction.len().min(3));
    if rest.bytes().any(|b| b != b'0') || (text.contains('.') && fraction.is_empty()) {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let kept: i64 = format!("{kept:0<3}").parse().ok()?;
    whole.checked_mul(1000)?.checked_add(kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn millilitres_become_whole_microlitres_exactly() {
        assert_eq!(microlitres_of_ml("1"), Some(1000));
        assert_eq!(microlitres_of_ml("1.5"), Some(1500));
        assert_eq!(microlitres_of_ml("0.25"), Some(250));
        assert_eq!(microlitres_of_ml("0.0005"), None);
        assert_eq!(microlitres_of_ml("1.2500"), Some(1250));
        assert_eq!(microlitres_of_ml("1."), None);
        assert_eq!(microlitres_of_ml("one"), None);
        assert_eq!(whole_number("10 000 000"), Some(10_000_000));
        assert_eq!(whole_number("1e7"), None);
    }
}
