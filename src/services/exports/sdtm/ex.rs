//! EX, exposure: one row per infusion given (started; an infusion still
//! running has no end, dose or volume yet).
//!
//! `EXDOSE` is the cells that went in, exact: the prepared cells in the
//! share of the prepared volume infused (`domain::sdtm::cells_given`), so
//! an interrupted infusion shows what it gave, not what was planned.
//! `EXDOSU` is `cells` (a count, not millions: no rounding). The dose per
//! kilogram is not a second `EXDOSE` (one record holds one dose and one
//! unit): it is `EXDOSKG`, a supplemental qualifier (SUPPEX material),
//! computed from the weight the dose was computed with (`EXWTG`), rounded
//! half up to a whole cell per kg; with it the prepared cells and volumes
//! (`EXPRPCEL`, `EXPRPVOL`, `EXINFVOL`) from which `EXDOSE` is computed.

use std::collections::HashMap;

use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::domain::sdtm::{cells_given, cells_per_kg, dtc};
use crate::entities::{dose, lot};
use crate::error::AppResult;
use crate::services::lists::SiteScope;

use super::{Trial, doses_given, numbered};

pub const COLUMNS: &[&str] = &[
    "STUDYID", "DOMAIN", "USUBJID", "EXSEQ", "EXREFID", "EXSPID", "EXTRT", "EXDOSE", "EXDOSU",
    "EXDOSFRM", "EXDOSFRQ", "EXROUTE", "EXLOT", "EPOCH", "EXSTDTC", "EXENDTC", "EXSTDY", "EXENDY",
    // supplemental qualifiers (SUPPEX)
    "EXDOSKG", "EXWTG", "EXPRPCEL", "EXPRPVOL", "EXINFVOL",
];

/// The treatment's name (`EXTRT`).
pub const TREATMENT: &str = "UC-MSC";

/// The doses given to the patients in scope and their lots' codes.
pub(super) struct Exposure {
    pub doses: HashMap<Uuid, dose::Model>,
    pub lot_codes: HashMap<Uuid, String>,
}

impl Exposure {
    /// Two queries: the doses infused, the codes of their lots.
    pub async fn load(
        db: &impl ConnectionTrait,
        scope: &SiteScope,
        backend: DbBackend,
    ) -> AppResult<Exposure> {
        let doses: HashMap<Uuid, dose::Model> = dose::Entity::find()
            .filter(dose::Column::Id.in_subquery(doses_given(scope, backend)))
            .all(db)
            .await?
            .into_iter()
            .map(|d| (d.id, d))
            .collect();
        let lots_used = Query::select()
            .column(dose::Column::LotId)
            .from(dose::Entity)
            .and_where(dose::Column::Id.in_subquery(doses_given(scope, backend)))
            .to_owned();
        let lot_codes: HashMap<Uuid, String> = lot::Entity::find()
            .select_only()
            .column(lot::Column::Id)
            .column(lot::Column::Code)
            .filter(lot::Column::Id.in_subquery(lots_used))
            .into_tuple::<(Uuid, String)>()
            .all(db)
            .await?
            .into_iter()
            .collect();
        Ok(Exposure { doses, lot_codes })
    }

    /// The lot code of a dose.
    pub fn lot_of(&self, dose_id: Uuid) -> String {
        self.doses
            .get(&dose_id)
            .and_then(|d| self.lot_codes.get(&d.lot_id))
            .cloned()
            .unwrap_or_default()
    }
}

pub(super) fn rows(trial: &Trial, exposure: &Exposure) -> Vec<Vec<String>> {
    let blank = String::new;
    let records = trial
        .infusions
        .iter()
        .filter_map(|i| {
            let subject = trial.subjects.get(&i.patient_id)?;
            let dose = exposure.doses.get(&i.dose_id);
            let prepared_cells = dose.and_then(|d| d.cells_to_administer).map(i64::from);
            let prepared_ul = dose.and_then(|d| d.volume_ul).map(i64::from);
            let infused_ul = i.volume_infused_ul.map(i64::from);
            let given = match (prepared_cells, prepared_ul, infused_ul) {
                (Some(cells), Some(prepared), Some(infused)) => {
                    cells_given(cells, prepared, infused)
                }
                _ => None,
            };
            let weight_g = dose.map(|d| i64::from(d.weight_g));
            let per_kg = given.zip(weight_g).and_then(|(c, g)| cells_per_kg(c, g));
            let text = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
            let row = vec![
                trial.study_id.clone(),
                "EX".to_owned(),
                subject.usubjid.clone(),
                blank(),
                dose.map(|d| d.code.to_string()).unwrap_or_default(),
                i.infusion_number.to_string(),
                TREATMENT.to_owned(),
                text(given),
                "cells".to_owned(),
                "SUSPENSION".to_owned(),
                "ONCE".to_owned(),
                "INTRAVENOUS".to_owned(),
                exposure.lot_of(i.dose_id),
                "TREATMENT".to_owned(),
                dtc(subject.zone, i.started_at),
                i.ended_at.map(|t| dtc(subject.zone, t)).unwrap_or_default(),
                subject.dy(i.started_at),
                i.ended_at.map(|t| subject.dy(t)).unwrap_or_default(),
                text(per_kg),
                text(weight_g),
                text(prepared_cells),
                text(prepared_ul),
                text(infused_ul),
            ];
            Some((
                subject.usubjid.clone(),
                (i.started_at, i.infusion_number),
                row,
            ))
        })
        .collect();
    numbered(records, 3)
}
