use chrono::{DateTime, TimeDelta, Utc};

use super::*;
use crate::domain::temperature::celsius::{CentiCelsius, TemperatureError};
use crate::domain::temperature::excursion::{Limits, analyse};
use crate::domain::zone::SiteZone;

const GENERIC: &[u8] = include_bytes!("../../../../tests/data/temperature/generic.csv");
const HOBOWARE: &[u8] =
    include_bytes!("../../../../tests/data/temperature/hoboware_ux120_014m.csv");

fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

fn read(text: &str) -> Result<LoggerFile, Vec<Problem>> {
    parse(text.as_bytes(), &ParseOptions::default())
}

/// The problems as people read them.
fn said(result: Result<LoggerFile, Vec<Problem>>) -> Vec<String> {
    result
        .expect_err("the file should be refused")
        .iter()
        .map(ToString::to_string)
        .collect()
}

fn kinds(result: Result<LoggerFile, Vec<Problem>>) -> Vec<(Option<usize>, ProblemKind)> {
    result
        .expect_err("the file should be refused")
        .into_iter()
        .map(|p| (p.line, p.kind))
        .collect()
}

fn hobo_options() -> ParseOptions {
    ParseOptions {
        channel: Some("LBL: DS-07".into()),
        date_order: Some(DateOrder::MonthDayYear),
        ..ParseOptions::default()
    }
}

#[test]
fn the_generic_sample_reads_and_shows_one_alarm() {
    let file = parse(GENERIC, &ParseOptions::default()).unwrap();
    assert_eq!(file.layout, Layout::Generic);
    assert_eq!(file.readings.len(), 13);
    assert_eq!(file.column, "temperature");
    assert_eq!(file.rounded_up, 0);
    assert_eq!(file.readings[0].at, utc("2026-03-01T00:00:00Z"));
    assert_eq!(file.readings[0].temperature.get(), -18_240);
    let analysis = analyse(&file.readings, &Limits::default(), 30);
    let [alarm] = analysis.excursions[..] else {
        panic!("one excursion expected: {analysis:?}")
    };
    assert_eq!(alarm.start, utc("2026-03-01T00:25:00Z"));
    assert_eq!(alarm.end, utc("2026-03-01T00:30:00Z"));
    assert_eq!(alarm.peak.get(), -14_995);
    assert!(!alarm.holds, "5 minutes is within the 10 allowed");
}

#[test]
fn the_hoboware_sample_reads_its_chamber_probe_and_holds() {
    let file = parse(HOBOWARE, &hobo_options()).unwrap();
    assert_eq!(file.layout, Layout::Hoboware);
    assert_eq!(file.logger_serial.as_deref(), Some("20512345"));
    assert!(file.column.starts_with("T-Type, °C"), "{}", file.column);
    assert_eq!(file.readings.len(), 49, "three event rows skipped");
    // 8:00 AM at GMT+08:00
    assert_eq!(file.readings[0].at, utc("2026-03-02T00:00:00Z"));
    assert_eq!(file.readings[0].temperature.get(), -19_125);
    assert_eq!(
        file.readings[48].at,
        utc("2026-03-02T04:00:00Z"),
        "12:00 PM"
    );
    // −191.125 and −191.375 have a thousandth: rounded up
    assert!(file.rounded_up > 0);
    assert_eq!(file.readings[1].temperature.get(), -19_112);
    let analysis = analyse(&file.readings, &Limits::default(), 30);
    let [excursion] = analysis.excursions[..] else {
        panic!("one excursion expected: {analysis:?}")
    };
    assert_eq!(excursion.start, utc("2026-03-02T02:00:00Z"));
    assert_eq!(excursion.end, utc("2026-03-02T02:20:00Z"));
    assert_eq!(excursion.duration(), TimeDelta::minutes(20));
    assert_eq!(excursion.peak.get(), -13_975);
    assert!(excursion.holds);
    assert!(analysis.gaps.is_empty());
}

#[test]
fn the_hoboware_sample_needs_its_channel_and_its_date_order() {
    assert_eq!(
        said(parse(HOBOWARE, &ParseOptions::default())),
        vec![
            "line 2: the file has several temperature columns (Temp, °C (LGR S/N: 20512345, SEN S/N: 20512345, LBL: logger); T-Type, °C (LGR S/N: 20512345, SEN S/N: 20512345, LBL: DS-07 chamber)); say which to read"
        ]
    );
    let channel_only = ParseOptions {
        channel: Some("ds-07".into()),
        ..ParseOptions::default()
    };
    assert_eq!(
        kinds(parse(HOBOWARE, &channel_only)),
        vec![(None, ProblemKind::AmbiguousDateOrder("03/02/26".into()))]
    );
    let day_first = ParseOptions {
        date_order: Some(DateOrder::DayMonthYear),
        ..hobo_options()
    };
    let file = parse(HOBOWARE, &day_first).unwrap();
    assert_eq!(file.readings[0].at, utc("2026-02-03T00:00:00Z"));
    for (channel, kind) in [
        ("probe 9", ProblemKind::NoSuchChannel("probe 9".into())),
        (
            "LGR S/N",
            ProblemKind::AmbiguousChannel {
                channel: "LGR S/N".into(),
                columns: vec![
                    "Temp, °C (LGR S/N: 20512345, SEN S/N: 20512345, LBL: logger)".into(),
                    "T-Type, °C (LGR S/N: 20512345, SEN S/N: 20512345, LBL: DS-07 chamber)".into(),
                ],
            },
        ),
    ] {
        let options = ParseOptions {
            channel: Some(channel.into()),
            ..hobo_options()
        };
        assert_eq!(kinds(parse(HOBOWARE, &options)), vec![(Some(2), kind)]);
    }
}

const HOBO_HEADER: &str = "\"#\",\"Date Time, GMT-05:00\",\"K-Type, °F (LGR S/N: 10679014, SEN S/N: 10679014, LBL: tank 3)\",\"Stopped (LGR S/N: 10679014)\"";

#[test]
fn hoboware_shows_its_date_order_with_a_day_above_twelve() {
    let text = format!(
        "{HOBO_HEADER}\n1,12/03/26 23:55:00,-238.000,\n2,13/03/26 00:00:00,-238.5,\n3,13/03/26 00:00:30,,Logged\n"
    );
    let file = read(&text).unwrap();
    assert_eq!(file.logger_serial.as_deref(), Some("10679014"));
    assert_eq!(file.readings.len(), 2);
    // 24-hour clock, day first, GMT-05:00, °F converted
    assert_eq!(file.readings[0].at, utc("2026-03-13T04:55:00Z"));
    assert_eq!(file.readings[0].temperature.get(), -15_000);
    assert_eq!(file.readings[1].at, utc("2026-03-13T05:00:00Z"));
    assert_eq!(file.readings[1].temperature.get(), -15_027);
    assert_eq!(file.rounded_up, 1);

    let month_first = format!("{HOBO_HEADER}\n1,03/13/26 11:55:00 PM,-300,\n");
    let file = read(&month_first).unwrap();
    assert_eq!(file.readings[0].at, utc("2026-03-14T04:55:00Z"));

    let both = format!("{HOBO_HEADER}\n1,13/03/26 00:00:00,-300,\n2,03/14/26 00:00:00,-300,\n");
    assert_eq!(
        kinds(read(&both)),
        vec![(
            None,
            ProblemKind::ConflictingDateOrder("13/03/26".into(), "03/14/26".into())
        )]
    );
    // the same day either way is not ambiguous; a four-digit year first is y/m/d
    let plain = format!("{HOBO_HEADER}\n1,03/03/26 00:00:00,-300,\n2,2026/03/04 00:00:00,-300,\n");
    let file = read(&plain).unwrap();
    assert_eq!(file.readings[1].at, utc("2026-03-04T05:00:00Z"));
}

#[test]
fn hoboware_reports_every_bad_line() {
    let text = format!(
        "\"Plot Title: tank 3\"\n{HOBO_HEADER}\n\
         1,03/13/26 01:00:00 PM,-300,\n\
         2,03/13/26 13:00:00 PM,-300,\n\
         3,02/30/26 01:00:00 AM,-300,\n\
         4,03/13/26 01:00:00 AM,-500,\n\
         5,03/13/26,-300,\n\
         6,03/13/26 02:00:00 AM,-300,,,\n\
         7,,-300,\n"
    );
    assert_eq!(
        said(read(&text)),
        vec![
            "line 4: “03/13/26 13:00:00 PM” is not a date and time (HOBOware, e.g. 03/01/26 08:05:00 AM)",
            "line 5: “02/30/26” is not a month/day/year date",
            "line 6: “-500” is below absolute zero (−273.15 °C)",
            "line 7: “03/13/26” is not a date and time (HOBOware, e.g. 03/01/26 08:05:00 AM)",
            "line 8: 6 fields where the header has 4",
            "line 9: no time",
        ]
    );
}

#[test]
fn hoboware_without_an_offset_needs_the_zone() {
    let text = "\"#\",\"Date Time\",\"Temp, °C (LGR S/N: 1)\"\n1,03/13/26 01:00:00 AM,-190.000\n";
    assert_eq!(
        kinds(read(text)),
        vec![(Some(1), ProblemKind::TimeWithoutOffset("Date Time".into()))]
    );
    let shanghai = ParseOptions {
        zone: SiteZone::parse("Asia/Shanghai"),
        ..ParseOptions::default()
    };
    let file = parse(text.as_bytes(), &shanghai).unwrap();
    assert_eq!(file.readings[0].at, utc("2026-03-12T17:00:00Z"));
    let unknown =
        "\"#\",\"Date Time, GMT+08:00\",\"Temp, ?F (LGR S/N: 1)\"\n1,03/13/26 01:00:00 AM,-190\n";
    assert_eq!(
        kinds(read(unknown)),
        vec![
            (
                Some(1),
                ProblemKind::UnknownUnit("Temp, ?F (LGR S/N: 1)".into())
            ),
            (Some(1), ProblemKind::MissingColumn("temperature")),
        ]
    );
}

#[test]
fn hoboware_in_windows_1252_and_utf8_with_bom_read_the_same() {
    let text = "\"#\",\"Date Time, GMT+00:00\",\"Temp, °C\"\r\n1,03/13/26 01:00:00 AM,-190.000\r\n";
    let latin1: Vec<u8> = text.chars().map(|c| c as u8).collect();
    assert!(latin1.contains(&0xB0));
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(text.as_bytes());
    let a = parse(&latin1, &ParseOptions::default()).unwrap();
    let b = parse(&bom, &ParseOptions::default()).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.readings[0].temperature.get(), -19_000);
}

#[test]
fn the_generic_layout_reports_every_bad_line_at_once() {
    let text = "time,temperature\n\
                2026-03-01T00:00:00Z,-190\n\
                2026-03-01 00:05:00,-190\n\
                yesterday,-190\n\
                2026-03-01T00:10:00Z,cold\n\
                2026-03-01T00:15:00Z\n\
                ,\n\
                \"2026-03-01T00:20:00Z,-190\n\
                2026-03-01T00:25:00Z,-300\n\
                2026-03-01T00:30:00Z,-150,5\n\
                \n\
                2026-03-01T00:35:00Z,\"-150,5\"\n\
                2026-03-01T00:40:00Z,-190\n";
    assert_eq!(
        said(read(text)),
        vec![
            "line 3: “2026-03-01 00:05:00” has no offset from UTC (add `Z` or `+08:00`, or give the zone of the file)",
            "line 4: “yesterday” is not a date and time (ISO 8601, e.g. 2026-03-01T08:00:00Z)",
            "line 5: “cold” is not a number",
            "line 6: 1 fields where the header has 2",
            "line 7: no time",
            "line 7: no temperature",
            "line 8: a quoted field is not closed on its line",
            "line 9: “-300” is below absolute zero (−273.15 °C)",
            "line 10: 3 fields where the header has 2",
            "line 12: “-150,5” uses a decimal comma, which this layout does not",
        ]
    );
}

#[test]
fn bom_crlf_trailing_blank_lines_and_padding_are_fine() {
    let text = "\u{feff}Time,Temperature\r\n2026-03-01T08:00:00+08:00,-150.00\r\n2026-03-01T08:05+08:00,-150.01,,\r\n\r\n\r\n";
    let file = read(text).unwrap();
    assert_eq!(
        file.readings
            .iter()
            .map(|r| (r.at, r.temperature.get()))
            .collect::<Vec<_>>(),
        vec![
            (utc("2026-03-01T00:00:00Z"), -15_000),
            (utc("2026-03-01T00:05:00Z"), -15_001)
        ]
    );
    let mut utf16 = vec![0xFF, 0xFE];
    for unit in "time,temperature\r\n2026-03-01T00:00:00Z,-190\r\n".encode_utf16() {
        utf16.extend_from_slice(&unit.to_le_bytes());
    }
    assert_eq!(
        parse(&utf16, &ParseOptions::default())
            .unwrap()
            .readings
            .len(),
        1
    );
}

#[test]
fn header_variations_name_the_same_columns() {
    let cases = [
        ("timestamp,temperature_c", "-150", -15_000),
        ("TIME , Temp (°C)", "-150", -15_000),
        ("recorded_at,Temperature (°F)", "-238", -15_000),
        ("date time,temperature_f", "32", 0),
        ("datetime,°C", "-196.5", -19_650),
        ("probe,time,celsius,note", "-196.5", -19_650),
    ];
    for (header, value, centi) in cases {
        let row = if header.starts_with("probe") {
            format!("DS-07,2026-03-01T00:00:00Z,{value},ok")
        } else {
            format!("2026-03-01T00:00:00Z,{value}")
        };
        let file =
            read(&format!("{header}\n{row}\n")).unwrap_or_else(|p| panic!("{header}: {p:?}"));
        assert_eq!(file.readings[0].temperature.get(), centi, "{header}");
    }
}

#[test]
fn semicolons_and_tabs_allow_a_decimal_comma_and_the_unicode_minus() {
    let semicolon = "time;temperature (°C)\n2026-03-01T08:00:00+0800;\u{2212}150,2\n";
    let file = read(semicolon).unwrap();
    assert_eq!(file.readings[0].temperature.get(), -15_020);
    assert_eq!(file.readings[0].at, utc("2026-03-01T00:00:00Z"));
    let tab = "time\ttemperature\n2026-03-01T00:00:00.500Z\t-150,25\n";
    let file = read(tab).unwrap();
    assert_eq!(file.readings[0].temperature.get(), -15_025);
    assert_eq!(
        file.readings[0].at,
        utc("2026-03-01T00:00:00Z") + TimeDelta::milliseconds(500)
    );
}

#[test]
fn headers_that_do_not_say_enough_are_refused() {
    assert_eq!(
        kinds(read("time,reading\n2026-03-01T00:00:00Z,-190\n")),
        vec![(Some(1), ProblemKind::MissingColumn("temperature"))]
    );
    assert_eq!(
        kinds(read("time,timestamp,temperature\n")),
        vec![(
            Some(1),
            ProblemKind::DuplicateColumn("time".into(), "timestamp".into(), "time")
        )]
    );
    assert_eq!(
        kinds(read(
            "time,temperature_c,temperature_f\n2026-03-01T00:00:00Z,-150,-238\n"
        )),
        vec![(
            Some(1),
            ProblemKind::SeveralTemperatureColumns(vec![
                "temperature_c".into(),
                "temperature_f".into()
            ])
        )]
    );
    let fahrenheit = ParseOptions {
        channel: Some("_F".into()),
        ..ParseOptions::default()
    };
    let file = parse(
        b"time,temperature_c,temperature_f\n2026-03-01T00:00:00Z,-150,-238.5\n",
        &fahrenheit,
    )
    .unwrap();
    assert_eq!(file.readings[0].temperature.get(), -15_027);
    assert_eq!(
        said(read("2026-03-01T00:00:00Z,-190\n")),
        vec![
            "line 1: the layout is not one we read: expected a header `time,temperature` or a HOBOware export"
        ]
    );
}

#[test]
fn empty_headers_only_binary_and_oversized_files_are_refused() {
    assert_eq!(kinds(read("")), vec![(None, ProblemKind::Empty)]);
    assert_eq!(kinds(read("\r\n\n  \n")), vec![(None, ProblemKind::Empty)]);
    assert_eq!(
        kinds(read("time,temperature\n\n")),
        vec![(None, ProblemKind::NoReadings)]
    );
    assert_eq!(
        kinds(parse(b"time,temperature\n\0\0", &ParseOptions::default())),
        vec![(None, ProblemKind::NotText)]
    );
    let huge = vec![b' '; MAX_BYTES + 1];
    assert_eq!(
        kinds(parse(&huge, &ParseOptions::default())),
        vec![(
            None,
            ProblemKind::TooLarge {
                bytes: MAX_BYTES + 1,
                max: MAX_BYTES
            }
        )]
    );
    let small = ParseOptions {
        max_readings: 2,
        ..ParseOptions::default()
    };
    let three = "time,temperature\n2026-03-01T00:00:00Z,-190\n2026-03-01T00:05:00Z,-190\n2026-03-01T00:10:00Z,-190\n";
    assert_eq!(
        kinds(parse(three.as_bytes(), &small)),
        vec![(None, ProblemKind::TooManyReadings { max: 2 })]
    );
    assert_eq!(
        parse(three.as_bytes(), &ParseOptions::default())
            .unwrap()
            .readings
            .len(),
        3
    );
}

#[test]
fn a_very_bad_file_lists_the_first_problems_and_counts_the_rest() {
    let mut text = String::from("time,temperature\n");
    for _ in 0..(MAX_PROBLEMS + 50) {
        text.push_str("never,-190\n");
    }
    let problems = read(&text).unwrap_err();
    assert_eq!(problems.len(), MAX_PROBLEMS + 1);
    assert_eq!(problems[0].line, Some(2));
    assert_eq!(problems[MAX_PROBLEMS].to_string(), "and 50 more problems");
}

#[test]
fn local_times_read_in_the_given_zone_unless_the_clocks_skipped_or_repeated_them() {
    let new_york = ParseOptions {
        zone: SiteZone::parse("America/New_York"),
        ..ParseOptions::default()
    };
    let text = "time,temperature\n\
                2026-03-07T02:30:00,-190\n\
                2026-03-08T02:30:00,-190\n\
                2026-11-01T01:30:00,-190\n\
                2026-11-01T01:30:00-05:00,-190\n";
    assert_eq!(
        kinds(parse(text.as_bytes(), &new_york)),
        vec![
            (
                Some(3),
                ProblemKind::SkippedLocalTime {
                    text: "2026-03-08T02:30:00".into(),
                    zone: "America/New_York".into()
                }
            ),
            (
                Some(4),
                ProblemKind::RepeatedLocalTime {
                    text: "2026-11-01T01:30:00".into(),
                    zone: "America/New_York".into()
                }
            ),
        ]
    );
    let fine = "time,temperature\n2026-03-07T02:30:00,-190\n2026-11-01T01:30:00-05:00,-190\n";
    let file = parse(fine.as_bytes(), &new_york).unwrap();
    assert_eq!(file.readings[0].at, utc("2026-03-07T07:30:00Z"));
    assert_eq!(file.readings[1].at, utc("2026-11-01T06:30:00Z"));
}

#[test]
fn a_temperature_problem_says_what_the_value_was() {
    let problems = read("time,temperature\n2026-03-01T00:00:00Z,1e3\n").unwrap_err();
    assert_eq!(
        problems[0].kind,
        ProblemKind::Temperature(TemperatureError::NotANumber("1e3".into()))
    );
    assert_eq!(CentiCelsius::degrees(-150).get(), -15_000);
}
