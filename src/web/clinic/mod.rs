//! Patients, the pharmacist's dose worksheet (weight and calculation step by
//! step → reserve → post-thaw counts → the volume to draw in large type →
//! signature) and the bedside page (scan the wristband, scan the bag, a
//! match in green or a mismatch in red, then record the volume in mL, as
//! the bag says).
//!
//! Whatever the protocol asks a person to confirm (a weight far from the
//! last, an implausible count, a volume far from the bag's) is asked here
//! in words, with the numbers, and confirmed with a button; never as a
//! field name to send.
//!
//! By idea: [`enrolment`] (enrolling against the eligibility checklist),
//! [`patient`] (the list and a patient's page), [`weights`] (recording and
//! voiding them), [`assessments`] and [`assessment_forms`] (PASI and
//! DLQI), [`chart`] (the course drawn, and the adverse events),
//! [`adverse_events`] (recording one after an infusion), [`visits`] (the
//! patient's assessment visits), [`course`]
//! (where the course of infusions stands), [`worksheet`] (the calculation
//! and the order), [`dose`] (the dose's page), [`preparation`] (its
//! counts, replacement, verification and cancellation) and [`bedside`].

pub mod adverse_events;
pub mod assessment_forms;
pub mod assessments;
pub mod bedside;
pub mod chart;
pub mod course;
pub mod dose;
pub mod enrolment;
pub mod patient;
pub mod preparation;
pub mod visits;
pub mod weights;
pub mod worksheet;

use fluent_bundle::FluentValue;

/// Marks where a piece of markup (bold words, a link) goes inside a
/// message, so each language puts it where its grammar wants.
const SLOT: &str = "\u{1}";

/// The argument `{ $slot }` of a message with markup inside it.
pub(crate) fn slot() -> FluentValue<'static> {
    crate::i18n::arg(SLOT)
}

/// A message's words before and after its `{ $slot }`.
pub(crate) fn slotted(text: String) -> (String, String) {
    match text.split_once(SLOT) {
        Some((before, after)) => (before.to_owned(), after.to_owned()),
        None => (text, String::new()),
    }
}

/// A field of a form read as name-value pairs; empty when absent.
pub(crate) fn form_field<'a>(form: &'a [(String, String)], name: &str) -> &'a str {
    form.iter()
        .find(|(n, _)| n == name)
        .map_or("", |(_, value)| value.trim())
}

/// The clinic's upstream acts: enrolment, PASI and DLQI, and the script
/// that adds their totals up (a file of the site, never inline).
pub fn routes() -> axum::Router<crate::state::AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route(
            "/patients/new",
            get(enrolment::enrolment_page).post(enrolment::enrol),
        )
        .route("/patients/{id}/pasi", post(assessments::record_pasi))
        .route("/patients/{id}/dlqi", post(assessments::record_dlqi))
        .route(
            "/patients/{id}/adverse-events",
            post(adverse_events::record_adverse_event),
        )
        .route(
            "/patients/{id}/adverse-events/{event_id}/corrections",
            post(adverse_events::correct_adverse_event),
        )
        .route(
            "/assets/assessments.js",
            get(|| crate::web::script(assessments::SCRIPT)),
        )
}
