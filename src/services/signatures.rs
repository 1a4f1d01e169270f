//! Electronic signatures (21 CFR Part 11 §11.50, §11.70, §11.200).
//!
//! A signed action asks for the signer's own password again and the meaning
//! of the signature ("approval", "released for clinical use", …). The
//! password is checked before any transaction opens; the signature is then
//! written in the same transaction as the action: its manifestation (name,
//! full name, time, meaning) goes into the custody event, whose hash binds
//! it to the record, and a signature row points at that event.

use sea_orm::{DbErr, EntityTrait, IntoActiveModel};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::WriteTxn;
use crate::entities::signature;
use crate::error::{AppError, AppResult};
use crate::services::auth::{self, AuthenticatedUser};
use crate::services::ledger::{self, Appended, NewEvent};
use crate::state::AppState;

/// The `signature` object of a signed request.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignatureInput {
    /// The signer's own password, entered again for this signature.
    pub password: String,
    /// What the signature means, e.g. "approval" or "released for clinical use".
    #[schema(example = "approval")]
    pub meaning: String,
}

/// A signature whose password has been checked; good for one action.
#[derive(Debug, Clone)]
pub struct VerifiedSignature {
    pub signer: AuthenticatedUser,
    pub meaning: String,
}

/// Checks the signer's password and the meaning. Nothing is written but a
/// wrong-password count.
pub async fn verify(
    state: &AppState,
    signer: &AuthenticatedUser,
    input: &SignatureInput,
) -> AppResult<VerifiedSignature> {
    let meaning = crate::domain::reason::signature_meaning(&input.meaning)?;
    auth::confirm_own_password(state, signer, &input.password, AppError::SignatureInvalid).await?;
    Ok(VerifiedSignature {
        signer: signer.clone(),
        meaning: meaning.to_owned(),
    })
}

/// Appends the signed action's event, with the signature's manifestation in
/// its details, and records the signature bound to that event.
pub async fn append_signed(
    txn: &WriteTxn,
    signature: &VerifiedSignature,
    now: chrono::DateTime<chrono::Utc>,
    mut event: NewEvent,
) -> Result<(Appended, signature::Model), DbErr> {
    let manifestation = json!({
        "signer": signature.signer.username,
        "full_name": signature.signer.full_name,
        "meaning": signature.meaning,
    });
    match &mut event.details {
        Value::Object(map) => {
            map.insert("signature".into(), manifestation);
        }
        other => {
            *other = json!({ "value": other.take(), "signature": manifestation });
        }
    }
    let (action, subject_kind, subject_id) = (event.action, event.subject_kind, event.subject_id);
    let appended = ledger::append(txn, &signature.signer.actor(), now, event).await?;
    let row = signature::Model {
        id: Uuid::now_v7(),
        signer_id: signature.signer.user_id,
        signer_username: signature.signer.username.clone(),
        signer_full_name: signature.signer.full_name.clone(),
        meaning: signature.meaning.clone(),
        signed_at: appended.occurred_at,
        action: action.to_owned(),
        subject_kind: subject_kind.to_owned(),
        subject_id,
        event_seq: appended.seq,
        event_hash: appended.hash.clone(),
    };
    signature::Entity::insert(row.clone().into_active_model())
        .exec_without_returning(txn)
        .await?;
    Ok((appended, row))
}
