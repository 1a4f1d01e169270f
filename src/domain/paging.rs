//! A page of a list: what to search for, how many, and where the last page
//! ended. Every list is ordered by its record's code (unique, and the same
//! order people read on labels), and a page starts after the code the last
//! one ended on (keyset paging): a deep page costs what the first does, and
//! a record added or changed while someone pages is neither skipped nor
//! shown twice unless its code moved past the cursor.

use crate::domain::din::{Din, DinError};
use crate::domain::invalid::{Invalid, ensure};
use crate::domain::scan::PREFIX;

/// Items in a page when the request does not say.
pub const DEFAULT_LIMIT: u64 = 50;
/// Most items in one page.
pub const MAX_LIMIT: u64 = 500;
/// Longest search accepted; no code is longer.
const MAX_SEARCH: usize = 64;
/// What every cursor starts with: its format's version.
const CURSOR_VERSION: &str = "c1";

/// A request for one page, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    /// Records whose code starts with this (a code, a DIN, a subject code,
    /// or the start of one).
    pub search: Option<String>,
    pub limit: u64,
    /// The code the previous page ended on.
    pub after: Option<String>,
}

impl PageRequest {
    pub fn parse(
        q: Option<&str>,
        limit: Option<u64>,
        cursor: Option<&str>,
    ) -> Result<PageRequest, Invalid> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        ensure(
            (1..=MAX_LIMIT).contains(&limit),
            "limit",
            format!("a page holds 1 to {MAX_LIMIT} items"),
        )?;
        Ok(PageRequest {
            search: q.map(search_term).transpose()?.flatten(),
            limit,
            after: cursor
                .filter(|c| !c.is_empty())
                .map(decode_cursor)
                .transpose()?,
        })
    }

    /// The first page of everything.
    pub fn first(limit: u64) -> PageRequest {
        PageRequest {
            search: None,
            limit: limit.clamp(1, MAX_LIMIT),
            after: None,
        }
    }
}

/// What a search box holds, as the start of a code: trimmed, in capitals,
/// a label's payload (`CT1:V:…`) read as its code, and a DIN typed with
/// spaces or its check character read as the DIN every code of its
/// donation starts with. Empty is no search.
pub fn search_term(raw: &str) -> Result<Option<String>, Invalid> {
    ensure(
        raw.chars().count() <= MAX_SEARCH,
        "q",
        format!("a search is at most {MAX_SEARCH} characters: a code, a DIN or a subject code"),
    )?;
    let mut text = raw.trim().to_ascii_uppercase();
    if let Some(rest) = text.strip_prefix(PREFIX)
        && let Some((_, code)) = rest.split_once(':')
    {
        text = code.to_owned();
    }
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let text = match Din::parse_with_check(&compact) {
        Ok(din) => din.compact(),
        Err(DinError::CheckCharacterMismatch { given, .. }) => {
            return Err(Invalid::new(
                "q",
                format!(
                    "the check character {given} does not match this DIN; read the DIN and its boxed check character again from the label"
                ),
            ));
        }
        Err(_) => compact,
    };
    if text.is_empty() {
        return Ok(None);
    }
    ensure(
        text.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-'),
        "q",
        "search by a code, a DIN or a subject code: letters, digits and '-' only",
    )?;
    Ok(Some(text))
}

/// The cursor that starts the page after the record with this code.
pub fn cursor_after(code: &str) -> String {
    let mut cursor = String::with_capacity(CURSOR_VERSION.len() + 1 + code.len() * 2);
    cursor.push_str(CURSOR_VERSION);
    cursor.push('.');
    for byte in code.bytes() {
        cursor.push_str(&format!("{byte:02x}"));
    }
    cursor
}

fn decode_cursor(cursor: &str) -> Result<String, Invalid> {
    let refused = || {
        Invalid::new(
            "cursor",
            "this cursor was not given by this list; start again from the first page",
        )
    };
    let hex = cursor
        .strip_prefix(CURSOR_VERSION)
        .and_then(|rest| rest.strip_prefix('.'))
        .filter(|hex| hex.len() % 2 == 0 && hex.len() <= 4 * MAX_SEARCH)
        .ok_or_else(refused)?;
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| {
            u8::from_str_radix(hex.get(i..i + 2).ok_or_else(refused)?, 16).map_err(|_| refused())
        })
        .collect::<Result<Vec<u8>, Invalid>>()?;
    let code = String::from_utf8(bytes).map_err(|_| refused())?;
    ensure(
        !code.is_empty()
            && code
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-'),
        "cursor",
        "this cursor was not given by this list; start again from the first page",
    )?;
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_as_the_code_it_was_made_from() {
        let cursor = cursor_after("A999926000123-L01-V007");
        let page = PageRequest::parse(None, None, Some(&cursor)).unwrap();
        assert_eq!(page.after.as_deref(), Some("A999926000123-L01-V007"));
        assert_eq!(page.limit, DEFAULT_LIMIT);
    }

    #[test]
    fn a_cursor_not_made_here_is_refused() {
        for bad in ["x", "c1.", "c1.4", "c1.zz", "c2.41", "c1.61", "c1.ff", "41"] {
            let refused = PageRequest::parse(None, None, Some(bad)).unwrap_err();
            assert_eq!(refused.field, "cursor", "{bad}");
        }
        // an empty cursor is the first page
        assert_eq!(
            PageRequest::parse(None, None, Some("")).unwrap().after,
            None
        );
    }

    #[test]
    fn limits_are_one_to_five_hundred() {
        assert_eq!(PageRequest::parse(None, Some(1), None).unwrap().limit, 1);
        assert_eq!(
            PageRequest::parse(None, Some(500), None).unwrap().limit,
            500
        );
        for bad in [0, 501, u64::MAX] {
            assert_eq!(
                PageRequest::parse(None, Some(bad), None).unwrap_err().field,
                "limit"
            );
        }
    }

    #[test]
    fn a_search_is_read_as_people_type_and_scanners_send_it() {
        let term = |s: &str| search_term(s).unwrap();
        assert_eq!(term(" pv-007 \n").as_deref(), Some("PV-007"));
        assert_eq!(
            term("CT1:V:A999926000123-L01-V007").as_deref(),
            Some("A999926000123-L01-V007")
        );
        assert_eq!(term("ct1:p:PV-007").as_deref(), Some("PV-007"));
        // a DIN as printed, with spaces and its check character
        let din = Din::parse("A999926000123").unwrap();
        let printed = format!("A9999 26 000123 {}", din.check_character());
        assert_eq!(term(&printed).as_deref(), Some("A999926000123"));
        let wrong = if din.check_character() == 'A' {
            'B'
        } else {
            'A'
        };
        let refused = search_term(&format!("A999926000123{wrong}")).unwrap_err();
        assert!(refused.message.contains("check character"), "{refused}");
        assert_eq!(term("   "), None);
        assert_eq!(term(""), None);
    }

    #[test]
    fn a_search_that_no_code_could_match_is_refused() {
        for bad in ["PV_007", "PV%", "a'b", "名字"] {
            assert_eq!(search_term(bad).unwrap_err().field, "q", "{bad}");
        }
        assert_eq!(search_term(&"A".repeat(65)).unwrap_err().field, "q");
        assert!(search_term(&"A".repeat(64)).is_ok());
    }
}
