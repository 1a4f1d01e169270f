//! One module per aggregate. A service call is one transaction: it loads
//! what it needs, asks the domain, writes the change and its custody event,
//! and commits. Handlers never open transactions.

pub mod accounts;
pub mod assessments;
pub mod auth;
pub mod backup;
pub mod checkpoints;
pub mod demo_mark;
pub mod donations;
pub mod donors;
pub mod doses;
pub mod infusions;
pub mod labels;
pub mod ledger;
pub mod lots;
pub mod outcomes;
pub mod passwords;
pub mod patients;
pub mod protocol;
pub mod qc;
pub mod recall;
pub mod replay;
pub mod scan;
pub mod sessions;
pub mod signatures;
pub mod storage;
pub mod store;
pub mod throttle;
pub mod trace;
pub mod vials;
pub mod worklist;

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
