//! The trial's shape: how many patients and infusions over how many
//! days, the courses still in progress today and how far each has come,
//! each patient drawn from a small deterministic generator, and the QC a
//! cord's lot is given.

use chrono::NaiveDate;
use uuid::Uuid;

use crate::domain::assessment::{PasiRegions, Region};
use crate::domain::patient::Sex;

pub(super) const PATIENTS: usize = 30;
pub(super) const INFUSIONS: usize = 6;
/// The trial began this many days ago.
pub(super) const SPAN_DAYS: i64 = 140;

/// How far a course in progress has come today.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stage {
    /// Weighed shortly before the load: the pharmacist may order the dose.
    Weighed,
    /// Dose ordered, vials reserved: to thaw and count.
    Ordered,
    /// Thawed and counted by one pharmacist: the other verifies.
    Counted,
    /// Verified: at the bedside, to infuse.
    Verified,
}

/// A patient mid-course today: Day 1 this many site days ago, infusions
/// given nine days apart since, and today's dose at `stage`, begun
/// `minutes_ago` (within the post-thaw shelf life of 3 hours).
pub(super) struct MidCourse {
    pub(super) patient: usize,
    pub(super) day1_ago: i64,
    pub(super) given: usize,
    pub(super) stage: Stage,
    pub(super) minutes_ago: i64,
}

pub(super) const MID_COURSE: [MidCourse; 4] = [
    MidCourse {
        patient: 26,
        day1_ago: 36,
        given: 4,
        stage: Stage::Weighed,
        minutes_ago: 45,
    },
    // Day 1 four weeks ago to the day: the week-4 follow-up is due today
    MidCourse {
        patient: 27,
        day1_ago: 28,
        given: 3,
        stage: Stage::Counted,
        minutes_ago: 80,
    },
    MidCourse {
        patient: 28,
        day1_ago: 18,
        given: 2,
        stage: Stage::Ordered,
        minutes_ago: 60,
    },
    MidCourse {
        patient: 29,
        day1_ago: 9,
        given: 1,
        stage: Stage::Verified,
        minutes_ago: 100,
    },
];

/// A small deterministic generator (splitmix64).
pub(super) struct Rng(pub(super) u64);

impl Rng {
    pub(super) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `low..=high`.
    pub(super) fn range(&mut self, low: i64, high: i64) -> i64 {
        low + (self.next() % (high - low + 1) as u64) as i64
    }

    pub(super) fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

#[derive(Debug, Clone, Copy)]
pub(super) enum Step {
    Enrol,
    Infuse(usize),
    /// Today's dose (the `usize`th infusion), as far as `Stage`.
    Today(usize, Stage),
    FollowUp(usize),
    Recall,
    QuarantineLot,
    /// The second site and a shipment to it.
    Ship,
    /// The second site's tank monitoring, with one excursion.
    Excursion,
}

/// One patient's course as the demo plays it.
pub(super) struct Course {
    pub(super) subject_code: String,
    pub(super) patient_id: Option<Uuid>,
    pub(super) weight_g: i64,
    pub(super) pounds: bool,
    pub(super) height_mm: i32,
    pub(super) birth_date: NaiveDate,
    pub(super) sex: Sex,
    pub(super) baseline: PasiRegions,
    /// Share of the baseline severity left at week 12, in percent.
    pub(super) remaining_pct: i64,
}

impl Course {
    pub(super) fn new(p: usize, rng: &mut Rng) -> Self {
        // moderate to severe: PASI 12 to 60
        let severity = |rng: &mut Rng| Region {
            erythema: rng.range(2, 4) as i32,
            induration: rng.range(2, 4) as i32,
            desquamation: rng.range(2, 4) as i32,
            area: rng.range(2, 5) as i32,
        };
        Course {
            subject_code: format!("PV-{:03}", p + 1),
            patient_id: None,
            weight_g: rng.range(52_000, 96_000),
            pounds: p % 7 == 3,
            height_mm: rng.range(1_550, 1_850) as i32,
            birth_date: NaiveDate::from_ymd_opt(
                1962 + rng.range(0, 40) as i32,
                rng.range(1, 12) as u32,
                rng.range(1, 28) as u32,
            )
            .unwrap_or_default(),
            sex: if rng.chance(45) {
                Sex::Female
            } else {
                Sex::Male
            },
            baseline: PasiRegions {
                head: severity(rng),
                upper_limbs: severity(rng),
                trunk: severity(rng),
                lower_limbs: severity(rng),
            },
            remaining_pct: rng.range(10, 70),
        }
    }
}

pub(super) fn qc_results(rng: &mut Rng) -> Vec<(&'static str, String, Option<&'static str>)> {
    let pct = |rng: &mut Rng, low: i64, high: i64| {
        let tenths = rng.range(low, high);
        format!("{}.{}", tenths / 10, tenths % 10)
    };
    vec![
        ("sterility", "negative".into(), None),
        ("mycoplasma", "negative".into(), None),
        (
            "endotoxin",
            format!("0.{:02}", rng.range(5, 30)),
            Some("EU/mL"),
        ),
        ("viability", pct(rng, 880, 970), Some("%")),
        ("cd73", pct(rng, 970, 999), Some("%")),
        ("cd90", pct(rng, 970, 999), Some("%")),
        ("cd105", pct(rng, 955, 990), Some("%")),
        ("cd34", pct(rng, 1, 15), Some("%")),
        ("cd45", pct(rng, 1, 15), Some("%")),
        ("cd14", pct(rng, 1, 12), Some("%")),
        ("cd19", pct(rng, 1, 10), Some("%")),
        ("hla_dr", pct(rng, 2, 18), Some("%")),
    ]
}
