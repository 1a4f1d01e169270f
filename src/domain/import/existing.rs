//! The file held against what the database already has: a donor code or
//! DIN already recorded is reused only when the file says the same about
//! it; a lot or vial already recorded, or a position already taken, is a
//! problem at its row.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use super::Problem;
use super::checks::{Bank, BoxPath};
use crate::domain::donor::Eligibility;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExistingDonor {
    pub consent_at: DateTime<Utc>,
    pub eligibility: Eligibility,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExistingDonation {
    pub donor_code: String,
    pub collected_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExistingBox {
    pub rows: u8,
    pub cols: u8,
    /// Taken positions (`B4`) and the code of the vial there.
    pub occupied: HashMap<String, String>,
}

/// What the database holds of the records the file names.
#[derive(Debug, Clone, Default)]
pub struct Existing {
    /// By donor code.
    pub donors: HashMap<String, ExistingDonor>,
    /// By the DIN's 13 characters.
    pub donations: HashMap<String, ExistingDonation>,
    pub lots: HashSet<String>,
    pub vials: HashSet<String>,
    pub boxes: HashMap<BoxPath, ExistingBox>,
    /// Paths that exist but cannot take the file's box (a unit of another
    /// kind or site under that name), with the reason.
    pub unusable: HashMap<BoxPath, String>,
}

/// Problems of the file's records `lots` (indices into `bank.lots`) and
/// what they hang on against the database.
pub fn check_against(bank: &Bank, existing: &Existing, lots: &[usize]) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut donors = HashSet::new();
    let mut donations = HashSet::new();
    let mut boxes = HashSet::new();
    for &l in lots {
        let lot = &bank.lots[l];
        donations.insert(lot.donation);
        donors.insert(bank.donations[lot.donation].donor);
        if existing.lots.contains(&lot.code) {
            problems.push(Problem::new(
                lot.row,
                "lot_number",
                format!("lot {} is already recorded", lot.code),
            ));
        }
        for vial in &lot.vials {
            boxes.insert(vial.storage_box);
            if existing.vials.contains(&vial.code) {
                problems.push(Problem::new(
                    vial.row,
                    "vial_number",
                    format!("vial {} is already recorded", vial.code),
                ));
            }
            let path = &bank.boxes[vial.storage_box].path;
            let position = vial.position.to_string();
            if let Some(found) = existing.boxes.get(path)
                && let Some(other) = found.occupied.get(&position)
            {
                problems.push(Problem::new(
                    vial.row,
                    "position",
                    format!("{} {position} already holds vial {other}", path.display()),
                ));
            }
        }
    }
    let mut donors: Vec<usize> = donors.into_iter().collect();
    donors.sort_unstable();
    for d in donors {
        let donor = &bank.donors[d];
        let Some(found) = existing.donors.get(&donor.code) else {
            continue;
        };
        if found.consent_at != donor.consent_at {
            problems.push(Problem::new(
                donor.row,
                "consent_at",
                format!(
                    "donor {} is already recorded with consent at {}; the file says {}",
                    donor.code,
                    found.consent_at.to_rfc3339(),
                    donor.consent_at.to_rfc3339()
                ),
            ));
        } else if found.eligibility != donor.eligibility {
            problems.push(Problem::new(
                donor.row,
                "eligibility",
                format!(
                    "donor {} is already recorded as {}; the file says {} (a change of eligibility is quality's own signed decision)",
                    donor.code, found.eligibility, donor.eligibility
                ),
            ));
        }
    }
    let mut donations: Vec<usize> = donations.into_iter().collect();
    donations.sort_unstable();
    for d in donations {
        let donation = &bank.donations[d];
        let din = donation.din.compact();
        let Some(found) = existing.donations.get(&din) else {
            continue;
        };
        let donor = &bank.donors[donation.donor];
        if found.donor_code != donor.code {
            problems.push(Problem::new(
                donation.row,
                "din",
                format!(
                    "DIN {} is already recorded for donor {}, not {}",
                    donation.din.display(),
                    found.donor_code,
                    donor.code
                ),
            ));
        } else if found.collected_at != donation.collected_at
            || found.received_at != donation.received_at
        {
            problems.push(Problem::new(
                donation.row,
                "collected_at",
                format!(
                    "DIN {} is already recorded as collected {} and received {}; the file differs",
                    donation.din.display(),
                    found.collected_at.to_rfc3339(),
                    found.received_at.to_rfc3339()
                ),
            ));
        }
    }
    let mut boxes: Vec<usize> = boxes.into_iter().collect();
    boxes.sort_unstable();
    for b in boxes {
        let entry = &bank.boxes[b];
        if let Some(why) = existing.unusable.get(&entry.path) {
            problems.push(Problem::new(entry.row, "box", why.clone()));
        } else if let Some(found) = existing.boxes.get(&entry.path)
            && (found.rows, found.cols) != (entry.rows, entry.cols)
        {
            problems.push(Problem::new(
                entry.row,
                "box_rows",
                format!(
                    "box {} already exists with {}×{} positions; the file says {}×{}",
                    entry.path.display(),
                    found.rows,
                    found.cols,
                    entry.rows,
                    entry.cols
                ),
            ));
        }
    }
    super::sorted(problems)
}
