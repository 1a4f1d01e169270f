//! Vial, lot and storage pages: a vial's place and history; a lot's QC
//! against the specification with release and rejection under signature,
//! its vials and labels; storage as tanks, racks and boxes drawn as grids.

pub mod box_map;
pub mod expiry;
pub mod lot;
pub mod storage;
pub mod temperature;
pub mod vial;
