//! The file held against what the database already has: a donor code or
//! DIN already recorded is reused only when the file says the same about
//! it; a lot or vial already recorded, or a position already taken, is a
//! problem at its row.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use super::checks::{Bank, BoxPath};
use super::{Kind, Problem};
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
    pub unusable: HashMap<BoxPath, Kind>,
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
            problems.push(Problem::at(
                lot.row,
                "lot_number",
                Kind::new("imp-problem-lot-exists", [("lot", lot.code.clone())]),
            ));
        }
        for vial in &lot.vials {
            boxes.insert(vial.storage_box);
            if existing.vials.contains(&vial.code) {
                problems.push(Problem::at(
                    vial.row,
                    "vial_number",
                    Kind::new("imp-problem-vial-exists", [("vial", vial.code.clone())]),
                ));
            }
            let path = &bank.boxes[vial.storage_box].path;
            let position = vial.position.to_string();
            if let Some(found) = existing.boxes.get(path)
                && let Some(other) = found.occupied.get(&position)
            {
                problems.push(Problem::at(
                    vial.row,
                    "position",
                    Kind::new(
                        "imp-problem-position-taken",
                        [
                            ("box", path.display()),
                            ("position", position.clone()),
                            ("vial", other.clone()),
                        ],
                    ),
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
            problems.push(Problem::at(
                donor.row,
                "consent_at",
                Kind::new(
                    "imp-problem-donor-consent-differs",
                    [
                        ("donor", donor.code.clone()),
                        ("recorded", found.consent_at.to_rfc3339()),
                        ("file", donor.consent_at.to_rfc3339()),
                    ],
                ),
            ));
        } else if found.eligibility != donor.eligibility {
            problems.push(Problem::at(
                donor.row,
                "eligibility",
                Kind::new(
                    "imp-problem-donor-eligibility-differs",
                    [
                        ("donor", donor.code.clone()),
                        ("recorded", found.eligibility.to_string()),
                        ("file", donor.eligibility.to_string()),
                    ],
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
            problems.push(Problem::at(
                donation.row,
                "din",
                Kind::new(
                    "imp-problem-din-other-donor",
                    [
                        ("din", donation.din.display().to_string()),
                        ("recorded", found.donor_code.clone()),
                        ("file", donor.code.clone()),
                    ],
                ),
            ));
        } else if found.collected_at != donation.collected_at
            || found.received_at != donation.received_at
        {
            problems.push(Problem::at(
                donation.row,
                "collected_at",
                Kind::new(
                    "imp-problem-din-times-differ",
                    [
                        ("din", donation.din.display().to_string()),
                        ("collected", found.collected_at.to_rfc3339()),
                        ("received", found.received_at.to_rfc3339()),
                    ],
                ),
            ));
        }
    }
    let mut boxes: Vec<usize> = boxes.into_iter().collect();
    boxes.sort_unstable();
    for b in boxes {
        let entry = &bank.boxes[b];
        if let Some(why) = existing.unusable.get(&entry.path) {
            problems.push(Problem::at(entry.row, "box", why.clone()));
        } else if let Some(found) = existing.boxes.get(&entry.path)
            && (found.rows, found.cols) != (entry.rows, entry.cols)
        {
            problems.push(Problem::at(
                entry.row,
                "box_rows",
                Kind::new(
                    "imp-problem-box-size-differs",
                    [
                        ("box", entry.path.display()),
                        ("rows", found.rows.to_string()),
                        ("cols", found.cols.to_string()),
                        ("file_rows", entry.rows.to_string()),
                        ("file_cols", entry.cols.to_string()),
                    ],
                ),
            ));
        }
    }
    super::sorted(problems)
}
