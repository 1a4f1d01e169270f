//! Holding each patient's Chain of Identity identifier against the ledger:
//! the one its enrolment gave, or `patient.coi_assigned` for a patient
//! enrolled before identifiers existed. A patient whose enrolment event
//! predates identifiers and who has had none assigned yet is not compared
//! (the ledger does not know; the service gives one at its next start).

use super::*;

fn coi_text(coi: Option<&str>) -> String {
    coi.map_or_else(
        || "no Chain of Identity identifier".to_owned(),
        |c| format!("Chain of Identity identifier {c}"),
    )
}

impl Replay {
    pub(super) fn compare_patients(&self, tables: &Tables, report: &mut ReplayReport) {
        let mut seen = BTreeSet::new();
        for row in &tables.patients {
            report.rows_compared += 1;
            seen.insert(row.id);
            let table = coi_text(row.coi.as_deref());
            match self.patients.get(&row.id) {
                None => report.differ(absent_in_ledger(
                    "patient",
                    row.id,
                    &row.subject_code,
                    &table,
                )),
                Some((_, Some(coi))) if *coi != row.coi => report.differ(differs(
                    "patient",
                    row.id,
                    &row.subject_code,
                    &table,
                    &coi_text(coi.as_deref()),
                )),
                Some(_) => {}
            }
        }
        for (id, (code, _)) in &self.patients {
            if !seen.contains(id) {
                report.differ(absent_in_table("patient", *id, code));
            }
        }
    }
}
