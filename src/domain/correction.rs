//! Signed corrections of what people typed (21 CFR Part 11 §11.10(e): a
//! change never hides the earlier value): which fields of which record
//! may be corrected, by whom, each new value parsed by the same rules as
//! its first entry, and what a correction would touch.
//!
//! What celltrail derived or assigned (a DIN, a lot or vial code, a status,
//! a score, an eligibility decision) is never corrected: it follows from
//! what was typed, or from a signed act of its own. A weight is voided
//! (signed), not corrected; an adverse event has its own correction.

use chrono::{DateTime, NaiveDate, Utc};

use crate::domain::accounts::Role;
use crate::domain::codes::parse_product_code;
use crate::domain::donor::parse_donor_code;
use crate::domain::lifecycle::{DoseStatus, string_enum};
use crate::domain::lot::{CELLS_PER_VIAL, PASSAGES, VIAL_VOLUME_UL};
use crate::domain::patient::{HEIGHT_MM, age_years, parse_sex, parse_tenths, tenths_display};

string_enum!(
    /// The kinds of record whose typed fields may be corrected.
    SubjectKind {
        Donor => "donor",
        Donation => "donation",
        Lot => "lot",
        Vial => "vial",
        Patient => "patient",
        Assessment => "assessment",
        QcResult => "qc_result",
    }
);

impl SubjectKind {
    /// Who corrects it: the role that types it. Quality reviews the
    /// corrections in the ledger and does not make them (the one who
    /// typed the value is the one who knows the right one).
    pub fn corrector(self) -> Role {
        match self {
            SubjectKind::Patient | SubjectKind::Assessment => Role::Clinician,
            _ => Role::Lab,
        }
    }

    /// The custody event a correction appends, and the kind of its
    /// subject: the record itself, but an assessment's is its patient's
    /// (as `patient.assessed`) and a QC result's its lot's (as
    /// `lot.qc_recorded`), so the record's history shows it.
    pub fn event(self) -> (&'static str, &'static str) {
        match self {
            SubjectKind::Donor => ("donor.corrected", "donor"),
            SubjectKind::Donation => ("donation.corrected", "donation"),
            SubjectKind::Lot => ("lot.corrected", "lot"),
            SubjectKind::Vial => ("vial.corrected", "vial"),
            SubjectKind::Patient => ("patient.corrected", "patient"),
            SubjectKind::Assessment => ("patient.assessment_corrected", "patient"),
            SubjectKind::QcResult => ("lot.qc_corrected", "lot"),
        }
    }

    /// The correctable fields, as the API names them (an assessment's are
    /// patterns: `answers[0]`…`answers[9]`, `regions.head.erythema`…).
    pub fn fields(self) -> &'static [&'static str] {
        match self {
            SubjectKind::Donor => &["code", "consent_at"],
            SubjectKind::Donation => &["collected_at", "received_at"],
            SubjectKind::Lot => &["expires_at", "manufactured_at", "passage", "product_code"],
            SubjectKind::Vial => &["volume_ul", "cells_per_vial"],
            SubjectKind::Patient => &["birth_date", "sex", "height_cm", "baseline_pasi"],
            SubjectKind::Assessment => &["answers[i]", "regions.<region>.<part>"],
            SubjectKind::QcResult => &["value"],
        }
    }
}

/// The PASI's regions and parts, in the order of the form.
pub const PASI_REGIONS: [&str; 4] = ["head", "upper_limbs", "trunk", "lower_limbs"];
pub const PASI_PARTS: [&str; 4] = ["erythema", "induration", "desquamation", "area"];

/// A correctable field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    DonorCode,
    ConsentAt,
    CollectedAt,
    ReceivedAt,
    ExpiresAt,
    ManufacturedAt,
    Passage,
    ProductCode,
    VolumeUl,
    CellsPerVial,
    BirthDate,
    Sex,
    /// Kept in millimetres (tenths of a centimetre).
    HeightCm,
    /// Kept in tenths.
    BaselinePasi,
    /// The DLQI's answer `i` (0-based, as `answers[i]` at entry).
    DlqiAnswer(usize),
    /// A PASI region's part: indexes into [`PASI_REGIONS`], [`PASI_PARTS`].
    PasiScore {
        region: usize,
        part: usize,
    },
    QcValue,
}

/// A field that may not be corrected, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotCorrectable {
    pub field: String,
    pub why: String,
}

fn not(field: &str, why: &str) -> NotCorrectable {
    NotCorrectable {
        field: field.to_owned(),
        why: why.to_owned(),
    }
}

impl Field {
    /// The field `name` of a record of `kind`, if it is correctable; else
    /// why not (derived, assigned, or corrected another way).
    pub fn parse(kind: SubjectKind, name: &str) -> Result<Field, NotCorrectable> {
        use SubjectKind as K;
        let name = name.trim();
        let field = match (kind, name) {
            (K::Donor, "code") => Field::DonorCode,
            (K::Donor, "consent_at") => Field::ConsentAt,
            (K::Donation, "collected_at") => Field::CollectedAt,
            (K::Donation, "received_at") => Field::ReceivedAt,
            (K::Lot, "expires_at") => Field::ExpiresAt,
            (K::Lot, "manufactured_at") => Field::ManufacturedAt,
            (K::Lot, "passage") => Field::Passage,
            (K::Lot, "product_code") => Field::ProductCode,
            (K::Vial, "volume_ul") => Field::VolumeUl,
            (K::Vial, "cells_per_vial") => Field::CellsPerVial,
            (K::Patient, "birth_date") => Field::BirthDate,
            (K::Patient, "sex") => Field::Sex,
            (K::Patient, "height_cm") => Field::HeightCm,
            (K::Patient, "baseline_pasi") => Field::BaselinePasi,
            (K::QcResult, "value") => Field::QcValue,
            (K::Assessment, other) => {
                return assessment_field(other).ok_or_else(|| {
                    why_not(kind, other).unwrap_or_else(|| {
                        not(
                            other,
                            "an assessment's typed fields are its DLQI answers (answers[0] to answers[9]) or its PASI scores (regions.head.erythema and the like)",
                        )
                    })
                });
            }
            (_, other) => {
                return Err(why_not(kind, other).unwrap_or_else(|| {
                    not(
                        other,
                        &format!(
                            "a {kind} has no correctable field of that name; its correctable fields are {}",
                            kind.fields().join(", ")
                        ),
                    )
                }));
            }
        };
        Ok(field)
    }

    /// The field as the API names it.
    pub fn name(self) -> String {
        match self {
            Field::DonorCode => "code".into(),
            Field::ConsentAt => "consent_at".into(),
            Field::CollectedAt => "collected_at".into(),
            Field::ReceivedAt => "received_at".into(),
            Field::ExpiresAt => "expires_at".into(),
            Field::ManufacturedAt => "manufactured_at".into(),
            Field::Passage => "passage".into(),
            Field::ProductCode => "product_code".into(),
            Field::VolumeUl => "volume_ul".into(),
            Field::CellsPerVial => "cells_per_vial".into(),
            Field::BirthDate => "birth_date".into(),
            Field::Sex => "sex".into(),
            Field::HeightCm => "height_cm".into(),
            Field::BaselinePasi => "baseline_pasi".into(),
            Field::DlqiAnswer(i) => format!("answers[{i}]"),
            Field::PasiScore { region, part } => {
                format!("regions.{}.{}", PASI_REGIONS[region], PASI_PARTS[part])
            }
            Field::QcValue => "value".into(),
        }
    }

    /// Parses a new value as its first entry was parsed: the same shapes
    /// and ranges. The refusal is the sentence for the person.
    pub fn parse_value(self, raw: &str) -> Result<Value, String> {
        let raw = raw.trim();
        match self {
            Field::DonorCode => parse_donor_code(raw)
                .map(Value::Text)
                .map_err(|e| e.message),
            Field::ConsentAt
            | Field::CollectedAt
            | Field::ReceivedAt
            | Field::ExpiresAt
            | Field::ManufacturedAt => DateTime::parse_from_rfc3339(raw)
                .map(|t| Value::Time(t.with_timezone(&Utc)))
                .map_err(|_| "a time in RFC 3339, e.g. 2026-11-27T08:00:00Z".to_owned()),
            Field::Passage => raw
                .parse::<i32>()
                .ok()
                .filter(|p| PASSAGES.contains(p))
                .map(|p| Value::Int(i64::from(p)))
                .ok_or_else(|| "a passage number from 0 to 50".to_owned()),
            Field::ProductCode => parse_product_code(raw)
                .map(Value::Text)
                .map_err(|e| e.message),
            Field::VolumeUl => raw
                .parse::<i64>()
                .ok()
                .filter(|ul| VIAL_VOLUME_UL.contains(ul))
                .map(Value::Int)
                .ok_or_else(|| "1 µL to 100 mL, in whole microlitres".to_owned()),
            Field::CellsPerVial => raw
                .parse::<i64>()
                .ok()
                .filter(|n| CELLS_PER_VIAL.contains(n))
                .map(Value::Int)
                .ok_or_else(|| "a whole number of cells, 1 to 10^12".to_owned()),
            Field::BirthDate => NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                .map(Value::Date)
                .map_err(|_| "a date as YYYY-MM-DD".to_owned()),
            Field::Sex => parse_sex(raw)
                .map(|s| Value::Text(s.as_str().to_owned()))
                .map_err(|e| e.message),
            Field::HeightCm => parse_tenths(raw, 2500)
                .filter(|mm| HEIGHT_MM.contains(mm))
                .map(Value::Tenths)
                .ok_or_else(|| "a height from 50 to 250 cm, at most one decimal".to_owned()),
            Field::BaselinePasi => parse_tenths(raw, 720)
                .map(Value::Tenths)
                .ok_or_else(|| "a PASI from 0 to 72 with at most one decimal".to_owned()),
            Field::DlqiAnswer(_) => raw
                .parse::<i64>()
                .ok()
                .filter(|a| (0..=3).contains(a))
                .map(Value::Int)
                .ok_or_else(|| "each DLQI answer is 0 to 3".to_owned()),
            Field::PasiScore { part, .. } => {
                let max = if part == 3 { 6 } else { 4 };
                raw.parse::<i64>()
                    .ok()
                    .filter(|a| (0..=max).contains(a))
                    .map(Value::Int)
                    .ok_or_else(|| {
                        if part == 3 {
                            "an area score is 0 to 6".to_owned()
                        } else {
                            "a severity score is 0 to 4".to_owned()
                        }
                    })
            }
            Field::QcValue => {
                if raw.is_empty() || raw.chars().count() > 64 {
                    Err("a word or a decimal number, as at entry".to_owned())
                } else {
                    Ok(Value::Text(raw.to_owned()))
                }
            }
        }
    }

    /// The labels that print this field (already printed ones are now
    /// wrong and must be reprinted, with a reason).
    pub fn printed_on(self) -> &'static [&'static str] {
        match self {
            Field::VolumeUl | Field::CellsPerVial => &["vial"],
            Field::ExpiresAt | Field::ProductCode => &["lot", "vial"],
            Field::ManufacturedAt | Field::Passage => &["lot"],
            Field::CollectedAt | Field::ReceivedAt => &["donation"],
            Field::BirthDate => &["wristband"],
            _ => &[],
        }
    }
}

/// An assessment field: `answers[i]` or `regions.<region>.<part>`.
fn assessment_field(name: &str) -> Option<Field> {
    if let Some(i) = name
        .strip_prefix("answers[")
        .and_then(|rest| rest.strip_suffix(']'))
    {
        return i
            .parse::<usize>()
            .ok()
            .filter(|n| *n < 10 && n.to_string() == i)
            .map(Field::DlqiAnswer);
    }
    let (region, part) = name.strip_prefix("regions.")?.split_once('.')?;
    let region = PASI_REGIONS.iter().position(|r| *r == region)?;
    let part = PASI_PARTS.iter().position(|p| *p == part)?;
    Some(Field::PasiScore { region, part })
}

/// Why a known field of a record is not corrected here.
fn why_not(kind: SubjectKind, name: &str) -> Option<NotCorrectable> {
    use SubjectKind as K;
    let why = match (kind, name) {
        (_, "id") => "an id is assigned by celltrail",
        (K::Donor, "eligibility") => {
            "eligibility is quality's signed decision: invalidate a screening result or decide again"
        }
        (K::Donation | K::Lot | K::Vial, "din" | "check_character") => {
            "the DIN is assigned by celltrail and printed on every label of the cord"
        }
        (K::Lot | K::Vial, "code") => {
            "the code is assigned by celltrail and is what its label encodes"
        }
        (K::Lot | K::Vial, "status") => {
            "a status changes only through its own act (release, thaw, discard…)"
        }
        (K::Lot, "cells_per_vial" | "volume_ul" | "vial_count" | "frozen_at") => {
            "the lot's freezing numbers are kept as frozen; correct each vial's volume_ul or cells_per_vial"
        }
        (K::Vial, "box_id" | "position" | "location") => {
            "a vial changes place by being moved (scanned)"
        }
        (K::Patient, "subject_code" | "coi") => {
            "the subject code and Chain of Identity identifier are the patient's identity, printed on the wristband and on every dose label"
        }
        (K::Patient, "enrolled_at" | "criteria") => {
            "the enrolment anchors eligibility, visits and windows: a wrong enrolment is a protocol deviation for quality, not a correction"
        }
        (K::Patient, "weight" | "weights" | "weight_g") => {
            "a mistyped weight is voided (signed, with a reason) and weighed again"
        }
        (K::Assessment, "score") => "the score is computed from the answers: correct an answer",
        (K::Assessment, "kind" | "assessed_at") => "record the assessment again instead",
        (K::QcResult, "pass" | "specification") => {
            "whether a result passes is judged from its value: correct the value"
        }
        (K::QcResult, "test" | "unit") => "record the result of the right test instead",
        _ => return None,
    };
    Some(not(name, why))
}

/// A typed value, as the correction keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Text(String),
    Time(DateTime<Utc>),
    Date(NaiveDate),
    Int(i64),
    /// Tenths (a PASI; a height in cm, i.e. millimetres).
    Tenths(i32),
}

impl Value {
    /// As the API and the ledger carry it: times in RFC 3339 UTC, dates as
    /// `YYYY-MM-DD`, tenths as a decimal number.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Text(s) => serde_json::Value::String(s.clone()),
            Value::Time(t) => {
                serde_json::Value::String(t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
            }
            Value::Date(d) => serde_json::Value::String(d.to_string()),
            Value::Int(n) => serde_json::Value::from(*n),
            Value::Tenths(t) => serde_json::from_str(&tenths_display(*t))
                .unwrap_or_else(|_| serde_json::Value::String(tenths_display(*t))),
        }
    }
}

/// Whether a dose in this status is prepared or given: its numbers were
/// counted, signed or infused, and a correction may no longer change them.
pub fn dose_is_prepared(status: DoseStatus) -> bool {
    !matches!(status, DoseStatus::Reserved | DoseStatus::Cancelled)
}

/// A lot's dates after a correction: made after its cord was collected,
/// frozen after it was made, expiring after it was made.
pub fn check_lot_dates(
    manufactured_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    collected_at: DateTime<Utc>,
    frozen_at: Option<DateTime<Utc>>,
) -> Result<(), String> {
    if expires_at <= manufactured_at {
        return Err("a lot expires after it is manufactured".to_owned());
    }
    if manufactured_at < collected_at {
        return Err("a lot is made after its cord is collected".to_owned());
    }
    if let Some(frozen) = frozen_at
        && frozen < manufactured_at
    {
        return Err(format!(
            "the lot was frozen at {frozen}, before this manufacture time"
        ));
    }
    Ok(())
}

/// A donation's times after a correction: collected after its donor's
/// consent, received after collection, its lots made after collection.
pub fn check_donation_times(
    consent_at: DateTime<Utc>,
    collected_at: DateTime<Utc>,
    received_at: DateTime<Utc>,
    lots_made: &[DateTime<Utc>],
) -> Result<(), String> {
    if collected_at < consent_at {
        return Err(format!(
            "collection precedes the donor's consent of {consent_at}"
        ));
    }
    if received_at < collected_at {
        return Err("a cord is received after it is collected".to_owned());
    }
    if let Some(made) = lots_made.iter().find(|m| **m < collected_at) {
        return Err(format!(
            "a lot of this cord was made at {made}, before this collection time"
        ));
    }
    Ok(())
}

/// A donor's consent after a correction: before every collection.
pub fn check_consent(
    consent_at: DateTime<Utc>,
    collections: &[DateTime<Utc>],
) -> Result<(), String> {
    match collections.iter().find(|c| **c < consent_at) {
        Some(c) => Err(format!(
            "a cord of this donor was collected at {c}, before this consent"
        )),
        None => Ok(()),
    }
}

/// A birth date after a correction: before the enrolment day, and within
/// the protocol's ages on it (the patient must still have been eligible;
/// if not, that is a protocol deviation for quality, not a correction).
pub fn check_birth_date(
    birth: NaiveDate,
    enrolled_on: NaiveDate,
    ages: std::ops::RangeInclusive<i32>,
) -> Result<(), String> {
    if birth >= enrolled_on {
        return Err("before the enrolment".to_owned());
    }
    let age = age_years(birth, enrolled_on);
    if !ages.contains(&age) {
        return Err(format!(
            "with this birth date the patient was {age} at enrolment on {enrolled_on}, outside the protocol's {} to {} years: report it to quality as a protocol deviation",
            ages.start(),
            ages.end()
        ));
    }
    Ok(())
}

/// A baseline PASI after a correction: still at the protocol's minimum.
pub fn check_baseline_pasi(tenths: i32, min_tenths: i32) -> Result<(), String> {
    if tenths < min_tenths {
        return Err(format!(
            "a baseline PASI of {} is below the protocol's {} for enrolment: report it to quality as a protocol deviation",
            tenths_display(tenths),
            tenths_display(min_tenths)
        ));
    }
    Ok(())
}

/// A dose of a lot whose expiry would be corrected: prepared or given at
/// `used_at` (thawed, or its infusion started), which a new expiry at or
/// before that time would make a use of an expired lot.
pub fn expiry_changes_use(new_expiry: DateTime<Utc>, used_at: DateTime<Utc>) -> bool {
    new_expiry <= used_at
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 20, h, 0, 0).unwrap()
    }

    #[test]
    fn correctable_fields_parse_and_derived_ones_say_why_not() {
        assert_eq!(
            Field::parse(SubjectKind::Lot, "expires_at"),
            Ok(Field::ExpiresAt)
        );
        assert_eq!(
            Field::parse(SubjectKind::Assessment, "answers[9]"),
            Ok(Field::DlqiAnswer(9))
        );
        assert_eq!(
            Field::parse(SubjectKind::Assessment, "regions.trunk.area"),
            Ok(Field::PasiScore { region: 2, part: 3 })
        );
        assert!(Field::parse(SubjectKind::Assessment, "answers[10]").is_err());
        assert!(Field::parse(SubjectKind::Assessment, "regions.trunk").is_err());
        let score = Field::parse(SubjectKind::Assessment, "score").unwrap_err();
        assert!(score.why.contains("computed"));
        let code = Field::parse(SubjectKind::Vial, "code").unwrap_err();
        assert!(code.why.contains("assigned"));
        let unknown = Field::parse(SubjectKind::Lot, "colour").unwrap_err();
        assert!(unknown.why.contains("expires_at"), "{}", unknown.why);
        for kind in SubjectKind::ALL {
            for name in kind.fields() {
                if *kind != SubjectKind::Assessment {
                    let field = Field::parse(*kind, name).unwrap();
                    assert_eq!(field.name(), *name);
                }
            }
        }
    }

    #[test]
    fn values_are_parsed_as_at_entry() {
        assert_eq!(Field::VolumeUl.parse_value("1000"), Ok(Value::Int(1000)));
        assert!(Field::VolumeUl.parse_value("1000.5").is_err());
        assert!(Field::VolumeUl.parse_value("0").is_err());
        assert!(Field::VolumeUl.parse_value("100001").is_err());
        assert_eq!(
            Field::ExpiresAt.parse_value("2027-01-01T00:00:00+08:00"),
            Ok(Value::Time(
                Utc.with_ymd_and_hms(2026, 12, 31, 16, 0, 0).unwrap()
            ))
        );
        assert!(Field::ExpiresAt.parse_value("tomorrow").is_err());
        assert_eq!(
            Field::HeightCm.parse_value("172.5"),
            Ok(Value::Tenths(1725))
        );
        assert!(Field::HeightCm.parse_value("17.5").is_err());
        assert_eq!(
            Field::DonorCode.parse_value(" cd-0042 "),
            Ok(Value::Text("CD-0042".into()))
        );
        assert!(Field::DlqiAnswer(0).parse_value("4").is_err());
        assert!(
            Field::PasiScore { region: 0, part: 3 }
                .parse_value("6")
                .is_ok()
        );
        assert!(
            Field::PasiScore { region: 0, part: 0 }
                .parse_value("5")
                .is_err()
        );
        assert_eq!(Value::Tenths(124).to_json(), serde_json::json!(12.4));
        assert_eq!(
            Value::Time(t(8)).to_json(),
            serde_json::json!("2026-11-20T08:00:00Z")
        );
    }

    #[test]
    fn cross_record_rules_hold() {
        assert!(check_lot_dates(t(2), t(3), t(1), Some(t(2))).is_ok());
        assert!(check_lot_dates(t(2), t(2), t(1), None).is_err());
        assert!(check_lot_dates(t(1), t(3), t(2), None).is_err());
        assert!(check_lot_dates(t(2), t(5), t(1), Some(t(1))).is_err());
        assert!(check_donation_times(t(1), t(2), t(3), &[t(4)]).is_ok());
        assert!(check_donation_times(t(3), t(2), t(3), &[]).is_err());
        assert!(check_donation_times(t(1), t(2), t(1), &[]).is_err());
        assert!(check_donation_times(t(1), t(5), t(6), &[t(4)]).is_err());
        assert!(check_consent(t(1), &[t(2)]).is_ok());
        assert!(check_consent(t(3), &[t(2)]).is_err());
        let on = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
        let born = |y| NaiveDate::from_ymd_opt(y, 11, 21).unwrap();
        assert!(check_birth_date(born(1980), on, 18..=65).is_ok());
        // 17 on the enrolment day: refused with the age
        let refused = check_birth_date(born(2008), on, 18..=65).unwrap_err();
        assert!(refused.contains("17"), "{refused}");
        assert!(check_birth_date(born(2026), on, 18..=65).is_err());
        assert!(check_baseline_pasi(80, 80).is_ok());
        assert!(check_baseline_pasi(79, 80).is_err());
        assert!(expiry_changes_use(t(2), t(2)));
        assert!(!expiry_changes_use(t(3), t(2)));
        assert!(dose_is_prepared(DoseStatus::Thawed));
        assert!(!dose_is_prepared(DoseStatus::Reserved));
    }
}
