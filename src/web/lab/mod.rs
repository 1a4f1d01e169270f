//! The cell lab's acts in the browser: a lot started from a donation
//! (`new_lot`), QC results entered against the specification and judged as
//! they are typed (`qc`, `qc.js`), freezing into vials and the label sheet
//! with its reconciliation (`freezing`, `labels`), and storage set-up
//! (`storage_setup`). Each form calls the same service as the API.

pub mod freezing;
pub mod labels;
pub mod new_lot;
pub mod qc;
pub mod storage_setup;

use axum::Router;
use axum::routing::{get, post};

use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/lots/new", get(new_lot::form).post(new_lot::create))
        .route("/lots/{id}/qc", post(qc::record))
        .route("/lots/{id}/freeze", post(freezing::freeze))
        .route("/lots/{id}/label-issues", post(labels::issue))
        .route(
            "/storage/new",
            get(storage_setup::form).post(storage_setup::create),
        )
        .route("/assets/qc.js", get(|| crate::web::script(QC_SCRIPT)))
}

/// Judges QC values as they are typed; the server judges again on submit.
const QC_SCRIPT: &str = include_str!("qc.js");

/// A time typed in the site's wall-clock time, as a browser's date-and-time
/// field sends it (`2026-11-25T09:40`); `None` when it cannot be read.
pub fn site_time(
    user: &crate::web::user::WebUser,
    text: &str,
) -> Option<chrono::DateTime<chrono::Utc>> {
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(text.trim(), f).ok())
        .and_then(|local| user.zone.from_local(local))
}

/// A site date typed as `2026-11-25`: the instant that day begins there.
pub fn site_day(
    user: &crate::web::user::WebUser,
    text: &str,
) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .ok()
        .map(|day| user.zone.start_of(day))
}

/// An instant as a date-and-time field's value in the site's time.
pub fn field_time(user: &crate::web::user::WebUser, t: chrono::DateTime<chrono::Utc>) -> String {
    user.zone.iso(t).chars().take(16).collect()
}
