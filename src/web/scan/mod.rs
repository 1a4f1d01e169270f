//! `/scan`: the scan station. The box has the focus; a keyboard-wedge
//! scanner types the payload and Enter; the page shows what it is and the
//! actions the role allows as large buttons; after an action the box has
//! the focus again. Typed codes (a damaged label's vial code, or a DIN with
//! its check character) work the same way; where the browser has a camera
//! and the BarcodeDetector API, a camera button scans too.
//!
//! A vial the lab may store waits for its box: the next scan of a box's
//! label brings up the box's grid to put it in (`placing`).

mod placing;

use axum::extract::{Path, State};
use axum::response::{Html, Response};
use maud::{Markup, html};
use serde::Deserialize;
use uuid::Uuid;

use crate::domain::accounts::Role;
use crate::domain::storage::StorageKind;
use crate::error::AppResult;
use crate::i18n::{arg, t, t_maybe, t_with};
use crate::services::scan::{self, Resolved};
use crate::services::{storage, vials};
use crate::state::AppState;
use crate::web::error::{OrBack, PageError};
use crate::web::extract::{CsrfForm, PageUser, WebQuery, carries_csrf, roles};
use crate::web::page::{self, Flash, pill, redirect_with};
use crate::web::session::safe_next;
use crate::web::user::WebUser;

#[derive(Debug, Default, Deserialize)]
pub struct ScanQuery {
    #[serde(default)]
    pub q: String,
    /// The vial waiting for a box to be scanned, by id.
    #[serde(default)]
    pub vial: String,
    #[serde(flatten)]
    pub flash: Flash,
}

pub const CAMERA: &str = r#"
(function(){
  var box=document.getElementById('q');
  var place=document.querySelector('#placing [autofocus]');
  if(place){place.focus()}else{box.focus();box.select()}
  if(!('BarcodeDetector' in window)||!navigator.mediaDevices)return;
  var b=document.getElementById('camera');b.hidden=false;
  b.addEventListener('click',async function(){
    var v=document.getElementById('video');v.hidden=false;
    var s=await navigator.mediaDevices.getUserMedia({video:{facingMode:'environment'}});
    v.srcObject=s;await v.play();
    var d=new BarcodeDetector({formats:['qr_code']});
    var t=setInterval(async function(){
      var c=await d.detect(v).catch(function(){return[]});
      if(c.length){clearInterval(t);s.getTracks().forEach(function(k){k.stop()});box.value=c[0].rawValue;box.form.submit();}
    },200);
  });
})();
"#;

pub async fn station(
    State(state): State<AppState>,
    user: PageUser,
    query: WebQuery<ScanQuery>,
) -> Result<Html<String>, PageError> {
    let WebQuery(query) = query;
    let scanned = if query.q.trim().is_empty() {
        None
    } else {
        Some(scan::resolve(&state, &user.user, &query.q).await)
    };
    // a box scanned while a vial waits for one: the vial goes in
    let pending = Uuid::parse_str(query.vial.trim()).ok();
    let placing = match (&scanned, pending) {
        (Some(Ok(found)), Some(vial_id)) if found.kind == "box" && user.user.role == Role::Lab => {
            Some((
                vials::get(&state, vial_id).await?,
                storage::contents(&state, found.id).await?,
            ))
        }
        _ => None,
    };
    let boxes = storage::list_at(
        &state,
        &crate::services::lists::SiteScope::of_user(&state, user.user.user_id, None).await?,
    )
    .await?
    .into_iter()
    .filter(|u| u.kind == StorageKind::Box)
    .collect::<Vec<_>>();
    Ok(page::show(
        &t("scan-title"),
        &user,
        station_view(&user, &query, scanned.as_ref(), placing.as_ref(), &boxes),
    ))
}

fn station_view(
    user: &WebUser,
    query: &ScanQuery,
    scanned: Option<&AppResult<Resolved>>,
    placing: Option<&(vials::VialRecord, storage::Contents)>,
    boxes: &[std::sync::Arc<storage::Unit>],
) -> Markup {
    // the vial that waits for its box: the one just scanned when it may be
    // stored, or the one being placed while its box is shown
    let waiting = match (scanned, placing) {
        (_, Some((vial, _))) => Some((vial.vial.id, vial.vial.code.to_string())),
        (Some(Ok(found)), None)
            if found.kind == "vial"
                && (found.allowed_actions.contains(&"store")
                    || found.allowed_actions.contains(&"move")) =>
        {
            Some((found.id, found.code.clone()))
        }
        _ => None,
    };
    let mut here = format!("/scan?q={}", page::url_encode(&query.q));
    if let Some((vial, _)) = placing {
        here.push_str(&format!("&vial={}", vial.vial.id));
    }
    html! {
        h1 { (t("scan-heading")) }
        (query.flash.render())
        form method="get" action="/scan" role="search" {
            @match &waiting {
                Some((id, code)) => {
                    label for="q" { (t_with("scan-box-for", &[("vial", arg(code))])) }
                    input type="hidden" name="vial" value=(id);
                    input id="q" class="scanbox code" name="q" autocomplete="off" autofocus
                        value="" placeholder="CT1:B:…";
                }
                None => {
                    label for="q" { (t("scan-box-label")) }
                    input id="q" class="scanbox code" name="q" autocomplete="off" autofocus
                        value=(query.q) placeholder="CT1:V:…";
                }
            }
            div class="actions" {
                button type="submit" { (t("scan-look-up")) }
                button id="camera" class="secondary" type="button" hidden { (t("scan-camera")) }
            }
            video id="video" hidden playsinline muted style="max-width:100%" {}
        }
        @match (scanned, placing) {
            (_, Some((vial, contents))) => (placing::placing(user, vial, contents, &here)),
            (Some(Ok(found)), None) => (result(user, found, boxes, &here)),
            (Some(Err(error)), _) => {
                div class="msg bad" role="alert" id="scan-error" {
                    (crate::web::error::sentence(error, user.zone))
                }
            }
            (None, None) => {}
        }
        script src="/assets/scan.js" {}
    }
}

fn result(
    user: &WebUser,
    found: &Resolved,
    boxes: &[std::sync::Arc<storage::Unit>],
    here: &str,
) -> Markup {
    let d = &found.details;
    let can = |a: &str| found.allowed_actions.contains(&a);
    html! {
        section class="card" id="scan-result" aria-live="polite" {
            h2 { (kind_words(found.kind)) " " span class="code" { (found.code) } " " (pill(found.status)) }
            p { (found.summary) }
            @if d["third_site"] == true {
                @let s = if d["shipment"].is_object() { &d["shipment"] } else { d };
                div class="msg warn" role="status" id="scan-third-site" {
                    @if let (Some(from), Some(to)) = (s["from_site"].as_str(), s["to_site"].as_str()) {
                        (t_with("scan-shipment-third-site", &[("from", arg(from)), ("to", arg(to))]))
                    } @else {
                        (t_with("scan-elsewhere", &[("site", arg(d["site"].as_str().unwrap_or("")))]))
                    }
                }
            }
            @if d["elsewhere"] == true {
                div class="msg warn" role="status" id="scan-elsewhere" {
                    (t_with("scan-elsewhere", &[("site", arg(d["site"].as_str().unwrap_or("")))]))
                }
            }
            table { tbody {
                @if let Some(path) = d["location"]["path"].as_str() { tr { th { (t("scan-location")) } td { (path) } } }
                @if let Some(lot) = d["lot_code"].as_str() {
                    tr { th { (t("col-lot")) } td { a class="code" href={ "/lots/" (d["lot_id"].as_str().unwrap_or("")) } { (lot) } " " (pill(d["lot_status"].as_str().unwrap_or(""))) } }
                }
                @if let Some(expires) = d["expires_at"].as_str() {
                    tr { th { (t("col-expires")) } td { (expires.get(..10).unwrap_or(expires)) @if d["expired"] == true { " " span class="pill bad" { (t("scan-expired")) } } } }
                }
                @if let Some(subject) = d["subject_code"].as_str() { tr { th { (t("col-patient")) } td { (subject) } } }
            } }
            div class="actions" {
                @match found.kind {
                    "vial" => {
                        a class="button secondary" href={ "/vials/" (found.id) } { (t("scan-open-vial")) }
                        @if can("print_label") { a class="button secondary" href={ "/api/v1/vials/" (found.id) "/label.png" } { (t("scan-label")) } }
                        @if can("reserve") { a class="button" href="/patients" { (t("scan-reserve")) } }
                    }
                    "lot" => {
                        a class="button" href={ "/lots/" (found.id) } { (t("scan-open-lot")) }
                        @if can("print_labels") { a class="button secondary" href={ "/api/v1/lots/" (found.id) "/labels.pdf" } { (t("scan-label-sheet")) } }
                    }
                    "patient" => {
                        a class="button" href={ "/patients/" (found.id) } { (t("scan-open-patient")) }
                        @if can("order_dose") { a class="button secondary" href={ "/patients/" (found.id) "/dose" } { (t("home-dose-worksheet")) } }
                    }
                    "dose" => {
                        a class="button" href={ "/doses/" (found.id) } { (t("scan-open-dose")) }
                        @if can("start_infusion") || can("complete_infusion") { a class="button" href={ "/doses/" (found.id) "/bedside" } { (t("scan-bedside")) } }
                    }
                    "box" => {
                        a class="button" href={ "/storage/" (found.id) } { (t("scan-open-box")) }
                    }
                    "shipment" | "shipper" => {
                        @let shipment = if found.kind == "shipment" { Some(found.id.to_string()) } else { d["shipment"]["shipment_id"].as_str().map(str::to_owned) };
                        @if let (Some(id), true) = (&shipment, can("open")) {
                            a class="button" href={ "/shipments/" (id) } { (t("scan-open-shipment")) }
                        }
                        @if let (Some(id), true) = (&shipment, can("packing_list")) {
                            a class="button secondary" href={ "/api/v1/shipments/" (id) "/packing-list.pdf" } { (t("scan-packing-list")) }
                        }
                        @if can("create_shipment") { a class="button" href="/shipments" { (t("scan-new-shipment")) } }
                        @if can("print_label") { a class="button secondary" href={ "/api/v1/shipping-containers/" (found.id) "/label.png" } { (t("scan-shipper-label")) } }
                    }
                    "donation" => {
                        a class="button" href={ "/donations/" (found.id) } { (t("scan-open-donation")) }
                        @if can("create_lot") { a class="button secondary" href={ "/lots/new?donation=" (found.id) } { (t("lab-new-lot-title")) } }
                        @for lot in d["lots"].as_array().into_iter().flatten() {
                            a class="button secondary code" href={ "/lots/" (lot["id"].as_str().unwrap_or("")) } { (lot["code"].as_str().unwrap_or("")) }
                        }
                    }
                    _ => {}
                }
                @if can("trace") {
                    @if let Some(lot) = d["lot_id"].as_str() { a class="button secondary" href={ "/trace/lots/" (lot) } { (t("scan-trace")) } }
                    @else if found.kind == "lot" { a class="button secondary" href={ "/trace/lots/" (found.id) } { (t("scan-trace")) } }
                }
            }
            @if found.kind == "vial" && (can("store") || can("move")) {
                p class="msg" id="scan-next" { (t("scan-next-box")) }
                details class="card" {
                  summary { (t("scan-no-box-label")) }
                  form method="post" action={ "/vials/" (found.id) "/store" } {
                    input type="hidden" name="csrf" value=(user.csrf());
                    input type="hidden" name="back" value=(here);
                    label for="box" { (t("scan-box")) }
                    select id="box" name="box_id" required {
                        @for b in boxes {
                            option value=(b.id) selected[d["location"]["box_id"].as_str() == Some(b.id.to_string().as_str())] { (b.path) }
                        }
                    }
                    label for="position" { (t("scan-position")) }
                    input id="position" name="position" required placeholder="B4" autocomplete="off" style="max-width:8rem";
                    div class="actions" { button type="submit" { @if can("move") { (t("scan-move")) } @else { (t("scan-store")) } } }
                  }
                }
            }
            @if found.kind == "vial" && can("discard") {
                details class="card" {
                    summary { (t("scan-discard-vial")) }
                    form method="post" action={ "/vials/" (found.id) "/discard" } {
                        input type="hidden" name="csrf" value=(user.csrf());
                        input type="hidden" name="back" value=(here);
                        label for="reason" { (t("scan-reason")) }
                        input id="reason" name="reason" required;
                        (page::signature_fields("discarded"))
                        div class="actions" { button class="danger" type="submit" { (t("scan-discard")) } }
                    }
                }
            }
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct StoreForm {
    pub csrf: String,
    pub box_id: Uuid,
    pub position: String,
    #[serde(default)]
    pub back: String,
}

#[derive(Debug, Deserialize)]
pub struct DiscardForm {
    pub csrf: String,
    pub reason: String,
    pub password: String,
    pub meaning: String,
    #[serde(default)]
    pub back: String,
}

carries_csrf!(StoreForm, DiscardForm);

pub async fn store(
    State(state): State<AppState>,
    user: PageUser<roles::Lab>,
    Path(id): Path<Uuid>,
    CsrfForm(form): CsrfForm<StoreForm>,
) -> Result<Response, PageError> {
    let back = back_or(&form.back, &format!("/vials/{id}"));
    let record = vials::store(&state, &user.user.actor(), id, form.box_id, &form.position)
        .await
        .or_back(&back, user.zone)?;
    Ok(redirect_with(
        "/scan",
        true,
        t_with(
            "scan-flash-stored",
            &[
                ("vial", arg(&record.vial.code)),
                (
                    "place",
                    arg(record.location.map(|l| l.path()).unwrap_or_default()),
                ),
            ],
        ),
    ))
}

pub async fn discard(
    State(state): State<AppState>,
    user: PageUser<roles::Lab>,
    Path(id): Path<Uuid>,
    CsrfForm(form): CsrfForm<DiscardForm>,
) -> Result<Response, PageError> {
    let back = back_or(&form.back, &format!("/vials/{id}"));
    let signature = user
        .sign(&state, form.password, form.meaning, &back)
        .await?;
    let record = vials::discard(&state, &signature, id, &form.reason)
        .await
        .or_back(&back, user.zone)?;
    Ok(redirect_with(
        "/scan",
        true,
        t_with("scan-flash-discarded", &[("vial", arg(&record.vial.code))]),
    ))
}

/// What a scanned code is, in words (`kind-lot`, …).
fn kind_words(kind: &str) -> String {
    match kind {
        "donation" => t("scan-kind-donation"),
        _ => t_maybe(&format!("kind-{kind}")).unwrap_or_else(|| capitalised(kind)),
    }
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Where to go back to: the form's `back`, if it is a path of this site.
pub fn back_or(back: &str, default: &str) -> String {
    match safe_next(back) {
        "/" if back != "/" => default.to_owned(),
        path => path.to_owned(),
    }
}
