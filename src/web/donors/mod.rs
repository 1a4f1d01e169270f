//! Donors and donations in the browser: registering a donor with consent
//! (`register`), the donor's page with screening, its signed invalidation
//! and the signed eligibility decision (`donor`, `screening`), and the
//! donation with its DIN, lots and DIN label (`donation`). Every act calls
//! the service the API calls (`services::donors`, `services::donations`),
//! admitted by the same roles as the API route.

pub mod donation;
pub mod donor;
pub mod register;
pub mod screening;

use axum::Router;
use axum::routing::{get, post};

use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/donors/new",
            get(register::register_form).post(register::register),
        )
        .route("/donors/{id}", get(donor::donor_page))
        .route("/donors/{id}/screening", post(screening::record))
        .route(
            "/donors/{id}/screening/{result_id}/invalidate",
            post(screening::invalidate),
        )
        .route("/donors/{id}/eligibility", post(screening::decide))
        .route("/donors/{id}/donations", post(donation::record))
        .route("/donations/find", get(donation::find))
        .route("/donations/{id}", get(donation::donation_page))
}
