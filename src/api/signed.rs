//! The bodies of signed acts that carry nothing else: a signature alone (a
//! release, a verification), or a signature and the reason for the act (a
//! recall, a discard, a lock).

use serde::Deserialize;
use utoipa::ToSchema;

use crate::services::signatures::SignatureInput;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignedOnly {
    pub signature: SignatureInput,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignedReason {
    pub reason: String,
    pub signature: SignatureInput,
}
