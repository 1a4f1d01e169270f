//! Signed checkpoints of the custody ledger: the head of the chain (its
//! sequence number and hash, at a time) signed with an Ed25519 key that is
//! not in the database. A hash chain alone cannot see its tail cut off, or
//! every hash after an edit recomputed; a checkpoint kept outside the
//! database can (as Certificate Transparency's signed tree heads do).
//!
//! The signed statement is plain text, so a receipt can be checked with
//! any Ed25519 tool:
//!
//! ```text
//! celltrail ledger checkpoint v1
//! seq 1042
//! head 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
//! time 2026-11-25T09:40:00.000000Z
//! ```

use chrono::{DateTime, SecondsFormat, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::event::hex;

/// The first line of every statement and receipt.
pub const HEADER: &str = "celltrail ledger checkpoint v1";

/// One signed head of the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Checkpoint {
    pub seq: i64,
    pub head_hash: String,
    /// When it was signed (UTC, to the microsecond).
    pub time: DateTime<Utc>,
    /// Ed25519 signature of the statement, lower-case hex (128 digits).
    pub signature: String,
    /// The signing key, `ed25519:` and 64 hex digits.
    pub public_key: String,
}

/// The exact text a checkpoint signs.
pub fn statement(seq: i64, head_hash: &str, time: DateTime<Utc>) -> String {
    format!(
        "{HEADER}\nseq {seq}\nhead {head_hash}\ntime {}\n",
        time.to_rfc3339_opts(SecondsFormat::Micros, true)
    )
}

/// `ed25519:` and the key's 64 hex digits.
pub fn public_key_text(key: &VerifyingKey) -> String {
    format!("ed25519:{}", hex(key.as_bytes()))
}

/// Reads `ed25519:<64 hex digits>` (the prefix is optional).
pub fn parse_public_key(text: &str) -> Option<VerifyingKey> {
    let digits = text.trim();
    let digits = digits.strip_prefix("ed25519:").unwrap_or(digits);
    let bytes: [u8; 32] = unhex(digits)?.try_into().ok()?;
    VerifyingKey::from_bytes(&bytes).ok()
}

/// Signs the head.
pub fn sign(key: &SigningKey, seq: i64, head_hash: &str, time: DateTime<Utc>) -> Checkpoint {
    let time = crate::domain::event::ledger_time(time);
    let signature = key.sign(statement(seq, head_hash, time).as_bytes());
    Checkpoint {
        seq,
        head_hash: head_hash.to_owned(),
        time,
        signature: hex(&signature.to_bytes()),
        public_key: public_key_text(&key.verifying_key()),
    }
}

impl Checkpoint {
    /// Whether `key` signed exactly this checkpoint.
    pub fn is_signed_by(&self, key: &VerifyingKey) -> bool {
        let Some(bytes) = unhex(&self.signature).and_then(|b| <[u8; 64]>::try_from(b).ok()) else {
            return false;
        };
        let signature = Signature::from_bytes(&bytes);
        key.verify(
            statement(self.seq, &self.head_hash, self.time).as_bytes(),
            &signature,
        )
        .is_ok()
    }

    /// A receipt a quality officer files outside the system: the signed
    /// statement, the key and the signature.
    pub fn receipt(&self) -> String {
        format!(
            "{}key {}\nsignature {}\n",
            statement(self.seq, &self.head_hash, self.time),
            self.public_key,
            self.signature
        )
    }
}

/// Reads checkpoints from a checkpoint log (one JSON object a line) or from
/// receipts (one after another); what is neither is skipped and counted.
pub fn parse_checkpoints(text: &str) -> (Vec<Checkpoint>, usize) {
    let mut found = Vec::new();
    let mut unreadable = 0;
    let mut receipt: Vec<&str> = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('{') {
            match serde_json::from_str::<Checkpoint>(line) {
                Ok(checkpoint) => found.push(checkpoint),
                Err(_) => unreadable += 1,
            }
        } else if line == HEADER || !receipt.is_empty() {
            receipt.push(line);
            if line.starts_with("signature ") {
                match parse_receipt(&receipt) {
                    Some(checkpoint) => found.push(checkpoint),
                    None => unreadable += 1,
                }
                receipt.clear();
            }
        } else if !line.is_empty() {
            unreadable += 1;
        }
    }
    if !receipt.is_empty() {
        unreadable += 1;
    }
    (found, unreadable)
}

fn parse_receipt(lines: &[&str]) -> Option<Checkpoint> {
    let field = |name: &str| {
        lines
            .iter()
            .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_owned()))
    };
    Some(Checkpoint {
        seq: field("seq ")?.parse().ok()?,
        head_hash: field("head ")?,
        time: DateTime::parse_from_rfc3339(&field("time ")?)
            .ok()?
            .with_timezone(&Utc),
        public_key: field("key ")?,
        signature: field("signature ")?,
    })
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// What a checkpoint says about the chain as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum CheckpointProblem {
    /// The checkpoint was not signed by the key the verification trusts.
    BadSignature { seq: i64, time: DateTime<Utc> },
    /// The chain ends before the checkpointed event: events were removed.
    Truncated {
        seq: i64,
        time: DateTime<Utc>,
        ledger_ends_at: i64,
    },
    /// The event at the checkpoint's sequence is not the one signed: the
    /// chain was edited and its hashes recomputed, or reordered.
    Rewritten {
        seq: i64,
        time: DateTime<Utc>,
        signed_hash: String,
        stored_hash: String,
    },
}

impl std::fmt::Display for CheckpointProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let at = |t: &DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
        match self {
            CheckpointProblem::BadSignature { seq, time } => write!(
                f,
                "the checkpoint of event {seq} signed {} does not carry a valid signature of the trusted key",
                at(time)
            ),
            CheckpointProblem::Truncated {
                seq,
                time,
                ledger_ends_at,
            } => write!(
                f,
                "the ledger ends at event {ledger_ends_at}, but the checkpoint signed {} holds event {seq}: events were removed",
                at(time)
            ),
            CheckpointProblem::Rewritten {
                seq,
                time,
                signed_hash,
                stored_hash,
            } => write!(
                f,
                "event {seq} is not the one the checkpoint signed {} holds (signed {}…, stored {}…): the chain was rewritten",
                at(time),
                &signed_hash[..signed_hash.len().min(12)],
                &stored_hash[..stored_hash.len().min(12)]
            ),
        }
    }
}

/// Compares checkpoints with the chain as it is stored, while the chain is
/// walked in order: each checkpoint's event must be there, with the hash
/// that was signed.
#[derive(Debug)]
pub struct CheckpointJudge {
    key: Option<VerifyingKey>,
    /// Checkpoints not yet reached, by ascending seq.
    pending: std::collections::VecDeque<Checkpoint>,
    problems: Vec<CheckpointProblem>,
    checked: usize,
}

impl CheckpointJudge {
    /// `key`: the trusted public key (checkpoints under another are bad).
    pub fn new(key: Option<VerifyingKey>, mut checkpoints: Vec<Checkpoint>) -> Self {
        checkpoints.sort_by_key(|c| c.seq);
        checkpoints.dedup_by(|a, b| a.seq == b.seq && a.head_hash == b.head_hash);
        let mut problems = Vec::new();
        let mut pending = std::collections::VecDeque::new();
        for checkpoint in checkpoints {
            match &key {
                Some(key) if !checkpoint.is_signed_by(key) => {
                    problems.push(CheckpointProblem::BadSignature {
                        seq: checkpoint.seq,
                        time: checkpoint.time,
                    })
                }
                _ => pending.push_back(checkpoint),
            }
        }
        CheckpointJudge {
            key,
            pending,
            problems,
            checked: 0,
        }
    }

    /// The next stored event (in seq order) with its stored hash.
    pub fn event(&mut self, seq: i64, stored_hash: &str) {
        while let Some(next) = self.pending.front() {
            if next.seq > seq {
                break;
            }
            let checkpoint = self.pending.pop_front().expect("just seen");
            self.checked += 1;
            if checkpoint.seq == seq && checkpoint.head_hash != stored_hash {
                self.problems.push(CheckpointProblem::Rewritten {
                    seq,
                    time: checkpoint.time,
                    signed_hash: checkpoint.head_hash,
                    stored_hash: stored_hash.to_owned(),
                });
            } else if checkpoint.seq < seq {
                // the event it names is missing from the middle: the chain
                // check reports the gap; it is rewritten all the same
                self.problems.push(CheckpointProblem::Rewritten {
                    seq: checkpoint.seq,
                    time: checkpoint.time,
                    signed_hash: checkpoint.head_hash,
                    stored_hash: String::new(),
                });
            }
        }
    }

    /// The walk is over: `last_seq` is the last event stored (0 for none).
    pub fn finish(mut self, last_seq: i64) -> CheckpointReport {
        for checkpoint in self.pending.drain(..) {
            self.checked += 1;
            self.problems.push(CheckpointProblem::Truncated {
                seq: checkpoint.seq,
                time: checkpoint.time,
                ledger_ends_at: last_seq,
            });
        }
        CheckpointReport {
            checked: self.checked,
            public_key: self.key.as_ref().map(public_key_text),
            problems: self.problems,
        }
    }
}

/// What the checkpoints said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CheckpointReport {
    /// Checkpoints compared with the chain.
    pub checked: usize,
    /// The key they were checked against.
    pub public_key: Option<String>,
    pub problems: Vec<CheckpointProblem>,
}

impl CheckpointReport {
    /// The first truncation found: the chain ends before a checkpoint.
    pub fn truncated(&self) -> bool {
        self.problems
            .iter()
            .any(|p| matches!(p, CheckpointProblem::Truncated { .. }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> SigningKey {
        SigningKey::from_bytes(&[n; 32])
    }

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_790_000_000 + s, 123_456_000).unwrap()
    }

    #[test]
    fn a_checkpoint_verifies_only_as_signed() {
        let signed = sign(&key(1), 1042, &"ab".repeat(32), at(0));
        assert!(signed.is_signed_by(&key(1).verifying_key()));
        assert!(!signed.is_signed_by(&key(2).verifying_key()));
        for tampered in [
            Checkpoint {
                seq: 1041,
                ..signed.clone()
            },
            Checkpoint {
                head_hash: "cd".repeat(32),
                ..signed.clone()
            },
            Checkpoint {
                time: at(1),
                ..signed.clone()
            },
        ] {
            assert!(
                !tampered.is_signed_by(&key(1).verifying_key()),
                "{tampered:?}"
            );
        }
        assert_eq!(
            parse_public_key(&signed.public_key),
            Some(key(1).verifying_key())
        );
        assert_eq!(parse_public_key("ed25519:12"), None);
    }

    #[test]
    fn receipts_and_logs_read_back() {
        let a = sign(&key(1), 10, &"ab".repeat(32), at(0));
        let b = sign(&key(1), 20, &"cd".repeat(32), at(60));
        let log = format!(
            "{}\n{}\n",
            serde_json::to_string(&a).unwrap(),
            serde_json::to_string(&b).unwrap()
        );
        assert_eq!(parse_checkpoints(&log), (vec![a.clone(), b.clone()], 0));
        let receipts = format!("{}\n{}", a.receipt(), b.receipt());
        assert_eq!(parse_checkpoints(&receipts), (vec![a.clone(), b], 0));
        assert!(
            a.receipt()
                .starts_with(&statement(10, &"ab".repeat(32), a.time))
        );
        assert_eq!(parse_checkpoints("garbage\n{nope}\n").1, 2);
    }

    #[test]
    fn the_judge_names_truncation_rewriting_and_forged_signatures() {
        let k = key(1);
        let trusted = Some(k.verifying_key());
        let hash = |n: i64| format!("{n:064}");
        let at_5 = sign(&k, 5, &hash(5), at(0));
        let at_8 = sign(&k, 8, &hash(8), at(10));
        // intact
        let mut judge = CheckpointJudge::new(trusted, vec![at_8.clone(), at_5.clone()]);
        for seq in 1..=9 {
            judge.event(seq, &hash(seq));
        }
        let report = judge.finish(9);
        assert_eq!((report.checked, report.problems.len()), (2, 0));
        // the last two events removed: 8 was signed
        let mut judge = CheckpointJudge::new(trusted, vec![at_5.clone(), at_8.clone()]);
        for seq in 1..=7 {
            judge.event(seq, &hash(seq));
        }
        let report = judge.finish(7);
        assert!(report.truncated());
        assert_eq!(
            report.problems,
            [CheckpointProblem::Truncated {
                seq: 8,
                time: at_8.time,
                ledger_ends_at: 7
            }]
        );
        // event 5 rewritten and every hash after it recomputed
        let mut judge = CheckpointJudge::new(trusted, vec![at_5.clone(), at_8.clone()]);
        for seq in 1..=9 {
            let stored = if seq >= 5 {
                format!("{:064}", seq + 100)
            } else {
                hash(seq)
            };
            judge.event(seq, &stored);
        }
        let report = judge.finish(9);
        assert_eq!(report.problems.len(), 2);
        assert!(matches!(
            report.problems[0],
            CheckpointProblem::Rewritten { seq: 5, .. }
        ));
        // a checkpoint another key signed is not trusted
        let forged = sign(&key(2), 9, &hash(9), at(20));
        let judge = CheckpointJudge::new(trusted, vec![forged]);
        assert!(matches!(
            judge.finish(9).problems[0],
            CheckpointProblem::BadSignature { seq: 9, .. }
        ));
    }
}
