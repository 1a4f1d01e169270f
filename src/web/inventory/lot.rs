//! `/lots/{id}`: a lot's QC against the specification, release and
//! rejection under signature, recall, the signed investigation of a
//! failing result, its vials and labels.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, Response};
use maud::{Markup, html};
use serde::Deserialize;
use uuid::Uuid;

use crate::domain::accounts::Role;
use crate::domain::lifecycle::LotStatus;
use crate::domain::qc::{Conclusion, Specification};
use crate::services::recall::{self, Recalled};
use crate::services::{history, lots, protocol, vials};
use crate::state::AppState;
use crate::web::error::{OrBack, PageError};
use crate::web::extract::{CsrfForm, PageUser, WebQuery, carries_csrf, roles};
use crate::web::history::history_view;
use crate::web::page::{self, Flash, pill, redirect_with};
use crate::web::user::WebUser;

pub async fn lot_page(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<Uuid>,
    WebQuery(flash): WebQuery<Flash>,
) -> Result<Html<String>, PageError> {
    let record = lots::get(&state, id).await?;
    let spec = protocol::specification(state.db.conn()).await.ok();
    let vial_list = vials::list(&state, Some(id), None, 1000)
        .await
        .unwrap_or_default();
    let history = history::of(&state, "lot", id).await?;
    Ok(page::show(
        &format!("Lot {}", record.lot.code),
        &user,
        html! {
            (lot_view(&user, &record, spec.as_ref(), &vial_list, &flash))
            (history_view(&history, &user))
        },
    ))
}

fn lot_view(
    user: &WebUser,
    record: &lots::LotRecord,
    spec: Option<&Specification>,
    vial_list: &[vials::VialRecord],
    flash: &Flash,
) -> Markup {
    let l = &record.lot;
    let quality = user.user.role == Role::Quality;
    let latest = |test: &str| record.qc.iter().rev().find(|r| r.test == test);
    html! {
        h1 { "Lot " span class="code" { (l.code) } " " (pill(l.status)) }
        (flash.render())
        div class="grid" {
            section class="card" {
                table { tbody {
                    tr { th { "Product" } td { (l.product_code) " · passage " (l.passage) } }
                    tr { th { "Manufactured" } td { (user.when(l.manufactured_at)) } }
                    tr { th { "Expires" } td { (user.date(l.expires_at)) } }
                    @if let Some(n) = l.vial_count { tr { th { "Vials" } td { (n) " × " (crate::domain::units::millions(l.cells_per_vial.unwrap_or_default())) " cells" } } }
                    tr { th { "By status" } td { @for (s, n) in &record.vial_counts { (pill(s)) " " (n) " " } } }
                } }
                div class="actions" {
                    @if l.vial_count.is_some() { a class="button secondary" href={ "/api/v1/lots/" (l.id) "/labels.pdf" } { "Label sheet (PDF)" } }
                    a class="button secondary" href={ "/api/v1/lots/" (l.id) "/label.png" } { "Box label" }
                    a class="button secondary" href={ "/trace/lots/" (l.id) } { "Trace" }
                    a class="button secondary" href={ "/api/v1/lots/" (l.id) "/outcomes" } { "Outcomes (JSON)" }
                }
            }
            section class="card" {
                h2 { "QC against the specification" }
                table {
                    thead { tr { th { "Test" } th { "Latest" } th { "Limit" } th { "Standing" } } }
                    tbody {
                        @for t in spec.iter().flat_map(|s| s.tests.iter()) {
                            @let r = latest(&t.test);
                            tr {
                                td { (t.test) }
                                td class="num" { @match r { Some(r) => { (r.value) " " (r.unit.clone().unwrap_or_default()) } None => span class="muted" { "—" } } }
                                td { (t.limit.to_string()) " " (t.unit.clone().unwrap_or_default()) }
                                td {
                                    @if record.standing.investigation_required.contains(&t.test) { span class="pill bad" { "failed: awaiting investigation" } }
                                    @else if record.standing.failed.contains(&t.test) { span class="pill bad" { "fail" } }
                                    @else if record.standing.missing.contains(&t.test) { span class="pill pending" { "missing" } }
                                    @else { span class="pill ok" { "pass" } }
                                }
                            }
                        }
                    }
                }
                @if !record.standing.investigation_required.is_empty() {
                    p class="msg bad" { "A failing " (record.standing.investigation_required.join(" and ")) " result counts until quality investigates it; a negative retest does not undo it." }
                }
            }
        }
        section class="card" {
            h2 { "Every QC result, in order" }
            table {
                thead { tr { th { "Recorded" } th { "Test" } th class="num" { "Value" } th { "Limit" } th { "Result" } th { "Investigation" } } }
                tbody { @for r in &record.qc {
                    tr {
                        td { (user.when(r.recorded_at)) }
                        td { (r.test) }
                        td class="num" { (r.value) " " (r.unit.clone().unwrap_or_default()) }
                        td { (r.specification) }
                        td { @if r.pass { span class="pill ok" { "pass" } } @else { span class="pill bad" { "fail" } } }
                        td {
                            @if let Some(conclusion) = &r.investigation {
                                (if conclusion == "confirmed" { "confirmed: " } else { "invalid test: " })
                                (r.investigation_reason.clone().unwrap_or_default())
                                @if let Some(t) = r.investigated_at { span class="muted" { " (" (user.when(t)) ")" } }
                            } @else if !r.pass && quality {
                                details {
                                    summary { "Investigate (signed)" }
                                    form method="post" action={ "/lots/" (l.id) "/qc/" (r.id) "/investigation" } {
                                        input type="hidden" name="csrf" value=(user.csrf());
                                        label { "Conclusion" select name="conclusion" {
                                            option value="invalid_test" { "The test was invalid: a retest counts" }
                                            option value="confirmed" { "The failure is confirmed: reject the lot" }
                                        } }
                                        label { "Why" input name="reason" required placeholder="investigation INV-12: sample contaminated"; }
                                        (page::signature_fields("QC investigation"))
                                        div class="actions" { button type="submit" { "Sign the investigation" } }
                                    }
                                }
                            } @else if !r.pass {
                                span class="muted" { "not investigated" }
                            }
                        }
                    }
                } }
            }
        }
        @if quality && l.status == LotStatus::Quarantine {
            section class="card" {
                h2 { "Release or reject" }
                form method="post" action={ "/lots/" (l.id) "/release" } {
                    input type="hidden" name="csrf" value=(user.csrf());
                    (page::signature_fields("released for clinical use"))
                    div class="actions" { button type="submit" { "Release lot" } }
                }
                details {
                    summary { "Reject instead" }
                    form method="post" action={ "/lots/" (l.id) "/reject" } {
                        input type="hidden" name="csrf" value=(user.csrf());
                        label for="reject-reason" { "Reason" }
                        input id="reject-reason" name="reason" required;
                        (page::signature_fields("rejected"))
                        div class="actions" { button class="danger" type="submit" { "Reject lot" } }
                    }
                }
            }
        }
        @if quality && l.status == LotStatus::Released {
            details class="card" {
                summary { "Recall this lot" }
                form method="post" action={ "/lots/" (l.id) "/recall" } {
                    input type="hidden" name="csrf" value=(user.csrf());
                    label for="recall-reason" { "Reason" }
                    input id="recall-reason" name="reason" required;
                    (page::signature_fields("recalled"))
                    div class="actions" { button class="danger" type="submit" { "Recall lot" } }
                }
            }
        }
        section class="card" {
            h2 { "Vials" }
            table {
                thead { tr { th { "Vial" } th { "Status" } th { "Location" } th { "Labels" } } }
                tbody { @for v in vial_list {
                    tr {
                        td { a class="code" href={ "/vials/" (v.vial.id) } { (v.vial.code) } }
                        td { (pill(v.vial.status)) }
                        td { @if let Some(loc) = &v.location { (loc.path()) } }
                        td { a href={ "/api/v1/vials/" (v.vial.id) "/label.png" } { "PNG" } " · " a href={ "/api/v1/vials/" (v.vial.id) "/label.zpl" } { "ZPL" } }
                    }
                } }
            }
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct SignedForm {
    pub csrf: String,
    #[serde(default)]
    pub reason: String,
    pub password: String,
    pub meaning: String,
}

#[derive(Debug, Deserialize)]
pub struct InvestigationForm {
    pub csrf: String,
    pub conclusion: Conclusion,
    pub reason: String,
    pub password: String,
    pub meaning: String,
}

carries_csrf!(SignedForm, InvestigationForm);

/// Release, reject and recall, signed by a quality officer.
pub async fn lot_decision(
    State(state): State<AppState>,
    user: PageUser<roles::Quality>,
    Path((id, action)): Path<(Uuid, String)>,
    CsrfForm(form): CsrfForm<SignedForm>,
) -> Result<Response, PageError> {
    let back = format!("/lots/{id}");
    let signature = user
        .sign(&state, form.password, form.meaning, &back)
        .await?;
    let outcome = match action.as_str() {
        "release" => lots::release(&state, &signature, id)
            .await
            .map(|_| "Lot released.".to_owned()),
        "reject" => lots::reject(&state, &signature, id, &form.reason)
            .await
            .map(|_| "Lot rejected.".to_owned()),
        "recall" => recall::recall(&state, &signature, id, &form.reason)
            .await
            .map(|r| recalled_words(&r)),
        _ => {
            return Ok(page::error_page(
                StatusCode::NOT_FOUND,
                "No such action",
                "Release, reject or recall.",
            ));
        }
    };
    let message = outcome.or_back(&back, user.zone)?;
    Ok(redirect_with(&back, true, &message))
}

/// What a recall did and whom to tell, in words.
fn recalled_words(r: &Recalled) -> String {
    let running = r
        .recipients
        .iter()
        .filter(|p| p.infusions.iter().any(|i| i.3))
        .map(|p| p.subject_code.as_str())
        .collect::<Vec<_>>();
    format!(
        "Lot recalled: {} vials held, {} doses cancelled, {} thawed vials to destroy{}; notify {}.",
        r.vials_recalled.len(),
        r.doses_cancelled.len(),
        r.thawed_to_discard.len(),
        if running.is_empty() {
            String::new()
        } else {
            format!(
                "; an infusion is running for {}: it may be completed, and the clinical team decides",
                running.join(", ")
            )
        },
        if r.recipients.is_empty() {
            "nobody (no recipient yet)".to_owned()
        } else {
            r.recipients
                .iter()
                .map(|p| p.subject_code.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        }
    )
}

/// Quality's signed investigation of a failing QC result.
pub async fn qc_investigation(
    State(state): State<AppState>,
    user: PageUser<roles::Quality>,
    Path((id, result_id)): Path<(Uuid, Uuid)>,
    CsrfForm(form): CsrfForm<InvestigationForm>,
) -> Result<Response, PageError> {
    let back = format!("/lots/{id}");
    let signature = user
        .sign(&state, form.password, form.meaning, &back)
        .await?;
    let record = crate::services::qc::investigate_qc(
        &state,
        &signature,
        id,
        result_id,
        form.conclusion,
        &form.reason,
    )
    .await
    .or_back(&back, user.zone)?;
    let message = match form.conclusion {
        Conclusion::InvalidTest => {
            "Investigation signed: the result is an invalid test, and a retest counts.".to_owned()
        }
        Conclusion::Confirmed => format!(
            "Investigation signed: the failure is confirmed; the lot is {}.",
            record.lot.status.as_str().replace('_', " ")
        ),
    };
    Ok(redirect_with(&back, true, message))
}
