//! Holding the records around the product against the ledger: QC
//! results, donors and their screening, storage units, accounts and
//! signatures.

use super::*;

impl Replay {
    pub(super) fn compare_qc(&self, tables: &Tables, report: &mut ReplayReport) {
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
    }

    pub(super) fn compare_donors(&self, tables: &Tables, report: &mut ReplayReport) {
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
    }

    pub(super) fn compare_screening(&self, tables: &Tables, report: &mut ReplayReport) {
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
    }

    pub(super) fn compare_storage(&self, tables: &Tables, report: &mut ReplayReport) {
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
    }

    pub(super) fn compare_users(&self, tables: &Tables, report: &mut ReplayReport) {
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
    }

    pub(super) fn compare_signatures(&self, tables: &Tables, report: &mut ReplayReport) {
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
    }
}
