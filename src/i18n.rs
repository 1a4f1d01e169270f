//! The pages' words in every language (Fluent catalogues in `locales/<tag>/`,
//! built into the binary), and the language of the page being rendered.
//!
//! A page request runs in a scope that knows its language (set from the
//! browser's `Accept-Language` or the site's default as the request
//! starts, then from the signed-in person's choice), so a view asks for
//! `t("key")` without the language passed through every function. Codes,
//! cell counts and times are arguments, never translated. A key missing
//! from a catalogue is a test failure (`catalogues_have_the_same_keys` and
//! `every_key_the_code_asks_for_exists`), never a blank on a page.

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::OnceLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};

pub use crate::domain::language::Language;

/// The catalogues, by language: one file per part of the pages.
const CATALOGUES: [(Language, &[&str]); 2] = [
    (
        Language::En,
        &[
            include_str!("../locales/en/main.ftl"),
            include_str!("../locales/en/clinic.ftl"),
            include_str!("../locales/en/inventory.ftl"),
            include_str!("../locales/en/donors.ftl"),
            include_str!("../locales/en/lab.ftl"),
            include_str!("../locales/en/admin.ftl"),
            include_str!("../locales/en/printing.ftl"),
            include_str!("../locales/en/refusals.ftl"),
            include_str!("../locales/en/withdrawals.ftl"),
            include_str!("../locales/en/import.ftl"),
        ],
    ),
    (
        Language::ZhCn,
        &[
            include_str!("../locales/zh-CN/main.ftl"),
            include_str!("../locales/zh-CN/clinic.ftl"),
            include_str!("../locales/zh-CN/inventory.ftl"),
            include_str!("../locales/zh-CN/donors.ftl"),
            include_str!("../locales/zh-CN/lab.ftl"),
            include_str!("../locales/zh-CN/admin.ftl"),
            include_str!("../locales/zh-CN/printing.ftl"),
            include_str!("../locales/zh-CN/refusals.ftl"),
            include_str!("../locales/zh-CN/withdrawals.ftl"),
            include_str!("../locales/zh-CN/import.ftl"),
        ],
    ),
];

/// A language's whole catalogue, its files one after another.
fn catalogue(language: Language) -> String {
    CATALOGUES
        .iter()
        .find(|(l, _)| *l == language)
        .map(|(_, files)| files.join("\n"))
        .unwrap_or_default()
}

tokio::task_local! {
    /// The language of the page being rendered.
    static PAGE_LANGUAGE: Cell<Language>;
}

fn bundles() -> &'static HashMap<Language, FluentBundle<FluentResource>> {
    static BUNDLES: OnceLock<HashMap<Language, FluentBundle<FluentResource>>> = OnceLock::new();
    BUNDLES.get_or_init(|| {
        Language::ALL
            .iter()
            .map(|language| {
                let resource = FluentResource::try_new(catalogue(*language))
                    .unwrap_or_else(|(resource, _)| resource);
                let id = language
                    .tag()
                    .parse()
                    .expect("both language tags are valid BCP 47");
                let mut bundle = FluentBundle::new_concurrent(vec![id]);
                // no bidi isolation marks: both languages run left to right,
                // and the marks would land inside codes people copy
                bundle.set_use_isolating(false);
                let _ = bundle.add_resource(resource);
                (*language, bundle)
            })
            .collect()
    })
}

/// Runs a page request in `language` (until the signed-in person's own
/// choice replaces it, `choose`).
pub async fn scope<F: Future>(language: Language, page: F) -> F::Output {
    PAGE_LANGUAGE.scope(Cell::new(language), page).await
}

/// The signed-in person's language, for the rest of the request.
pub fn choose(language: Language) {
    let _ = PAGE_LANGUAGE.try_with(|cell| cell.set(language));
}

/// The language of the page being rendered (English outside a page).
pub fn current() -> Language {
    PAGE_LANGUAGE.try_with(Cell::get).unwrap_or_default()
}

/// The words for `key` in the page's language.
pub fn t(key: &str) -> String {
    text(current(), key, None)
}

/// An argument for a message: its text as shown (a code, a count, a
/// date), never reformatted by the catalogue (a whole number is written
/// back as the same digits).
///
/// A whole number is passed as a number, so a message can choose its
/// plural (`[one] one vial *[other] { $count } vials`); anything else, and
/// digits that would not read back the same (a code `0042`), as text.
pub fn arg(value: impl ToString) -> FluentValue<'static> {
    let text = value.to_string();
    match text.parse::<i64>() {
        Ok(n) if n.to_string() == text && n.unsigned_abs() < (1 << 53) => {
            FluentValue::from(n as f64)
        }
        _ => FluentValue::from(text),
    }
}

/// The words for `key` with its arguments (`{ $code }`) filled in.
pub fn t_with(key: &str, args: &[(&str, FluentValue<'_>)]) -> String {
    let mut fluent = FluentArgs::new();
    for (name, value) in args {
        fluent.set(*name, value.clone());
    }
    text(current(), key, Some(&fluent))
}

/// The words for `key` in the page's language, if the catalogue has it
/// (for words made from data, such as a status: `status-released`).
pub fn t_maybe(key: &str) -> Option<String> {
    let bundle = bundles().get(&current())?;
    let pattern = bundle.get_message(key)?.value()?;
    let mut errors = Vec::new();
    Some(
        bundle
            .format_pattern(pattern, None, &mut errors)
            .into_owned(),
    )
}

/// The words for `key` in `language`. A key no catalogue has (never, by
/// the tests) shows as itself rather than as nothing.
pub fn text(language: Language, key: &str, args: Option<&FluentArgs<'_>>) -> String {
    let found = bundles().get(&language).and_then(|bundle| {
        let pattern = bundle.get_message(key)?.value()?;
        let mut errors = Vec::new();
        Some(
            bundle
                .format_pattern(pattern, args, &mut errors)
                .into_owned(),
        )
    });
    found.unwrap_or_else(|| key.to_owned())
}

/// Every message key of a language's catalogue, sorted.
pub fn keys(language: Language) -> Vec<String> {
    let text = catalogue(language);
    let mut keys: Vec<String> = text
        .lines()
        .filter_map(|line| line.split_once(" ="))
        .map(|(key, _)| key)
        .filter(|key| {
            key.starts_with(|c: char| c.is_ascii_lowercase())
                && key
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        })
        .map(str::to_owned)
        .collect();
    keys.sort();
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_catalogues_parse_without_an_error() {
        for language in Language::ALL {
            if let Err((_, errors)) = FluentResource::try_new(catalogue(language)) {
                panic!("{language}: {errors:?}");
            }
        }
    }

    #[test]
    fn catalogues_have_the_same_keys() {
        let english = keys(Language::En);
        let chinese = keys(Language::ZhCn);
        let only = |a: &[String], b: &[String]| -> Vec<String> {
            a.iter().filter(|k| !b.contains(k)).cloned().collect()
        };
        assert!(english.len() > 50, "the English catalogue is read");
        for (language, keys) in [("en", &english), ("zh-CN", &chinese)] {
            let twice: Vec<&String> = keys
                .windows(2)
                .filter(|w| w[0] == w[1])
                .map(|w| &w[0])
                .collect();
            assert!(
                twice.is_empty(),
                "{language}: keys defined twice: {twice:?}"
            );
        }
        assert_eq!(
            only(&english, &chinese),
            Vec::<String>::new(),
            "missing in zh-CN"
        );
        assert_eq!(
            only(&chinese, &english),
            Vec::<String>::new(),
            "missing in en"
        );
    }

    #[test]
    fn a_message_takes_the_same_arguments_in_both_languages() {
        let arguments = |language: Language, key: &str| -> Vec<String> {
            let text = catalogue(language);
            // the message's first line and its indented continuation lines
            let entry: String = text
                .lines()
                .skip_while(|l| !l.starts_with(&format!("{key} =")))
                .enumerate()
                .take_while(|(i, l)| *i == 0 || l.starts_with(' '))
                .map(|(_, l)| l)
                .collect::<Vec<_>>()
                .join("\n");
            let mut found: Vec<String> = entry
                .split("{ $")
                .skip(1)
                .filter_map(|rest| rest.split(' ').next())
                .map(|name| name.trim_end_matches('}').to_owned())
                .collect();
            found.sort();
            found.dedup();
            found
        };
        for key in keys(Language::En) {
            assert_eq!(
                arguments(Language::En, &key),
                arguments(Language::ZhCn, &key),
                "{key}"
            );
        }
    }

    #[test]
    fn every_key_the_code_asks_for_exists() {
        let known = keys(Language::En);
        let mut missing = Vec::new();
        let mut asked = 0;
        let mut stack = vec![std::path::PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src"
        ))];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                // this file names keys in its documentation and tests
                if path.extension().is_none_or(|e| e != "rs") || path.ends_with("i18n.rs") {
                    continue;
                }
                let source = std::fs::read_to_string(&path).unwrap();
                for call in ["t(\"", "t_with(\""] {
                    let mut pieces = source.split(call);
                    let mut before = pieces.next().unwrap_or("");
                    for rest in pieces {
                        // `t("…")` itself, not `get("…")` or `print("…")`
                        let called = !before
                            .chars()
                            .last()
                            .is_some_and(|c| c.is_alphanumeric() || c == '_');
                        before = rest;
                        if !called {
                            continue;
                        }
                        let key = rest.split('"').next().unwrap_or("");
                        if key.is_empty()
                            || !key
                                .chars()
                                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                        {
                            continue;
                        }
                        asked += 1;
                        if !known.iter().any(|k| k == key) {
                            missing.push(format!("{}: {key}", path.display()));
                        }
                    }
                }
            }
        }
        assert!(asked > 50, "the code's keys were found ({asked})");
        assert_eq!(missing, Vec::<String>::new());
    }

    #[test]
    fn every_action_and_status_has_its_words() {
        use crate::domain::donor::Eligibility;
        use crate::domain::history::{ACTIONS, action_key};
        use crate::domain::lifecycle::{DoseStatus, InfusionStatus, LotStatus, VialStatus};
        let known = keys(Language::En);
        let mut wanted: Vec<String> = ACTIONS.iter().map(|(a, _)| action_key(a)).collect();
        let statuses = LotStatus::ALL
            .iter()
            .map(|s| s.as_str())
            .chain(VialStatus::ALL.iter().map(|s| s.as_str()))
            .chain(DoseStatus::ALL.iter().map(|s| s.as_str()))
            .chain(InfusionStatus::ALL.iter().map(|s| s.as_str()))
            .chain(Eligibility::ALL.iter().map(|s| s.as_str()));
        wanted.extend(statuses.map(|s| format!("status-{s}")));
        wanted.extend(
            crate::domain::storage::StorageKind::ALL
                .iter()
                .map(|k| format!("storage-kind-{}", k.as_str())),
        );
        let missing: Vec<&String> = wanted.iter().filter(|k| !known.contains(k)).collect();
        assert!(missing.is_empty(), "{missing:?}");
    }

    #[test]
    fn words_come_in_the_pages_language_and_codes_stay_as_they_are() {
        let code = "A999926000001-L01";
        let args = FluentArgs::from_iter([("code", FluentValue::from(code))]);
        let en = text(Language::En, "lot-title", Some(&args));
        let zh = text(Language::ZhCn, "lot-title", Some(&args));
        assert!(en.contains(code) && zh.contains(code), "{en} / {zh}");
        assert_ne!(en, zh);
        assert!(!zh.contains('\u{2068}'), "no isolation marks around codes");
        assert_eq!(text(Language::En, "no-such-key", None), "no-such-key");
    }

    #[test]
    fn whole_numbers_choose_their_plural_and_codes_stay_text() {
        let en = |key: &str, args: &[(&str, FluentValue<'static>)]| {
            let mut fluent = FluentArgs::new();
            for (name, value) in args {
                fluent.set(*name, value.clone());
            }
            text(Language::En, key, Some(&fluent))
        };
        assert_eq!(
            en(
                "trace-unused-vials",
                &[("count", arg(1)), ("status", arg("recalled"))]
            ),
            "One vial recalled, given to nobody"
        );
        assert_eq!(
            en(
                "trace-unused-vials",
                &[("count", arg(25_000_000_i64)), ("status", arg("recalled"))]
            ),
            "25000000 vials recalled, given to nobody"
        );
        assert!(matches!(arg("0042"), FluentValue::String(_)));
        assert!(matches!(arg("PV-001"), FluentValue::String(_)));
        assert!(matches!(arg(-3), FluentValue::Number(_)));
    }
}
