//! The ISBT 128 Chain of Identity (CoI) identifier: the one code a
//! patient's therapy carries from enrolment to the bedside, printed on the
//! dose bag beside the DIN.
//!
//! What the standard says, and where it was read:
//! - ICCBBA ST-001, *ISBT 128 Standard Technical Specification* v6.2.2
//!   (2023), §2.4.40 "Chain of Identity Identifier [Data Structure 040]":
//!   structure `&/CHαppppyynnnnnn`. `&/` are the data identifier characters
//!   (a barcode carries them; they are not part of the data content); then
//!   15 data characters: the literal `CH`; `αpppp`, the five-character
//!   Facility Identification Number of the issuing organisation; `yy`,
//!   the two-digit nominal year of issue; `nnnnnn`, a six-character
//!   alphanumeric (A-Z, 0-9) sequence number assigned by the issuer. The
//!   data structure has **no check character**. ST-001 refers to ST-028
//!   (*ISBT 128 Standard Chain of Identity (CoI) Identifier*, published
//!   December 2022) for the rules of assignment.
//! - isbt128.org, CTCLAG pages: ST-028 v1.0.0 was published in December
//!   2022 and IG-050 (*Implementation Guide: Using the ISBT 128 Chain of
//!   Identity Identifier*) in December 2023; the identifier is made
//!   globally unique by the issuer's FIN at its head. IG-050's summary
//!   (developer.digitalhealth.gov.au) lists "using the CoI Identifier on
//!   a non-ISBT 128 label" and electronic transmission as its subjects.
//!
//! What could not be confirmed (ST-028 and IG-050 themselves were not at
//! hand): whether ST-028 asks for an eye-readable check character, and
//! how the identifier is to be spaced for people. celltrail's choices,
//! made to match its DINs: for people the identifier is printed in its
//! parts, `CH A9999 26 000001`, followed by a boxed ISO/IEC 7064 MOD 37-2
//! check character computed over the 15 data characters (the DIN's
//! keyboard-entry check, `domain::din::check_character`). The check
//! character is never part of the data: not in the database, the API's
//! `coi`, or a barcode; a person typing the identifier from a label may
//! add it, and a wrong one is refused rather than looked up.
//!
//! celltrail assigns sequence numbers as digits, `000001` to `999999`, per
//! facility and year (the current practice ST-001 describes for FINs);
//! identifiers issued elsewhere, with letters in the sequence, still parse.
//! The FIN is the site's, checked as every FIN celltrail keeps
//! ([`FacilityCode`]: a capital letter, then four capitals or digits).

use std::fmt;

use crate::domain::din::{FacilityCode, check_character};

/// The literal that opens every CoI identifier's data content.
pub const LITERAL: &str = "CH";
/// The data identifier characters of data structure 040 (barcodes only).
pub const DATA_IDENTIFIER: &str = "&/";
/// Data characters: `CH`, FIN (5), year (2), sequence (6).
pub const DATA_LENGTH: usize = 15;
/// The largest sequence number celltrail assigns in one facility and year.
pub const MAX_SEQUENCE: u32 = 999_999;

/// A Chain of Identity identifier.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Coi {
    facility: FacilityCode,
    year: u8,
    /// Six capitals or digits.
    sequence: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CoiError {
    #[error(
        "a Chain of Identity identifier is CH, the facility identification number (5), the year (2) and the sequence (6): CH A9999 26 000001"
    )]
    Malformed,
    #[error("the sequence number must be 1 to 999999")]
    SequenceOutOfRange,
    #[error(
        "the check character {given:?} does not match this Chain of Identity identifier; read the identifier and its boxed check character again from the label"
    )]
    CheckCharacterMismatch { given: char, expected: char },
}

impl Coi {
    /// The `sequence`th identifier celltrail issues for `facility` in the
    /// year whose last two digits are `year`.
    pub fn issue(facility: FacilityCode, year: u8, sequence: u32) -> Result<Coi, CoiError> {
        if year > 99 {
            return Err(CoiError::Malformed);
        }
        if sequence == 0 || sequence > MAX_SEQUENCE {
            return Err(CoiError::SequenceOutOfRange);
        }
        Ok(Coi {
            facility,
            year,
            sequence: format!("{sequence:06}"),
        })
    }

    /// Parses the 15 data characters, as kept in data or read from a
    /// barcode: spaces allowed (as printed), the `&/` data identifier
    /// allowed in front, capitals only.
    pub fn parse(raw: &str) -> Result<Coi, CoiError> {
        let compact: String = raw.chars().filter(|c| *c != ' ').collect();
        let data = compact.strip_prefix(DATA_IDENTIFIER).unwrap_or(&compact);
        if data.len() != DATA_LENGTH || !data.is_ascii() {
            return Err(CoiError::Malformed);
        }
        let body = data.strip_prefix(LITERAL).ok_or(CoiError::Malformed)?;
        let facility = FacilityCode::parse(&body[..5]).map_err(|_| CoiError::Malformed)?;
        if !body[5..7].bytes().all(|b| b.is_ascii_digit()) {
            return Err(CoiError::Malformed);
        }
        let year = body[5..7].parse::<u8>().map_err(|_| CoiError::Malformed)?;
        let sequence = &body[7..];
        if !sequence
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        {
            return Err(CoiError::Malformed);
        }
        if sequence == "000000" {
            return Err(CoiError::SequenceOutOfRange);
        }
        Ok(Coi {
            facility,
            year,
            sequence: sequence.to_owned(),
        })
    }

    /// Parses what a person types from a label: the identifier, with or
    /// without its check character, spaces anywhere, in any case. A check
    /// character given must match.
    pub fn parse_typed(raw: &str) -> Result<Coi, CoiError> {
        let compact: String = raw
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let data = compact.strip_prefix(DATA_IDENTIFIER).unwrap_or(&compact);
        match data.len() {
            DATA_LENGTH => Coi::parse(data),
            n if n == DATA_LENGTH + 1 && data.is_ascii() => {
                let coi = Coi::parse(&data[..DATA_LENGTH])?;
                let given = char::from(data.as_bytes()[DATA_LENGTH]);
                let expected = coi.check_character();
                if given != expected {
                    return Err(CoiError::CheckCharacterMismatch { given, expected });
                }
                Ok(coi)
            }
            _ => Err(CoiError::Malformed),
        }
    }

    pub fn facility(&self) -> &FacilityCode {
        &self.facility
    }

    pub fn year(&self) -> u8 {
        self.year
    }

    pub fn sequence(&self) -> &str {
        &self.sequence
    }

    /// The 15 data characters, as kept in data and sent by the API:
    /// `CHA999926000001`.
    pub fn compact(&self) -> String {
        format!(
            "{LITERAL}{}{:02}{}",
            self.facility.as_str(),
            self.year,
            self.sequence
        )
    }

    /// Data structure 040 as a barcode carries it: `&/CHA999926000001`.
    pub fn barcode_data(&self) -> String {
        format!("{DATA_IDENTIFIER}{}", self.compact())
    }

    /// The ISO/IEC 7064 MOD 37-2 check character over the 15 data
    /// characters, printed boxed beside the identifier (celltrail's
    /// keyboard-entry check, as the DIN's; not part of the data).
    pub fn check_character(&self) -> char {
        check_character(&self.compact()).expect("a parsed CoI is within the ISBT set")
    }

    /// As printed for people, without the check character:
    /// `CH A9999 26 000001`.
    pub fn display(&self) -> String {
        format!(
            "{LITERAL} {} {:02} {}",
            self.facility.as_str(),
            self.year,
            self.sequence
        )
    }

    /// As printed for people, with the check character:
    /// `CH A9999 26 000001 *`.
    pub fn display_with_check(&self) -> String {
        format!("{} {}", self.display(), self.check_character())
    }
}

impl fmt::Display for Coi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.compact())
    }
}

/// A stored identifier's parts for people: `("CH A9999 26 000001", "*")`;
/// a value that does not parse (never written by celltrail) is shown as it
/// is, without a check character.
pub fn display_parts(stored: &str) -> (String, String) {
    match Coi::parse(stored) {
        Ok(coi) => (coi.display(), coi.check_character().to_string()),
        Err(_) => (stored.to_owned(), String::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::din::checksum;
    use proptest::prelude::*;

    fn fin(code: &str) -> FacilityCode {
        FacilityCode::parse(code).unwrap()
    }

    #[test]
    fn an_identifier_is_ch_fin_year_and_sequence() {
        let coi = Coi::issue(fin("A9999"), 26, 1).unwrap();
        assert_eq!(coi.compact(), "CHA999926000001");
        assert_eq!(coi.compact().len(), DATA_LENGTH);
        assert_eq!(coi.barcode_data(), "&/CHA999926000001");
        assert_eq!(coi.display(), "CH A9999 26 000001");
        assert_eq!(coi.facility().as_str(), "A9999");
        assert_eq!(coi.year(), 26);
        assert_eq!(coi.sequence(), "000001");
        assert_eq!(
            Coi::issue(fin("G1234"), 5, 999_999).unwrap().compact(),
            "CHG123405999999"
        );
    }

    #[test]
    fn the_check_character_is_iso_7064_mod_37_2_over_the_data() {
        let coi = Coi::issue(fin("A9999"), 26, 1).unwrap();
        // Σ v·2^n mod 37 by hand for "CHA999926000001", n from the right:
        // C=12 H=17 A=10 9 9 9 9 2 6 0 0 0 0 0 1
        let values = [12u64, 17, 10, 9, 9, 9, 9, 2, 6, 0, 0, 0, 0, 0, 1];
        let sum: u64 = values
            .iter()
            .rev()
            .enumerate()
            .map(|(i, v)| v * (1u64 << (i + 1)) % 37)
            .sum();
        let expected = (38 - sum % 37) % 37;
        assert_eq!(checksum("CHA999926000001"), Ok(expected as u32));
        let set = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*";
        assert_eq!(coi.check_character(), char::from(set[expected as usize]));
        assert_eq!(
            coi.display_with_check(),
            format!("CH A9999 26 000001 {}", coi.check_character())
        );
        // the same routine as the DIN's worked example (Red Book, Annex 2)
        assert_eq!(check_character("G123498654321"), Ok('H'));
    }

    #[test]
    fn identifiers_print_and_parse_back() {
        let coi = Coi::issue(fin("B1234"), 26, 42).unwrap();
        assert_eq!(Coi::parse(&coi.compact()), Ok(coi.clone()));
        assert_eq!(Coi::parse(&coi.display()), Ok(coi.clone()));
        assert_eq!(Coi::parse(&coi.barcode_data()), Ok(coi.clone()));
        assert_eq!(Coi::parse_typed(&coi.display_with_check()), Ok(coi.clone()));
        assert_eq!(
            Coi::parse_typed(&coi.display_with_check().to_lowercase()),
            Ok(coi.clone())
        );
        assert_eq!(Coi::parse_typed(&coi.display()), Ok(coi.clone()));
        assert_eq!(display_parts(&coi.compact()).0, "CH B1234 26 000042");
    }

    #[test]
    fn a_sequence_issued_elsewhere_may_hold_letters() {
        let coi = Coi::parse("CHA999926AB12C4").unwrap();
        assert_eq!(coi.sequence(), "AB12C4");
        assert_eq!(coi.display(), "CH A9999 26 AB12C4");
    }

    #[test]
    fn a_wrong_check_character_is_named() {
        let coi = Coi::issue(fin("A9999"), 26, 7).unwrap();
        let expected = coi.check_character();
        let wrong = if expected == 'A' { 'B' } else { 'A' };
        assert_eq!(
            Coi::parse_typed(&format!("{}{wrong}", coi.compact())),
            Err(CoiError::CheckCharacterMismatch {
                given: wrong,
                expected
            })
        );
    }

    #[test]
    fn malformed_identifiers_are_refused() {
        for bad in [
            "",
            "CHA99992600000",
            "CHA9999260000012",
            "XXA999926000001",
            "CH1999926000001",
            "CHa999926000001",
            "CHA99992X000001",
            "CHA999926000-01",
            "CHA999926000000",
            "A999926000001",
            "&/CHA99992600001",
            "CHÉ99926000001",
        ] {
            assert!(Coi::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            Coi::issue(fin("A9999"), 26, 0),
            Err(CoiError::SequenceOutOfRange)
        );
        assert_eq!(
            Coi::issue(fin("A9999"), 26, 1_000_000),
            Err(CoiError::SequenceOutOfRange)
        );
        assert_eq!(Coi::issue(fin("A9999"), 100, 1), Err(CoiError::Malformed));
        assert_eq!(Coi::parse_typed("CHA99992600000"), Err(CoiError::Malformed));
    }

    proptest! {
        #[test]
        fn every_issued_identifier_round_trips(
            year in 0u8..100,
            sequence in 1u32..=MAX_SEQUENCE,
        ) {
            let coi = Coi::issue(fin("A9999"), year, sequence).unwrap();
            prop_assert_eq!(Coi::parse(&coi.compact()), Ok(coi.clone()));
            prop_assert_eq!(Coi::parse_typed(&coi.display_with_check()), Ok(coi));
        }

        #[test]
        fn a_mistyped_digit_is_caught_by_the_check_character(
            sequence in 1u32..=MAX_SEQUENCE,
            at in 9usize..15,
            digit in 0u8..10,
        ) {
            let coi = Coi::issue(fin("A9999"), 26, sequence).unwrap();
            let mut typed: Vec<u8> = coi.compact().into_bytes();
            prop_assume!(typed[at] != b'0' + digit);
            typed[at] = b'0' + digit;
            typed.push(coi.check_character() as u8);
            let typed = String::from_utf8(typed).unwrap();
            let refused = matches!(
                Coi::parse_typed(&typed),
                Err(CoiError::CheckCharacterMismatch { .. } | CoiError::SequenceOutOfRange)
            );
            prop_assert!(refused);
        }

        #[test]
        fn parsing_never_panics(raw in ".{0,40}") {
            let _ = Coi::parse(&raw);
            let _ = Coi::parse_typed(&raw);
        }
    }
}
