//! QS, questionnaires: every PASI and DLQI assessed, item by item, then
//! its total (derived, `QSDRVFL` = `Y`), with the visit whose window holds
//! it and the baseline flagged.
//!
//! DLQI follows CDISC's QRS terminology (`QSCAT` `DLQI`, items `DLQI101`
//! to `DLQI110`, the score `DLQI111`). PASI is `QSCAT` `PASI`: each
//! region's erythema, induration, desquamation (0-4) and area score (0-6)
//! in the order the instrument lists them (`PASI0101` to `PASI0116`, head,
//! upper limbs, trunk, lower limbs), then the total `PASI0117` (0.0-72.0).
//!
//! The baseline (`QSBLFL` = `Y`) of each instrument is the last assessment
//! at or before the first infusion's start (`RFSTDTC`), as the outcomes
//! count it (`services::assessments::baseline`); before any infusion no
//! record is flagged. The PASI typed at enrolment is an eligibility value,
//! not an assessment: it is not a QS record.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter};
use serde::Deserialize;
use uuid::Uuid;

use crate::domain::assessment::{AssessmentKind, PasiRegions};
use crate::domain::sdtm::{dtc, tenths, visit_of};
use crate::entities::assessment;
use crate::error::AppResult;
use crate::services::lists::SiteScope;

use super::{Trial, numbered, patients_in};

pub const COLUMNS: &[&str] = &[
    "STUDYID", "DOMAIN", "USUBJID", "QSSEQ", "QSTESTCD", "QSTEST", "QSCAT", "QSORRES", "QSSTRESC",
    "QSSTRESN", "QSBLFL", "QSDRVFL", "VISITNUM", "VISIT", "QSDTC", "QSDY",
];

const PASI_REGIONS: [&str; 4] = ["Head", "Upper Limbs", "Trunk", "Lower Limbs"];
const PASI_PARTS: [&str; 4] = ["Erythema", "Induration", "Desquamation", "Area Score"];

const DLQI_ITEMS: [&str; 10] = [
    "Itchy, Sore, Painful, Stinging",
    "Embarrassed, Self Conscious",
    "Interfered Shopping, Home, Garden",
    "Influenced Clothes You Wear",
    "Affected Social, Leisure Activity",
    "Made It Difficult to Do Any Sport",
    "Prevented Working or Studying",
    "Problem Partner, Friends, Relative",
    "Caused Any Sexual Difficulties",
    "How Much a Problem is Treatment",
];

/// One query: the assessments of the patients in scope.
pub(super) async fn load(
    db: &impl ConnectionTrait,
    scope: &SiteScope,
    backend: DbBackend,
) -> AppResult<Vec<assessment::Model>> {
    Ok(assessment::Entity::find()
        .filter(assessment::Column::PatientId.in_subquery(patients_in(scope, backend)))
        .all(db)
        .await?)
}

#[derive(Deserialize)]
struct PasiInputs {
    regions: PasiRegions,
}

#[derive(Deserialize)]
struct DlqiInputs {
    answers: Vec<i32>,
}

/// An item or total: test code, test name, result as written.
struct Item {
    code: String,
    name: String,
    result: String,
    derived: bool,
}

fn items(a: &assessment::Model) -> Vec<Item> {
    let item = |code: String, name: String, result: String, derived: bool| Item {
        code,
        name,
        result,
        derived,
    };
    let mut out = Vec::new();
    match a.kind {
        AssessmentKind::Pasi => {
            if let Ok(PasiInputs { regions: r }) = serde_json::from_str(&a.inputs) {
                let regions = [r.head, r.upper_limbs, r.trunk, r.lower_limbs];
                for (i, (region, name)) in regions.iter().zip(PASI_REGIONS).enumerate() {
                    let scores = [
                        region.erythema,
                        region.induration,
                        region.desquamation,
                        region.area,
                    ];
                    for (j, (score, part)) in scores.iter().zip(PASI_PARTS).enumerate() {
                        out.push(item(
                            format!("PASI01{:02}", 4 * i + j + 1),
                            format!("PASI01-{name}: {part}"),
                            score.to_string(),
                            false,
                        ));
                    }
                }
            }
            out.push(item(
                "PASI0117".into(),
                "PASI01-Total Score".into(),
                tenths(a.score),
                true,
            ));
        }
        AssessmentKind::Dlqi => {
            if let Ok(DlqiInputs { answers }) = serde_json::from_str(&a.inputs) {
                for (i, (answer, name)) in answers.iter().zip(DLQI_ITEMS).enumerate() {
                    out.push(item(
                        format!("DLQI1{:02}", i + 1),
                        format!("DLQI1-{name}"),
                        answer.to_string(),
                        false,
                    ));
                }
            }
            out.push(item(
                "DLQI111".into(),
                "DLQI1-Score".into(),
                a.score.to_string(),
                true,
            ));
        }
    }
    out
}

/// An assessment's place in time: when assessed, when recorded, its id.
type Latest = (DateTime<Utc>, DateTime<Utc>, Uuid);

pub(super) fn rows(trial: &Trial, assessments: &[assessment::Model]) -> Vec<Vec<String>> {
    // each patient's baseline of each instrument: the latest at or before
    // their first infusion's start
    let mut baseline: HashMap<(Uuid, AssessmentKind), Latest> = HashMap::new();
    for a in assessments {
        let Some(first) = trial
            .subjects
            .get(&a.patient_id)
            .and_then(|s| s.first_start)
        else {
            continue;
        };
        if a.assessed_at <= first {
            let candidate = (a.assessed_at, a.recorded_at, a.id);
            baseline
                .entry((a.patient_id, a.kind))
                .and_modify(|b| *b = (*b).max(candidate))
                .or_insert(candidate);
        }
    }
    let mut records = Vec::new();
    for a in assessments {
        let Some(subject) = trial.subjects.get(&a.patient_id) else {
            continue;
        };
        let is_baseline = baseline
            .get(&(a.patient_id, a.kind))
            .is_some_and(|b| b.2 == a.id);
        let visit = visit_of(
            &trial.schedule,
            subject.day1,
            subject.zone.date(a.assessed_at),
        );
        let category = match a.kind {
            AssessmentKind::Pasi => "PASI",
            AssessmentKind::Dlqi => "DLQI",
        };
        for (n, item) in items(a).into_iter().enumerate() {
            let row = vec![
                trial.study_id.clone(),
                "QS".to_owned(),
                subject.usubjid.clone(),
                String::new(),
                item.code,
                item.name,
                category.to_owned(),
                item.result.clone(),
                item.result.clone(),
                item.result,
                if is_baseline { "Y" } else { "" }.to_owned(),
                if item.derived { "Y" } else { "" }.to_owned(),
                visit
                    .as_ref()
                    .map(|v| v.number.to_string())
                    .unwrap_or_default(),
                visit.as_ref().map(|v| v.name.clone()).unwrap_or_default(),
                dtc(subject.zone, a.assessed_at),
                subject.dy(a.assessed_at),
            ];
            records.push((
                subject.usubjid.clone(),
                (a.assessed_at, a.recorded_at, a.id, n),
                row,
            ));
        }
    }
    numbered(records, 3)
}
