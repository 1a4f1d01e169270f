//! `/lots/{id}`: a lot's QC against the specification, release and
//! rejection under signature, recall, the signed investigation of a
//! failing result, its vials and labels; for the lab, the forms of
//! `web::lab` (QC entry, freezing, the label sheet and its reconciliation).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, Response};
use maud::{Markup, html};
use serde::Deserialize;
use uuid::Uuid;

use crate::domain::accounts::Role;
use crate::domain::lifecycle::{LotStatus, VialStatus};
use crate::domain::printer::PrintKind;
use crate::domain::qc::{Conclusion, Specification};
use crate::i18n::{arg, t, t_maybe, t_with};
use crate::services::printing::printers;
use crate::services::recall::{self, Recalled};
use crate::services::{history, lots, protocol, vials};
use crate::state::AppState;
use crate::web::error::{OrBack, PageError};
use crate::web::extract::{CsrfForm, PageUser, WebQuery, carries_csrf, roles};
use crate::web::history::history_view;
use crate::web::lab;
use crate::web::page::{self, Flash, pill, redirect_with};
use crate::web::printing::{print_form, print_form_counted};
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
    let corrections = crate::web::corrections::section_view(
        &user,
        &crate::web::corrections::sheet(&state, crate::domain::correction::SubjectKind::Lot, id)
            .await?,
        crate::web::corrections::qc_links(&user, &record.qc),
    );
    let withdrawal = crate::web::withdrawals::lot_section(&state, &user, id).await?;
    Ok(page::show(
        &t_with("lot-title", &[("code", arg(&record.lot.code))]),
        &user,
        html! {
            (lot_view(&user, &record, spec.as_ref(), &vial_list, &flash))
            (withdrawal)
            (print_form(PrintKind::LotSheet, id, printers(&state), &user))
            (print_form_counted(PrintKind::Lot, id, printers(&state), &user, &history))
            (lab_parts(&user, &record, spec.as_ref(), &vial_list, &history, state.clock.now()))
            (corrections)
            (history_view(&history, &user))
        },
    ))
}

/// The lab's forms (`web::lab`): QC entry, freezing a lot in process, the
/// label sheet and its reconciliation.
fn lab_parts(
    user: &WebUser,
    record: &lots::LotRecord,
    spec: Option<&Specification>,
    vial_list: &[vials::VialRecord],
    history: &[history::Entry],
    now: chrono::DateTime<chrono::Utc>,
) -> Markup {
    let l = &record.lot;
    let lab = user.user.role == Role::Lab;
    html! {
        @if let (true, Some(spec)) = (lab, spec) { (lab::qc::qc_entry(user, l.id, spec, !record.standing.missing.is_empty())) }
        @if lab && l.status == LotStatus::InProcess { (lab::freezing::freezing_form(user, l.id, now)) }
        @if l.vial_count.is_some() { (lab::labels::labels_section(user, l.id, vial_list, history)) }
    }
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
        h1 { (t("lot-heading")) " " span class="code" { (l.code) } " " (pill(l.status)) }
        (flash.render())
        div class="grid" {
            section class="card" {
                table { tbody {
                    tr { th { (t("lot-product")) } td { (l.product_code) " · " (t_with("lot-passage", &[("passage", arg(l.passage))])) } }
                    tr { th { (t("lot-manufactured")) } td { (user.when(l.manufactured_at)) } }
                    tr { th { (t("col-expires")) } td { (user.date(l.expires_at)) } }
                    @if let Some(n) = l.vial_count { tr { th { (t("col-vials")) } td { (t_with("lot-vials-of", &[("count", arg(n)), ("cells", arg(crate::domain::units::millions(l.cells_per_vial.unwrap_or_default())))])) } } }
                    tr { th { (t("lot-by-status")) } td { @for (s, n) in &record.vial_counts { (pill(s)) " " (n) " " } } }
                } }
                div class="actions" {
                    @if l.vial_count.is_some() { a class="button secondary" href="#labels" { (t("lot-label-sheet")) } }
                    a class="button secondary" href={ "/api/v1/lots/" (l.id) "/label.png" } { (t("lot-box-label")) }
                    a class="button secondary" href={ "/api/v1/lots/" (l.id) "/label.pdf" } { (t("label-pdf-box")) }
                    a class="button secondary" href={ "/trace/lots/" (l.id) } { (t("scan-trace")) }
                    a class="button secondary" href={ "/lots/" (l.id) "/outcomes" } { (t("lot-outcomes")) }
                    @if l.status == LotStatus::Recalled { a class="button" href={ "/lots/" (l.id) "/recall-notice" } { (t("notice-print")) } }
                }
            }
            section class="card" {
                h2 { (t("lot-qc-heading")) }
                table {
                    thead { tr { th { (t("lot-col-test")) } th { (t("lot-col-latest")) } th { (t("lot-col-limit")) } th { (t("lot-col-standing")) } } }
                    tbody {
                        @for test in spec.iter().flat_map(|s| s.tests.iter()) {
                            @let r = latest(&test.test);
                            tr {
                                td { (test.test) }
                                td class="num" { @match r { Some(r) => { (r.value) " " (r.unit.clone().unwrap_or_default()) } None => span class="muted" { "—" } } }
                                td { (test.limit.to_string()) " " (test.unit.clone().unwrap_or_default()) }
                                td {
                                    @if record.standing.investigation_required.contains(&test.test) { span class="pill bad" { (t("lot-awaiting-investigation")) } }
                                    @else if record.standing.failed.contains(&test.test) { span class="pill bad" { (t("lot-fail")) } }
                                    @else if record.standing.missing.contains(&test.test) { span class="pill pending" { (t("lot-missing")) } }
                                    @else { span class="pill ok" { (t("lot-pass")) } }
                                }
                            }
                        }
                    }
                }
                @if !record.standing.investigation_required.is_empty() {
                    p class="msg bad" { (t_with("lot-failing-counts", &[("tests", arg(record.standing.investigation_required.join(&t("inventory-and"))))])) }
                }
            }
        }
        section class="card" {
            h2 { (t("lot-every-qc")) }
            table {
                thead { tr { th { (t("lot-col-recorded")) } th { (t("lot-col-test")) } th class="num" { (t("lot-col-value")) } th { (t("lot-col-limit")) } th { (t("lot-col-result")) } th { (t("lot-col-investigation")) } } }
                tbody { @for (i, r) in record.qc.iter().enumerate() {
                    // a later result of the same test: said as a fact, the
                    // standing above says which result counts
                    @let retest = record.qc[i + 1..].iter().find(|later| later.test == r.test);
                    tr {
                        td { (user.when(r.recorded_at)) }
                        td { (r.test) }
                        td class="num" { (r.value) " " (r.unit.clone().unwrap_or_default()) }
                        td { (r.specification) }
                        td {
                            @if r.pass { span class="pill ok" { (t("lot-pass")) } } @else { span class="pill bad" { (t("lot-fail")) } }
                            @if let Some(later) = retest { " " span class="muted small" { (t_with("lab-qc-retested", &[("when", arg(user.when(later.recorded_at)))])) } }
                        }
                        td {
                            @if let Some(conclusion) = &r.investigation {
                                (if conclusion == "confirmed" { t("lot-confirmed") } else { t("lot-invalid-test") })
                                (r.investigation_reason.clone().unwrap_or_default())
                                @if let Some(at) = r.investigated_at { span class="muted" { (t_with("lot-investigated-at", &[("when", arg(user.when(at)))])) } }
                            } @else if !r.pass && quality {
                                details {
                                    summary { (t("lot-investigate")) }
                                    form method="post" action={ "/lots/" (l.id) "/qc/" (r.id) "/investigation" } {
                                        input type="hidden" name="csrf" value=(user.csrf());
                                        label { (t("lot-conclusion")) select name="conclusion" {
                                            option value="invalid_test" { (t("lot-conclusion-invalid")) }
                                            option value="confirmed" { (t("lot-conclusion-confirmed")) }
                                        } }
                                        label { (t("lot-why")) input name="reason" required placeholder=(t("lot-why-placeholder")); }
                                        (page::signature_fields("QC investigation"))
                                        div class="actions" { button type="submit" { (t("lot-sign-investigation")) } }
                                    }
                                }
                            } @else if !r.pass {
                                span class="muted" { (t("lot-not-investigated")) }
                            }
                        }
                    }
                } }
            }
        }
        @if quality && l.status == LotStatus::Quarantine {
            section class="card" {
                h2 { (t("lot-release-or-reject")) }
                form method="post" action={ "/lots/" (l.id) "/release" } {
                    input type="hidden" name="csrf" value=(user.csrf());
                    (page::signature_fields("released for clinical use"))
                    div class="actions" { button type="submit" { (t("lot-release")) } }
                }
                details {
                    summary { (t("lot-reject-instead")) }
                    form method="post" action={ "/lots/" (l.id) "/reject" } {
                        input type="hidden" name="csrf" value=(user.csrf());
                        label for="reject-reason" { (t("scan-reason")) }
                        input id="reject-reason" name="reason" required;
                        (page::signature_fields("rejected"))
                        div class="actions" { button class="danger" type="submit" { (t("lot-reject")) } }
                    }
                }
            }
        }
        @if quality && l.status == LotStatus::Released {
            details class="card" {
                summary { (t("lot-recall-this")) }
                form method="post" action={ "/lots/" (l.id) "/recall" } {
                    input type="hidden" name="csrf" value=(user.csrf());
                    label for="recall-reason" { (t("scan-reason")) }
                    input id="recall-reason" name="reason" required;
                    (page::signature_fields("recalled"))
                    div class="actions" { button class="danger" type="submit" { (t("lot-recall")) } }
                }
            }
        }
        section class="card" {
            h2 { (t("vials-title")) }
            @if let Some(first) = vial_list.iter().find(|v| v.location.is_none() && matches!(v.vial.status, VialStatus::Quarantine | VialStatus::Available)) {
                @if user.user.role == Role::Lab {
                    div class="actions" { a class="button" href={ "/scan?q=" (page::url_encode(&first.vial.code)) } { (t("lab-store-these")) } }
                }
            }
            table {
                thead { tr { th { (t("col-vial")) } th { (t("col-status")) } th { (t("scan-location")) } th { (t("lot-col-labels")) } } }
                tbody { @for v in vial_list {
                    tr {
                        td { a class="code" href={ "/vials/" (v.vial.id) } { (v.vial.code) } }
                        td { (pill(v.vial.status)) }
                        td { @if let Some(loc) = &v.location { (loc.path()) } }
                        td { a href={ "/api/v1/vials/" (v.vial.id) "/label.png" } { "PNG" } " · " a href={ "/api/v1/vials/" (v.vial.id) "/label.pdf" } { "PDF" } " · " a href={ "/api/v1/vials/" (v.vial.id) "/label.zpl" } { "ZPL" } }
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
            .map(|_| t("lot-flash-released")),
        "reject" => lots::reject(&state, &signature, id, &form.reason)
            .await
            .map(|_| t("lot-flash-rejected")),
        "recall" => recall::recall(&state, &signature, id, &form.reason)
            .await
            .map(|r| recalled_words(&r)),
        _ => {
            return Ok(page::error_page(
                StatusCode::NOT_FOUND,
                &t("lot-no-such-action"),
                &t("lot-no-such-action-hint"),
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
    let running = if running.is_empty() {
        String::new()
    } else {
        t_with(
            "lot-recalled-running",
            &[("subjects", arg(running.join(", ")))],
        )
    };
    let whom = if r.recipients.is_empty() {
        t("lot-recalled-nobody")
    } else {
        r.recipients
            .iter()
            .map(|p| p.subject_code.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    t_with(
        "lot-recalled-flash",
        &[
            ("vials", arg(r.vials_recalled.len())),
            ("doses", arg(r.doses_cancelled.len())),
            ("thawed", arg(r.thawed_to_discard.len())),
            ("running", arg(running)),
            ("whom", arg(whom)),
        ],
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
        Conclusion::InvalidTest => t("lot-flash-invalid-test"),
        Conclusion::Confirmed => {
            let status = record.lot.status.as_str();
            t_with(
                "lot-flash-confirmed",
                &[(
                    "status",
                    arg(t_maybe(&format!("status-{status}"))
                        .unwrap_or_else(|| status.replace('_', " "))),
                )],
            )
        }
    };
    Ok(redirect_with(&back, true, message))
}
