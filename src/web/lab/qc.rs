//! QC entry on the lot page (lab): one small form per test of the
//! specification in force, each value judged as it is typed by `qc.js`
//! (a guide only) and judged again by the server on submit, whose
//! judgement is the one recorded (`services::qc::add_qc`, as
//! `POST /api/v1/lots/{id}/qc`). The history of every result, superseded
//! and investigated ones too, is the lot page's own table.

use axum::extract::{Path, State};
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;
use uuid::Uuid;

use crate::domain::qc::{Limit, Specification};
use crate::i18n::{arg, t, t_with};
use crate::services::qc;
use crate::state::AppState;
use crate::web::error::{PageError, sentence};
use crate::web::extract::{CsrfForm, PageUser, carries_csrf, roles};
use crate::web::page::redirect_with;
use crate::web::user::WebUser;

/// The QC entry forms of a lot: one per test of the specification.
/// Open while a test has no result; folded once every test has one (a
/// retest is still one click away).
pub fn qc_entry(user: &WebUser, lot_id: Uuid, spec: &Specification, open: bool) -> Markup {
    html! {
        section class="card" id="qc-entry"
            data-pass=(t("lab-qc-live-pass")) data-fail=(t("lab-qc-live-fail"))
            data-unreadable=(t("lab-qc-live-unreadable")) data-open=(t("lab-qc-live-open")) {
            details open[open] {
                summary { h2 style="display:inline" { (t("lab-qc-entry-heading")) } }
                p class="muted" { (t("lab-qc-entry-hint")) }
                @for test in &spec.tests {
                    @let unit = test.unit.clone().unwrap_or_default();
                    @let field = format!("qc-{}", test.test);
                    form method="post" action={ "/lots/" (lot_id) "/qc" } class="qc-test"
                        style="display:flex;flex-wrap:wrap;gap:.2rem 1rem;align-items:flex-end;border-bottom:1px solid var(--line);padding:.3rem 0" {
                        input type="hidden" name="csrf" value=(user.csrf());
                        input type="hidden" name="test" value=(test.test);
                        input type="hidden" name="unit" value=(unit);
                        label for=(field) style="flex:0 0 17rem" {
                            span class="code" { (test.test) } " "
                            span class="muted small" { (t_with("lab-qc-limit", &[("limit", arg(test.limit.to_string())), ("unit", arg(&unit))])) }
                        }
                        @if test.limit == Limit::Negative {
                            select id=(field) name="value" required data-limit=(test.limit.to_string()) style="max-width:14rem" {
                                option value="" { (t("lab-qc-choose")) }
                                option value="negative" { (t("lab-qc-negative")) }
                                option value="positive" { (t("lab-qc-positive")) }
                                option value="indeterminate" { (t("lab-qc-indeterminate")) }
                            }
                        } @else {
                            input id=(field) name="value" required inputmode="decimal" autocomplete="off"
                                data-limit=(test.limit.to_string()) data-unit=(unit)
                                placeholder=(t("lab-qc-number-placeholder")) style="max-width:10rem";
                            span { (unit) }
                        }
                        output for=(field) class="qc-judged" aria-live="polite" {}
                        button type="submit" { (t("lab-qc-record")) }
                    }
                }
            }
            script src="/assets/qc.js" {}
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct QcForm {
    pub csrf: String,
    pub test: String,
    pub value: String,
    #[serde(default)]
    pub unit: String,
}

carries_csrf!(QcForm);

/// Records one result; the page says in words how the server judged it.
pub async fn record(
    State(state): State<AppState>,
    user: PageUser<roles::Lab>,
    Path(id): Path<Uuid>,
    CsrfForm(form): CsrfForm<QcForm>,
) -> Result<Response, PageError> {
    let back = format!("/lots/{id}");
    let unit = Some(form.unit.trim()).filter(|u| !u.is_empty());
    let result = qc::add_qc(
        &state,
        &user.user.actor(),
        id,
        &form.test,
        &form.value,
        unit,
    )
    .await
    .map_err(|error| {
        PageError::back(
            &back,
            t_with(
                "lab-qc-refused",
                &[
                    ("test", arg(form.test.trim())),
                    ("value", arg(form.value.trim())),
                    ("why", arg(sentence(&error, user.zone))),
                ],
            ),
        )
    })?;
    let words = t_with(
        if result.pass {
            "lab-qc-recorded-pass"
        } else {
            "lab-qc-recorded-fail"
        },
        &[
            ("test", arg(&result.test)),
            (
                "value",
                arg(format!(
                    "{} {}",
                    result.value,
                    result.unit.clone().unwrap_or_default()
                )
                .trim()),
            ),
            ("limit", arg(&result.specification)),
        ],
    );
    // a failing result is recorded, and shown in red so it is not missed
    Ok(redirect_with(&back, result.pass, words))
}
