//! One module per aggregate. A service call is one transaction: it loads
//! what it needs, asks the domain, writes the change and its custody event,
//! and commits. Handlers never open transactions.

pub mod accounts;
pub mod adverse_events;
pub mod assessments;
pub mod auth;
pub mod backup;
pub mod checkpoints;
pub mod corrections;
pub mod demo_mark;
pub mod donations;
pub mod donors;
pub mod doses;
pub mod exports;
pub mod form_sendings;
pub mod history;
pub mod holds;
pub mod imports;
pub mod infusions;
pub mod labels;
pub mod ledger;
pub mod lists;
pub mod lots;
pub mod outcomes;
pub mod passwords;
pub mod patients;
pub mod preferences;
pub mod printing;
pub mod protocol;
pub mod qc;
pub mod recall;
pub mod replay;
pub mod scan;
pub mod sessions;
pub mod shipments;
pub mod signatures;
pub mod sites;
pub mod storage;
pub mod store;
pub mod temperature;
pub mod throttle;
pub mod trace;
pub mod vials;
pub mod visits;
pub mod withdrawals;
pub mod worklist;

pub use crate::domain::actor::Actor;
