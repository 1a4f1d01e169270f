//! Data taken out of celltrail for others: the sponsor's SDTM datasets
//! (`sdtm`: exposure, adverse events, questionnaires), read-only.

pub mod sdtm;
