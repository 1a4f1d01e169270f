//! sea-orm entities: one file per table, mirroring the migrations. They stay
//! behind the services; the API answers with views made for it.

pub mod custody_event;
pub mod session;
pub mod signature;
pub mod user;
