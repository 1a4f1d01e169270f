//! What the database holds of the records a file names, read in a few
//! queries (codes in batches), for `domain::import::check_against` and for
//! reusing existing donors, donations and storage units.

use std::collections::HashMap;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::domain::import::checks::BoxPath;
use crate::domain::import::{Bank, Existing, ExistingBox, ExistingDonation, ExistingDonor, Kind};
use crate::domain::storage::StorageKind;
use crate::entities::{donation, donor, lot, storage_unit, vial};
use crate::error::AppResult;

/// Codes per `IN (…)` query.
const BATCH: usize = 500;

/// The storage units, by parent and name.
#[derive(Debug, Clone, Default)]
pub struct Units {
    pub by_name: HashMap<(Option<Uuid>, String), storage_unit::Model>,
}

impl Units {
    pub fn get(&self, parent: Option<Uuid>, name: &str) -> Option<&storage_unit::Model> {
        self.by_name.get(&(parent, name.to_owned()))
    }
}

/// Everything the file's records meet in the database.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub existing: Existing,
    /// Existing donors' ids by code, donations' by DIN.
    pub donor_ids: HashMap<String, Uuid>,
    pub donation_ids: HashMap<String, Uuid>,
    pub units: Units,
}

pub async fn load(db: &impl ConnectionTrait, bank: &Bank, site_id: Uuid) -> AppResult<Facts> {
    let mut facts = Facts::default();
    let codes: Vec<String> = bank.donors.iter().map(|d| d.code.clone()).collect();
    for batch in codes.chunks(BATCH) {
        for d in donor::Entity::find()
            .filter(donor::Column::Code.is_in(batch.to_vec()))
            .all(db)
            .await?
        {
            facts.donor_ids.insert(d.code.clone(), d.id);
            facts.existing.donors.insert(
                d.code,
                ExistingDonor {
                    consent_at: d.consent_at,
                    eligibility: d.eligibility,
                },
            );
        }
    }
    let dins: Vec<String> = bank.donations.iter().map(|d| d.din.compact()).collect();
    let mut found = Vec::new();
    for batch in dins.chunks(BATCH) {
        found.extend(
            donation::Entity::find()
                .filter(donation::Column::Din.is_in(batch.to_vec()))
                .all(db)
                .await?,
        );
    }
    if !found.is_empty() {
        let donor_ids: Vec<Uuid> = found.iter().map(|d| d.donor_id).collect();
        let mut codes: HashMap<Uuid, String> = HashMap::new();
        for batch in donor_ids.chunks(BATCH) {
            let rows: Vec<(Uuid, String)> = donor::Entity::find()
                .select_only()
                .column(donor::Column::Id)
                .column(donor::Column::Code)
                .filter(donor::Column::Id.is_in(batch.to_vec()))
                .into_tuple()
                .all(db)
                .await?;
            codes.extend(rows);
        }
        for d in found {
            facts.donation_ids.insert(d.din.clone(), d.id);
            facts.existing.donations.insert(
                d.din,
                ExistingDonation {
                    donor_code: codes.get(&d.donor_id).cloned().unwrap_or_default(),
                    collected_at: d.collected_at,
                    received_at: d.received_at,
                },
            );
        }
    }
    let lot_codes: Vec<String> = bank.lots.iter().map(|l| l.code.clone()).collect();
    let mut existing_lots: Vec<Uuid> = Vec::new();
    for batch in lot_codes.chunks(BATCH) {
        let rows: Vec<(Uuid, String)> = lot::Entity::find()
            .select_only()
            .column(lot::Column::Id)
            .column(lot::Column::Code)
            .filter(lot::Column::Code.is_in(batch.to_vec()))
            .into_tuple()
            .all(db)
            .await?;
        for (id, code) in rows {
            existing_lots.push(id);
            facts.existing.lots.insert(code);
        }
    }
    // a vial's code carries its lot's: only a recorded lot has vials
    for batch in existing_lots.chunks(BATCH) {
        let rows: Vec<String> = vial::Entity::find()
            .select_only()
            .column(vial::Column::Code)
            .filter(vial::Column::LotId.is_in(batch.to_vec()))
            .into_tuple()
            .all(db)
            .await?;
        facts.existing.vials.extend(rows);
    }
    for unit in storage_unit::Entity::find().all(db).await? {
        facts
            .units
            .by_name
            .insert((unit.parent_id, unit.name.clone()), unit);
    }
    let mut box_ids: HashMap<Uuid, BoxPath> = HashMap::new();
    for entry in &bank.boxes {
        match resolve(&facts.units, &entry.path, site_id) {
            Ok(Some(found)) => {
                box_ids.insert(found.id, entry.path.clone());
                facts.existing.boxes.insert(
                    entry.path.clone(),
                    ExistingBox {
                        rows: found.rows.unwrap_or(0) as u8,
                        cols: found.cols.unwrap_or(0) as u8,
                        occupied: HashMap::new(),
                    },
                );
            }
            Ok(None) => {}
            Err(why) => {
                facts.existing.unusable.insert(entry.path.clone(), why);
            }
        }
    }
    let ids: Vec<Uuid> = box_ids.keys().copied().collect();
    for batch in ids.chunks(BATCH) {
        let rows: Vec<(Option<Uuid>, Option<String>, String)> = vial::Entity::find()
            .select_only()
            .column(vial::Column::BoxId)
            .column(vial::Column::Position)
            .column(vial::Column::Code)
            .filter(vial::Column::BoxId.is_in(batch.to_vec()))
            .into_tuple()
            .all(db)
            .await?;
        for (box_id, position, code) in rows {
            if let (Some(box_id), Some(position)) = (box_id, position)
                && let Some(path) = box_ids.get(&box_id)
                && let Some(found) = facts.existing.boxes.get_mut(path)
            {
                found.occupied.insert(position, code);
            }
        }
    }
    Ok(facts)
}

/// The existing box at `path`, `None` when some level is still to be
/// created, or why the path cannot take the file's box.
pub fn resolve<'a>(
    units: &'a Units,
    path: &BoxPath,
    site_id: Uuid,
) -> Result<Option<&'a storage_unit::Model>, Kind> {
    let mut levels: Vec<(&str, StorageKind)> = vec![(path.tank.as_str(), StorageKind::Tank)];
    if let Some(rack) = &path.rack {
        levels.push((rack.as_str(), StorageKind::Rack));
    }
    levels.push((path.name.as_str(), StorageKind::Box));
    let mut parent: Option<Uuid> = None;
    let mut found = None;
    for (name, kind) in levels {
        let Some(unit) = units.get(parent, name) else {
            return Ok(None);
        };
        if unit.kind != kind {
            return Err(Kind::new(
                "imp-problem-unit-other-kind",
                [
                    ("name", name.to_owned()),
                    ("kind", unit.kind.to_string()),
                    ("wanted", kind.to_string()),
                ],
            ));
        }
        if unit.site_id != site_id {
            return Err(Kind::new(
                "imp-problem-unit-other-site",
                [("name", name.to_owned())],
            ));
        }
        parent = Some(unit.id);
        found = Some(unit);
    }
    Ok(found)
}
