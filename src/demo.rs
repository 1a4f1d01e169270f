//! The demo trial: a realistic, clearly labelled dataset shaped like the
//! seed trial, written through the same services as the API (so every
//! record has its custody events and the ledger verifies), in the order it
//! would have happened over the last twenty weeks. Deterministic: the same
//! seed gives the same trial, up to the dates, which end today.
//!
//! Six eligible cord donors (and one ineligible), six lots with vials in a
//! tank › rack › box hierarchy, thirty patients with weight-based
//! infusions about nine days apart, PASI and DLQI at baseline and
//! follow-up, a few adverse events, and one lot recalled after a positive
//! sterility retest. Most courses are finished; the day it ends on is in
//! progress, so every role's home has work on it: a lot frozen yesterday
//! in quarantine with its sterility, mycoplasma and endotoxin to come, its
//! vials still to store, four patients mid-course (one weighed with a dose
//! due, one dose reserved waiting to thaw, one thawed and counted waiting
//! for the second pharmacist, one verified at the bedside), and a week-4
//! follow-up due today.

use anyhow::{Context, bail};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::{EntityTrait, PaginatorTrait};
use uuid::Uuid;

use crate::clock::Clock;
use crate::domain::assessment::{PasiRegions, Region};
use crate::domain::donor::{Eligibility, ScreeningOutcome, ScreeningTest, Specimen};
use crate::domain::dose::WeightUnit;
use crate::domain::patient::Sex;
use crate::domain::storage::StorageKind;
use crate::entities::{donor, lot, patient, vial};
use crate::services::assessments::{self, Scored};
use crate::services::auth::AuthenticatedUser;
use crate::services::doses::{self, VialCount};
use crate::services::infusions::{self, NewAdverseEvent};
use crate::services::signatures::{self, SignatureInput, VerifiedSignature};
use crate::services::{
    Actor, accounts, auth, donations, donors, labels, lots, patients, recall, storage, vials,
};
use crate::state::AppState;

/// The demo accounts: username, role, password. Demo only.
/// Two pharmacists: the one who counts a dose never verifies it.
pub const ACCOUNTS: [(&str, &str, &str); 5] = [
    ("lab.demo", "lab", "demo-lab-password"),
    ("quality.demo", "quality", "demo-quality-password"),
    ("pharmacist.demo", "pharmacist", "demo-pharmacist-password"),
    ("clinician.demo", "clinician", "demo-clinician-password"),
    ("verifier.demo", "pharmacist", "demo-verifier-password"),
];

const PATIENTS: usize = 30;
const INFUSIONS: usize = 6;
/// The trial began this many days ago.
const SPAN_DAYS: i64 = 140;

/// How far a course in progress has come today.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
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
struct MidCourse {
    patient: usize,
    day1_ago: i64,
    given: usize,
    stage: Stage,
    minutes_ago: i64,
}

const MID_COURSE: [MidCourse; 4] = [
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

/// What the demo wrote.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub donors: usize,
    pub lots: usize,
    pub vials: usize,
    pub patients: usize,
    pub infusions: usize,
    pub adverse_events: usize,
    pub recalled_lot: String,
    /// Doses ordered today and not yet infused.
    pub doses_in_progress: usize,
    /// The lot frozen yesterday, awaiting QC.
    pub quarantine_lot: String,
}

/// A small deterministic generator (splitmix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `low..=high`.
    fn range(&mut self, low: i64, high: i64) -> i64 {
        low + (self.next() % (high - low + 1) as u64) as i64
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

struct Team {
    lab: Actor,
    pharmacist: Actor,
    clinician: Actor,
    quality_signature: VerifiedSignature,
    verifier_signature: VerifiedSignature,
    lab_signature: VerifiedSignature,
}

/// Whether the database holds nothing but the first start's records.
pub async fn is_empty(state: &AppState) -> anyhow::Result<bool> {
    let db = state.db.conn();
    Ok(
        donor::Entity::find().count(db).await? == 0
            && patient::Entity::find().count(db).await? == 0,
    )
}

/// Loads the demo trial. Refuses a database that already holds donors or
/// patients: demo records must never mix with real ones.
pub async fn load(state: &AppState) -> anyhow::Result<Summary> {
    if !is_empty(state).await? {
        bail!(
            "the database already holds donors or patients; the demo loads only into an empty database"
        );
    }
    let now = state.clock.now();
    let start = now - Duration::days(SPAN_DAYS);
    // The loader's own clock walks through the trial's twenty weeks; the
    // server's clock is not touched.
    let state = AppState {
        clock: Clock::starting_at(start),
        ..state.clone()
    };
    let state = &state;
    // Marked before the first record: even a load cut short leaves a
    // database that says it holds demo data.
    crate::services::demo_mark::mark(state, &Actor::system("demo"))
        .await
        .map_err(err)?;
    let at = |day: i64, hour: i64, minute: i64| at(start, day, hour, minute);
    let team = team(state).await?;
    let mut rng = Rng(0x00C3_11A1_7E57_0001);
    let mut summary = Summary::default();

    // Storage: one tank, two racks, boxes of 9 × 9.
    state.clock.jump_to(at(0, 8, 0));
    let tank = storage::create(
        state,
        &team.lab,
        unit("Tank 1 (demo)", StorageKind::Tank, None, None),
    )
    .await
    .map_err(err)?;
    let mut boxes = Vec::new();
    for rack_name in ["Rack A", "Rack B"] {
        let rack = storage::create(
            state,
            &team.lab,
            unit(rack_name, StorageKind::Rack, Some(tank.id), None),
        )
        .await
        .map_err(err)?;
        for n in 1..=6 {
            let b = storage::create(
                state,
                &team.lab,
                unit(
                    &format!("Box {n}"),
                    StorageKind::Box,
                    Some(rack.id),
                    Some(9),
                ),
            )
            .await
            .map_err(err)?;
            boxes.push(b.id);
        }
    }

    // Donors: five eligible, each cord made into a released lot (a sixth
    // is found ineligible below; a seventh's lot is frozen yesterday).
    let mut lots_made = Vec::new();
    let lot_plan: [(i64, i32, i64); 5] = [
        // (day collected, vials, expiry in days from collection)
        (2, 200, 300),
        (3, 200, 310),
        (5, 200, 320),
        (6, 200, 330),
        (7, 72, 360),
    ];
    for (n, (day, vial_count, expiry)) in lot_plan.iter().enumerate() {
        let qc = qc_results(&mut rng);
        let (lot, vials) = cord_lot(state, &team, start, n, *day, *vial_count, *expiry, qc).await?;
        for (i, vial) in vials.iter().enumerate() {
            let slot = summary.vials + i;
            let position = format!(
                "{}{}",
                char::from(b'A' + (slot % 81 / 9) as u8),
                slot % 9 + 1
            );
            vials::store(state, &team.lab, vial.id, boxes[slot / 81], &position)
                .await
                .map_err(err)?;
        }
        summary.vials += vials.len();
        state.clock.jump_to(at(*day + 8, 15, 0));
        lots::release(state, &team.quality_signature, lot.id)
            .await
            .map_err(err)?;
        lots_made.push(lot);
        summary.donors += 1;
    }
    // a donor who does not become eligible
    state.clock.jump_to(at(9, 9, 0));
    let ineligible = donors::register(state, &team.lab, "UCD-DEMO-06", at(-20, 10, 0))
        .await
        .map_err(err)?;
    donors::record_screening(
        state,
        &team.lab,
        ineligible.donor.id,
        donors::NewScreening {
            test: ScreeningTest::Hbv,
            result: ScreeningOutcome::Positive,
            tested_at: at(8, 7, 30),
            specimen: Specimen::Maternal,
        },
    )
    .await
    .map_err(err)?;
    donors::decide_eligibility(
        state,
        &team.quality_signature,
        ineligible.donor.id,
        Eligibility::Ineligible,
        Some("maternal HBsAg reactive"),
    )
    .await
    .map_err(err)?;
    summary.donors += 1;
    summary.lots = lots_made.len();
    let recall_lot = lots_made[4].clone();

    // A cracked vial, discarded with a signature.
    state.clock.jump_to(at(20, 11, 0));
    let cracked = crate::entities::vial::Entity::find()
        .all(state.db.conn())
        .await?
        .into_iter()
        .filter(|v| v.lot_id == lots_made[3].id)
        .max_by(|a, b| a.code.cmp(&b.code))
        .context("a vial of the fourth lot")?;
    vials::discard(
        state,
        &team.lab_signature,
        cracked.id,
        "cracked cap found at inventory",
    )
    .await
    .map_err(err)?;

    // The patients' courses, event by event in time order. Finished
    // courses run on the loader's days; those in progress today are set on
    // the site's calendar (their Day 1, spacing and follow-up fall on
    // whole site days before today), and today's steps a few minutes ago.
    let zone = state.settings.timezone;
    let today = zone.date(now);
    let local = |days_ago: i64, hour: i64| {
        zone.start_of(today - Duration::days(days_ago)) + Duration::hours(hour)
    };
    let mut events: Vec<(DateTime<Utc>, usize, Step)> = Vec::new();
    for p in 0..PATIENTS {
        if let Some(m) = MID_COURSE.iter().find(|m| m.patient == p) {
            events.push((local(m.day1_ago + 3, 9), p, Step::Enrol));
            for k in 0..m.given {
                events.push((local(m.day1_ago - 9 * k as i64, 9), p, Step::Infuse(k)));
            }
            for (week, n) in [(4, 1), (8, 2), (12, 3)] {
                let days_ago = m.day1_ago - 7 * week;
                if days_ago > 0 {
                    events.push((local(days_ago, 14), p, Step::FollowUp(n)));
                }
            }
            events.push((
                now - Duration::minutes(m.minutes_ago),
                p,
                Step::Today(m.given, m.stage),
            ));
            continue;
        }
        let enrol_day = 14 + p as i64;
        events.push((at(enrol_day, 9, 0), p, Step::Enrol));
        for k in 0..INFUSIONS {
            let day = enrol_day + 3 + 9 * k as i64 + rng.range(0, 1);
            events.push((at(day, 8, 0), p, Step::Infuse(k)));
        }
        for (week, n) in [(4, 1), (8, 2), (12, 3)] {
            let day = enrol_day + 7 * week + rng.range(0, 2);
            if start + Duration::days(day) < now - Duration::days(1) {
                events.push((at(day, 14, 0), p, Step::FollowUp(n)));
            }
        }
    }
    events.push((at(118, 10, 0), usize::MAX, Step::Recall));
    // collected the day before yesterday, frozen yesterday
    events.push((at(SPAN_DAYS - 3, 9, 0), usize::MAX, Step::QuarantineLot));
    events.sort_by_key(|(t, p, _)| (*t, *p));

    let mut course: Vec<Course> = (0..PATIENTS).map(|p| Course::new(p, &mut rng)).collect();
    for (time, p, step) in events {
        state.clock.jump_to(time);
        match step {
            Step::Enrol => enrol(state, &team, &mut course[p], &mut rng).await?,
            Step::Infuse(k) => {
                // the first two infusions of the first six patients come
                // from the lot that will be recalled
                let lot = (p < 6 && k < 2).then_some(recall_lot.id);
                let had_event =
                    infuse(state, &team, &mut course[p], k, lot, None, &mut rng).await?;
                summary.infusions += 1;
                summary.adverse_events += had_event;
            }
            Step::Today(k, stage) => {
                infuse(state, &team, &mut course[p], k, None, Some(stage), &mut rng).await?;
                if stage != Stage::Weighed {
                    summary.doses_in_progress += 1;
                }
            }
            Step::FollowUp(n) => follow_up(state, &team, &course[p], n, &mut rng).await?,
            Step::Recall => {
                crate::services::qc::add_qc(
                    state,
                    &team.lab,
                    recall_lot.id,
                    "sterility",
                    "positive",
                    None,
                )
                .await
                .map_err(err)?;
                state.clock.jump_to(time + Duration::hours(2));
                recall::recall(
                    state,
                    &team.quality_signature,
                    recall_lot.id,
                    "sterility retest positive (retained sample, day 14 culture)",
                )
                .await
                .map_err(err)?;
                summary.recalled_lot = recall_lot.code.clone();
            }
            Step::QuarantineLot => {
                // the cell counts and phenotype are in; the sterility and
                // mycoplasma cultures and the endotoxin test take days: the
                // lot waits in quarantine, its vials not yet stored
                let qc = qc_results(&mut rng)
                    .into_iter()
                    .filter(|(test, _, _)| !["sterility", "mycoplasma", "endotoxin"].contains(test))
                    .collect();
                let (lot, vials) =
                    cord_lot(state, &team, start, 6, SPAN_DAYS - 2, 40, 360, qc).await?;
                summary.vials += vials.len();
                summary.donors += 1;
                summary.lots += 1;
                summary.quarantine_lot = lot.code;
            }
        }
    }
    summary.patients = PATIENTS;
    Ok(summary)
}

/// The time `hour:minute` after the moment, `day` days after `start`,
/// that the trial began (the loader's days are counted from it).
fn at(start: DateTime<Utc>, day: i64, hour: i64, minute: i64) -> DateTime<Utc> {
    start + Duration::days(day) + Duration::hours(hour) + Duration::minutes(minute)
}

/// A cord from a donor screened negative and judged eligible, made into a
/// lot, given the QC results in `qc` (as many as have come back), frozen
/// into vials and labelled. The `n`th donor, collected on `day`.
#[allow(clippy::too_many_arguments)]
async fn cord_lot(
    state: &AppState,
    team: &Team,
    start: DateTime<Utc>,
    n: usize,
    day: i64,
    vial_count: i32,
    expiry: i64,
    qc: Vec<(&'static str, String, Option<&'static str>)>,
) -> anyhow::Result<(lot::Model, Vec<vial::Model>)> {
    let at = |day: i64, hour: i64, minute: i64| at(start, day, hour, minute);
    state.clock.jump_to(at(day - 1, 9, 0));
    let code = format!("UCD-DEMO-{:02}", n + 1);
    let registered = donors::register(state, &team.lab, &code, at(day - 30, 10, 0))
        .await
        .map_err(err)?;
    let donor_id = registered.donor.id;
    for test in [
        ScreeningTest::Hiv,
        ScreeningTest::Hbv,
        ScreeningTest::Hcv,
        ScreeningTest::Syphilis,
        ScreeningTest::Htlv,
        ScreeningTest::Cmv,
    ] {
        donors::record_screening(
            state,
            &team.lab,
            donor_id,
            donors::NewScreening {
                test,
                result: ScreeningOutcome::Negative,
                tested_at: at(day - 2, 7, 30),
                specimen: Specimen::Maternal,
            },
        )
        .await
        .map_err(err)?;
    }
    state.clock.jump_to(at(day, 8, 0));
    let donation = donations::create(state, &team.lab, donor_id, at(day, 6, 40), at(day, 7, 55))
        .await
        .map_err(err)?;
    donors::decide_eligibility(
        state,
        &team.quality_signature,
        donor_id,
        Eligibility::Eligible,
        None,
    )
    .await
    .map_err(err)?;
    state.clock.jump_to(at(day, 9, 30));
    let lot = lots::create(
        state,
        &team.lab,
        lots::NewLot {
            donation_id: donation.id,
            product_code: "S1395",
            passage: 3 + n as i32 % 2,
            manufactured_at: at(day, 9, 0),
            expires_at: at(day + expiry, 0, 0),
        },
    )
    .await
    .map_err(err)?;
    state.clock.jump_to(at(day + 1, 10, 0));
    for (test, value, unit) in qc {
        crate::services::qc::add_qc(state, &team.lab, lot.lot.id, test, &value, unit)
            .await
            .map_err(err)?;
    }
    state.clock.jump_to(at(day + 1, 11, 30));
    let (lot, vials) = lots::freeze(
        state,
        &team.lab,
        lot.lot.id,
        lots::Freezing {
            vial_count,
            cells_per_vial: 25_000_000,
            volume_ul: 1_500,
            frozen_at: at(day + 1, 11, 0),
        },
    )
    .await
    .map_err(err)?;
    labels::issue_for_lot(state, &team.lab, lot.lot.id, 1, None)
        .await
        .map_err(err)?;
    Ok((lot.lot, vials))
}

#[derive(Debug, Clone, Copy)]
enum Step {
    Enrol,
    Infuse(usize),
    /// Today's dose (the `usize`th infusion), as far as `Stage`.
    Today(usize, Stage),
    FollowUp(usize),
    Recall,
    QuarantineLot,
}

/// One patient's course as the demo plays it.
struct Course {
    subject_code: String,
    patient_id: Option<Uuid>,
    weight_g: i64,
    pounds: bool,
    height_mm: i32,
    birth_date: NaiveDate,
    sex: Sex,
    baseline: PasiRegions,
    /// Share of the baseline severity left at week 12, in percent.
    remaining_pct: i64,
}

impl Course {
    fn new(p: usize, rng: &mut Rng) -> Self {
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

async fn enrol(
    state: &AppState,
    team: &Team,
    course: &mut Course,
    rng: &mut Rng,
) -> anyhow::Result<()> {
    let now = state.clock.now();
    let pasi = crate::domain::assessment::pasi_tenths(&course.baseline)?;
    let enrolment_kg = format!(
        "{}.{}",
        course.weight_g / 1000,
        course.weight_g % 1000 / 100
    );
    let criteria = crate::domain::protocol::Protocol::seed()
        .criteria
        .iter()
        .map(|c| {
            (
                c.key.clone(),
                c.kind == crate::domain::protocol::CriterionKind::Inclusion,
            )
        })
        .collect();
    let record = patients::enrol(
        state,
        &team.clinician,
        patients::NewPatient {
            subject_code: &course.subject_code,
            birth_date: course.birth_date,
            sex: course.sex,
            enrolled_at: now,
            baseline_pasi_tenths: pasi,
            criteria,
            weight: Some((&enrolment_kg, WeightUnit::Kg)),
            height_mm: Some(course.height_mm),
        },
    )
    .await
    .map_err(err)?;
    let id = record.patient.id;
    course.patient_id = Some(id);
    weigh(state, team, course, now + Duration::minutes(10)).await?;
    state.clock.jump_to(now + Duration::minutes(20));
    assessments::record(
        state,
        &team.clinician,
        id,
        now + Duration::minutes(20),
        Scored::Pasi(course.baseline),
    )
    .await
    .map_err(err)?;
    let answers = (0..10).map(|_| rng.range(1, 3) as i32).collect();
    assessments::record(
        state,
        &team.clinician,
        id,
        now + Duration::minutes(20),
        Scored::Dlqi(answers),
    )
    .await
    .map_err(err)?;
    Ok(())
}

async fn weigh(
    state: &AppState,
    team: &Team,
    course: &Course,
    at: DateTime<Utc>,
) -> anyhow::Result<()> {
    state.clock.jump_to(at);
    let (value, unit) = if course.pounds {
        // to two decimals of a pound, as a scale shows it
        let hundredths_lb = course.weight_g * 10_000_000 / 45_359_237;
        (
            format!("{}.{:02}", hundredths_lb / 100, hundredths_lb % 100),
            WeightUnit::Lb,
        )
    } else {
        (
            format!(
                "{}.{}",
                course.weight_g / 1000,
                course.weight_g % 1000 / 100
            ),
            WeightUnit::Kg,
        )
    };
    patients::record_weight(
        state,
        &team.clinician,
        course.patient_id.context("an enrolled patient")?,
        patients::NewWeight {
            value: &value,
            unit,
            measured_at: at,
            confirm_change: false,
        },
    )
    .await
    .map_err(err)?;
    Ok(())
}

/// One infusion: weigh, order, thaw, verify, scan both labels, infuse;
/// or, for today's, only as far as `stop`. Returns the number of adverse
/// events recorded.
async fn infuse(
    state: &AppState,
    team: &Team,
    course: &mut Course,
    k: usize,
    lot: Option<Uuid>,
    stop: Option<Stage>,
    rng: &mut Rng,
) -> anyhow::Result<usize> {
    let t0 = state.clock.now();
    let patient_id = course.patient_id.context("an enrolled patient")?;
    // weight drifts a little between visits
    course.weight_g += rng.range(-600, 600);
    weigh(state, team, course, t0).await?;
    if stop == Some(Stage::Weighed) {
        return Ok(0);
    }
    state.clock.jump_to(t0 + Duration::minutes(30));
    let dose = doses::order(state, &team.pharmacist, patient_id, lot)
        .await
        .map_err(err)?;
    if dose.dose.infusion_number != k as i32 + 1 {
        bail!(
            "{}: the dose ordered is for infusion {}, not {}",
            course.subject_code,
            dose.dose.infusion_number,
            k + 1
        );
    }
    if stop == Some(Stage::Ordered) {
        return Ok(0);
    }
    let thawed_at = t0 + Duration::minutes(60);
    state.clock.jump_to(thawed_at);
    // viable cells/mL high enough for the dose in the thawed volume
    let needed_per_ml = dose.dose.target_cells.get() * 1000 / (dose.vials.len() as i64 * 1_500);
    let counts: Vec<VialCount> = dose
        .vials
        .iter()
        .map(|v| {
            let viability = rng.range(840, 960) as i32;
            VialCount {
                vial_id: v.id,
                viable_cells_per_ml: needed_per_ml * rng.range(108, 130) / 100,
                viability_tenths: viability,
                viability_text: crate::domain::patient::tenths_display(viability),
                confirm: false,
                reason: None,
            }
        })
        .collect();
    doses::thaw(
        state,
        &team.pharmacist,
        dose.dose.id,
        doses::Counting {
            counts,
            thawed_at: Some(thawed_at),
            correction: None,
        },
    )
    .await
    .map_err(err)?;
    if stop == Some(Stage::Counted) {
        return Ok(0);
    }
    state.clock.jump_to(t0 + Duration::minutes(75));
    // a second pharmacist verifies what the first counted
    let verified = doses::verify(state, &team.verifier_signature, dose.dose.id)
        .await
        .map_err(err)?;
    if stop == Some(Stage::Verified) {
        return Ok(0);
    }
    let started_at = t0 + Duration::minutes(100 + rng.range(0, 30));
    state.clock.jump_to(started_at);
    let wristband =
        crate::domain::scan::payload(crate::domain::scan::ScanKind::Patient, &course.subject_code);
    let bag =
        crate::domain::scan::payload(crate::domain::scan::ScanKind::Dose, &verified.dose.code);
    let infusion = infusions::start(
        state,
        &team.clinician,
        infusions::Start {
            dose_id: dose.dose.id,
            patient_scan: &wristband,
            product_scan: &bag,
            started_at,
            late_entry: None,
        },
    )
    .await
    .map_err(err)?;
    let ended_at = started_at + Duration::minutes(45 + rng.range(0, 20));
    state.clock.jump_to(ended_at);
    let mut adverse = Vec::new();
    if rng.chance(9) {
        let (term, grade) = match rng.range(0, 9) {
            0..=3 => ("Infusion related reaction", 1),
            4..=5 => ("Headache", 1),
            6..=7 => ("Fever", 2),
            8 => ("Chills", 1),
            _ => ("Hypotension", 3),
        };
        adverse.push(NewAdverseEvent {
            term: term.to_owned(),
            grade,
            onset_at: started_at + Duration::minutes(20),
        });
    }
    // the first infusion of PV-013 had a grade 3 event, for the outcomes view
    if course.subject_code == "PV-013" && k == 0 {
        adverse.push(NewAdverseEvent {
            term: "Hypotension".to_owned(),
            grade: 3,
            onset_at: started_at + Duration::minutes(25),
        });
    }
    let volume = verified.dose.volume_ul.unwrap_or_default();
    infusions::complete(
        state,
        &team.clinician,
        infusion.infusion.id,
        infusions::Completion {
            ended_at,
            volume_infused_ul: volume.get(),
            confirm_volume: false,
            volume_reason: None,
            adverse_events: &adverse,
        },
    )
    .await
    .map_err(err)?;
    Ok(adverse.len())
}

/// PASI and DLQI at weeks 4, 8 and 12, improving towards each patient's
/// response.
async fn follow_up(
    state: &AppState,
    team: &Team,
    course: &Course,
    n: usize,
    rng: &mut Rng,
) -> anyhow::Result<()> {
    let id = course.patient_id.context("an enrolled patient")?;
    let left = 100 - (100 - course.remaining_pct) * n as i64 / 3;
    let scale = |r: Region| Region {
        erythema: ((i64::from(r.erythema) * left + 50) / 100) as i32,
        induration: ((i64::from(r.induration) * left + 50) / 100) as i32,
        desquamation: ((i64::from(r.desquamation) * left + 50) / 100) as i32,
        area: ((i64::from(r.area) * left + 99) / 100).max(if left > 20 { 1 } else { 0 }) as i32,
    };
    let b = course.baseline;
    let regions = PasiRegions {
        head: scale(b.head),
        upper_limbs: scale(b.upper_limbs),
        trunk: scale(b.trunk),
        lower_limbs: scale(b.lower_limbs),
    };
    let now = state.clock.now();
    assessments::record(state, &team.clinician, id, now, Scored::Pasi(regions))
        .await
        .map_err(err)?;
    let answers = (0..10)
        .map(|_| (rng.range(0, 3) * left / 100) as i32)
        .collect();
    assessments::record(state, &team.clinician, id, now, Scored::Dlqi(answers))
        .await
        .map_err(err)?;
    Ok(())
}

fn qc_results(rng: &mut Rng) -> Vec<(&'static str, String, Option<&'static str>)> {
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

fn unit(
    name: &str,
    kind: StorageKind,
    parent_id: Option<Uuid>,
    size: Option<i32>,
) -> storage::NewUnit<'_> {
    storage::NewUnit {
        name,
        kind,
        parent_id,
        rows: size,
        cols: size,
    }
}

fn err(error: crate::error::AppError) -> anyhow::Error {
    anyhow::anyhow!("{error}")
}

/// The demo staff, signed in once; the quality officer's and pharmacist's
/// signatures are checked against their passwords once and reused.
async fn team(state: &AppState) -> anyhow::Result<Team> {
    let system = Actor::system("demo");
    let mut users: Vec<AuthenticatedUser> = Vec::new();
    for (username, role, password) in ACCOUNTS {
        let full_name = format!("{} (demo)", username.split('.').next().unwrap_or(username));
        accounts::create(
            state,
            &system,
            accounts::NewAccount {
                username,
                full_name: &full_name,
                role,
                password,
            },
        )
        .await
        .map_err(err)?;
        let login = auth::login(
            state,
            &crate::domain::throttle::ClientAddress::local(),
            username,
            password,
        )
        .await
        .map_err(err)?;
        users.push(auth::authenticate(state, &login.token).await.map_err(err)?);
    }
    let sign = |i: usize, meaning: &str| {
        let user = users[i].clone();
        let input = SignatureInput {
            password: ACCOUNTS[i].2.to_owned(),
            meaning: meaning.to_owned(),
        };
        async move { signatures::verify(state, &user, &input).await.map_err(err) }
    };
    Ok(Team {
        lab_signature: sign(0, "discarded").await?,
        quality_signature: sign(1, "approved").await?,
        verifier_signature: sign(4, "dose verified").await?,
        lab: users[0].actor(),
        pharmacist: users[2].actor(),
        clinician: users[3].actor(),
    })
}
