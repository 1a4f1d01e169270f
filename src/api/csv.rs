//! CSV for spreadsheets: RFC 4180 (comma separated, CRLF line ends, a field
//! quoted when it holds a comma, quote or line break, quotes doubled), a
//! header row, and text that a spreadsheet would run as a formula (`=`,
//! `+`, `-`, `@`, a tab or a carriage return first) defused with a leading
//! apostrophe. A cell that is wholly a number (`-12.5`) stays a number.
//!
//! An export of a demo database opens with a `demo` column saying
//! `DEMO DATA - NOT FOR CLINICAL USE` on every row: a spreadsheet shows it
//! in column A, and it goes with any row copied, sorted or filtered, where a
//! comment line above the header would be lost (and would break the header).

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

/// A CSV document being written.
#[derive(Debug, Default)]
pub struct Csv {
    out: String,
    /// Every row opens with the demo column.
    demo: bool,
}

/// The demo column's header and its value on every row.
pub const DEMO_COLUMN: (&str, &str) = ("demo", "DEMO DATA - NOT FOR CLINICAL USE");

impl Csv {
    pub fn new(header: &[&str]) -> Self {
        Csv::marked(header, false)
    }

    /// A CSV whose rows open with the demo column when `demo`.
    pub fn marked(header: &[&str], demo: bool) -> Self {
        let mut csv = Csv {
            out: String::new(),
            demo: false,
        };
        let mark = demo.then_some(DEMO_COLUMN.0);
        csv.row(mark.into_iter().chain(header.iter().copied()));
        csv.demo = demo;
        csv
    }

    pub fn row<'a>(&mut self, fields: impl IntoIterator<Item = &'a str>) {
        let mark = self.demo.then_some(DEMO_COLUMN.1);
        for (i, field) in mark.into_iter().chain(fields).enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            self.field(field);
        }
        self.out.push_str("\r\n");
    }

    fn field(&mut self, field: &str) {
        let defused = field.starts_with(['=', '+', '-', '@', '\t', '\r']) && !is_number(field);
        let text = if defused {
            format!("'{field}")
        } else {
            field.to_owned()
        };
        if text.contains([',', '"', '\r', '\n']) {
            self.out.push('"');
            self.out.push_str(&text.replace('"', "\"\""));
            self.out.push('"');
        } else {
            self.out.push_str(&text);
        }
    }

    pub fn finish(self, filename: &str) -> CsvFile {
        CsvFile {
            body: self.out,
            filename: filename.to_owned(),
        }
    }
}

/// A plain decimal number, signed or not: `-12`, `-0.25`, `42`.
fn is_number(field: &str) -> bool {
    let digits = field.strip_prefix('-').unwrap_or(field);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, "0"));
    !whole.is_empty()
        && !fraction.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit())
}

/// A CSV answer, offered as a download.
pub struct CsvFile {
    pub body: String,
    pub filename: String,
}

impl IntoResponse for CsvFile {
    fn into_response(self) -> Response {
        let mut response = self.body.into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/csv; charset=utf-8; header=present"),
        );
        if let Ok(value) =
            HeaderValue::from_str(&format!("attachment; filename=\"{}.csv\"", self.filename))
        {
            headers.insert(header::CONTENT_DISPOSITION, value);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_as_rfc_4180_says() {
        let mut csv = Csv::new(&["a", "b"]);
        csv.row(["plain", "with, comma"]);
        csv.row(["say \"hi\"", "two\nlines"]);
        assert_eq!(
            csv.out,
            "a,b\r\nplain,\"with, comma\"\r\n\"say \"\"hi\"\"\",\"two\nlines\"\r\n"
        );
    }

    #[test]
    fn a_demo_export_opens_every_row_with_the_demo_column() {
        let mut csv = Csv::marked(&["a", "b"], true);
        csv.row(["1", "x"]);
        assert_eq!(
            csv.out,
            "demo,a,b\r\nDEMO DATA - NOT FOR CLINICAL USE,1,x\r\n"
        );
        let mut csv = Csv::marked(&["a", "b"], false);
        csv.row(["1", "x"]);
        assert_eq!(csv.out, "a,b\r\n1,x\r\n");
    }

    #[test]
    fn formulas_are_defused_and_numbers_kept() {
        let mut csv = Csv::default();
        csv.row(["=HYPERLINK(\"x\")", "-75.0", "@SUM(A1)", "-V002"]);
        assert_eq!(
            csv.out,
            "\"'=HYPERLINK(\"\"x\"\")\",-75.0,'@SUM(A1),'-V002\r\n"
        );
        // a name that starts like a negative number is still text
        let mut csv = Csv::default();
        csv.row([
            "-1+1+cmd|' /C calc'!A0",
            "-12",
            "+1",
            "\tx",
            "\rx",
            "-1e3",
            "-.5",
        ]);
        assert_eq!(
            csv.out,
            "'-1+1+cmd|' /C calc'!A0,-12,'+1,'\tx,\"'\rx\",'-1e3,'-.5\r\n"
        );
    }
}
