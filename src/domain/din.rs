//! ISBT 128 Donation Identification Numbers (ST-001; the UK Red Book,
//! Annex 2): facility identification number (5 characters), year (2
//! digits), sequence (6 digits), and the ISO 7064 MOD 37-2 check character
//! printed beside it so keyboard entry can be checked. Kept without spaces
//! in data (`A999926000123`) and printed as `A9999 26 000123 K`.

use std::fmt;

/// The ISO 7064 MOD 37-2 character set, in value order: 0-9 are 0-9, A-Z
/// are 10-35, `*` is 36.
const CHECK_SET: &[u8; 37] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*";

/// The value of a character in the check computation; `None` outside the
/// ISBT set (lower case, punctuation, anything else).
pub fn check_value(c: char) -> Option<u32> {
    match c {
        '0'..='9' => Some(c as u32 - '0' as u32),
        'A'..='Z' => Some(c as u32 - 'A' as u32 + 10),
        _ => None,
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not in the ISBT 128 character set (0-9, A-Z)")]
pub struct OutsideCharacterSet(pub char);

/// The ISO 7064 MOD 37-2 checksum of `data` (0-36). Each character's value
/// is weighted by 2^n, n its position from the right (1-based); the sum is
/// taken mod 37 and subtracted from 38, mod 37.
pub fn checksum(data: &str) -> Result<u32, OutsideCharacterSet> {
    // Horner's rule for Σ v·2^n mod 37, without overflow for any length.
    let mut sum = 0u32;
    for c in data.chars() {
        let value = check_value(c).ok_or(OutsideCharacterSet(c))?;
        sum = ((sum + value) * 2) % 37;
    }
    Ok((38 - sum) % 37)
}

/// The eye-readable check character of `data`.
pub fn check_character(data: &str) -> Result<char, OutsideCharacterSet> {
    checksum(data).map(|value| char::from(CHECK_SET[value as usize]))
}

/// A facility identification number: five characters, a letter then four
/// letters or digits, as ICCBBA assigns them (e.g. `A9999`, `G1234`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FacilityCode(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "a facility identification number is 5 characters: a capital letter, then 4 capital letters or digits"
)]
pub struct InvalidFacilityCode;

impl FacilityCode {
    /// ICCBBA's own example facility, used until a real one is configured.
    pub const PLACEHOLDER: &'static str = "A9999";

    pub fn parse(raw: &str) -> Result<Self, InvalidFacilityCode> {
        let ok = raw.len() == 5
            && raw.starts_with(|c: char| c.is_ascii_uppercase())
            && raw
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
        if ok {
            Ok(FacilityCode(raw.to_owned()))
        } else {
            Err(InvalidFacilityCode)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_placeholder(&self) -> bool {
        self.0 == Self::PLACEHOLDER
    }
}

/// A Donation Identification Number.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Din {
    facility: FacilityCode,
    year: u8,
    sequence: u32,
}

pub const MAX_SEQUENCE: u32 = 999_999;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DinError {
    #[error("a DIN is 13 characters: facility (5), year (2), sequence (6)")]
    Malformed,
    #[error("{0}")]
    Facility(#[from] InvalidFacilityCode),
    #[error("the sequence number must be 1 to 999999")]
    SequenceOutOfRange,
    #[error("{0}")]
    OutsideCharacterSet(#[from] OutsideCharacterSet),
    #[error(
        "the check character {given:?} does not match this DIN; read the whole DIN and its boxed check character again from the label (a DIN with a wrong check character is never looked up)"
    )]
    CheckCharacterMismatch { given: char, expected: char },
}

impl Din {
    pub fn new(facility: FacilityCode, year: u8, sequence: u32) -> Result<Self, DinError> {
        if year > 99 {
            return Err(DinError::Malformed);
        }
        if sequence == 0 || sequence > MAX_SEQUENCE {
            return Err(DinError::SequenceOutOfRange);
        }
        Ok(Din {
            facility,
            year,
            sequence,
        })
    }

    /// Parses the 13 data characters (spaces allowed, as printed).
    pub fn parse(raw: &str) -> Result<Self, DinError> {
        let compact: String = raw.chars().filter(|c| *c != ' ').collect();
        if compact.len() != 13 || !compact.is_ascii() {
            return Err(DinError::Malformed);
        }
        let facility = FacilityCode::parse(&compact[..5])?;
        let year = compact[5..7]
            .parse::<u8>()
            .map_err(|_| DinError::Malformed)?;
        if !compact[7..].bytes().all(|b| b.is_ascii_digit()) {
            return Err(DinError::Malformed);
        }
        let sequence = compact[7..]
            .parse::<u32>()
            .map_err(|_| DinError::Malformed)?;
        Din::new(facility, year, sequence)
    }

    /// Parses what a person types from a label: the 13 characters followed
    /// by the check character, spaces anywhere, in any case. The check
    /// character must match.
    pub fn parse_with_check(raw: &str) -> Result<Self, DinError> {
        let compact: String = raw
            .chars()
            .filter(|c| *c != ' ')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if compact.len() != 14 || !compact.is_ascii() {
            return Err(DinError::Malformed);
        }
        let din = Din::parse(&compact[..13])?;
        let given = compact.as_bytes()[13] as char;
        let expected = din.check_character();
        if given != expected {
            return Err(DinError::CheckCharacterMismatch { given, expected });
        }
        Ok(din)
    }

    pub fn facility(&self) -> &FacilityCode {
        &self.facility
    }

    pub fn year(&self) -> u8 {
        self.year
    }

    pub fn sequence(&self) -> u32 {
        self.sequence
    }

    /// The 13 characters without spaces, as kept in data.
    pub fn compact(&self) -> String {
        format!(
            "{}{:02}{:06}",
            self.facility.as_str(),
            self.year,
            self.sequence
        )
    }

    pub fn check_character(&self) -> char {
        check_character(&self.compact()).expect("a parsed DIN is within the ISBT set")
    }

    /// As printed for people: `A9999 26 000123 K`.
    pub fn display(&self) -> String {
        format!(
            "{} {:02} {:06} {}",
            self.facility.as_str(),
            self.year,
            self.sequence,
            self.check_character()
        )
    }
}

impl fmt::Display for Din {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.compact())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_red_book_worked_example() {
        // UK Red Book, Annex 2, Table A2.2: G123 498 654 321 -> checksum 17, 'H'
        assert_eq!(checksum("G123498654321"), Ok(17));
        assert_eq!(check_character("G123498654321"), Ok('H'));
        let din = Din::parse("G123 49 8654321").unwrap();
        assert_eq!(din.check_character(), 'H');
        // the barcode flag characters are the checksum + 60
        assert_eq!(checksum("G123498654321").unwrap() + 60, 77);
    }

    #[test]
    fn every_checksum_value_maps_to_its_character() {
        assert_eq!(CHECK_SET[10], b'A');
        assert_eq!(CHECK_SET[36], b'*');
        for (value, c) in CHECK_SET.iter().enumerate().take(36) {
            assert_eq!(check_value(char::from(*c)), Some(value as u32));
        }
    }

    #[test]
    fn characters_outside_the_set_are_refused() {
        for bad in [
            "g123498654321",
            "G123-98654321",
            "G12349865432 ",
            "G12349865432*",
            "É",
        ] {
            assert!(checksum(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn dins_print_and_parse_back() {
        let din = Din::new(FacilityCode::parse("A9999").unwrap(), 26, 123).unwrap();
        assert_eq!(din.compact(), "A999926000123");
        let printed = din.display();
        assert!(printed.starts_with("A9999 26 000123 "));
        assert_eq!(Din::parse_with_check(&printed), Ok(din.clone()));
        assert_eq!(
            Din::parse_with_check(&printed.to_lowercase()),
            Ok(din.clone())
        );
        assert_eq!(Din::parse_with_check(&printed.replace(' ', "")), Ok(din));
    }

    #[test]
    fn a_wrong_check_character_is_named() {
        let din = Din::parse("A999926000123").unwrap();
        let expected = din.check_character();
        let wrong = if expected == 'A' { 'B' } else { 'A' };
        assert_eq!(
            Din::parse_with_check(&format!("A999926000123{wrong}")),
            Err(DinError::CheckCharacterMismatch {
                given: wrong,
                expected
            })
        );
    }

    #[test]
    fn malformed_dins_are_refused() {
        for bad in [
            "",
            "A99992600012",
            "A9999260001234",
            "19999 26 000123",
            "A9999 2X 000123",
            "A9999 26 00012X",
            "A9999 26 000000",
            "a9999 26 000123",
        ] {
            assert!(Din::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            Din::new(FacilityCode::parse("A9999").unwrap(), 26, 1_000_000),
            Err(DinError::SequenceOutOfRange)
        );
    }

    fn isbt_char() -> impl Strategy<Value = char> {
        (0usize..36).prop_map(|i| char::from(CHECK_SET[i]))
    }

    proptest! {
        #[test]
        fn any_single_substitution_is_caught(
            data in proptest::collection::vec(isbt_char(), 13),
            at in 0usize..13,
            replacement in isbt_char(),
        ) {
            prop_assume!(data[at] != replacement);
            let original: String = data.iter().collect();
            let mut changed = data.clone();
            changed[at] = replacement;
            let changed: String = changed.iter().collect();
            prop_assert_ne!(checksum(&original), checksum(&changed));
        }

        #[test]
        fn any_adjacent_transposition_is_caught(
            data in proptest::collection::vec(isbt_char(), 13),
            at in 0usize..12,
        ) {
            prop_assume!(data[at] != data[at + 1]);
            let original: String = data.iter().collect();
            let mut swapped = data.clone();
            swapped.swap(at, at + 1);
            let swapped: String = swapped.iter().collect();
            prop_assert_ne!(checksum(&original), checksum(&swapped));
        }

        #[test]
        fn parsing_never_panics(raw in ".{0,40}") {
            let _ = Din::parse(&raw);
            let _ = Din::parse_with_check(&raw);
        }
    }
}
