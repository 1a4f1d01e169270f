//! `/storage/new` (lab): a tank, a rack in a tank, or a box (with its grid
//! of rows × columns) in a rack or tank, created by the same service as
//! `POST /api/v1/storage`; the service's placement and size rules decide,
//! and their refusals are said in words.

use axum::extract::State;
use axum::response::{Html, Response};
use maud::{Markup, html};
use serde::Deserialize;
use uuid::Uuid;

use crate::domain::storage::{MAX_COLS, MAX_ROWS, StorageKind};
use crate::i18n::{arg, t, t_with};
use crate::services::storage;
use crate::state::AppState;
use crate::web::error::{PageError, sentence};
use crate::web::extract::{CsrfForm, PageUser, WebQuery, carries_csrf, roles};
use crate::web::page::{self, Flash, redirect_with};
use crate::web::user::WebUser;

#[derive(Debug, Default, Deserialize)]
pub struct SetupQuery {
    #[serde(default)]
    pub parent: Option<Uuid>,
    #[serde(flatten)]
    pub flash: Flash,
}

pub async fn form(
    State(state): State<AppState>,
    user: PageUser<roles::Lab>,
    WebQuery(query): WebQuery<SetupQuery>,
) -> Result<Html<String>, PageError> {
    let units = storage::list_at(
        &state,
        &crate::services::lists::SiteScope::of_user(&state, user.user.user_id, None).await?,
    )
    .await?;
    let sites = crate::web::site_choice::choices(&state, user.user.user_id).await?;
    Ok(page::show(
        &t("lab-storage-title"),
        &user,
        setup_view(&user, &units, &sites, &query),
    ))
}

fn setup_view(
    user: &WebUser,
    units: &[std::sync::Arc<storage::Unit>],
    sites: &[crate::entities::site::Model],
    query: &SetupQuery,
) -> Markup {
    // what usually goes under the chosen parent: a rack in a tank, a box in a rack
    let parent = query
        .parent
        .and_then(|id| units.iter().find(|u| u.id == id));
    let suggested = match parent.map(|p| p.kind) {
        None => StorageKind::Tank,
        Some(StorageKind::Tank) => StorageKind::Rack,
        Some(_) => StorageKind::Box,
    };
    html! {
        h1 { (t("lab-storage-title")) }
        (query.flash.render())
        form class="card" method="post" action="/storage/new" {
            input type="hidden" name="csrf" value=(user.csrf());
            fieldset {
                legend { (t("lab-storage-kind")) }
                @for kind in [StorageKind::Tank, StorageKind::Rack, StorageKind::Box] {
                    label { input type="radio" name="kind" value=(kind.as_str()) required checked[kind == suggested];
                        (t(&format!("lab-storage-kind-{}", kind.as_str()))) }
                }
            }
            label { (t("lab-storage-parent"))
                select name="parent_id" {
                    option value="" { (t("lab-storage-no-parent")) }
                    @for u in units.iter().filter(|u| u.kind != StorageKind::Box) {
                        option value=(u.id) selected[Some(u.id) == query.parent] { (u.path) }
                    }
                }
            }
            label { (t("lab-storage-name")) input name="name" required autocomplete="off" placeholder=(t("lab-storage-name-placeholder")); }
            @if !sites.is_empty() {
                p class="muted" { (t("lab-storage-site-hint")) }
                (crate::web::site_choice::menu(sites, false))
            }
            fieldset {
                legend { (t_with("lab-storage-grid", &[("rows", arg(MAX_ROWS)), ("cols", arg(MAX_COLS))])) }
                label { (t("lab-storage-rows")) input name="rows" type="number" min="1" max=(MAX_ROWS) inputmode="numeric" style="max-width:8rem"; }
                label { (t("lab-storage-cols")) input name="cols" type="number" min="1" max=(MAX_COLS) inputmode="numeric" style="max-width:8rem"; }
            }
            div class="actions" { button type="submit" { (t("lab-storage-create")) } }
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct SetupForm {
    pub csrf: String,
    pub kind: StorageKind,
    #[serde(default)]
    pub parent_id: String,
    pub name: String,
    #[serde(default)]
    pub rows: String,
    #[serde(default)]
    pub cols: String,
    /// For a tank, by someone who works at several sites.
    #[serde(default)]
    pub site_id: String,
}

carries_csrf!(SetupForm);

pub async fn create(
    State(state): State<AppState>,
    user: PageUser<roles::Lab>,
    CsrfForm(form): CsrfForm<SetupForm>,
) -> Result<Response, PageError> {
    let parent_id = match form.parent_id.trim() {
        "" => None,
        id => id.parse::<Uuid>().ok(),
    };
    let back = match parent_id {
        Some(id) => format!("/storage/new?parent={id}"),
        None => "/storage/new".to_owned(),
    };
    let refuse =
        |why: String| PageError::back(&back, t_with("lab-storage-refused", &[("why", arg(why))]));
    let (Some(rows), Some(cols)) = (grid_size(&form.rows), grid_size(&form.cols)) else {
        return Err(refuse(t("lab-storage-bad-grid")));
    };
    let unit = storage::create(
        &state,
        &user.user.actor(),
        storage::NewUnit {
            name: &form.name,
            kind: form.kind,
            parent_id,
            rows,
            cols,
            site_id: crate::web::site_choice::chosen(&form.site_id),
        },
    )
    .await
    .map_err(|error| refuse(sentence(&error, user.zone)))?;
    Ok(redirect_with(
        &format!("/storage/{}", unit.id),
        true,
        t_with("lab-storage-created", &[("path", arg(&unit.path))]),
    ))
}

/// A grid size as typed: empty is none (a tank or rack has no grid); a
/// number too large to be read at all is refused here, any other number
/// is the service's to judge.
fn grid_size(text: &str) -> Option<Option<i32>> {
    match text.trim() {
        "" => Some(None),
        n => n.parse::<i32>().ok().map(Some),
    }
}
