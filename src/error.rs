//! One error type for the whole service, rendered as
//! `{"error": {"code", "message", "details"}}`.
//!
//! Each variant is one `code` of the API contract, with its status. Internal
//! failures are logged (inside the request's span, so with its request id)
//! and answered with a generic 500 that says nothing about the internals.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::DbErr;
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use uuid::Uuid;

use crate::domain::accounts::{Role, WeakPassword};
use crate::domain::assessment::InvalidAssessment;
use crate::domain::donor::{Eligibility, ScreeningGaps};
use crate::domain::dose::{PreparationError, WeightConcern};
use crate::domain::lifecycle::TransitionRefused;
use crate::domain::patient::{EnrolmentFindings, ScanMismatch};
use crate::domain::qc::{QcInputError, QcStanding};
use crate::domain::storage::{InvalidPosition, StorageRuleBroken};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 400: the request could not be read (bad JSON, missing or mistyped
    /// field, bad path or query parameter).
    #[error("{0}")]
    MalformedRequest(String),

    /// 401: no valid bearer token.
    #[error("authentication required: {reason}")]
    Unauthenticated { reason: &'static str },
    /// 401: wrong username or password.
    #[error("wrong username or password")]
    InvalidCredentials,
    /// 401: too many wrong passwords: sign-ins with this name or from this
    /// address must wait, or the account is locked. The same answer whether
    /// the name is an account or not.
    #[error("too many wrong passwords; try again after {until} (in {retry_after_seconds} seconds)")]
    AccountLocked {
        until: DateTime<Utc>,
        retry_after_seconds: i64,
    },
    /// 401: the password was right but the account is deactivated.
    #[error("this account has been deactivated; ask an administrator")]
    AccountDeactivated,
    /// 401: the electronic signature's password is not the signer's.
    #[error("electronic signature refused: the password is not yours")]
    SignatureInvalid,

    /// 403: signed in, but the role may not do this.
    #[error("a {role} may not do this; it needs one of: {}", roles_list(required))]
    Forbidden {
        required: &'static [Role],
        role: Role,
    },

    /// 404: no such record.
    #[error("no {kind} with id {id}")]
    NotFound { kind: &'static str, id: String },
    /// 404: no such route.
    #[error("no route {method} {path}")]
    RouteNotFound { method: String, path: String },
    /// 405: the route exists, the method does not.
    #[error("method {method} is not allowed on {path}")]
    MethodNotAllowed { method: String, path: String },

    /// 409: the username is already an account.
    #[error("the username {0:?} is taken")]
    UsernameTaken(String),
    /// 409: the account is neither locked nor slowed by failed sign-ins.
    #[error("the account is not locked and has no failed sign-ins to clear")]
    AccountNotLocked,
    /// 409: the account is already in the state asked for.
    #[error("the account is already {}", if *active { "active" } else { "deactivated" })]
    AccountAlreadyInState { active: bool },

    /// 409: the lifecycle does not allow this action in the current state.
    #[error("{0}")]
    InvalidState(#[from] TransitionRefused),
    /// 409: another vial is in that position.
    #[error("position {position} of this box is occupied")]
    PositionOccupied { box_id: Uuid, position: String },
    /// 409: the record changed while this request was working on it.
    #[error("the {kind} changed while this request was handled; reload and retry")]
    ConcurrentChange { kind: &'static str, id: Uuid },
    /// 409: the donor code is already registered.
    #[error("donor code {0:?} is already registered")]
    DonorCodeTaken(String),
    /// 409: a sibling unit already has the name.
    #[error("{0:?} is already the name of a unit there")]
    StorageNameTaken(String),
    /// 409: a counter ran out (DIN sequences of a year, lots of a donation).
    #[error("{0}")]
    Exhausted(String),

    /// 413: the body is larger than the service accepts.
    #[error("the request body is too large")]
    PayloadTooLarge,

    /// 422: a field parsed but breaks a rule.
    #[error("{field}: {message}")]
    InvalidField {
        /// The field's name, or its path in the body (`adverse_events[0].onset_at`).
        field: std::borrow::Cow<'static, str>,
        message: String,
    },
    /// 422: the new password does not meet the policy.
    #[error("{0}")]
    WeakPassword(#[from] WeakPassword),
    /// 422: the action would leave no active administrator.
    #[error("this would leave no active administrator to manage accounts")]
    LastAdministrator,

    /// 422: a required screening test is missing, reactive or outside the
    /// specimen window.
    #[error("screening incomplete: {}", describe_gaps(.0))]
    ScreeningIncomplete(ScreeningGaps),
    /// 422: the lot's donor is not (or no longer) eligible.
    #[error("the donor is not eligible (eligibility: {eligibility})")]
    DonorNotEligible {
        donor_id: Uuid,
        eligibility: Eligibility,
        gaps: Option<ScreeningGaps>,
    },
    /// 422: a required QC test has no result.
    #[error("QC incomplete: no result for {}", .0.missing.join(", "))]
    QcIncomplete(QcStanding),
    /// 422: the latest result of a required QC test fails its specification.
    #[error("QC failed: {}{}", .0.failed.join(", "), describe_investigations(&.0.investigation_required))]
    QcFailed(QcStanding),
    /// 422: a QC result that cannot be judged.
    #[error("{0}")]
    QcInput(#[from] QcInputError),
    /// 422: the lot is past its expiry (judged on the server's clock).
    #[error("lot {code} expired at {expires_at}; it may not be used")]
    LotExpired {
        lot_id: Uuid,
        code: String,
        expires_at: DateTime<Utc>,
    },
    /// 422: the lot was recalled; nothing of it reaches a patient.
    #[error("lot {code} has been recalled; it may not be used")]
    LotRecalled { lot_id: Uuid, code: String },
    /// 422: no such position in the box.
    #[error("{0}")]
    InvalidPosition(#[from] InvalidPosition),
    /// 422: the unit does not fit there in the storage hierarchy.
    #[error("{0}")]
    StoragePlacement(#[from] StorageRuleBroken),
    /// 422: vials go into boxes.
    #[error("storage unit {0} is not a box")]
    NotABox(Uuid),

    /// 400: the scan is not a label payload, vial code, lot code or DIN.
    #[error("{0}")]
    MalformedPayload(crate::domain::scan::ScanError),
    /// 404: the scan is well formed but names no record.
    #[error("no {kind} with code {code}")]
    UnknownCode { kind: &'static str, code: String },
    /// 422: a typed DIN's check character does not match.
    #[error(
        "the check character {given:?} does not match this DIN; read the whole DIN and its boxed check character again from the label (a DIN with a wrong check character is never looked up)"
    )]
    CheckCharacterMismatch { given: char, expected: char },
    /// 422: labels were issued before; printing more needs a reason.
    #[error("labels were issued before: a reprint needs a reason")]
    ReprintReasonRequired,

    /// 409: the subject code is already enrolled.
    #[error("subject code {0:?} is already enrolled")]
    SubjectCodeTaken(String),
    /// 409: the vial is reserved for a dose; it is replaced through the dose.
    #[error(
        "vial {code} is reserved for dose {dose_code}; replace it through the dose or cancel the dose"
    )]
    VialReserved {
        vial_id: Uuid,
        code: String,
        dose_id: Uuid,
        dose_code: String,
    },
    /// 409: the vial belongs to a dose that is verified or at the bedside.
    #[error(
        "vial {code} is in use: dose {dose_code} is {dose_status}; it cannot be discarded while the dose may still be given"
    )]
    InUse {
        vial_id: Uuid,
        code: String,
        dose_id: Uuid,
        dose_code: String,
        dose_status: String,
    },
    /// 409: the patient has a dose order that is not finished.
    #[error("the patient already has dose {code} in progress; finish or cancel it first")]
    DoseInProgress { dose_id: Uuid, code: String },

    /// 422: the candidate does not meet the protocol's eligibility.
    #[error("not eligible: {}", describe_findings(.0))]
    NotEligible(EnrolmentFindings),
    /// 422: outside the protocol's plausible weights.
    #[error("{weight_g} g is outside the plausible {min_g}–{max_g} g; check the value and unit")]
    ImplausibleWeight {
        weight_g: i64,
        min_g: i64,
        max_g: i64,
    },
    /// 422: a weight far from the one it is compared with, or giving an
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
    },
    /// 422: the weight a dose was computed from has been voided.
    #[error(
        "the weight this dose was computed from ({weight_g} g) has been voided; cancel the dose and order it again from a correct weight"
    )]
    WeightVoided { weight_id: Uuid, weight_g: i64 },
    /// 422: the patient has no weight on record.
    #[error("the patient has no weight on record; weigh them first")]
    NoWeight,
    /// 422: the latest weight is too old to dose from.
    #[error(
        "the latest weight was measured at {measured_at}, more than {valid_days} days ago; weigh the patient again"
    )]
    StaleWeight {
        measured_at: DateTime<Utc>,
        valid_days: i32,
    },
    /// 422: no single released, unexpired lot has the vials the dose needs.
    /// `needed` is unknown only when no lot it could come from was frozen
    /// (the need depends on a lot's cells per vial).
    #[error("{}", insufficient_stock(*.needed))]
    InsufficientStock {
        needed: Option<i64>,
        lot_id: Option<Uuid>,
        available: Option<i64>,
    },
    /// 422: the lot asked for is not released (or was recalled).
    #[error("lot {code} is {status}, not released")]
    LotNotReleased {
        lot_id: Uuid,
        code: String,
        status: String,
    },
    /// 422: the patient has had every infusion of the protocol.
    #[error("the patient has had all {limit} infusions of the protocol")]
    InfusionLimitReached { limit: i32 },
    /// 422: past the protocol's window: Day 1 is the first infusion's
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
    },
    /// 422: fewer than the protocol's days since the previous infusion.
    #[error(
        "the previous infusion was on {previous_day}; at least {min_interval_days} days must pass, so the next may be given on {earliest} at the earliest"
    )]
    TooSoon {
        previous_day: NaiveDate,
        earliest: NaiveDate,
        min_interval_days: i32,
    },
    /// 422: a thawed vial below the protocol's viability.
    #[error("viability below the protocol's {min_pct} % in {}", .vials.iter().map(|v| v.code.as_str()).collect::<Vec<_>>().join(", "))]
    ViabilityTooLow {
        min_pct: i32,
        vials: Vec<VialViability>,
    },
    /// 422: the volume the counts give does not hold a dose in range.
    #[error("{0}")]
    DoseOutOfRange(PreparationError),
    /// 422: a count implies a recovery outside the protocol's plausible
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
    },
    /// 422: the verifier recorded the counts (protocol:
    /// independent_verification).
    #[error(
        "you recorded this dose's counts; another pharmacist must verify it (independent verification)"
    )]
    SamePerson { user_id: Uuid },
    /// 422: the volume infused is far from the prepared volume and was not
    /// confirmed with a reason.
    #[error(
        "{} infused is not within {tolerance_pct} % of the {} prepared; check the volume (mL, not µL), or confirm it with a reason",
        crate::labels::millilitres(*volume_infused_ul),
        crate::labels::millilitres(*volume_prepared_ul)
    )]
    VolumeUnconfirmed {
        volume_infused_ul: i64,
        volume_prepared_ul: i64,
        tolerance_pct: i32,
    },
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
    },
    /// 422: a bedside scan does not match the dose.
    #[error("identity check failed: {}", describe_mismatches(.0))]
    IdentityMismatch(Vec<ScanMismatch>),
    /// 422: the thawed product is past its post-thaw shelf life.
    #[error("the product thawed at {thawed_at} had to be infused by {use_by}")]
    ThawedProductExpired {
        thawed_at: DateTime<Utc>,
        use_by: DateTime<Utc>,
    },

    /// 422: an assessment score out of range.
    #[error("{0}")]
    InvalidAssessment(InvalidAssessment),
    /// 422: the label holds a character its format's printer cannot print
    /// (ZPL: a Zebra's resident font prints ASCII only).
    #[error(
        "a Zebra printer's resident font cannot print “{character}” (U+{:04X}) in “{text}”; print this label as PNG or PDF instead",
        u32::from(*character)
    )]
    LabelUnprintable { character: char, text: String },

    /// 503: the ledger was found inconsistent with its signed checkpoint
    /// (events removed or rewritten): nothing is written until it is
    /// investigated.
    #[error(
        "the custody ledger is inconsistent with its signed checkpoint ({0}); nothing can be recorded until quality has investigated"
    )]
    LedgerInconsistent(String),

    /// 503: the database does not answer or is busy past the timeout.
    #[error("the database is unavailable; try again")]
    DatabaseUnavailable(#[source] DbErr),

    /// 500: a bug or an unexpected failure; never shown in detail.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

fn describe_gaps(gaps: &ScreeningGaps) -> String {
    let mut parts = Vec::new();
    if !gaps.missing.is_empty() {
        parts.push(format!("no result for {}", gaps.missing.join(", ")));
    }
    if !gaps.reactive.is_empty() {
        parts.push(format!("not negative: {}", gaps.reactive.join(", ")));
    }
    if !gaps.outside_window.is_empty() {
        parts.push(format!(
            "specimen more than 7 days from collection: {}",
            gaps.outside_window.join(", ")
        ));
    }
    parts.join("; ")
}

fn describe_findings(findings: &EnrolmentFindings) -> String {
    let mut parts = Vec::new();
    if !findings.criteria.is_empty() {
        parts.push(format!(
            "criteria not met: {}",
            findings
                .criteria
                .iter()
                .map(|c| c.criterion.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if !findings.unknown_criteria.is_empty() {
        parts.push(format!(
            "not criteria of the protocol: {}",
            findings.unknown_criteria.join(", ")
        ));
    }
    if let Some(age) = findings.age {
        parts.push(format!("age {age} at enrolment"));
    }
    if let Some(pasi) = findings.baseline_pasi_tenths {
        parts.push(format!("baseline PASI {}", format_tenths(i64::from(pasi))));
    }
    parts.join("; ")
}

fn insufficient_stock(needed: Option<i64>) -> String {
    match needed {
        Some(needed) => format!(
            "no released, unexpired lot has the {needed} available vial{} this dose needs",
            if needed == 1 { "" } else { "s" }
        ),
        None => "no released, unexpired lot holds vials for this dose".into(),
    }
}

fn describe_investigations(tests: &[String]) -> String {
    if tests.is_empty() {
        String::new()
    } else {
        format!(
            "; a failing {} result counts until quality investigates it (a retest does not undo it)",
            tests.join(" and ")
        )
    }
}

fn describe_weight_concerns(
    weight_g: i64,
    concerns: &[WeightConcern],
    slip: Option<&str>,
) -> String {
    use crate::domain::dose::{describe_concerns, kg_text};
    let question = describe_concerns(&format!("{} kg", kg_text(weight_g)), concerns, None, slip);
    let stop = if question.ends_with(['.', '?']) {
        ""
    } else {
        "."
    };
    format!(
        "{question}{stop} Check the number and the unit; if it is right, confirm it (confirm_change: true)."
    )
}

fn describe_implausible(vials: &[ImplausibleVial]) -> String {
    vials
        .iter()
        .map(|v| match v.median_deviation_pct.as_deref() {
            Some(deviation) if !v.recovery_outside_range => format!(
                "vial {} counts {} viable cells/mL, {deviation} % from the median of the dose's vials",
                v.code,
                crate::labels::grouped(v.viable_cells_per_ml)
            ),
            _ => format!(
                "vial {} recovers {} % of the cells frozen in it ({} viable cells/mL)",
                v.code,
                v.recovery_pct,
                crate::labels::grouped(v.viable_cells_per_ml)
            ),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn describe_mismatches(mismatches: &[ScanMismatch]) -> String {
    mismatches
        .iter()
        .map(|m| match (m.scan, m.problem) {
            ("patient_scan", "wrong_record") => "the wristband is another patient's",
            ("patient_scan", "wrong_kind") => {
                "what was scanned as the wristband is not a wristband"
            }
            ("patient_scan", "not_scanned") => {
                "the wristband code was typed, not scanned: scan the wristband itself"
            }
            (_, "not_scanned") => {
                "the bag label code was typed, not scanned: scan the bag's label itself"
            }
            ("patient_scan", _) => "the wristband scan could not be read (scan it, do not type it)",
            (_, "wrong_record") => "the bag label is another dose's",
            (_, "wrong_kind") => "what was scanned as the bag is not a dose bag label",
            _ => "the bag label scan could not be read (scan it, do not type it)",
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn format_tenths(tenths: i64) -> String {
    let sign = if tenths < 0 { "-" } else { "" };
    format!("{sign}{}.{}", tenths.abs() / 10, tenths.abs() % 10)
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

/// A vial's post-thaw viability, for refusals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VialViability {
    pub vial_id: Uuid,
    pub code: String,
    pub viability_pct: String,
}

fn roles_list(roles: &[Role]) -> String {
    roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(", ")
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

    pub fn status(&self) -> StatusCode {
        use AppError::*;
        match self {
            MalformedRequest(_) | MalformedPayload(_) => StatusCode::BAD_REQUEST,
            Unauthenticated { .. }
            | InvalidCredentials
            | AccountLocked { .. }
            | AccountDeactivated
            | SignatureInvalid => StatusCode::UNAUTHORIZED,
            Forbidden { .. } => StatusCode::FORBIDDEN,
            NotFound { .. } | RouteNotFound { .. } | UnknownCode { .. } => StatusCode::NOT_FOUND,
            MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            UsernameTaken(_)
            | AccountAlreadyInState { .. }
            | AccountNotLocked
            | InvalidState(_)
            | PositionOccupied { .. }
            | ConcurrentChange { .. }
            | DonorCodeTaken(_)
            | StorageNameTaken(_)
            | Exhausted(_)
            | SubjectCodeTaken(_)
            | DoseInProgress { .. }
            | InUse { .. }
            | VialReserved { .. } => StatusCode::CONFLICT,
            PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            InvalidField { .. }
            | WeakPassword(_)
            | LastAdministrator
            | ScreeningIncomplete(_)
            | DonorNotEligible { .. }
            | QcIncomplete(_)
            | QcFailed(_)
            | QcInput(_)
            | LotExpired { .. }
            | LotRecalled { .. }
            | WeightVoided { .. }
            | TooSoon { .. }
            | ImplausibleCount { .. }
            | SamePerson { .. }
            | VolumeUnconfirmed { .. }
            | InvalidPosition(_)
            | StoragePlacement(_)
            | NotABox(_)
            | CheckCharacterMismatch { .. }
            | ReprintReasonRequired
            | NotEligible(_)
            | ImplausibleWeight { .. }
            | WeightChangeUnconfirmed { .. }
            | NoWeight
            | StaleWeight { .. }
            | InsufficientStock { .. }
            | LotNotReleased { .. }
            | InfusionLimitReached { .. }
            | OutsideWindow { .. }
            | ViabilityTooLow { .. }
            | DoseOutOfRange(_)
            | IdentityMismatch(_)
            | ThawedProductExpired { .. }
            | InvalidAssessment(_)
            | LabelUnprintable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            DatabaseUnavailable(_) | LedgerInconsistent(_) => StatusCode::SERVICE_UNAVAILABLE,
            Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            CountsRecorded { inner, .. } => inner.status(),
        }
    }

    pub fn code(&self) -> &'static str {
        use AppError::*;
        match self {
            MalformedRequest(_) => "malformed_request",
            Unauthenticated { .. } => "unauthenticated",
            InvalidCredentials => "invalid_credentials",
            AccountLocked { .. } => "account_locked",
            AccountDeactivated => "account_deactivated",
            SignatureInvalid => "signature_invalid",
            Forbidden { .. } => "forbidden",
            NotFound { .. } | RouteNotFound { .. } => "not_found",
            MethodNotAllowed { .. } => "method_not_allowed",
            UsernameTaken(_) => "username_taken",
            AccountAlreadyInState { .. } => "account_already_in_state",
            AccountNotLocked => "account_not_locked",
            PayloadTooLarge => "payload_too_large",
            InvalidField { .. } => "invalid_field",
            WeakPassword(_) => "weak_password",
            LastAdministrator => "last_administrator",
            InvalidState(_) => "invalid_state",
            PositionOccupied { .. } => "position_occupied",
            ConcurrentChange { .. } => "concurrent_change",
            DonorCodeTaken(_) => "donor_code_taken",
            Exhausted(_) => "exhausted",
            StorageNameTaken(_) => "storage_name_taken",
            ScreeningIncomplete(_) => "screening_incomplete",
            DonorNotEligible { .. } => "donor_not_eligible",
            QcIncomplete(_) => "qc_incomplete",
            QcFailed(_) => "qc_failed",
            QcInput(QcInputError::UnknownTest { .. }) => "unknown_qc_test",
            QcInput(QcInputError::UnitMismatch { .. }) => "unit_mismatch",
            QcInput(QcInputError::InvalidValue { .. }) => "invalid_qc_value",
            LotExpired { .. } => "lot_expired",
            LotRecalled { .. } => "lot_recalled",
            InUse { .. } => "in_use",
            WeightVoided { .. } => "weight_voided",
            TooSoon { .. } => "too_soon",
            ImplausibleCount { .. } => "implausible_count",
            SamePerson { .. } => "same_person",
            VolumeUnconfirmed { .. } => "volume_unconfirmed",
            CountsRecorded { inner, .. } => inner.code(),
            InvalidPosition(_) => "invalid_position",
            StoragePlacement(_) => "invalid_storage_placement",
            NotABox(_) => "not_a_box",
            MalformedPayload(_) => "malformed_payload",
            UnknownCode { .. } => "unknown_code",
            CheckCharacterMismatch { .. } => "check_character_mismatch",
            ReprintReasonRequired => "reprint_reason_required",
            SubjectCodeTaken(_) => "subject_code_taken",
            DoseInProgress { .. } => "dose_in_progress",
            VialReserved { .. } => "vial_reserved",
            NotEligible(_) => "not_eligible",
            ImplausibleWeight { .. } => "implausible_weight",
            WeightChangeUnconfirmed { .. } => "weight_change_unconfirmed",
            NoWeight => "no_weight",
            StaleWeight { .. } => "stale_weight",
            InsufficientStock { .. } => "insufficient_stock",
            LotNotReleased { .. } => "lot_not_released",
            InfusionLimitReached { .. } => "infusion_limit_reached",
            OutsideWindow { .. } => "outside_window",
            ViabilityTooLow { .. } => "viability_too_low",
            DoseOutOfRange(_) => "dose_out_of_range",
            IdentityMismatch(_) => "identity_mismatch",
            ThawedProductExpired { .. } => "thawed_product_expired",
            InvalidAssessment(_) => "invalid_assessment",
            LabelUnprintable { .. } => "label_unprintable",
            DatabaseUnavailable(_) => "database_unavailable",
            LedgerInconsistent(_) => "ledger_inconsistent",
            Internal(_) => "internal_error",
        }
    }

    pub fn details(&self) -> Value {
        use AppError::*;
        match self {
            Unauthenticated { reason } => json!({ "reason": reason }),
            AccountLocked {
                until,
                retry_after_seconds,
            } => json!({ "locked_until": until, "retry_after_seconds": retry_after_seconds }),
            Forbidden { required, role } => json!({ "required_roles": required, "role": role }),
            NotFound { kind, id } => json!({ "kind": kind, "id": id }),
            RouteNotFound { method, path } | MethodNotAllowed { method, path } => {
                json!({ "method": method, "path": path })
            }
            UsernameTaken(username) => json!({ "username": username }),
            LabelUnprintable { character, text } => json!({
                "format": "zpl",
                "character": character.to_string(),
                "codepoint": format!("U+{:04X}", u32::from(*character)),
                "text": text,
            }),
            AccountAlreadyInState { active } => json!({ "active": active }),
            InvalidField { field, .. } => json!({ "field": field }),
            WeakPassword(_) => json!({
                "field": "password",
                "min_chars": crate::domain::accounts::MIN_PASSWORD_CHARS,
                "max_chars": crate::domain::accounts::MAX_PASSWORD_CHARS,
            }),
            InvalidState(refused) => json!({
                "kind": refused.kind,
                "status": refused.from,
                "action": refused.action,
            }),
            PositionOccupied { box_id, position } => {
                json!({ "box_id": box_id, "position": position })
            }
            ConcurrentChange { kind, id } => json!({ "kind": kind, "id": id }),
            DonorCodeTaken(code) => json!({ "code": code }),
            StorageNameTaken(name) => json!({ "name": name }),
            ScreeningIncomplete(gaps) => json!(gaps),
            DonorNotEligible {
                donor_id,
                eligibility,
                gaps,
            } => json!({ "donor_id": donor_id, "eligibility": eligibility, "screening": gaps }),
            QcIncomplete(standing) | QcFailed(standing) => json!(standing),
            QcInput(QcInputError::UnknownTest { test, known }) => {
                json!({ "test": test, "known_tests": known })
            }
            QcInput(QcInputError::UnitMismatch {
                test,
                expected,
                given,
            }) => json!({ "test": test, "expected_unit": expected, "unit": given }),
            QcInput(QcInputError::InvalidValue { test, expected }) => {
                json!({ "test": test, "expected": expected })
            }
            LotExpired {
                lot_id,
                code,
                expires_at,
            } => json!({ "lot_id": lot_id, "code": code, "expires_at": expires_at }),
            LotRecalled { lot_id, code } => json!({ "lot_id": lot_id, "code": code }),
            InUse {
                vial_id,
                code,
                dose_id,
                dose_code,
                dose_status,
            } => json!({
                "vial_id": vial_id, "code": code, "dose_id": dose_id,
                "dose_code": dose_code, "dose_status": dose_status,
            }),
            WeightVoided {
                weight_id,
                weight_g,
            } => json!({ "weight_id": weight_id, "weight_g": weight_g }),
            TooSoon {
                previous_day,
                earliest,
                min_interval_days,
            } => json!({
                "previous_day": previous_day,
                "earliest": earliest,
                "min_interval_days": min_interval_days,
            }),
            ImplausibleCount {
                vials,
                recovery_min_pct,
                recovery_max_pct,
                spread_max_pct,
            } => json!({
                "vials": vials,
                "recovery_min_pct": recovery_min_pct,
                "recovery_max_pct": recovery_max_pct,
                "spread_max_pct": spread_max_pct,
            }),
            SamePerson { user_id } => json!({ "counted_by": user_id }),
            VolumeUnconfirmed {
                volume_infused_ul,
                volume_prepared_ul,
                tolerance_pct,
            } => json!({
                "volume_infused_ul": volume_infused_ul,
                "volume_prepared_ul": volume_prepared_ul,
                "tolerance_pct": tolerance_pct,
            }),
            CountsRecorded {
                inner,
                dose_id,
                dose_status,
            } => {
                let mut details = inner.details();
                if let Some(map) = details.as_object_mut() {
                    map.insert("recorded".into(), json!(true));
                    map.insert("dose_id".into(), json!(dose_id));
                    map.insert("dose_status".into(), json!(dose_status));
                }
                details
            }
            InvalidPosition(invalid) => json!({
                "position": invalid.given,
                "rows": invalid.rows,
                "cols": invalid.cols,
                "last": invalid.last,
            }),
            NotABox(id) => json!({ "storage_id": id }),
            UnknownCode { kind, code } => json!({ "kind": kind, "code": code }),
            // The right check character is never told: a person who reads
            // it back would type what the check is there to verify.
            CheckCharacterMismatch { given, .. } => json!({ "given": given.to_string() }),
            ReprintReasonRequired => json!({ "field": "reason" }),
            SubjectCodeTaken(code) => json!({ "subject_code": code }),
            DoseInProgress { dose_id, code } => json!({ "dose_id": dose_id, "code": code }),
            VialReserved {
                vial_id,
                code,
                dose_id,
                dose_code,
            } => {
                json!({ "vial_id": vial_id, "code": code, "dose_id": dose_id, "dose_code": dose_code })
            }
            NotEligible(findings) => json!(findings),
            ImplausibleWeight {
                weight_g,
                min_g,
                max_g,
            } => {
                json!({ "weight_g": weight_g, "min_g": min_g, "max_g": max_g })
            }
            WeightChangeUnconfirmed {
                weight_g,
                concerns,
                compared_measured_at,
                likely_slip,
            } => {
                let mut details = json!({
                    "weight_g": weight_g,
                    "concerns": concerns,
                    "likely_slip": likely_slip,
                });
                // the change, where there is one, also flat (as before)
                if let Some(WeightConcern::Change {
                    compared_with_g,
                    compared_with,
                    change_tenths_pct,
                    threshold_pct,
                    ..
                }) = concerns
                    .iter()
                    .find(|c| matches!(c, WeightConcern::Change { .. }))
                    && let Some(map) = details.as_object_mut()
                {
                    map.insert("previous_g".into(), json!(compared_with_g));
                    map.insert("compared_with".into(), json!(compared_with));
                    map.insert("previous_measured_at".into(), json!(compared_measured_at));
                    map.insert(
                        "change_pct".into(),
                        json!(format_tenths(*change_tenths_pct)),
                    );
                    map.insert("threshold_pct".into(), json!(threshold_pct));
                }
                details
            }
            StaleWeight {
                measured_at,
                valid_days,
            } => json!({ "measured_at": measured_at, "valid_days": valid_days }),
            InsufficientStock {
                needed,
                lot_id,
                available,
            } => json!({ "vials_needed": needed, "lot_id": lot_id, "available": available }),
            LotNotReleased {
                lot_id,
                code,
                status,
            } => json!({ "lot_id": lot_id, "code": code, "status": status }),
            InfusionLimitReached { limit } => json!({ "limit": limit }),
            OutsideWindow {
                first_infusion_at,
                closed_at,
                window_days,
                first_day,
                last_day,
            } => json!({
                "first_infusion_at": first_infusion_at,
                "closed_at": closed_at,
                "window_days": window_days,
                "first_day": first_day,
                "last_day": last_day,
            }),
            ViabilityTooLow { min_pct, vials } => json!({ "min_pct": min_pct, "vials": vials }),
            DoseOutOfRange(error) => match error {
                PreparationError::OutOfRange {
                    volume_ul,
                    cells_to_administer,
                    min_cells,
                    max_cells,
                    available_ul,
                } => json!({
                    "volume_ul": volume_ul,
                    "cells_to_administer": cells_to_administer,
                    "min_cells": min_cells,
                    "max_cells": max_cells,
                    "available_ul": available_ul,
                }),
                PreparationError::NotEnoughVolume {
                    volume_ul,
                    available_ul,
                } => json!({ "volume_ul": volume_ul, "available_ul": available_ul }),
                PreparationError::NoCells => json!({ "cells_to_administer": 0 }),
            },
            IdentityMismatch(mismatches) => json!({ "mismatches": mismatches }),
            ThawedProductExpired { thawed_at, use_by } => {
                json!({ "thawed_at": thawed_at, "use_by": use_by })
            }
            InvalidAssessment(invalid) => json!({ "field": invalid.field }),
            _ => json!({}),
        }
    }
}

/// The error body of every non-2xx answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, snake_case; clients branch on this.
    #[schema(example = "invalid_credentials")]
    pub code: &'static str,
    /// For people; may change wording.
    pub message: String,
    /// Machine-readable specifics (offending fields, limits, ids).
    #[schema(value_type = Object)]
    pub details: Value,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            // The request span carries the request id, so this line and the
            // client's `x-request-id` header meet in the logs.
            tracing::error!(error = ?self, "request failed");
        }
        let retry_after = match &self {
            AppError::AccountLocked {
                retry_after_seconds,
                ..
            } => Some(retry_after_seconds.to_string()),
            _ => None,
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code(),
                message: self.to_string(),
                details: self.details(),
            },
        };
        let mut response = (status, axum::Json(body)).into_response();
        if let Some(value) = retry_after.and_then(|v| HeaderValue::from_str(&v).ok()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            // The rest of the body is never read: the connection cannot
            // carry another request, so the client must not reuse it.
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }
}

/// A label that cannot be rendered: unprintable text is the label's data
/// (422); a layout that cannot hold its sample was refused at start, so any
/// other failure is a bug.
impl From<crate::labels::RenderError> for AppError {
    fn from(error: crate::labels::RenderError) -> Self {
        match error {
            crate::labels::RenderError::Unprintable { character, text } => {
                AppError::LabelUnprintable { character, text }
            }
            other => AppError::internal(other),
        }
    }
}

impl From<DbErr> for AppError {
    fn from(error: DbErr) -> Self {
        if let DbErr::Custom(message) = &error
            && let Some(why) = message.strip_prefix(crate::db::LEDGER_INCONSISTENT)
        {
            return AppError::LedgerInconsistent(why.to_owned());
        }
        if is_nul_refused(&error) {
            return AppError::invalid("text", NUL_REFUSED);
        }
        if is_unavailable(&error) {
            AppError::DatabaseUnavailable(error)
        } else {
            AppError::Internal(error.into())
        }
    }
}

/// What is said of text holding U+0000.
pub const NUL_REFUSED: &str = "text may not contain the NUL character (U+0000)";

/// PostgreSQL refuses U+0000 in text (SQLSTATE 22021). The edges refuse it
/// first (JSON bodies, paths, queries); this is the net under the rest.
fn is_nul_refused(error: &DbErr) -> bool {
    let text = error.to_string();
    text.contains("invalid byte sequence") && text.contains("0x00")
}

/// A pool timeout, a lost connection or SQLite still locked after the busy
/// timeout is the database being unavailable, not a bug.
fn is_unavailable(error: &DbErr) -> bool {
    match error {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        other => {
            let text = other.to_string();
            text.contains("database is locked") || text.contains("PoolTimedOut")
        }
    }
}

impl From<JsonRejection> for AppError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::MissingJsonContentType(_) => AppError::MalformedRequest(
                "the body must be JSON, sent with Content-Type: application/json".into(),
            ),
            JsonRejection::BytesRejection(ref bytes)
                if bytes.status() == StatusCode::PAYLOAD_TOO_LARGE =>
            {
                AppError::PayloadTooLarge
            }
            other => AppError::MalformedRequest(other.body_text()),
        }
    }
}

impl From<PathRejection> for AppError {
    fn from(rejection: PathRejection) -> Self {
        AppError::MalformedRequest(rejection.body_text())
    }
}

impl From<QueryRejection> for AppError {
    fn from(rejection: QueryRejection) -> Self {
        AppError::MalformedRequest(rejection.body_text())
    }
}

pub type AppResult<T> = Result<T, AppError>;
