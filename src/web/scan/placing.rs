//! Storing by scanning: a vial is scanned, then the box it goes into; the
//! box's grid comes up with every free position a button and the next free
//! one focused, so Enter puts the vial there and a tap puts it anywhere
//! else that is free. A taken position is shown, never offered.

use std::collections::HashMap;

use maud::{Markup, html};

use crate::domain::lifecycle::{VialAction, vial_transition};
use crate::domain::storage::{Position, next_free};
use crate::i18n::{arg, t, t_with};
use crate::services::storage::Contents;
use crate::services::vials::VialRecord;
use crate::web::page::pill;
use crate::web::user::WebUser;

/// The card that puts `vial` into the box of `contents`.
pub fn placing(user: &WebUser, vial: &VialRecord, contents: &Contents, back: &str) -> Markup {
    let unit = &contents.unit;
    let (rows, cols) = (unit.rows.unwrap_or(1), unit.cols.unwrap_or(1));
    let v = &vial.vial;
    let taken: HashMap<&str, &crate::entities::vial::Model> = contents
        .vials
        .iter()
        .filter_map(|other| other.position.as_deref().map(|p| (p, other)))
        .collect();
    let next = next_free(rows, cols, |p| taken.contains_key(p.to_string().as_str()));
    let may_store = vial_transition(v.status, VialAction::Store).is_ok();
    let moving = vial.location.is_some();
    html! {
        section class="card" id="placing" aria-live="polite" {
            h2 {
                @if moving { (t("scan-place-move")) } @else { (t("scan-place-store")) }
                " " span class="code" { (v.code) } " " (pill(v.status))
            }
            p { (t_with("scan-place-into", &[("box", arg(&unit.path))])) }
            @if let Some(now) = &vial.location {
                p class="muted" { (t_with("scan-place-now", &[("place", arg(now.path()))])) }
            }
            @if !may_store {
                div class="msg bad" role="alert" { (t_with("scan-place-cannot", &[("vial", arg(&v.code))])) }
            } @else if next.is_none() {
                div class="msg bad" role="alert" { (t("scan-place-full")) }
            } @else {
                p { (t_with("scan-place-how", &[("position", arg(next.map(|p| p.to_string()).unwrap_or_default()))])) }
                form method="post" action={ "/vials/" (v.id) "/store" } {
                    input type="hidden" name="csrf" value=(user.csrf());
                    input type="hidden" name="back" value=(back);
                    input type="hidden" name="box_id" value=(unit.id);
                    div class="places" role="group" aria-label=(unit.path)
                        style={ "grid-template-columns:2rem repeat(" (cols) ",minmax(2.75rem,1fr))" } {
                        span {}
                        @for c in 1..=cols { span class="axis" { (c) } }
                        @for r in 0..rows {
                            span class="axis" { (char::from(b'A' + r)) }
                            @for c in 1..=cols {
                                @let position = Position { row: r, col: c };
                                @let name = position.to_string();
                                @match taken.get(name.as_str()) {
                                    Some(other) if other.id == v.id => {
                                        button type="button" class="here" disabled title=(t("scan-place-here")) { (name) }
                                    }
                                    Some(other) => {
                                        button type="button" class="taken" disabled title={ (name) " · " (other.code) } { (name) }
                                    }
                                    None => {
                                        @let is_next = next == Some(position);
                                        button type="submit" name="position" value=(name)
                                            class=[is_next.then_some("next")] autofocus[is_next]
                                            title=(if is_next { t("box-next-free") } else { t("box-empty") }) { (name) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            p { a href={ "/storage/" (unit.id) } { (t("scan-place-open-box")) } }
        }
    }
}
