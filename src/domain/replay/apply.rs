//! Applying one event to the replayed state: what the replay reads from
//! each kind of event's details, and how each action moves its record.

use std::borrow::Cow;

use serde::Deserialize;

use super::*;
use crate::domain::event::ledger_time;
use crate::domain::lifecycle::{DoseAction, DoseStatus, InfusionStatus, dose_transition};

// What the replay reads from events' details; every field optional, and
// strings borrowed where they have no escapes.

#[derive(Deserialize, Default)]
struct Status<'a> {
    #[serde(borrow, default)]
    code: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    to: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    status: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Stored<'a> {
    #[serde(default)]
    box_id: Option<Uuid>,
    #[serde(borrow, default)]
    position: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct LabelsIssued {
    #[serde(default)]
    labels_issued: Option<i64>,
}

#[derive(Deserialize)]
struct DoseOrdered<'a> {
    #[serde(borrow, default)]
    code: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    vials: Option<Vec<Cow<'a, str>>>,
}

#[derive(Deserialize)]
struct VialReplaced<'a> {
    #[serde(borrow)]
    removed: Cow<'a, str>,
    #[serde(borrow)]
    added: Cow<'a, str>,
}

#[derive(Deserialize)]
struct InfusionStarted {
    dose_id: Uuid,
    started_at: DateTime<Utc>,
}

#[derive(Deserialize)]
struct InfusionCompleted {
    dose_id: Uuid,
    ended_at: DateTime<Utc>,
    volume_infused_ul: i64,
}

#[derive(Deserialize)]
struct WeightRecorded {
    weight_id: Uuid,
    weight_g: i64,
    measured_at: DateTime<Utc>,
}

/// `patient.enrolled` (its `coi` since identifiers exist) and
/// `patient.coi_assigned`.
#[derive(Deserialize)]
struct PatientCoi<'a> {
    #[serde(borrow, default)]
    subject_code: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    coi: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct WeightVoided {
    weight_id: Uuid,
}

#[derive(Deserialize)]
struct QcRecorded<'a> {
    qc_result_id: Uuid,
    #[serde(borrow)]
    test: Cow<'a, str>,
    value: serde_json::Value,
    pass: bool,
}

#[derive(Deserialize)]
struct QcInvestigated<'a> {
    qc_result_id: Uuid,
    #[serde(borrow)]
    conclusion: Cow<'a, str>,
    #[serde(borrow, default)]
    lot_to: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct DonorRegistered<'a> {
    #[serde(borrow)]
    code: Cow<'a, str>,
}

/// `<kind>.corrected`: the field and its new value.
#[derive(Deserialize)]
struct Corrected<'a> {
    #[serde(borrow)]
    field: Cow<'a, str>,
    new: serde_json::Value,
}

/// `lot.qc_corrected`: the result, its value and judgement as corrected.
#[derive(Deserialize)]
struct QcCorrected {
    qc_result_id: Uuid,
    value: serde_json::Value,
    pass: bool,
}

#[derive(Deserialize)]
struct EligibilityDecided<'a> {
    #[serde(borrow)]
    decision: Cow<'a, str>,
}

#[derive(Deserialize)]
struct ScreeningRecorded<'a> {
    screening_id: Uuid,
    #[serde(borrow)]
    test: Cow<'a, str>,
    #[serde(borrow)]
    result: Cow<'a, str>,
}

#[derive(Deserialize)]
struct ScreeningInvalidated<'a> {
    screening_id: Uuid,
    #[serde(borrow, default)]
    eligibility_to: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct StorageCreated<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
    #[serde(borrow)]
    kind: Cow<'a, str>,
    #[serde(default)]
    parent_id: Option<Uuid>,
}

#[derive(Deserialize)]
struct UserCreated<'a> {
    #[serde(borrow)]
    username: Cow<'a, str>,
    #[serde(borrow)]
    role: Cow<'a, str>,
}

#[derive(Deserialize)]
struct SignedDetails<'a> {
    #[serde(borrow)]
    signature: Manifestation<'a>,
}

#[derive(Deserialize)]
struct Manifestation<'a> {
    #[serde(borrow)]
    signer: Cow<'a, str>,
    #[serde(borrow)]
    meaning: Cow<'a, str>,
}

fn read<'a, T: Deserialize<'a>>(details: &'a str) -> Option<T> {
    serde_json::from_str(details).ok()
}

impl Replay {
    /// Applies one event (in `seq` order).
    pub fn apply(&mut self, event: &EventView<'_>) {
        if !self.apply_action(event) {
            self.unreadable.push(event.seq);
        }
        // Any event may carry a signature's manifestation.
        if event.details.contains("\"signature\":{") {
            let manifestation = read::<SignedDetails>(event.details).map(|d| d.signature);
            self.signed.insert(
                event.seq,
                Signed {
                    actor_id: event.actor_id,
                    actor_username: event.actor_username.to_owned(),
                    signer: manifestation
                        .as_ref()
                        .map(|m| m.signer.clone().into_owned()),
                    meaning: manifestation.map(|m| m.meaning.into_owned()),
                    at: ledger_time(event.occurred_at),
                    action: event.action.to_owned(),
                    subject_id: event.subject_id,
                    hash: event.hash.to_owned(),
                },
            );
        }
    }

    /// Whether the event's details were readable (or not needed).
    fn apply_action(&mut self, event: &EventView<'_>) -> bool {
        let id = event.subject_id;
        let at = ledger_time(event.occurred_at);
        let details = event.details;
        match event.action {
            "vial.frozen" => {
                let Some(d) = read::<Status>(details) else {
                    return false;
                };
                let code = d.code.map(Cow::into_owned).unwrap_or_default();
                self.vial_codes.insert(code.clone(), id);
                self.vials.insert(
                    id,
                    Vial {
                        code,
                        status: d.status.map(Cow::into_owned),
                        place: Some(None),
                        labels_issued: Some(0),
                    },
                );
            }
            "vial.stored" | "vial.moved" => {
                let Some(d) = read::<Stored>(details) else {
                    return false;
                };
                let vial = self.vials.entry(id).or_default();
                vial.place = Some(d.box_id.zip(d.position.map(Cow::into_owned)));
            }
            "vial.released" | "vial.reserved" | "vial.unreserved" | "vial.thawed"
            | "vial.discarded" | "vial.recalled" | "vial.infused" => {
                let Some(d) = read::<Status>(details) else {
                    return false;
                };
                let vial = self.vials.entry(id).or_default();
                vial.status = d.to.map(Cow::into_owned);
                // thawed or discarded, a vial has left the freezer for good
                if matches!(event.action, "vial.thawed" | "vial.discarded") {
                    vial.place = Some(None);
                }
            }
            // Shipping: packed, a vial leaves its box; received, it is
            // in the box it was scanned into (the details name it); not
            // arrived, it is discarded. Holds change the status only.
            "vial.packed" | "vial.unpacked" | "vial.received" | "vial.arrived" | "vial.lost"
            | "vial.held" | "vial.hold_released" => {
                let Some(d) = read::<Status>(details) else {
                    return false;
                };
                let vial = self.vials.entry(id).or_default();
                vial.status = d.to.map(Cow::into_owned);
                match event.action {
                    "vial.packed" | "vial.lost" | "vial.unpacked" => vial.place = Some(None),
                    "vial.received" => {
                        let Some(d) = read::<Stored>(details) else {
                            return false;
                        };
                        vial.place = Some(d.box_id.zip(d.position.map(Cow::into_owned)));
                    }
                    _ => {}
                }
            }
            "vial.labels_issued" => {
                let Some(d) = read::<LabelsIssued>(details) else {
                    return false;
                };
                self.vials.entry(id).or_default().labels_issued = d.labels_issued;
            }
            "lot.created" => {
                let Some(d) = read::<Status>(details) else {
                    return false;
                };
                let code = d.code.map(Cow::into_owned).unwrap_or_default();
                self.lots.insert(id, (code, Some("in_process".into())));
            }
            "lot.frozen" | "lot.released" | "lot.rejected" | "lot.recalled" => {
                let Some(d) = read::<Status>(details) else {
                    return false;
                };
                self.lots.entry(id).or_default().1 = d.to.map(Cow::into_owned);
            }
            "lot.qc_recorded" => {
                let Some(d) = read::<QcRecorded>(details) else {
                    return false;
                };
                self.qc.insert(
                    d.qc_result_id,
                    Qc {
                        lot_id: id,
                        test: Some(d.test.into_owned()),
                        value: Some(json_text(&d.value)),
                        pass: Some(d.pass),
                        investigation: Some(None),
                    },
                );
            }
            "lot.qc_investigated" => {
                let Some(d) = read::<QcInvestigated>(details) else {
                    return false;
                };
                self.qc.entry(d.qc_result_id).or_default().investigation =
                    Some(Some(d.conclusion.into_owned()));
                if let Some(to) = d.lot_to {
                    self.lots.entry(id).or_default().1 = Some(to.into_owned());
                }
            }
            "dose.ordered" => {
                let Some(d) = read::<DoseOrdered>(details) else {
                    return false;
                };
                let vials = d.vials.map(|codes| {
                    codes
                        .iter()
                        .filter_map(|c| self.vial_codes.get(c.as_ref()).copied())
                        .collect()
                });
                self.doses.insert(
                    id,
                    Dose {
                        code: d.code.map(Cow::into_owned).unwrap_or_default(),
                        status: Some(DoseStatus::Reserved.as_str().to_owned()),
                        vials,
                    },
                );
            }
            "dose.thawed"
            | "dose.count_corrected"
            | "dose.count_failed"
            | "dose.verified"
            | "dose.cancelled" => {
                let Some(d) = read::<Status>(details) else {
                    return false;
                };
                self.doses.entry(id).or_default().status = d.to.map(Cow::into_owned);
            }
            "dose.vial_replaced" => {
                let Some(d) = read::<VialReplaced>(details) else {
                    return false;
                };
                let removed = self.vial_codes.get(d.removed.as_ref()).copied();
                let added = self.vial_codes.get(d.added.as_ref()).copied();
                let dose = self.doses.entry(id).or_default();
                match (removed, added, dose.vials.as_mut()) {
                    (Some(removed), Some(added), Some(vials)) => {
                        vials.remove(&removed);
                        vials.insert(added);
                    }
                    _ => dose.vials = None,
                }
            }
            "dose.infusion_started" => {
                let Some(d) = read::<Status>(details) else {
                    return false;
                };
                let dose = self.doses.entry(id).or_default();
                dose.status = match d.to {
                    Some(to) => Some(to.into_owned()),
                    None => next_status(&dose.status, DoseAction::StartInfusion),
                };
            }
            "infusion.started" => {
                let Some(d) = read::<InfusionStarted>(details) else {
                    return false;
                };
                let _ = d.dose_id;
                self.infusions.insert(
                    id,
                    Infusion {
                        status: Some(InfusionStatus::Started.as_str().to_owned()),
                        started_at: Some(ledger_time(d.started_at)),
                        ended_at: Some(None),
                        volume_infused_ul: Some(None),
                    },
                );
            }
            "infusion.completed" => {
                let Some(d) = read::<InfusionCompleted>(details) else {
                    return false;
                };
                let infusion = self.infusions.entry(id).or_default();
                infusion.status = Some(InfusionStatus::Completed.as_str().to_owned());
                infusion.ended_at = Some(Some(ledger_time(d.ended_at)));
                infusion.volume_infused_ul = Some(Some(d.volume_infused_ul));
                let dose = self.doses.entry(d.dose_id).or_default();
                dose.status = next_status(&dose.status, DoseAction::CompleteInfusion);
            }
            // an enrolment written before identifiers existed leaves the
            // identifier unknown until `patient.coi_assigned` gives it
            "patient.enrolled" | "patient.coi_assigned" => {
                let Some(d) = read::<PatientCoi>(details) else {
                    return false;
                };
                let patient = self.patients.entry(id).or_default();
                if let Some(code) = d.subject_code {
                    patient.0 = code.into_owned();
                }
                if let Some(coi) = d.coi {
                    patient.1 = Some(Some(coi.into_owned()));
                }
            }
            "patient.weight_recorded" => {
                let Some(d) = read::<WeightRecorded>(details) else {
                    return false;
                };
                self.weights.insert(
                    d.weight_id,
                    Weight {
                        weight_g: Some(d.weight_g),
                        measured_at: Some(ledger_time(d.measured_at)),
                        voided_at: Some(None),
                    },
                );
            }
            "patient.weight_voided" => {
                let Some(d) = read::<WeightVoided>(details) else {
                    return false;
                };
                self.weights.entry(d.weight_id).or_default().voided_at = Some(Some(at));
            }
            "donor.registered" => {
                let Some(d) = read::<DonorRegistered>(details) else {
                    return false;
                };
                self.donors
                    .insert(id, (d.code.into_owned(), Some("pending".into())));
            }
            // a signed correction of a typed field (issue 16): of what the
            // replay compares, a donor's code and a QC result's value
            "donor.corrected" => {
                let Some(d) = read::<Corrected>(details) else {
                    return false;
                };
                if d.field == "code"
                    && let Some(code) = d.new.as_str()
                {
                    self.donors.entry(id).or_default().0 = code.to_owned();
                }
            }
            "lot.qc_corrected" => {
                let Some(d) = read::<QcCorrected>(details) else {
                    return false;
                };
                let qc = self.qc.entry(d.qc_result_id).or_default();
                qc.value = Some(json_text(&d.value));
                qc.pass = Some(d.pass);
            }
            "donor.found_ineligible" => {
                let Some(d) = read::<Status>(details) else {
                    return false;
                };
                self.donors.entry(id).or_default().1 = d.to.map(Cow::into_owned);
            }
            "donor.eligibility_decided" => {
                let Some(d) = read::<EligibilityDecided>(details) else {
                    return false;
                };
                self.donors.entry(id).or_default().1 = Some(d.decision.into_owned());
            }
            "donor.screening_recorded" => {
                let Some(d) = read::<ScreeningRecorded>(details) else {
                    return false;
                };
                self.screening.insert(
                    d.screening_id,
                    Screening {
                        donor_id: id,
                        test: Some(d.test.into_owned()),
                        result: Some(d.result.into_owned()),
                        invalidated: Some(false),
                    },
                );
            }
            "donor.screening_invalidated" => {
                let Some(d) = read::<ScreeningInvalidated>(details) else {
                    return false;
                };
                self.screening
                    .entry(d.screening_id)
                    .or_default()
                    .invalidated = Some(true);
                if let Some(to) = d.eligibility_to {
                    self.donors.entry(id).or_default().1 = Some(to.into_owned());
                }
            }
            "storage.created" => {
                let Some(d) = read::<StorageCreated>(details) else {
                    return false;
                };
                self.storage.insert(
                    id,
                    Storage {
                        name: Some(d.name.into_owned()),
                        kind: Some(d.kind.into_owned()),
                        parent_id: Some(d.parent_id),
                    },
                );
            }
            "user.created" => {
                let Some(d) = read::<UserCreated>(details) else {
                    return false;
                };
                self.users.insert(
                    id,
                    User {
                        username: Some(d.username.into_owned()),
                        role: Some(d.role.into_owned()),
                        active: Some(true),
                    },
                );
            }
            "user.deactivated" => self.users.entry(id).or_default().active = Some(false),
            "user.reactivated" => self.users.entry(id).or_default().active = Some(true),
            _ => {}
        }
        true
    }
}

fn next_status(current: &Known<String>, action: DoseAction) -> Known<String> {
    let from: DoseStatus = current.as_deref()?.parse().ok()?;
    dose_transition(from, action)
        .ok()
        .map(|to| to.as_str().to_owned())
}

/// A JSON value as the tables keep it: strings bare, numbers as written.
fn json_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
