//! What a patient's withdrawal from the trial changes in their schedule:
//! follow-up is still welcome but no longer required. Visits not done
//! whose window had not closed by the withdrawal stay listed, marked
//! optional, and are never "to do" (nor a missed visit to report).

use chrono::NaiveDate;

use crate::domain::visits::{PatientVisit, VisitStatus};

/// Marks as optional every visit of a patient withdrawn on `withdrawn_on`
/// (site calendar) that was not done and whose window was still open that
/// day or later.
pub fn visits_after_withdrawal(visits: &mut [PatientVisit], withdrawn_on: NaiveDate) {
    for v in visits {
        if v.status != VisitStatus::Done && v.closes >= withdrawn_on {
            v.optional = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::visits::{default_schedule, patient_visits};
    use chrono::Duration;

    fn day(d: i64) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, 1).unwrap() + Duration::days(d)
    }

    #[test]
    fn visits_after_a_withdrawal_are_optional_and_not_to_do() {
        // week 4 (days 21-35) is due on day 28; withdrawn on day 25
        let mut visits = patient_visits(&default_schedule(), Some(day(0)), &[], day(28));
        assert!(visits.iter().any(|v| v.week == 4 && v.to_do()));
        visits_after_withdrawal(&mut visits, day(25));
        let week = |w: i32| visits.iter().find(|v| v.week == w).unwrap();
        // the baseline's window closed on Day 1, before the withdrawal
        assert!(!week(0).optional);
        assert!(week(4).optional && !week(4).to_do());
        assert!(week(52).optional);
        assert!(visits.iter().all(|v| !v.to_do()));
    }

    #[test]
    fn a_visit_done_stays_done_and_required() {
        use crate::domain::assessment::AssessmentKind::{Dlqi, Pasi};
        let recorded = [(Pasi, day(27)), (Dlqi, day(27))];
        let mut visits = patient_visits(&default_schedule(), Some(day(0)), &recorded, day(28));
        visits_after_withdrawal(&mut visits, day(20));
        let w4 = visits.iter().find(|v| v.week == 4).unwrap();
        assert_eq!(w4.status, VisitStatus::Done);
        assert!(!w4.optional);
    }
}
