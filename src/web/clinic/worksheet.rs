//! `/patients/{id}/dose`: step 1 of the pharmacist's dose worksheet, the
//! calculation step by step from the patient's weight, then the vials
//! reserved (the order).

use axum::extract::{Path, State};
use axum::response::{Html, Response};
use maud::{Markup, html};
use uuid::Uuid;

use crate::domain::accounts::Role;
use crate::entities::patient;
use crate::error::AppResult;
use crate::i18n::{arg, t, t_with};
use crate::services::doses::{self, Calculation, CalculationInput};
use crate::services::{patients, protocol};
use crate::state::AppState;
use crate::web::clinic::course::{CourseNote, course_note};
use crate::web::error::{OrBack, PageError, sentence};
use crate::web::extract::{CsrfForm, CsrfOnly, PageUser, WebQuery, roles};
use crate::web::page::{self, Flash, redirect_with};
use crate::web::user::WebUser;

/// What the worksheet offers today.
enum Worksheet {
    /// No infusion may be given today: said in words, with no weight to
    /// take and no vials to reserve (an order would be refused).
    Closed(CourseNote),
    /// The calculation, or why there is none.
    Open(Box<AppResult<Calculation>>),
}

/// Step 1 of the worksheet: the calculation, step by step, then reserve.
pub async fn worksheet(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<Uuid>,
    WebQuery(flash): WebQuery<Flash>,
) -> Result<Html<String>, PageError> {
    let patient = patients::find(state.db.conn(), id).await?;
    // The schedule first: a finished course, a closed window or a next
    // infusion not yet allowed stops the worksheet before any calculation.
    let current = protocol::current(state.db.conn()).await?;
    let starts = doses::infusion_starts(state.db.conn(), id).await?;
    let sheet = match course_note(&current.protocol, user.zone, &starts, state.clock.now()) {
        Some(note) => Worksheet::Closed(note),
        None => Worksheet::Open(Box::new(
            doses::calculate(
                &state,
                CalculationInput {
                    patient_id: Some(id),
                    ..CalculationInput::default()
                },
            )
            .await,
        )),
    };
    Ok(page::show(
        &t("worksheet-title"),
        &user,
        worksheet_view(&user, &patient, &sheet, &flash),
    ))
}

fn worksheet_view(
    user: &WebUser,
    patient: &patient::Model,
    sheet: &Worksheet,
    flash: &Flash,
) -> Markup {
    let id = patient.id;
    html! {
        h1 { (t("worksheet-heading")) " · " span class="code" { (patient.subject_code) } }
        (flash.render())
        @match sheet {
            Worksheet::Closed(note) => {
                div class="msg" id="course-status" role="status" { (note.text()) }
                p { a href={ "/patients/" (id) } { (t("worksheet-back")) } }
            }
            Worksheet::Open(calculation) => {
                @match calculation.as_ref() {
                    Ok(calc) => {
                        section class="card" {
                            h2 { "1 · " (t("worksheet-step-weight")) }
                            ol class="steps" { @for step in &calc.steps { li { (step) } } }
                            p { (t("worksheet-target")) " " strong { (page::cells(calc.target.target_cells.get())) } " "
                                (t_with("worksheet-accepted", &[("min", arg(crate::domain::units::grouped(calc.target.min_cells))), ("max", arg(crate::domain::units::grouped(calc.target.max_cells)))])) }
                            @if calc.lot.is_none() { div class="msg bad" role="alert" { (t("worksheet-no-lot")) } }
                        }
                        @if user.user.role == Role::Pharmacist && calc.lot.is_some() {
                            form class="card" method="post" action={ "/patients/" (id) "/dose" } {
                                h2 { "2 · " (t("worksheet-step-reserve")) }
                                input type="hidden" name="csrf" value=(user.csrf());
                                div class="actions" { button type="submit" { (t("worksheet-reserve")) } }
                            }
                        }
                    }
                    Err(error) => {
                        div class="msg bad" role="alert" { (sentence(error, user.zone)) }
                        p { a href={ "/patients/" (id) } { (t("worksheet-back")) } }
                    }
                }
            }
        }
    }
}

/// Step 2: the order, reserving the vials the calculation chose.
pub async fn reserve(
    State(state): State<AppState>,
    user: PageUser<roles::Pharmacist>,
    Path(id): Path<Uuid>,
    CsrfForm(_): CsrfForm<CsrfOnly>,
) -> Result<Response, PageError> {
    let dose = doses::order(&state, &user.user.actor(), id, None)
        .await
        .or_back(&format!("/patients/{id}/dose"), user.zone)?;
    Ok(redirect_with(
        &format!("/doses/{}", dose.dose.id),
        true,
        t_with(
            "worksheet-ordered",
            &[
                ("code", arg(&dose.dose.code)),
                ("vials", arg(dose.vials.len())),
            ],
        ),
    ))
}
