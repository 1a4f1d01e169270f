//! Bringing an existing bank in from one CSV file (`celltrail import`).
//!
//! The file is what a bank's spreadsheet looks like: one row per vial, the
//! donor, donation, lot and QC columns repeated on every row of a lot.
//! This module reads it into plain rows ([`parse`]), checks every cell and
//! every rule that spans rows ([`checks`]), holds the result against what
//! the database already has ([`existing`]) and cuts the work into chunks
//! that never split a lot ([`plan`]). Every problem is reported at once,
//! as `row:column: message`, with rows numbered as a spreadsheet numbers
//! them (the header is row 1); each problem is also a [`Kind`], a key of
//! `locales/*/import.ftl` and its values, which the English message is
//! rendered from and which a page says in its reader's language. Nothing
//! here touches the database or the clock: `now`, the site's zone and the
//! QC specification are passed in.

pub mod checks;
pub mod existing;
pub mod parse;
pub mod plan;
pub mod sample;
mod values;

use std::collections::BTreeMap;
use std::fmt;

use fluent_bundle::{FluentArgs, FluentValue};
use serde::Serialize;
use utoipa::ToSchema;

pub use checks::{Bank, Context, check_file};
pub use existing::{Existing, ExistingBox, ExistingDonation, ExistingDonor, check_against};
pub use parse::{Header, Row, read_rows};
pub use plan::{Chunk, chunks};

use crate::domain::language::Language;

/// The key of a problem said in free text (a rule's own English words,
/// such as a donor code's form): its one argument is `detail`.
pub const DETAIL: &str = "imp-problem-detail";

/// What a problem says, as the catalogue (`locales/*/import.ftl`) says
/// it: a message key (`imp-problem-volume-looks-like-ml`) and the values
/// it shows, by name (cells as typed, codes, numbers, times), never
/// translated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kind {
    pub code: &'static str,
    pub args: Vec<(&'static str, String)>,
}

impl Kind {
    pub fn new(code: &'static str, args: impl IntoIterator<Item = (&'static str, String)>) -> Kind {
        Kind {
            code,
            args: args.into_iter().collect(),
        }
    }

    /// Free English text (a rule outside the import says it).
    pub fn detail(text: impl Into<String>) -> Kind {
        Kind::new(DETAIL, [("detail", text.into())])
    }

    /// The problem in English, from the English catalogue: the CLI's and
    /// the API's words.
    pub fn english(&self) -> String {
        let mut fluent = FluentArgs::new();
        for (name, value) in &self.args {
            fluent.set(*name, FluentValue::from(value.clone()));
        }
        crate::i18n::text(Language::En, self.code, Some(&fluent))
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.english())
    }
}

/// One problem of the file: where (spreadsheet row, column name) and what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Problem {
    /// The row as a spreadsheet numbers it: the header is row 1.
    pub row: usize,
    pub column: String,
    /// What is wrong, in English: `code` with `args`, as the English
    /// catalogue says it.
    pub message: String,
    /// What is wrong, for a reader in another language: the message's key
    /// in the import catalogue (`imp-problem-volume-looks-like-ml`).
    pub code: String,
    /// The values the message shows, by the names the catalogue gives
    /// them (cells as typed, codes, numbers, times): never translated.
    pub args: BTreeMap<String, String>,
}

impl Problem {
    /// A problem said in free English text (`imp-problem-detail`).
    pub fn new(row: usize, column: impl Into<String>, message: impl Into<String>) -> Problem {
        Problem::at(row, column, Kind::detail(message))
    }

    /// A problem of `kind` at `row` and `column`; its English message is
    /// the catalogue's, so the two never disagree.
    pub fn at(row: usize, column: impl Into<String>, kind: Kind) -> Problem {
        Problem {
            row,
            column: column.into(),
            message: kind.english(),
            code: kind.code.to_owned(),
            args: kind
                .args
                .into_iter()
                .map(|(name, value)| (name.to_owned(), value))
                .collect(),
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

#[cfg(test)]
mod said;
