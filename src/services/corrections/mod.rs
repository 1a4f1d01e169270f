//! Signed corrections of what people typed (issue 16), never edits: in one
//! transaction the record's column takes the new value, a signed custody
//! event `<kind>.corrected` holds the field, the old value, the new one and
//! the reason, and a `corrections` row keeps the same facts so a record's
//! history of corrections is one query. Nothing updates or deletes a
//! correction or an event.
//!
//! What follows the corrected value follows it because it is read, not
//! copied: a reserved dose's thaw reads its vials' volume and cells (and
//! judges the lot's expiry on the server's clock then), outcomes are
//! computed from the assessments' scores and the baseline PASI at read
//! time, labels render the record's current values. A correction that
//! would change a dose already prepared or given is refused, naming it.
//!
//! Races: a record is read under a row lock on PostgreSQL (SQLite writers
//! take turns), and a correction may state the value it corrects
//! (`old_value`): if that is no longer the value, it is refused with
//! `concurrent_change` (two people correcting the same field from the same
//! value: the first wins).

mod kinds;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder};
use serde_json::json;
use uuid::Uuid;

use crate::domain::accounts::Role;
use crate::domain::correction::{Field, SubjectKind, Value};
use crate::domain::reason::Reason;
use crate::entities::{correction, signature};
use crate::error::{AppError, AppResult};
use crate::services::ledger::NewEvent;
use crate::services::signatures::{self, VerifiedSignature};
use crate::state::AppState;

/// A correction as asked, checked before any password is: the role, the
/// field, the value's shape and the reason.
#[derive(Debug, Clone)]
pub struct Asked {
    pub kind: SubjectKind,
    pub field: Field,
    pub value: Value,
    /// The value the person saw and corrects, parsed as the field's.
    pub old_value: Option<Value>,
    pub reason: String,
}

/// Checks what needs no database: that `role` corrects this kind of
/// record, that the field is correctable, the new value's shape (as at
/// entry) and the reason.
pub fn ask(
    role: Role,
    kind: &str,
    field: &str,
    value: &str,
    old_value: Option<&str>,
    reason: &str,
) -> AppResult<Asked> {
    let kind: SubjectKind = kind.trim().parse().map_err(|_| {
        AppError::invalid(
            "subject_kind",
            "one of donor, donation, lot, vial, patient, assessment, qc_result",
        )
    })?;
    let corrector = kind.corrector();
    if role != corrector {
        return Err(AppError::Forbidden {
            required: match corrector {
                Role::Clinician => &[Role::Clinician],
                _ => &[Role::Lab],
            },
            role,
        });
    }
    let field = Field::parse(kind, field).map_err(|n| AppError::NotCorrectable {
        kind: kind.as_str(),
        field: n.field,
        why: n.why,
    })?;
    let invalid = |message: String| AppError::InvalidField {
        field: field.name().into(),
        message,
    };
    let value = field.parse_value(value).map_err(invalid)?;
    let old_value = match old_value {
        Some(old) => Some(
            field
                .parse_value(old)
                .map_err(|message| AppError::InvalidField {
                    field: "old_value".into(),
                    message,
                })?,
        ),
        None => None,
    };
    let reason = Reason::parse(reason)?.into_inner();
    Ok(Asked {
        kind,
        field,
        value,
        old_value,
        reason,
    })
}

/// A correction made, with what follows from it.
#[derive(Debug, Clone)]
pub struct Made {
    pub correction: correction::Model,
    pub signature: signature::Model,
    /// The record as people name it (a lot or vial code, a subject code).
    pub subject_name: String,
    /// Doses not yet prepared that will use the corrected value (at thaw).
    pub reserved_doses: Vec<String>,
    /// Labels that print the value: any already printed is now wrong and
    /// must be reprinted (label issue with a reason).
    pub labels_to_reprint: Vec<String>,
    /// The score recomputed, for an assessment's answer.
    pub score: Option<(i32, i32)>,
}

/// What a kind's correction did to its record, for the common part.
pub(crate) struct Applied {
    /// `None`: the field was empty (a height never entered).
    pub old: Option<Value>,
    /// The custody event's subject (the record, or its patient or lot).
    pub event_subject_id: Uuid,
    pub subject_name: String,
    /// More for the event's details (`qc_result_id`, a recomputed score…).
    pub details: serde_json::Value,
    pub reserved_doses: Vec<String>,
    pub labels_to_reprint: Vec<String>,
    pub score: Option<(i32, i32)>,
}

/// Makes the correction (signed): the record's column, the custody event
/// and the correction's row, in one transaction.
pub async fn correct(
    state: &AppState,
    signature: &VerifiedSignature,
    subject_id: Uuid,
    asked: Asked,
) -> AppResult<Made> {
    let now = state.clock.now();
    let txn = state.db.write().await?;
    let applied = kinds::apply(state, &txn, subject_id, &asked, now).await?;
    let (action, event_kind) = asked.kind.event();
    let id = Uuid::now_v7();
    let field = asked.field.name();
    let old = applied
        .old
        .as_ref()
        .map_or(serde_json::Value::Null, Value::to_json);
    let mut details = json!({
        "correction_id": id,
        "subject_kind": asked.kind.as_str(),
        "subject_id": subject_id,
        "field": field,
        "old": old,
        "new": asked.value.to_json(),
        "reason": asked.reason,
    });
    if let (Some(map), serde_json::Value::Object(more)) =
        (details.as_object_mut(), applied.details.clone())
    {
        map.extend(more);
    }
    let (appended, signed) = signatures::append_signed(
        &txn,
        signature,
        now,
        NewEvent::new(action, event_kind, applied.event_subject_id).details(details),
    )
    .await?;
    let row = correction::Model {
        id,
        subject_kind: asked.kind.as_str().to_owned(),
        subject_id,
        field,
        old_value: old.to_string(),
        new_value: asked.value.to_json().to_string(),
        reason: asked.reason,
        corrected_by: signature.signer.user_id,
        corrected_at: appended.occurred_at,
        signature_id: signed.id,
        event_seq: appended.seq,
    };
    correction::Entity::insert(row.clone().into_active_model())
        .exec_without_returning(&txn)
        .await?;
    txn.commit().await?;
    Ok(Made {
        correction: row,
        signature: signed,
        subject_name: applied.subject_name,
        reserved_doses: applied.reserved_doses,
        labels_to_reprint: applied.labels_to_reprint,
        score: applied.score,
    })
}

/// One correction of a record's history, with who signed it.
#[derive(Debug, Clone)]
pub struct Entry {
    pub correction: correction::Model,
    pub signature: Option<signature::Model>,
}

/// Every correction of the record, oldest first (404 for no such record).
pub async fn history(state: &AppState, kind: SubjectKind, id: Uuid) -> AppResult<Vec<Entry>> {
    let db = state.db.conn();
    kinds::exists(db, kind, id).await?;
    of_subject(db, kind, id).await
}

/// The corrections of a record, oldest first, with their signatures.
pub(crate) async fn of_subject(
    db: &impl sea_orm::ConnectionTrait,
    kind: SubjectKind,
    id: Uuid,
) -> AppResult<Vec<Entry>> {
    let rows = correction::Entity::find()
        .filter(correction::Column::SubjectKind.eq(kind.as_str()))
        .filter(correction::Column::SubjectId.eq(id))
        .order_by_asc(correction::Column::EventSeq)
        .all(db)
        .await?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.signature_id).collect();
    let signatures = if ids.is_empty() {
        Vec::new()
    } else {
        signature::Entity::find()
            .filter(signature::Column::Id.is_in(ids))
            .all(db)
            .await?
    };
    Ok(rows
        .into_iter()
        .map(|correction| Entry {
            signature: signatures
                .iter()
                .find(|s| s.id == correction.signature_id)
                .cloned(),
            correction,
        })
        .collect())
}

/// The current value of each correctable field of the record, as the API
/// gives values (for the page's form).
pub async fn current(
    state: &AppState,
    kind: SubjectKind,
    id: Uuid,
) -> AppResult<Vec<(String, serde_json::Value)>> {
    kinds::current(state.db.conn(), kind, id).await
}

/// A value kept as JSON text, as people read it: a string bare.
pub fn shown(json_text: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(json_text) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => json_text.to_owned(),
    }
}

/// The time a correction was made, for callers that only hold the row.
pub fn corrected_at(entry: &Entry) -> DateTime<Utc> {
    entry.correction.corrected_at
}
