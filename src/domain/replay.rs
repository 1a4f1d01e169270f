//! The state the custody ledger implies, replayed event by event, and held
//! against the tables.
//!
//! The hash chain and its signed checkpoints prove the events were not
//! changed; they say nothing about the tables the service reads to decide
//! (a recalled vial set back to `available` by hand would be served as
//! available). Replaying the events gives what every row must say: each
//! vial's status, box and position; each lot's status; each dose's status
//! and vials; infusion times and volumes; weights and their voiding; QC
//! results and their investigations; donors' eligibility and screening;
//! storage units; accounts; and every signature's signer, meaning and
//! time. [`Replay::compare`] names each row that differs.
//!
//! Events carry what the replay needs in their details; where an event of
//! an older release lacks a field, the replay does not guess: the field is
//! unknown until a later event sets it, and unknown fields are not compared.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Deserialize;
use uuid::Uuid;

use crate::domain::event::ledger_time;
use crate::domain::lifecycle::{DoseAction, DoseStatus, InfusionStatus, dose_transition};

/// One event as the replay reads it.
#[derive(Debug, Clone, Copy)]
pub struct EventView<'a> {
    pub seq: i64,
    pub occurred_at: DateTime<Utc>,
    pub actor_id: Option<Uuid>,
    pub actor_username: &'a str,
    pub action: &'a str,
    pub subject_id: Uuid,
    pub details: &'a str,
    pub hash: &'a str,
}

/// Most differences a report names one by one; the rest are counted.
pub const MAX_NAMED: usize = 200;

/// A row whose table differs from what the ledger implies.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Difference {
    /// `vial`, `lot`, `dose`, `infusion`, `weight`, `qc_result`, `donor`,
    /// `screening_result`, `storage_unit`, `user` or `signature`.
    pub kind: &'static str,
    pub id: String,
    /// The row's code or name where it has one, else its id.
    pub name: String,
    /// What the table says (`absent` when it has no such row).
    pub table: String,
    /// What the ledger says (`absent` when no event made the row).
    pub ledger: String,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: table says {}, ledger says {}",
            self.kind.replace('_', " "),
            self.name,
            self.table,
            self.ledger
        )
    }
}

/// What the replay found.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct ReplayReport {
    /// Rows compared, all kinds together.
    pub rows_compared: u64,
    /// How many rows differ (all of them, named or not).
    pub differences: u64,
    /// The first [`MAX_NAMED`] differences.
    pub named: Vec<Difference>,
    /// Events whose details the replay could not read (their effects are
    /// unknown, so the rows they touch are not compared).
    pub unreadable_events: Vec<i64>,
}

impl ReplayReport {
    pub fn is_clean(&self) -> bool {
        self.differences == 0 && self.unreadable_events.is_empty()
    }

    fn differ(&mut self, difference: Difference) {
        self.differences += 1;
        if self.named.len() < MAX_NAMED {
            self.named.push(difference);
        }
    }
}

/// A field the ledger may not know (an older event did not carry it).
type Known<T> = Option<T>;

#[derive(Debug, Clone, Default)]
struct Vial {
    code: String,
    status: Known<String>,
    /// `None` outside storage.
    place: Known<Option<(Uuid, String)>>,
    labels_issued: Known<i64>,
}

#[derive(Debug, Clone, Default)]
struct Dose {
    code: String,
    status: Known<String>,
    /// The vials the dose holds now (replaced ones left).
    vials: Known<BTreeSet<Uuid>>,
}

#[derive(Debug, Clone, Default)]
struct Infusion {
    status: Known<String>,
    started_at: Known<DateTime<Utc>>,
    ended_at: Known<Option<DateTime<Utc>>>,
    volume_infused_ul: Known<Option<i64>>,
}

#[derive(Debug, Clone, Default)]
struct Weight {
    weight_g: Known<i64>,
    measured_at: Known<DateTime<Utc>>,
    voided_at: Known<Option<DateTime<Utc>>>,
}

#[derive(Debug, Clone, Default)]
struct Qc {
    lot_id: Uuid,
    test: Known<String>,
    value: Known<String>,
    pass: Known<bool>,
    investigation: Known<Option<String>>,
}

#[derive(Debug, Clone, Default)]
struct Screening {
    donor_id: Uuid,
    test: Known<String>,
    result: Known<String>,
    invalidated: Known<bool>,
}

#[derive(Debug, Clone, Default)]
struct Storage {
    name: Known<String>,
    kind: Known<String>,
    parent_id: Known<Option<Uuid>>,
}

#[derive(Debug, Clone, Default)]
struct User {
    username: Known<String>,
    role: Known<String>,
    active: Known<bool>,
}

/// A signed event: who the ledger says signed, what for, when.
#[derive(Debug, Clone)]
struct Signed {
    actor_id: Option<Uuid>,
    actor_username: String,
    signer: Known<String>,
    meaning: Known<String>,
    at: DateTime<Utc>,
    action: String,
    subject_id: Uuid,
    hash: String,
}

/// The state the ledger implies, built one event at a time.
#[derive(Debug, Default)]
pub struct Replay {
    vials: HashMap<Uuid, Vial>,
    vial_codes: HashMap<String, Uuid>,
    lots: HashMap<Uuid, (String, Known<String>)>,
    doses: HashMap<Uuid, Dose>,
    infusions: HashMap<Uuid, Infusion>,
    weights: HashMap<Uuid, Weight>,
    qc: HashMap<Uuid, Qc>,
    donors: HashMap<Uuid, (String, Known<String>)>,
    screening: HashMap<Uuid, Screening>,
    storage: HashMap<Uuid, Storage>,
    users: HashMap<Uuid, User>,
    signed: BTreeMap<i64, Signed>,
    unreadable: Vec<i64>,
}

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

    /// Holds the tables against the replayed state and names every row
    /// that differs, either way (a row no event made, an event's row that
    /// is gone).
    pub fn compare(&self, tables: &Tables) -> ReplayReport {
        let mut report = ReplayReport {
            unreadable_events: self.unreadable.clone(),
            ..ReplayReport::default()
        };
        let box_name = |place: &Option<(Uuid, String)>| match place {
            Some((box_id, position)) => {
                let name = tables
                    .storage
                    .iter()
                    .find(|s| s.id == *box_id)
                    .map_or_else(|| box_id.to_string(), |s| s.name.clone());
                format!("box {name} position {position}")
            }
            None => "not in storage".to_owned(),
        };

        let mut seen = BTreeSet::new();
        for row in &tables.vials {
            report.rows_compared += 1;
            seen.insert(row.id);
            let name = &row.code;
            let Some(vial) = self.vials.get(&row.id) else {
                report.differ(absent_in_ledger("vial", row.id, name, &row.status));
                continue;
            };
            if let Some(status) = &vial.status
                && *status != row.status
            {
                report.differ(differs("vial", row.id, name, &row.status, status));
            }
            if let Some(place) = &vial.place {
                let table = row.box_id.zip(row.position.clone());
                if table != *place {
                    report.differ(differs(
                        "vial",
                        row.id,
                        name,
                        &box_name(&table),
                        &box_name(place),
                    ));
                }
            }
            if let Some(labels) = vial.labels_issued
                && labels != row.labels_issued
            {
                report.differ(differs(
                    "vial",
                    row.id,
                    name,
                    &format!("{} labels issued", row.labels_issued),
                    &format!("{labels} labels issued"),
                ));
            }
        }
        for (id, vial) in &self.vials {
            if !seen.contains(id) && !vial.code.is_empty() {
                report.differ(absent_in_table("vial", *id, &vial.code));
            }
        }

        let mut seen = BTreeSet::new();
        for row in &tables.lots {
            report.rows_compared += 1;
            seen.insert(row.id);
            match self.lots.get(&row.id) {
                None => report.differ(absent_in_ledger("lot", row.id, &row.code, &row.status)),
                Some((_, Some(status))) if *status != row.status => {
                    report.differ(differs("lot", row.id, &row.code, &row.status, status));
                }
                Some(_) => {}
            }
        }
        for (id, (code, _)) in &self.lots {
            if !seen.contains(id) && !code.is_empty() {
                report.differ(absent_in_table("lot", *id, code));
            }
        }

        let code_of = |id: &Uuid| {
            tables
                .vials
                .iter()
                .find(|v| v.id == *id)
                .map_or_else(|| id.to_string(), |v| v.code.clone())
        };
        let vial_list = |ids: &BTreeSet<Uuid>| {
            let mut codes: Vec<String> = ids.iter().map(code_of).collect();
            codes.sort();
            if codes.is_empty() {
                "no vials".to_owned()
            } else {
                format!("vials {}", codes.join(", "))
            }
        };
        let mut seen = BTreeSet::new();
        for row in &tables.doses {
            report.rows_compared += 1;
            seen.insert(row.id);
            let Some(dose) = self.doses.get(&row.id) else {
                report.differ(absent_in_ledger("dose", row.id, &row.code, &row.status));
                continue;
            };
            if let Some(status) = &dose.status
                && *status != row.status
            {
                report.differ(differs("dose", row.id, &row.code, &row.status, status));
            }
            if let Some(vials) = &dose.vials
                && *vials != row.vials
            {
                report.differ(differs(
                    "dose",
                    row.id,
                    &row.code,
                    &vial_list(&row.vials),
                    &vial_list(vials),
                ));
            }
        }
        for (id, dose) in &self.doses {
            if !seen.contains(id) && !dose.code.is_empty() {
                report.differ(absent_in_table("dose", *id, &dose.code));
            }
        }

        let mut seen = BTreeSet::new();
        for row in &tables.infusions {
            report.rows_compared += 1;
            seen.insert(row.id);
            let name = &row.name;
            let Some(infusion) = self.infusions.get(&row.id) else {
                report.differ(absent_in_ledger("infusion", row.id, name, &row.status));
                continue;
            };
            if let Some(status) = &infusion.status
                && *status != row.status
            {
                report.differ(differs("infusion", row.id, name, &row.status, status));
            }
            if let Some(started) = infusion.started_at
                && started != ledger_time(row.started_at)
            {
                report.differ(differs(
                    "infusion",
                    row.id,
                    name,
                    &format!("started {}", time(row.started_at)),
                    &format!("started {}", time(started)),
                ));
            }
            if let Some(ended) = infusion.ended_at
                && ended != row.ended_at.map(ledger_time)
            {
                report.differ(differs(
                    "infusion",
                    row.id,
                    name,
                    &ended_text(row.ended_at),
                    &ended_text(ended),
                ));
            }
            if let Some(volume) = infusion.volume_infused_ul
                && volume != row.volume_infused_ul
            {
                report.differ(differs(
                    "infusion",
                    row.id,
                    name,
                    &volume_text(row.volume_infused_ul),
                    &volume_text(volume),
                ));
            }
        }
        for id in self.infusions.keys() {
            if !seen.contains(id) {
                report.differ(absent_in_table("infusion", *id, &id.to_string()));
            }
        }

        let mut seen = BTreeSet::new();
        for row in &tables.weights {
            report.rows_compared += 1;
            seen.insert(row.id);
            let name = &row.name;
            let Some(weight) = self.weights.get(&row.id) else {
                report.differ(absent_in_ledger(
                    "weight",
                    row.id,
                    name,
                    &format!("{} g", row.weight_g),
                ));
                continue;
            };
            if let Some(grams) = weight.weight_g
                && grams != row.weight_g
            {
                report.differ(differs(
                    "weight",
                    row.id,
                    name,
                    &format!("{} g", row.weight_g),
                    &format!("{grams} g"),
                ));
            }
            if let Some(measured) = weight.measured_at
                && measured != ledger_time(row.measured_at)
            {
                report.differ(differs(
                    "weight",
                    row.id,
                    name,
                    &format!("measured {}", time(row.measured_at)),
                    &format!("measured {}", time(measured)),
                ));
            }
            if let Some(voided) = weight.voided_at
                && voided != row.voided_at.map(ledger_time)
            {
                report.differ(differs(
                    "weight",
                    row.id,
                    name,
                    &voided_text(row.voided_at),
                    &voided_text(voided),
                ));
            }
        }
        for id in self.weights.keys() {
            if !seen.contains(id) {
                report.differ(absent_in_table("weight", *id, &id.to_string()));
            }
        }

        let mut seen = BTreeSet::new();
        for row in &tables.qc {
            report.rows_compared += 1;
            seen.insert(row.id);
            let name = &row.name;
            let table = qc_text(
                &row.test,
                &row.value,
                row.pass,
                row.investigation.as_deref(),
            );
            let Some(qc) = self.qc.get(&row.id) else {
                report.differ(absent_in_ledger("qc_result", row.id, name, &table));
                continue;
            };
            let ledger = qc_text(
                qc.test.as_deref().unwrap_or(&row.test),
                qc.value.as_deref().unwrap_or(&row.value),
                qc.pass.unwrap_or(row.pass),
                qc.investigation
                    .clone()
                    .unwrap_or_else(|| row.investigation.clone())
                    .as_deref(),
            );
            if table != ledger {
                report.differ(differs("qc_result", row.id, name, &table, &ledger));
            }
        }
        for (id, qc) in &self.qc {
            if !seen.contains(id) {
                let lot = self.lots.get(&qc.lot_id).map_or("", |(code, _)| code);
                let name = format!("{} of lot {lot}", qc.test.as_deref().unwrap_or("result"));
                report.differ(absent_in_table("qc_result", *id, &name));
            }
        }

        let mut seen = BTreeSet::new();
        for row in &tables.donors {
            report.rows_compared += 1;
            seen.insert(row.id);
            match self.donors.get(&row.id) {
                None => report.differ(absent_in_ledger(
                    "donor",
                    row.id,
                    &row.code,
                    &row.eligibility,
                )),
                Some((_, Some(eligibility))) if *eligibility != row.eligibility => report.differ(
                    differs("donor", row.id, &row.code, &row.eligibility, eligibility),
                ),
                Some(_) => {}
            }
        }
        for (id, (code, _)) in &self.donors {
            if !seen.contains(id) {
                report.differ(absent_in_table("donor", *id, code));
            }
        }

        let mut seen = BTreeSet::new();
        for row in &tables.screening {
            report.rows_compared += 1;
            seen.insert(row.id);
            let name = &row.name;
            let table = screening_text(&row.test, &row.result, row.invalidated);
            let Some(result) = self.screening.get(&row.id) else {
                report.differ(absent_in_ledger("screening_result", row.id, name, &table));
                continue;
            };
            let ledger = screening_text(
                result.test.as_deref().unwrap_or(&row.test),
                result.result.as_deref().unwrap_or(&row.result),
                result.invalidated.unwrap_or(row.invalidated),
            );
            if table != ledger {
                report.differ(differs("screening_result", row.id, name, &table, &ledger));
            }
        }
        for (id, result) in &self.screening {
            if !seen.contains(id) {
                let donor = self
                    .donors
                    .get(&result.donor_id)
                    .map_or("", |(code, _)| code);
                let name = format!(
                    "{} of donor {donor}",
                    result.test.as_deref().unwrap_or("result")
                );
                report.differ(absent_in_table("screening_result", *id, &name));
            }
        }

        let mut seen = BTreeSet::new();
        for row in &tables.storage {
            report.rows_compared += 1;
            seen.insert(row.id);
            let table = storage_text(&row.name, &row.kind, row.parent_id);
            let Some(unit) = self.storage.get(&row.id) else {
                report.differ(absent_in_ledger("storage_unit", row.id, &row.name, &table));
                continue;
            };
            let ledger = storage_text(
                unit.name.as_deref().unwrap_or(&row.name),
                unit.kind.as_deref().unwrap_or(&row.kind),
                unit.parent_id.unwrap_or(row.parent_id),
            );
            if table != ledger {
                report.differ(differs("storage_unit", row.id, &row.name, &table, &ledger));
            }
        }
        for (id, unit) in &self.storage {
            if !seen.contains(id) {
                let name = unit.name.clone().unwrap_or_else(|| id.to_string());
                report.differ(absent_in_table("storage_unit", *id, &name));
            }
        }

        let mut seen = BTreeSet::new();
        for row in &tables.users {
            report.rows_compared += 1;
            seen.insert(row.id);
            let table = user_text(&row.username, &row.role, row.active);
            let Some(user) = self.users.get(&row.id) else {
                report.differ(absent_in_ledger("user", row.id, &row.username, &table));
                continue;
            };
            let ledger = user_text(
                user.username.as_deref().unwrap_or(&row.username),
                user.role.as_deref().unwrap_or(&row.role),
                user.active.unwrap_or(row.active),
            );
            if table != ledger {
                report.differ(differs("user", row.id, &row.username, &table, &ledger));
            }
        }
        for (id, user) in &self.users {
            if !seen.contains(id) {
                let name = user.username.clone().unwrap_or_else(|| id.to_string());
                report.differ(absent_in_table("user", *id, &name));
            }
        }

        let mut seen = BTreeSet::new();
        for row in &tables.signatures {
            report.rows_compared += 1;
            let name = format!("on event {}", row.event_seq);
            let table = signature_text(
                &row.signer_username,
                row.signer_id,
                &row.meaning,
                row.signed_at,
                &row.action,
                row.subject_id,
                &row.event_hash,
            );
            if !seen.insert(row.event_seq) {
                report.differ(differs(
                    "signature",
                    row.id,
                    &name,
                    "a second signature row for the event",
                    "one signature",
                ));
                continue;
            }
            let Some(signed) = self.signed.get(&row.event_seq) else {
                report.differ(differs(
                    "signature",
                    row.id,
                    &name,
                    &table,
                    "no signature on that event",
                ));
                continue;
            };
            let ledger = signature_text(
                signed.signer.as_deref().unwrap_or(&signed.actor_username),
                signed.actor_id.unwrap_or_default(),
                signed.meaning.as_deref().unwrap_or(&row.meaning),
                signed.at,
                &signed.action,
                signed.subject_id,
                &signed.hash,
            );
            // the manifestation and the event's actor must agree too
            let manifested_by_actor = signed
                .signer
                .as_deref()
                .is_none_or(|s| s == signed.actor_username);
            if table != ledger || !manifested_by_actor {
                report.differ(differs("signature", row.id, &name, &table, &ledger));
            }
        }
        for (seq, signed) in &self.signed {
            if !seen.contains(seq) {
                report.differ(Difference {
                    kind: "signature",
                    id: seq.to_string(),
                    name: format!("on event {seq}"),
                    table: "absent".into(),
                    ledger: format!(
                        "signed by {} ({})",
                        signed.signer.as_deref().unwrap_or(&signed.actor_username),
                        signed.meaning.as_deref().unwrap_or("meaning unreadable")
                    ),
                });
            }
        }
        report
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

fn time(t: DateTime<Utc>) -> String {
    ledger_time(t).to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn ended_text(ended: Option<DateTime<Utc>>) -> String {
    ended.map_or_else(|| "not ended".into(), |t| format!("ended {}", time(t)))
}

fn voided_text(voided: Option<DateTime<Utc>>) -> String {
    voided.map_or_else(|| "not voided".into(), |t| format!("voided {}", time(t)))
}

fn volume_text(volume: Option<i64>) -> String {
    volume.map_or_else(|| "no volume infused".into(), |v| format!("{v} µL infused"))
}

fn qc_text(test: &str, value: &str, pass: bool, investigation: Option<&str>) -> String {
    let verdict = if pass { "pass" } else { "fail" };
    match investigation {
        Some(conclusion) => format!("{test} {value} {verdict}, investigated: {conclusion}"),
        None => format!("{test} {value} {verdict}"),
    }
}

fn screening_text(test: &str, result: &str, invalidated: bool) -> String {
    if invalidated {
        format!("{test} {result}, invalidated")
    } else {
        format!("{test} {result}")
    }
}

fn storage_text(name: &str, kind: &str, parent: Option<Uuid>) -> String {
    match parent {
        Some(parent) => format!("{kind} {name} in {parent}"),
        None => format!("{kind} {name}"),
    }
}

fn user_text(username: &str, role: &str, active: bool) -> String {
    let state = if active { "active" } else { "deactivated" };
    format!("{username}, {role}, {state}")
}

fn signature_text(
    signer: &str,
    signer_id: Uuid,
    meaning: &str,
    at: DateTime<Utc>,
    action: &str,
    subject_id: Uuid,
    hash: &str,
) -> String {
    format!(
        "signed by {signer} ({signer_id}) meaning \"{meaning}\" at {} for {action} of {subject_id}, event hash {hash}",
        time(at)
    )
}

fn differs(kind: &'static str, id: Uuid, name: &str, table: &str, ledger: &str) -> Difference {
    Difference {
        kind,
        id: id.to_string(),
        name: name.to_owned(),
        table: table.to_owned(),
        ledger: ledger.to_owned(),
    }
}

fn absent_in_ledger(kind: &'static str, id: Uuid, name: &str, table: &str) -> Difference {
    differs(kind, id, name, table, "absent (no event made it)")
}

fn absent_in_table(kind: &'static str, id: Uuid, name: &str) -> Difference {
    differs(kind, id, name, "absent", "it exists")
}

/// The tables, as far as the replay compares them.
#[derive(Debug, Default)]
pub struct Tables {
    pub vials: Vec<VialRow>,
    pub lots: Vec<LotRow>,
    pub doses: Vec<DoseRow>,
    pub infusions: Vec<InfusionRow>,
    pub weights: Vec<WeightRow>,
    pub qc: Vec<QcRow>,
    pub donors: Vec<DonorRow>,
    pub screening: Vec<ScreeningRow>,
    pub storage: Vec<StorageRow>,
    pub users: Vec<UserRow>,
    pub signatures: Vec<SignatureRow>,
}

#[derive(Debug, Clone)]
pub struct VialRow {
    pub id: Uuid,
    pub code: String,
    pub status: String,
    pub box_id: Option<Uuid>,
    pub position: Option<String>,
    pub labels_issued: i64,
}

#[derive(Debug, Clone)]
pub struct LotRow {
    pub id: Uuid,
    pub code: String,
    pub status: String,
}

#[derive(Debug, Clone)]
pub struct DoseRow {
    pub id: Uuid,
    /// The patient's subject code and the dose code.
    pub code: String,
    pub status: String,
    /// The vials it holds now (`dose_vials` without `removed_at`).
    pub vials: BTreeSet<Uuid>,
}

#[derive(Debug, Clone)]
pub struct InfusionRow {
    pub id: Uuid,
    /// Subject code and infusion number.
    pub name: String,
    pub status: String,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub volume_infused_ul: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct WeightRow {
    pub id: Uuid,
    pub name: String,
    pub weight_g: i64,
    pub measured_at: DateTime<Utc>,
    pub voided_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct QcRow {
    pub id: Uuid,
    pub name: String,
    pub test: String,
    pub value: String,
    pub pass: bool,
    pub investigation: Option<String>,
}

#[derive(Debug, Clone)]
pub struct DonorRow {
    pub id: Uuid,
    pub code: String,
    pub eligibility: String,
}

#[derive(Debug, Clone)]
pub struct ScreeningRow {
    pub id: Uuid,
    pub name: String,
    pub test: String,
    pub result: String,
    pub invalidated: bool,
}

#[derive(Debug, Clone)]
pub struct StorageRow {
    pub id: Uuid,
    pub name: String,
    pub kind: String,
    pub parent_id: Option<Uuid>,
}

#[derive(Debug, Clone)]
pub struct UserRow {
    pub id: Uuid,
    pub username: String,
    pub role: String,
    pub active: bool,
}

#[derive(Debug, Clone)]
pub struct SignatureRow {
    pub id: Uuid,
    pub signer_id: Uuid,
    pub signer_username: String,
    pub meaning: String,
    pub signed_at: DateTime<Utc>,
    pub action: String,
    pub subject_id: Uuid,
    pub event_seq: i64,
    pub event_hash: String,
}
