//! Every refusal has its Chinese sentence: one example of each variant
//! (and of each wrapped code), said in Chinese from the catalogue, with its
//! codes and times carried over.

use chrono::{NaiveDate, TimeZone, Utc};
use uuid::Uuid;

use super::*;
use crate::domain::accounts::{Role, WeakPassword};
use crate::domain::donor::{Eligibility, ScreeningGaps};
use crate::domain::dose::{PreparationError, WeightConcern};
use crate::domain::lifecycle::TransitionRefused;
use crate::domain::patient::{EnrolmentFindings, ScanMismatch};
use crate::domain::qc::{QcInputError, QcStanding};
use crate::error::{ImplausibleVial, VialViability};

#[rustfmt::skip]
fn examples() -> Vec<AppError> {
    use AppError as E;
    let t = Utc.with_ymd_and_hms(2026, 11, 25, 9, 40, 0).unwrap();
    let day = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
    let id = Uuid::nil();
    let standing = QcStanding {
        missing: vec!["sterility".into()],
        failed: vec!["endotoxin".into()],
        investigation_required: vec!["mycoplasma".into()],
    };
    let vial = ImplausibleVial {
        vial_id: id,
        code: "L01-V003".into(),
        viable_cells_per_ml: 96_000_000,
        cells_frozen: 10_000_000,
        recovery_pct: "960.0".into(),
        recovery_outside_range: true,
        median_deviation_pct: None,
    };
    vec![
        E::MalformedRequest("expected value at line 1".into()),
        E::Unauthenticated { reason: "missing" },
        E::InvalidCredentials,
        E::AccountLocked { until: t, retry_after_seconds: 30 },
        E::AccountLocked { until: t, retry_after_seconds: 900 },
        E::AccountDeactivated,
        E::SignatureInvalid,
        E::Forbidden { required: &[Role::Pharmacist, Role::Quality], role: Role::Lab },
        E::not_found("lot", "L-1"),
        E::RouteNotFound { method: "GET".into(), path: "/x".into() },
        E::MethodNotAllowed { method: "PUT".into(), path: "/x".into() },
        E::UsernameTaken("li.na".into()),
        E::AccountNotLocked,
        E::AccountAlreadyInState { active: true },
        E::AccountAlreadyInState { active: false },
        E::InvalidState(TransitionRefused { kind: "lot", from: "released", action: "release" }),
        E::PositionOccupied { box_id: id, position: "B4".into() },
        E::ConcurrentChange { kind: "dose", id },
        E::AlreadyCorrected { adverse_event_id: id, newest_id: id },
        E::CorrectionChangesNothing { field: "expires_at".into(), value: "2027-01-01T00:00:00Z".into() },
        E::NotCorrectable { kind: "vial", field: "code".into(), why: "the code is assigned by celltrail".into() },
        E::CorrectionChangesDose { field: "volume_ul".into(), doses: vec![crate::error::DoseTouched { dose_id: id, code: "PV-001-D01".into(), status: "thawed".into(), why: "its vial was counted".into() }] },
        E::DonorCodeTaken("UCD-1".into()),
        E::StorageNameTaken("Rack 1".into()),
        E::SiteTaken { field: "name", value: "Ward 3".into() },
        E::SiteTaken { field: "facility_code", value: "A9999".into() },
        E::SiteRequired { count: 2 },
        E::NotYourSite { site: "Ward 3".into() },
        E::WrongSite { what: "vial L01-V003".into(), at: "Ward 3".into(), why: "it is moved only there".into() },
        E::ContainerInUse { container: "DS-07".into(), shipment: "SH-2026-0001".into() },
        E::InShipment { vial: "L01-V003".into(), shipment: "SH-2026-0001".into() },
        E::ShipmentEmpty { shipment: "SH-2026-0001".into() },
        E::NotShippable { vials: vec!["L01-V003: quarantine".into()] },
        E::ReceiptIncomplete { missing: vec!["L01-V003".into()], discrepancies: vec![] },
        E::Exhausted("donation A9999 already has 99 lots".into()),
        E::PayloadTooLarge,
        E::invalid("vial_count", "1 to 500 vials"),
        E::InvalidReadings { problems: vec!["line 3: no time".into(), "readings[2]: in the future".into()] },
        E::WeakPassword(WeakPassword::TooShort),
        E::LastAdministrator,
        E::ImportInvalid { problems: vec![crate::domain::import::Problem::new(2, "volume_ul", "1 µL is too little")] },
        E::ScreeningIncomplete(ScreeningGaps { missing: vec!["hiv"], reactive: vec!["hbv"], outside_window: vec!["hcv"] }),
        E::DonorNotEligible { donor_id: id, eligibility: Eligibility::Ineligible, gaps: None },
        E::QcIncomplete(standing.clone()),
        E::QcFailed(standing),
        E::QcInput(QcInputError::UnknownTest { test: "colour".into(), known: vec!["sterility".into()] }),
        E::QcInput(QcInputError::UnitMismatch { test: "viability".into(), expected: "%".into(), given: "cells".into() }),
        E::QcInput(QcInputError::InvalidValue { test: "viability".into(), expected: "a percentage from 0 to 100" }),
        E::LotExpired { lot_id: id, code: "L-1".into(), expires_at: t },
        E::LotRecalled { lot_id: id, code: "L-1".into() },
        E::ConsentWithdrawn { lot_id: id, code: "L-1".into() },
        E::PatientWithdrawn { patient_id: id, subject_code: "PV-001".into() },
        E::AlreadyWithdrawn { kind: "donor", id },
        E::InvalidPosition(crate::domain::storage::InvalidPosition { given: "Z9".into(), rows: 9, cols: 9, last: "I9".into() }),
        E::StoragePlacement(crate::domain::storage::StorageRuleBroken::BadBoxSize),
        E::NotABox(id),
        E::MalformedPayload(crate::domain::scan::ScanError::NotRecognised),
        E::UnknownCode { kind: "vial", code: "V-1".into() },
        E::CheckCharacterMismatch { given: 'X', expected: 'Y' },
        E::ReprintReasonRequired,
        E::SubjectCodeTaken("PV-007".into()),
        E::VialReserved { vial_id: id, code: "V-1".into(), dose_id: id, dose_code: "D-1".into() },
        E::InUse { vial_id: id, code: "V-1".into(), dose_id: id, dose_code: "D-1".into(), dose_status: "verified".into() },
        E::DoseInProgress { dose_id: id, code: "D-1".into() },
        E::NotEligible(EnrolmentFindings { age: Some(15), ..Default::default() }),
        E::ImplausibleWeight { weight_g: 900_000, min_g: 20_000, max_g: 300_000 },
        E::WeightChangeUnconfirmed { weight_g: 154_000, concerns: vec![WeightConcern::Change { compared_with_g: 70_000, compared_with: "enrolment", change_tenths_pct: 1200, threshold_pct: 10, older: false }], compared_measured_at: Some(t), likely_slip: Some("was it typed in pounds? 154 lb would be 69.9 kg".into()) },
        E::WeightVoided { weight_id: id, weight_g: 70_000 },
        E::NoWeight,
        E::StaleWeight { measured_at: t, valid_days: 7 },
        E::InsufficientStock { needed: Some(3), lot_id: None, available: None },
        E::InsufficientStock { needed: None, lot_id: None, available: None },
        E::LotNotReleased { lot_id: id, code: "L-1".into(), status: "quarantine".into() },
        E::InfusionLimitReached { limit: 6 },
        E::OutsideWindow { first_infusion_at: t, closed_at: t, window_days: 56, first_day: day, last_day: day },
        E::TooSoon { previous_day: day, earliest: day, min_interval_days: 7 },
        E::ViabilityTooLow { min_pct: 70, vials: vec![VialViability { vial_id: id, code: "V-1".into(), viability_pct: "62.0".into() }] },
        E::DoseOutOfRange(PreparationError::NoCells),
        E::ImplausibleCount { vials: vec![vial], recovery_min_pct: 30, recovery_max_pct: 150, spread_max_pct: 30 },
        E::SamePerson { user_id: id },
        E::VolumeUnconfirmed { volume_infused_ul: 5_000, volume_prepared_ul: 50_000, tolerance_pct: 10 },
        E::CountsRecorded { inner: Box::new(E::NoWeight), dose_id: id, dose_status: "count_failed".into() },
        E::IdentityMismatch(vec![ScanMismatch { scan: "patient_scan", problem: "wrong_record", expected: "PV-007".into(), found: None }]),
        E::ThawedProductExpired { thawed_at: t, use_by: t },
        E::InvalidAssessment(crate::domain::assessment::InvalidAssessment { field: "regions.head.area".into(), message: "an area score is 0 to 6" }),
        E::LabelUnprintable { character: '体', text: "体重".into() },
        E::PrinterUnreachable { printer: "pharmacy".into(), address: "10.0.0.9:9100".into() },
        E::UnknownPrinter { name: "lab".into(), known: vec!["pharmacy".into()] },
        E::UnknownPrinter { name: "lab".into(), known: vec![] },
        E::LedgerInconsistent("event 7 rewritten".into()),
        E::DatabaseUnavailable(sea_orm::DbErr::Custom("down".into())),
        E::internal(anyhow::anyhow!("boom")),
    ]
}

fn is_chinese(c: char) -> bool {
    ('\u{4e00}'..='\u{9fff}').contains(&c)
}

#[test]
fn every_code_has_a_chinese_sentence() {
    let zone = SiteZone::parse("Asia/Shanghai").unwrap();
    let examples = examples();
    let mut said: Vec<&str> = Vec::new();
    for error in &examples {
        let text = chinese(error, zone);
        assert!(text.chars().any(is_chinese), "{}: {text}", error.code());
        assert!(!text.contains("refusal-"), "a key with no words: {text}");
        assert!(text.ends_with(['。', '？']), "{text}");
        said.push(error.code());
    }
    let unsaid: Vec<_> = AppError::codes()
        .into_iter()
        .filter(|code| !said.contains(code))
        .collect();
    assert!(unsaid.is_empty(), "no example of {unsaid:?}");
}

#[test]
fn codes_numbers_and_times_are_carried_over() {
    let zone = SiteZone::parse("Asia/Shanghai").unwrap();
    let t = Utc.with_ymd_and_hms(2026, 11, 25, 9, 40, 0).unwrap();
    let expired = AppError::LotExpired {
        lot_id: Uuid::nil(),
        code: "A9999-L01".into(),
        expires_at: t,
    };
    let text = chinese(&expired, zone);
    assert!(
        text.contains("A9999-L01") && text.contains("2026-11-25 17:40 +08:00"),
        "{text}"
    );
    let forbidden = AppError::Forbidden {
        required: &[Role::Pharmacist, Role::Quality],
        role: Role::Lab,
    };
    let text = chinese(&forbidden, zone);
    assert!(
        text.contains("、") && !text.contains("pharmacist"),
        "{text}"
    );
    let refused = AppError::InvalidState(TransitionRefused {
        kind: "lot",
        from: "released",
        action: "release",
    });
    assert_eq!(
        chinese(&refused, zone),
        "该批次当前为「已放行」，不能放行。"
    );
    let recorded = AppError::CountsRecorded {
        inner: Box::new(AppError::ViabilityTooLow {
            min_pct: 70,
            vials: vec![],
        }),
        dose_id: Uuid::nil(),
        dose_status: "count_failed".into(),
    };
    let text = chinese(&recorded, zone);
    assert!(text.contains("70") && text.contains("计数已记录"), "{text}");
}

#[test]
fn a_weight_to_confirm_is_asked_in_chinese() {
    let concerns = [WeightConcern::Change {
        compared_with_g: 70_000,
        compared_with: "enrolment",
        change_tenths_pct: 1200,
        threshold_pct: 10,
        older: false,
    }];
    let question = weight_question(
        "154 kg",
        &concerns,
        Some("2026-11-18"),
        Some("was it typed in pounds? 154 lb would be 69.9 kg"),
        SiteZone::UTC,
    );
    for part in ["154 kg", "120.0", "70", "2026-11-18", "69.9", "磅"] {
        assert!(question.contains(part), "{part}: {question}");
    }
    assert!(!question.contains("pounds"), "{question}");
    // outside a Chinese page, the domain's English words, unchanged
    let english = page_weight_question("154 kg", &concerns, None, None, SiteZone::UTC);
    assert_eq!(
        english,
        crate::domain::dose::describe_concerns("154 kg", &concerns, None, None)
    );
}

/// The messages the services and the domain build for `invalid_field` and
/// the other free-text refusals, as collected from the code base (with
/// example values where they interpolate one): every one has its Chinese.
#[test]
fn no_message_of_the_code_base_falls_back_to_english() {
    let messages = [
        "the meaning of a signature is 1 to 200 characters",
        "1 to 20 visits",
        "week 300 is not 0 to 260",
        "the window of week 12 is not 0 to 90 days either side",
        "the window of week 12 overlaps the visit before it",
        "0 to 10^10 viable cells per mL",
        "confirming an implausible count needs the reason it is right",
        "a vial is counted twice",
        "a count is for a vial that is not in this dose; its vials are V-1, V-2",
        "one count for each vial not counted yet: V-1, V-2 (missing V-2)",
        "no count: the dose's counts are recorded; correct one with a signed recount",
        "V-1 already counted: a correction of a recorded count is signed, with a reason",
        "before the dose's vials were reserved",
        "a positive decimal number with at most 6 decimals, e.g. 72.5",
        "give either a patient_id (its latest weight is used) or a weight_kg",
        "1 to 10^10 cells per kg",
        "a name of 1 to 100 characters is required",
        "'›' separates the parts of a path",
        "a subject code is 2 to 20 capital letters, digits or '-' (e.g. PV-007), never a name",
        "female or male",
        "a height from 50 to 250 cm, at most one decimal",
        "before the enrolment",
        "long before the patient's enrolment",
        "5 to 8 capital letters and digits, starting with a letter",
        "2026-11-26 01:30:00 UTC is more than 5 minutes from the server's clock (2026-11-26 02:30:00 UTC); an infusion given earlier, during an outage, is recorded as a late entry (signed, with a reason)",
        "before the product was thawed",
        "before the infusion started",
        "confirming an unusual volume needs the reason (a primed line, a leak, an infusion stopped early)",
        "0 to the 10.0 mL thawed (9.5 mL prepared), in µL",
        "event 2: a term of 1 to 200 characters",
        "event 2: a CTCAE grade from 1 to 5",
        "an adverse event of this infusion begins after it started",
        "choose en (English) or zh-CN (简体中文)",
        "1 to 20 labels per vial at a time",
        "at most 1000 characters",
        "a vial that is infused gets no new labels",
        "a donor code is 3 to 32 capital letters, digits or '-', never a name",
        "a cord is received after it is collected",
        "collection precedes the donor's consent of 2026-11-20 08:00:00 UTC",
        "decide eligible or ineligible",
        "an ineligible decision needs a reason",
        "a page holds 1 to 100 items",
        "a search is at most 64 characters: a code, a DIN or a subject code",
        "the check character X does not match this DIN; read the DIN and its boxed check character again from the label",
        "search by a code, a DIN or a subject code: letters, digits and '-' only",
        "this cursor was not given by this list; start again from the first page",
        "a username is 3 to 64 characters: lower-case letters, digits, '.', '_' or '-', starting with a letter",
        "a full name is 1 to 200 characters, without control characters",
        "unknown role \"nurse\"; expected one of lab, pharmacist, quality, clinician, admin",
        "a passage number from 0 to 50",
        "a lot expires after it is manufactured",
        "a lot is made after its cord is collected",
        "a lot is frozen after it is manufactured",
        "1 to 500 vials",
        "a whole number of cells, 1 to 10^12",
        "1 µL to 100 mL, in whole microlitres",
        "more than 30 days before the enrolment",
        "look 1 to 365 days ahead",
        "the lot has no vials to label (it is not frozen yet, or none is left)",
        "only a failing result is investigated",
        "the amendment changes nothing",
        "the correction changes nothing: the grade, term and onset are as recorded",
        "not one of the dose's vials",
        "the lot is not frozen into vials yet",
        "a password needs at least 10 characters",
        "a password may have at most 128 characters",
        "a password may not be the username",
        "a PASI from 0 to 72 with at most one decimal",
        "a late entry is signed: add your signature",
        "only a late entry is signed at the start of an infusion",
        "a positive decimal number, e.g. 72.5",
        "a percentage from 0 to 100",
        "a correction of a recorded count is signed",
        "date_of_birth: \"1800-01-01\" is not a date between 1900 and 2200",
        "text may not contain the NUL character (U+0000)",
        "a reason of 1 to 1000 characters is required",
        "2026-11-26 09:00:00 UTC is in the future",
        "all 999999 DINs of facility A9999 for 2026 are used",
        "donation A999926000001 already has 99 lots",
        "was it typed in pounds? 154 lb would be 69.9 kg",
        "was it weighed in kilograms? 70 kg would be 154.3 kg",
        "is the decimal point in the right place? 72 kg would be close",
        "1 to 40 characters",
        "1 to 300 characters",
        "1 to 100",
        "above bmi_min",
        "every infusion must fit in the window at this interval",
        "above weight_min_g",
        "ages 0 to 120, the maximum not below the minimum",
        "\"Bad Key\" is not a key (a-z, 0-9, _)",
        "psoriasis is listed twice",
        "\"Ster ility\" is not a test name (a-z, 0-9, _)",
        "sterility: \"maybe\" is not a limit",
        "sterility: a word result has no unit and a number has one",
        "the specification has no test",
        "a lot of this cord was made at 2026-11-20 08:00:00 UTC, before this collection time",
        "a cord of this donor was collected at 2026-11-20 08:00:00 UTC, before this consent",
        "the lot was frozen at 2026-11-20 08:00:00 UTC, before this manufacture time",
        "with this birth date the patient was 16 at enrolment on 2026-11-20, outside the protocol's 18 to 65 years: report it to quality as a protocol deviation",
        "a baseline PASI of 7.9 is below the protocol's 8.0 for enrolment: report it to quality as a protocol deviation",
        "the donor was found eligible on screening this collection time would leave uncovered (hiv, hbv): ask quality to review the donor's eligibility first",
        "a time in RFC 3339, e.g. 2026-11-27T08:00:00Z",
        "a date as YYYY-MM-DD",
        "each DLQI answer is 0 to 3",
        "an area score is 0 to 6",
        "a severity score is 0 to 4",
        "a word or a decimal number, as at entry",
        "one of donor, donation, lot, vial, patient, assessment, qc_result",
        "a string or a number",
    ];
    assert_eq!(untranslated(&messages), Vec::<&str>::new());
}

/// Every key these files name has its words in both catalogues (the
/// i18n test finds `t("…")` calls; these are `zh("…")` and the table's).
#[test]
fn every_key_named_here_is_in_both_catalogues() {
    let sources = [
        include_str!("../refusals.rs"),
        include_str!("words.rs"),
        include_str!("free_text.rs"),
    ];
    let mut missing = Vec::new();
    for language in Language::ALL {
        let known = crate::i18n::keys(language);
        for source in sources {
            for piece in source.split("\"refusal-").skip(1) {
                let key = format!("refusal-{}", piece.split('"').next().unwrap_or(""));
                if !key.ends_with('-') && !known.contains(&key) {
                    missing.push(format!("{language}: {key}"));
                }
            }
        }
    }
    assert!(missing.is_empty(), "{missing:?}");
}
