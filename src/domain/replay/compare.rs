//! Holding the tables against the replayed state: every row that differs,
//! either way, named in a report.

use std::fmt;

use chrono::SecondsFormat;

use super::*;
use crate::domain::event::ledger_time;

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

impl Replay {
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
