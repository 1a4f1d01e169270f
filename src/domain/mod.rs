//! The rules, as pure functions over plain types: no database, no HTTP, no
//! clock (callers pass `now`). Values are parsed once at the edge into the
//! newtypes here, so nothing past the edge re-checks them.

pub mod accounts;
pub mod ledger;
