//! `/shipments`: vials leaving one site for another, on pages. The list of
//! shipments at the user's sites with the forms to start one and to add a
//! shipper; a shipment's page with what its status and the person's site
//! allow: scanning vials (or a whole box) in, the signed seal, the
//! courier's pick-up and the arrival, scanning each vial into a box at
//! the receiving site (the next free position offered), and the signed
//! receipt with a reason asked, in words, for each vial that did not come
//! and each scan that was not on the packing list. The acts are the API's
//! (`services::shipments`).

use axum::extract::{Path, State};
use axum::response::{Html, Response};
use maud::{Markup, html};
use serde::Deserialize;
use uuid::Uuid;

use crate::domain::accounts::Role;
use crate::domain::shipment::{HandoverKind, ShipmentStatus};
use crate::domain::storage::{Position, StorageKind, next_free};
use crate::i18n::{arg, t, t_with};
use crate::services::lists::{self, SiteScope};
use crate::services::shipments::{self, ReasonFor, ReceiptScanOutcome, ShipmentRecord};
use crate::services::{history, sites, storage};
use crate::state::AppState;
use crate::web::error::{OrBack, PageError};
use crate::web::extract::{CsrfForm, PageUser, WebQuery, carries_csrf, roles};
use crate::web::history::history_view;
use crate::web::page::{self, Flash, pill, redirect_with};
use crate::web::user::WebUser;

pub fn routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/shipments", get(shipment_list).post(start))
        .route("/shipping-containers", post(add_container))
        .route("/shipments/{id}", get(shipment_page))
        .route("/shipments/{id}/pack", post(pack))
        .route("/shipments/{id}/unpack", post(unpack))
        .route("/shipments/{id}/seal", post(seal))
        .route("/shipments/{id}/cancel", post(cancel))
        .route("/shipments/{id}/handovers", post(hand_over))
        .route("/shipments/{id}/receipt", post(scan_in))
        .route("/shipments/{id}/receive", post(receive))
}

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    cursor: Option<String>,
    #[serde(default)]
    ok: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

pub async fn shipment_list(
    State(state): State<AppState>,
    user: PageUser<roles::Shippers>,
    WebQuery(query): WebQuery<ListQuery>,
) -> Result<Html<String>, PageError> {
    let scope = SiteScope::of_user(&state, user.user.user_id, None).await?;
    let cursor = query.cursor.as_deref().filter(|c| !c.is_empty());
    let page = crate::domain::paging::PageRequest::parse(None, None, cursor)
        .map_err(crate::error::AppError::from)?;
    let found = lists::shipments(&state, &scope, None, &page).await?;
    let all_sites = sites::list(&state).await?;
    let name_of = |id: Uuid| {
        all_sites
            .iter()
            .find(|s| s.id == id)
            .map(|s| s.name.clone())
            .unwrap_or_default()
    };
    let mine = match &scope {
        SiteScope::Only(ids) => ids.clone(),
        SiteScope::Everywhere => all_sites.iter().map(|s| s.id).collect(),
    };
    let containers = shipments::containers(&state, Some(&mine)).await?;
    let lab = user.user.role == Role::Lab;
    let flash = Flash {
        ok: query.ok.clone(),
        error: query.error.clone(),
    };
    let body = html! {
        h1 { (t("ship-title")) }
        (flash.render())
        @if lab {
            div class="grid" {
                section class="card" {
                    h2 { (t("ship-new")) }
                    @if containers.is_empty() {
                        p class="muted" { (t("ship-no-shipper")) }
                    } @else {
                        form method="post" action="/shipments" {
                            input type="hidden" name="csrf" value=(user.csrf());
                            @if mine.len() > 1 {
                                label for="from" { (t("ship-from")) }
                                select id="from" name="from_site_id" required {
                                    @for s in all_sites.iter().filter(|s| mine.contains(&s.id)) { option value=(s.id) { (s.name) " (" (s.facility_code) ")" } }
                                }
                            }
                            label for="to" { (t("ship-to")) }
                            select id="to" name="to_site_id" required {
                                option value="" { (t("ship-choose-site")) }
                                @for s in &all_sites { option value=(s.id) { (s.name) " (" (s.facility_code) ")" } }
                            }
                            label for="container" { (t("ship-shipper")) }
                            select id="container" name="container_id" required {
                                @for c in &containers { option value=(c.id) { (c.code) " · " (name_of(c.site_id)) } }
                            }
                            div class="actions" { button type="submit" { (t("ship-start")) } }
                        }
                    }
                }
                section class="card" {
                    h2 { (t("ship-add-shipper")) }
                    form method="post" action="/shipping-containers" {
                        input type="hidden" name="csrf" value=(user.csrf());
                        label for="code" { (t("ship-shipper-code")) }
                        input id="code" name="code" required maxlength="32" placeholder="DS-07" autocomplete="off";
                        @if mine.len() > 1 {
                            label for="site" { (t("ship-shipper-site")) }
                            select id="site" name="site_id" required {
                                @for s in all_sites.iter().filter(|s| mine.contains(&s.id)) { option value=(s.id) { (s.name) } }
                            }
                        }
                        div class="actions" { button type="submit" class="secondary" { (t("ship-add-shipper-button")) } }
                    }
                }
            }
        }
        div class="scroll" { table {
            thead { tr { th { (t("ship-col-code")) } th { (t("col-status")) } th { (t("ship-from")) } th { (t("ship-to")) } th { (t("ship-col-created")) } } }
            tbody {
                @for s in &found.items {
                    tr {
                        td { a class="code" href={ "/shipments/" (s.id) } { (s.code) } }
                        td { (pill(s.status)) }
                        td { (name_of(s.from_site_id)) }
                        td { (name_of(s.to_site_id)) }
                        td class="nowrap" { (user.when(s.created_at)) }
                    }
                }
            }
        } }
        @if found.items.is_empty() { p class="muted" { (t("ship-none")) } }
        @if let Some(next) = &found.next_cursor {
            div class="actions" { a class="button secondary" href={ "/shipments?cursor=" (page::url_encode(next)) } { (t("next-page")) } }
        }
    };
    Ok(page::show(&t("ship-title"), &user, body))
}

#[derive(Debug, Deserialize)]
pub struct StartForm {
    csrf: String,
    #[serde(default)]
    from_site_id: Option<String>,
    to_site_id: String,
    container_id: String,
}

#[derive(Debug, Deserialize)]
pub struct ContainerForm {
    csrf: String,
    code: String,
    #[serde(default)]
    site_id: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct ScanForm {
    csrf: String,
    scanned: String,
}

#[derive(Debug, Deserialize)]
pub struct SealForm {
    csrf: String,
    password: String,
    meaning: String,
}

#[derive(Debug, Deserialize)]
pub struct ReasonForm {
    csrf: String,
    reason: String,
}

#[derive(Debug, Deserialize)]
pub struct HandoverForm {
    csrf: String,
    kind: String,
    party: String,
}

#[derive(Debug, Deserialize)]
pub struct ReceiptForm {
    csrf: String,
    scanned: String,
    box_id: String,
    position: String,
}

carries_csrf!(
    StartForm,
    ContainerForm,
    ScanForm,
    SealForm,
    ReasonForm,
    HandoverForm,
    ReceiptForm
);

/// A chosen id from a form, or the form sent back saying what to choose.
fn chosen(raw: &str, back: &str, what: &str) -> Result<Uuid, PageError> {
    raw.trim()
        .parse()
        .map_err(|_| PageError::back(back, t_with("ship-choose", &[("what", arg(what))])))
}

pub async fn start(
    State(state): State<AppState>,
    user: PageUser<roles::Lab>,
    CsrfForm(form): CsrfForm<StartForm>,
) -> Result<Response, PageError> {
    let back = "/shipments";
    let to = chosen(&form.to_site_id, back, &t("ship-to"))?;
    let container = chosen(&form.container_id, back, &t("ship-shipper"))?;
    let from = match form.from_site_id.as_deref().filter(|s| !s.is_empty()) {
        Some(raw) => Some(chosen(raw, back, &t("ship-from"))?),
        None => None,
    };
    let record = shipments::create(&state, &user.user.actor(), from, to, container)
        .await
        .or_back(back, user.zone)?;
    Ok(redirect_with(
        &format!("/shipments/{}", record.shipment.id),
        true,
        t_with(
            "ship-flash-started",
            &[("code", arg(&record.shipment.code))],
        ),
    ))
}

pub async fn add_container(
    State(state): State<AppState>,
    user: PageUser<roles::Lab>,
    CsrfForm(form): CsrfForm<ContainerForm>,
) -> Result<Response, PageError> {
    let back = "/shipments";
    let site = match form.site_id.as_deref().filter(|s| !s.is_empty()) {
        Some(raw) => Some(chosen(raw, back, &t("ship-shipper-site"))?),
        None => None,
    };
    let container = shipments::add_container(&state, &user.user.actor(), &form.code, site)
        .await
        .or_back(back, user.zone)?;
    Ok(redirect_with(
        back,
        true,
        t_with("ship-flash-shipper", &[("code", arg(&container.code))]),
    ))
}

#[derive(Debug, Default, Deserialize)]
pub struct ShipmentQuery {
    #[serde(default)]
    ok: Option<String>,
    #[serde(default)]
    error: Option<String>,
    /// The box the receipt scans go into (kept from scan to scan).
    #[serde(rename = "box", default)]
    into_box: Option<Uuid>,
}

/// Where the person works, against the shipment's two ends.
struct Ends {
    sending: bool,
    receiving: bool,
}

async fn ends(
    state: &AppState,
    user: &WebUser,
    record: &ShipmentRecord,
) -> Result<Ends, PageError> {
    let mine = sites::of_user(state, user.user.user_id).await?;
    let ends = Ends {
        sending: mine.contains(&record.shipment.from_site_id),
        receiving: mine.contains(&record.shipment.to_site_id),
    };
    if !ends.sending && !ends.receiving {
        return Err(crate::error::AppError::NotYourSite {
            site: record.from_site.name.clone(),
        }
        .into());
    }
    Ok(ends)
}

pub async fn shipment_page(
    State(state): State<AppState>,
    user: PageUser<roles::Shippers>,
    Path(id): Path<Uuid>,
    WebQuery(query): WebQuery<ShipmentQuery>,
) -> Result<Html<String>, PageError> {
    let record = shipments::get(&state, id).await?;
    let ends = ends(&state, &user, &record).await?;
    let history = history::of(&state, "shipment", id).await?;
    let s = &record.shipment;
    let lab = user.user.role == Role::Lab;
    // the receiving site's boxes, and the next free position of the one chosen
    let mut boxes = Vec::new();
    let mut next = None;
    if s.status == ShipmentStatus::Arrived && ends.receiving {
        boxes = storage::list_at(&state, &SiteScope::Only(vec![s.to_site_id]))
            .await?
            .into_iter()
            .filter(|u| u.kind == StorageKind::Box)
            .collect();
        let chosen = query
            .into_box
            .filter(|b| boxes.iter().any(|u| u.id == *b))
            .or_else(|| boxes.first().map(|u| u.id));
        if let Some(box_id) = chosen {
            let contents = storage::contents(&state, box_id).await?;
            let (rows, cols) = (
                contents.unit.rows.unwrap_or(0),
                contents.unit.cols.unwrap_or(0),
            );
            let taken: Vec<&str> = contents
                .vials
                .iter()
                .filter_map(|v| v.position.as_deref())
                .collect();
            next = Some((
                box_id,
                next_free(rows, cols, |p: &Position| {
                    taken.contains(&p.to_string().as_str())
                })
                .map(|p| p.to_string()),
            ));
        }
    }
    let flash = Flash {
        ok: query.ok.clone(),
        error: query.error.clone(),
    };
    let in_shipper = crate::domain::shipment::in_transit_location(&record.container.code, &s.code);
    let missing: Vec<&shipments::Item> = record
        .items
        .iter()
        .filter(|i| i.line.as_ref().is_some_and(|l| l.received_at.is_none()))
        .collect();
    let received = record
        .items
        .iter()
        .filter(|i| i.line.as_ref().is_some_and(|l| l.received_at.is_some()))
        .count();
    let mut places = Vec::with_capacity(record.items.len());
    for item in &record.items {
        places.push(match (item.vial.box_id, &item.vial.position) {
            (Some(b), Some(p)) => crate::domain::storage::location_path(
                [storage::unit(&state, b).await?.path.as_str()],
                Some(p),
            ),
            _ if item.vial.shipment_id == Some(s.id) => in_shipper.clone(),
            _ => t("not-in-storage"),
        });
    }
    let when =
        |at: Option<chrono::DateTime<chrono::Utc>>| at.map(|at| user.when(at)).unwrap_or_default();
    let body = html! {
        h1 { (t("ship-heading")) " " span class="code" { (s.code) } " " (pill(s.status)) }
        (flash.render())
        div class="grid" {
            section class="card" {
                table { tbody {
                    tr { th { (t("ship-from")) } td { (record.from_site.name) " (" (record.from_site.facility_code) ")" } }
                    tr { th { (t("ship-to")) } td { (record.to_site.name) " (" (record.to_site.facility_code) ")" } }
                    tr { th { (t("ship-shipper")) } td class="code" { (record.container.code) } }
                    tr { th { (t("ship-col-created")) } td { (user.when(s.created_at)) } }
                    @if s.sealed_at.is_some() { tr { th { (t("ship-sealed-at")) } td { (when(s.sealed_at)) } } }
                    @if s.picked_up_at.is_some() { tr { th { (t("ship-picked-up-at")) } td { (when(s.picked_up_at)) } } }
                    @if s.arrived_at.is_some() { tr { th { (t("ship-arrived-at")) } td { (when(s.arrived_at)) } } }
                    @if s.received_at.is_some() { tr { th { (t("ship-received-at")) } td { (when(s.received_at)) } } }
                    tr { th { (t("ship-vials")) } td class="num" { (record.items.len()) } }
                    @if s.sealed_at.is_some() { tr { th { (t("ship-received-count")) } td class="num" { (received) " / " (record.items.len()) } } }
                } }
                div class="actions" {
                    a class="button secondary" href={ "/api/v1/shipments/" (s.id) "/packing-list.pdf" } { (t("ship-packing-list")) }
                    a class="button secondary" href="/shipments" { (t("ship-title")) }
                }
            }
            @if s.status == ShipmentStatus::Packing && ends.sending && lab {
                section class="card" {
                    h2 { (t("ship-pack-heading")) }
                    form method="post" action={ "/shipments/" (s.id) "/pack" } {
                        input type="hidden" name="csrf" value=(user.csrf());
                        label for="pack-scan" { (t("ship-pack-label")) }
                        input id="pack-scan" name="scanned" required autofocus autocomplete="off" inputmode="text";
                        p class="muted" { (t("ship-pack-hint")) }
                        div class="actions" { button type="submit" { (t("ship-pack")) } }
                    }
                    form method="post" action={ "/shipments/" (s.id) "/seal" } {
                        input type="hidden" name="csrf" value=(user.csrf());
                        p { (t_with("ship-seal-words", &[("count", arg(record.items.len())), ("to", arg(&record.to_site.name)), ("shipper", arg(&record.container.code))])) }
                        (page::signature_fields("sealed for shipping"))
                        div class="actions" { button type="submit" { (t("ship-seal")) } }
                    }
                    details {
                        summary { (t("ship-cancel-instead")) }
                        form method="post" action={ "/shipments/" (s.id) "/cancel" } {
                            input type="hidden" name="csrf" value=(user.csrf());
                            label for="cancel-reason" { (t("scan-reason")) }
                            input id="cancel-reason" name="reason" required;
                            div class="actions" { button class="danger" type="submit" { (t("ship-cancel")) } }
                        }
                    }
                }
            }
            @if s.status == ShipmentStatus::Sealed && ends.sending {
                (handover_form(&user, s.id, HandoverKind::PickUp, "ship-pick-up-heading", "ship-pick-up"))
            }
            @if s.status == ShipmentStatus::InTransit {
                @if ends.receiving { (handover_form(&user, s.id, HandoverKind::Arrival, "ship-arrival-heading", "ship-arrival")) }
                (handover_form(&user, s.id, HandoverKind::Transfer, "ship-transfer-heading", "ship-transfer"))
            }
            @if s.status == ShipmentStatus::Arrived && ends.receiving {
                section class="card" {
                    h2 { (t("ship-receipt-heading")) }
                    @if boxes.is_empty() {
                        p class="msg bad" { (t("ship-no-box")) }
                    } @else {
                        form method="post" action={ "/shipments/" (s.id) "/receipt" } {
                            input type="hidden" name="csrf" value=(user.csrf());
                            label for="receipt-scan" { (t("ship-receipt-label")) }
                            input id="receipt-scan" name="scanned" required autofocus autocomplete="off";
                            label for="receipt-box" { (t("ship-receipt-box")) }
                            select id="receipt-box" name="box_id" {
                                @for b in &boxes {
                                    option value=(b.id) selected[next.as_ref().is_some_and(|(id, _)| *id == b.id)] { (b.path) }
                                }
                            }
                            label for="receipt-position" { (t("ship-receipt-position")) }
                            input id="receipt-position" name="position" required size="4" value=(next.as_ref().and_then(|(_, p)| p.clone()).unwrap_or_default());
                            div class="actions" { button type="submit" { (t("ship-receipt-scan")) } }
                        }
                    }
                    form method="post" action={ "/shipments/" (s.id) "/receive" } {
                        input type="hidden" name="csrf" value=(user.csrf());
                        @if missing.is_empty() && record.discrepancies.is_empty() {
                            p { (t("ship-receive-complete")) }
                        }
                        @for item in &missing {
                            label for={ "vial-" (item.vial.id) } { (t_with("ship-reason-missing", &[("code", arg(&item.vial.code))])) }
                            input id={ "vial-" (item.vial.id) } name={ "vial:" (item.vial.id) } required;
                        }
                        @for d in &record.discrepancies {
                            label for={ "discrepancy-" (d.id) } { (t_with(if d.kind == crate::domain::shipment::DiscrepancyKind::Unexpected { "ship-reason-unexpected" } else { "ship-reason-extra" }, &[("scanned", arg(&d.scanned))])) }
                            input id={ "discrepancy-" (d.id) } name={ "discrepancy:" (d.id) } required;
                        }
                        (page::signature_fields("received"))
                        div class="actions" { button type="submit" { (t("ship-receive")) } }
                    }
                }
            }
        }
        section class="card" {
            h2 { (t("ship-vials")) }
            table {
                thead { tr { th { (t("col-vial")) } th { (t("col-status")) } th { (t("scan-location")) } @if s.sealed_at.is_some() { th { (t("ship-col-receipt")) } } @if s.status == ShipmentStatus::Packing && ends.sending && lab { th {} } } }
                tbody { @for (item, place) in record.items.iter().zip(&places) {
                    tr {
                        td { a class="code" href={ "/vials/" (item.vial.id) } { (item.vial.code) } }
                        td { (pill(item.vial.status)) }
                        td { (place) }
                        @if let Some(line) = &item.line {
                            td { @if line.received_at.is_some() { (t("ship-line-received")) }
                                 @else if let Some(reason) = &line.missing_reason { (t_with("ship-line-missing", &[("reason", arg(reason))])) }
                                 @else { span class="muted" { (t("ship-line-waiting")) } } }
                        }
                        @if s.status == ShipmentStatus::Packing && ends.sending && lab {
                            td { form method="post" action={ "/shipments/" (s.id) "/unpack" } {
                                input type="hidden" name="csrf" value=(user.csrf());
                                input type="hidden" name="scanned" value=(item.vial.code);
                                button type="submit" class="secondary" { (t("ship-take-out")) }
                            } }
                        }
                    }
                } }
            }
            @if record.items.is_empty() { p class="muted" { (t("ship-empty")) } }
        }
        @if !record.discrepancies.is_empty() {
            section class="card" {
                h2 { (t("ship-discrepancies")) }
                table {
                    thead { tr { th { (t("ship-col-scanned")) } th { (t("ship-col-kind")) } th { (t("scan-reason")) } } }
                    tbody { @for d in &record.discrepancies {
                        tr { td class="code" { (d.scanned) } td { (t(if d.kind == crate::domain::shipment::DiscrepancyKind::Unexpected { "ship-kind-unexpected" } else { "ship-kind-extra" })) } td { (d.reason.clone().unwrap_or_default()) } }
                    } }
                }
            }
        }
        @if !record.handovers.is_empty() {
            section class="card" {
                h2 { (t("ship-handovers")) }
                table { tbody { @for h in &record.handovers {
                    tr { td { (t(&format!("ship-handover-{}", h.kind.as_str().replace('_', "-")))) } td { (h.party) } td class="nowrap" { (user.when(h.at)) } }
                } } }
            }
        }
        (history_view(&history, &user))
    };
    Ok(page::show(
        &t_with("ship-page-title", &[("code", arg(&s.code))]),
        &user,
        body,
    ))
}

fn handover_form(
    user: &WebUser,
    id: Uuid,
    kind: HandoverKind,
    heading: &str,
    button: &str,
) -> Markup {
    html! {
        section class="card" {
            h2 { (t(heading)) }
            form method="post" action={ "/shipments/" (id) "/handovers" } {
                input type="hidden" name="csrf" value=(user.csrf());
                input type="hidden" name="kind" value=(kind.as_str());
                label for={ "party-" (kind.as_str()) } { (t("ship-party")) }
                input id={ "party-" (kind.as_str()) } name="party" required maxlength="200" autocomplete="off";
                div class="actions" { button type="submit" { (t(button)) } }
            }
        }
    }
}

fn back_to(id: Uuid) -> String {
    format!("/shipments/{id}")
}

pub async fn pack(
    State(state): State<AppState>,
    user: PageUser<roles::Lab>,
    Path(id): Path<Uuid>,
    CsrfForm(form): CsrfForm<ScanForm>,
) -> Result<Response, PageError> {
    let back = back_to(id);
    let packed = shipments::pack(&state, &user.user.actor(), id, &form.scanned)
        .await
        .or_back(&back, user.zone)?;
    let message = if packed.packed.is_empty() {
        t_with(
            "ship-flash-already",
            &[("codes", arg(packed.already.join(", ")))],
        )
    } else {
        t_with(
            "ship-flash-packed",
            &[
                ("count", arg(packed.packed.len())),
                ("codes", arg(packed.packed.join(", "))),
            ],
        )
    };
    Ok(redirect_with(&back, true, message))
}

pub async fn unpack(
    State(state): State<AppState>,
    user: PageUser<roles::Lab>,
    Path(id): Path<Uuid>,
    CsrfForm(form): CsrfForm<ScanForm>,
) -> Result<Response, PageError> {
    let back = back_to(id);
    shipments::unpack(&state, &user.user.actor(), id, &form.scanned)
        .await
        .or_back(&back, user.zone)?;
    Ok(redirect_with(
        &back,
        true,
        t_with(
            "ship-flash-taken-out",
            &[("code", arg(form.scanned.trim()))],
        ),
    ))
}

pub async fn seal(
    State(state): State<AppState>,
    user: PageUser<roles::Lab>,
    Path(id): Path<Uuid>,
    CsrfForm(form): CsrfForm<SealForm>,
) -> Result<Response, PageError> {
    let back = back_to(id);
    let signature = user
        .sign(&state, form.password, form.meaning, &back)
        .await?;
    shipments::seal(&state, &signature, id)
        .await
        .or_back(&back, user.zone)?;
    Ok(redirect_with(&back, true, t("ship-flash-sealed")))
}

pub async fn cancel(
    State(state): State<AppState>,
    user: PageUser<roles::Lab>,
    Path(id): Path<Uuid>,
    CsrfForm(form): CsrfForm<ReasonForm>,
) -> Result<Response, PageError> {
    let back = back_to(id);
    shipments::cancel(&state, &user.user.actor(), id, &form.reason)
        .await
        .or_back(&back, user.zone)?;
    Ok(redirect_with(&back, true, t("ship-flash-cancelled")))
}

pub async fn hand_over(
    State(state): State<AppState>,
    user: PageUser<roles::Shippers>,
    Path(id): Path<Uuid>,
    CsrfForm(form): CsrfForm<HandoverForm>,
) -> Result<Response, PageError> {
    let back = back_to(id);
    let kind: HandoverKind = form
        .kind
        .parse()
        .map_err(|_| PageError::back(&back, t("ship-bad-handover")))?;
    shipments::hand_over(&state, &user.user.actor(), id, kind, &form.party)
        .await
        .or_back(&back, user.zone)?;
    Ok(redirect_with(
        &back,
        true,
        t(&format!("ship-flash-{}", kind.as_str().replace('_', "-"))),
    ))
}

pub async fn scan_in(
    State(state): State<AppState>,
    user: PageUser<roles::Shippers>,
    Path(id): Path<Uuid>,
    CsrfForm(form): CsrfForm<ReceiptForm>,
) -> Result<Response, PageError> {
    let back = back_to(id);
    let box_id = chosen(&form.box_id, &back, &t("ship-receipt-box"))?;
    let here = format!("{back}?box={box_id}");
    let scanned = shipments::scan_in(
        &state,
        &user.user.actor(),
        id,
        &form.scanned,
        box_id,
        &form.position,
    )
    .await
    .or_back(&here, user.zone)?;
    let code = scanned
        .vial_code
        .clone()
        .unwrap_or_else(|| form.scanned.trim().to_owned());
    let place = scanned.place.clone().unwrap_or_default();
    let (ok, message) = match scanned.outcome {
        ReceiptScanOutcome::Received => (
            true,
            t_with(
                "ship-flash-received",
                &[("code", arg(&code)), ("place", arg(&place))],
            ),
        ),
        ReceiptScanOutcome::AlreadyReceived => (
            true,
            t_with(
                "ship-flash-already-received",
                &[("code", arg(&code)), ("place", arg(&place))],
            ),
        ),
        ReceiptScanOutcome::Unexpected => (
            false,
            t_with(
                "ship-flash-unexpected",
                &[("code", arg(&code)), ("place", arg(&place))],
            ),
        ),
        ReceiptScanOutcome::Extra => (
            false,
            t_with("ship-flash-extra", &[("scanned", arg(&code))]),
        ),
    };
    Ok(redirect_with(&here, ok, message))
}

pub async fn receive(
    State(state): State<AppState>,
    user: PageUser<roles::Shippers>,
    Path(id): Path<Uuid>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let back = back_to(id);
    let mut reasons = Vec::new();
    let (mut password, mut meaning) = (String::new(), String::new());
    for (name, value) in form {
        if let Some(vial) = name.strip_prefix("vial:") {
            reasons.push((ReasonFor::Vial(chosen(vial, &back, "vial")?), value));
        } else if let Some(d) = name.strip_prefix("discrepancy:") {
            reasons.push((ReasonFor::Discrepancy(chosen(d, &back, "scan")?), value));
        } else if name == "password" {
            password = value;
        } else if name == "meaning" {
            meaning = value;
        }
    }
    let signature = user.sign(&state, password, meaning, &back).await?;
    shipments::close(&state, &signature, id, reasons)
        .await
        .or_back(&back, user.zone)?;
    Ok(redirect_with(&back, true, t("ship-flash-receipt-signed")))
}
