//! The rules that span rows: a donor's, donation's, lot's and box's
//! columns agree on every row; dates follow each other; positions are not
//! shared; one lot's cells per vial is not ten times the others'; and,
//! when quality releases in the same act, every lot can be released.
//! The result is the [`Bank`]: the file's records, each once.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use super::parse::{Column, Header, Owner, QcCell, Row, group_by, read_rows};
use super::{Kind, Problem};
use crate::domain::codes::{lot_code, vial_code};
use crate::domain::din::Din;
use crate::domain::donor::{
    Eligibility, Screening, ScreeningOutcome, ScreeningTest, Specimen, screening_gaps,
};
use crate::domain::qc::{ResultFact, Specification, standing};
use crate::domain::storage::Position;
use crate::domain::zone::SiteZone;

/// What the checks need besides the file.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    /// The importing site's zone: `YYYY-MM-DD HH:MM` times are read in it.
    pub zone: SiteZone,
    pub now: DateTime<Utc>,
    pub spec: &'a Specification,
    /// Quality releases every lot in the act that accepts the import.
    pub release: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DonorEntry {
    pub row: usize,
    pub code: String,
    pub consent_at: DateTime<Utc>,
    pub screened_at: Option<DateTime<Utc>>,
    pub specimen: Specimen,
    pub screening: Vec<(ScreeningTest, ScreeningOutcome)>,
    pub eligibility: Eligibility,
    pub eligibility_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DonationEntry {
    pub row: usize,
    pub donor: usize,
    pub din: Din,
    pub collected_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VialEntry {
    pub row: usize,
    pub number: u32,
    pub code: String,
    /// Index into [`Bank::boxes`].
    pub storage_box: usize,
    pub position: Position,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LotEntry {
    pub row: usize,
    pub donation: usize,
    pub number: u32,
    pub code: String,
    pub product_code: String,
    pub passage: i32,
    pub manufactured_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub frozen_at: DateTime<Utc>,
    pub cells_per_vial: i64,
    pub volume_ul: i64,
    pub qc: Vec<QcCell>,
    pub vials: Vec<VialEntry>,
}

/// A box as the file names it: tank › rack › box, with its size.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BoxPath {
    pub tank: String,
    pub rack: Option<String>,
    pub name: String,
}

impl BoxPath {
    pub fn display(&self) -> String {
        match &self.rack {
            Some(rack) => format!("{} › {} › {}", self.tank, rack, self.name),
            None => format!("{} › {}", self.tank, self.name),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct BoxEntry {
    pub row: usize,
    pub path: BoxPath,
    pub rows: u8,
    pub cols: u8,
}

/// The file's records, each once, in the order the file first names them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Bank {
    pub donors: Vec<DonorEntry>,
    pub donations: Vec<DonationEntry>,
    pub lots: Vec<LotEntry>,
    pub boxes: Vec<BoxEntry>,
    /// Vial rows in the file.
    pub rows: usize,
}

impl Bank {
    pub fn vials(&self) -> usize {
        self.lots.iter().map(|l| l.vials.len()).sum()
    }
}

/// Checks the whole file on its own (the database's side is
/// [`super::check_against`]); returns its records and every problem.
pub fn check_file(bytes: &[u8], ctx: &Context<'_>) -> (Bank, Vec<Problem>) {
    let (header, rows, mut problems) = read_rows(bytes, ctx);
    if rows.is_empty() {
        return (Bank::default(), problems);
    }
    agreement(&header, &rows, &mut problems);
    let bank = records(&rows, &mut problems);
    rules(&bank, ctx, &mut problems);
    (bank, super::sorted(problems))
}

/// Each record's columns agree on every row naming it: a disagreement is
/// reported at the row and column where it differs from the record's
/// first row.
fn agreement(header: &Header, rows: &[Row], problems: &mut Vec<Problem>) {
    let cell = |row: &Row, column: &Column| {
        header
            .index(column)
            .map(|i| row.cells[i].to_ascii_uppercase())
    };
    let check = |owners: &[Owner],
                 groups: HashMap<String, Vec<usize>>,
                 differs: &'static str,
                 problems: &mut Vec<Problem>| {
        let mut groups: Vec<_> = groups.into_iter().collect();
        groups.sort_by_key(|(_, members)| members[0]);
        for (key, members) in groups {
            let first = &rows[members[0]];
            for &i in &members[1..] {
                let row = &rows[i];
                for (c, column) in header.columns.iter().enumerate() {
                    let Some(column) = column else { continue };
                    if !owners.contains(&column.owner()) {
                        continue;
                    }
                    // a cell that did not parse is reported as such, not again
                    if first.failed.contains(&c) || row.failed.contains(&c) {
                        continue;
                    }
                    if !first.cells[c].eq_ignore_ascii_case(&row.cells[c]) {
                        problems.push(Problem::at(
                            row.line,
                            &header.names[c],
                            Kind::new(
                                differs,
                                [
                                    ("value", row.cells[c].clone()),
                                    ("first_row", first.line.to_string()),
                                    ("first_value", first.cells[c].clone()),
                                    ("key", key.clone()),
                                ],
                            ),
                        ));
                    }
                }
            }
        }
    };
    let (_, donors) = group_by(rows, |r| {
        cell(r, &Column::DonorCode).filter(|c| !c.is_empty())
    });
    check(
        &[Owner::Donor],
        donors,
        "imp-problem-differs-donor",
        problems,
    );
    let (_, donations) = group_by(rows, |r| r.din.as_ref().map(Din::compact));
    // a donation is one donor's: the donor code is part of it
    let donation_owned = |problems: &mut Vec<Problem>| {
        let mut groups: Vec<_> = donations.iter().collect();
        groups.sort_by_key(|(_, m)| m[0]);
        for (din, members) in groups {
            let first = &rows[members[0]];
            for &i in &members[1..] {
                let row = &rows[i];
                if let (Some(a), Some(b)) = (&first.donor_code, &row.donor_code)
                    && a != b
                {
                    problems.push(Problem::at(
                        row.line,
                        "donor_code",
                        Kind::new(
                            "imp-problem-donation-other-donor",
                            [
                                ("din", din.clone()),
                                ("donor", a.clone()),
                                ("first_row", first.line.to_string()),
                                ("other", b.clone()),
                            ],
                        ),
                    ));
                }
            }
        }
    };
    donation_owned(problems);
    check(
        &[Owner::Donation],
        donations,
        "imp-problem-differs-donation",
        problems,
    );
    let (_, lots) = group_by(rows, |r| {
        Some(format!(
            "{}-L{:02}",
            r.din.as_ref()?.compact(),
            r.lot_number?
        ))
    });
    check(&[Owner::Lot], lots, "imp-problem-differs-lot", problems);
    let (_, boxes) = group_by(rows, |r| {
        Some(
            BoxPath {
                tank: r.tank.clone()?,
                rack: r.rack.clone(),
                name: r.box_name.clone()?,
            }
            .display(),
        )
    });
    check(&[Owner::Box], boxes, "imp-problem-differs-box", problems);
}

/// The records, each from the first complete row naming it.
fn records(rows: &[Row], problems: &mut Vec<Problem>) -> Bank {
    let mut bank = Bank {
        rows: rows.len(),
        ..Bank::default()
    };
    let mut donors: HashMap<String, usize> = HashMap::new();
    let mut donations: HashMap<String, usize> = HashMap::new();
    let mut lots: HashMap<String, usize> = HashMap::new();
    let mut boxes: HashMap<BoxPath, usize> = HashMap::new();
    let mut positions: HashMap<(usize, Position), usize> = HashMap::new();
    let mut vial_numbers: HashSet<(usize, u32)> = HashSet::new();
    for row in rows.iter().filter(|r| r.complete) {
        let (Some(code), Some(din), Some(lot_number), Some(vial_number), Some(position)) = (
            row.donor_code.clone(),
            row.din.clone(),
            row.lot_number,
            row.vial_number,
            row.position,
        ) else {
            continue;
        };
        let Some(entry) = (|| {
            let donor = *donors.entry(code.clone()).or_insert_with(|| {
                bank.donors.push(DonorEntry {
                    row: row.line,
                    code: code.clone(),
                    consent_at: row.consent_at.unwrap_or_default(),
                    screened_at: row.screened_at,
                    specimen: row.specimen.unwrap_or(Specimen::Maternal),
                    screening: row.screening.clone(),
                    eligibility: row.eligibility.unwrap_or(Eligibility::Pending),
                    eligibility_reason: row.eligibility_reason.clone(),
                });
                bank.donors.len() - 1
            });
            let compact = din.compact();
            let donation = *donations.entry(compact.clone()).or_insert_with(|| {
                bank.donations.push(DonationEntry {
                    row: row.line,
                    donor,
                    din: din.clone(),
                    collected_at: row.collected_at.unwrap_or_default(),
                    received_at: row.received_at.unwrap_or_default(),
                });
                bank.donations.len() - 1
            });
            let code = lot_code(&compact, lot_number);
            let lot = *lots.entry(code.clone()).or_insert_with(|| {
                bank.lots.push(LotEntry {
                    row: row.line,
                    donation,
                    number: lot_number,
                    code: code.clone(),
                    product_code: row.product_code.clone().unwrap_or_default(),
                    passage: row.passage.unwrap_or_default(),
                    manufactured_at: row.manufactured_at.unwrap_or_default(),
                    expires_at: row.expires_at.unwrap_or_default(),
                    frozen_at: row.frozen_at.unwrap_or_default(),
                    cells_per_vial: row.cells_per_vial.unwrap_or_default(),
                    volume_ul: row.volume_ul.unwrap_or_default(),
                    qc: row.qc.clone(),
                    vials: Vec::new(),
                });
                bank.lots.len() - 1
            });
            let path = BoxPath {
                tank: row.tank.clone()?,
                rack: row.rack.clone(),
                name: row.box_name.clone()?,
            };
            let storage_box = *boxes.entry(path.clone()).or_insert_with(|| {
                bank.boxes.push(BoxEntry {
                    row: row.line,
                    path,
                    rows: row.box_rows.unwrap_or(1),
                    cols: row.box_cols.unwrap_or(1),
                });
                bank.boxes.len() - 1
            });
            Some((lot, storage_box))
        })() else {
            continue;
        };
        let (lot, storage_box) = entry;
        let lot_entry = &mut bank.lots[lot];
        if let Some(given) = &row.lot_code
            && *given != lot_entry.code
        {
            problems.push(Problem::at(
                row.line,
                "lot_code",
                Kind::new(
                    "imp-problem-lot-code-mismatch",
                    [
                        ("given", given.clone()),
                        ("number", lot_number.to_string()),
                        ("din", din.compact()),
                        ("code", lot_entry.code.clone()),
                    ],
                ),
            ));
        }
        let code = vial_code(&lot_entry.code, vial_number);
        if let Some(given) = &row.vial_code
            && *given != code
        {
            problems.push(Problem::at(
                row.line,
                "vial_code",
                Kind::new(
                    "imp-problem-vial-code-mismatch",
                    [
                        ("given", given.clone()),
                        ("number", vial_number.to_string()),
                        ("lot", lot_entry.code.clone()),
                        ("code", code.clone()),
                    ],
                ),
            ));
        }
        if !vial_numbers.insert((lot, vial_number)) {
            problems.push(Problem::at(
                row.line,
                "vial_number",
                Kind::new(
                    "imp-problem-vial-number-twice",
                    [
                        ("lot", lot_entry.code.clone()),
                        ("number", vial_number.to_string()),
                    ],
                ),
            ));
            continue;
        }
        if let Some(other) = positions.insert((storage_box, position), row.line) {
            problems.push(Problem::at(
                row.line,
                "position",
                Kind::new(
                    "imp-problem-position-shared",
                    [
                        ("box", bank.boxes[storage_box].path.display()),
                        ("position", position.to_string()),
                        ("other_row", other.to_string()),
                    ],
                ),
            ));
            continue;
        }
        lot_entry.vials.push(VialEntry {
            row: row.line,
            number: vial_number,
            code,
            storage_box,
            position,
        });
    }
    bank
}

/// Within this many times the median, a lot's cells per vial is
/// plausible; further off, a zero was probably added or dropped.
pub const CELLS_OUTLIER_FACTOR: i64 = 5;

fn rules(bank: &Bank, ctx: &Context<'_>, problems: &mut Vec<Problem>) {
    let mut collections: HashMap<usize, Vec<DateTime<Utc>>> = HashMap::new();
    for donation in &bank.donations {
        let donor = &bank.donors[donation.donor];
        collections
            .entry(donation.donor)
            .or_default()
            .push(donation.collected_at);
        if donation.collected_at < donor.consent_at {
            problems.push(Problem::at(
                donation.row,
                "collected_at",
                Kind::new(
                    "imp-problem-collected-before-consent",
                    [("donor", donor.code.clone())],
                ),
            ));
        }
        if donation.received_at < donation.collected_at {
            problems.push(Problem::at(
                donation.row,
                "received_at",
                Kind::new("imp-problem-received-before-collected", []),
            ));
        }
    }
    for (i, donor) in bank.donors.iter().enumerate() {
        donor_rules(
            donor,
            collections.get(&i).map_or(&[][..], Vec::as_slice),
            problems,
        );
    }
    let mut cells: Vec<i64> = bank.lots.iter().map(|l| l.cells_per_vial).collect();
    cells.sort_unstable();
    let median = (cells.len() >= 3).then(|| cells[cells.len() / 2]);
    for lot in &bank.lots {
        let donation = &bank.donations[lot.donation];
        if lot.expires_at <= lot.manufactured_at {
            problems.push(Problem::at(
                lot.row,
                "expires_at",
                Kind::new("imp-problem-expires-before-made", []),
            ));
        }
        if lot.manufactured_at < donation.collected_at {
            problems.push(Problem::at(
                lot.row,
                "manufactured_at",
                Kind::new("imp-problem-made-before-collected", []),
            ));
        }
        if lot.frozen_at < lot.manufactured_at {
            problems.push(Problem::at(
                lot.row,
                "frozen_at",
                Kind::new("imp-problem-frozen-before-made", []),
            ));
        }
        if let Some(median) = median
            && (lot.cells_per_vial >= median.saturating_mul(CELLS_OUTLIER_FACTOR)
                || lot.cells_per_vial.saturating_mul(CELLS_OUTLIER_FACTOR) <= median)
        {
            problems.push(Problem::at(
                lot.row,
                "cells_per_vial",
                Kind::new(
                    "imp-problem-cells-outlier",
                    [
                        ("cells", lot.cells_per_vial.to_string()),
                        ("median", median.to_string()),
                    ],
                ),
            ));
        }
        if ctx.release {
            release_rules(bank, lot, ctx, problems);
        }
    }
}

fn donor_rules(donor: &DonorEntry, collections: &[DateTime<Utc>], problems: &mut Vec<Problem>) {
    if !donor.screening.is_empty() && donor.screened_at.is_none() {
        problems.push(Problem::at(
            donor.row,
            "screened_at",
            Kind::new("imp-problem-screening-time-missing", []),
        ));
        return;
    }
    let results: Vec<Screening> = donor
        .screening
        .iter()
        .map(|(test, outcome)| Screening {
            test: *test,
            outcome: *outcome,
            tested_at: donor.screened_at.unwrap_or_default(),
            invalidated: false,
        })
        .collect();
    let reactive: Vec<&Screening> = results.iter().filter(|s| s.is_reactive()).collect();
    if let Some(first) = reactive.first()
        && donor.eligibility != Eligibility::Ineligible
    {
        problems.push(Problem::at(
            donor.row,
            format!("screen_{}", first.test),
            Kind::new(
                "imp-problem-reactive-needs-ineligible",
                [("outcome", first.outcome.to_string())],
            ),
        ));
    }
    match donor.eligibility {
        Eligibility::Ineligible if donor.eligibility_reason.is_none() => {
            problems.push(Problem::at(
                donor.row,
                "eligibility_reason",
                Kind::new("imp-problem-reason-missing", []),
            ));
        }
        Eligibility::Eligible => {
            let gaps = screening_gaps(&results, collections);
            if !gaps.is_empty() && reactive.is_empty() {
                let missing = ("missing", gaps.missing.join(", "));
                let window = ("window", gaps.outside_window.join(", "));
                let kind = match (gaps.missing.is_empty(), gaps.outside_window.is_empty()) {
                    (false, true) => Kind::new("imp-problem-not-eligible-missing", [missing]),
                    (true, false) => Kind::new("imp-problem-not-eligible-window", [window]),
                    _ => Kind::new("imp-problem-not-eligible-both", [missing, window]),
                };
                problems.push(Problem::at(donor.row, "eligibility", kind));
            }
        }
        _ => {}
    }
}

/// Release in the same act follows the normal rule: donor eligible, every
/// required QC result passing, not expired.
fn release_rules(bank: &Bank, lot: &LotEntry, ctx: &Context<'_>, problems: &mut Vec<Problem>) {
    let donor = &bank.donors[bank.donations[lot.donation].donor];
    if donor.eligibility != Eligibility::Eligible {
        problems.push(Problem::at(
            lot.row,
            "eligibility",
            Kind::new(
                "imp-problem-release-donor",
                [
                    ("lot", lot.code.clone()),
                    ("donor", donor.code.clone()),
                    ("eligibility", donor.eligibility.to_string()),
                ],
            ),
        ));
    }
    let facts: Vec<ResultFact<'_>> = lot
        .qc
        .iter()
        .map(|q| ResultFact {
            test: &q.test,
            pass: q.pass,
            investigation: None,
        })
        .collect();
    let standing = standing(ctx.spec, &facts);
    for test in &standing.missing {
        problems.push(Problem::at(
            lot.row,
            format!("qc_{test}"),
            Kind::new(
                "imp-problem-release-qc-missing",
                [("lot", lot.code.clone()), ("test", test.to_string())],
            ),
        ));
    }
    for test in &standing.failed {
        problems.push(Problem::at(
            lot.row,
            format!("qc_{test}"),
            Kind::new(
                "imp-problem-release-qc-failed",
                [("lot", lot.code.clone()), ("test", test.to_string())],
            ),
        ));
    }
    if lot.expires_at <= ctx.now {
        problems.push(Problem::at(
            lot.row,
            "expires_at",
            Kind::new("imp-problem-release-expired", [("lot", lot.code.clone())]),
        ));
    }
}
