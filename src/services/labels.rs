//! Labels: the data each label prints, read from the records (rendering is
//! `crate::labels`), and label reconciliation: every label issued for
//! printing is recorded with who, when, how many and why (FACT-JACIE asks
//! that each label issued for a product be accounted for). Rendering is
//! side-effect free; issuing is a ledgered state change.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde_json::json;
use uuid::Uuid;

use crate::domain::din::Din;
use crate::domain::lifecycle::VialStatus;
use crate::domain::patient::tenths_display;
use crate::domain::scan::{ScanKind, payload};
use crate::domain::storage::StorageKind;
use crate::domain::units::{grouped, millilitres, millions};
use crate::domain::zone::SiteZone;
use crate::entities::{custody_event, donation, dose, lot, patient, storage_unit, vial};
use crate::error::{AppError, AppResult};
use crate::labels::{LabelData, LabelKind};
use crate::services::ledger::{self, NewEvent};
use crate::services::store;
use crate::services::{Actor, demo_mark};
use crate::state::AppState;

pub use crate::domain::label::MAX_COPIES;
use crate::domain::label::{UNLABELLED, check_labellable, check_request};

fn din_parts(din: &str) -> (String, String) {
    match Din::parse(din) {
        Ok(parsed) => {
            let display = parsed.display();
            let (data, check) = display.split_at(display.len() - 1);
            (data.trim_end().to_owned(), check.to_owned())
        }
        Err(_) => (din.to_owned(), String::new()),
    }
}

/// What a vial's label prints.
/// Dates are the site's calendar dates.
pub fn vial_data(vial: &vial::Model, lot: &lot::Model, zone: SiteZone) -> LabelData {
    let date = |t: DateTime<Utc>| zone.day(t);
    let mut data = LabelData::new(LabelKind::Vial, payload(ScanKind::Vial, &vial.code));
    let (din_display, din_check) = din_parts(&vial.din);
    data.set("vial_code", vial.code.clone());
    data.set("din", vial.din.clone());
    data.set("din_display", din_display);
    data.set("din_check", din_check);
    data.set("product_code", lot.product_code.clone());
    data.set("lot_code", lot.code.clone());
    data.set("cells_per_vial", grouped(vial.cells_per_vial));
    data.set("cells_per_vial_millions", millions(vial.cells_per_vial));
    data.set("volume", millilitres(vial.volume_ul));
    data.set("frozen_date", date(vial.frozen_at));
    data.set("expiry_date", date(lot.expires_at));
    data
}

/// What a lot's (or its box's) label prints.
pub fn lot_data(lot: &lot::Model, zone: SiteZone) -> LabelData {
    let date = |t: DateTime<Utc>| zone.day(t);
    let mut data = LabelData::new(LabelKind::Lot, payload(ScanKind::Lot, &lot.code));
    let (din_display, din_check) = din_parts(&lot.din);
    let unknown = || "—".to_owned();
    data.set("lot_code", lot.code.clone());
    data.set("din", lot.din.clone());
    data.set("din_display", din_display);
    data.set("din_check", din_check);
    data.set("product_code", lot.product_code.clone());
    data.set("passage", lot.passage.to_string());
    data.set(
        "vial_count",
        lot.vial_count
            .map(|n| n.to_string())
            .unwrap_or_else(unknown),
    );
    data.set(
        "cells_per_vial_millions",
        lot.cells_per_vial.map(millions).unwrap_or_else(unknown),
    );
    data.set(
        "volume",
        lot.volume_ul.map(millilitres).unwrap_or_else(unknown),
    );
    data.set("manufactured_date", date(lot.manufactured_at));
    data.set(
        "frozen_date",
        lot.frozen_at.map(&date).unwrap_or_else(unknown),
    );
    data.set("expiry_date", date(lot.expires_at));
    data
}

/// What a patient's wristband prints.
pub async fn wristband_label(state: &AppState, patient_id: Uuid) -> AppResult<LabelData> {
    let db = state.db.conn();
    let patient = crate::services::patients::find(db, patient_id).await?;
    let current = crate::services::protocol::current(db).await?;
    let mut data = LabelData::new(
        LabelKind::Wristband,
        payload(ScanKind::Patient, &patient.subject_code),
    );
    data.set("subject_code", patient.subject_code.clone());
    data.set(
        "birth_date",
        patient.birth_date.format("%Y-%m-%d").to_string(),
    );
    data.set("trial_id", current.protocol.trial_id);
    let (coi_display, coi_check) = patient
        .coi
        .as_deref()
        .map(crate::domain::coi::display_parts)
        .unwrap_or_else(|| ("—".to_owned(), String::new()));
    data.set("coi", patient.coi.clone().unwrap_or_else(|| "—".to_owned()));
    data.set("coi_display", coi_display);
    data.set("coi_check", coi_check);
    data.demo = demo_mark::is_demo(state).await?;
    Ok(data)
}

/// What a dose bag's label prints.
pub async fn dose_label(state: &AppState, dose_id: Uuid) -> AppResult<LabelData> {
    let db = state.db.conn();
    let record = crate::services::doses::load(state, db, dose_id, false).await?;
    let rules = &record.rules;
    let dose = &record.dose;
    let mut data = LabelData::new(LabelKind::Dose, payload(ScanKind::Dose, &dose.code));
    let dash = || "—".to_owned();
    let zone = state.settings.timezone;
    let time = |t: DateTime<Utc>| zone.minute(t);
    data.set("subject_code", record.subject_code.clone());
    data.set("dose_code", dose.code.clone());
    data.set("infusion_number", dose.infusion_number.to_string());
    data.set("infusions_total", record.infusions_total.to_string());
    data.set("target_cells_millions", millions(dose.target_cells));
    data.set("min_cells_millions", millions(dose.min_cells));
    data.set("max_cells_millions", millions(dose.max_cells));
    data.set(
        "cells_to_administer_millions",
        dose.cells_to_administer.map(millions).unwrap_or_else(dash),
    );
    data.set(
        "volume",
        dose.volume_ul.map(millilitres).unwrap_or_else(dash),
    );
    data.set("lot_code", record.lot.code.clone());
    data.set("product_code", record.lot.product_code.clone());
    // the Chain of Identity identifier beside the DIN, each with its
    // boxed check character (`domain::coi`)
    let (din_display, din_check) = din_parts(&record.lot.din);
    data.set("din", record.lot.din.clone());
    data.set("din_display", din_display);
    data.set("din_check", din_check);
    let (coi_display, coi_check) = record
        .coi
        .as_deref()
        .map(crate::domain::coi::display_parts)
        .unwrap_or_else(|| (dash(), String::new()));
    data.set("coi", record.coi.clone().unwrap_or_else(dash));
    data.set("coi_display", coi_display);
    data.set("coi_check", coi_check);
    data.set("vial_codes", vial_list(&record.vials));
    data.set("thawed_at", dose.thawed_at.map(time).unwrap_or_else(dash));
    data.set("use_by", record.use_by.map(time).unwrap_or_else(dash));
    // the second identifier, for the person reading the bag (never in the QR)
    data.set(
        "birth_date",
        record.birth_date.format("%Y-%m-%d").to_string(),
    );
    let viabilities: Vec<i32> = record
        .vials
        .iter()
        .filter_map(|v| record.current_count(v.id))
        .map(|c| c.viability_tenths)
        .collect();
    data.set(
        "viability",
        match (viabilities.iter().min(), viabilities.iter().max()) {
            (Some(low), Some(high)) if low == high => format!("{} %", tenths_display(*low)),
            (Some(low), Some(high)) => {
                format!("{}–{} %", tenths_display(*low), tenths_display(*high))
            }
            _ => dash(),
        },
    );
    data.set(
        "concentration",
        dose.concentration_cells_per_ml
            .map(|c| format!("{}/mL", millions(c)))
            .unwrap_or_else(dash),
    );
    data.set("trial_id", rules.trial_id.clone());
    data.demo = demo_mark::is_demo(state).await?;
    Ok(data)
}

/// What a donation's DIN label prints: the DIN with its check character
/// and the cord's dates, nothing about the donor. `domain::scan` has no
/// payload kind for a donation; the QR carries the DIN itself with its
/// check character (a code), which the scan station reads as the donation.
pub async fn donation_label(state: &AppState, donation_id: Uuid) -> AppResult<LabelData> {
    let donation = crate::services::donations::get(state, donation_id).await?;
    let din = crate::services::donations::din_of(&donation)?;
    let zone = state.settings.timezone;
    let payload = format!("{}{}", din.compact(), din.check_character());
    let mut data = LabelData::new(LabelKind::Donation, payload);
    let (din_display, din_check) = din_parts(&donation.din);
    data.set("din", din.compact());
    data.set("din_display", din_display);
    data.set("din_check", din_check);
    data.set("collected_date", zone.day(donation.collected_at));
    data.set("received_date", zone.day(donation.received_at));
    data.demo = demo_mark::is_demo(state).await?;
    Ok(data)
}

/// What a storage box's side label prints: its path of unit names and its
/// grid; the QR carries the box's id (`CT1:B:<UUID>`). Nothing about the
/// vials inside. A tank or a rack has no label: `not_a_box`.
pub async fn box_label(state: &AppState, box_id: Uuid) -> AppResult<LabelData> {
    let unit = crate::services::storage::unit(state, box_id).await?;
    let (StorageKind::Box, Some(rows), Some(cols)) = (unit.kind, unit.rows, unit.cols) else {
        return Err(AppError::NotABox(box_id));
    };
    let code = unit.id.hyphenated().to_string().to_ascii_uppercase();
    let mut data = LabelData::new(LabelKind::Box, payload(ScanKind::Box, &code));
    data.set("box_name", unit.name.clone());
    data.set("box_path", path_lines(&unit.path));
    data.set("grid", format!("{rows} × {cols}"));
    data.demo = demo_mark::is_demo(state).await?;
    Ok(data)
}

/// A unit path as the label wraps it: after a `›`, not inside a short name
/// ("Tank 46 ›" / "Rack A ›" / "Box 1", never "Rack A › Box" / "1"). The
/// words of a short name and the `›` after each name are joined by
/// no-break spaces; a long name still breaks at its own spaces.
fn path_lines(path: &str) -> String {
    /// A name this short is read as one word ("Rack A", "Box 12").
    const SHORT_NAME: usize = 16;
    let names: Vec<String> = path
        .split(" › ")
        .map(|name| {
            if name.chars().count() <= SHORT_NAME {
                name.replace(' ', "\u{a0}")
            } else {
                name.to_owned()
            }
        })
        .collect();
    names.join("\u{a0}› ")
}

/// Vial codes, the shared lot prefix written once: `A…-L01-V001, -V002`.
fn vial_list(vials: &[vial::Model]) -> String {
    let mut out = String::new();
    for (i, v) in vials.iter().enumerate() {
        if i == 0 {
            out.push_str(&v.code);
        } else {
            out.push_str(", ");
            match v.code.rfind("-V") {
                Some(at) if vials[0].code.get(..at) == v.code.get(..at) => {
                    out.push_str(&v.code[at..])
                }
                _ => out.push_str(&v.code),
            }
        }
    }
    out
}

/// A vial's label data (one query).
pub async fn vial_label(state: &AppState, vial_id: Uuid) -> AppResult<LabelData> {
    let (vial, lot) = vial::Entity::find_by_id(vial_id)
        .find_also_related(lot::Entity)
        .one(state.db.conn())
        .await?
        .ok_or_else(|| AppError::not_found("vial", vial_id))?;
    let lot = lot.ok_or_else(|| AppError::not_found("lot", vial.lot_id))?;
    let mut data = vial_data(&vial, &lot, state.settings.timezone);
    data.demo = demo_mark::is_demo(state).await?;
    Ok(data)
}

pub async fn lot_label(state: &AppState, lot_id: Uuid) -> AppResult<LabelData> {
    let lot = find_lot(state.db.conn(), lot_id).await?;
    let mut data = lot_data(&lot, state.settings.timezone);
    data.demo = demo_mark::is_demo(state).await?;
    Ok(data)
}

/// The labels of the lot's sheet, by vial code (two queries).
pub async fn lot_sheet(state: &AppState, lot_id: Uuid) -> AppResult<(lot::Model, Vec<LabelData>)> {
    let lot = find_lot(state.db.conn(), lot_id).await?;
    let vials = sheet_vials(state.db.conn(), lot_id).await?;
    let zone = state.settings.timezone;
    let demo = demo_mark::is_demo(state).await?;
    let labels = vials
        .iter()
        .map(|v| LabelData {
            demo,
            ..vial_data(v, &lot, zone)
        })
        .collect();
    Ok((lot, labels))
}

async fn find_lot(db: &impl ConnectionTrait, lot_id: Uuid) -> AppResult<lot::Model> {
    store::find_or_404::<lot::Entity>(db, lot_id).await
}

async fn sheet_vials(db: &impl ConnectionTrait, lot_id: Uuid) -> AppResult<Vec<vial::Model>> {
    Ok(vial::Entity::find()
        .filter(vial::Column::LotId.eq(lot_id))
        .filter(vial::Column::Status.is_not_in(UNLABELLED.map(VialStatus::as_str)))
        .order_by_asc(vial::Column::Code)
        .all(db)
        .await?)
}

/// How a record is named from outside the API (the `label` command).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordName {
    Id(Uuid),
    Code(String),
}

/// The id of the vial, lot or dose so named, if there is one.
pub async fn find_labelled(
    state: &AppState,
    kind: ScanKind,
    name: &RecordName,
) -> AppResult<Option<Uuid>> {
    let db = state.db.conn();
    macro_rules! find {
        ($entity:ident, $code:ident) => {{
            let query = $entity::Entity::find()
                .select_only()
                .column($entity::Column::Id);
            let query = match name {
                RecordName::Id(id) => query.filter($entity::Column::Id.eq(*id)),
                RecordName::Code(code) => query.filter($entity::Column::$code.eq(code.as_str())),
            };
            query.into_tuple().one(db).await?
        }};
    }
    Ok(match kind {
        ScanKind::Vial => find!(vial, Code),
        ScanKind::Lot => find!(lot, Code),
        ScanKind::Dose => find!(dose, Code),
        ScanKind::Patient => find!(patient, SubjectCode),
        ScanKind::Shipper => {
            crate::services::shipments::documents::find_container(state, name).await?
        }
        ScanKind::Shipment => {
            crate::services::shipments::documents::find_shipment(state, name).await?
        }
        // a box is named by its id, which is also its label's code
        ScanKind::Box => {
            let id = match name {
                RecordName::Id(id) => Some(*id),
                RecordName::Code(code) => Uuid::parse_str(code).ok(),
            };
            match id {
                Some(id) => storage_unit::Entity::find_by_id(id)
                    .one(db)
                    .await?
                    .filter(|unit| unit.kind == StorageKind::Box)
                    .map(|unit| unit.id),
                None => None,
            }
        }
    })
}

/// The donation whose DIN is `din` (its compact form), or whose id is so.
/// A DIN is read from text by `domain::scan` (check character and all),
/// as the scan station reads it.
pub async fn find_donation(state: &AppState, name: &RecordName) -> AppResult<Option<Uuid>> {
    let query = donation::Entity::find()
        .select_only()
        .column(donation::Column::Id);
    let query = match name {
        RecordName::Id(id) => query.filter(donation::Column::Id.eq(*id)),
        RecordName::Code(din) => query.filter(donation::Column::Din.eq(din.as_str())),
    };
    Ok(query.into_tuple().one(state.db.conn()).await?)
}

/// The ledger action of DIN labels issued for a donation.
pub const DONATION_LABEL_ISSUED: &str = "donation.label_issued";

/// A label printed once per record (not per vial), each issue of it a
/// ledger event of its own: the ledger is the count (these rows keep
/// none, and a column for each would be a migration for one number).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordLabel {
    /// A donation's DIN labels (the cord's bag, tubes and paperwork).
    Donation,
    /// A lot's box label.
    LotBox,
    /// A dose bag's label.
    Dose,
    /// A patient's wristband.
    Wristband,
    /// A storage box's label.
    StorageBox,
}

impl RecordLabel {
    /// The ledger action of an issue.
    pub fn action(self) -> &'static str {
        match self {
            RecordLabel::Donation => DONATION_LABEL_ISSUED,
            RecordLabel::LotBox => "lot.box_label_issued",
            RecordLabel::Dose => "dose.label_issued",
            RecordLabel::Wristband => "patient.wristband_issued",
            RecordLabel::StorageBox => "storage.box_label_issued",
        }
    }

    /// The ledger's kind of the record labelled.
    pub fn subject_kind(self) -> &'static str {
        match self {
            RecordLabel::Donation => "donation",
            RecordLabel::LotBox => "lot",
            RecordLabel::Dose => "dose",
            RecordLabel::Wristband => "patient",
            RecordLabel::StorageBox => "storage",
        }
    }
}

/// How many times DIN labels were issued for the donation.
pub async fn donation_label_issues(db: &impl ConnectionTrait, donation_id: Uuid) -> AppResult<u64> {
    label_issues(db, RecordLabel::Donation, donation_id).await
}

/// How many times the record's `label` was issued.
pub async fn label_issues(
    db: &impl ConnectionTrait,
    label: RecordLabel,
    id: Uuid,
) -> AppResult<u64> {
    Ok(custody_event::Entity::find()
        .filter(custody_event::Column::SubjectKind.eq(label.subject_kind()))
        .filter(custody_event::Column::SubjectId.eq(id))
        .filter(custody_event::Column::Action.eq(label.action()))
        .count(db)
        .await?)
}

/// Records `count` DIN labels issued for the donation.
pub async fn issue_for_donation(
    state: &AppState,
    actor: &Actor,
    donation_id: Uuid,
    count: i32,
    reason: Option<&str>,
) -> AppResult<LabelIssue> {
    issue_for_record(
        state,
        actor,
        RecordLabel::Donation,
        donation_id,
        count,
        reason,
    )
    .await
}

/// The record's code for the event (DIN, lot or dose code, subject code),
/// its row locked on PostgreSQL: one issue of a record's label at a time,
/// so two first prints racing cannot both pass as first prints.
async fn lock_record(
    txn: &impl ConnectionTrait,
    label: RecordLabel,
    id: Uuid,
) -> AppResult<(&'static str, String)> {
    let lock = txn.get_database_backend() == DbBackend::Postgres;
    macro_rules! locked {
        ($entity:ident, $field:ident, $name:literal) => {{
            let mut find = $entity::Entity::find_by_id(id);
            if lock {
                find = find.lock_exclusive();
            }
            let found = find
                .one(txn)
                .await?
                .ok_or_else(|| AppError::not_found(label.subject_kind(), id))?;
            ($name, String::from(found.$field))
        }};
    }
    Ok(match label {
        RecordLabel::Donation => locked!(donation, din, "din"),
        RecordLabel::LotBox => locked!(lot, code, "code"),
        RecordLabel::Dose => locked!(dose, code, "code"),
        RecordLabel::Wristband => locked!(patient, subject_code, "subject_code"),
        RecordLabel::StorageBox => locked!(storage_unit, name, "name"),
    })
}

/// Records `count` labels of `label` issued for the record `id` (FACT-JACIE
/// asks that every label issued be accounted for, as vial labels are). A
/// reprint (the label was issued before) needs a reason.
pub async fn issue_for_record(
    state: &AppState,
    actor: &Actor,
    label: RecordLabel,
    id: Uuid,
    count: i32,
    reason: Option<&str>,
) -> AppResult<LabelIssue> {
    let reason = check_request(count, reason)?;
    let now = state.clock.now();
    let txn = state.db.write().await?;
    let (code_field, code) = lock_record(&txn, label, id).await?;
    let reprint = label_issues(&txn, label, id).await? > 0;
    reprint_needs_reason(reprint, &reason)?;
    ledger::append(
        &txn,
        actor,
        now,
        NewEvent::new(label.action(), label.subject_kind(), id).details(json!({
            code_field: code,
            "count": count,
            "reprint": reprint,
            "reason": reason,
        })),
    )
    .await?;
    txn.commit().await?;
    Ok(LabelIssue {
        subject_kind: label.subject_kind(),
        subject_id: id,
        count,
        reprint,
        reason,
        issued_at: now,
        issued_by: actor.username.clone(),
        vials: Vec::new(),
    })
}

/// A recorded issue of labels.
#[derive(Debug, Clone)]
pub struct LabelIssue {
    pub subject_kind: &'static str,
    pub subject_id: Uuid,
    pub count: i32,
    pub reprint: bool,
    pub reason: Option<String>,
    pub issued_at: DateTime<Utc>,
    pub issued_by: String,
    /// Each vial labelled, with its labels issued so far.
    pub vials: Vec<(Uuid, String, i32)>,
}

fn reprint_needs_reason(reprint: bool, reason: &Option<String>) -> AppResult<()> {
    if reprint && reason.is_none() {
        return Err(AppError::ReprintReasonRequired);
    }
    Ok(())
}

/// Records `count` labels issued for one vial. A reprint (labels were
/// issued before) needs a reason.
pub async fn issue_for_vial(
    state: &AppState,
    actor: &Actor,
    vial_id: Uuid,
    count: i32,
    reason: Option<&str>,
) -> AppResult<LabelIssue> {
    let reason = check_request(count, reason)?;
    let now = state.clock.now();
    let txn = state.db.write().await?;
    let current = store::find_or_404::<vial::Entity>(&txn, vial_id).await?;
    check_labellable(current.status)?;
    let reprint = current.labels_issued > 0;
    reprint_needs_reason(reprint, &reason)?;
    // Conditional on the count read: two first prints racing cannot both
    // pass as first prints.
    store::guarded_update(
        &txn,
        vial_id,
        vial::Entity::update_many()
            .col_expr(
                vial::Column::LabelsIssued,
                Expr::col(vial::Column::LabelsIssued).add(count),
            )
            .filter(vial::Column::LabelsIssued.eq(current.labels_issued)),
    )
    .await?;
    let total = current.labels_issued + count;
    ledger::append(
        &txn,
        actor,
        now,
        NewEvent::new("vial.labels_issued", "vial", vial_id).details(json!({
            "code": current.code,
            "count": count,
            "reprint": reprint,
            "reason": reason,
            "labels_issued": total,
        })),
    )
    .await?;
    txn.commit().await?;
    Ok(LabelIssue {
        subject_kind: "vial",
        subject_id: vial_id,
        count,
        reprint,
        reason,
        issued_at: now,
        issued_by: actor.username.clone(),
        vials: vec![(vial_id, current.code.into(), total)],
    })
}

/// Records `count` copies of the lot's label sheet: `count` labels for each
/// vial on it. A reprint (any of them was labelled before) needs a reason.
pub async fn issue_for_lot(
    state: &AppState,
    actor: &Actor,
    lot_id: Uuid,
    count: i32,
    reason: Option<&str>,
) -> AppResult<LabelIssue> {
    let reason = check_request(count, reason)?;
    let now = state.clock.now();
    let txn = state.db.write().await?;
    let mut find = lot::Entity::find_by_id(lot_id);
    if txn.get_database_backend() == DbBackend::Postgres {
        // One issue of a lot's sheet at a time.
        find = find.lock_exclusive();
    }
    let lot = find
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("lot", lot_id))?;
    let vials = sheet_vials(&txn, lot_id).await?;
    if vials.is_empty() {
        return Err(AppError::invalid(
            "lot",
            "the lot has no vials to label (it is not frozen yet, or none is left)",
        ));
    }
    let reprint = vials.iter().any(|v| v.labels_issued > 0);
    reprint_needs_reason(reprint, &reason)?;
    let ids: Vec<Uuid> = vials.iter().map(|v| v.id).collect();
    let changed = vial::Entity::update_many()
        .col_expr(
            vial::Column::LabelsIssued,
            Expr::col(vial::Column::LabelsIssued).add(count),
        )
        .filter(vial::Column::Id.is_in(ids.clone()))
        .filter(vial::Column::Status.is_not_in(UNLABELLED.map(VialStatus::as_str)))
        .exec(&txn)
        .await?;
    if changed.rows_affected != ids.len() as u64 {
        return Err(AppError::ConcurrentChange {
            kind: "lot",
            id: lot_id,
        });
    }
    let labelled: Vec<(Uuid, String, i32)> = vials
        .into_iter()
        .map(|v| (v.id, v.code.into(), v.labels_issued + count))
        .collect();
    let mut events = vec![
        NewEvent::new("lot.labels_issued", "lot", lot_id).details(json!({
            "code": lot.code,
            "count": count,
            "reprint": reprint,
            "reason": reason,
            "vials": labelled.len(),
        })),
    ];
    events.extend(labelled.iter().map(|(id, code, total)| {
        NewEvent::new("vial.labels_issued", "vial", *id).details(json!({
            "code": code,
            "count": count,
            "reprint": reprint,
            "reason": reason,
            "labels_issued": total,
            "lot_id": lot_id,
        }))
    }));
    ledger::append_many(&txn, actor, now, events).await?;
    txn.commit().await?;
    Ok(LabelIssue {
        subject_kind: "lot",
        subject_id: lot_id,
        count,
        reprint,
        reason,
        issued_at: now,
        issued_by: actor.username.clone(),
        vials: labelled,
    })
}

#[cfg(test)]
mod tests {
    use super::path_lines;

    #[test]
    fn a_box_path_wraps_after_its_separators_not_inside_short_names() {
        assert_eq!(
            path_lines("Tank 46 › Rack A › Box 1"),
            "Tank\u{a0}46\u{a0}› Rack\u{a0}A\u{a0}› Box\u{a0}1"
        );
        // a long name may still break at its spaces
        assert_eq!(
            path_lines("Liquid nitrogen tank 1 › Box 3"),
            "Liquid nitrogen tank 1\u{a0}› Box\u{a0}3"
        );
        assert_eq!(path_lines("Box 3"), "Box\u{a0}3");
    }
}
