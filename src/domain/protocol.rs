//! The trial's numbers as data: dose per kilogram, infusion count and
//! window, tolerances, post-thaw rules, weight rules, eligibility and the QC
//! release specification. A change is a new, signed version; the rules read
//! the current one.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::lifecycle::string_enum;
use crate::domain::qc::{SpecEntry, Specification};
use crate::domain::visits::ScheduledVisit;

string_enum!(
    /// Whether a criterion must hold (`true`) or must not (`false`).
    CriterionKind {
        Inclusion => "inclusion",
        Exclusion => "exclusion",
    }
);

/// One entry of the eligibility checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Criterion {
    /// The key an enrolment answers under.
    pub key: String,
    pub kind: CriterionKind,
    /// The criterion as the protocol states it.
    pub text: String,
}

/// The trial's rules. Integers throughout: cells, grams, days, minutes,
/// whole percent; PASI in tenths.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Protocol {
    /// e.g. `NCT02491658`.
    pub trial_id: String,
    pub title: String,
    /// Viable cells per kilogram of body weight per infusion.
    pub dose_cells_per_kg: i64,
    /// Infusions per patient.
    pub infusions: i32,
    /// The window, in the site's calendar days: Day 1 is the date of the
    /// first infusion, and the last may be given on Day `window_days` at
    /// the latest (56: six infusions "within 8 weeks").
    pub window_days: i32,
    /// Fewest calendar days between two consecutive infusions (`422
    /// too_soon` before then).
    #[serde(default = "defaults::min_interval_days")]
    pub min_interval_days: i32,
    /// The accepted dose is the target ± this percentage.
    pub dose_tolerance_pct: i32,
    /// Share of a vial's labelled cells expected viable after thaw.
    pub post_thaw_recovery_pct: i32,
    /// A thawed vial below this viability fails.
    pub min_viability_pct: i32,
    /// A vial's viable cells after thaw (viable cells/mL × its volume)
    /// outside this share of the cells frozen in it is implausible (a
    /// typing slip of ten, a wrong dilution) and must be confirmed.
    #[serde(default = "defaults::plausible_recovery_min_pct")]
    pub plausible_recovery_min_pct: i32,
    #[serde(default = "defaults::plausible_recovery_max_pct")]
    pub plausible_recovery_max_pct: i32,
    /// A vial's viable cells/mL this many percent away from the median of
    /// the dose's vials is implausible too and must be confirmed.
    #[serde(default = "defaults::count_spread_max_pct")]
    pub count_spread_max_pct: i32,
    /// The pharmacist who verifies a dose is not the one who counted it.
    #[serde(default = "defaults::independent_verification")]
    pub independent_verification: bool,
    /// Minutes from thaw within which the infusion must start.
    pub post_thaw_shelf_life_minutes: i32,
    /// A dose is computed from a weight measured at most this many days ago.
    pub weight_valid_days: i32,
    pub weight_min_g: i64,
    pub weight_max_g: i64,
    /// A weight this many percent away from the previous one must be confirmed.
    pub weight_change_confirm_pct: i32,
    /// A previous weight measured within this many days is compared at
    /// `weight_change_confirm_pct`; an older one (or the enrolment weight,
    /// when older) at `weight_change_confirm_pct_older`.
    pub weight_change_lookback_days: i32,
    #[serde(default = "defaults::weight_change_confirm_pct_older")]
    pub weight_change_confirm_pct_older: i32,
    /// A body-mass index outside this range (with the enrolment height)
    /// must be confirmed.
    #[serde(default = "defaults::bmi_min")]
    pub bmi_min: i32,
    #[serde(default = "defaults::bmi_max")]
    pub bmi_max: i32,
    /// A volume infused more than this many percent away from the prepared
    /// volume must be confirmed with a reason.
    #[serde(default = "defaults::infused_volume_tolerance_pct")]
    pub infused_volume_tolerance_pct: i32,
    pub age_min_years: i32,
    pub age_max_years: i32,
    /// Lowest baseline PASI at enrolment, in tenths (80 = 8.0).
    pub baseline_pasi_min_tenths: i32,
    pub criteria: Vec<Criterion>,
    /// The QC release specification.
    pub qc_specification: Vec<SpecEntry>,
    /// The assessment visits (PASI and DLQI), in weeks after Day 1; a
    /// version recorded before the schedule was kept reads as the default
    /// (`visits::default_schedule`).
    #[serde(default = "crate::domain::visits::default_schedule")]
    pub visit_schedule: Vec<ScheduledVisit>,
}

impl Protocol {
    /// The seed trial: NCT02491658, UC-MSCs for moderate-to-severe psoriasis
    /// vulgaris.
    pub fn seed() -> Protocol {
        let criterion = |key: &str, kind, text: &str| Criterion {
            key: key.to_owned(),
            kind,
            text: text.to_owned(),
        };
        use CriterionKind::{Exclusion, Inclusion};
        Protocol {
            trial_id: "NCT02491658".into(),
            title: "Umbilical cord mesenchymal stem cells for psoriasis vulgaris".into(),
            dose_cells_per_kg: 1_000_000,
            infusions: 6,
            window_days: 56,
            min_interval_days: defaults::min_interval_days(),
            dose_tolerance_pct: 10,
            post_thaw_recovery_pct: 80,
            min_viability_pct: 70,
            plausible_recovery_min_pct: defaults::plausible_recovery_min_pct(),
            plausible_recovery_max_pct: defaults::plausible_recovery_max_pct(),
            count_spread_max_pct: defaults::count_spread_max_pct(),
            independent_verification: defaults::independent_verification(),
            post_thaw_shelf_life_minutes: 180,
            weight_valid_days: 7,
            weight_min_g: 30_000,
            weight_max_g: 250_000,
            weight_change_confirm_pct: 10,
            weight_change_lookback_days: 30,
            weight_change_confirm_pct_older: defaults::weight_change_confirm_pct_older(),
            bmi_min: defaults::bmi_min(),
            bmi_max: defaults::bmi_max(),
            infused_volume_tolerance_pct: defaults::infused_volume_tolerance_pct(),
            age_min_years: 18,
            age_max_years: 65,
            baseline_pasi_min_tenths: 80,
            criteria: vec![
                criterion(
                    "stable_psoriasis_vulgaris_6_months",
                    Inclusion,
                    "Stable plaque psoriasis vulgaris for at least 6 months",
                ),
                criterion(
                    "active_despite_treatment",
                    Inclusion,
                    "Active disease despite topical treatment",
                ),
                criterion(
                    "no_other_psoriasis_treatment_during_study",
                    Inclusion,
                    "Agrees to no other psoriasis treatment during the study",
                ),
                criterion(
                    "informed_consent",
                    Inclusion,
                    "Written informed consent given",
                ),
                criterion(
                    "other_psoriasis_type",
                    Exclusion,
                    "Guttate, erythrodermic or pustular psoriasis",
                ),
                criterion(
                    "other_disease",
                    Exclusion,
                    "Another skin disease that could interfere with assessment",
                ),
                criterion(
                    "systemic_treatment_last_4_weeks",
                    Exclusion,
                    "Systemic treatment or phototherapy in the last 4 weeks",
                ),
                criterion(
                    "topical_treatment_last_2_weeks",
                    Exclusion,
                    "Topical treatment in the last 2 weeks",
                ),
                criterion(
                    "uncontrolled_active_infection",
                    Exclusion,
                    "Uncontrolled active infection",
                ),
                criterion(
                    "hbv_hcv_or_hiv",
                    Exclusion,
                    "Hepatitis B or C, or HIV infection",
                ),
                criterion(
                    "severe_systemic_disease_or_malignancy",
                    Exclusion,
                    "Severe heart, liver, kidney or other systemic disease, or a malignancy",
                ),
                criterion(
                    "pregnant_lactating_or_planning",
                    Exclusion,
                    "Pregnant, lactating, or planning a pregnancy",
                ),
                criterion(
                    "cannot_be_followed_up",
                    Exclusion,
                    "Cannot be followed up for the study's duration",
                ),
            ],
            qc_specification: Specification::seed_entries(),
            visit_schedule: crate::domain::visits::default_schedule(),
        }
    }

    /// Checks that the numbers make sense together; the error names the
    /// first field that does not.
    pub fn check(&self) -> Result<(), ProtocolInvalid> {
        let bad = |field: &'static str, message: &str| {
            Err(ProtocolInvalid {
                field,
                message: message.to_owned(),
            })
        };
        if self.trial_id.trim().is_empty() || self.trial_id.len() > 40 {
            return bad("trial_id", "1 to 40 characters");
        }
        if self.title.trim().is_empty() || self.title.chars().count() > 300 {
            return bad("title", "1 to 300 characters");
        }
        let ranges: [(&'static str, i64, i64, i64); 21] = [
            (
                "dose_cells_per_kg",
                self.dose_cells_per_kg,
                1,
                10_000_000_000,
            ),
            ("infusions", self.infusions.into(), 1, 100),
            ("window_days", self.window_days.into(), 1, 3650),
            ("min_interval_days", self.min_interval_days.into(), 0, 365),
            (
                "plausible_recovery_min_pct",
                self.plausible_recovery_min_pct.into(),
                0,
                100,
            ),
            (
                "plausible_recovery_max_pct",
                self.plausible_recovery_max_pct.into(),
                100,
                1000,
            ),
            (
                "count_spread_max_pct",
                self.count_spread_max_pct.into(),
                1,
                100,
            ),
            (
                "weight_change_confirm_pct_older",
                self.weight_change_confirm_pct_older.into(),
                1,
                100,
            ),
            ("bmi_min", self.bmi_min.into(), 5, 100),
            ("bmi_max", self.bmi_max.into(), 5, 200),
            (
                "infused_volume_tolerance_pct",
                self.infused_volume_tolerance_pct.into(),
                0,
                100,
            ),
            ("dose_tolerance_pct", self.dose_tolerance_pct.into(), 0, 50),
            (
                "post_thaw_recovery_pct",
                self.post_thaw_recovery_pct.into(),
                1,
                100,
            ),
            ("min_viability_pct", self.min_viability_pct.into(), 0, 100),
            (
                "post_thaw_shelf_life_minutes",
                self.post_thaw_shelf_life_minutes.into(),
                1,
                7 * 24 * 60,
            ),
            ("weight_valid_days", self.weight_valid_days.into(), 0, 365),
            ("weight_min_g", self.weight_min_g, 500, 500_000),
            ("weight_max_g", self.weight_max_g, 500, 500_000),
            (
                "weight_change_confirm_pct",
                self.weight_change_confirm_pct.into(),
                1,
                100,
            ),
            (
                "weight_change_lookback_days",
                self.weight_change_lookback_days.into(),
                1,
                365,
            ),
            (
                "baseline_pasi_min_tenths",
                self.baseline_pasi_min_tenths.into(),
                0,
                720,
            ),
        ];
        for (field, value, min, max) in ranges {
            if !(min..=max).contains(&value) {
                return bad(field, &format!("{min} to {max}"));
            }
        }
        if self.bmi_min >= self.bmi_max {
            return bad("bmi_max", "above bmi_min");
        }
        if self.min_interval_days.saturating_mul(self.infusions - 1) > self.window_days - 1 {
            return bad(
                "min_interval_days",
                "every infusion must fit in the window at this interval",
            );
        }
        if self.weight_min_g >= self.weight_max_g {
            return bad("weight_max_g", "above weight_min_g");
        }
        if !(0..=120).contains(&self.age_min_years) || self.age_max_years < self.age_min_years {
            return bad(
                "age_max_years",
                "ages 0 to 120, the maximum not below the minimum",
            );
        }
        let mut keys = std::collections::HashSet::new();
        for c in &self.criteria {
            let key_ok = !c.key.is_empty()
                && c.key.len() <= 64
                && c.key
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !key_ok {
                return bad(
                    "criteria",
                    &format!("{:?} is not a key (a-z, 0-9, _)", c.key),
                );
            }
            if !keys.insert(c.key.as_str()) {
                return bad("criteria", &format!("{} is listed twice", c.key));
            }
        }
        Specification::from_entries(&self.qc_specification).map_err(|message| ProtocolInvalid {
            field: "qc_specification",
            message,
        })?;
        crate::domain::visits::check_schedule(&self.visit_schedule)?;
        Ok(())
    }

    /// The infusion schedule as a rule people read, e.g. "Day 1 is the date
    /// of the first infusion in Asia/Shanghai; at most 6 infusions, each at
    /// least 7 days after the one before, the last on Day 56 at the latest."
    pub fn schedule_rule(&self, zone: &str) -> String {
        format!(
            "Day 1 is the date of the first infusion in {zone}; at most {} infusions, each at least {} days after the one before, the last on Day {} at the latest.",
            self.infusions, self.min_interval_days, self.window_days
        )
    }

    pub fn specification(&self) -> Specification {
        Specification::from_entries(&self.qc_specification)
            .unwrap_or_else(|_| Specification::seed())
    }
}

/// Values of the fields a protocol record written before them lacks.
mod defaults {
    pub fn min_interval_days() -> i32 {
        7
    }
    pub fn plausible_recovery_min_pct() -> i32 {
        40
    }
    pub fn plausible_recovery_max_pct() -> i32 {
        110
    }
    pub fn count_spread_max_pct() -> i32 {
        30
    }
    pub fn independent_verification() -> bool {
        true
    }
    pub fn weight_change_confirm_pct_older() -> i32 {
        20
    }
    pub fn bmi_min() -> i32 {
        12
    }
    pub fn bmi_max() -> i32 {
        60
    }
    pub fn infused_volume_tolerance_pct() -> i32 {
        10
    }
}

/// A protocol field that does not make sense, with why.
pub type ProtocolInvalid = crate::domain::invalid::Invalid;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_is_the_trial_of_the_design() {
        let p = Protocol::seed();
        assert_eq!(p.check(), Ok(()));
        assert_eq!(p.dose_cells_per_kg, 1_000_000);
        assert_eq!((p.infusions, p.window_days), (6, 56));
        assert_eq!(p.min_interval_days, 7);
        assert_eq!(p.post_thaw_shelf_life_minutes, 180);
        assert_eq!(
            (p.plausible_recovery_min_pct, p.plausible_recovery_max_pct),
            (40, 110)
        );
        assert_eq!(p.count_spread_max_pct, 30);
        assert!(p.independent_verification);
        assert_eq!((p.bmi_min, p.bmi_max), (12, 60));
        assert_eq!(p.weight_change_confirm_pct_older, 20);
        assert_eq!(p.infused_volume_tolerance_pct, 10);
        assert_eq!(
            p.schedule_rule("Asia/Shanghai"),
            "Day 1 is the date of the first infusion in Asia/Shanghai; at most 6 infusions, each at least 7 days after the one before, the last on Day 56 at the latest."
        );
        // the criteria keys API.md fixes
        let keys: Vec<_> = p.criteria.iter().map(|c| c.key.as_str()).collect();
        for key in [
            "stable_psoriasis_vulgaris_6_months",
            "active_despite_treatment",
            "no_other_psoriasis_treatment_during_study",
            "informed_consent",
            "other_psoriasis_type",
            "other_disease",
            "systemic_treatment_last_4_weeks",
            "topical_treatment_last_2_weeks",
            "uncontrolled_active_infection",
            "hbv_hcv_or_hiv",
            "severe_systemic_disease_or_malignancy",
            "pregnant_lactating_or_planning",
            "cannot_be_followed_up",
        ] {
            assert!(keys.contains(&key), "{key}");
        }
        assert_eq!(keys.len(), 13);
        assert_eq!(p.specification(), Specification::seed());
    }

    #[test]
    fn a_record_written_before_the_safety_fields_reads_with_their_defaults() {
        let mut old = serde_json::to_value(Protocol::seed()).unwrap();
        for field in [
            "min_interval_days",
            "plausible_recovery_min_pct",
            "plausible_recovery_max_pct",
            "count_spread_max_pct",
            "independent_verification",
            "weight_change_confirm_pct_older",
            "bmi_min",
            "bmi_max",
            "infused_volume_tolerance_pct",
        ] {
            old.as_object_mut().unwrap().remove(field).unwrap();
        }
        let read: Protocol = serde_json::from_value(old).unwrap();
        assert_eq!(read, Protocol::seed());
    }

    #[test]
    fn nonsense_is_named() {
        let mut p = Protocol::seed();
        p.min_interval_days = 12;
        assert_eq!(p.check().unwrap_err().field, "min_interval_days");
        let mut p = Protocol::seed();
        p.bmi_min = 70;
        assert_eq!(p.check().unwrap_err().field, "bmi_max");
        let mut p = Protocol::seed();
        p.weight_max_g = 20_000;
        assert_eq!(p.check().unwrap_err().field, "weight_max_g");
        let mut p = Protocol::seed();
        p.dose_tolerance_pct = 80;
        assert_eq!(p.check().unwrap_err().field, "dose_tolerance_pct");
        let mut p = Protocol::seed();
        p.criteria.push(p.criteria[0].clone());
        assert_eq!(p.check().unwrap_err().field, "criteria");
        let mut p = Protocol::seed();
        p.qc_specification[0].limit = "clean".into();
        assert_eq!(p.check().unwrap_err().field, "qc_specification");
    }
}
