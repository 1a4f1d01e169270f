//! Who acts: a signed-in person (the session behind a valid token) or the
//! system itself. Services take an [`Actor`] to name in the ledger; the
//! web and API edges find the [`AuthenticatedUser`] behind a request.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::accounts::Role;

/// Who does something: a signed-in person, or the system itself (first
/// start, the command line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub id: Option<Uuid>,
    pub username: String,
    pub full_name: String,
    pub role: Option<Role>,
}

impl Actor {
    /// The service acting on its own (bootstrap) or an operator at the
    /// server's command line, named for the ledger.
    pub fn system(name: &str) -> Self {
        Actor {
            id: None,
            username: format!("system:{name}"),
            full_name: format!("celltrail {name}"),
            role: None,
        }
    }
}

/// The person behind a valid token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticatedUser {
    pub user_id: Uuid,
    pub session_id: Uuid,
    pub username: String,
    pub full_name: String,
    pub role: Role,
    pub locked_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl AuthenticatedUser {
    pub fn actor(&self) -> Actor {
        Actor {
            id: Some(self.user_id),
            username: self.username.clone(),
            full_name: self.full_name.clone(),
            role: Some(self.role),
        }
    }
}
