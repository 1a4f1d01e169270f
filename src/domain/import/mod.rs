//! Bringing an existing bank in from one CSV file (`celltrail import`).
//!
//! The file is what a bank's spreadsheet looks like: one row per vial, the
//! donor, donation, lot and QC columns repeated on every row of a lot.
//! This module reads it into plain rows ([`parse`]), checks every cell and
//! every rule that spans rows ([`checks`]), holds the result against what
//! the database already has ([`existing`]) and cuts the work into chunks
//! that never split a lot ([`plan`]). Every problem is reported at once,
//! as `row:column: message`, with rows numbered as a spreadsheet numbers
//! them (the header is row 1). Nothing here touches the database or the
//! clock: `now`, the site's zone and the QC specification are passed in.

pub mod checks;
pub mod existing;
pub mod parse;
pub mod plan;
pub mod sample;
mod values;

use std::fmt;

use serde::Serialize;
use utoipa::ToSchema;

pub use checks::{Bank, Context, check_file};
pub use existing::{Existing, ExistingBox, ExistingDonation, ExistingDonor, check_against};
pub use parse::{Header, Row, read_rows};
pub use plan::{Chunk, chunks};

/// One problem of the file: where (spreadsheet row, column name) and what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Problem {
    /// The row as a spreadsheet numbers it: the header is row 1.
    pub row: usize,
    pub column: String,
    pub message: String,
}

impl Problem {
    pub fn new(row: usize, column: impl Into<String>, message: impl Into<String>) -> Problem {
        Problem {
            row,
            column: column.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.row, self.column, self.message)
    }
}

/// Problems in file order (row, then column as found).
pub fn sorted(mut problems: Vec<Problem>) -> Vec<Problem> {
    problems.sort_by_key(|p| p.row);
    problems
}

#[cfg(test)]
mod tests;
