//! One error type for the whole service, rendered as
//! `{"error": {"code", "message", "details"}}`.
//!
//! Each variant is one `code` of the API contract, declared with its status
//! and code beside it ([`spec`] derives `status()` and `code()` from that
//! line); its message is its `#[error]`, its details are in [`details`].
//! Internal failures are logged (inside the request's span, so with its
//! request id) and answered with a generic 500 that says nothing about the
//! internals ([`response`]).

mod conversions;
mod details;
mod response;
mod spec;
mod wording;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::DbErr;
use serde::Serialize;
use uuid::Uuid;

use crate::domain::accounts::{Role, WeakPassword};
use crate::domain::assessment::InvalidAssessment;
use crate::domain::donor::{Eligibility, ScreeningGaps};
use crate::domain::dose::{PreparationError, WeightConcern};
use crate::domain::lifecycle::TransitionRefused;
use crate::domain::patient::{EnrolmentFindings, ScanMismatch};
use crate::domain::qc::{QcInputError, QcStanding};
use crate::domain::storage::{InvalidPosition, StorageRuleBroken};

pub use conversions::NUL_REFUSED;
pub use response::{ErrorBody, ErrorDetail};
use spec::app_error;
use wording::*;

// Each variant: its doc, its message (`#[error]`), its fields, and after
// `=>` the status and code the contract gives it (see `spec`). rustfmt
// does not reach inside the macro: keep the lines as it would.
app_error! {
    #[derive(Debug, thiserror::Error)]
    pub enum AppError {
        /// The request could not be read (bad JSON, missing or mistyped
        /// field, bad path or query parameter).
        #[error("{0}")]
        MalformedRequest(String) => 400 "malformed_request",

        /// No valid bearer token.
        #[error("authentication required: {reason}")]
        Unauthenticated { reason: &'static str } => 401 "unauthenticated",
        /// Wrong username or password.
        #[error("wrong username or password")]
        InvalidCredentials => 401 "invalid_credentials",
        /// Too many wrong passwords: sign-ins with this name or from this
        /// address must wait, or the account is locked. The same answer whether
        /// the name is an account or not.
        #[error("too many wrong passwords; try again after {until} (in {retry_after_seconds} seconds)")]
        AccountLocked {
            until: DateTime<Utc>,
            retry_after_seconds: i64,
        } => 401 "account_locked",
        /// The password was right but the account is deactivated.
        #[error("this account has been deactivated; ask an administrator")]
        AccountDeactivated => 401 "account_deactivated",
        /// The electronic signature's password is not the signer's.
        #[error("electronic signature refused: the password is not yours")]
        SignatureInvalid => 401 "signature_invalid",

        /// Signed in, but the role may not do this.
        #[error("a {role} may not do this; it needs one of: {}", roles_list(required))]
        Forbidden {
            required: &'static [Role],
            role: Role,
        } => 403 "forbidden",
        /// Signed in, but not working at the site the act is at.
        #[error("you do not work at {site}; an administrator grants access to a site")]
        NotYourSite { site: String } => 403 "not_your_site",

        /// No such record.
        #[error("no {kind} with id {id}")]
        NotFound { kind: &'static str, id: String } => 404 "not_found",
        /// No such route.
        #[error("no route {method} {path}")]
        RouteNotFound { method: String, path: String } => 404 "not_found",
        /// The route exists, the method does not.
        #[error("method {method} is not allowed on {path}")]
        MethodNotAllowed { method: String, path: String } => 405 "method_not_allowed",

        /// The username is already an account.
        #[error("the username {0:?} is taken")]
        UsernameTaken(String) => 409 "username_taken",
        /// The account is neither locked nor slowed by failed sign-ins.
        #[error("the account is not locked and has no failed sign-ins to clear")]
        AccountNotLocked => 409 "account_not_locked",
        /// The account is already in the state asked for.
        #[error("the account is already {}", if *active { "active" } else { "deactivated" })]
        AccountAlreadyInState { active: bool } => 409 "account_already_in_state",

        /// The lifecycle does not allow this action in the current state.
        #[error("{0}")]
        InvalidState(#[from] TransitionRefused) => 409 "invalid_state",
        /// Another vial is in that position.
        #[error("position {position} of this box is occupied")]
        PositionOccupied { box_id: Uuid, position: String } => 409 "position_occupied",
        /// The record changed while this request was working on it.
        #[error("the {kind} changed while this request was handled; reload and retry")]
        ConcurrentChange { kind: &'static str, id: Uuid } => 409 "concurrent_change",
        /// The adverse event's record was corrected since: a correction
        /// corrects the event's newest record.
        #[error("this record of the adverse event was corrected since; correct its newest record ({newest_id})")]
        AlreadyCorrected { adverse_event_id: Uuid, newest_id: Uuid } => 409 "already_corrected",
        /// A correction that states the value already recorded (or the
        /// same as a correction that won a race to it).
        #[error("{field} is already {value}: the correction changes nothing")]
        CorrectionChangesNothing { field: String, value: String } => 409 "correction_changes_nothing",
        /// The field is not one a correction changes: derived, assigned by
        /// celltrail, or changed through an act of its own.
        #[error("{field} of a {kind} is not corrected: {why}")]
        NotCorrectable { kind: &'static str, field: String, why: String } => 422 "field_not_correctable",
        /// A correction that would change a dose already prepared (counted,
        /// verified) or given: the details name each dose and why.
        #[error("{field} cannot be corrected: {}", describe_touched(doses))]
        CorrectionChangesDose { field: String, doses: Vec<DoseTouched> } => 422 "correction_changes_dose",
        /// The donor code is already registered.
        #[error("donor code {0:?} is already registered")]
        DonorCodeTaken(String) => 409 "donor_code_taken",
        /// A sibling unit already has the name.
        #[error("{0:?} is already the name of a unit there")]
        StorageNameTaken(String) => 409 "storage_name_taken",
        /// Another site already has the name or the facility code.
        #[error("{value:?} is already the {} of a site", if *field == "name" { "name" } else { "facility code" })]
        SiteTaken { field: &'static str, value: String } => 409 "site_taken",
        /// A counter ran out (DIN sequences of a year, lots of a donation).
        #[error("{0}")]
        Exhausted(String) => 409 "exhausted",

        /// The body is larger than the service accepts.
        #[error("the request body is too large")]
        PayloadTooLarge => 413 "payload_too_large",

        /// A field parsed but breaks a rule.
        #[error("{field}: {message}")]
        InvalidField {
            /// The field's name, or its path in the body (`adverse_events[0].onset_at`).
            field: std::borrow::Cow<'static, str>,
            message: String,
        } => 422 "invalid_field",
        /// Temperature readings refused, each problem by its line of the
        /// file or its place in the request (`line 7: …`, `readings[2]: …`);
        /// nothing was recorded.
        #[error("the readings were not recorded: {}", problems.join("; "))]
        InvalidReadings { problems: Vec<String> } => 422 "invalid_readings",
        /// The new password does not meet the policy.
        #[error("{0}")]
        WeakPassword(#[from] WeakPassword) => 422 "weak_password",
        /// The person works at several sites and did not say at which one
        /// the new record belongs.
        #[error("you work at {count} sites: say at which one this belongs (site_id)")]
        SiteRequired { count: usize } => 422 "site_required",
        /// The record is at another site than the one the act needs: a
        /// vial of another site can be looked at there, not moved or dosed.
        #[error("{what} is at {at}; {why}")]
        WrongSite { what: String, at: String, why: String } => 422 "wrong_site",
        /// The shipping container is on a shipment not yet received.
        #[error("shipper {container} is on shipment {shipment}, not yet received; use another")]
        ContainerInUse { container: String, shipment: String } => 409 "container_in_use",
        /// A vial packed into a shipment is taken out of it (before the
        /// seal) or found missing at receipt, not discarded or stored.
        #[error("vial {vial} is in shipment {shipment}: take it out of the shipment first")]
        InShipment { vial: String, shipment: String } => 409 "in_shipment",
        /// A shipment is sealed with at least one vial in it.
        #[error("shipment {shipment} has no vial in it: scan vials into it before sealing")]
        ShipmentEmpty { shipment: String } => 422 "shipment_empty",
        /// Vials that may not go (a box scanned whole goes whole or not at
        /// all): each with the reason.
        #[error("{}", not_shippable(vials))]
        NotShippable { vials: Vec<String> } => 422 "not_shippable",
        /// A receipt closes with a reason for every vial that did not
        /// arrive and every scan not on the packing list.
        #[error("the receipt cannot be signed yet: give a reason for {}", receipt_gaps(missing, discrepancies))]
        ReceiptIncomplete { missing: Vec<String>, discrepancies: Vec<String> } => 422 "receipt_incomplete",
        /// The action would leave no active administrator.
        #[error("this would leave no active administrator to manage accounts")]
        LastAdministrator => 422 "last_administrator",
        /// A bank file to import has problems (each `row:column: message`
        /// in the details); nothing was imported.
        #[error("the file has {} problem(s) and nothing was imported; the first: {}", problems.len(), problems.first().map(ToString::to_string).unwrap_or_default())]
        ImportInvalid { problems: Vec<crate::domain::import::Problem> } => 422 "import_invalid",

        /// A required screening test is missing, reactive or outside the
        /// specimen window.
        #[error("screening incomplete: {}", describe_gaps(.0))]
        ScreeningIncomplete(ScreeningGaps) => 422 "screening_incomplete",
        /// The lot's donor is not (or no longer) eligible.
        #[error("the donor is not eligible (eligibility: {eligibility})")]
        DonorNotEligible {
            donor_id: Uuid,
            eligibility: Eligibility,
            gaps: Option<ScreeningGaps>,
        } => 422 "donor_not_eligible",
        /// A required QC test has no result.
        #[error("QC incomplete: no result for {}", .0.missing.join(", "))]
        QcIncomplete(QcStanding) => 422 "qc_incomplete",
        /// The latest result of a required QC test fails its specification.
        #[error("QC failed: {}{}", .0.failed.join(", "), describe_investigations(&.0.investigation_required))]
        QcFailed(QcStanding) => 422 "qc_failed",
        /// A QC result that cannot be judged.
        #[error("{0}")]
        QcInput(#[from] QcInputError) => from 0,
        /// The lot is past its expiry (judged on the server's clock).
        #[error("lot {code} expired at {expires_at}; it may not be used")]
        LotExpired {
            lot_id: Uuid,
            code: String,
            expires_at: DateTime<Utc>,
        } => 422 "lot_expired",
        /// The lot was recalled; nothing of it reaches a patient.
        #[error("lot {code} has been recalled; it may not be used")]
        LotRecalled { lot_id: Uuid, code: String } => 422 "lot_recalled",
        /// The lot's donor withdrew consent: its vials are on hold until
        /// quality decides (or quality discarded them).
        #[error("the donor of lot {code} withdrew consent; the lot is on hold until quality decides, and may not be used")]
        ConsentWithdrawn { lot_id: Uuid, code: String } => 422 "consent_withdrawn",
        /// The patient withdrew from the trial: no further doses.
        #[error("patient {subject_code} has withdrawn from the trial; no further doses may be ordered, prepared or given")]
        PatientWithdrawn { patient_id: Uuid, subject_code: String } => 422 "patient_withdrawn",
        /// The donor's consent or the patient's participation is already
        /// withdrawn.
        #[error("this {kind} has already withdrawn")]
        AlreadyWithdrawn { kind: &'static str, id: Uuid } => 409 "already_withdrawn",
        /// No such position in the box.
        #[error("{0}")]
        InvalidPosition(#[from] InvalidPosition) => 422 "invalid_position",
        /// The unit does not fit there in the storage hierarchy.
        #[error("{0}")]
        StoragePlacement(#[from] StorageRuleBroken) => 422 "invalid_storage_placement",
        /// Vials go into boxes.
        #[error("storage unit {0} is not a box")]
        NotABox(Uuid) => 422 "not_a_box",

        /// The scan is not a label payload, vial code, lot code or DIN.
        #[error("{0}")]
        MalformedPayload(crate::domain::scan::ScanError) => 400 "malformed_payload",
        /// The scan is well formed but names no record.
        #[error("no {kind} with code {code}")]
        UnknownCode { kind: &'static str, code: String } => 404 "unknown_code",
        /// A typed DIN's check character does not match.
        #[error(
            "the check character {given:?} does not match this DIN; read the whole DIN and its boxed check character again from the label (a DIN with a wrong check character is never looked up)"
        )]
        CheckCharacterMismatch { given: char, expected: char } => 422 "check_character_mismatch",
        /// Labels were issued before; printing more needs a reason.
        #[error("labels were issued before: a reprint needs a reason")]
        ReprintReasonRequired => 422 "reprint_reason_required",

        /// The subject code is already enrolled.
        #[error("subject code {0:?} is already enrolled")]
        SubjectCodeTaken(String) => 409 "subject_code_taken",
        /// The vial is reserved for a dose; it is replaced through the dose.
        #[error(
            "vial {code} is reserved for dose {dose_code}; replace it through the dose or cancel the dose"
        )]
        VialReserved {
            vial_id: Uuid,
            code: String,
            dose_id: Uuid,
            dose_code: String,
        } => 409 "vial_reserved",
        /// The vial belongs to a dose that is verified or at the bedside.
        #[error(
            "vial {code} is in use: dose {dose_code} is {dose_status}; it cannot be discarded while the dose may still be given"
        )]
        InUse {
            vial_id: Uuid,
            code: String,
            dose_id: Uuid,
            dose_code: String,
            dose_status: String,
        } => 409 "in_use",
        /// The patient has a dose order that is not finished.
        #[error("the patient already has dose {code} in progress; finish or cancel it first")]
        DoseInProgress { dose_id: Uuid, code: String } => 409 "dose_in_progress",

        /// The candidate does not meet the protocol's eligibility.
        #[error("not eligible: {}", describe_findings(.0))]
        NotEligible(EnrolmentFindings) => 422 "not_eligible",
        /// Outside the protocol's plausible weights.
        #[error("{weight_g} g is outside the plausible {min_g}–{max_g} g; check the value and unit")]
        ImplausibleWeight {
            weight_g: i64,
            min_g: i64,
            max_g: i64,
        } => 422 "implausible_weight",
        /// A weight far from the one it is compared with, or giving an
        /// implausible body-mass index, not confirmed.
        #[error("{}", describe_weight_concerns(*weight_g, concerns, likely_slip.as_deref()))]
        WeightChangeUnconfirmed {
            weight_g: i64,
            concerns: Vec<WeightConcern>,
            /// When the compared weight was measured (the previous weight, or
            /// the enrolment).
            compared_measured_at: Option<DateTime<Utc>>,
            /// A simple slip that would explain it, as a question.
            likely_slip: Option<String>,
        } => 422 "weight_change_unconfirmed",
        /// The weight a dose was computed from has been voided.
        #[error(
            "the weight this dose was computed from ({weight_g} g) has been voided; cancel the dose and order it again from a correct weight"
        )]
        WeightVoided { weight_id: Uuid, weight_g: i64 } => 422 "weight_voided",
        /// The patient has no weight on record.
        #[error("the patient has no weight on record; weigh them first")]
        NoWeight => 422 "no_weight",
        /// The latest weight is too old to dose from.
        #[error(
            "the latest weight was measured at {measured_at}, more than {valid_days} days ago; weigh the patient again"
        )]
        StaleWeight {
            measured_at: DateTime<Utc>,
            valid_days: i32,
        } => 422 "stale_weight",
        /// No single released, unexpired lot has the vials the dose needs.
        /// `needed` is unknown only when no lot it could come from was frozen
        /// (the need depends on a lot's cells per vial).
        #[error("{}", insufficient_stock(*.needed))]
        InsufficientStock {
            needed: Option<i64>,
            lot_id: Option<Uuid>,
            available: Option<i64>,
        } => 422 "insufficient_stock",
        /// The lot asked for is not released (or was recalled).
        #[error("lot {code} is {status}, not released")]
        LotNotReleased {
            lot_id: Uuid,
            code: String,
            status: String,
        } => 422 "lot_not_released",
        /// The patient has had every infusion of the protocol.
        #[error("the patient has had all {limit} infusions of the protocol")]
        InfusionLimitReached { limit: i32 } => 422 "infusion_limit_reached",
        /// Past the protocol's window: Day 1 is the first infusion's
        /// site-local date, the last infusion is given on Day `window_days`.
        #[error(
            "the protocol's window closed: Day 1 was {first_day}, and Day {window_days}, the last day an infusion may be given, was {last_day}"
        )]
        OutsideWindow {
            first_infusion_at: DateTime<Utc>,
            /// When Day `window_days` ended.
            closed_at: DateTime<Utc>,
            window_days: i32,
            first_day: NaiveDate,
            last_day: NaiveDate,
        } => 422 "outside_window",
        /// Fewer than the protocol's days since the previous infusion.
        #[error(
            "the previous infusion was on {previous_day}; at least {min_interval_days} days must pass, so the next may be given on {earliest} at the earliest"
        )]
        TooSoon {
            previous_day: NaiveDate,
            earliest: NaiveDate,
            min_interval_days: i32,
        } => 422 "too_soon",
        /// A thawed vial below the protocol's viability.
        #[error("viability below the protocol's {min_pct} % in {}", .vials.iter().map(|v| v.code.as_str()).collect::<Vec<_>>().join(", "))]
        ViabilityTooLow {
            min_pct: i32,
            vials: Vec<VialViability>,
        } => 422 "viability_too_low",
        /// The volume the counts give does not hold a dose in range.
        #[error("{0}")]
        DoseOutOfRange(PreparationError) => 422 "dose_out_of_range",
        /// A count implies a recovery outside the protocol's plausible
        /// range, or is far from the dose's other counts, and was not
        /// confirmed.
        #[error(
            "implausible count: {}; check the count (a slip of ten?) and enter it again, or confirm it with a reason",
            describe_implausible(vials)
        )]
        ImplausibleCount {
            vials: Vec<ImplausibleVial>,
            recovery_min_pct: i32,
            recovery_max_pct: i32,
            spread_max_pct: i32,
        } => 422 "implausible_count",
        /// The verifier recorded the counts (protocol:
        /// independent_verification).
        #[error(
            "you recorded this dose's counts; another pharmacist must verify it (independent verification)"
        )]
        SamePerson { user_id: Uuid } => 422 "same_person",
        /// The volume infused is far from the prepared volume and was not
        /// confirmed with a reason.
        #[error(
            "{} infused is not within {tolerance_pct} % of the {} prepared; check the volume (mL, not µL), or confirm it with a reason",
            crate::domain::units::millilitres(*volume_infused_ul),
            crate::domain::units::millilitres(*volume_prepared_ul)
        )]
        VolumeUnconfirmed {
            volume_infused_ul: i64,
            volume_prepared_ul: i64,
            tolerance_pct: i32,
        } => 422 "volume_unconfirmed",
        /// The counts were recorded (the vials are thawed, whatever the
        /// judgement), and the judgement refused the preparation: the inner
        /// error says why. Same status and code as the inner error.
        #[error(
            "{inner} The counts were recorded and the vials are thawed: replace the failing vial, correct a mistyped count (signed), or cancel the dose."
        )]
        CountsRecorded {
            inner: Box<AppError>,
            dose_id: Uuid,
            dose_status: String,
        } => from inner,
        /// A bedside scan does not match the dose.
        #[error("identity check failed: {}", describe_mismatches(.0))]
        IdentityMismatch(Vec<ScanMismatch>) => 422 "identity_mismatch",
        /// The thawed product is past its post-thaw shelf life.
        #[error("the product thawed at {thawed_at} had to be infused by {use_by}")]
        ThawedProductExpired {
            thawed_at: DateTime<Utc>,
            use_by: DateTime<Utc>,
        } => 422 "thawed_product_expired",

        /// An assessment score out of range.
        #[error("{0}")]
        InvalidAssessment(InvalidAssessment) => 422 "invalid_assessment",
        /// The label holds a character its format's printer cannot print
        /// (ZPL: a Zebra's resident font prints ASCII only).
        #[error(
            "a Zebra printer's resident font cannot print “{character}” (U+{:04X}) in “{text}”; print this label as PNG or PDF instead",
            u32::from(*character)
        )]
        LabelUnprintable { character: char, text: String } => 422 "label_unprintable",
        /// The label printer did not take the labels: no answer at its
        /// address, the connection refused, or the bytes not taken in time.
        /// Nothing was recorded (labels are recorded as issued only once
        /// the printer has them).
        #[error(
            "the printer {printer} did not answer at {address}: is it switched on and connected? Nothing was recorded"
        )]
        PrinterUnreachable { printer: String, address: String } => 409 "printer_unreachable",
        /// No printer of that name is configured (`CELLTRAIL_PRINTERS`);
        /// the details list the names that are.
        #[error("no printer is named {name:?}; {}", describe_printers(known))]
        UnknownPrinter { name: String, known: Vec<String> } => 404 "unknown_printer",

        /// The ledger was found inconsistent with its signed checkpoint
        /// (events removed or rewritten): nothing is written until it is
        /// investigated.
        #[error(
            "the custody ledger is inconsistent with its signed checkpoint ({0}); nothing can be recorded until quality has investigated"
        )]
        LedgerInconsistent(String) => 503 "ledger_inconsistent",

        /// The database does not answer or is busy past the timeout.
        #[error("the database is unavailable; try again")]
        DatabaseUnavailable(#[source] DbErr) => 503 "database_unavailable",

        /// A bug or an unexpected failure; never shown in detail.
        #[error("internal error")]
        Internal(#[source] anyhow::Error) => 500 "internal_error",
    }
}

/// A vial whose count is implausible, for refusals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImplausibleVial {
    pub vial_id: Uuid,
    pub code: String,
    pub viable_cells_per_ml: i64,
    pub cells_frozen: i64,
    /// Viable cells recovered ÷ cells frozen, one decimal (`960.0`).
    pub recovery_pct: String,
    pub recovery_outside_range: bool,
    /// Distance from the median of the dose's counts, one decimal, when
    /// beyond the protocol's spread.
    pub median_deviation_pct: Option<String>,
}

/// A dose a correction would change, for refusals: which, in what state,
/// and how the correction would change it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DoseTouched {
    pub dose_id: Uuid,
    pub code: String,
    pub status: String,
    pub why: String,
}

/// The doses a correction would change, in words.
fn describe_touched(doses: &[DoseTouched]) -> String {
    doses
        .iter()
        .map(|d| format!("dose {} is {}: {}", d.code, d.status, d.why))
        .collect::<Vec<_>>()
        .join("; ")
}

/// A vial's post-thaw viability, for refusals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VialViability {
    pub vial_id: Uuid,
    pub code: String,
    pub viability_pct: String,
}

impl AppError {
    pub fn not_found(kind: &'static str, id: impl ToString) -> Self {
        AppError::NotFound {
            kind,
            id: id.to_string(),
        }
    }

    pub fn invalid(field: &'static str, message: impl ToString) -> Self {
        AppError::InvalidField {
            field: field.into(),
            message: message.to_string(),
        }
    }

    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        AppError::Internal(error.into())
    }

    /// A state the service's own writes make impossible (a protocol row
    /// that does not read back, a seed that is missing): logged with the
    /// request id and answered as a generic 500.
    pub fn broken(message: impl std::fmt::Display) -> Self {
        AppError::Internal(anyhow::anyhow!(message.to_string()))
    }
}

pub type AppResult<T> = Result<T, AppError>;
