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
