//! Refusals said in Simplified Chinese, for pages a Beijing pharmacist,
//! nurse or quality officer reads in `zh-CN`: every `AppError` variant as
//! a sentence from the catalogue (`locales/zh-CN/refusals.ftl`), its codes,
//! numbers and times (in the site's zone) as arguments, lists joined with
//! `、`. The free English text some variants carry (`InvalidField`'s
//! message, a transition's words) is translated by the table in
//! [`free_text`]. The API and English pages keep the English sentence
//! (`web::error::sentence`); nothing here changes what a refusal means.

mod free_text;
mod words;

use chrono::{DateTime, Utc};
use fluent_bundle::{FluentArgs, FluentValue};

use crate::domain::dose::kg_text;
use crate::domain::language::Language;
use crate::domain::units::{grouped, millilitres};
use crate::domain::zone::SiteZone;
use crate::error::AppError;

pub use free_text::{invalid_field, untranslated};
pub use words::weight_question;
use words::*;

/// `key` from the Chinese catalogue with `args`.
fn zh(key: &str, args: &[(&str, String)]) -> String {
    let mut fluent = FluentArgs::new();
    for (name, value) in args {
        fluent.set(*name, FluentValue::from(value.clone()));
    }
    crate::i18n::text(Language::ZhCn, key, Some(&fluent))
}

/// A word made from data (`status-released`, `refusal-kind-lot`) in
/// Chinese, or the data itself when the catalogue has no word for it.
fn word(prefix: &str, value: &str) -> String {
    let key = format!("{prefix}{}", value.to_lowercase().replace(' ', "_"));
    let found = crate::i18n::text(Language::ZhCn, &key, None);
    if found == key {
        value.to_owned()
    } else {
        found
    }
}

/// Items of a list, joined as Chinese joins them.
fn list<S: AsRef<str>>(items: &[S]) -> String {
    items
        .iter()
        .map(|s| s.as_ref())
        .collect::<Vec<_>>()
        .join("、")
}

/// The refusal as a Chinese sentence, ending with a full stop. Times are
/// the site's (`zone`), as in the English sentence.
pub fn chinese(error: &AppError, zone: SiteZone) -> String {
    let mut text = body(error, zone);
    if !text.ends_with(['。', '？', '！', '.', '?', '!']) {
        text.push('。');
    }
    text
}

fn body(error: &AppError, zone: SiteZone) -> String {
    use AppError as E;
    let s = |v: &dyn ToString| v.to_string();
    let when = |t: &DateTime<Utc>| zone.minute(*t);
    // a server failure says nothing of its insides, in any language
    if error.status().is_server_error() && !matches!(error, E::CountsRecorded { .. }) {
        return zh("refusal-server", &[]);
    }
    match error {
        E::MalformedRequest(_) => zh("refusal-malformed", &[]),
        E::Unauthenticated { .. } => zh("refusal-unauthenticated", &[]),
        E::InvalidCredentials => zh("refusal-invalid-credentials", &[]),
        E::AccountLocked {
            until,
            retry_after_seconds,
        } => match retry_after_seconds {
            0..=120 => zh(
                "refusal-locked-wait",
                &[("seconds", s(retry_after_seconds))],
            ),
            // rounded up to the minute shown
            _ => zh(
                "refusal-locked-until",
                &[("until", when(&(*until + chrono::Duration::seconds(59))))],
            ),
        },
        E::AccountDeactivated => zh("refusal-account-deactivated", &[]),
        E::SignatureInvalid => zh("refusal-signature-invalid", &[]),
        E::Forbidden { required, role } => zh(
            "refusal-forbidden",
            &[
                ("role", role_name(*role)),
                (
                    "required",
                    list(&required.iter().map(|r| role_name(*r)).collect::<Vec<_>>()),
                ),
            ],
        ),
        E::NotFound { kind, id } => zh(
            "refusal-not-found",
            &[("kind", word("refusal-kind-", kind)), ("id", id.clone())],
        ),
        E::RouteNotFound { method, path } | E::MethodNotAllowed { method, path } => zh(
            "refusal-no-such-page",
            &[("method", method.clone()), ("path", path.clone())],
        ),
        E::UsernameTaken(name) => zh("refusal-username-taken", &[("username", name.clone())]),
        E::AccountNotLocked => zh("refusal-account-not-locked", &[]),
        E::AccountAlreadyInState { active: true } => zh("refusal-account-already-active", &[]),
        E::AccountAlreadyInState { active: false } => {
            zh("refusal-account-already-deactivated", &[])
        }
        E::InvalidState(refused) => transition(refused),
        E::PositionOccupied { position, .. } => zh(
            "refusal-position-occupied",
            &[("position", position.clone())],
        ),
        E::ConcurrentChange { kind, .. } => zh(
            "refusal-concurrent-change",
            &[("kind", word("refusal-kind-", kind))],
        ),
        E::AlreadyCorrected { .. } => zh("refusal-already-corrected", &[]),
        E::CorrectionChangesNothing { field, value } => zh(
            "refusal-correction-changes-nothing",
            &[("field", field.clone()), ("value", value.clone())],
        ),
        E::NotCorrectable { kind, field, .. } => zh(
            "refusal-field-not-correctable",
            &[
                ("kind", word("refusal-kind-", kind)),
                ("field", field.clone()),
            ],
        ),
        E::CorrectionChangesDose { field, doses } => zh(
            "refusal-correction-changes-dose",
            &[
                ("field", field.clone()),
                (
                    "doses",
                    list(
                        &doses
                            .iter()
                            .map(|d| format!("{}（{}）", d.code, word("status-", &d.status)))
                            .collect::<Vec<_>>(),
                    ),
                ),
            ],
        ),
        E::DonorCodeTaken(code) => zh("refusal-donor-code-taken", &[("code", code.clone())]),
        E::StorageNameTaken(name) => zh("refusal-storage-name-taken", &[("name", name.clone())]),
        E::SiteTaken { field, value } => zh(
            if *field == "name" {
                "refusal-site-name-taken"
            } else {
                "refusal-site-code-taken"
            },
            &[("value", value.clone())],
        ),
        E::SiteRequired { count } => zh("refusal-site-required", &[("count", s(count))]),
        E::NotYourSite { site } => zh("refusal-not-your-site", &[("site", site.clone())]),
        E::WrongSite { what, at, .. } => zh(
            "refusal-wrong-site",
            &[("what", what.clone()), ("at", at.clone())],
        ),
        E::ContainerInUse {
            container,
            shipment,
        } => zh(
            "refusal-container-in-use",
            &[
                ("container", container.clone()),
                ("shipment", shipment.clone()),
            ],
        ),
        E::InShipment { vial, shipment } => zh(
            "refusal-in-shipment",
            &[("vial", vial.clone()), ("shipment", shipment.clone())],
        ),
        E::ShipmentEmpty { shipment } => {
            zh("refusal-shipment-empty", &[("shipment", shipment.clone())])
        }
        E::NotShippable { vials } => zh(
            "refusal-not-shippable",
            &[("count", s(&vials.len())), ("vials", vials.join("；"))],
        ),
        E::ReceiptIncomplete {
            missing,
            discrepancies,
        } => zh(
            "refusal-receipt-incomplete",
            &[
                ("missing", missing.join("、")),
                ("discrepancies", discrepancies.join("、")),
                ("missing_count", s(&missing.len())),
                ("discrepancy_count", s(&discrepancies.len())),
            ],
        ),
        E::Exhausted(message) => invalid_field("", message, zone),
        E::PayloadTooLarge => zh("refusal-payload-too-large", &[]),
        E::InvalidField { field, message } => invalid_field(field, message, zone),
        E::InvalidReadings { problems } => zh(
            "refusal-invalid-readings",
            &[("problems", problems.join("；"))],
        ),
        E::WeakPassword(weak) => weak_password(weak),
        E::LastAdministrator => zh("refusal-last-administrator", &[]),
        E::ImportInvalid { problems } => zh(
            "refusal-import-invalid",
            &[
                ("count", s(&problems.len())),
                (
                    "first",
                    problems
                        .first()
                        .map(|p| crate::web::imports::said_at(p, Language::ZhCn, zone))
                        .unwrap_or_default(),
                ),
            ],
        ),
        E::ScreeningIncomplete(gaps) => zh(
            "refusal-screening-incomplete",
            &[("gaps", screening_gaps(gaps))],
        ),
        E::DonorNotEligible { eligibility, .. } => zh(
            "refusal-donor-not-eligible",
            &[("eligibility", word("status-", eligibility.as_str()))],
        ),
        E::QcIncomplete(standing) => zh(
            "refusal-qc-incomplete",
            &[("tests", list(&standing.missing))],
        ),
        E::QcFailed(standing) => {
            let failed = zh("refusal-qc-failed", &[("tests", list(&standing.failed))]);
            if standing.investigation_required.is_empty() {
                failed
            } else {
                let tests = list(&standing.investigation_required);
                format!(
                    "{failed}{}",
                    zh("refusal-qc-investigation", &[("tests", tests)])
                )
            }
        }
        E::QcInput(input) => qc_input(input),
        E::LotExpired {
            code, expires_at, ..
        } => zh(
            "refusal-lot-expired",
            &[("code", code.clone()), ("when", when(expires_at))],
        ),
        E::LotRecalled { code, .. } => zh("refusal-lot-recalled", &[("code", code.clone())]),
        E::ConsentWithdrawn { code, .. } => {
            zh("refusal-consent-withdrawn", &[("code", code.clone())])
        }
        E::PatientWithdrawn { subject_code, .. } => zh(
            "refusal-patient-withdrawn",
            &[("subject", subject_code.clone())],
        ),
        E::AlreadyWithdrawn { kind, .. } => zh(
            "refusal-already-withdrawn",
            &[("kind", word("refusal-kind-", kind))],
        ),
        E::InvalidPosition(p) => zh(
            "refusal-invalid-position",
            &[
                ("given", p.given.trim().to_owned()),
                ("rows", s(&p.rows)),
                ("cols", s(&p.cols)),
                ("last", p.last.clone()),
            ],
        ),
        E::StoragePlacement(rule) => storage_rule(rule),
        E::NotABox(_) => zh("refusal-not-a-box", &[]),
        E::MalformedPayload(scan) => scan_error(scan),
        E::UnknownCode { kind, code } => zh(
            "refusal-unknown-code",
            &[
                ("kind", word("refusal-kind-", kind)),
                ("code", code.clone()),
            ],
        ),
        E::CheckCharacterMismatch { given, .. } => {
            zh("refusal-check-character", &[("given", s(given))])
        }
        E::ReprintReasonRequired => zh("refusal-reprint-reason", &[]),
        E::SubjectCodeTaken(code) => zh("refusal-subject-code-taken", &[("code", code.clone())]),
        E::VialReserved {
            code, dose_code, ..
        } => zh(
            "refusal-vial-reserved",
            &[("code", code.clone()), ("dose", dose_code.clone())],
        ),
        E::InUse {
            code,
            dose_code,
            dose_status,
            ..
        } => zh(
            "refusal-vial-in-use",
            &[
                ("code", code.clone()),
                ("dose", dose_code.clone()),
                ("status", word("status-", dose_status)),
            ],
        ),
        E::DoseInProgress { code, .. } => zh("refusal-dose-in-progress", &[("code", code.clone())]),
        E::NotEligible(findings) => zh(
            "refusal-not-eligible",
            &[("findings", enrolment_findings(findings))],
        ),
        E::ImplausibleWeight {
            weight_g,
            min_g,
            max_g,
        } => zh(
            "refusal-implausible-weight",
            &[
                ("weight", s(weight_g)),
                ("min", s(min_g)),
                ("max", s(max_g)),
            ],
        ),
        E::WeightChangeUnconfirmed {
            weight_g,
            concerns,
            likely_slip,
            ..
        } => {
            let entered = format!("{} kg", kg_text(*weight_g));
            let question = weight_question(&entered, concerns, None, likely_slip.as_deref(), zone);
            let stop = if question.ends_with(['？', '。']) {
                ""
            } else {
                "。"
            };
            format!("{question}{stop}{}", zh("refusal-weight-confirm", &[]))
        }
        E::WeightVoided { weight_g, .. } => zh("refusal-weight-voided", &[("weight", s(weight_g))]),
        E::NoWeight => zh("refusal-no-weight", &[]),
        E::StaleWeight {
            measured_at,
            valid_days,
        } => zh(
            "refusal-stale-weight",
            &[("when", when(measured_at)), ("days", s(valid_days))],
        ),
        E::InsufficientStock {
            needed: Some(needed),
            ..
        } => zh("refusal-insufficient-stock", &[("needed", s(needed))]),
        E::InsufficientStock { needed: None, .. } => zh("refusal-no-stock", &[]),
        E::LotNotReleased { code, status, .. } => zh(
            "refusal-lot-not-released",
            &[("code", code.clone()), ("status", word("status-", status))],
        ),
        E::InfusionLimitReached { limit } => zh("refusal-infusion-limit", &[("limit", s(limit))]),
        E::OutsideWindow {
            window_days,
            first_day,
            last_day,
            ..
        } => zh(
            "refusal-outside-window",
            &[
                ("first", s(first_day)),
                ("days", s(window_days)),
                ("last", s(last_day)),
            ],
        ),
        E::TooSoon {
            previous_day,
            earliest,
            min_interval_days,
        } => zh(
            "refusal-too-soon",
            &[
                ("previous", s(previous_day)),
                ("days", s(min_interval_days)),
                ("earliest", s(earliest)),
            ],
        ),
        E::ViabilityTooLow { min_pct, vials } => zh(
            "refusal-viability-too-low",
            &[
                ("min", s(min_pct)),
                (
                    "vials",
                    list(&vials.iter().map(|v| v.code.as_str()).collect::<Vec<_>>()),
                ),
            ],
        ),
        E::DoseOutOfRange(preparation) => preparation_error(preparation),
        E::ImplausibleCount { vials, .. } => {
            let vials: Vec<String> = vials
                .iter()
                .map(|v| {
                    let cells = grouped(v.viable_cells_per_ml);
                    match v.median_deviation_pct.as_deref() {
                        Some(deviation) if !v.recovery_outside_range => zh(
                            "refusal-count-from-median",
                            &[
                                ("code", v.code.clone()),
                                ("cells", cells),
                                ("pct", deviation.to_owned()),
                            ],
                        ),
                        _ => zh(
                            "refusal-count-recovery",
                            &[
                                ("code", v.code.clone()),
                                ("pct", v.recovery_pct.clone()),
                                ("cells", cells),
                            ],
                        ),
                    }
                })
                .collect();
            zh("refusal-implausible-count", &[("vials", vials.join("；"))])
        }
        E::SamePerson { .. } => zh("refusal-same-person", &[]),
        E::VolumeUnconfirmed {
            volume_infused_ul,
            volume_prepared_ul,
            tolerance_pct,
        } => zh(
            "refusal-volume-unconfirmed",
            &[
                ("infused", millilitres(*volume_infused_ul)),
                ("prepared", millilitres(*volume_prepared_ul)),
                ("pct", s(tolerance_pct)),
            ],
        ),
        E::CountsRecorded { inner, .. } => {
            format!(
                "{}{}",
                chinese(inner, zone),
                zh("refusal-counts-recorded", &[])
            )
        }
        E::IdentityMismatch(mismatches) => {
            let problems: Vec<String> = mismatches
                .iter()
                .map(|m| identity_problem(m.scan, m.problem))
                .collect();
            zh(
                "refusal-identity-mismatch",
                &[("problems", problems.join("；"))],
            )
        }
        E::ThawedProductExpired { thawed_at, use_by } => zh(
            "refusal-thawed-expired",
            &[("thawed", when(thawed_at)), ("use_by", when(use_by))],
        ),
        E::InvalidAssessment(invalid) => free_text::assessment(&invalid.field, invalid.message),
        E::LabelUnprintable { character, text } => zh(
            "refusal-label-unprintable",
            &[
                ("character", s(character)),
                ("codepoint", format!("{:04X}", u32::from(*character))),
                ("text", text.clone()),
            ],
        ),
        E::PrinterUnreachable { printer, address } => zh(
            "refusal-printer-unreachable",
            &[("printer", printer.clone()), ("address", address.clone())],
        ),
        E::UnknownPrinter { name, known } if known.is_empty() => {
            zh("refusal-no-printers", &[("printer", name.clone())])
        }
        E::UnknownPrinter { name, known } => zh(
            "refusal-unknown-printer",
            &[("printer", name.clone()), ("known", list(known))],
        ),
        // 5xx: answered above; listed so that a new variant is a decision
        E::LedgerInconsistent(_) | E::DatabaseUnavailable(_) | E::Internal(_) => {
            zh("refusal-server", &[])
        }
    }
}

/// The question a weight to confirm raises, in the page's language: the
/// domain's English words (`describe_concerns`) on an English page, the
/// catalogue's on a Chinese one. For `web::clinic::weights`.
pub fn page_weight_question(
    entered: &str,
    concerns: &[crate::domain::dose::WeightConcern],
    compared_on: Option<&str>,
    slip: Option<&str>,
    zone: SiteZone,
) -> String {
    if crate::i18n::current() == Language::ZhCn {
        weight_question(entered, concerns, compared_on, slip, zone)
    } else {
        crate::domain::dose::describe_concerns(entered, concerns, compared_on, slip)
    }
}

#[cfg(test)]
mod tests;
