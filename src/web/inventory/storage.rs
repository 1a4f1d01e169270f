//! `/storage`: tanks, racks and boxes; a box drawn as its map
//! (`box_map`), each full position a link to its vial; for the lab, the
//! way to add a unit (`web::lab::storage_setup`), under this one.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::Html;
use chrono::{DateTime, Utc};
use maud::{Markup, html};
use uuid::Uuid;

use crate::domain::accounts::Role;
use crate::domain::printer::PrintKind;
use crate::domain::storage::StorageKind;
use crate::i18n::{arg, t, t_with};
use crate::services::history;
use crate::services::printing::printers;
use crate::services::storage;
use crate::state::AppState;
use crate::web::error::PageError;
use crate::web::extract::{PageUser, WebQuery};
use crate::web::inventory::box_map::box_map;
use crate::web::page::{self, Flash};
use crate::web::printing::{label_files, print_form_counted};

pub async fn storage_root(
    State(state): State<AppState>,
    user: PageUser,
) -> Result<Html<String>, PageError> {
    let units = storage::list_at(
        &state,
        &crate::services::lists::SiteScope::of_user(&state, user.user.user_id, None).await?,
    )
    .await?;
    Ok(page::show(
        &t("nav-storage"),
        &user,
        storage_root_view(&units, user.user.role == Role::Lab),
    ))
}

fn storage_root_view(units: &[Arc<storage::Unit>], lab: bool) -> Markup {
    html! {
        h1 { (t("nav-storage")) }
        @if lab { div class="actions" { a class="button" href="/storage/new" { (t("lab-storage-add")) } } }
        @if units.is_empty() { p class="muted" { (t("storage-none")) } }
        table {
            thead { tr { th { (t("storage-unit")) } th { (t("storage-kind")) } } }
            tbody { @for u in units {
                tr { td { a href={ "/storage/" (u.id) } { (u.path) } } td { (t(&format!("storage-kind-{}", u.kind.as_str()))) } }
            } }
        }
    }
}

pub async fn storage_page(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<Uuid>,
    WebQuery(flash): WebQuery<Flash>,
) -> Result<Html<String>, PageError> {
    let contents = storage::contents(&state, id).await?;
    let temperature =
        crate::web::inventory::temperature::temperature_section(&state, &user, &contents.unit)
            .await?;
    let history = match contents.unit.kind {
        StorageKind::Box => history::of(&state, "storage", id).await?,
        _ => Vec::new(),
    };
    Ok(page::show(
        &contents.unit.path,
        &user,
        html! {
            (flash.render())
            (storage_view(&contents, state.clock.now()))
            (temperature)
            @if contents.unit.kind == StorageKind::Box {
                (print_form_counted(PrintKind::StorageBox, id, printers(&state), &user, &history))
            }
            // the lab adds racks to a tank and boxes to a rack or tank here
            @if user.user.role == Role::Lab && contents.unit.kind != StorageKind::Box {
                div class="actions" { a class="button" href={ "/storage/new?parent=" (id) } { (t("lab-storage-add-here")) } }
            }
        },
    ))
}

fn storage_view(contents: &storage::Contents, now: DateTime<Utc>) -> Markup {
    let unit = &contents.unit;
    html! {
        h1 { (unit.path) }
        @if unit.kind == StorageKind::Box {
            @let (rows, cols) = (unit.rows.unwrap_or(1), unit.cols.unwrap_or(1));
            p { (t_with("box-occupied", &[("used", arg(contents.vials.len())), ("total", arg(u32::from(rows) * u32::from(cols)))])) " "
                a href={ "/vials?box_id=" (unit.id) } { (t("box-list-them")) } }
            div class="card" { (box_map(rows, cols, &contents.vials, &contents.lot_expiry, now)) }
            (label_files(&format!("/api/v1/storage/{}/label", unit.id)))
        } @else {
            ul { @for child in &contents.children { li { a href={ "/storage/" (child.id) } { (child.name) } " (" (child.kind.as_str()) ")" } } }
        }
    }
}
