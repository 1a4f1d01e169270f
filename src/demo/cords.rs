//! The lab's side of the demo: a cord from an eligible donor made into a
//! lot, its QC, its vials frozen, stored and labelled.

use chrono::{DateTime, Utc};

use crate::domain::donor::{Eligibility, ScreeningOutcome, ScreeningTest, Specimen};
use crate::entities::{lot, vial};
use crate::services::{donations, donors, labels, lots};
use crate::state::AppState;

use super::{Team, at, err};

/// lot, given the QC results in `qc` (as many as have come back), frozen
/// into vials and labelled. The `n`th donor, collected on `day`.
#[allow(clippy::too_many_arguments)]
pub(super) async fn cord_lot(
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
            site_id: None,
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
