use chrono::{DateTime, Utc};

use super::sample::Sample;
use super::*;
use crate::domain::qc::Specification;
use crate::domain::zone::SiteZone;

fn now() -> DateTime<Utc> {
    "2026-11-27T00:00:00Z".parse().unwrap()
}

fn check(text: &str, release: bool) -> (Bank, Vec<Problem>) {
    let spec = Specification::seed();
    let ctx = Context {
        zone: SiteZone::parse("Asia/Shanghai").unwrap(),
        now: now(),
        spec: &spec,
        release,
    };
    check_file(text.as_bytes(), &ctx)
}

fn lines(text: &str) -> Vec<String> {
    text.lines().map(str::to_owned).collect()
}

/// Replaces the cell `column` of spreadsheet row `row`.
fn set(text: &str, row: usize, column: &str, value: &str) -> String {
    let mut lines = lines(text);
    let index = lines[0].split(',').position(|c| c == column).unwrap();
    let mut cells: Vec<String> = lines[row - 1].split(',').map(str::to_owned).collect();
    cells[index] = value.to_owned();
    lines[row - 1] = cells.join(",");
    lines.join("\n") + "\n"
}

fn at(problems: &[Problem]) -> Vec<String> {
    problems
        .iter()
        .map(|p| format!("{}:{}", p.row, p.column))
        .collect()
}

#[test]
fn a_clean_file_gives_its_records() {
    let text = Sample::new(4, 30, now()).csv();
    let (bank, problems) = check(&text, true);
    assert!(problems.is_empty(), "{problems:#?}");
    assert_eq!(
        (
            bank.donors.len(),
            bank.donations.len(),
            bank.lots.len(),
            bank.vials()
        ),
        (4, 4, 4, 120)
    );
    // 120 vials in 9×9 boxes
    assert_eq!(bank.boxes.len(), 2);
    assert_eq!(
        bank.lots[0].vials[0].code,
        format!("{}-V001", bank.lots[0].code)
    );
}

#[test]
fn a_byte_order_mark_and_crlf_are_read() {
    let text = Sample::new(2, 3, now()).csv().replace('\n', "\r\n");
    let with_bom = format!("\u{feff}{text}");
    let (bank, problems) = check(&with_bom, false);
    assert!(problems.is_empty(), "{problems:#?}");
    assert_eq!(bank.vials(), 6);
}

#[test]
fn a_tired_persons_slips_are_each_named_at_their_row_and_column() {
    let mut text = Sample::new(5, 10, now()).csv();
    text = set(&text, 2, "volume_ul", "1.0"); // mL typed as µL (and a lot disagreement on row 3..)
    text = set(&text, 13, "din", "B123425000002X"); // wrong check character
    text = set(&text, 24, "position", "K1"); // outside a 9×9 box
    text = set(&text, 26, "position", "C6"); // row 25's position
    text = set(&text, 32, "expires_at", "2026-01-01T00:00:00Z");
    text = set(&text, 42, "qc_endotoxin", "low");
    let (_, problems) = check(&text, false);
    let found = at(&problems);
    for expected in [
        "2:volume_ul",
        "13:din",
        "24:position",
        "26:position",
        "42:qc_endotoxin",
    ] {
        assert!(
            found.contains(&expected.to_string()),
            "{expected} not in {problems:#?}"
        );
    }
    // row 32 disagrees with its lot's first row, and row 32 is not the first row
    assert!(
        found.contains(&"32:expires_at".to_string()),
        "{problems:#?}"
    );
    let volume = problems.iter().find(|p| p.column == "volume_ul").unwrap();
    assert!(volume.message.contains("1000"), "{}", volume.message);
    let line = problems[0].to_string();
    assert!(line.starts_with("2:volume_ul: "), "{line}");
}

#[test]
fn an_expiry_before_manufacture_on_a_lots_every_row_is_one_problem() {
    let mut text = Sample::new(3, 2, now()).csv();
    for row in [4, 5] {
        text = set(&text, row, "expires_at", "2025-01-01T00:00:00Z");
    }
    let (_, problems) = check(&text, false);
    assert_eq!(at(&problems), ["4:expires_at"], "{problems:#?}");
}

#[test]
fn cells_ten_times_off_the_others_are_named() {
    let mut text = Sample::new(4, 2, now()).csv();
    for row in [6, 7] {
        text = set(&text, row, "cells_per_vial", "20000000");
    }
    let (_, problems) = check(&text, false);
    assert_eq!(at(&problems), ["6:cells_per_vial"], "{problems:#?}");
}

#[test]
fn unknown_tests_and_columns_are_named_in_the_header() {
    let text = Sample::new(1, 1, now())
        .csv()
        .replacen("qc_cd19", "qc_cd99", 1)
        .replacen("screen_cmv", "screen_ebv", 1)
        .replacen("volume_ul", "volume_ml", 1);
    let (_, problems) = check(&text, false);
    let found = at(&problems);
    assert!(found.contains(&"1:qc_cd99".into()), "{problems:#?}");
    assert!(found.contains(&"1:screen_ebv".into()), "{problems:#?}");
    assert!(found.contains(&"1:volume_ml".into()), "{problems:#?}");
}

#[test]
fn release_in_the_same_act_needs_every_lot_releasable() {
    let mut text = Sample::new(2, 2, now()).csv();
    text = set(&text, 2, "qc_viability", "");
    text = set(&text, 3, "qc_viability", "");
    text = set(&text, 4, "qc_sterility", "positive");
    text = set(&text, 5, "qc_sterility", "positive");
    let (_, problems) = check(&text, false);
    assert!(problems.is_empty(), "{problems:#?}");
    let (_, problems) = check(&text, true);
    assert_eq!(
        at(&problems),
        ["2:qc_viability", "4:qc_sterility"],
        "{problems:#?}"
    );
}

#[test]
fn a_reactive_screening_needs_an_ineligible_donor() {
    let mut text = Sample::new(1, 1, now()).csv();
    text = set(&text, 2, "screen_hbv", "positive");
    let (_, problems) = check(&text, false);
    assert_eq!(at(&problems), ["2:screen_hbv"], "{problems:#?}");
    text = set(&text, 2, "eligibility", "ineligible");
    let (_, problems) = check(&text, false);
    assert_eq!(at(&problems), ["2:eligibility_reason"], "{problems:#?}");
}

#[test]
fn the_database_side_reuses_what_agrees_and_names_what_does_not() {
    let text = Sample::new(2, 2, now()).csv();
    let (bank, problems) = check(&text, false);
    assert!(problems.is_empty());
    let mut existing = Existing::default();
    existing.donors.insert(
        bank.donors[0].code.clone(),
        ExistingDonor {
            consent_at: bank.donors[0].consent_at,
            eligibility: bank.donors[0].eligibility,
        },
    );
    existing.lots.insert(bank.lots[1].code.clone());
    let path = bank.boxes[0].path.clone();
    existing.boxes.insert(
        path,
        ExistingBox {
            rows: 9,
            cols: 9,
            occupied: [("A2".to_string(), "X-V001".to_string())].into(),
        },
    );
    let problems = check_against(&bank, &existing, &[0, 1]);
    assert_eq!(
        at(&problems),
        ["3:position", "4:lot_number"],
        "{problems:#?}"
    );
}

#[test]
fn chunks_never_split_a_lot() {
    let (bank, _) = check(&Sample::new(5, 30, now()).csv(), false);
    let cut = chunks(&bank, 70);
    assert_eq!(
        cut.iter().map(|c| c.lots.len()).collect::<Vec<_>>(),
        [2, 2, 1]
    );
    let (bank, _) = check(&Sample::new(2, 30, now()).csv(), false);
    assert_eq!(chunks(&bank, 10).len(), 2);
}

#[test]
fn the_shipped_template_is_a_clean_file() {
    let text = include_str!("../../../docs/import/template.csv");
    let (bank, problems) = check(text, false);
    assert!(problems.is_empty(), "{problems:#?}");
    assert_eq!(
        (
            bank.donors.len(),
            bank.lots.len(),
            bank.vials(),
            bank.boxes.len()
        ),
        (2, 2, 3, 2)
    );
    assert_eq!(bank.donations[0].din.compact(), "A999925000101");
    // 10:00 in Beijing
    assert_eq!(
        bank.donors[0].consent_at.to_rfc3339(),
        "2025-03-02T02:00:00+00:00"
    );
}
