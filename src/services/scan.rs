//! One scan, resolved: what the label (or the typed code) names, its state,
//! where it is, and what the person scanning may do with it now.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::domain::din::Din;
use crate::domain::lifecycle::{DoseStatus, LotStatus, VialStatus};
use crate::domain::scan::{self, ScanError, ScanKind, Scanned};
use crate::domain::storage::next_free;
use crate::entities::{donation, donor, dose, lot, vial};
use crate::error::{AppError, AppResult};
use crate::services::auth::AuthenticatedUser;
use crate::services::{sites, storage, store};
use crate::state::AppState;

/// What a scan resolved to.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub kind: &'static str,
    pub id: Uuid,
    pub code: String,
    pub status: &'static str,
    pub summary: String,
    pub allowed_actions: Vec<&'static str>,
    /// The specifics a scan station shows: location, lot, expiry, …
    pub details: Value,
}

pub async fn resolve(
    state: &AppState,
    user: &AuthenticatedUser,
    input: &str,
) -> AppResult<Resolved> {
    let scanned = scan::parse(input).map_err(|error| match error {
        ScanError::CheckCharacterMismatch { given, expected } => {
            AppError::CheckCharacterMismatch { given, expected }
        }
        other => AppError::MalformedPayload(other),
    })?;
    let mut found = match scanned {
        Scanned::Payload {
            kind: ScanKind::Vial,
            code,
        }
        | Scanned::VialCode(code) => vial(state, user, code).await,
        Scanned::Payload {
            kind: ScanKind::Lot,
            code,
        }
        | Scanned::LotCode(code) => lot(state, user, code).await,
        Scanned::Payload {
            kind: ScanKind::Patient,
            code,
        } => patient(state, user, code).await,
        Scanned::Payload {
            kind: ScanKind::Dose,
            code,
        } => dose(state, user, code).await,
        Scanned::Payload {
            kind: ScanKind::Box,
            code,
        } => storage_box(state, user, code).await,
        Scanned::Payload {
            kind: ScanKind::Shipper,
            code,
        } => crate::services::shipments::documents::scan_shipper(state, user, code).await,
        Scanned::Payload {
            kind: ScanKind::Shipment,
            code,
        } => crate::services::shipments::documents::scan_shipment(state, user, code).await,
        Scanned::Din(din) => return donation(state, user, din).await,
    }?;
    // a record held at another site is looked at, not acted on there
    if let Some(site_id) = found.details["site_id"]
        .as_str()
        .and_then(|id| Uuid::parse_str(id).ok())
    {
        let site = sites::get(state, site_id).await?;
        found.details["site"] = json!(site.name);
        if !sites::of_user(state, user.user_id)
            .await?
            .contains(&site_id)
        {
            found.allowed_actions = scan::elsewhere(found.allowed_actions);
            found.details["elsewhere"] = json!(true);
            found.summary.push_str(&format!(" · at {}", site.name));
        }
    }
    Ok(found)
}

async fn vial(state: &AppState, user: &AuthenticatedUser, code: String) -> AppResult<Resolved> {
    let found = vial::Entity::find()
        .filter(vial::Column::Code.eq(code.as_str()))
        .find_also_related(lot::Entity)
        .one(state.db.conn())
        .await?;
    let Some((vial, Some(lot))) = found else {
        return Err(AppError::UnknownCode { kind: "vial", code });
    };
    let status: VialStatus = vial.status;
    let lot_status: LotStatus = lot.status;
    let expired = lot.expires_at <= state.clock.now();
    let location = match (vial.box_id, &vial.position) {
        (Some(box_id), Some(position)) => {
            let unit = storage::unit(state, box_id).await?;
            Some(json!({
                "box_id": box_id,
                "position": position,
                "path": crate::domain::storage::location_path([unit.path.as_str()], Some(position)),
            }))
        }
        _ => None,
    };
    // packed into a shipment: in its shipper
    let shipment = match vial.shipment_id {
        Some(id) => Some(crate::services::shipments::get(state, id).await?),
        None => None,
    };
    let place = location
        .as_ref()
        .and_then(|l| l["path"].as_str().map(str::to_owned))
        .or_else(|| {
            shipment.as_ref().map(|s| {
                crate::domain::shipment::in_transit_location(&s.container.code, &s.shipment.code)
            })
        })
        .unwrap_or_else(|| "not in storage".into());
    let summary = format!(
        "Vial {} · {} · {} · lot {} ({}) · {} cells · {} {}",
        vial.code,
        status,
        place,
        lot.code,
        lot_status,
        crate::domain::units::millions(vial.cells_per_vial),
        if expired { "EXPIRED" } else { "expires" },
        state.settings.timezone.day(lot.expires_at),
    );
    Ok(Resolved {
        kind: "vial",
        id: vial.id,
        allowed_actions: scan::vial_actions(
            user.role,
            status,
            location.is_some(),
            lot_status,
            expired,
        ),
        details: json!({
            "lot_id": lot.id,
            "lot_code": lot.code,
            "lot_status": lot_status,
            "din": vial.din,
            "product_code": lot.product_code,
            "cells_per_vial": vial.cells_per_vial,
            "volume_ul": vial.volume_ul,
            "location": location,
            "expires_at": lot.expires_at,
            "expired": expired,
            "labels_issued": vial.labels_issued,
            "site_id": vial.site_id,
            "shipment_id": vial.shipment_id,
            "shipment": shipment.as_ref().map(|s| s.shipment.code.clone()),
            "place": place,
        }),
        code: vial.code.into(),
        status: status.as_str(),
        summary,
    })
}

async fn lot(state: &AppState, user: &AuthenticatedUser, code: String) -> AppResult<Resolved> {
    let Some(lot) = lot::Entity::find()
        .filter(lot::Column::Code.eq(code.as_str()))
        .one(state.db.conn())
        .await?
    else {
        return Err(AppError::UnknownCode { kind: "lot", code });
    };
    let status: LotStatus = lot.status;
    let expired = lot.expires_at <= state.clock.now();
    let summary = format!(
        "Lot {} · {} · {} · {} vials · {} {}",
        lot.code,
        status,
        lot.product_code,
        lot.vial_count
            .map(|n| n.to_string())
            .unwrap_or_else(|| "no".into()),
        if expired { "EXPIRED" } else { "expires" },
        state.settings.timezone.day(lot.expires_at),
    );
    Ok(Resolved {
        kind: "lot",
        id: lot.id,
        allowed_actions: scan::lot_actions(user.role, status, expired),
        details: json!({
            "din": lot.din,
            "product_code": lot.product_code,
            "vial_count": lot.vial_count,
            "cells_per_vial": lot.cells_per_vial,
            "expires_at": lot.expires_at,
            "expired": expired,
            "site_id": lot.site_id,
        }),
        code: lot.code,
        status: status.as_str(),
        summary,
    })
}

async fn patient(state: &AppState, user: &AuthenticatedUser, code: String) -> AppResult<Resolved> {
    let db = state.db.conn();
    let Some(patient) = crate::services::patients::by_subject_code(db, &code).await? else {
        return Err(AppError::UnknownCode {
            kind: "patient",
            code,
        });
    };
    let current = crate::services::protocol::in_force(state).await?;
    let rules = &current.protocol;
    let given = crate::services::doses::infusion_starts(db, patient.id).await?;
    let open = dose::Entity::find()
        .filter(dose::Column::PatientId.eq(patient.id))
        .filter(dose::Column::Status.is_in(DoseStatus::OPEN.map(DoseStatus::as_str)))
        .one(db)
        .await?;
    let open_status: Option<DoseStatus> = open.as_ref().map(|d| d.status);
    let more_allowed =
        crate::services::doses::schedule(rules, state.settings.timezone, &given, state.clock.now())
            .is_ok();
    let given_count = given.len();
    let status = if given_count as i32 >= rules.infusions {
        "completed"
    } else {
        "enrolled"
    };
    let summary = format!(
        "Patient {} · {} of {} infusions given{}",
        patient.subject_code,
        given_count,
        rules.infusions,
        match &open {
            Some(d) => format!(" · dose {} {}", d.code, d.status),
            None => String::new(),
        }
    );
    Ok(Resolved {
        kind: "patient",
        id: patient.id,
        status,
        summary,
        allowed_actions: scan::patient_actions(user.role, open_status, more_allowed),
        details: json!({
            "infusions_given": given_count,
            "infusions_total": rules.infusions,
            "open_dose": open.as_ref().map(|d| json!({"id": d.id, "code": d.code, "status": d.status})),
            "site_id": patient.site_id,
        }),
        code: patient.subject_code.into(),
    })
}

async fn dose(state: &AppState, user: &AuthenticatedUser, code: String) -> AppResult<Resolved> {
    let db = state.db.conn();
    let Some(found) = crate::services::doses::by_code(db, &code).await? else {
        return Err(AppError::UnknownCode { kind: "dose", code });
    };
    let record = crate::services::doses::load(state, db, found.id, false).await?;
    let status = record.status()?;
    let patient_site =
        store::find_or_404::<crate::entities::patient::Entity>(db, record.dose.patient_id)
            .await?
            .site_id;
    let summary = format!(
        "Dose {} · {} · patient {} · infusion {} of {} · lot {}{}",
        record.dose.code,
        status,
        record.subject_code,
        record.dose.infusion_number,
        record.infusions_total,
        record.lot.code,
        match (record.dose.volume_ul, record.use_by) {
            (Some(volume), Some(use_by)) => format!(
                " · give {} · use by {}",
                crate::domain::units::millilitres(volume),
                state.settings.timezone.minute(use_by)
            ),
            _ => String::new(),
        }
    );
    Ok(Resolved {
        kind: "dose",
        id: record.dose.id,
        status: status.as_str(),
        summary,
        allowed_actions: scan::dose_actions(user.role, status),
        details: json!({
            "patient_id": record.dose.patient_id,
            "subject_code": record.subject_code,
            "infusion_number": record.dose.infusion_number,
            "lot_id": record.lot.id,
            "lot_code": record.lot.code,
            "vials": record.vials.iter().map(|v| json!({"id": v.id, "code": v.code, "status": v.status})).collect::<Vec<_>>(),
            "volume_ul": record.dose.volume_ul,
            "cells_to_administer": record.dose.cells_to_administer,
            "thawed_at": record.dose.thawed_at,
            "use_by": record.use_by,
            "site_id": patient_site,
        }),
        code: record.dose.code.into(),
    })
}

/// A DIN typed from a damaged label names the donation; its lots are
/// listed so the person can go on to the right one.
async fn donation(state: &AppState, user: &AuthenticatedUser, din: Din) -> AppResult<Resolved> {
    let found = donation::Entity::find()
        .filter(donation::Column::Din.eq(din.compact()))
        .find_also_related(donor::Entity)
        .one(state.db.conn())
        .await?;
    let Some((donation, Some(donor))) = found else {
        return Err(AppError::UnknownCode {
            kind: "donation",
            code: din.display(),
        });
    };
    let lots = lot::Entity::find()
        .filter(lot::Column::DonationId.eq(donation.id))
        .order_by_asc(lot::Column::Code)
        .all(state.db.conn())
        .await?;
    let summary = format!(
        "Donation {} · collected {} · donor {} · {} lot(s): {}",
        din.display(),
        state.settings.timezone.day(donation.collected_at),
        donor.eligibility,
        lots.len(),
        lots.iter()
            .map(|l| format!("{} ({})", l.code, l.status))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut actions = Vec::new();
    if user.role == crate::domain::accounts::Role::Lab {
        actions.push("create_lot");
    }
    if user.role != crate::domain::accounts::Role::Admin {
        actions.extend(["history", "trace"]);
    }
    Ok(Resolved {
        kind: "donation",
        id: donation.id,
        code: din.display(),
        status: donor.eligibility.as_str(),
        summary,
        allowed_actions: actions,
        details: json!({
            "din": donation.din,
            "donor_eligibility": donor.eligibility,
            "collected_at": donation.collected_at,
            "lots": lots.iter().map(|l| json!({"id": l.id, "code": l.code, "status": l.status})).collect::<Vec<_>>(),
        }),
    })
}

/// A storage box's label: where it is, how full, and where the next vial
/// goes. Its code is its id.
async fn storage_box(
    state: &AppState,
    user: &AuthenticatedUser,
    code: String,
) -> AppResult<Resolved> {
    let unknown = || AppError::UnknownCode {
        kind: "box",
        code: code.clone(),
    };
    let id = Uuid::parse_str(&code).map_err(|_| unknown())?;
    let contents = match storage::contents(state, id).await {
        Err(AppError::NotFound { .. }) => return Err(unknown()),
        other => other?,
    };
    let unit = &contents.unit;
    let (Some(rows), Some(cols)) = (unit.rows, unit.cols) else {
        return Err(unknown());
    };
    let taken: std::collections::HashSet<&str> = contents
        .vials
        .iter()
        .filter_map(|v| v.position.as_deref())
        .collect();
    let next = next_free(rows, cols, |p| taken.contains(p.to_string().as_str()));
    let total = usize::from(rows) * usize::from(cols);
    let summary = format!(
        "Box {} · {rows} × {cols} · {} of {total} positions taken{}",
        unit.path,
        taken.len(),
        match next {
            Some(p) => format!(" · next free {p}"),
            None => " · full".into(),
        }
    );
    Ok(Resolved {
        kind: "box",
        id: unit.id,
        code: unit.id.to_string().to_ascii_uppercase(),
        status: if next.is_some() { "has_room" } else { "full" },
        summary,
        allowed_actions: scan::box_actions(user.role, next.is_some()),
        details: json!({
            "path": unit.path,
            "name": unit.name,
            "rows": rows,
            "cols": cols,
            "vials": taken.len(),
            "free": total - taken.len(),
            "next_free": next.map(|p| p.to_string()),
            "site_id": unit.site_id,
        }),
    })
}
