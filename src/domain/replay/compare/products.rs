//! Holding the product's path against the ledger: vials, lots, doses,
//! infusions and weights.

use super::*;

impl Replay {
    pub(super) fn compare_vials(&self, tables: &Tables, report: &mut ReplayReport) {
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
    }

    pub(super) fn compare_lots(&self, tables: &Tables, report: &mut ReplayReport) {
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
    }

    pub(super) fn compare_doses(&self, tables: &Tables, report: &mut ReplayReport) {
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
    }

    pub(super) fn compare_infusions(&self, tables: &Tables, report: &mut ReplayReport) {
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
    }

    pub(super) fn compare_weights(&self, tables: &Tables, report: &mut ReplayReport) {
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
    }
}
