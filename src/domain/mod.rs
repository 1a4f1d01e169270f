//! The rules, as pure functions over plain types: no database, no HTTP, no
//! clock (callers pass `now`). Values are parsed once at the edge into the
//! types here, so nothing past the edge re-checks them.

pub mod accounts;
pub mod actor;
pub mod assessment;
pub mod checkpoint;
pub mod codes;
pub mod coi;
pub mod correction;
pub mod din;
pub mod donor;
pub mod dose;
pub mod event;
pub mod history;
pub mod import;
pub mod infusion;
pub mod invalid;
pub mod label;
pub mod language;
pub mod ledger;
pub mod lifecycle;
pub mod lot;
pub mod paging;
pub mod patient;
pub mod printer;
pub mod protocol;
pub mod qc;
pub mod quantity;
pub mod reason;
pub mod replay;
pub mod scan;
pub mod sdtm;
pub mod shipment;
pub mod site;
pub mod storage;
pub mod temperature;
pub mod throttle;
pub mod units;
pub mod visits;
pub mod withdrawal;
pub mod zone;
