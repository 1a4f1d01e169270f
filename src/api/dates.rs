//! A date or a time the body's type could not read, refused in words.
//!
//! Dates (`birth_date`) are a date alone, `2026-11-26`. Times (`*_at`) are
//! a moment, so they need the offset of the clock they were read from:
//! `2026-11-26T09:30:00+08:00` (`Z` for UTC). A date alone is not accepted
//! where a moment is required: which hour, in which zone, would be a guess
//! about a record of care. The parser's own words ("premature end of
//! input") say neither which field nor what it wants; these do.
//!
//! Which fields are dates and which are times is learnt from the body's
//! type itself: the refused value is replaced by an example of each and
//! the body read again. A field that takes one example and not the other
//! is of that kind; a text field takes both and is left to the usual
//! message.

use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_path_to_error::Segment;

use crate::error::AppError;

/// What a person is shown as a moment to type.
pub const TIME_EXAMPLE: &str = "2026-11-26T09:30:00+08:00";
/// What a person is shown as a date to type.
pub const DATE_EXAMPLE: &str = "2026-11-26";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Date,
    Time,
}

/// The refusal of a body that `T` could not read because of a date or a
/// time; `None` when the failure is about something else.
pub fn refusal<T: DeserializeOwned>(body: &[u8]) -> Option<AppError> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let error = serde_path_to_error::deserialize::<_, T>(&value).err()?;
    let path = error.path();
    let mut pointer = String::new();
    for segment in path {
        match segment {
            Segment::Seq { index } => pointer.push_str(&format!("/{index}")),
            Segment::Map { key } => {
                pointer.push('/');
                pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
            }
            // inside a tagged enum the path is not precise enough to probe
            Segment::Enum { .. } | Segment::Unknown => return None,
        }
    }
    let given = value.pointer(&pointer)?;
    if matches!(given, Value::Object(_) | Value::Array(_)) {
        // a field missing from an object, or a list where one value goes
        return None;
    }
    let field = path.to_string();
    let takes = |example: &str| {
        let mut probe = value.clone();
        match probe.pointer_mut(&pointer) {
            Some(slot) => *slot = Value::String(example.to_owned()),
            None => return false,
        }
        match serde_path_to_error::deserialize::<_, T>(&probe) {
            Ok(_) => true,
            // read past this field: it took the example
            Err(later) => later.path().to_string() != field,
        }
    };
    let kind = match (takes(TIME_EXAMPLE), takes(DATE_EXAMPLE)) {
        (true, false) => Kind::Time,
        (false, true) => Kind::Date,
        _ => return None,
    };
    Some(AppError::InvalidField {
        message: in_words(kind, given),
        field: field.into(),
    })
}

/// What is wrong with `given` for a field of this kind, and what to type.
fn in_words(kind: Kind, given: &Value) -> String {
    let Value::String(text) = given else {
        return match kind {
            Kind::Time => format!(
                "expected a date and time with its offset, as text such as \"{TIME_EXAMPLE}\""
            ),
            Kind::Date => format!("expected a date as text, such as \"{DATE_EXAMPLE}\""),
        };
    };
    let trimmed = text.trim();
    let is_date = chrono::NaiveDate::parse_from_str(trimmed, "%Y-%m-%d").is_ok();
    let is_local_time = [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
    ]
    .iter()
    .any(|format| chrono::NaiveDateTime::parse_from_str(trimmed, format).is_ok());
    let is_time = chrono::DateTime::parse_from_rfc3339(trimmed).is_ok() || is_local_time;
    match kind {
        Kind::Time if is_date => format!(
            "{text:?} is a date without a time; expected a date and time with its offset, such as {TIME_EXAMPLE}"
        ),
        Kind::Time if is_local_time => format!(
            "{text:?} has no offset from UTC, so it could be any of 24 moments; expected a date and time with its offset, such as {TIME_EXAMPLE} (Z for UTC)"
        ),
        Kind::Time => format!(
            "{text:?} is not a date and time; expected a date and time with its offset, such as {TIME_EXAMPLE}"
        ),
        Kind::Date if is_time => {
            format!("{text:?} is a date and time; expected a date alone, such as {DATE_EXAMPLE}")
        }
        Kind::Date => format!(
            "{text:?} is not a date; expected a date as year-month-day, such as {DATE_EXAMPLE}"
        ),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, NaiveDate, Utc};
    use serde::Deserialize;
    use serde_json::json;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        birth_date: NaiveDate,
        started_at: DateTime<Utc>,
        events: Vec<Event>,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Event {
        onset_at: Option<DateTime<Utc>>,
    }

    fn refused(body: Value) -> Option<(String, String)> {
        match refusal::<Body>(body.to_string().as_bytes())? {
            AppError::InvalidField { field, message } => Some((field.into_owned(), message)),
            other => panic!("{other:?}"),
        }
    }

    fn body() -> Value {
        json!({
            "name": "x", "birth_date": "1980-01-31",
            "started_at": "2026-11-26T09:30:00+08:00",
            "events": [{"onset_at": null}],
        })
    }

    #[test]
    fn a_date_alone_for_a_moment_is_refused_in_words() {
        let mut b = body();
        b["started_at"] = json!("2026-11-26");
        let (field, message) = refused(b).unwrap();
        assert_eq!(field, "started_at");
        assert!(message.contains("is a date without a time"), "{message}");
        assert!(message.contains(TIME_EXAMPLE), "{message}");
    }

    #[test]
    fn a_moment_without_its_offset_is_named_so() {
        let mut b = body();
        b["events"][0]["onset_at"] = json!("2026-11-26T09:30:00");
        let (field, message) = refused(b).unwrap();
        assert_eq!(field, "events[0].onset_at");
        assert!(message.contains("no offset"), "{message}");
    }

    #[test]
    fn a_date_field_says_it_wants_a_date() {
        let mut b = body();
        b["birth_date"] = json!("31/01/1980");
        let (field, message) = refused(b).unwrap();
        assert_eq!(field, "birth_date");
        assert!(message.contains("year-month-day"), "{message}");
        let mut b = body();
        b["birth_date"] = json!("1980-01-31T00:00:00Z");
        assert!(refused(b).unwrap().1.contains("expected a date alone"));
        let mut b = body();
        b["birth_date"] = json!(19800131);
        assert!(refused(b).unwrap().1.contains("as text"));
    }

    #[test]
    fn other_failures_are_left_alone() {
        assert!(refusal::<Body>(body().to_string().as_bytes()).is_none());
        let mut b = body();
        b["name"] = json!(5);
        assert!(refused(b).is_none());
        let mut b = body();
        b.as_object_mut().unwrap().remove("started_at");
        assert!(refused(b).is_none());
    }
}
