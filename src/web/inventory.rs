//! Vial, lot and storage pages: a vial's place and history; a lot's QC
//! against the specification with release and rejection under signature,
//! its vials and labels; storage as tanks, racks and boxes drawn as grids.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use maud::html;
use serde::Deserialize;
use uuid::Uuid;

use crate::domain::accounts::Role;
use crate::domain::storage::StorageKind;
use crate::services::{ledger, lots, storage, vials};
use crate::state::AppState;
use crate::web::page::{self, Flash, WebForm, WebQuery, pill, redirect_with, shell};
use crate::web::session::WebUser;

pub async fn vial_page(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<Uuid>,
    flash: WebQuery<Flash>,
) -> Response {
    let WebQuery(flash) = flash;
    let record = match vials::get(&state, id).await {
        Ok(r) => r,
        Err(error) => return page::app_error(error),
    };
    let history = ledger::events_of(&state.db, "vial", id)
        .await
        .unwrap_or_default();
    let v = &record.vial;
    let body = html! {
        h1 { "Vial " span class="code" { (v.code) } " " (pill(&v.status)) }
        (flash.render())
        div class="grid" {
            section class="card" {
                table { tbody {
                    tr { th { "Location" } td { @match &record.location { Some(l) => (l.path()), None => span class="muted" { "not in storage" } } } }
                    tr { th { "Lot" } td { a class="code" href={ "/lots/" (v.lot_id) } { (v.code.rsplit_once('-').map(|p| p.0).unwrap_or("")) } } }
                    tr { th { "Cells" } td class="num" { (crate::labels::millions(v.cells_per_vial)) } }
                    tr { th { "Volume" } td class="num" { (crate::labels::millilitres(v.volume_ul)) } }
                    tr { th { "Frozen" } td { (user.when(v.frozen_at)) } }
                    tr { th { "Labels issued" } td class="num" { (v.labels_issued) } }
                } }
                div class="actions" {
                    a class="button" href={ "/scan?q=" (page::url_encode(&v.code)) } { "Act on it" }
                    a class="button secondary" href={ "/api/v1/vials/" (v.id) "/label.png" } { "Label PNG" }
                    a class="button secondary" href={ "/api/v1/vials/" (v.id) "/label.zpl" } { "Label ZPL" }
                    a class="button secondary" href={ "/trace/lots/" (v.lot_id) } { "Trace" }
                }
            }
            section class="card" id="history" {
                h2 { "History" }
                (events_table(&history, &user))
            }
        }
    };
    shell(&format!("Vial {}", v.code), Some(&user), body).into_response()
}

pub fn events_table(
    events: &[crate::entities::custody_event::Model],
    user: &WebUser,
) -> maud::Markup {
    html! {
        table {
            thead { tr { th { "#" } th { "When" } th { "What" } th { "Who" } th { "Where" } } }
            tbody { @for e in events.iter().rev() {
                tr {
                    td class="num" { (e.seq) }
                    td { (user.when(e.occurred_at)) }
                    td class="code" { (e.action) }
                    td { (e.actor_username) }
                    td { @if let Some(to) = &e.to_location { "→ " (to) } @else if let Some(from) = &e.from_location { (from) " →" } }
                }
            } }
        }
    }
}

pub async fn lot_page(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<Uuid>,
    flash: WebQuery<Flash>,
) -> Response {
    let WebQuery(flash) = flash;
    let record = match lots::get(&state, id).await {
        Ok(r) => r,
        Err(error) => return page::app_error(error),
    };
    let spec = crate::services::protocol::specification(state.db.conn())
        .await
        .ok();
    let vial_list = vials::list(&state, Some(id), None, 1000)
        .await
        .unwrap_or_default();
    let l = &record.lot;
    let quality = user.user.role == Role::Quality;
    let latest = |test: &str| record.qc.iter().rev().find(|r| r.test == test);
    let body = html! {
        h1 { "Lot " span class="code" { (l.code) } " " (pill(&l.status)) }
        (flash.render())
        div class="grid" {
            section class="card" {
                table { tbody {
                    tr { th { "Product" } td { (l.product_code) " · passage " (l.passage) } }
                    tr { th { "Manufactured" } td { (user.when(l.manufactured_at)) } }
                    tr { th { "Expires" } td { (user.date(l.expires_at)) } }
                    @if let Some(n) = l.vial_count { tr { th { "Vials" } td { (n) " × " (crate::labels::millions(l.cells_per_vial.unwrap_or_default())) " cells" } } }
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
        @if quality && l.status == "quarantine" {
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
        @if quality && l.status == "released" {
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
                tbody { @for v in &vial_list {
                    tr {
                        td { a class="code" href={ "/vials/" (v.vial.id) } { (v.vial.code) } }
                        td { (pill(&v.vial.status)) }
                        td { @if let Some(loc) = &v.location { (loc.path()) } }
                        td { a href={ "/api/v1/vials/" (v.vial.id) "/label.png" } { "PNG" } " · " a href={ "/api/v1/vials/" (v.vial.id) "/label.zpl" } { "ZPL" } }
                    }
                } }
            }
        }
    };
    shell(&format!("Lot {}", l.code), Some(&user), body).into_response()
}

#[derive(Debug, Deserialize)]
pub struct SignedForm {
    pub csrf: String,
    #[serde(default)]
    pub reason: String,
    pub password: String,
    pub meaning: String,
}

/// Release, reject and recall, signed by a quality officer.
pub async fn lot_decision(
    State(state): State<AppState>,
    user: WebUser,
    Path((id, action)): Path<(Uuid, String)>,
    WebForm(form): WebForm<SignedForm>,
) -> Response {
    if let Err(refused) = user.allow(&form.csrf, &[Role::Quality]) {
        return refused.into_response();
    }
    let back = format!("/lots/{id}");
    let signature = match user.sign(&state, form.password, form.meaning).await {
        Ok(s) => s,
        Err(error) => return page::refused(&back, &error, user.zone),
    };
    let outcome = match action.as_str() {
        "release" => lots::release(&state, &signature, id)
            .await
            .map(|_| "Lot released.".to_owned()),
        "reject" => lots::reject(&state, &signature, id, &form.reason)
            .await
            .map(|_| "Lot rejected.".to_owned()),
        "recall" => crate::services::recall::recall(&state, &signature, id, &form.reason)
            .await
            .map(|r| {
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
            }),
        _ => {
            return page::error_page(
                axum::http::StatusCode::NOT_FOUND,
                "No such action",
                "Release, reject or recall.",
            );
        }
    };
    match outcome {
        Ok(message) => redirect_with(&back, true, &message),
        Err(error) => page::refused(&back, &error, user.zone),
    }
}

#[derive(Debug, Deserialize)]
pub struct InvestigationForm {
    pub csrf: String,
    pub conclusion: crate::domain::qc::Conclusion,
    pub reason: String,
    pub password: String,
    pub meaning: String,
}

/// Quality's signed investigation of a failing QC result.
pub async fn qc_investigation(
    State(state): State<AppState>,
    user: WebUser,
    Path((id, result_id)): Path<(Uuid, Uuid)>,
    WebForm(form): WebForm<InvestigationForm>,
) -> Response {
    if let Err(refused) = user.allow(&form.csrf, &[Role::Quality]) {
        return refused.into_response();
    }
    let back = format!("/lots/{id}");
    let outcome = match user.sign(&state, form.password, form.meaning).await {
        Ok(signature) => {
            lots::investigate_qc(
                &state,
                &signature,
                id,
                result_id,
                form.conclusion,
                &form.reason,
            )
            .await
        }
        Err(error) => Err(error),
    };
    match outcome {
        Ok(record) => redirect_with(
            &back,
            true,
            match form.conclusion {
                crate::domain::qc::Conclusion::InvalidTest => {
                    "Investigation signed: the result is an invalid test, and a retest counts."
                        .to_owned()
                }
                crate::domain::qc::Conclusion::Confirmed => format!(
                    "Investigation signed: the failure is confirmed; the lot is {}.",
                    record.lot.status.replace('_', " ")
                ),
            },
        ),
        Err(error) => page::refused(&back, &error, user.zone),
    }
}

pub async fn storage_root(State(state): State<AppState>, user: WebUser) -> Response {
    let units = match storage::list(&state).await {
        Ok(u) => u,
        Err(error) => return page::app_error(error),
    };
    let body = html! {
        h1 { "Storage" }
        @if units.is_empty() { p class="muted" { "No storage units yet." } }
        table {
            thead { tr { th { "Unit" } th { "Kind" } } }
            tbody { @for u in &units {
                tr { td { a href={ "/storage/" (u.id) } { (u.path) } } td { (u.kind.as_str()) } }
            } }
        }
    };
    shell("Storage", Some(&user), body).into_response()
}

pub async fn storage_page(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<Uuid>,
) -> Response {
    let contents = match storage::contents(&state, id).await {
        Ok(c) => c,
        Err(error) => return page::app_error(error),
    };
    let unit = &contents.unit;
    let body = html! {
        h1 { (unit.path) }
        @if unit.kind == StorageKind::Box {
            @let (rows, cols) = (unit.rows.unwrap_or(1), unit.cols.unwrap_or(1));
            p { (contents.vials.len()) " of " (u32::from(rows) * u32::from(cols)) " positions occupied." }
            div class="boxgrid" style={ "grid-template-columns:repeat(" (cols) ",1fr)" } role="grid" aria-label="box positions" {
                @for r in 0..rows {
                    @for c in 1..=cols {
                        @let pos = format!("{}{}", char::from(b'A' + r), c);
                        @match contents.vials.iter().find(|v| v.position.as_deref() == Some(pos.as_str())) {
                            Some(v) => a class="full" href={ "/vials/" (v.id) } title={ (pos) " " (v.code) " " (v.status) } { (pos) },
                            None => span title={ (pos) " empty" } { (pos) },
                        }
                    }
                }
            }
        } @else {
            ul { @for child in &contents.children { li { a href={ "/storage/" (child.id) } { (child.name) } " (" (child.kind.as_str()) ")" } } }
        }
    };
    shell(&unit.path, Some(&user), body).into_response()
}
