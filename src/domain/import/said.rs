//! Every problem the import can report has its words in both catalogues,
//! and its English message is the catalogue's.

use super::*;
use crate::i18n::keys;

/// The `imp-problem-…` keys the import's code names.
fn keys_in_code() -> Vec<String> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
    let mut found = Vec::new();
    for dir in ["domain/import", "services/imports"] {
        for entry in std::fs::read_dir(format!("{root}/{dir}")).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "rs") || path.ends_with("said.rs") {
                continue;
            }
            let source = std::fs::read_to_string(&path).unwrap();
            for rest in source.split("\"imp-problem-").skip(1) {
                let key = rest.split('"').next().unwrap_or("");
                found.push(format!("imp-problem-{key}"));
            }
        }
    }
    found.sort();
    found.dedup();
    found
}

#[test]
fn every_problem_the_code_reports_has_its_words_in_both_languages() {
    let asked = keys_in_code();
    assert!(
        asked.len() > 60,
        "the problems' keys were found ({asked:?})"
    );
    for language in Language::ALL {
        let known = keys(language);
        let missing: Vec<&String> = asked.iter().filter(|k| !known.contains(k)).collect();
        assert!(missing.is_empty(), "{language}: {missing:?}");
    }
}

#[test]
fn a_problem_carries_its_key_and_values_and_its_english_is_the_catalogues() {
    let kind = Kind::new(
        "imp-problem-volume-looks-like-ml",
        [
            ("value", "1".to_owned()),
            ("microlitres", "1000".to_owned()),
        ],
    );
    let problem = Problem::at(2, "volume_ul", kind);
    assert_eq!(problem.code, "imp-problem-volume-looks-like-ml");
    assert_eq!(problem.args["value"], "1");
    assert_eq!(
        problem.to_string(),
        "2:volume_ul: 1 µL is too little for a vial: this column is in microlitres; if you meant 1 mL, write 1000"
    );
    let free = Problem::new(3, "donor_code", "a donor code is 3 to 32 capital letters");
    assert_eq!(free.code, DETAIL);
    assert_eq!(free.message, "a donor code is 3 to 32 capital letters");
}

#[test]
fn a_chinese_reader_reads_each_problem_in_chinese_with_its_row_and_column() {
    use crate::domain::zone::SiteZone;
    use crate::web::imports::{said, said_at};
    let chinese = |c: char| ('\u{4e00}'..='\u{9fff}').contains(&c);
    let zone = SiteZone::UTC;
    let volume = Problem::at(
        12,
        "volume_ul",
        Kind::new(
            "imp-problem-volume-looks-like-ml",
            [
                ("value", "1".to_owned()),
                ("microlitres", "1000".to_owned()),
            ],
        ),
    );
    assert_eq!(
        said_at(&volume, Language::ZhCn, zone),
        "第 12 行“volume_ul”列：1 µL 对一支冻存管来说太少：此列单位为微升（µL）；如果您指的是 1 mL，请填写 1000"
    );
    assert_eq!(said_at(&volume, Language::En, zone), volume.to_string());
    // a rule's own English words (a donor code's form), through the
    // refusals' table
    let code = Problem::new(
        2,
        "donor_code",
        "a donor code is 3 to 32 capital letters, digits or '-', never a name",
    );
    let text = said(&code, Language::ZhCn, zone);
    assert!(
        text.chars().any(chinese) && !text.contains("capital"),
        "{text}"
    );
    // the words a value stands for: a storage unit's kind, an eligibility
    let unit = Problem::at(
        5,
        "box",
        Kind::new(
            "imp-problem-unit-other-kind",
            [
                ("name", "T1".to_owned()),
                ("kind", "rack".to_owned()),
                ("wanted", "box".to_owned()),
            ],
        ),
    );
    assert_eq!(
        said(&unit, Language::ZhCn, zone),
        "T1 已作为冻存架存在，而不是冻存盒"
    );
    assert_eq!(unit.message, "T1 already exists as a rack, not a box");
}
