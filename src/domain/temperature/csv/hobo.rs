//! The CSV export of Onset's HOBOware, as read out from HOBO thermocouple
//! loggers (UX120-014M four-channel, UX100-014M one-channel) whose type T or
//! K probes read down to liquid-nitrogen temperatures; labs put the probe in
//! a tank's vapour phase or a dry shipper's chamber.
//!
//! ```text
//! "Plot Title: DS-07 SH-2026-0012"
//! "#","Date Time, GMT+08:00","T-Type, °C (LGR S/N: 20512345, SEN S/N: 20512345, LBL: DS-07)","Coupler Attached (LGR S/N: 20512345)","Stopped (LGR S/N: 20512345)","End Of File (LGR S/N: 20512345)"
//! 1,03/02/26 08:00:00 AM,-191.250,,,
//! 2,03/02/26 08:05:00 AM,-191.125,,,
//! 3,03/02/26 09:10:00 AM,,Logged,,
//! ```
//!
//! Line by line, as HOBOware writes it with its default preferences:
//! 1. `Plot Title: …` (optional: HOBOware can leave it out);
//! 2. the header, every field quoted: `#` (the row number), `Date Time,
//!    GMT±hh:mm` (the fixed offset every time of the file is in: HOBOware
//!    does not follow daylight saving within a file), then one column per
//!    series, `<sensor>, <unit> (LGR S/N: …, SEN S/N: …, LBL: …)`, where the
//!    sensor is `Temp` (the internal thermistor) or `T-Type`, `K-Type`, …
//!    (a thermocouple channel) and the unit `°C` or `°F`; then event columns
//!    (`Coupler Attached`, `Host Connected`, `Stopped`, `End Of File`, …);
//! 3. one row per reading: the row number, `MM/DD/YY hh:mm:ss AM` (12-hour
//!    clock; 24-hour `HH:mm:ss` when so set), the value with three decimals;
//!    a row with the temperature empty records an event only and is skipped.
//!
//! Read with care:
//! - The file is Windows-1252 (`°` is the byte 0xB0), or UTF-8 with a BOM
//!   from newer versions; both are read.
//! - The date order follows the computer's preference (month/day/year by
//!   default, day/month/year or year/month/day elsewhere) and the file does
//!   not say which. Given with the upload it is used; otherwise a day above
//!   12 in the file shows it; otherwise, if some date reads differently
//!   either way (`03/02/26`: 2 March or 3 February), the file is refused.
//!   A four-digit year first is year/month/day.
//! - Two-digit years are 2000–2099.
//! - Several temperature columns need the uploader's channel (e.g. `LBL:
//!   DS-07`), as [`super::ParseOptions::channel`].
//! - Values have three decimals: they are rounded up to the hundredth.
//!
//! Sources: the logger is Onset's HOBO 4-Channel Thermocouple Data Logger
//! (UX120-014M) Manual (manualshelf.com/manual/hobo-by-onset/
//! hobo-by-onset-ux120-014m-thermocouple-data-logger), which reads out to
//! HOBOware. We found no Onset document of the export's columns; the layout
//! above is the one real HOBOware exports show in public code that reads
//! them: the `Plot Title` line and quoted header (netplusdesign/
//! data-import-adapters `adapters/hobo.py`, skipping two header rows), the
//! time format `%m/%d/%y %I:%M:%S %p` and the `GMT±hh:mm` and `LGR S/N:`
//! patterns of a HOBO reader in Python, and a thermocouple header
//! `"T-Type, °C (LGR S/N: 10659154, SEN S/N: 10659154, LBL: 1)"` from a
//! freezer test. The sample `tests/data/temperature/hoboware_ux120_014m.csv`
//! is written to that layout, not exported by a logger.

use chrono::{FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

use super::{
    Column, DateOrder, Layout, Line, LoggerFile, ParseOptions, ProblemKind, Problems,
    choose_column, fields, local_instant,
};
use crate::domain::temperature::celsius::{CentiCelsius, DecimalMark, Unit};
use crate::domain::temperature::excursion::Reading;

/// A HOBOware export begins with its plot title, or with its header.
pub(super) fn recognises(first: &str) -> bool {
    fields(first, ',').is_some_and(|f| {
        let first_field = f[0].trim();
        first_field.starts_with("Plot Title:") || (first_field == "#" && time_column(&f).is_some())
    })
}

fn time_column(names: &[String]) -> Option<usize> {
    names
        .iter()
        .position(|n| n.trim().to_lowercase().starts_with("date time"))
}

/// The offset written in the time column's header: `GMT+08:00`,
/// `GMT-04:00`, `GMT +01:00`, or `GMT` alone (UTC). `None` without `GMT`.
fn header_offset(header: &str) -> Option<Result<FixedOffset, ()>> {
    let at = header.find("GMT")?;
    let rest = header[at + 3..].trim();
    if rest.is_empty() {
        return Some(FixedOffset::east_opt(0).ok_or(()));
    }
    Some(parse_offset(rest))
}

fn parse_offset(text: &str) -> Result<FixedOffset, ()> {
    let (sign, digits) = match text.chars().next() {
        Some('+') => (1, &text[1..]),
        Some('-') => (-1, &text[1..]),
        _ => return Err(()),
    };
    let (hours, minutes) = digits.trim().split_once(':').ok_or(())?;
    let hours: i32 = hours.parse().map_err(|_| ())?;
    let minutes: i32 = minutes.parse().map_err(|_| ())?;
    if hours > 14 || minutes > 59 {
        return Err(());
    }
    FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60)).ok_or(())
}

/// `T-Type, °C (…)` → °C; `Temp, °F (…)` → °F; other series → `None`.
/// A temperature series with no unit we know is `Some(Err)`.
fn series_unit(header: &str) -> Option<Result<Unit, ()>> {
    let (sensor, rest) = header.split_once(',')?;
    let sensor = sensor.trim();
    let thermocouple = sensor.len() == 6
        && sensor.ends_with("-Type")
        && sensor.starts_with(|c: char| c.is_ascii_uppercase());
    if !(sensor == "Temp" || sensor == "Temperature" || thermocouple) {
        return None;
    }
    let unit = rest.trim().replace('º', "°");
    Some(if unit.starts_with("°C") {
        Ok(Unit::Celsius)
    } else if unit.starts_with("°F") {
        Ok(Unit::Fahrenheit)
    } else {
        Err(())
    })
}

fn logger_serial(header: &str) -> Option<String> {
    let at = header.find("LGR S/N:")?;
    let serial: String = header[at + 8..]
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    (!serial.is_empty()).then_some(serial)
}

/// A date as written, before its order is known.
#[derive(Debug, Clone)]
struct SlashedDate {
    text: String,
    parts: [u32; 3],
    /// The first part has four digits: year/month/day whatever the order.
    year_first: bool,
    /// Two-digit year (in the position the order gives it).
    widths: [usize; 3],
}

impl SlashedDate {
    fn read(text: &str) -> Option<SlashedDate> {
        let pieces: Vec<&str> = text.split('/').collect();
        let [a, b, c] = pieces[..] else {
            return None;
        };
        let mut parts = [0; 3];
        let mut widths = [0; 3];
        for (i, piece) in [a, b, c].into_iter().enumerate() {
            if piece.is_empty() || piece.len() > 4 || !piece.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            parts[i] = piece.parse().ok()?;
            widths[i] = piece.len();
        }
        Some(SlashedDate {
            text: text.to_owned(),
            parts,
            year_first: widths[0] == 4,
            widths,
        })
    }

    /// Could be read both ways, with different days.
    fn ambiguous(&self) -> bool {
        !self.year_first
            && self.parts[0] <= 12
            && self.parts[1] <= 12
            && self.parts[0] != self.parts[1]
    }

    fn date(&self, order: DateOrder) -> Option<NaiveDate> {
        let order = if self.year_first {
            DateOrder::YearMonthDay
        } else {
            order
        };
        let (y, m, d) = match order {
            DateOrder::MonthDayYear => (2, 0, 1),
            DateOrder::DayMonthYear => (2, 1, 0),
            DateOrder::YearMonthDay => (0, 1, 2),
        };
        let year = match self.widths[y] {
            2 => 2000 + self.parts[y],
            4 => self.parts[y],
            _ => return None,
        };
        if self.widths[m] > 2 || self.widths[d] > 2 {
            return None;
        }
        NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, self.parts[m], self.parts[d])
    }
}

/// `08:05:00 AM`, `8:05 PM`, `20:05:00`, `20:05`.
fn clock(time: &str, meridiem: Option<&str>) -> Option<NaiveTime> {
    let mut parts = time.split(':');
    let hour: u32 = parts.next()?.parse().ok()?;
    let minute: u32 = parts.next()?.parse().ok()?;
    let second: u32 = match parts.next() {
        Some(s) => s.parse().ok()?,
        None => 0,
    };
    if parts.next().is_some() {
        return None;
    }
    let hour = match meridiem.map(str::to_ascii_uppercase).as_deref() {
        None => hour,
        Some("AM") if (1..=12).contains(&hour) => hour % 12,
        Some("PM") if (1..=12).contains(&hour) => hour % 12 + 12,
        Some(_) => return None,
    };
    NaiveTime::from_hms_opt(hour, minute, second)
}

/// A row read but not yet dated.
struct Row {
    line: usize,
    time_text: String,
    date: SlashedDate,
    clock: NaiveTime,
    temperature: CentiCelsius,
}

const EXPECTED_TIME: &str = "HOBOware, e.g. 03/01/26 08:05:00 AM";

pub(super) fn parse(
    lines: &[Line<'_>],
    options: &ParseOptions,
    zone: Option<Tz>,
    problems: &mut Problems,
) -> Option<LoggerFile> {
    let titled = fields(lines[0].text, ',').is_some_and(|f| f[0].trim().starts_with("Plot Title:"));
    let rest = if titled { &lines[1..] } else { lines };
    let Some((header, rows)) = rest.split_first() else {
        problems.at(lines[0].number, ProblemKind::MissingColumn("time"));
        return None;
    };
    let Some(names) = fields(header.text, ',') else {
        problems.at(header.number, ProblemKind::UnclosedQuote);
        return None;
    };
    let names: Vec<String> = names.iter().map(|n| n.trim().to_owned()).collect();
    let Some(time) = time_column(&names) else {
        problems.at(header.number, ProblemKind::MissingColumn("time"));
        return None;
    };
    let offset = match header_offset(&names[time]) {
        Some(Ok(offset)) => Some(offset),
        Some(Err(())) => {
            problems.at(
                header.number,
                ProblemKind::BadTime(names[time].clone(), "a header “Date Time, GMT+08:00”"),
            );
            return None;
        }
        None if zone.is_some() => None,
        None => {
            problems.at(
                header.number,
                ProblemKind::TimeWithoutOffset(names[time].clone()),
            );
            return None;
        }
    };
    let mut columns = Vec::new();
    for (index, name) in names.iter().enumerate() {
        match series_unit(name) {
            Some(Ok(unit)) => columns.push(Column {
                index,
                header: name.clone(),
                unit,
            }),
            Some(Err(())) => problems.at(header.number, ProblemKind::UnknownUnit(name.clone())),
            None => {}
        }
    }
    let column = match choose_column(columns, options.channel.as_deref()) {
        Ok(column) => column,
        Err(kind) => {
            problems.at(header.number, kind);
            return None;
        }
    };

    let mut read = Vec::new();
    let mut rounded_up = 0;
    for line in rows {
        let Some(values) = fields(line.text, ',') else {
            problems.at(line.number, ProblemKind::UnclosedQuote);
            continue;
        };
        let needed = time.max(column.index) + 1;
        if values.len() < needed || values.len() > names.len() {
            problems.at(
                line.number,
                ProblemKind::FieldCount {
                    expected: names.len(),
                    found: values.len(),
                },
            );
            continue;
        }
        let temperature_text = values.get(column.index).map_or("", |v| v.trim());
        if temperature_text.is_empty() {
            // an event row (coupler attached, stopped, end of file)
            continue;
        }
        let time_text = values[time].trim();
        let dated = dated(time_text);
        let temperature = CentiCelsius::parse(temperature_text, column.unit, DecimalMark::Point);
        match (dated, temperature) {
            (Some((date, clock)), Ok(parsed)) => {
                if read.len() == options.max_readings {
                    problems.file(ProblemKind::TooManyReadings {
                        max: options.max_readings,
                    });
                    return None;
                }
                rounded_up += usize::from(parsed.rounded_up);
                read.push(Row {
                    line: line.number,
                    time_text: time_text.to_owned(),
                    date,
                    clock,
                    temperature: parsed.value,
                });
            }
            (dated, temperature) => {
                if dated.is_none() {
                    problems.at(
                        line.number,
                        if time_text.is_empty() {
                            ProblemKind::NoTime
                        } else {
                            ProblemKind::BadTime(time_text.to_owned(), EXPECTED_TIME)
                        },
                    );
                }
                if let Err(error) = temperature {
                    problems.at(line.number, ProblemKind::Temperature(error));
                }
            }
        }
    }

    let order = date_order(&read, options.date_order, problems)?;
    let mut readings = Vec::with_capacity(read.len());
    for row in read {
        let Some(date) = row.date.date(order) else {
            problems.at(
                row.line,
                ProblemKind::BadDate {
                    text: row.date.text.clone(),
                    order,
                },
            );
            continue;
        };
        let local = NaiveDateTime::new(date, row.clock);
        let at = match (offset, zone) {
            (Some(offset), _) => offset
                .from_local_datetime(&local)
                .single()
                .map(|t| t.with_timezone(&Utc))
                .ok_or_else(|| ProblemKind::BadTime(row.time_text.clone(), EXPECTED_TIME)),
            (None, Some(zone)) => local_instant(&row.time_text, local, zone),
            (None, None) => Err(ProblemKind::TimeWithoutOffset(row.time_text.clone())),
        };
        match at {
            Ok(at) => readings.push(Reading {
                at,
                temperature: row.temperature,
            }),
            Err(kind) => problems.at(row.line, kind),
        }
    }
    Some(LoggerFile {
        layout: Layout::Hoboware,
        readings,
        rounded_up,
        logger_serial: logger_serial(&column.header),
        column: column.header,
    })
}

/// `03/02/26 08:05:00 AM` → its date (order unknown) and clock time.
fn dated(text: &str) -> Option<(SlashedDate, NaiveTime)> {
    let mut words = text.split_whitespace();
    let date = SlashedDate::read(words.next()?)?;
    let time = words.next()?;
    let meridiem = words.next();
    if words.next().is_some() {
        return None;
    }
    Some((date, clock(time, meridiem)?))
}

/// The order the uploader gave, or the one the file shows; refused when the
/// file shows both or neither while some date depends on it.
fn date_order(
    rows: &[Row],
    given: Option<DateOrder>,
    problems: &mut Problems,
) -> Option<DateOrder> {
    if let Some(order) = given {
        return Some(order);
    }
    let slashed = || rows.iter().map(|r| &r.date).filter(|d| !d.year_first);
    let day_first = slashed().find(|d| d.parts[0] > 12 && d.parts[1] <= 12);
    let month_first = slashed().find(|d| d.parts[1] > 12 && d.parts[0] <= 12);
    match (day_first, month_first) {
        (Some(a), Some(b)) => {
            problems.file(ProblemKind::ConflictingDateOrder(
                a.text.clone(),
                b.text.clone(),
            ));
            None
        }
        (Some(_), None) => Some(DateOrder::DayMonthYear),
        (None, Some(_)) => Some(DateOrder::MonthDayYear),
        (None, None) => match slashed().find(|d| d.ambiguous()) {
            Some(example) => {
                problems.file(ProblemKind::AmbiguousDateOrder(example.text.clone()));
                None
            }
            // every date reads the same either way
            None => Some(DateOrder::MonthDayYear),
        },
    }
}
