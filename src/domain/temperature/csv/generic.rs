//! The generic layout: a header line, then one reading a line.
//!
//! ```text
//! time,temperature
//! 2026-03-01T08:00:00Z,-190.5
//! 2026-03-01T08:05:00+08:00,-189.75
//! ```
//!
//! - **Separator**: `,`, or `;` or a tab (the header decides: `;` if it has
//!   one, else a tab if it has one, else `,`). With `;` or a tab a value may
//!   use a decimal comma (`-150,2`), as European spreadsheets write it.
//! - **Header**: a time column named `time`, `timestamp`, `datetime`,
//!   `date time`, `date_time` or `recorded_at`, and a temperature column
//!   `temperature` or `temp`, with an optional unit: `temperature_c`,
//!   `Temperature (°C)`, `temp °F`, `temperature_f`, or simply `°C`,
//!   `celsius`, `fahrenheit`. Without a unit it is °C. Names are read
//!   without regard to case; other columns are ignored; several temperature
//!   columns need the uploader's channel.
//! - **Time**: ISO 8601 / RFC 3339 to the minute or finer, `T` or a space
//!   between date and time, with `Z` or an offset (`+08:00`, `+0800`). A
//!   time without offset is read in the zone given with the upload, and
//!   refused without one, or when that zone skipped or repeated it.
//! - **Temperature**: a decimal number (`-196.5`, `−150.2` with a Unicode
//!   minus, `+4`); more than two decimals are rounded up (see `celsius`).

use chrono::{DateTime, NaiveDateTime, Utc};
use chrono_tz::Tz;

use super::{
    Column, Layout, Line, LoggerFile, ParseOptions, ProblemKind, Problems, choose_column, fields,
    local_instant,
};
use crate::domain::temperature::celsius::{CentiCelsius, DecimalMark, Unit};
use crate::domain::temperature::excursion::Reading;

const TIME_NAMES: [&str; 6] = [
    "time",
    "timestamp",
    "datetime",
    "date time",
    "date_time",
    "recorded_at",
];

const EXPECTED_TIME: &str = "ISO 8601, e.g. 2026-03-01T08:00:00Z";

fn separator(header: &str) -> char {
    if header.contains(';') {
        ';'
    } else if header.contains('\t') {
        '\t'
    } else {
        ','
    }
}

fn is_time_name(name: &str) -> bool {
    TIME_NAMES.contains(&name.trim().to_lowercase().as_str())
}

/// The unit a header names a temperature in, if it names one.
fn temperature_unit(name: &str) -> Option<Unit> {
    let lower = name.trim().to_lowercase().replace('º', "°");
    let rest = lower
        .strip_prefix("temperature")
        .or_else(|| lower.strip_prefix("temp"))
        .unwrap_or(&lower);
    let bare = rest.trim_matches(|c: char| " _,()[]°".contains(c));
    let named = rest.len() != lower.len();
    match bare {
        "" if named => Some(Unit::Celsius),
        "c" | "celsius" | "deg c" | "degc" => Some(Unit::Celsius),
        "f" | "fahrenheit" | "deg f" | "degf" => Some(Unit::Fahrenheit),
        _ => None,
    }
}

/// The first line is a header with a time column.
pub(super) fn recognises(first: &str) -> bool {
    fields(first, separator(first)).is_some_and(|names| names.iter().any(|n| is_time_name(n)))
}

pub(super) fn parse(
    lines: &[Line<'_>],
    options: &ParseOptions,
    zone: Option<Tz>,
    problems: &mut Problems,
) -> Option<LoggerFile> {
    let (header, rows) = lines.split_first()?;
    let separator = separator(header.text);
    let mark = if separator == ',' {
        DecimalMark::Point
    } else {
        DecimalMark::PointOrComma
    };
    let Some(names) = fields(header.text, separator) else {
        problems.at(header.number, ProblemKind::UnclosedQuote);
        return None;
    };
    let names: Vec<String> = names.iter().map(|n| n.trim().to_owned()).collect();
    let times: Vec<usize> = (0..names.len())
        .filter(|&i| is_time_name(&names[i]))
        .collect();
    let time = match times[..] {
        [time] => time,
        [first, second, ..] => {
            problems.at(
                header.number,
                ProblemKind::DuplicateColumn(names[first].clone(), names[second].clone(), "time"),
            );
            return None;
        }
        [] => {
            problems.at(header.number, ProblemKind::MissingColumn("time"));
            return None;
        }
    };
    let columns = names
        .iter()
        .enumerate()
        .filter_map(|(index, name)| {
            temperature_unit(name).map(|unit| Column {
                index,
                header: name.clone(),
                unit,
            })
        })
        .collect();
    let column = match choose_column(columns, options.channel.as_deref()) {
        Ok(column) => column,
        Err(kind) => {
            problems.at(header.number, kind);
            return None;
        }
    };

    let mut file = LoggerFile {
        layout: Layout::Generic,
        readings: Vec::new(),
        rounded_up: 0,
        logger_serial: None,
        column: column.header.clone(),
    };
    for line in rows {
        let Some(values) = fields(line.text, separator) else {
            problems.at(line.number, ProblemKind::UnclosedQuote);
            continue;
        };
        // spreadsheets pad rows with empty fields: those may go beyond the header
        let used = values
            .iter()
            .rposition(|v| !v.trim().is_empty())
            .map_or(0, |last| last + 1);
        if values.len() < names.len() || used > names.len() {
            problems.at(
                line.number,
                ProblemKind::FieldCount {
                    expected: names.len(),
                    found: if values.len() < names.len() {
                        values.len()
                    } else {
                        used
                    },
                },
            );
            continue;
        }
        let time_text = values[time].trim();
        let at = if time_text.is_empty() {
            Err(ProblemKind::NoTime)
        } else {
            instant(time_text, zone)
        };
        let temperature_text = values[column.index].trim();
        let temperature = if temperature_text.is_empty() {
            Err(ProblemKind::NoTemperature)
        } else {
            CentiCelsius::parse(temperature_text, column.unit, mark)
                .map_err(ProblemKind::Temperature)
        };
        match (at, temperature) {
            (Ok(at), Ok(parsed)) => {
                if file.readings.len() == options.max_readings {
                    problems.file(ProblemKind::TooManyReadings {
                        max: options.max_readings,
                    });
                    return None;
                }
                file.rounded_up += usize::from(parsed.rounded_up);
                file.readings.push(Reading {
                    at,
                    temperature: parsed.value,
                });
            }
            (at, temperature) => {
                for kind in [at.err(), temperature.err()].into_iter().flatten() {
                    problems.at(line.number, kind);
                }
            }
        }
    }
    Some(file)
}

/// An ISO 8601 time as an instant.
pub(crate) fn instant(text: &str, zone: Option<Tz>) -> Result<DateTime<Utc>, ProblemKind> {
    // one space between date and time is as good as a `T`; `Z` is +00:00
    let normalised = match text.split_once(' ') {
        Some((date, time)) if date.len() == 10 && !time.contains(' ') => {
            format!("{date}T{}", time.trim())
        }
        _ => text.to_owned(),
    };
    let normalised = match normalised.strip_suffix(['Z', 'z']) {
        Some(rest) => format!("{rest}+00:00"),
        None => normalised,
    };
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f%:z",
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%dT%H:%M%:z",
        "%Y-%m-%dT%H:%M%z",
    ] {
        if let Ok(t) = DateTime::parse_from_str(&normalised, format) {
            return Ok(t.with_timezone(&Utc));
        }
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(local) = NaiveDateTime::parse_from_str(&normalised, format) {
            return match zone {
                Some(zone) => local_instant(text, local, zone),
                None => Err(ProblemKind::TimeWithoutOffset(text.to_owned())),
            };
        }
    }
    Err(ProblemKind::BadTime(text.to_owned(), EXPECTED_TIME))
}
