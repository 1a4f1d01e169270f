//! sea-orm entities: one file per table, mirroring the migrations. They stay
//! behind the services; the API answers with views made for it.

pub mod custody_event;
pub mod din_sequence;
pub mod donation;
pub mod donor;
pub mod lot;
pub mod qc_result;
pub mod screening_result;
pub mod session;
pub mod signature;
pub mod storage_unit;
pub mod user;
pub mod vial;
