//! `/donors/new`: the lab registers a donor under a pseudonymous code,
//! with the consent confirmed in words and its time. A refusal shows the
//! form again with what was typed and why, in words (nothing is recorded).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;

use crate::i18n::{arg, t, t_with};
use crate::services::donors;
use crate::state::AppState;
use crate::web::error::{PageError, sentence};
use crate::web::extract::{CsrfForm, PageUser, carries_csrf, roles};
use crate::web::page::{self, redirect_with};
use crate::web::user::WebUser;

#[derive(Debug, Default, Deserialize)]
pub struct RegisterForm {
    pub csrf: String,
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub consent_at: String,
    /// The box "the donor's mother signed the consent form": a browser
    /// sends it only when ticked.
    #[serde(default)]
    pub consent_confirmed: Option<String>,
}

carries_csrf!(RegisterForm);

pub async fn register_form(State(state): State<AppState>, user: PageUser<roles::Lab>) -> Response {
    let typed = RegisterForm {
        consent_at: user.field_time(state.clock.now()),
        ..RegisterForm::default()
    };
    page::show(
        &t("donor-new-title"),
        &user,
        register_view(&user, &typed, None),
    )
    .into_response()
}

/// Registers the donor (the API's `POST /donors`, lab); the donor's page
/// on success, the form again (422) with the refusal otherwise.
pub async fn register(
    State(state): State<AppState>,
    user: PageUser<roles::Lab>,
    CsrfForm(form): CsrfForm<RegisterForm>,
) -> Result<Response, PageError> {
    let refused = |message: String| -> Result<Response, PageError> {
        Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            page::show(
                &t("donor-new-title"),
                &user,
                register_view(&user, &form, Some(&message)),
            ),
        )
            .into_response())
    };
    // Consent comes first (21 CFR 1271.290 ties the product to a
    // consented donor): an unticked box is never read as consent.
    if form.consent_confirmed.is_none() {
        return refused(t("donor-new-consent-missing"));
    }
    let Some(consent_at) = user.typed_time(&form.consent_at) else {
        return refused(t("donor-new-consent-time-unreadable"));
    };
    match donors::register(&state, &user.user.actor(), &form.code, consent_at).await {
        Ok(record) => Ok(redirect_with(
            &format!("/donors/{}", record.donor.id),
            true,
            t_with("donor-new-registered", &[("code", arg(&record.donor.code))]),
        )),
        Err(error) => refused(sentence(&error, user.zone)),
    }
}

fn register_view(user: &WebUser, typed: &RegisterForm, error: Option<&str>) -> Markup {
    html! {
        h1 { (t("donor-new-title")) }
        @if let Some(error) = error { div class="msg bad" role="alert" { (error) } }
        form class="card" method="post" action="/donors/new" {
            input type="hidden" name="csrf" value=(user.csrf());
            label { (t("donor-new-code"))
                input class="code" name="code" value=(typed.code) required autocomplete="off" placeholder="UCD-0042";
            }
            p class="muted" { (t("donor-new-code-hint")) }
            fieldset {
                legend { (t("donor-new-consent-legend")) }
                label { (t_with("donor-new-consent-at", &[("zone", arg(user.zone.name()))]))
                    input type="datetime-local" name="consent_at" value=(typed.consent_at) required;
                }
                label {
                    input type="checkbox" name="consent_confirmed" value="yes" checked[typed.consent_confirmed.is_some()];
                    (t("donor-new-consent-confirm"))
                }
            }
            div class="actions" { button type="submit" { (t("donor-new-button")) } }
        }
    }
}
