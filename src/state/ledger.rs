//! The last full verification of the ledger, kept for the home page;
//! `services::ledger` runs it.

use chrono::{DateTime, Utc};

use crate::domain::ledger::ChainReport;

/// A full verification and when it ran.
#[derive(Debug, Clone)]
pub struct LedgerCheck {
    pub at: DateTime<Utc>,
    pub report: ChainReport,
}
