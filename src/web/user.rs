//! The signed-in person of a page: who they are, their session's CSRF
//! token (derived from the session, so it needs no storage) and the site's
//! time zone every time on their pages is shown in.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use sha2::{Digest, Sha256};

use crate::domain::event::hex;
use crate::domain::zone::SiteZone;
use crate::services::auth::AuthenticatedUser;

/// The signed-in person of a page request.
#[derive(Debug, Clone)]
pub struct WebUser {
    pub user: AuthenticatedUser,
    token: String,
    /// The site's time zone: every time on a page is shown in it.
    pub zone: SiteZone,
}

impl WebUser {
    /// A signed-in user and the token their cookie carries.
    pub fn from_parts(user: AuthenticatedUser, token: &str, zone: SiteZone) -> Self {
        WebUser {
            user,
            token: token.to_owned(),
            zone,
        }
    }

    /// A time as people at the site read it: `2026-11-25 17:40 +08:00`.
    pub fn when(&self, t: DateTime<Utc>) -> String {
        self.zone.minute(t)
    }

    /// A site-local date: `2026-11-25`.
    pub fn date(&self, t: DateTime<Utc>) -> String {
        self.zone.day(t)
    }

    /// A time typed in a date-and-time field, which is the site's wall
    /// clock (`2026-11-25T09:40`), as an instant; `None` when it cannot be
    /// read or the site's clocks skipped it.
    pub fn typed_time(&self, text: &str) -> Option<DateTime<Utc>> {
        ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(text.trim(), f).ok())
            .and_then(|local| self.zone.from_local(local))
    }

    /// A site date typed as `2026-11-25`: the instant that day begins there.
    pub fn typed_day(&self, text: &str) -> Option<DateTime<Utc>> {
        NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
            .ok()
            .map(|day| self.zone.start_of(day))
    }

    /// An instant as a date-and-time field's value: the site's wall clock
    /// to the minute.
    pub fn field_time(&self, t: DateTime<Utc>) -> String {
        self.zone.iso(t).chars().take(16).collect()
    }

    /// The key a form of this session carries: the session's CSRF token
    /// and, after a dot, a token of this one form, so a form sent twice (a
    /// double click, a resend) is done once (`services::form_sendings`).
    /// Each call gives a new form token: one per form on a page.
    pub fn csrf(&self) -> String {
        let mut once = [0u8; 12];
        match getrandom::fill(&mut once) {
            Ok(()) => format!("{}.{}", csrf_for(&self.token), hex(&once)),
            Err(_) => csrf_for(&self.token),
        }
    }
}

/// Whether the form key `given` carries the CSRF token of the session
/// `token` (compared in constant time), with or without a form token.
pub fn csrf_matches(token: &str, given: &str) -> bool {
    let given = given.split_once('.').map_or(given, |(csrf, _)| csrf);
    let expected = csrf_for(token);
    given.len() == expected.len()
        && given
            .bytes()
            .zip(expected.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// The form's own token in a form key, if it carries one of the shape
/// `csrf` gives.
pub fn form_token(given: &str) -> Option<&str> {
    given
        .split_once('.')
        .map(|(_, once)| once)
        .filter(|once| once.len() == 24 && once.bytes().all(|b| b.is_ascii_hexdigit()))
}

pub(crate) fn csrf_for(token: &str) -> String {
    hex(&Sha256::digest(
        format!("celltrail-csrf:{token}").as_bytes(),
    ))[..32]
        .to_owned()
}
