//! What a scanner reads, or a person types when a label is damaged.
//!
//! Every label's QR encodes one compact, versioned payload: `CT1:` (format
//! version 1), a kind letter, `:`, and the record's code, e.g.
//! `CT1:V:A999926000123-L01-V007`. Only upper-case letters, digits, `-` and
//! `:` appear, all in QR alphanumeric mode, so a vial payload of 28
//! characters is a 25 × 25 module symbol at error correction Q. Payloads
//! carry codes only: no names, birth dates or donor codes. A storage box's
//! label carries the box's id (`CT1:B:<UUID>`): boxes have no other code,
//! and a box is never typed, it is scanned or chosen from a list. A
//! shipping container (dry shipper) carries its code (`CT1:S:DS-07`), a
//! shipment's packing list its code (`CT1:H:SH-2026-0012`).
//!
//! The parser is total: any string gives a `Scanned` or a `ScanError`.
//!
//! What a person may do with the record a scan found, by role, is
//! `actions`'s.

mod actions;

use crate::domain::din::{Din, DinError};
use crate::domain::lifecycle::string_enum;

pub use actions::{
    box_actions, dose_actions, elsewhere, lot_actions, patient_actions, shipment_actions,
    shipper_actions, vial_actions,
};

/// The format version every payload starts with.
pub const PREFIX: &str = "CT1:";
/// Longer input is refused before it is looked at.
pub const MAX_INPUT: usize = 128;
/// Longest code a payload carries.
pub const MAX_CODE: usize = 40;

string_enum!(
    /// The kinds of record a label identifies.
    ScanKind {
        Vial => "vial",
        Lot => "lot",
        Patient => "patient",
        Dose => "dose",
        Box => "box",
        Shipper => "shipper",
        Shipment => "shipment",
    }
);

impl ScanKind {
    pub fn letter(self) -> char {
        match self {
            ScanKind::Vial => 'V',
            ScanKind::Lot => 'L',
            ScanKind::Patient => 'P',
            ScanKind::Dose => 'D',
            ScanKind::Box => 'B',
            ScanKind::Shipper => 'S',
            ScanKind::Shipment => 'H',
        }
    }

    fn from_letter(letter: &str) -> Option<Self> {
        match letter {
            "V" => Some(ScanKind::Vial),
            "L" => Some(ScanKind::Lot),
            "P" => Some(ScanKind::Patient),
            "D" => Some(ScanKind::Dose),
            "B" => Some(ScanKind::Box),
            "S" => Some(ScanKind::Shipper),
            "H" => Some(ScanKind::Shipment),
            _ => None,
        }
    }
}

/// The payload a record's label encodes.
pub fn payload(kind: ScanKind, code: &str) -> String {
    format!("{PREFIX}{}:{code}", kind.letter())
}

/// What was scanned or typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scanned {
    /// A label's payload.
    Payload { kind: ScanKind, code: String },
    /// A vial code typed from a damaged label (`A999926000123-L01-V007`).
    VialCode(String),
    /// A lot code typed (`A999926000123-L01`).
    LotCode(String),
    /// A DIN typed with its check character (`A9999 26 000123 K`).
    Din(Din),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScanError {
    #[error("nothing was scanned")]
    Empty,
    #[error("the scan is longer than {MAX_INPUT} characters; it is not a celltrail label")]
    TooLong,
    #[error("unsupported label format {0:?}; this service reads CT1 labels")]
    UnsupportedVersion(String),
    #[error("{0:?} is not a kind of record (V, L, P, D, B, S or H)")]
    UnknownKind(String),
    #[error("the code in the label is empty, too long or holds characters codes never have")]
    BadCode,
    #[error("type the DIN's check character too (the boxed character printed after it)")]
    DinWithoutCheck,
    #[error(
        "the check character {given:?} does not match this DIN; read the whole DIN and its boxed check character again from the label (a DIN with a wrong check character is never looked up)"
    )]
    CheckCharacterMismatch { given: char, expected: char },
    #[error("not a celltrail label, vial code, lot code or DIN")]
    NotRecognised,
}

/// Reads a scan: a payload, or a vial code, lot code or DIN (with its
/// check character) typed by hand. Scanners add line ends and keyboards
/// add spaces or lower case; both are forgiven.
pub fn parse(input: &str) -> Result<Scanned, ScanError> {
    if input.len() > MAX_INPUT * 4 || input.chars().count() > MAX_INPUT {
        return Err(ScanError::TooLong);
    }
    let text = input.trim().to_ascii_uppercase();
    if text.is_empty() {
        return Err(ScanError::Empty);
    }
    if let Some(rest) = text.strip_prefix(PREFIX) {
        let (letter, code) = rest.split_once(':').ok_or(ScanError::BadCode)?;
        let kind = ScanKind::from_letter(letter)
            .ok_or_else(|| ScanError::UnknownKind(letter.chars().take(8).collect()))?;
        if !is_code(code) {
            return Err(ScanError::BadCode);
        }
        return Ok(Scanned::Payload {
            kind,
            code: code.to_owned(),
        });
    }
    if let Some((version, _)) = text.split_once(':')
        && version.len() <= 8
        && version.starts_with("CT")
    {
        return Err(ScanError::UnsupportedVersion(version.to_owned()));
    }
    if let Some(kind) = code_kind(&text) {
        return Ok(match kind {
            ScanKind::Vial => Scanned::VialCode(text),
            _ => Scanned::LotCode(text),
        });
    }
    let compact: String = text.chars().filter(|c| *c != ' ').collect();
    match compact.len() {
        13 if Din::parse(&compact).is_ok() => Err(ScanError::DinWithoutCheck),
        14 => match Din::parse_with_check(&compact) {
            Ok(din) => Ok(Scanned::Din(din)),
            Err(DinError::CheckCharacterMismatch { given, expected }) => {
                Err(ScanError::CheckCharacterMismatch { given, expected })
            }
            Err(_) => Err(ScanError::NotRecognised),
        },
        _ => Err(ScanError::NotRecognised),
    }
}

fn is_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= MAX_CODE
        && code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-')
}

/// Whether `text` has the shape of a vial code (`<DIN>-Lnn-Vnnn`) or a lot
/// code (`<DIN>-Lnn`).
fn code_kind(text: &str) -> Option<ScanKind> {
    let din = text.get(..13)?;
    Din::parse(din).ok()?;
    let rest = text.get(13..)?.as_bytes();
    let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    match rest {
        [b'-', b'L', a, b] if digits(&[*a, *b]) => Some(ScanKind::Lot),
        [b'-', b'L', a, b, b'-', b'V', c, d, e] if digits(&[*a, *b, *c, *d, *e]) => {
            Some(ScanKind::Vial)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests;
