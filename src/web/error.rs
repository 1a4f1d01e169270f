//! How a page says no: [`PageError`], which page handlers return with `?`
//! (an application error as the error page with its status, a form or role
//! refused to the session, or a form sent back to its page with the
//! refusal in words), and [`sentence`], which turns an application error
//! into words a person reads, in the page's language (Chinese from
//! [`crate::web::refusals`]; the English sentence otherwise).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::domain::accounts::Role;
use crate::domain::zone::SiteZone;
use crate::error::{AppError, AppResult};
use crate::i18n::{arg, t, t_with};
use crate::web::page::{error_page, redirect_with};

/// Why a page or a form was not carried out.
#[derive(Debug)]
pub enum PageError {
    /// The error page, with the error's status and its sentence.
    App(AppError),
    /// Refused to this session: the form's token or the person's role (403).
    Refused(Refused),
    /// A 303 back to the page the form was sent from, saying why in words.
    Back { to: String, message: String },
}

impl PageError {
    /// Back to `to` with `message` (a sentence already in words).
    pub fn back(to: &str, message: impl std::fmt::Display) -> Self {
        PageError::Back {
            to: to.to_owned(),
            message: message.to_string(),
        }
    }
}

impl From<AppError> for PageError {
    fn from(error: AppError) -> Self {
        PageError::App(error)
    }
}

impl From<Refused> for PageError {
    fn from(refused: Refused) -> Self {
        PageError::Refused(refused)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::App(error) => {
                let status = error.status();
                if status.is_server_error() {
                    tracing::error!(error = ?error, "page failed");
                }
                let message = sentence(&error, SiteZone::UTC);
                error_page(status, &crate::i18n::t("page-cannot-show"), &message)
            }
            PageError::Refused(refused) => refused.into_response(),
            PageError::Back { to, message } => redirect_with(&to, false, message),
        }
    }
}

/// What a form does when a service refuses it: back to the form's page,
/// with the refusal as a sentence in the site's time.
pub trait OrBack<T> {
    fn or_back(self, to: &str, zone: SiteZone) -> Result<T, PageError>;
}

impl<T> OrBack<T> for AppResult<T> {
    fn or_back(self, to: &str, zone: SiteZone) -> Result<T, PageError> {
        self.map_err(|error| PageError::back(to, sentence(&error, zone)))
    }
}

/// A form or page refused to this session (403).
#[derive(Debug)]
pub struct Refused {
    title: String,
    message: String,
}

impl Refused {
    /// A form whose CSRF token is not this session's.
    pub fn form_expired() -> Self {
        Refused {
            title: t("refused-form-expired-title"),
            message: t("refused-form-expired"),
        }
    }

    /// A role not among those a page or form admits.
    pub fn role(role: Role, admitted: &[Role]) -> Self {
        // English pages name the roles as the accounts page does (their
        // codes); a Chinese page by their words
        let chinese = crate::i18n::current() == crate::domain::language::Language::ZhCn;
        let name = |r: &Role| {
            if chinese {
                t(&format!("refusal-role-{}", r.as_str()))
            } else {
                r.as_str().to_owned()
            }
        };
        let admitted = admitted
            .iter()
            .map(name)
            .collect::<Vec<_>>()
            .join(if chinese { "、" } else { ", " });
        Refused {
            title: t("page-not-for-role"),
            message: t_with(
                "refused-role",
                &[("role", arg(name(&role))), ("admitted", arg(admitted))],
            ),
        }
    }

    /// The administrator on a product, patient or trace page.
    pub fn administrator() -> Self {
        Refused {
            title: t("page-not-for-role"),
            message: t("refused-administrator"),
        }
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        error_page(StatusCode::FORBIDDEN, &self.title, &self.message)
    }
}

/// An application error as a sentence a person understands: no field
/// names, no API hints, a capital and a full stop.
/// Times in it are the site's (`zone`). A page in Chinese says it in
/// Chinese; the English wording below stays as it is for English pages.
pub fn sentence(error: &AppError, zone: SiteZone) -> String {
    if crate::i18n::current() == crate::i18n::Language::ZhCn {
        return crate::web::refusals::chinese(error, zone);
    }
    let text = match error {
        AppError::InvalidField { message, .. } => message.clone(),
        AppError::LotExpired { code, expires_at, .. } => format!(
            "Lot {code} expired at {}; it may not be used",
            zone.minute(*expires_at)
        ),
        AppError::StaleWeight {
            measured_at,
            valid_days,
        } => format!(
            "The latest weight was measured {}, more than {valid_days} days ago; weigh the patient again",
            zone.minute(*measured_at)
        ),
        AppError::ThawedProductExpired { thawed_at, use_by } => format!(
            "The product thawed at {} had to be infused by {}; it may not be given",
            zone.minute(*thawed_at),
            zone.minute(*use_by)
        ),
        AppError::AccountLocked {
            until,
            retry_after_seconds,
        } => match retry_after_seconds {
            0..=120 => format!(
                "Too many wrong passwords; wait {retry_after_seconds} second{} and try again",
                if *retry_after_seconds == 1 { "" } else { "s" }
            ),
            _ => format!(
                "Too many wrong passwords; try again after {}",
                // rounded up to the minute shown
                zone.minute(*until + chrono::Duration::seconds(59))
            ),
        },
        AppError::MalformedRequest(_) => "The form could not be read; check every field and send it again".to_owned(),
        AppError::SiteRequired { count } => {
            format!("You work at {count} sites: choose the site this belongs to")
        }
        AppError::WeightChangeUnconfirmed { .. } => error
            .to_string()
            .replace(" (confirm_change: true for a weight, confirm_weight: true at enrolment)", ""),
        AppError::CountsRecorded { inner, .. } => format!(
            "{} The counts are recorded and the vials are thawed: correct a mistyped count (signed), replace the vial, or cancel the dose",
            sentence(inner, zone)
        ),
        other if other.status().is_server_error() => "Something went wrong on the server. The request was not carried out; try again, and tell the administrator if it keeps happening".to_owned(),
        other => other.to_string(),
    };
    let text = text.trim();
    let mut chars = text.chars();
    let mut out: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    };
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}
