//! Staff accounts: roles, usernames, the password policy and the lock after
//! wrong passwords in a signed-in session.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::invalid::Invalid;

/// What a person does in the trial decides what the service lets them do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Cell-lab staff: receive, process, freeze, store and thaw.
    Lab,
    /// Prepares weight-based doses and signs them.
    Pharmacist,
    /// Judges eligibility and QC, releases, rejects and recalls lots.
    Quality,
    /// Infusion nurses and investigators at the bedside.
    Clinician,
    /// Manages accounts; holds no product permissions.
    Admin,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Lab,
        Role::Pharmacist,
        Role::Quality,
        Role::Clinician,
        Role::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Lab => "lab",
            Role::Pharmacist => "pharmacist",
            Role::Quality => "quality",
            Role::Clinician => "clinician",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role {0:?}; expected one of lab, pharmacist, quality, clinician, admin")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == s)
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

/// A login name: 3 to 64 characters of lower-case letters, digits, `.`, `_`
/// and `-`, starting with a letter. Lower case only, so `JSmith` and `jsmith`
/// can never be two accounts.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Username(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "a username is 3 to 64 characters: lower-case letters, digits, '.', '_' or '-', starting with a letter"
)]
pub struct InvalidUsername;

impl Username {
    pub fn parse(raw: &str) -> Result<Self, InvalidUsername> {
        let name = raw.trim().to_ascii_lowercase();
        let well_formed = (3..=64).contains(&name.len())
            && name.starts_with(|c: char| c.is_ascii_lowercase())
            && name.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')
            });
        if well_formed {
            Ok(Username(name))
        } else {
            Err(InvalidUsername)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A person's full name as printed beside their electronic signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FullName(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a full name is 1 to 200 characters, without control characters")]
pub struct InvalidFullName;

impl FullName {
    pub fn parse(raw: &str) -> Result<Self, InvalidFullName> {
        let name = raw.trim();
        if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
            return Err(InvalidFullName);
        }
        Ok(FullName(name.to_owned()))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// The shortest password accepted (NIST SP 800-63B asks for at least 8;
/// the trial's policy is 10).
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longer inputs are refused before hashing so nobody can make the server
/// hash megabytes.
pub const MAX_PASSWORD_CHARS: usize = 128;

/// A new password that meets the policy. Existing passwords are only ever
/// compared against their hash and need no type.
#[derive(Clone, PartialEq, Eq)]
pub struct NewPassword(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WeakPassword {
    #[error("a password needs at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    #[error("a password may have at most {MAX_PASSWORD_CHARS} characters")]
    TooLong,
    #[error("a password may not be the username")]
    SameAsUsername,
}

impl NewPassword {
    pub fn parse(raw: &str, username: &Username) -> Result<Self, WeakPassword> {
        let chars = raw.chars().count();
        if chars < MIN_PASSWORD_CHARS {
            return Err(WeakPassword::TooShort);
        }
        if chars > MAX_PASSWORD_CHARS {
            return Err(WeakPassword::TooLong);
        }
        if raw.eq_ignore_ascii_case(username.as_str()) {
            return Err(WeakPassword::SameAsUsername);
        }
        Ok(NewPassword(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// A password nobody has, for timing-equalising dummy verifications.
    pub fn dummy() -> Self {
        NewPassword("celltrail-dummy-password-not-for-any-account".to_owned())
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(***)")
    }
}

/// Wrong passwords in a row in a signed-in session (signatures, password
/// changes) that lock an account. Wrong sign-ins never lock: they are
/// slowed down (`domain::throttle`), so nobody anonymous can lock anyone out.
pub const LOCKOUT_THRESHOLD: i32 = 5;
/// How long a locked account stays locked.
pub const LOCKOUT_MINUTES: i64 = 15;

/// What a failed password entry does to the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailedAttempt {
    /// Count it; the account stays open.
    Count { failed_logins: i32 },
    /// This was the last allowed failure: lock until the given time and
    /// start counting afresh after.
    Lock { until: DateTime<Utc> },
}

/// Decides the effect of one more wrong password after `failed_so_far`.
pub fn failed_attempt(failed_so_far: i32, now: DateTime<Utc>) -> FailedAttempt {
    let failed_logins = failed_so_far.saturating_add(1);
    if failed_logins >= LOCKOUT_THRESHOLD {
        FailedAttempt::Lock {
            until: now + Duration::minutes(LOCKOUT_MINUTES),
        }
    } else {
        FailedAttempt::Count { failed_logins }
    }
}

/// Whether an account is locked at `now`.
pub fn is_locked(locked_until: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    locked_until.is_some_and(|until| until > now)
}

/// A username refused, as the `username` field.
impl From<InvalidUsername> for Invalid {
    fn from(error: InvalidUsername) -> Invalid {
        Invalid::new("username", error.to_string())
    }
}

/// A full name refused, as the `full_name` field.
impl From<InvalidFullName> for Invalid {
    fn from(error: InvalidFullName) -> Invalid {
        Invalid::new("full_name", error.to_string())
    }
}

/// A role no one has, as the `role` field.
impl From<UnknownRole> for Invalid {
    fn from(error: UnknownRole) -> Invalid {
        Invalid::new("role", error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert!("Admin".parse::<Role>().is_err());
        assert!("".parse::<Role>().is_err());
    }

    #[test]
    fn usernames_are_lower_cased_and_checked() {
        assert_eq!(Username::parse(" JSmith ").unwrap().as_str(), "jsmith");
        assert_eq!(Username::parse("a.b_c-1").unwrap().as_str(), "a.b_c-1");
        for bad in [
            "",
            "ab",
            "1abc",
            "_abc",
            "jo smith",
            "jö",
            "a'--",
            &"a".repeat(65),
        ] {
            assert!(Username::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert!(Username::parse(&"a".repeat(64)).is_ok());
    }

    #[test]
    fn full_names_refuse_blank_and_control_characters() {
        assert!(FullName::parse("Dr. Ana Pérez").is_ok());
        assert!(FullName::parse("   ").is_err());
        assert!(FullName::parse("Ana\nPérez").is_err());
        assert!(FullName::parse(&"é".repeat(201)).is_err());
    }

    #[test]
    fn password_policy_counts_characters_not_bytes() {
        let user = Username::parse("jsmith").unwrap();
        assert_eq!(
            NewPassword::parse("123456789", &user),
            Err(WeakPassword::TooShort)
        );
        assert!(NewPassword::parse("1234567890", &user).is_ok());
        // nine two-byte characters are still nine characters
        assert_eq!(
            NewPassword::parse(&"é".repeat(9), &user),
            Err(WeakPassword::TooShort)
        );
        assert!(NewPassword::parse(&"x".repeat(128), &user).is_ok());
        assert_eq!(
            NewPassword::parse(&"x".repeat(129), &user),
            Err(WeakPassword::TooLong)
        );
        let long_name = Username::parse("jsmith-longname").unwrap();
        assert_eq!(
            NewPassword::parse("JSMITH-LONGNAME", &long_name),
            Err(WeakPassword::SameAsUsername)
        );
    }

    #[test]
    fn the_fifth_failure_in_a_row_locks_for_fifteen_minutes() {
        let now = Utc::now();
        for before in 0..4 {
            assert_eq!(
                failed_attempt(before, now),
                FailedAttempt::Count {
                    failed_logins: before + 1
                }
            );
        }
        assert_eq!(
            failed_attempt(4, now),
            FailedAttempt::Lock {
                until: now + Duration::minutes(15)
            }
        );
        assert_eq!(
            failed_attempt(i32::MAX, now),
            FailedAttempt::Lock {
                until: now + Duration::minutes(15)
            }
        );
    }

    #[test]
    fn a_lock_ends_at_its_time() {
        let now = Utc::now();
        assert!(!is_locked(None, now));
        assert!(is_locked(Some(now + Duration::seconds(1)), now));
        assert!(!is_locked(Some(now), now));
        assert!(!is_locked(Some(now - Duration::seconds(1)), now));
    }
}
