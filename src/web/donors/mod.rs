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
use chrono::{DateTime, NaiveDateTime, Utc};

use crate::domain::zone::SiteZone;
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

/// A time typed in a browser's date-and-time field, which is the site's
/// wall clock (`2026-11-25T09:40`), as an instant; `None` when it cannot
/// be read or the clocks skipped it.
pub(crate) fn site_time(zone: SiteZone, typed: &str) -> Option<DateTime<Utc>> {
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(typed.trim(), f).ok())
        .and_then(|local| zone.from_local(local))
}

/// The value a date-and-time field shows for `t`: the site's wall clock.
pub(crate) fn field_time(zone: SiteZone, t: DateTime<Utc>) -> String {
    zone.iso(t).chars().take(16).collect()
}
