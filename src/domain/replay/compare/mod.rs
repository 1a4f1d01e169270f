//! Holding the tables against the replayed state: every row that differs,
//! either way, named in a report. One method per record kind, called in
//! a fixed order so the report names differences in the same order every
//! time: `products` compares vials, lots, doses, infusions and weights;
//! `records` QC results, donors, screening, storage units, accounts and
//! signatures.

use std::fmt;

use chrono::SecondsFormat;

mod patients;
mod products;
mod records;

use super::*;
use crate::domain::event::ledger_time;

/// Most differences a report names one by one; the rest are counted.
pub const MAX_NAMED: usize = 200;

/// A row whose table differs from what the ledger implies.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Difference {
    /// `vial`, `lot`, `dose`, `infusion`, `weight`, `qc_result`, `donor`,
    /// `screening_result`, `storage_unit`, `user` or `signature`.
    pub kind: &'static str,
    pub id: String,
    /// The row's code or name where it has one, else its id.
    pub name: String,
    /// What the table says (`absent` when it has no such row).
    pub table: String,
    /// What the ledger says (`absent` when no event made the row).
    pub ledger: String,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: table says {}, ledger says {}",
            self.kind.replace('_', " "),
            self.name,
            self.table,
            self.ledger
        )
    }
}

/// What the replay found.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct ReplayReport {
    /// Rows compared, all kinds together.
    pub rows_compared: u64,
    /// How many rows differ (all of them, named or not).
    pub differences: u64,
    /// The first [`MAX_NAMED`] differences.
    pub named: Vec<Difference>,
    /// Events whose details the replay could not read (their effects are
    /// unknown, so the rows they touch are not compared).
    pub unreadable_events: Vec<i64>,
}

impl ReplayReport {
    pub fn is_clean(&self) -> bool {
        self.differences == 0 && self.unreadable_events.is_empty()
    }

    fn differ(&mut self, difference: Difference) {
        self.differences += 1;
        if self.named.len() < MAX_NAMED {
            self.named.push(difference);
        }
    }
}

impl Replay {
    /// Holds the tables against the replayed state and names every row
    /// that differs, either way (a row no event made, an event's row that
    /// is gone).
    pub fn compare(&self, tables: &Tables) -> ReplayReport {
        let mut report = ReplayReport {
            unreadable_events: self.unreadable.clone(),
            ..ReplayReport::default()
        };
        self.compare_vials(tables, &mut report);
        self.compare_lots(tables, &mut report);
        self.compare_doses(tables, &mut report);
        self.compare_infusions(tables, &mut report);
        self.compare_weights(tables, &mut report);
        self.compare_qc(tables, &mut report);
        self.compare_donors(tables, &mut report);
        self.compare_screening(tables, &mut report);
        self.compare_storage(tables, &mut report);
        self.compare_users(tables, &mut report);
        self.compare_signatures(tables, &mut report);
        self.compare_patients(tables, &mut report);
        report
    }
}

fn time(t: DateTime<Utc>) -> String {
    ledger_time(t).to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn ended_text(ended: Option<DateTime<Utc>>) -> String {
    ended.map_or_else(|| "not ended".into(), |t| format!("ended {}", time(t)))
}

fn voided_text(voided: Option<DateTime<Utc>>) -> String {
    voided.map_or_else(|| "not voided".into(), |t| format!("voided {}", time(t)))
}

fn volume_text(volume: Option<i64>) -> String {
    volume.map_or_else(|| "no volume infused".into(), |v| format!("{v} µL infused"))
}

fn qc_text(test: &str, value: &str, pass: bool, investigation: Option<&str>) -> String {
    let verdict = if pass { "pass" } else { "fail" };
    match investigation {
        Some(conclusion) => format!("{test} {value} {verdict}, investigated: {conclusion}"),
        None => format!("{test} {value} {verdict}"),
    }
}

fn screening_text(test: &str, result: &str, invalidated: bool) -> String {
    if invalidated {
        format!("{test} {result}, invalidated")
    } else {
        format!("{test} {result}")
    }
}

fn storage_text(name: &str, kind: &str, parent: Option<Uuid>) -> String {
    match parent {
        Some(parent) => format!("{kind} {name} in {parent}"),
        None => format!("{kind} {name}"),
    }
}

fn user_text(username: &str, role: &str, active: bool) -> String {
    let state = if active { "active" } else { "deactivated" };
    format!("{username}, {role}, {state}")
}

fn signature_text(
    signer: &str,
    signer_id: Uuid,
    meaning: &str,
    at: DateTime<Utc>,
    action: &str,
    subject_id: Uuid,
    hash: &str,
) -> String {
    format!(
        "signed by {signer} ({signer_id}) meaning \"{meaning}\" at {} for {action} of {subject_id}, event hash {hash}",
        time(at)
    )
}

fn differs(kind: &'static str, id: Uuid, name: &str, table: &str, ledger: &str) -> Difference {
    Difference {
        kind,
        id: id.to_string(),
        name: name.to_owned(),
        table: table.to_owned(),
        ledger: ledger.to_owned(),
    }
}

fn absent_in_ledger(kind: &'static str, id: Uuid, name: &str, table: &str) -> Difference {
    differs(kind, id, name, table, "absent (no event made it)")
}

fn absent_in_table(kind: &'static str, id: Uuid, name: &str) -> Difference {
    differs(kind, id, name, "absent", "it exists")
}
