//! Patients, the pharmacist's dose worksheet (weight and calculation step by
//! step → reserve → post-thaw counts → the volume to draw in large type →
//! signature) and the bedside page (scan the wristband, scan the bag, a
//! match in green or a mismatch in red, then record the volume in mL, as
//! the bag says).
//!
//! Whatever the protocol asks a person to confirm (a weight far from the
//! last, an implausible count, a volume far from the bag's) is asked here
//! in words, with the numbers, and confirmed with a button; never as a
//! field name to send.
//!
//! By idea: [`patient`] (the list and a patient's page), [`weights`]
//! (recording and voiding them), [`course`] (where the course of
//! infusions stands), [`worksheet`] (the calculation and the order),
//! [`dose`] (the dose's page), [`preparation`] (its counts, replacement,
//! verification and cancellation) and [`bedside`].

pub mod bedside;
pub mod course;
pub mod dose;
pub mod patient;
pub mod preparation;
pub mod weights;
pub mod worksheet;
