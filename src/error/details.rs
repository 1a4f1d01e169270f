//! What each refusal tells a machine: the `details` of its error body
//! (offending fields, limits, ids), one arm per variant that has any.

use serde_json::{Value, json};

use super::AppError;
use super::wording::format_tenths;
use crate::domain::dose::{PreparationError, WeightConcern};
use crate::domain::qc::QcInputError;

impl AppError {
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
            PrinterUnreachable { printer, address } => {
                json!({ "printer": printer, "address": address })
            }
            UnknownPrinter { name, known } => json!({ "printer": name, "known_printers": known }),
            AccountAlreadyInState { active } => json!({ "active": active }),
            InvalidField { field, .. } => json!({ "field": field }),
            InvalidReadings { problems } => json!({ "problems": problems }),
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
            AlreadyCorrected {
                adverse_event_id,
                newest_id,
            } => json!({ "adverse_event_id": adverse_event_id, "newest_id": newest_id }),
            CorrectionChangesNothing { field, value } => json!({ "field": field, "value": value }),
            NotCorrectable { kind, field, why } => {
                json!({ "subject_kind": kind, "field": field, "why": why })
            }
            CorrectionChangesDose { field, doses } => json!({ "field": field, "doses": doses }),
            DonorCodeTaken(code) => json!({ "code": code }),
            SiteTaken { field, value } => json!({ "field": field, "value": value }),
            ContainerInUse {
                container,
                shipment,
            } => json!({ "container": container, "shipment": shipment }),
            InShipment { vial, shipment } => json!({ "vial": vial, "shipment": shipment }),
            ShipmentEmpty { shipment } => json!({ "shipment": shipment }),
            NotShippable { vials } => json!({ "vials": vials }),
            ReceiptIncomplete {
                missing,
                discrepancies,
            } => json!({ "missing": missing, "discrepancies": discrepancies }),
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
            ConsentWithdrawn { lot_id, code } => json!({ "lot_id": lot_id, "code": code }),
            PatientWithdrawn {
                patient_id,
                subject_code,
            } => json!({ "patient_id": patient_id, "subject_code": subject_code }),
            AlreadyWithdrawn { kind, id } => json!({ "kind": kind, "id": id }),
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
            ImportInvalid { problems } => json!({
                "problems": problems,
                "lines": problems.iter().map(ToString::to_string).collect::<Vec<_>>(),
            }),
            _ => json!({}),
        }
    }
}
