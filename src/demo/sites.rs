//! The demo's second site: Ward 3, a clinical site with its own tank and
//! its own pharmacist (`ward.demo`, who works there only), and a shipment
//! of six vials from the cell lab, packed, sealed, picked up, scanned in
//! and received under signature five days before today. A second shipper
//! waits at the cell lab for the next one.

use anyhow::Context;
use chrono::Duration;
use uuid::Uuid;

use super::{Team, err};
use crate::domain::lifecycle::VialStatus;
use crate::domain::shipment::HandoverKind;
use crate::domain::site::NewSite;
use crate::domain::storage::StorageKind;
use crate::entities::vial;
use crate::services::auth::AuthenticatedUser;
use crate::services::signatures::VerifiedSignature;
use crate::services::{Actor, shipments, sites, storage};
use crate::state::AppState;

/// The ward's name and facility identification number.
pub const WARD: (&str, &str) = ("Ward 3 (demo)", "B1234");

/// Makes the ward and ships six vials of the first of `lot_ids` with any
/// left to it; answers the ward's tank.
pub(super) async fn second_site(
    state: &AppState,
    team: &Team,
    ward_user: &AuthenticatedUser,
    ward_signature: &VerifiedSignature,
    lot_ids: &[Uuid],
) -> anyhow::Result<Uuid> {
    let system = Actor::system("demo");
    let step = |minutes: i64| {
        state
            .clock
            .jump_to(state.clock.now() + Duration::minutes(minutes))
    };
    let new = NewSite::parse(WARD.0, "clinical", WARD.1, state.settings.timezone.name())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let ward = sites::create(state, &system, new).await.map_err(err)?;
    // the ward's pharmacist works there only; quality oversees both
    sites::grant(state, &system, ward_user.user_id, ward.id)
        .await
        .map_err(err)?;
    sites::revoke(
        state,
        &system,
        ward_user.user_id,
        crate::domain::site::DEFAULT_SITE_ID,
        "works at Ward 3 only",
    )
    .await
    .map_err(err)?;
    if let Some(quality) = team.quality_signature.signer.actor().id {
        sites::grant(state, &system, quality, ward.id)
            .await
            .map_err(err)?;
    }
    let unit = |name: &'static str, kind, parent, size| storage::NewUnit {
        name,
        kind,
        parent_id: parent,
        rows: size,
        cols: size,
        site_id: Some(ward.id),
    };
    let tank = storage::create(
        state,
        &system,
        unit("Ward tank (demo)", StorageKind::Tank, None, None),
    )
    .await
    .map_err(err)?;
    let rack = storage::create(
        state,
        &system,
        unit("Rack W", StorageKind::Rack, Some(tank.id), None),
    )
    .await
    .map_err(err)?;
    let ward_box = storage::create(
        state,
        &system,
        unit("Box W1", StorageKind::Box, Some(rack.id), Some(9)),
    )
    .await
    .map_err(err)?;

    step(30);
    let shipper = shipments::add_container(state, &team.lab, "DS-07", None)
        .await
        .map_err(err)?;
    shipments::add_container(state, &team.lab, "DS-08", None)
        .await
        .map_err(err)?;
    let shipment = shipments::create(state, &team.lab, None, ward.id, shipper.id)
        .await
        .map_err(err)?;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
    // the last vials of the first lot with any left
    let lot_id = vial::Entity::find()
        .filter(vial::Column::LotId.is_in(lot_ids.iter().copied()))
        .filter(vial::Column::Status.eq(VialStatus::Available))
        .order_by_asc(vial::Column::Code)
        .one(state.db.conn())
        .await?
        .map(|v| v.lot_id)
        .ok_or_else(|| anyhow::anyhow!("no available vial to ship"))?;
    let going = vial::Entity::find()
        .filter(vial::Column::LotId.eq(lot_id))
        .filter(vial::Column::Status.eq(VialStatus::Available))
        .order_by_desc(vial::Column::Code)
        .limit(6)
        .all(state.db.conn())
        .await?;
    for v in &going {
        step(1);
        shipments::pack(state, &team.lab, shipment.shipment.id, v.code.as_str())
            .await
            .map_err(err)?;
    }
    step(10);
    shipments::seal(state, &team.lab_seal_signature, shipment.shipment.id)
        .await
        .map_err(err)?;
    step(45);
    shipments::hand_over(
        state,
        &team.lab,
        shipment.shipment.id,
        HandoverKind::PickUp,
        "Liu Yang, SF Express cold chain",
    )
    .await
    .map_err(err)?;
    step(180);
    let ward_actor = ward_user.actor();
    shipments::hand_over(
        state,
        &ward_actor,
        shipment.shipment.id,
        HandoverKind::Arrival,
        "Liu Yang, SF Express cold chain",
    )
    .await
    .map_err(err)?;
    for (n, v) in going.iter().enumerate() {
        step(1);
        shipments::scan_in(
            state,
            &ward_actor,
            shipment.shipment.id,
            v.code.as_str(),
            ward_box.id,
            &format!("A{}", n + 1),
        )
        .await
        .map_err(err)?;
    }
    step(5);
    shipments::close(state, ward_signature, shipment.shipment.id, Vec::new())
        .await
        .map_err(err)?;
    Ok(tank.id)
}

/// The ward tank's monitoring since the vials arrived, every quarter of an
/// hour up to now: cold, but for one warm spell of 40 minutes in the night
/// two days ago (a lid left ajar) that puts the six vials inside on hold
/// for the quality officer to decide.
pub(super) async fn excursion(
    state: &AppState,
    tank: Uuid,
    from: chrono::DateTime<chrono::Utc>,
    warm_at: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<()> {
    use crate::domain::temperature::{CentiCelsius, Reading};
    use crate::services::temperature::{self, Sent};
    let until = state.clock.now() - Duration::minutes(5);
    let mut readings = Vec::new();
    let mut at = from;
    let mut n = 0u32;
    while at <= until {
        let warm = at >= warm_at && at < warm_at + Duration::minutes(40);
        // vapour phase about −185 °C, wandering by a few tenths
        let centi = if warm {
            -13_820 + (n % 7) as i32 * 35
        } else {
            -18_520 + (n % 5) as i32 * 12
        };
        readings.push(Sent {
            reading: Reading {
                at,
                temperature: CentiCelsius::new(centi).context("a temperature")?,
            },
            place: format!("reading {}", n + 1),
        });
        at += Duration::minutes(15);
        n += 1;
    }
    // the ward's monitoring system, pushing as the service
    temperature::record_for_unit(
        state,
        &Actor::system("temperature monitor"),
        tank,
        readings,
        "demo monitor",
    )
    .await
    .map_err(err)?;
    Ok(())
}
