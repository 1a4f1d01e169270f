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
//!
//! Its parts: `story` holds the trial's shape (who, when, how far each
//! course has come today) and its deterministic generator; `cords` makes
//! the cords into released lots of labelled vials; `courses` plays each
//! patient's enrolment, weighing, infusions and follow-ups; this module
//! signs the team in and plays the story's days in order.

mod cords;
mod courses;
mod sites;
mod story;

use anyhow::{Context, bail};
use chrono::{DateTime, Duration, Utc};
use sea_orm::{EntityTrait, PaginatorTrait};
use uuid::Uuid;

use crate::clock::Clock;
use crate::domain::donor::{Eligibility, ScreeningOutcome, ScreeningTest, Specimen};
use crate::domain::storage::StorageKind;
use crate::entities::{donor, patient};
use crate::services::auth::AuthenticatedUser;
use crate::services::signatures::{self, SignatureInput, VerifiedSignature};
use crate::services::{Actor, accounts, auth, donors, lots, recall, storage, vials};
use crate::state::AppState;
use cords::cord_lot;
use courses::{enrol, follow_up, infuse};
use story::{Course, INFUSIONS, MID_COURSE, PATIENTS, Rng, SPAN_DAYS, Stage, Step, qc_results};

/// The demo accounts: username, role, password. Demo only.
/// Two pharmacists: the one who counts a dose never verifies it.
/// `ward.demo` is the pharmacist of the second site, Ward 3, and works
/// there only.
pub const ACCOUNTS: [(&str, &str, &str); 6] = [
    ("lab.demo", "lab", "demo-lab-password"),
    ("quality.demo", "quality", "demo-quality-password"),
    ("pharmacist.demo", "pharmacist", "demo-pharmacist-password"),
    ("clinician.demo", "clinician", "demo-clinician-password"),
    ("verifier.demo", "pharmacist", "demo-verifier-password"),
    ("ward.demo", "pharmacist", "demo-ward-password"),
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

struct Team {
    lab: Actor,
    pharmacist: Actor,
    clinician: Actor,
    quality_signature: VerifiedSignature,
    verifier_signature: VerifiedSignature,
    lab_signature: VerifiedSignature,
    lab_seal_signature: VerifiedSignature,
    ward_user: AuthenticatedUser,
    ward_signature: VerifiedSignature,
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
    // the second site and a shipment to it, five days before today
    events.push((at(SPAN_DAYS - 5, 9, 0), usize::MAX, Step::Ship));
    // its tank's monitoring, with one excursion, pushed in the morning
    events.push((at(SPAN_DAYS - 3, 8, 0), usize::MAX, Step::Excursion));
    // collected the day before yesterday, frozen yesterday
    events.push((at(SPAN_DAYS - 3, 9, 0), usize::MAX, Step::QuarantineLot));
    events.sort_by_key(|(t, p, _)| (*t, *p));

    let mut course: Vec<Course> = (0..PATIENTS).map(|p| Course::new(p, &mut rng)).collect();
    let (mut ward_tank, mut shipped_at) = (None, None);
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
            Step::Ship => {
                ward_tank = Some(
                    sites::second_site(
                        state,
                        &team,
                        &team.ward_user,
                        &team.ward_signature,
                        &lots_made[..4].iter().map(|l| l.id).collect::<Vec<_>>(),
                    )
                    .await?,
                );
                shipped_at = Some(state.clock.now());
            }
            Step::Excursion => {
                if let (Some(tank), Some(from)) = (ward_tank, shipped_at) {
                    sites::excursion(state, tank, from, at(SPAN_DAYS - 4, 3, 10)).await?;
                }
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
        site_id: None,
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
        lab_seal_signature: sign(0, "sealed for shipping").await?,
        ward_signature: sign(5, "received").await?,
        ward_user: users[5].clone(),
        quality_signature: sign(1, "approved").await?,
        verifier_signature: sign(4, "dose verified").await?,
        lab: users[0].actor(),
        pharmacist: users[2].actor(),
        clinician: users[3].actor(),
    })
}
