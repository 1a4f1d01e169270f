//! The file read into rows: its header named column by column, and each
//! row's cells parsed (a cell that does not parse is a problem at its row
//! and column; the row's other cells are still read).

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::checks::Context;
use super::values;
use super::values::Whole;
use super::{Kind, Problem};
use crate::domain::codes::{MAX_LOTS_PER_DONATION, MAX_VIALS_PER_LOT, parse_product_code};
use crate::domain::din::{Din, DinError};
use crate::domain::donor::{
    Eligibility, ScreeningOutcome, ScreeningTest, Specimen, parse_donor_code,
};
use crate::domain::lot::PASSAGES;
use crate::domain::storage::{MAX_COLS, MAX_ROWS, Position, unit_name};

/// Screening tests a `screen_<test>` column may name.
pub const SCREENING_TESTS: [ScreeningTest; 6] = [
    ScreeningTest::Hiv,
    ScreeningTest::Hbv,
    ScreeningTest::Hcv,
    ScreeningTest::Syphilis,
    ScreeningTest::Htlv,
    ScreeningTest::Cmv,
];

/// What a column holds.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Column {
    DonorCode,
    ConsentAt,
    ScreenedAt,
    Specimen,
    Screen(ScreeningTest),
    Eligibility,
    EligibilityReason,
    Din,
    CollectedAt,
    ReceivedAt,
    LotNumber,
    LotCode,
    ProductCode,
    Passage,
    ManufacturedAt,
    ExpiresAt,
    FrozenAt,
    Qc(String),
    VialNumber,
    VialCode,
    CellsPerVial,
    VolumeUl,
    Tank,
    Rack,
    Box,
    BoxRows,
    BoxCols,
    Position,
}

/// The columns every file has; the rest are optional.
pub const REQUIRED: [&str; 20] = [
    "donor_code",
    "consent_at",
    "din",
    "collected_at",
    "received_at",
    "lot_number",
    "product_code",
    "passage",
    "manufactured_at",
    "expires_at",
    "frozen_at",
    "vial_number",
    "cells_per_vial",
    "volume_ul",
    "tank",
    "rack",
    "box",
    "box_rows",
    "box_cols",
    "position",
];

/// Which record a column describes: its value must agree on every row of
/// that record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    Donor,
    Donation,
    Lot,
    Box,
    Vial,
}

impl Column {
    fn named(name: &str, qc_tests: &[String]) -> Result<Column, Kind> {
        let column = match name {
            "donor_code" => Column::DonorCode,
            "consent_at" => Column::ConsentAt,
            "screened_at" => Column::ScreenedAt,
            "specimen" => Column::Specimen,
            "eligibility" => Column::Eligibility,
            "eligibility_reason" => Column::EligibilityReason,
            "din" => Column::Din,
            "collected_at" => Column::CollectedAt,
            "received_at" => Column::ReceivedAt,
            "lot_number" => Column::LotNumber,
            "lot_code" => Column::LotCode,
            "product_code" => Column::ProductCode,
            "passage" => Column::Passage,
            "manufactured_at" => Column::ManufacturedAt,
            "expires_at" => Column::ExpiresAt,
            "frozen_at" => Column::FrozenAt,
            "vial_number" => Column::VialNumber,
            "vial_code" => Column::VialCode,
            "cells_per_vial" => Column::CellsPerVial,
            "volume_ul" => Column::VolumeUl,
            "tank" => Column::Tank,
            "rack" => Column::Rack,
            "box" => Column::Box,
            "box_rows" => Column::BoxRows,
            "box_cols" => Column::BoxCols,
            "position" => Column::Position,
            other => {
                if let Some(test) = other.strip_prefix("screen_") {
                    return SCREENING_TESTS
                        .iter()
                        .find(|t| t.as_str() == test)
                        .map(|t| Column::Screen(*t))
                        .ok_or_else(|| {
                            Kind::new(
                                "imp-problem-unknown-screening-test",
                                [
                                    ("test", test.to_owned()),
                                    ("tests", SCREENING_TESTS.map(|t| t.as_str()).join(", ")),
                                ],
                            )
                        });
                }
                if let Some(test) = other.strip_prefix("qc_") {
                    return qc_tests
                        .iter()
                        .find(|t| *t == test)
                        .map(|t| Column::Qc(t.clone()))
                        .ok_or_else(|| {
                            Kind::new(
                                "imp-problem-unknown-qc-test",
                                [("test", test.to_owned()), ("tests", qc_tests.join(", "))],
                            )
                        });
                }
                if other == "volume_ml" {
                    return Err(Kind::new("imp-problem-volume-ml-column", []));
                }
                return Err(Kind::new(
                    "imp-problem-unknown-column",
                    [("name", other.to_owned())],
                ));
            }
        };
        Ok(column)
    }

    pub fn owner(&self) -> Owner {
        match self {
            Column::DonorCode
            | Column::ConsentAt
            | Column::ScreenedAt
            | Column::Specimen
            | Column::Screen(_)
            | Column::Eligibility
            | Column::EligibilityReason => Owner::Donor,
            Column::Din | Column::CollectedAt | Column::ReceivedAt => Owner::Donation,
            Column::LotNumber
            | Column::ProductCode
            | Column::Passage
            | Column::ManufacturedAt
            | Column::ExpiresAt
            | Column::FrozenAt
            | Column::Qc(_)
            | Column::CellsPerVial
            | Column::VolumeUl => Owner::Lot,
            Column::BoxRows | Column::BoxCols => Owner::Box,
            // a code is checked on its own row against the one computed
            Column::LotCode
            | Column::VialNumber
            | Column::VialCode
            | Column::Tank
            | Column::Rack
            | Column::Box
            | Column::Position => Owner::Vial,
        }
    }
}

/// The header: each column's name and meaning, in file order.
#[derive(Debug, Clone, Default)]
pub struct Header {
    pub names: Vec<String>,
    pub columns: Vec<Option<Column>>,
}

impl Header {
    pub fn index(&self, column: &Column) -> Option<usize> {
        self.columns.iter().position(|c| c.as_ref() == Some(column))
    }
}

/// One QC result as a row gives it, judged against the specification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QcCell {
    pub test: String,
    pub value: String,
    pub unit: Option<String>,
    pub pass: bool,
    pub specification: String,
}

/// One row's cells, parsed; `None` where the cell did not parse (a
/// problem says why) or an optional column is absent or empty.
#[derive(Debug, Clone, Default)]
pub struct Row {
    /// The spreadsheet's row number (header = 1).
    pub line: usize,
    /// Each cell trimmed, by column index.
    pub cells: Vec<String>,
    /// Whether every cell parsed.
    pub complete: bool,
    /// The columns (indices) whose cell did not parse.
    pub failed: Vec<usize>,
    pub donor_code: Option<String>,
    pub consent_at: Option<DateTime<Utc>>,
    pub screened_at: Option<DateTime<Utc>>,
    pub specimen: Option<Specimen>,
    pub screening: Vec<(ScreeningTest, ScreeningOutcome)>,
    pub eligibility: Option<Eligibility>,
    pub eligibility_reason: Option<String>,
    pub din: Option<Din>,
    pub collected_at: Option<DateTime<Utc>>,
    pub received_at: Option<DateTime<Utc>>,
    pub lot_number: Option<u32>,
    pub lot_code: Option<String>,
    pub product_code: Option<String>,
    pub passage: Option<i32>,
    pub manufactured_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub frozen_at: Option<DateTime<Utc>>,
    pub qc: Vec<QcCell>,
    pub vial_number: Option<u32>,
    pub vial_code: Option<String>,
    pub cells_per_vial: Option<i64>,
    pub volume_ul: Option<i64>,
    pub tank: Option<String>,
    /// `None` for a box kept straight in its tank (an empty `rack`).
    pub rack: Option<String>,
    pub box_name: Option<String>,
    pub box_rows: Option<u8>,
    pub box_cols: Option<u8>,
    pub position: Option<Position>,
}

/// Reads the file: its header and rows, and every problem of a single
/// cell. A UTF-8 byte order mark and CRLF line ends are taken in stride.
pub fn read_rows(bytes: &[u8], ctx: &Context<'_>) -> (Header, Vec<Row>, Vec<Problem>) {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut problems = Vec::new();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut records = reader.byte_records();
    let Some(first) = records.next() else {
        problems.push(Problem::at(
            1,
            "header",
            Kind::new("imp-problem-empty-file", []),
        ));
        return (Header::default(), Vec::new(), problems);
    };
    let first = match first {
        Ok(first) => first,
        Err(e) => {
            problems.push(Problem::at(
                1,
                "header",
                Kind::new("imp-problem-not-csv", [("detail", e.to_string())]),
            ));
            return (Header::default(), Vec::new(), problems);
        }
    };
    let qc_tests: Vec<String> = ctx.spec.tests.iter().map(|t| t.test.clone()).collect();
    let mut header = Header::default();
    for field in first.iter() {
        let name = String::from_utf8_lossy(field).trim().to_ascii_lowercase();
        let column = match Column::named(&name, &qc_tests) {
            Ok(column) => {
                if header.columns.iter().any(|c| c.as_ref() == Some(&column)) {
                    problems.push(Problem::at(
                        1,
                        &name,
                        Kind::new("imp-problem-column-twice", []),
                    ));
                    None
                } else {
                    Some(column)
                }
            }
            Err(kind) => {
                problems.push(Problem::at(1, &name, kind));
                None
            }
        };
        header.names.push(name);
        header.columns.push(column);
    }
    let missing: Vec<&str> = REQUIRED
        .iter()
        .filter(|name| !header.names.iter().any(|n| n == *name))
        .copied()
        .collect();
    for name in &missing {
        problems.push(Problem::at(
            1,
            *name,
            Kind::new("imp-problem-column-missing", []),
        ));
    }
    if !missing.is_empty() {
        return (header, Vec::new(), problems);
    }
    let mut rows = Vec::new();
    let mut line = 1;
    for record in records {
        match record {
            Ok(record) => {
                line = record
                    .position()
                    .map_or(line + 1, |p| usize::try_from(p.line()).unwrap_or(line + 1));
                if record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
                    continue; // a blank line
                }
                if record.len() != header.names.len() {
                    problems.push(Problem::at(
                        line,
                        "row",
                        Kind::new(
                            "imp-problem-cell-count",
                            [
                                ("cells", record.len().to_string()),
                                ("header", header.names.len().to_string()),
                            ],
                        ),
                    ));
                    continue;
                }
                let cells: Vec<String> = record
                    .iter()
                    .map(|f| String::from_utf8_lossy(f).trim().to_owned())
                    .collect();
                let mut row_problems = Vec::new();
                let row = read_row(&header, line, cells, ctx, &mut row_problems);
                problems.append(&mut row_problems);
                rows.push(row);
            }
            Err(e) => {
                line += 1;
                problems.push(Problem::at(
                    line,
                    "row",
                    Kind::new("imp-problem-row-unreadable", [("detail", e.to_string())]),
                ));
            }
        }
    }
    if rows.is_empty() && problems.is_empty() {
        problems.push(Problem::at(2, "row", Kind::new("imp-problem-no-rows", [])));
    }
    (header, rows, problems)
}

fn read_row(
    header: &Header,
    line: usize,
    cells: Vec<String>,
    ctx: &Context<'_>,
    problems: &mut Vec<Problem>,
) -> Row {
    let mut row = Row {
        line,
        ..Row::default()
    };
    let before = problems.len();
    for (i, column) in header.columns.iter().enumerate() {
        let Some(column) = column else { continue };
        let reported = problems.len();
        read_cell(&mut row, column, i, header, &cells, ctx, problems);
        if problems.len() > reported {
            row.failed.push(i);
        }
    }
    finish_row(row, header, cells, problems, before)
}

fn read_cell(
    row: &mut Row,
    column: &Column,
    i: usize,
    header: &Header,
    cells: &[String],
    ctx: &Context<'_>,
    problems: &mut Vec<Problem>,
) {
    let line = row.line;
    let zone = &ctx.zone;
    let now = ctx.now;
    {
        let raw = cells[i].as_str();
        let name = header.names[i].as_str();
        let mut fail = |kind: Kind| problems.push(Problem::at(line, name, kind));
        let required = |fail: &mut dyn FnMut(Kind)| {
            if raw.is_empty() {
                fail(Kind::new("imp-problem-required", []));
                false
            } else {
                true
            }
        };
        let time = |fail: &mut dyn FnMut(Kind)| match values::time(raw, zone, now) {
            Ok(t) => Some(t),
            Err(m) => {
                fail(m);
                None
            }
        };
        match column {
            Column::DonorCode => {
                if required(&mut fail) {
                    row.donor_code = parse_donor_code(raw)
                        .map_err(|e| fail(Kind::detail(e.message)))
                        .ok();
                }
            }
            Column::ConsentAt => {
                if required(&mut fail) {
                    row.consent_at = time(&mut fail);
                }
            }
            Column::ScreenedAt => {
                if !raw.is_empty() {
                    row.screened_at = time(&mut fail);
                }
            }
            Column::Specimen => {
                row.specimen = if raw.is_empty() {
                    Some(Specimen::Maternal)
                } else {
                    raw.to_ascii_lowercase()
                        .parse()
                        .map_err(|_| {
                            fail(Kind::new(
                                "imp-problem-specimen",
                                [("value", raw.to_owned())],
                            ))
                        })
                        .ok()
                };
            }
            Column::Screen(test) => {
                if !raw.is_empty() {
                    match raw.to_ascii_lowercase().parse::<ScreeningOutcome>() {
                        Ok(outcome) => row.screening.push((*test, outcome)),
                        Err(_) => fail(Kind::new(
                            "imp-problem-screening-outcome",
                            [("value", raw.to_owned())],
                        )),
                    }
                }
            }
            Column::Eligibility => {
                row.eligibility = if raw.is_empty() {
                    Some(Eligibility::Pending)
                } else {
                    raw.to_ascii_lowercase()
                        .parse()
                        .map_err(|_| {
                            fail(Kind::new(
                                "imp-problem-eligibility-word",
                                [("value", raw.to_owned())],
                            ))
                        })
                        .ok()
                };
            }
            Column::EligibilityReason => {
                row.eligibility_reason = (!raw.is_empty()).then(|| raw.to_owned());
            }
            Column::Din => {
                if required(&mut fail) {
                    row.din = din(raw).map_err(fail).ok();
                }
            }
            Column::CollectedAt => {
                if required(&mut fail) {
                    row.collected_at = time(&mut fail);
                }
            }
            Column::ReceivedAt => {
                if required(&mut fail) {
                    row.received_at = time(&mut fail);
                }
            }
            Column::LotNumber => {
                if required(&mut fail) {
                    row.lot_number =
                        values::whole(raw, 1..=i64::from(MAX_LOTS_PER_DONATION), Whole::LotNumber)
                            .map(|n| n as u32)
                            .map_err(fail)
                            .ok();
                }
            }
            Column::LotCode => {
                row.lot_code = (!raw.is_empty()).then(|| raw.to_ascii_uppercase());
            }
            Column::ProductCode => {
                if required(&mut fail) {
                    row.product_code = parse_product_code(raw)
                        .map_err(|e| fail(Kind::detail(e.message)))
                        .ok();
                }
            }
            Column::Passage => {
                if required(&mut fail) {
                    row.passage = values::whole(
                        raw,
                        i64::from(*PASSAGES.start())..=i64::from(*PASSAGES.end()),
                        Whole::Passage,
                    )
                    .map(|n| n as i32)
                    .map_err(fail)
                    .ok();
                }
            }
            Column::ManufacturedAt => {
                if required(&mut fail) {
                    row.manufactured_at = time(&mut fail);
                }
            }
            Column::ExpiresAt => {
                if required(&mut fail) {
                    // an expiry is a date to come: not held to "not in the future"
                    row.expires_at = values::time(raw, zone, DateTime::<Utc>::MAX_UTC)
                        .map_err(fail)
                        .ok();
                }
            }
            Column::FrozenAt => {
                if required(&mut fail) {
                    row.frozen_at = time(&mut fail);
                }
            }
            Column::Qc(test) => {
                if !raw.is_empty() {
                    let unit = ctx.spec.find(test).and_then(|s| s.unit.clone());
                    match ctx.spec.judge(test, raw, unit.as_deref()) {
                        Ok(j) => row.qc.push(QcCell {
                            test: j.test,
                            value: j.value,
                            unit: j.unit,
                            pass: j.pass,
                            specification: j.specification,
                        }),
                        Err(e) => fail(Kind::detail(e.to_string())),
                    }
                }
            }
            Column::VialNumber => {
                if required(&mut fail) {
                    row.vial_number =
                        values::whole(raw, 1..=i64::from(MAX_VIALS_PER_LOT), Whole::VialNumber)
                            .map(|n| n as u32)
                            .map_err(fail)
                            .ok();
                }
            }
            Column::VialCode => {
                row.vial_code = (!raw.is_empty()).then(|| raw.to_ascii_uppercase());
            }
            Column::CellsPerVial => {
                if required(&mut fail) {
                    row.cells_per_vial = values::cells(raw).map_err(fail).ok();
                }
            }
            Column::VolumeUl => {
                if required(&mut fail) {
                    row.volume_ul = values::volume_ul(raw).map_err(fail).ok();
                }
            }
            Column::Tank => {
                if required(&mut fail) {
                    row.tank = name_of(raw).map_err(fail).ok();
                }
            }
            Column::Rack => {
                if !raw.is_empty() {
                    row.rack = name_of(raw).map_err(fail).ok();
                }
            }
            Column::Box => {
                if required(&mut fail) {
                    row.box_name = name_of(raw).map_err(fail).ok();
                }
            }
            Column::BoxRows => {
                if required(&mut fail) {
                    row.box_rows = values::whole(raw, 1..=i64::from(MAX_ROWS), Whole::BoxRows)
                        .map(|n| n as u8)
                        .map_err(fail)
                        .ok();
                }
            }
            Column::BoxCols => {
                if required(&mut fail) {
                    row.box_cols = values::whole(raw, 1..=i64::from(MAX_COLS), Whole::BoxCols)
                        .map(|n| n as u8)
                        .map_err(fail)
                        .ok();
                }
            }
            Column::Position => {
                // checked against the box's size once both are read
                required(&mut fail);
            }
        }
    }
}

fn finish_row(
    mut row: Row,
    header: &Header,
    cells: Vec<String>,
    problems: &mut Vec<Problem>,
    before: usize,
) -> Row {
    let line = row.line;
    if let Some(i) = header.index(&Column::Position)
        && !cells[i].is_empty()
        && let (Some(rows), Some(cols)) = (row.box_rows, row.box_cols)
    {
        match Position::parse(&cells[i], rows, cols) {
            Ok(p) => row.position = Some(p),
            Err(e) => {
                row.failed.push(i);
                problems.push(Problem::at(
                    line,
                    "position",
                    Kind::new(
                        "imp-problem-position-outside",
                        [
                            ("value", e.given),
                            ("rows", e.rows.to_string()),
                            ("cols", e.cols.to_string()),
                            ("last", e.last),
                        ],
                    ),
                ));
            }
        }
    }
    if row.specimen.is_none() && header.index(&Column::Specimen).is_none() {
        row.specimen = Some(Specimen::Maternal);
    }
    if row.eligibility.is_none() && header.index(&Column::Eligibility).is_none() {
        row.eligibility = Some(Eligibility::Pending);
    }
    row.complete = problems.len() == before
        && row.donor_code.is_some()
        && row.din.is_some()
        && row.lot_number.is_some()
        && row.vial_number.is_some()
        && row.position.is_some();
    row.cells = cells;
    row
}

/// A DIN as found in a bank's records: its 13 characters and the check
/// character, with or without the display spaces.
fn din(raw: &str) -> Result<Din, Kind> {
    let compact: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.len() == 13 {
        return Err(Kind::new(
            "imp-problem-din-no-check",
            [("value", raw.to_owned())],
        ));
    }
    Din::parse_with_check(raw).map_err(|e| match e {
        DinError::CheckCharacterMismatch { given, expected } => Kind::new(
            "imp-problem-din-check-mismatch",
            [
                ("given", given.to_string()),
                ("expected", expected.to_string()),
            ],
        ),
        other => Kind::new(
            "imp-problem-din-invalid",
            [("value", raw.to_owned()), ("detail", other.to_string())],
        ),
    })
}

fn name_of(raw: &str) -> Result<String, Kind> {
    unit_name(raw)
        .map(str::to_owned)
        .map_err(|e| Kind::detail(e.message))
}

/// The rows of each value of a key, in file order.
pub fn group_by<K: Eq + std::hash::Hash + Clone>(
    rows: &[Row],
    key: impl Fn(&Row) -> Option<K>,
) -> (Vec<K>, HashMap<K, Vec<usize>>) {
    let mut order = Vec::new();
    let mut groups: HashMap<K, Vec<usize>> = HashMap::new();
    for (i, row) in rows.iter().enumerate() {
        if let Some(k) = key(row) {
            groups
                .entry(k.clone())
                .or_insert_with(|| {
                    order.push(k);
                    Vec::new()
                })
                .push(i);
        }
    }
    (order, groups)
}
