//! `/storage`: tanks, racks and boxes; a box drawn as its map
//! (`box_map`), each full position a link to its vial.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::Html;
use chrono::{DateTime, Utc};
use maud::{Markup, html};
use uuid::Uuid;

use crate::domain::storage::StorageKind;
use crate::i18n::{arg, t, t_with};
use crate::services::storage;
use crate::state::AppState;
use crate::web::error::PageError;
use crate::web::extract::PageUser;
use crate::web::inventory::box_map::box_map;
use crate::web::page;

pub async fn storage_root(
    State(state): State<AppState>,
    user: PageUser,
) -> Result<Html<String>, PageError> {
    let units = storage::list(&state).await?;
    Ok(page::show(
        &t("nav-storage"),
        &user,
        storage_root_view(&units),
    ))
}

fn storage_root_view(units: &[Arc<storage::Unit>]) -> Markup {
    html! {
        h1 { (t("nav-storage")) }
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
) -> Result<Html<String>, PageError> {
    let contents = storage::contents(&state, id).await?;
    Ok(page::show(
        &contents.unit.path,
        &user,
        storage_view(&contents, state.clock.now()),
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
        } @else {
            ul { @for child in &contents.children { li { a href={ "/storage/" (child.id) } { (child.name) } " (" (child.kind.as_str()) ")" } } }
        }
    }
}
