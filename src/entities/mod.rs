//! sea-orm entities: one file per table, mirroring the migrations. They stay
//! behind the services; the API answers with views made for it.

pub mod adverse_event;
pub mod assessment;
mod columns;
pub mod custody_event;
pub mod demo_mark;
pub mod din_sequence;
pub mod donation;
pub mod donor;
pub mod dose;
pub mod dose_vial;
pub mod form_sending;
pub mod infusion;
pub mod ledger_checkpoint;
pub mod lot;
pub mod patient;
pub mod protocol_version;
pub mod qc_result;
pub mod screening_result;
pub mod session;
pub mod session_epoch;
pub mod sign_in_failure;
pub mod signature;
pub mod site;
pub mod storage_unit;
pub mod thaw_count;
pub mod user;
pub mod user_preference;
pub mod user_site;
pub mod vial;
pub mod weight;
