//! Reading the tables the replay holds against the ledger.
//!
//! The tables are read in one read transaction together with the last
//! event's sequence number, so the snapshot is exactly the state after that
//! event: every state change commits with its event, in one transaction. The
//! replay then applies the events up to that number, however many are
//! appended while it runs.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use sea_orm::{
    AccessMode, ColumnTrait, DatabaseTransaction, DbBackend, DbErr, EntityTrait, IsolationLevel,
    QueryFilter, QuerySelect, TransactionTrait,
};
use uuid::Uuid;

use crate::db::Db;
use crate::domain::replay::{
    DonorRow, DoseRow, InfusionRow, LotRow, PatientRow, QcRow, ScreeningRow, SignatureRow,
    StorageRow, Tables, UserRow, VialRow, WeightRow,
};
use crate::entities::{
    custody_event, donor, dose, dose_vial, infusion, lot, patient, qc_result, screening_result,
    signature, storage_unit, user, vial, weight,
};

/// The tables as they stand, and the sequence number of the last event
/// they reflect.
pub async fn snapshot(db: &Db) -> Result<(Tables, i64), DbErr> {
    let conn = db.conn();
    let txn = match conn.get_database_backend() {
        // one snapshot for every statement of the transaction
        DbBackend::Postgres => {
            conn.begin_with_config(
                Some(IsolationLevel::RepeatableRead),
                Some(AccessMode::ReadOnly),
            )
            .await?
        }
        // a deferred read transaction reads one WAL snapshot throughout
        _ => conn.begin().await?,
    };
    let result = read(&txn).await;
    txn.rollback().await?;
    result
}

async fn read(txn: &DatabaseTransaction) -> Result<(Tables, i64), DbErr> {
    // the first read fixes the snapshot
    let last_seq: Option<i64> = custody_event::Entity::find()
        .select_only()
        .column_as(custody_event::Column::Seq.max(), "seq")
        .into_tuple::<Option<i64>>()
        .one(txn)
        .await?
        .flatten();

    let subjects: HashMap<Uuid, String> = patient::Entity::find()
        .select_only()
        .columns([patient::Column::Id, patient::Column::SubjectCode])
        .into_tuple::<(Uuid, String)>()
        .all(txn)
        .await?
        .into_iter()
        .collect();
    let subject = |id: &Uuid| subjects.get(id).cloned().unwrap_or_else(|| id.to_string());

    let vials: Vec<VialRow> = vial::Entity::find()
        .select_only()
        .columns([
            vial::Column::Id,
            vial::Column::Code,
            vial::Column::Status,
            vial::Column::BoxId,
            vial::Column::Position,
            vial::Column::LabelsIssued,
        ])
        .into_tuple::<(Uuid, String, String, Option<Uuid>, Option<String>, i32)>()
        .all(txn)
        .await?
        .into_iter()
        .map(|(id, code, status, box_id, position, labels)| VialRow {
            id,
            code,
            status,
            box_id,
            position,
            labels_issued: i64::from(labels),
        })
        .collect();

    let lots: Vec<LotRow> = lot::Entity::find()
        .select_only()
        .columns([lot::Column::Id, lot::Column::Code, lot::Column::Status])
        .into_tuple::<(Uuid, String, String)>()
        .all(txn)
        .await?
        .into_iter()
        .map(|(id, code, status)| LotRow { id, code, status })
        .collect();
    let lot_codes: HashMap<Uuid, String> = lots.iter().map(|l| (l.id, l.code.clone())).collect();

    let mut held: HashMap<Uuid, BTreeSet<Uuid>> = HashMap::new();
    for (dose_id, vial_id) in dose_vial::Entity::find()
        .select_only()
        .columns([dose_vial::Column::DoseId, dose_vial::Column::VialId])
        .filter(dose_vial::Column::RemovedAt.is_null())
        .into_tuple::<(Uuid, Uuid)>()
        .all(txn)
        .await?
    {
        held.entry(dose_id).or_default().insert(vial_id);
    }
    let doses: Vec<DoseRow> = dose::Entity::find()
        .select_only()
        .columns([
            dose::Column::Id,
            dose::Column::Code,
            dose::Column::PatientId,
            dose::Column::Status,
        ])
        .into_tuple::<(Uuid, String, Uuid, String)>()
        .all(txn)
        .await?
        .into_iter()
        .map(|(id, code, patient_id, status)| DoseRow {
            id,
            code: format!("{} {code}", subject(&patient_id)),
            status,
            vials: held.remove(&id).unwrap_or_default(),
        })
        .collect();

    let infusions: Vec<InfusionRow> = infusion::Entity::find()
        .select_only()
        .columns([
            infusion::Column::Id,
            infusion::Column::PatientId,
            infusion::Column::InfusionNumber,
            infusion::Column::Status,
            infusion::Column::StartedAt,
            infusion::Column::EndedAt,
            infusion::Column::VolumeInfusedUl,
        ])
        .into_tuple::<(
            Uuid,
            Uuid,
            i32,
            String,
            DateTime<Utc>,
            Option<DateTime<Utc>>,
            Option<i64>,
        )>()
        .all(txn)
        .await?
        .into_iter()
        .map(
            |(id, patient_id, number, status, started_at, ended_at, volume)| InfusionRow {
                id,
                name: format!("{} infusion {number}", subject(&patient_id)),
                status,
                started_at,
                ended_at,
                volume_infused_ul: volume,
            },
        )
        .collect();

    let weights: Vec<WeightRow> = weight::Entity::find()
        .select_only()
        .columns([
            weight::Column::Id,
            weight::Column::PatientId,
            weight::Column::WeightG,
            weight::Column::MeasuredAt,
            weight::Column::VoidedAt,
        ])
        .into_tuple::<(Uuid, Uuid, i64, DateTime<Utc>, Option<DateTime<Utc>>)>()
        .all(txn)
        .await?
        .into_iter()
        .map(
            |(id, patient_id, weight_g, measured_at, voided_at)| WeightRow {
                id,
                name: format!("of {}", subject(&patient_id)),
                weight_g,
                measured_at,
                voided_at,
            },
        )
        .collect();

    let qc: Vec<QcRow> = qc_result::Entity::find()
        .select_only()
        .columns([
            qc_result::Column::Id,
            qc_result::Column::LotId,
            qc_result::Column::Test,
            qc_result::Column::Value,
            qc_result::Column::Pass,
            qc_result::Column::Investigation,
        ])
        .into_tuple::<(Uuid, Uuid, String, String, bool, Option<String>)>()
        .all(txn)
        .await?
        .into_iter()
        .map(|(id, lot_id, test, value, pass, investigation)| QcRow {
            id,
            name: format!(
                "{test} of lot {}",
                lot_codes
                    .get(&lot_id)
                    .cloned()
                    .unwrap_or_else(|| lot_id.to_string())
            ),
            test,
            value,
            pass,
            investigation,
        })
        .collect();

    let donors: Vec<DonorRow> = donor::Entity::find()
        .select_only()
        .columns([
            donor::Column::Id,
            donor::Column::Code,
            donor::Column::Eligibility,
        ])
        .into_tuple::<(Uuid, String, String)>()
        .all(txn)
        .await?
        .into_iter()
        .map(|(id, code, eligibility)| DonorRow {
            id,
            code,
            eligibility,
        })
        .collect();
    let donor_codes: HashMap<Uuid, String> =
        donors.iter().map(|d| (d.id, d.code.clone())).collect();

    let screening: Vec<ScreeningRow> = screening_result::Entity::find()
        .select_only()
        .columns([
            screening_result::Column::Id,
            screening_result::Column::DonorId,
            screening_result::Column::Test,
            screening_result::Column::Result,
            screening_result::Column::InvalidatedAt,
        ])
        .into_tuple::<(Uuid, Uuid, String, String, Option<DateTime<Utc>>)>()
        .all(txn)
        .await?
        .into_iter()
        .map(
            |(id, donor_id, test, result, invalidated_at)| ScreeningRow {
                id,
                name: format!(
                    "{test} of donor {}",
                    donor_codes
                        .get(&donor_id)
                        .cloned()
                        .unwrap_or_else(|| donor_id.to_string())
                ),
                test,
                result,
                invalidated: invalidated_at.is_some(),
            },
        )
        .collect();

    let storage: Vec<StorageRow> = storage_unit::Entity::find()
        .select_only()
        .columns([
            storage_unit::Column::Id,
            storage_unit::Column::Name,
            storage_unit::Column::Kind,
            storage_unit::Column::ParentId,
        ])
        .into_tuple::<(Uuid, String, String, Option<Uuid>)>()
        .all(txn)
        .await?
        .into_iter()
        .map(|(id, name, kind, parent_id)| StorageRow {
            id,
            name,
            kind,
            parent_id,
        })
        .collect();

    let users: Vec<UserRow> = user::Entity::find()
        .select_only()
        .columns([
            user::Column::Id,
            user::Column::Username,
            user::Column::Role,
            user::Column::Active,
        ])
        .into_tuple::<(Uuid, String, String, bool)>()
        .all(txn)
        .await?
        .into_iter()
        .map(|(id, username, role, active)| UserRow {
            id,
            username,
            role,
            active,
        })
        .collect();

    let signatures: Vec<SignatureRow> = signature::Entity::find()
        .select_only()
        .columns([
            signature::Column::Id,
            signature::Column::SignerId,
            signature::Column::SignerUsername,
            signature::Column::Meaning,
            signature::Column::SignedAt,
            signature::Column::Action,
            signature::Column::SubjectId,
            signature::Column::EventSeq,
            signature::Column::EventHash,
        ])
        .into_tuple::<(
            Uuid,
            Uuid,
            String,
            String,
            DateTime<Utc>,
            String,
            Uuid,
            i64,
            String,
        )>()
        .all(txn)
        .await?
        .into_iter()
        .map(
            |(
                id,
                signer_id,
                signer_username,
                meaning,
                signed_at,
                action,
                subject_id,
                seq,
                hash,
            )| {
                SignatureRow {
                    id,
                    signer_id,
                    signer_username,
                    meaning,
                    signed_at,
                    action,
                    subject_id,
                    event_seq: seq,
                    event_hash: hash,
                }
            },
        )
        .collect();

    let patients: Vec<PatientRow> = patient::Entity::find()
        .select_only()
        .columns([
            patient::Column::Id,
            patient::Column::SubjectCode,
            patient::Column::Coi,
        ])
        .into_tuple::<(Uuid, String, Option<String>)>()
        .all(txn)
        .await?
        .into_iter()
        .map(|(id, subject_code, coi)| PatientRow {
            id,
            subject_code,
            coi,
        })
        .collect();

    Ok((
        Tables {
            patients,
            vials,
            lots,
            doses,
            infusions,
            weights,
            qc,
            donors,
            screening,
            storage,
            users,
            signatures,
        },
        last_seq.unwrap_or(0),
    ))
}
