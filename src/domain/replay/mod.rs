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
//!
//! Its parts: `apply` reads each event's details into the replayed
//! state; `compare` holds that state against the rows of `tables` and
//! reports what differs.

mod apply;
mod compare;
mod tables;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use uuid::Uuid;

pub use compare::{Difference, MAX_NAMED, ReplayReport};
pub use tables::{
    DonorRow, DoseRow, InfusionRow, LotRow, PatientRow, QcRow, ScreeningRow, SignatureRow,
    StorageRow, Tables, UserRow, VialRow, WeightRow,
};

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
    /// Each patient's subject code and Chain of Identity identifier.
    patients: HashMap<Uuid, (String, Known<Option<String>>)>,
    signed: BTreeMap<i64, Signed>,
    unreadable: Vec<i64>,
}
