//! Each kind of record's correction: load it (locked), check the new value
//! against the record's other facts as at entry, refuse what would change
//! a prepared or given dose, write the column.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait,
    IntoActiveModel, QueryFilter, QuerySelect,
};
use serde_json::json;
use uuid::Uuid;

use super::{Applied, Asked};
use crate::clock::CLOCK_SKEW;
use crate::db::WriteTxn;
use crate::domain::assessment::{AssessmentKind, PasiRegions, Region, dlqi, pasi_tenths};
use crate::domain::correction::{
    Field, PASI_PARTS, PASI_REGIONS, SubjectKind, Value, check_baseline_pasi, check_birth_date,
    check_consent, check_donation_times, check_lot_dates, dose_is_prepared, expiry_changes_use,
};
use crate::domain::donor::{Eligibility, screening_gaps};
use crate::domain::lifecycle::{DoseStatus, LotStatus, VialStatus};
use crate::domain::patient::Sex;
use crate::domain::quantity::{Cells, Microlitres};
use crate::entities::{
    assessment, donation, donor, dose, dose_vial, infusion, lot, patient, qc_result,
    screening_result, vial,
};
use crate::error::{AppError, AppResult, DoseTouched};
use crate::services::store::Record;
use crate::services::{donors, protocol};
use crate::state::AppState;

/// The row, under a row lock on PostgreSQL (SQLite writers take turns).
async fn locked<E: Record>(txn: &WriteTxn, id: Uuid) -> AppResult<E::Model> {
    let mut find = E::find_by_id(id);
    if txn.get_database_backend() == DbBackend::Postgres {
        find = find.lock_exclusive();
    }
    find.one(txn)
        .await?
        .ok_or_else(|| AppError::not_found(E::KIND, id))
}

fn invalid(asked: &Asked, message: impl Into<String>) -> AppError {
    AppError::InvalidField {
        field: asked.field.name().into(),
        message: message.into(),
    }
}

/// The value the record holds now, against what the correction states:
/// changed since the person saw it, or the same as the new one.
fn compare(asked: &Asked, id: Uuid, old: &Option<Value>) -> AppResult<()> {
    if let Some(seen) = &asked.old_value
        && Some(seen) != old.as_ref()
    {
        return Err(AppError::ConcurrentChange {
            kind: asked.kind.as_str(),
            id,
        });
    }
    if old.as_ref() == Some(&asked.value) {
        return Err(AppError::CorrectionChangesNothing {
            field: asked.field.name(),
            value: super::shown(&asked.value.to_json().to_string()),
        });
    }
    Ok(())
}

fn time(asked: &Asked) -> AppResult<DateTime<Utc>> {
    match asked.value {
        Value::Time(t) => Ok(t),
        _ => Err(AppError::broken("a time field parsed as no time")),
    }
}

fn int(asked: &Asked) -> AppResult<i64> {
    match asked.value {
        Value::Int(n) => Ok(n),
        _ => Err(AppError::broken("a number field parsed as no number")),
    }
}

fn text(asked: &Asked) -> AppResult<String> {
    match &asked.value {
        Value::Text(s) => Ok(s.clone()),
        _ => Err(AppError::broken("a text field parsed as no text")),
    }
}

fn not_in_future(asked: &Asked, at: DateTime<Utc>, now: DateTime<Utc>) -> AppResult<()> {
    if at > now + CLOCK_SKEW {
        return Err(invalid(asked, format!("{at} is in the future")));
    }
    Ok(())
}

fn applied(old: Option<Value>, event_subject_id: Uuid, subject_name: String) -> Applied {
    Applied {
        old,
        event_subject_id,
        subject_name,
        details: json!({}),
        reserved_doses: Vec::new(),
        labels_to_reprint: Vec::new(),
        score: None,
    }
}

/// Applies the correction to its record, in the transaction.
pub(super) async fn apply(
    state: &AppState,
    txn: &WriteTxn,
    id: Uuid,
    asked: &Asked,
    now: DateTime<Utc>,
) -> AppResult<Applied> {
    match asked.kind {
        SubjectKind::Donor => correct_donor(txn, id, asked, now).await,
        SubjectKind::Donation => correct_donation(txn, id, asked, now).await,
        SubjectKind::Lot => correct_lot(txn, id, asked, now).await,
        SubjectKind::Vial => correct_vial(txn, id, asked).await,
        SubjectKind::Patient => correct_patient(state, txn, id, asked).await,
        SubjectKind::Assessment => correct_assessment(txn, id, asked).await,
        SubjectKind::QcResult => correct_qc(txn, id, asked).await,
    }
}

async fn correct_donor(
    txn: &WriteTxn,
    id: Uuid,
    asked: &Asked,
    now: DateTime<Utc>,
) -> AppResult<Applied> {
    let row = locked::<donor::Entity>(txn, id).await?;
    let mut model = row.clone().into_active_model();
    let old = match asked.field {
        Field::DonorCode => {
            compare(asked, id, &Some(Value::Text(row.code.clone())))?;
            let code = text(asked)?;
            let taken = donor::Entity::find()
                .filter(donor::Column::Code.eq(code.as_str()))
                .filter(donor::Column::Id.ne(id))
                .one(txn)
                .await?;
            if taken.is_some() {
                return Err(AppError::DonorCodeTaken(code));
            }
            model.code = Set(code);
            Value::Text(row.code.clone())
        }
        Field::ConsentAt => {
            compare(asked, id, &Some(Value::Time(row.consent_at)))?;
            let consent = time(asked)?;
            not_in_future(asked, consent, now)?;
            let collections: Vec<DateTime<Utc>> = donation::Entity::find()
                .filter(donation::Column::DonorId.eq(id))
                .all(txn)
                .await?
                .into_iter()
                .map(|d| d.collected_at)
                .collect();
            check_consent(consent, &collections).map_err(|m| invalid(asked, m))?;
            model.consent_at = Set(consent);
            Value::Time(row.consent_at)
        }
        _ => return Err(AppError::broken("a donor field of another record")),
    };
    model.update(txn).await?;
    Ok(applied(Some(old), id, row.code))
}

async fn correct_donation(
    txn: &WriteTxn,
    id: Uuid,
    asked: &Asked,
    now: DateTime<Utc>,
) -> AppResult<Applied> {
    let row = locked::<donation::Entity>(txn, id).await?;
    let donor = crate::services::store::find_or_404::<donor::Entity>(txn, row.donor_id).await?;
    let (mut collected, mut received) = (row.collected_at, row.received_at);
    let old = match asked.field {
        Field::CollectedAt => {
            collected = time(asked)?;
            row.collected_at
        }
        Field::ReceivedAt => {
            received = time(asked)?;
            row.received_at
        }
        _ => return Err(AppError::broken("a donation field of another record")),
    };
    compare(asked, id, &Some(Value::Time(old)))?;
    not_in_future(asked, time(asked)?, now)?;
    let lots_made: Vec<DateTime<Utc>> = lot::Entity::find()
        .filter(lot::Column::DonationId.eq(id))
        .all(txn)
        .await?
        .into_iter()
        .map(|l| l.manufactured_at)
        .collect();
    check_donation_times(donor.consent_at, collected, received, &lots_made)
        .map_err(|m| invalid(asked, m))?;
    if asked.field == Field::CollectedAt && donor.eligibility == Eligibility::Eligible {
        // the donor was found eligible on screening within 7 days of each
        // collection (21 CFR 1271.80(b)): a corrected collection must
        // still be covered
        let collections: Vec<DateTime<Utc>> = donation::Entity::find()
            .filter(donation::Column::DonorId.eq(donor.id))
            .all(txn)
            .await?
            .into_iter()
            .map(|d| {
                if d.id == id {
                    collected
                } else {
                    d.collected_at
                }
            })
            .collect();
        let rows = screening_result::Entity::find()
            .filter(screening_result::Column::DonorId.eq(donor.id))
            .all(txn)
            .await?;
        let gaps = screening_gaps(&donors::screenings(&rows)?, &collections);
        if !gaps.is_empty() {
            return Err(invalid(
                asked,
                format!(
                    "the donor was found eligible on screening this collection time would leave uncovered ({}): ask quality to review the donor's eligibility first",
                    gaps.missing
                        .iter()
                        .chain(&gaps.reactive)
                        .chain(&gaps.outside_window)
                        .copied()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
    }
    let mut model = row.clone().into_active_model();
    model.collected_at = Set(collected);
    model.received_at = Set(received);
    model.update(txn).await?;
    let mut done = applied(Some(Value::Time(old)), id, row.din.clone());
    done.labels_to_reprint = vec![format!("donation {}", row.din)];
    Ok(done)
}

async fn correct_lot(
    txn: &WriteTxn,
    id: Uuid,
    asked: &Asked,
    now: DateTime<Utc>,
) -> AppResult<Applied> {
    let row = locked::<lot::Entity>(txn, id).await?;
    let mut model = row.clone().into_active_model();
    let doses = dose::Entity::find()
        .filter(dose::Column::LotId.eq(id))
        .all(txn)
        .await?;
    let old = match asked.field {
        Field::ExpiresAt | Field::ManufacturedAt => {
            let (mut made, mut expires) = (row.manufactured_at, row.expires_at);
            let old = if asked.field == Field::ExpiresAt {
                expires = time(asked)?;
                row.expires_at
            } else {
                made = time(asked)?;
                not_in_future(asked, made, now)?;
                row.manufactured_at
            };
            compare(asked, id, &Some(Value::Time(old)))?;
            let donation =
                crate::services::store::find_or_404::<donation::Entity>(txn, row.donation_id)
                    .await?;
            check_lot_dates(made, expires, donation.collected_at, row.frozen_at)
                .map_err(|m| invalid(asked, m))?;
            if asked.field == Field::ExpiresAt {
                expiry_against_doses(txn, asked, expires, &doses).await?;
            }
            model.manufactured_at = Set(made);
            model.expires_at = Set(expires);
            Value::Time(old)
        }
        Field::Passage => {
            let old = Value::Int(i64::from(row.passage));
            compare(asked, id, &Some(old.clone()))?;
            model.passage = Set(i32::try_from(int(asked)?).map_err(AppError::internal)?);
            old
        }
        Field::ProductCode => {
            let old = Value::Text(row.product_code.clone());
            compare(asked, id, &Some(old.clone()))?;
            model.product_code = Set(text(asked)?);
            old
        }
        _ => return Err(AppError::broken("a lot field of another record")),
    };
    model.update(txn).await?;
    let mut done = applied(Some(old), id, row.code.clone());
    done.reserved_doses = doses
        .iter()
        .filter(|d| d.status == DoseStatus::Reserved)
        .map(|d| d.code.to_string())
        .collect();
    done.labels_to_reprint = asked
        .field
        .printed_on()
        .iter()
        .map(|label| match *label {
            "vial" => format!("every vial label of lot {}", row.code),
            _ => format!("lot {}", row.code),
        })
        .collect();
    Ok(done)
}

/// A corrected expiry may not make a dose already prepared or given from
/// the lot a use of an expired lot: each was judged on the expiry then.
async fn expiry_against_doses(
    txn: &WriteTxn,
    asked: &Asked,
    expires: DateTime<Utc>,
    doses: &[dose::Model],
) -> AppResult<()> {
    let prepared: Vec<&dose::Model> = doses
        .iter()
        .filter(|d| dose_is_prepared(d.status))
        .collect();
    if prepared.is_empty() {
        return Ok(());
    }
    let infusions = infusion::Entity::find()
        .filter(infusion::Column::DoseId.is_in(prepared.iter().map(|d| d.id)))
        .all(txn)
        .await?;
    let touched: Vec<DoseTouched> = prepared
        .iter()
        .filter_map(|d| {
            let used_at = infusions
                .iter()
                .filter(|i| i.dose_id == d.id)
                .map(|i| i.started_at)
                .chain(d.verified_at)
                .chain(d.thawed_at)
                .max()?;
            expiry_changes_use(expires, used_at).then(|| DoseTouched {
                dose_id: d.id,
                code: d.code.to_string(),
                status: d.status.to_string(),
                why: format!(
                    "it was prepared or given at {used_at}, which this expiry would make a use of an expired lot"
                ),
            })
        })
        .collect();
    if touched.is_empty() {
        Ok(())
    } else {
        Err(AppError::CorrectionChangesDose {
            field: asked.field.name(),
            doses: touched,
        })
    }
}

async fn correct_vial(txn: &WriteTxn, id: Uuid, asked: &Asked) -> AppResult<Applied> {
    let row = locked::<vial::Entity>(txn, id).await?;
    let old = match asked.field {
        Field::VolumeUl => Value::Int(row.volume_ul.get()),
        Field::CellsPerVial => Value::Int(row.cells_per_vial.get()),
        _ => return Err(AppError::broken("a vial field of another record")),
    };
    compare(asked, id, &Some(old.clone()))?;
    let links = dose_vial::Entity::find()
        .filter(dose_vial::Column::VialId.eq(id))
        .all(txn)
        .await?;
    let doses = dose::Entity::find()
        .filter(dose::Column::Id.is_in(links.iter().map(|l| l.dose_id)))
        .all(txn)
        .await?;
    let left_stock = matches!(row.status, VialStatus::Thawed | VialStatus::Infused);
    let why = match asked.field {
        Field::VolumeUl => "the vial was thawed for it and its volume was counted into the dose",
        _ => "the vial was thawed for it and its cells frozen judged the recovery counted",
    };
    let touched: Vec<DoseTouched> = doses
        .iter()
        .filter(|d| {
            let current = links
                .iter()
                .any(|l| l.dose_id == d.id && l.removed_at.is_none());
            dose_is_prepared(d.status) && (current || left_stock)
        })
        .map(|d| DoseTouched {
            dose_id: d.id,
            code: d.code.to_string(),
            status: d.status.to_string(),
            why: why.to_owned(),
        })
        .collect();
    if !touched.is_empty() {
        return Err(AppError::CorrectionChangesDose {
            field: asked.field.name(),
            doses: touched,
        });
    }
    let n = int(asked)?;
    let mut model = row.clone().into_active_model();
    match asked.field {
        Field::VolumeUl => {
            model.volume_ul = Set(Microlitres::parse(n).map_err(AppError::internal)?)
        }
        _ => model.cells_per_vial = Set(Cells::parse(n).map_err(AppError::internal)?),
    }
    model.update(txn).await?;
    let reserved: HashSet<Uuid> = links
        .iter()
        .filter(|l| l.removed_at.is_none())
        .map(|l| l.dose_id)
        .collect();
    let mut done = applied(Some(old), id, row.code.to_string());
    done.reserved_doses = doses
        .iter()
        .filter(|d| d.status == DoseStatus::Reserved && reserved.contains(&d.id))
        .map(|d| d.code.to_string())
        .collect();
    done.labels_to_reprint = vec![format!("vial {}", row.code)];
    Ok(done)
}

async fn correct_patient(
    state: &AppState,
    txn: &WriteTxn,
    id: Uuid,
    asked: &Asked,
) -> AppResult<Applied> {
    let row = locked::<patient::Entity>(txn, id).await?;
    let rules = protocol::version(txn, row.protocol_version).await?;
    let mut model = row.clone().into_active_model();
    let old = match asked.field {
        Field::BirthDate => {
            let old = Some(Value::Date(row.birth_date));
            compare(asked, id, &old)?;
            let Value::Date(birth) = asked.value else {
                return Err(AppError::broken("a date field parsed as no date"));
            };
            let enrolled_on = state.settings.timezone.date(row.enrolled_at);
            check_birth_date(
                birth,
                enrolled_on,
                rules.age_min_years..=rules.age_max_years,
            )
            .map_err(|m| invalid(asked, m))?;
            model.birth_date = Set(birth);
            old
        }
        Field::Sex => {
            let old = Some(Value::Text(row.sex.as_str().to_owned()));
            compare(asked, id, &old)?;
            let sex: Sex = text(asked)?.parse().map_err(AppError::broken)?;
            model.sex = Set(sex);
            old
        }
        Field::HeightCm => {
            let old = row.height_mm.map(Value::Tenths);
            compare(asked, id, &old)?;
            let Value::Tenths(mm) = asked.value else {
                return Err(AppError::broken("a height parsed as no height"));
            };
            model.height_mm = Set(Some(mm));
            old
        }
        Field::BaselinePasi => {
            let old = Some(Value::Tenths(row.baseline_pasi_tenths));
            compare(asked, id, &old)?;
            let Value::Tenths(tenths) = asked.value else {
                return Err(AppError::broken("a PASI parsed as no PASI"));
            };
            check_baseline_pasi(tenths, rules.baseline_pasi_min_tenths)
                .map_err(|m| invalid(asked, m))?;
            model.baseline_pasi_tenths = Set(tenths);
            old
        }
        _ => return Err(AppError::broken("a patient field of another record")),
    };
    model.update(txn).await?;
    let mut done = applied(old, id, row.subject_code.to_string());
    if asked.field == Field::BirthDate {
        done.labels_to_reprint = vec![
            format!("wristband of {}", row.subject_code),
            format!("bag label of any open dose of {}", row.subject_code),
        ];
    }
    Ok(done)
}

async fn correct_assessment(txn: &WriteTxn, id: Uuid, asked: &Asked) -> AppResult<Applied> {
    let mut find = assessment::Entity::find_by_id(id);
    if txn.get_database_backend() == DbBackend::Postgres {
        find = find.lock_exclusive();
    }
    let row = find
        .one(txn)
        .await?
        .ok_or_else(|| AppError::not_found("assessment", id))?;
    let patient =
        crate::services::store::find_or_404::<patient::Entity>(txn, row.patient_id).await?;
    let mut inputs: serde_json::Value =
        serde_json::from_str(&row.inputs).map_err(AppError::internal)?;
    let new = int(asked)?;
    let not_this = |why: &str| AppError::NotCorrectable {
        kind: "assessment",
        field: asked.field.name(),
        why: why.to_owned(),
    };
    let (old, score) = match (asked.field, row.kind) {
        (Field::DlqiAnswer(i), AssessmentKind::Dlqi) => {
            let mut answers: Vec<i32> =
                serde_json::from_value(inputs["answers"].clone()).map_err(AppError::internal)?;
            let old = *answers
                .get(i)
                .ok_or_else(|| AppError::broken("a DLQI without ten answers"))?;
            compare(asked, id, &Some(Value::Int(i64::from(old))))?;
            answers[i] = i32::try_from(new).map_err(AppError::internal)?;
            let score = dlqi(&answers).map_err(AppError::InvalidAssessment)?;
            inputs["answers"] = json!(answers);
            (old, score)
        }
        (Field::PasiScore { region, part }, AssessmentKind::Pasi) => {
            let mut regions: PasiRegions =
                serde_json::from_value(inputs["regions"].clone()).map_err(AppError::internal)?;
            let r: &mut Region = match region {
                0 => &mut regions.head,
                1 => &mut regions.upper_limbs,
                2 => &mut regions.trunk,
                _ => &mut regions.lower_limbs,
            };
            let slot = match part {
                0 => &mut r.erythema,
                1 => &mut r.induration,
                2 => &mut r.desquamation,
                _ => &mut r.area,
            };
            let old = *slot;
            compare(asked, id, &Some(Value::Int(i64::from(old))))?;
            *slot = i32::try_from(new).map_err(AppError::internal)?;
            let score = pasi_tenths(&regions).map_err(AppError::InvalidAssessment)?;
            inputs["regions"] = json!(regions);
            (old, score)
        }
        (Field::DlqiAnswer(_), _) => return Err(not_this("a PASI has regions, not DLQI answers")),
        _ => return Err(not_this("a DLQI has answers, not PASI regions")),
    };
    let mut model = row.clone().into_active_model();
    model.inputs = Set(inputs.to_string());
    model.score = Set(score);
    model.update(txn).await?;
    let mut done = applied(
        Some(Value::Int(i64::from(old))),
        row.patient_id,
        format!(
            "{} {} of {}",
            patient.subject_code,
            row.kind.as_str().to_uppercase(),
            row.assessed_at.date_naive()
        ),
    );
    done.details = json!({
        "assessment_id": id,
        "kind": row.kind,
        "score_old": row.score,
        "score_new": score,
    });
    done.score = Some((row.score, score));
    Ok(done)
}

async fn correct_qc(txn: &WriteTxn, id: Uuid, asked: &Asked) -> AppResult<Applied> {
    let row = locked::<qc_result::Entity>(txn, id).await?;
    let lot = crate::services::store::find_or_404::<lot::Entity>(txn, row.lot_id).await?;
    let not_this = |why: String| AppError::NotCorrectable {
        kind: "qc_result",
        field: "value".into(),
        why,
    };
    if !matches!(lot.status, LotStatus::InProcess | LotStatus::Quarantine) {
        return Err(not_this(format!(
            "lot {} is {} on its QC results: a result found wrong after the decision is investigated by quality (signed), not corrected",
            lot.code, lot.status
        )));
    }
    if row.investigation.is_some() {
        return Err(not_this(
            "quality concluded an investigation on this result; record a new result instead".into(),
        ));
    }
    let spec = protocol::specification(txn).await?;
    let judged = spec.judge(&row.test, &text(asked)?, row.unit.as_deref())?;
    let old = Some(Value::Text(row.value.clone()));
    let corrected = Asked {
        value: Value::Text(judged.value.clone()),
        ..asked.clone()
    };
    compare(&corrected, id, &old)?;
    let mut model = row.clone().into_active_model();
    model.value = Set(judged.value.clone());
    model.pass = Set(judged.pass);
    model.specification = Set(judged.specification.clone());
    model.update(txn).await?;
    let mut done = applied(old, lot.id, format!("{} {}", lot.code, row.test));
    done.details = json!({
        "qc_result_id": id,
        "test": row.test,
        "value": judged.value,
        "pass": judged.pass,
        "pass_old": row.pass,
    });
    Ok(done)
}

/// 404 unless the record exists.
pub(super) async fn exists(
    db: &impl ConnectionTrait,
    kind: SubjectKind,
    id: Uuid,
) -> AppResult<()> {
    use crate::services::store::find_or_404;
    match kind {
        SubjectKind::Donor => find_or_404::<donor::Entity>(db, id).await.map(drop),
        SubjectKind::Donation => find_or_404::<donation::Entity>(db, id).await.map(drop),
        SubjectKind::Lot => find_or_404::<lot::Entity>(db, id).await.map(drop),
        SubjectKind::Vial => find_or_404::<vial::Entity>(db, id).await.map(drop),
        SubjectKind::Patient => find_or_404::<patient::Entity>(db, id).await.map(drop),
        SubjectKind::QcResult => find_or_404::<qc_result::Entity>(db, id).await.map(drop),
        SubjectKind::Assessment => assessment::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(drop)
            .ok_or_else(|| AppError::not_found("assessment", id)),
    }
}

/// Each correctable field's current value.
pub(super) async fn current(
    db: &impl ConnectionTrait,
    kind: SubjectKind,
    id: Uuid,
) -> AppResult<Vec<(String, serde_json::Value)>> {
    use crate::services::store::find_or_404;
    let t = |at: DateTime<Utc>| Value::Time(at).to_json();
    let fields = match kind {
        SubjectKind::Donor => {
            let d = find_or_404::<donor::Entity>(db, id).await?;
            vec![("code", json!(d.code)), ("consent_at", t(d.consent_at))]
        }
        SubjectKind::Donation => {
            let d = find_or_404::<donation::Entity>(db, id).await?;
            vec![
                ("collected_at", t(d.collected_at)),
                ("received_at", t(d.received_at)),
            ]
        }
        SubjectKind::Lot => {
            let l = find_or_404::<lot::Entity>(db, id).await?;
            vec![
                ("expires_at", t(l.expires_at)),
                ("manufactured_at", t(l.manufactured_at)),
                ("passage", json!(l.passage)),
                ("product_code", json!(l.product_code)),
            ]
        }
        SubjectKind::Vial => {
            let v = find_or_404::<vial::Entity>(db, id).await?;
            vec![
                ("volume_ul", json!(v.volume_ul.get())),
                ("cells_per_vial", json!(v.cells_per_vial.get())),
            ]
        }
        SubjectKind::Patient => {
            let p = find_or_404::<patient::Entity>(db, id).await?;
            vec![
                ("birth_date", json!(p.birth_date.to_string())),
                ("sex", json!(p.sex.as_str())),
                (
                    "height_cm",
                    p.height_mm
                        .map_or(serde_json::Value::Null, |mm| Value::Tenths(mm).to_json()),
                ),
                (
                    "baseline_pasi",
                    Value::Tenths(p.baseline_pasi_tenths).to_json(),
                ),
            ]
        }
        SubjectKind::QcResult => {
            let q = find_or_404::<qc_result::Entity>(db, id).await?;
            vec![("value", json!(q.value))]
        }
        SubjectKind::Assessment => {
            let a = assessment::Entity::find_by_id(id)
                .one(db)
                .await?
                .ok_or_else(|| AppError::not_found("assessment", id))?;
            let inputs: serde_json::Value =
                serde_json::from_str(&a.inputs).map_err(AppError::internal)?;
            return Ok(match a.kind {
                AssessmentKind::Dlqi => (0..10)
                    .map(|i| (format!("answers[{i}]"), inputs["answers"][i].clone()))
                    .collect(),
                AssessmentKind::Pasi => PASI_REGIONS
                    .iter()
                    .flat_map(|r| {
                        let inputs = &inputs;
                        PASI_PARTS.iter().map(move |p| {
                            (format!("regions.{r}.{p}"), inputs["regions"][r][p].clone())
                        })
                    })
                    .collect(),
            });
        }
    };
    Ok(fields
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect())
}
