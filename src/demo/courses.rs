//! The clinic's side of the demo: each patient enrolled, weighed, dosed
//! (ordered, thawed, counted, verified, infused) and followed up, as far
//! as the story takes them.

use anyhow::{Context, bail};
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use crate::domain::assessment::{PasiRegions, Region};
use crate::domain::dose::WeightUnit;
use crate::services::assessments::{self, Scored};
use crate::services::doses::{self, VialCount};
use crate::services::infusions::{self, NewAdverseEvent};
use crate::services::patients;
use crate::state::AppState;

use super::story::{Course, Rng, Stage};
use super::{Team, err};

pub(super) async fn enrol(
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
            site_id: None,
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

pub(super) async fn weigh(
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
pub(super) async fn infuse(
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
pub(super) async fn follow_up(
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
