//! What a scanner reads, or a person types when a label is damaged.
//!
//! Every label's QR encodes one compact, versioned payload: `CT1:` (format
//! version 1), a kind letter, `:`, and the record's code, e.g.
//! `CT1:V:A999926000123-L01-V007`. Only upper-case letters, digits, `-` and
//! `:` appear, all in QR alphanumeric mode, so a vial payload of 28
//! characters is a 25 × 25 module symbol at error correction Q. Payloads
//! carry codes only: no names, birth dates or donor codes.
//!
//! The parser is total: any string gives a `Scanned` or a `ScanError`.

use crate::domain::accounts::Role;
use crate::domain::din::{Din, DinError};
use crate::domain::lifecycle::{LotStatus, VialStatus, string_enum};

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
    }
);

impl ScanKind {
    pub fn letter(self) -> char {
        match self {
            ScanKind::Vial => 'V',
            ScanKind::Lot => 'L',
            ScanKind::Patient => 'P',
            ScanKind::Dose => 'D',
        }
    }

    fn from_letter(letter: &str) -> Option<Self> {
        match letter {
            "V" => Some(ScanKind::Vial),
            "L" => Some(ScanKind::Lot),
            "P" => Some(ScanKind::Patient),
            "D" => Some(ScanKind::Dose),
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
    #[error("{0:?} is not a kind of record (V, L, P or D)")]
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

/// What the person holding a vial may do with it now, given their role: the
/// buttons a scan station shows. The lifecycle decides what is possible;
/// the role decides whose job it is.
pub fn vial_actions(
    role: Role,
    status: VialStatus,
    in_storage: bool,
    lot: LotStatus,
    lot_expired: bool,
) -> Vec<&'static str> {
    use crate::domain::lifecycle::{VialAction, vial_transition};
    let can = |action| vial_transition(status, action).is_ok();
    let mut actions = Vec::new();
    match role {
        Role::Lab => {
            if can(VialAction::Store) {
                actions.push(if in_storage { "move" } else { "store" });
            }
            if can(VialAction::Discard) {
                actions.push("discard");
            }
            if !matches!(status, VialStatus::Infused | VialStatus::Discarded) {
                actions.push("print_label");
            }
        }
        Role::Pharmacist => {
            if can(VialAction::Reserve) && lot == LotStatus::Released && !lot_expired {
                actions.push("reserve");
            }
        }
        Role::Quality | Role::Clinician => {}
        Role::Admin => return actions,
    }
    actions.extend(["history", "trace"]);
    actions
}

/// What may be done with a lot now, by role.
pub fn lot_actions(role: Role, status: LotStatus, expired: bool) -> Vec<&'static str> {
    use crate::domain::lifecycle::{LotAction, lot_transition};
    let can = |action| lot_transition(status, action).is_ok();
    let mut actions = Vec::new();
    match role {
        Role::Lab => {
            if status != LotStatus::Rejected {
                actions.push("record_qc");
            }
            if can(LotAction::Freeze) {
                actions.push("freeze");
            }
            if status != LotStatus::InProcess {
                actions.push("print_labels");
            }
        }
        Role::Quality => {
            if can(LotAction::Release) && !expired {
                actions.push("release");
            }
            if can(LotAction::Reject) {
                actions.push("reject");
            }
            if can(LotAction::Recall) {
                actions.push("recall");
            }
        }
        Role::Pharmacist => {
            if status == LotStatus::Released && !expired {
                actions.push("order_dose");
            }
        }
        Role::Clinician => {}
        Role::Admin => return actions,
    }
    actions.extend(["history", "trace"]);
    actions
}

/// What may be done with a dose order now, by role.
pub fn dose_actions(role: Role, status: crate::domain::lifecycle::DoseStatus) -> Vec<&'static str> {
    use crate::domain::lifecycle::{DoseAction, dose_transition};
    let can = |action| dose_transition(status, action).is_ok();
    let mut actions = Vec::new();
    match role {
        Role::Pharmacist => {
            for (action, name) in [
                (DoseAction::Thaw, "thaw"),
                (DoseAction::Verify, "verify"),
                (DoseAction::ReplaceVial, "replace_vial"),
                (DoseAction::Cancel, "cancel"),
            ] {
                if can(action) {
                    actions.push(name);
                }
            }
            actions.push("print_label");
        }
        Role::Clinician => {
            if can(DoseAction::StartInfusion) {
                actions.push("start_infusion");
            }
            if can(DoseAction::CompleteInfusion) {
                actions.push("complete_infusion");
            }
        }
        Role::Lab | Role::Quality => {}
        Role::Admin => return actions,
    }
    actions.extend(["history", "trace"]);
    actions
}

/// What may be done for a patient now, by role: `open_dose` is the status
/// of the dose in progress, if any; `more_allowed` whether the protocol
/// allows another infusion.
pub fn patient_actions(
    role: Role,
    open_dose: Option<crate::domain::lifecycle::DoseStatus>,
    more_allowed: bool,
) -> Vec<&'static str> {
    use crate::domain::lifecycle::DoseStatus;
    let mut actions = Vec::new();
    match role {
        Role::Clinician => {
            actions.push("record_weight");
            match open_dose {
                Some(DoseStatus::Verified) => actions.push("start_infusion"),
                Some(DoseStatus::Infusing) => actions.push("complete_infusion"),
                _ => {}
            }
            actions.push("print_wristband");
        }
        Role::Pharmacist => {
            actions.push("calculate_dose");
            if open_dose.is_none() && more_allowed {
                actions.push("order_dose");
            }
        }
        Role::Lab | Role::Quality => {}
        Role::Admin => return actions,
    }
    actions.extend(["history", "trace"]);
    actions
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const VIAL: &str = "A999926000123-L01-V007";

    fn din_with_check() -> String {
        Din::parse("A999926000123").unwrap().display()
    }

    #[test]
    fn payloads_round_trip_and_stay_alphanumeric() {
        for kind in ScanKind::ALL {
            let encoded = payload(*kind, "PV-007");
            assert_eq!(
                parse(&encoded),
                Ok(Scanned::Payload {
                    kind: *kind,
                    code: "PV-007".into()
                })
            );
        }
        let vial = payload(ScanKind::Vial, VIAL);
        assert_eq!(vial, "CT1:V:A999926000123-L01-V007");
        assert_eq!(vial.len(), 28);
        const QR_ALPHANUMERIC: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
        assert!(vial.chars().all(|c| QR_ALPHANUMERIC.contains(c)));
    }

    #[test]
    fn what_scanners_and_people_add_is_forgiven() {
        let expected = Ok(Scanned::Payload {
            kind: ScanKind::Vial,
            code: VIAL.into(),
        });
        assert_eq!(parse("CT1:V:A999926000123-L01-V007\r\n"), expected);
        assert_eq!(parse("  ct1:v:a999926000123-l01-v007"), expected);
        assert_eq!(parse(VIAL), Ok(Scanned::VialCode(VIAL.into())));
        assert_eq!(
            parse("a999926000123-l01"),
            Ok(Scanned::LotCode("A999926000123-L01".into()))
        );
        let din = Din::parse("A999926000123").unwrap();
        assert_eq!(parse(&din_with_check()), Ok(Scanned::Din(din.clone())));
        assert_eq!(
            parse(&din_with_check().replace(' ', "")),
            Ok(Scanned::Din(din))
        );
    }

    #[test]
    fn each_refusal_says_what_is_wrong() {
        assert_eq!(parse(""), Err(ScanError::Empty));
        assert_eq!(parse(" \n"), Err(ScanError::Empty));
        assert_eq!(parse(&"A".repeat(129)), Err(ScanError::TooLong));
        assert_eq!(
            parse("CT2:V:X"),
            Err(ScanError::UnsupportedVersion("CT2".into()))
        );
        assert_eq!(parse("CT1:X:ABC"), Err(ScanError::UnknownKind("X".into())));
        assert_eq!(parse("CT1:V:"), Err(ScanError::BadCode));
        assert_eq!(parse("CT1:V"), Err(ScanError::BadCode));
        assert_eq!(parse("CT1:V:A B"), Err(ScanError::BadCode));
        assert_eq!(parse("CT1:V:1' OR '1'='1"), Err(ScanError::BadCode));
        assert_eq!(
            parse("'; DROP TABLE vials; --"),
            Err(ScanError::NotRecognised)
        );
        assert_eq!(parse("A9999 26 000123"), Err(ScanError::DinWithoutCheck));
        let good = din_with_check();
        let given = if good.ends_with('A') { 'B' } else { 'A' };
        let wrong = format!("{}{given}", &good[..good.len() - 1]);
        assert!(matches!(
            parse(&wrong),
            Err(ScanError::CheckCharacterMismatch { given: g, .. }) if g == given
        ));
        assert_eq!(
            parse("A999926000123-L01-V07"),
            Err(ScanError::NotRecognised)
        );
    }

    #[test]
    fn a_lab_user_moves_and_a_pharmacist_reserves_a_released_vial() {
        let lab = vial_actions(
            Role::Lab,
            VialStatus::Available,
            true,
            LotStatus::Released,
            false,
        );
        assert_eq!(lab, ["move", "discard", "print_label", "history", "trace"]);
        let pharmacist = vial_actions(
            Role::Pharmacist,
            VialStatus::Available,
            true,
            LotStatus::Released,
            false,
        );
        assert_eq!(pharmacist, ["reserve", "history", "trace"]);
        // not from an expired or recalled lot
        for (lot, expired) in [(LotStatus::Released, true), (LotStatus::Recalled, false)] {
            let actions = vial_actions(Role::Pharmacist, VialStatus::Available, true, lot, expired);
            assert!(!actions.contains(&"reserve"));
        }
        let unstored = vial_actions(
            Role::Lab,
            VialStatus::Quarantine,
            false,
            LotStatus::Quarantine,
            false,
        );
        assert_eq!(unstored[0], "store");
        let gone = vial_actions(
            Role::Lab,
            VialStatus::Discarded,
            false,
            LotStatus::Released,
            false,
        );
        assert_eq!(gone, ["history", "trace"]);
        assert!(
            vial_actions(
                Role::Admin,
                VialStatus::Available,
                true,
                LotStatus::Released,
                false
            )
            .is_empty()
        );
    }

    #[test]
    fn lot_actions_follow_the_lot_life_and_the_role() {
        assert_eq!(
            lot_actions(Role::Quality, LotStatus::Quarantine, false),
            ["release", "reject", "history", "trace"]
        );
        assert_eq!(
            lot_actions(Role::Quality, LotStatus::Quarantine, true),
            ["reject", "history", "trace"]
        );
        assert_eq!(
            lot_actions(Role::Quality, LotStatus::Released, false),
            ["recall", "history", "trace"]
        );
        assert_eq!(
            lot_actions(Role::Lab, LotStatus::InProcess, false),
            ["record_qc", "freeze", "history", "trace"]
        );
    }

    #[test]
    fn dose_and_patient_actions_follow_the_role() {
        use crate::domain::lifecycle::DoseStatus;
        assert_eq!(
            dose_actions(Role::Pharmacist, DoseStatus::Reserved),
            [
                "thaw",
                "replace_vial",
                "cancel",
                "print_label",
                "history",
                "trace"
            ]
        );
        assert_eq!(
            dose_actions(Role::Clinician, DoseStatus::Verified),
            ["start_infusion", "history", "trace"]
        );
        assert_eq!(
            dose_actions(Role::Lab, DoseStatus::Verified),
            ["history", "trace"]
        );
        assert_eq!(
            patient_actions(Role::Pharmacist, None, true),
            ["calculate_dose", "order_dose", "history", "trace"]
        );
        assert_eq!(
            patient_actions(Role::Pharmacist, None, false),
            ["calculate_dose", "history", "trace"]
        );
        assert!(
            patient_actions(Role::Clinician, Some(DoseStatus::Verified), true)
                .contains(&"start_infusion")
        );
    }

    proptest! {
        #[test]
        fn parsing_any_string_never_panics(input in ".{0,200}") {
            let _ = parse(&input);
        }

        #[test]
        fn parsing_any_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = parse(&String::from_utf8_lossy(&bytes));
        }

        #[test]
        fn a_payload_of_any_valid_code_reads_back(
            code in "[A-Z0-9-]{1,40}",
            kind in proptest::sample::select(ScanKind::ALL.to_vec()),
        ) {
            prop_assert_eq!(parse(&payload(kind, &code)), Ok(Scanned::Payload { kind, code }));
        }
    }
}
