//! Data logger exports (CSV) read into readings.
//!
//! [`parse`] takes the uploaded bytes, finds the layout from its first lines
//! and reads every line, collecting every problem as `line N: …` rather than
//! stopping at the first: the person uploading fixes the file once. A file
//! with any problem gives no readings at all; half a log is not a log.
//!
//! The layouts ([`Layout`]): the generic `time,temperature` ([`generic`]) and
//! the HOBOware export of Onset HOBO thermocouple loggers ([`hobo`]).
//!
//! Common to both: UTF-8 with or without a byte order mark, UTF-16 with one,
//! or (when not valid UTF-8) Windows-1252/Latin-1, as HOBOware writes its
//! `°`; CRLF or LF; blank lines anywhere ignored (their numbers still count);
//! fields may be quoted with `"` (a doubled `""` is a quote) but may not span
//! lines; at most [`MAX_BYTES`] and [`ParseOptions::max_readings`] readings.

pub mod generic;
pub mod hobo;
#[cfg(test)]
mod tests;

use std::fmt;

use chrono::{DateTime, LocalResult, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

use super::celsius::TemperatureError;
use super::excursion::Reading;
use crate::domain::zone::SiteZone;

/// The largest upload read: 200 000 lines of a wide HOBOware export fit.
pub const MAX_BYTES: usize = 32 * 1024 * 1024;
/// The most readings one file may hold: a reading a minute for 19 weeks.
pub const DEFAULT_MAX_READINGS: usize = 200_000;
/// Problems listed before the rest are only counted.
pub const MAX_PROBLEMS: usize = 200;

/// The exports we read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    /// `time,temperature`: see [`generic`].
    Generic,
    /// Onset HOBOware CSV export: see [`hobo`].
    Hoboware,
}

/// How dates with slashes are ordered (HOBOware follows the computer's
/// preference and the file does not say which).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateOrder {
    MonthDayYear,
    DayMonthYear,
    YearMonthDay,
}

impl fmt::Display for DateOrder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DateOrder::MonthDayYear => "month/day/year",
            DateOrder::DayMonthYear => "day/month/year",
            DateOrder::YearMonthDay => "year/month/day",
        })
    }
}

/// What the uploader tells about the file, when the file does not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseOptions {
    /// The zone of times written without an offset. Without it such times
    /// are refused: a clock time alone is not an instant.
    pub zone: Option<SiteZone>,
    /// The order of slashed dates; without it the file must show it (a day
    /// above 12) or every date must read the same either way.
    pub date_order: Option<DateOrder>,
    /// Which temperature column to read when a file has several (a HOBO
    /// UX120-014M has four probes and an internal sensor): text that exactly
    /// one column header contains, e.g. `LBL: DS-07` or `SEN S/N: 20512345`.
    pub channel: Option<String>,
    pub max_readings: usize,
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions {
            zone: None,
            date_order: None,
            channel: None,
            max_readings: DEFAULT_MAX_READINGS,
        }
    }
}

/// A file read without a problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggerFile {
    pub layout: Layout,
    /// In file order (the excursion analysis sorts).
    pub readings: Vec<Reading>,
    /// How many values were finer than a hundredth, or °F without an exact
    /// hundredth, and were rounded up (toward warm): see `celsius`.
    pub rounded_up: usize,
    /// The logger's serial number when the file names it.
    pub logger_serial: Option<String>,
    /// The header of the temperature column read, as the file wrote it.
    pub column: String,
}

/// One thing wrong with a file, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line, or `None` for the file as a whole.
    pub line: Option<usize>,
    pub kind: ProblemKind,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}", self.kind),
            None => write!(f, "{}", self.kind),
        }
    }
}

/// What is wrong. Each carries what a sentence about it needs, so a page can
/// say it in the reader's language; `Display` is the English one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProblemKind {
    #[error("the file is empty")]
    Empty,
    #[error("the file is {bytes} bytes; at most {max} are read")]
    TooLarge { bytes: usize, max: usize },
    #[error("the file is not text")]
    NotText,
    #[error("the file holds more than {max} readings")]
    TooManyReadings { max: usize },
    #[error("the file has no readings")]
    NoReadings,
    #[error(
        "the layout is not one we read: expected a header `time,temperature` or a HOBOware export"
    )]
    UnknownLayout,
    #[error("the header has no {0} column")]
    MissingColumn(&'static str),
    #[error("the columns “{0}” and “{1}” both look like the {2}")]
    DuplicateColumn(String, String, &'static str),
    #[error("the file has several temperature columns ({}); say which to read", .0.join("; "))]
    SeveralTemperatureColumns(Vec<String>),
    #[error("no temperature column matches “{0}”")]
    NoSuchChannel(String),
    #[error("“{channel}” matches several temperature columns ({})", .columns.join("; "))]
    AmbiguousChannel {
        channel: String,
        columns: Vec<String>,
    },
    #[error("the column “{0}” gives no unit (°C or °F)")]
    UnknownUnit(String),
    #[error("the zone “{0}” is not one we know")]
    UnknownZone(String),
    #[error("a quoted field is not closed on its line")]
    UnclosedQuote,
    #[error("{found} fields where the header has {expected}")]
    FieldCount { expected: usize, found: usize },
    #[error("no time")]
    NoTime,
    #[error("no temperature")]
    NoTemperature,
    #[error("“{0}” is not a date and time ({1})")]
    BadTime(String, &'static str),
    #[error("“{0}” has no offset from UTC (add `Z` or `+08:00`, or give the zone of the file)")]
    TimeWithoutOffset(String),
    #[error("“{text}” did not happen in {zone}: the clocks skipped it")]
    SkippedLocalTime { text: String, zone: String },
    #[error("“{text}” happened twice in {zone} as the clocks went back; which is not known")]
    RepeatedLocalTime { text: String, zone: String },
    #[error("dates such as “{0}” read as month/day or as day/month; say which order the file uses")]
    AmbiguousDateOrder(String),
    #[error(
        "the dates “{0}” and “{1}” cannot share an order: one has a day above 12 first, the other second"
    )]
    ConflictingDateOrder(String, String),
    #[error("“{text}” is not a {order} date")]
    BadDate { text: String, order: DateOrder },
    #[error("{0}")]
    Temperature(TemperatureError),
    #[error("and {0} more problems")]
    More(usize),
}

/// Problems of one file, in line order, capped at [`MAX_PROBLEMS`].
#[derive(Debug, Default)]
pub(crate) struct Problems(Vec<Problem>);

impl Problems {
    pub(crate) fn at(&mut self, line: usize, kind: ProblemKind) {
        self.0.push(Problem {
            line: Some(line),
            kind,
        });
    }

    pub(crate) fn file(&mut self, kind: ProblemKind) {
        self.0.push(Problem { line: None, kind });
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn finish(mut self) -> Vec<Problem> {
        // file-wide problems first, then by line (a stable sort keeps the
        // order of several problems on one line)
        self.0.sort_by_key(|p| p.line.map_or((0, 0), |l| (1, l)));
        if self.0.len() > MAX_PROBLEMS {
            let more = self.0.len() - MAX_PROBLEMS;
            self.0.truncate(MAX_PROBLEMS);
            self.0.push(Problem {
                line: None,
                kind: ProblemKind::More(more),
            });
        }
        self.0
    }
}

/// One physical line of the file: its 1-based number and its text.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Line<'a> {
    pub number: usize,
    pub text: &'a str,
}

/// Reads a logger export. Every problem, or the readings.
#[must_use = "the readings, or every problem of the file"]
pub fn parse(bytes: &[u8], options: &ParseOptions) -> Result<LoggerFile, Vec<Problem>> {
    let mut problems = Problems::default();
    if bytes.len() > MAX_BYTES {
        problems.file(ProblemKind::TooLarge {
            bytes: bytes.len(),
            max: MAX_BYTES,
        });
        return Err(problems.finish());
    }
    let Some(text) = decode(bytes) else {
        problems.file(ProblemKind::NotText);
        return Err(problems.finish());
    };
    let lines: Vec<Line<'_>> = text
        .split('\n')
        .enumerate()
        .map(|(i, text)| Line {
            number: i + 1,
            text: text.strip_suffix('\r').unwrap_or(text),
        })
        .filter(|line| !line.text.trim().is_empty())
        .collect();
    let Some(first) = lines.first() else {
        problems.file(ProblemKind::Empty);
        return Err(problems.finish());
    };
    let zone = match &options.zone {
        Some(zone) => match zone.name().parse::<Tz>() {
            Ok(tz) => Some(tz),
            Err(_) => {
                problems.file(ProblemKind::UnknownZone(zone.name().to_owned()));
                return Err(problems.finish());
            }
        },
        None => None,
    };
    let parsed = if hobo::recognises(first.text) {
        hobo::parse(&lines, options, zone, &mut problems)
    } else if generic::recognises(first.text) {
        generic::parse(&lines, options, zone, &mut problems)
    } else {
        problems.at(first.number, ProblemKind::UnknownLayout);
        None
    };
    match parsed {
        Some(file) if problems.is_empty() => {
            if file.readings.is_empty() {
                problems.file(ProblemKind::NoReadings);
                Err(problems.finish())
            } else {
                Ok(file)
            }
        }
        _ => Err(problems.finish()),
    }
}

/// The text of an upload: UTF-8 (a BOM dropped), UTF-16 with its BOM, or
/// else Latin-1 (every byte a character, as the `°` 0xB0 of Windows
/// exports). `None` for what is not text: a NUL, or broken UTF-16.
fn decode(bytes: &[u8]) -> Option<String> {
    let text = if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        String::from_utf8(rest.to_vec()).ok()?
    } else if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        utf16(rest, u16::from_le_bytes)?
    } else if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        utf16(rest, u16::from_be_bytes)?
    } else {
        match std::str::from_utf8(bytes) {
            Ok(text) => text.to_owned(),
            Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
        }
    };
    (!text.contains('\0')).then_some(text)
}

fn utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> Option<String> {
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|pair| unit([pair[0], pair[1]]))
        .collect();
    String::from_utf16(&units).ok()
}

/// The fields of one line: separated by `separator` outside quotes,
/// unquoted, untrimmed. `None` when a quote is left open.
pub(crate) fn fields(line: &str, separator: char) -> Option<Vec<String>> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    field.push('"');
                } else {
                    quoted = false;
                }
            } else {
                field.push(c);
            }
        } else if c == '"' && field.trim().is_empty() {
            field.clear();
            quoted = true;
        } else if c == separator {
            fields.push(std::mem::take(&mut field));
        } else {
            field.push(c);
        }
    }
    if quoted {
        return None;
    }
    fields.push(field);
    Some(fields)
}

/// A wall-clock time in `zone` as an instant; refused when the clocks
/// skipped it or passed it twice (the file cannot say which was meant).
pub(crate) fn local_instant(
    text: &str,
    local: NaiveDateTime,
    zone: Tz,
) -> Result<DateTime<Utc>, ProblemKind> {
    match zone.from_local_datetime(&local) {
        LocalResult::Single(t) => Ok(t.with_timezone(&Utc)),
        LocalResult::None => Err(ProblemKind::SkippedLocalTime {
            text: text.to_owned(),
            zone: zone.name().to_owned(),
        }),
        LocalResult::Ambiguous(_, _) => Err(ProblemKind::RepeatedLocalTime {
            text: text.to_owned(),
            zone: zone.name().to_owned(),
        }),
    }
}

/// A temperature column of a header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Column {
    pub index: usize,
    pub header: String,
    pub unit: super::celsius::Unit,
}

/// The one temperature column to read: the only one, or the one the
/// uploader's channel names.
pub(crate) fn choose_column(
    columns: Vec<Column>,
    channel: Option<&str>,
) -> Result<Column, ProblemKind> {
    let headers = |columns: &[Column]| columns.iter().map(|c| c.header.clone()).collect();
    let (columns, none) = match channel.map(str::trim).filter(|c| !c.is_empty()) {
        None => (columns, ProblemKind::MissingColumn("temperature")),
        Some(channel) => {
            let wanted = channel.to_lowercase();
            let matching = columns
                .into_iter()
                .filter(|c| c.header.to_lowercase().contains(&wanted))
                .collect();
            (matching, ProblemKind::NoSuchChannel(channel.to_owned()))
        }
    };
    match <[Column; 1]>::try_from(columns) {
        Ok([column]) => Ok(column),
        Err(columns) if columns.is_empty() => Err(none),
        Err(columns) => Err(match channel {
            Some(channel) if !channel.trim().is_empty() => ProblemKind::AmbiguousChannel {
                channel: channel.trim().to_owned(),
                columns: headers(&columns),
            },
            _ => ProblemKind::SeveralTemperatureColumns(headers(&columns)),
        }),
    }
}
