//! A custody event as the ledger hashes it: the fields a hash covers, their
//! canonical form, and the encodings (times to the microsecond, hashes in
//! lower-case hex) that the chain, its signed checkpoints and the replay all
//! share.

use chrono::{DateTime, SecondsFormat, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The `prev_hash` of the first event.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Everything an event's hash covers.
#[derive(Debug, Clone, Copy)]
pub struct EventContent<'a> {
    pub seq: i64,
    pub occurred_at: DateTime<Utc>,
    pub actor_id: Option<Uuid>,
    pub actor_username: &'a str,
    pub action: &'a str,
    pub subject_kind: &'a str,
    pub subject_id: Uuid,
    pub from_location: Option<&'a str>,
    pub to_location: Option<&'a str>,
    /// The details JSON exactly as stored.
    pub details: &'a str,
    pub prev_hash: &'a str,
}

/// Event times are kept to the microsecond, which both databases store
/// exactly; finer digits would not survive a round trip and the hash would
/// no longer match.
pub fn ledger_time(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
}

/// The canonical serialisation is a JSON array of the fields in a fixed
/// order: unambiguous (strings are quoted and escaped), and readable by
/// anyone who wants to re-verify the chain with other tools.
pub fn canonical_form(event: &EventContent<'_>) -> String {
    let occurred_at = event
        .occurred_at
        .to_rfc3339_opts(SecondsFormat::Micros, true);
    let actor_id = event.actor_id.map(|id| id.to_string());
    let fields = (
        event.seq,
        occurred_at,
        actor_id,
        event.actor_username,
        event.action,
        event.subject_kind,
        event.subject_id.to_string(),
        event.from_location,
        event.to_location,
        event.details,
        event.prev_hash,
    );
    serde_json::to_string(&fields).expect("a tuple of strings and integers always serialises")
}

/// The event's SHA-256, lower-case hex.
pub fn event_hash(event: &EventContent<'_>) -> String {
    hex(&Sha256::digest(canonical_form(event).as_bytes()))
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    out
}
