//! The site a new record belongs to, chosen on its form by someone who
//! works at several sites (someone at one site is never asked: the record
//! is theirs). A form sent without a choice by someone at several sites is
//! refused in words by the service (`site_required`).

use maud::{Markup, html};
use uuid::Uuid;

use crate::entities::site;
use crate::error::AppResult;
use crate::i18n::t;
use crate::services::sites;
use crate::state::AppState;

/// The sites to choose from: the person's, when they are more than one.
pub async fn choices(state: &AppState, user_id: Uuid) -> AppResult<Vec<site::Model>> {
    let mine = sites::of_user(state, user_id).await?;
    if mine.len() < 2 {
        return Ok(Vec::new());
    }
    Ok(sites::list(state)
        .await?
        .into_iter()
        .filter(|s| mine.contains(&s.id))
        .collect())
}

/// A `site_id` menu, nothing chosen: the person says where (`required`
/// unless the record may take its site from elsewhere, as a box its rack's).
pub fn menu(choices: &[site::Model], required: bool) -> Markup {
    menu_keeping(choices, required, "")
}

/// The menu with the choice a refused form came back with.
pub fn menu_keeping(choices: &[site::Model], required: bool, typed: &str) -> Markup {
    let kept = chosen(typed);
    html! {
        @if !choices.is_empty() {
            label { (t("site-choice"))
                select name="site_id" required[required] {
                    option value="" { (t("site-choice-none")) }
                    @for s in choices { option value=(s.id) selected[kept == Some(s.id)] { (s.name) " (" (s.facility_code) ")" } }
                }
            }
        }
    }
}

/// The site a form names, if it names one.
pub fn chosen(raw: &str) -> Option<Uuid> {
    raw.trim().parse().ok()
}
