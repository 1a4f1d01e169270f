//! `/vials/{id}`: a vial's place, its labels and its custody history.

use axum::extract::{Path, State};
use axum::response::Html;
use maud::{Markup, html};
use uuid::Uuid;

use crate::domain::printer::PrintKind;
use crate::i18n::{arg, t, t_with};
use crate::services::printing::printers;
use crate::services::{history, vials};
use crate::state::AppState;
use crate::web::error::PageError;
use crate::web::extract::{PageUser, WebQuery};
use crate::web::history::history_view;
use crate::web::page::{self, Flash, pill};
use crate::web::printing::print_form;
use crate::web::user::WebUser;

pub async fn vial_page(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<Uuid>,
    WebQuery(flash): WebQuery<Flash>,
) -> Result<Html<String>, PageError> {
    let record = vials::get(&state, id).await?;
    let history = history::of(&state, "vial", id).await?;
    // packed into a shipment: in its shipper, on its way
    let shipment = match record.vial.shipment_id {
        Some(shipment_id) => Some(crate::services::shipments::get(&state, shipment_id).await?),
        None => None,
    };
    let corrections = crate::web::corrections::section(
        &state,
        &user,
        crate::domain::correction::SubjectKind::Vial,
        id,
    )
    .await?;
    Ok(page::show(
        &t_with("vial-title", &[("code", arg(&record.vial.code))]),
        &user,
        maud::html! {
            (vial_view(
                &user,
                &record,
                shipment.as_ref(),
                &history,
                &flash,
                print_form(PrintKind::Vial, id, printers(&state), &user),
            ))
            (corrections)
        },
    ))
}

fn vial_view(
    user: &WebUser,
    record: &vials::VialRecord,
    shipment: Option<&crate::services::shipments::ShipmentRecord>,
    history: &[history::Entry],
    flash: &Flash,
    printing: Markup,
) -> Markup {
    let v = &record.vial;
    html! {
        h1 { (t("vial-heading")) " " span class="code" { (v.code) } " " (pill(v.status)) }
        (flash.render())
        div class="grid" {
            section class="card" {
                table { tbody {
                    tr { th { (t("scan-location")) } td { @match (&record.location, shipment) {
                        (Some(l), _) => (l.path()),
                        (None, Some(s)) => a href={ "/shipments/" (s.shipment.id) } { (crate::domain::shipment::in_transit_location(&s.container.code, &s.shipment.code)) },
                        (None, None) => span class="muted" { (t("not-in-storage")) },
                    } } }
                    @if let (Some(_), Some(s)) = (&record.location, shipment) {
                        tr { th { (t("ship-heading")) } td { a class="code" href={ "/shipments/" (s.shipment.id) } { (s.shipment.code) } " " (pill(s.shipment.status)) " " (t("vial-scanned-in-at")) } }
                    }
                    tr { th { (t("col-lot")) } td { a class="code" href={ "/lots/" (v.lot_id) } { (v.code.rsplit_once('-').map(|p| p.0).unwrap_or("")) } } }
                    tr { th { (t("col-cells")) } td class="num" { (crate::domain::units::millions(v.cells_per_vial)) } }
                    tr { th { (t("vial-volume")) } td class="num" { (crate::domain::units::millilitres(v.volume_ul)) } }
                    tr { th { (t("vial-frozen")) } td { (user.when(v.frozen_at)) } }
                    tr { th { (t("vial-labels-issued")) } td class="num" { (v.labels_issued) } }
                } }
                div class="actions" {
                    a class="button" href={ "/scan?q=" (page::url_encode(&v.code)) } { (t("vial-act")) }
                    a class="button secondary" href={ "/api/v1/vials/" (v.id) "/label.png" } { (t("vial-label-png")) }
                    a class="button secondary" href={ "/api/v1/vials/" (v.id) "/label.zpl" } { (t("vial-label-zpl")) }
                    a class="button secondary" href={ "/api/v1/vials/" (v.id) "/label.pdf" } { (t("label-pdf")) }
                    a class="button secondary" href={ "/trace/lots/" (v.lot_id) } { (t("scan-trace")) }
                }
                (printing)
            }
            (history_view(history, user))
        }
    }
}
