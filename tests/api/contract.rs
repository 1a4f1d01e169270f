//! The error codes of the contract are the service's: every code API.md
//! names is a code `AppError` answers with, under the status API.md gives
//! it; the OpenAPI document names codes under their statuses too.
//!
//! API.md lives beside the repository (`../shared/API.md`), not in it, so a
//! copy of its codes is checked in (`contract_codes.txt`); where the
//! contract is present the copy must list exactly the codes it names.

use std::collections::BTreeSet;
use std::path::Path;

use celltrail::error::AppError;
use serde_json::Value;

/// A `(status, code)` pair of the contract.
type Named = BTreeSet<(u16, String)>;

fn service_table() -> Named {
    AppError::table()
        .into_iter()
        .map(|(status, code)| (status.as_u16(), code.to_owned()))
        .collect()
}

fn checked_in_copy() -> Named {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/api/contract_codes.txt");
    let text = std::fs::read_to_string(&path).expect("tests/api/contract_codes.txt is readable");
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            let (status, code) = line
                .split_once(' ')
                .unwrap_or_else(|| panic!("{line:?} is not `STATUS code`"));
            let status = status
                .parse()
                .unwrap_or_else(|_| panic!("{line:?}: {status:?} is not a status"));
            (status, code.trim().to_owned())
        })
        .collect()
}

/// The `(status, code)` pairs a contract text names. API.md writes an error
/// as its status followed by the code in backticks (`422 \`too_soon\``),
/// several codes of one status separated by commas (`422 \`stale_weight\`,
/// \`no_weight\``), and a code's reason in words or parentheses after it.
/// So a code is a backticked snake_case word that follows an error status
/// (4xx, 5xx) directly, or after a comma or `or`, in the same clause (up to
/// `;`, `|` or a blank line); a backticked word in parentheses or after
/// other words (`… and \`confirm_change\` is not \`true\``) is a field or
/// a value, not a code.
fn codes_named_in(text: &str) -> Named {
    let chars: Vec<char> = text.chars().collect();
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    let mut named = Named::new();
    let mut status: Option<u16> = None;
    let mut code_may_follow = false;
    let mut depth = 0usize;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_digit() {
            let end = (i..chars.len())
                .find(|&j| !chars[j].is_ascii_digit())
                .unwrap_or(chars.len());
            let number: String = chars[i..end].iter().collect();
            let standalone = (i == 0 || !(is_word(chars[i - 1]) || ".-".contains(chars[i - 1])))
                && (end == chars.len() || !is_word(chars[end]));
            match number.parse::<u16>() {
                Ok(n @ 100..=599) if number.len() == 3 && standalone => {
                    status = (n >= 400).then_some(n);
                    code_may_follow = true;
                }
                _ => code_may_follow = false,
            }
            i = end;
            continue;
        }
        if c == '`' {
            let Some(len) = chars[i + 1..].iter().position(|&c| c == '`') else {
                break;
            };
            let quoted: String = chars[i + 1..i + 1 + len].iter().collect();
            if let Some(status) = status
                && depth == 0
                && code_may_follow
                && is_snake_case(&quoted)
            {
                named.insert((status, quoted));
            }
            code_may_follow = false;
            i += len + 2;
            continue;
        }
        if is_word(c) {
            let end = (i..chars.len())
                .find(|&j| !is_word(chars[j]))
                .unwrap_or(chars.len());
            let word: String = chars[i..end].iter().collect();
            code_may_follow = word == "or" && depth == 0;
            i = end;
            continue;
        }
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => code_may_follow = true,
            ';' | '|' => {
                status = None;
                code_may_follow = false;
                depth = 0;
            }
            '\n' if chars.get(i + 1) == Some(&'\n') => {
                status = None;
                code_may_follow = false;
            }
            c if c.is_whitespace() => {}
            _ => code_may_follow = false,
        }
        i += 1;
    }
    named
}

fn is_snake_case(word: &str) -> bool {
    word.starts_with(|c: char| c.is_ascii_lowercase())
        && word
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !word.ends_with('_')
        && !word.contains("__")
}

fn missing(wanted: &Named, present: &Named) -> Vec<String> {
    wanted
        .difference(present)
        .map(|(status, code)| format!("{status} {code}"))
        .collect()
}

#[test]
fn every_code_the_contract_names_is_answered_by_the_service_under_its_status() {
    let contract = checked_in_copy();
    assert!(
        contract.len() >= 30,
        "the checked-in copy lists {} codes; API.md names 30",
        contract.len()
    );
    let service = service_table();
    let absent = missing(&contract, &service);
    assert!(
        absent.is_empty(),
        "codes of the contract that no AppError answers with (or not with that status): {absent:?}"
    );
}

#[test]
fn the_checked_in_codes_are_exactly_those_the_contract_names() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/API.md");
    let Ok(text) = std::fs::read_to_string(&path) else {
        // CI's clone has no contract beside it: the checked-in copy stands
        // for it (checked above)
        eprintln!(
            "{} is not here: only the checked-in copy is checked",
            path.display()
        );
        return;
    };
    let named = codes_named_in(&text);
    let copy = checked_in_copy();
    let service = service_table();
    let absent = missing(&named, &service);
    assert!(
        absent.is_empty(),
        "codes API.md names that no AppError answers with (or not with that status): {absent:?}"
    );
    let not_copied = missing(&named, &copy);
    let stale = missing(&copy, &named);
    assert!(
        not_copied.is_empty() && stale.is_empty(),
        "tests/api/contract_codes.txt is not API.md's list: add {not_copied:?}, remove {stale:?}"
    );
}

#[test]
fn codes_are_read_from_the_contracts_wording() {
    let text = "\
| `POST /x` `{a, b}` | 201 `{id}`; 422 `stale_weight`, `no_weight` or `too_soon` |
| `POST /y` | 422 `weight_change_unconfirmed` when `confirm_change` is not `true` |
| `POST /z` | 422 `same_person` when (protocol `independent_verification`), `lot_recalled`, 409 when late |
| `GET /w` | 200 lot `released`; age 18-65, 10 % `kept_out` |
A wrong password is 401
`signature_invalid` and nothing changes.

Then `not_a_code`.
";
    let named: Vec<String> = codes_named_in(text)
        .into_iter()
        .map(|(status, code)| format!("{status} {code}"))
        .collect();
    assert_eq!(
        named,
        [
            "401 signature_invalid",
            "422 lot_recalled",
            "422 no_weight",
            "422 same_person",
            "422 stale_weight",
            "422 too_soon",
            "422 weight_change_unconfirmed",
        ]
    );
}

fn openapi_snapshot() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/openapi.json");
    let text = std::fs::read_to_string(path).expect("docs/openapi.json is readable");
    serde_json::from_str(&text).expect("docs/openapi.json is JSON")
}

#[test]
fn the_openapi_code_enum_if_any_lists_every_code() {
    let doc = openapi_snapshot();
    let code = &doc["components"]["schemas"]["ErrorDetail"]["properties"]["code"];
    assert!(
        code.is_object(),
        "the OpenAPI document describes ErrorDetail.code"
    );
    // The document gives an example code, not the list (a client that
    // branches on codes must meet new ones); should it ever list them, the
    // list must hold every code.
    if let Some(listed) = code["enum"].as_array() {
        let listed: BTreeSet<&str> = listed.iter().filter_map(Value::as_str).collect();
        let unlisted: Vec<_> = AppError::codes()
            .into_iter()
            .filter(|code| !listed.contains(code))
            .collect();
        assert!(
            unlisted.is_empty(),
            "codes missing from ErrorDetail.code's enum: {unlisted:?}"
        );
    }
    if let Some(example) = code["example"].as_str() {
        assert!(
            AppError::codes().contains(&example),
            "{example} is not a code"
        );
    }
}

#[test]
fn the_openapi_document_names_codes_under_the_status_they_are_answered_with() {
    let doc = openapi_snapshot();
    let service = service_table();
    let codes = AppError::codes();
    let mut wrong = Vec::new();
    let mut seen = 0;
    for (path, operations) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in operations.as_object().expect("operations") {
            let Some(responses) = operation["responses"].as_object() else {
                continue;
            };
            for (status, response) in responses {
                let Ok(status @ 400..=599) = status.parse::<u16>() else {
                    continue;
                };
                let description = response["description"].as_str().unwrap_or_default();
                let words = description
                    .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .filter(|word| word.contains('_') && codes.contains(word));
                for code in words {
                    seen += 1;
                    if !service.contains(&(status, code.to_owned())) {
                        wrong.push(format!("{method} {path}: {status} {code}"));
                    }
                }
            }
        }
    }
    assert!(seen > 0, "the document's error responses name codes");
    assert!(
        wrong.is_empty(),
        "codes documented under a status they are not answered with: {wrong:?}"
    );
}
