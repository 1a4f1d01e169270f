//! The custody ledger's hash chain (21 CFR Part 11 §11.10(e): an audit trail
//! that never loses an earlier value and shows any change made to it).
//!
//! Each event's hash is SHA-256 over a canonical serialisation of every field
//! plus the previous event's hash. Editing, inserting or deleting any event
//! changes a hash that a later event, or the published head, depends on.

use crate::domain::event::{EventContent, GENESIS_HASH, event_hash};

/// The outcome of walking the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    pub ok: bool,
    pub events: u64,
    /// The hash of the last event, as recomputed (the genesis hash when empty).
    pub head_hash: String,
    /// The first event whose sequence, link or hash is wrong.
    pub first_bad_seq: Option<i64>,
    /// What the signed checkpoints said, when they were checked.
    pub checkpoints: Option<crate::domain::checkpoint::CheckpointReport>,
    /// The tables held against the state the events imply, when replayed.
    pub replay: Option<crate::domain::replay::ReplayReport>,
    /// The last stored event's sequence number (0 when empty).
    pub last_seq: i64,
}

impl ChainReport {
    /// Every problem found, in words: the broken link, each checkpoint the
    /// chain no longer matches, each row the replay found different, and
    /// each event the replay could not read.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if let Some(seq) = self.first_bad_seq {
            problems.push(format!(
                "the chain is broken at event {seq}: its sequence, link or hash is wrong"
            ));
        }
        if let Some(checked) = &self.checkpoints {
            problems.extend(checked.problems.iter().map(ToString::to_string));
        }
        if let Some(replay) = &self.replay {
            problems.extend(replay.named.iter().map(ToString::to_string));
            let unnamed = replay.differences - replay.named.len() as u64;
            if unnamed > 0 {
                problems.push(format!(
                    "and {unnamed} more rows differ from what the ledger says"
                ));
            }
            if !replay.unreadable_events.is_empty() {
                problems.push(format!(
                    "the replay could not read the details of events {}",
                    replay
                        .unreadable_events
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
        problems
    }
}

/// Walks events in `seq` order and names the first broken link: a gap or
/// repeat in the sequence, a `prev_hash` that is not the previous event's
/// hash, or a stored hash that differs from the recomputed one.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    expected_seq: i64,
    prev_hash: String,
    events: u64,
    first_bad_seq: Option<i64>,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        ChainVerifier {
            expected_seq: 1,
            prev_hash: GENESIS_HASH.to_owned(),
            events: 0,
            first_bad_seq: None,
        }
    }
}

impl ChainVerifier {
    /// Checks the next event; returns false once the chain is broken (the
    /// caller may stop reading).
    pub fn check(&mut self, event: &EventContent<'_>, stored_hash: &str) -> bool {
        if self.first_bad_seq.is_some() {
            return false;
        }
        self.events += 1;
        let recomputed = event_hash(event);
        let intact = event.seq == self.expected_seq
            && event.prev_hash == self.prev_hash
            && recomputed == stored_hash;
        if !intact {
            // A gap is reported at the first missing number.
            self.first_bad_seq = Some(event.seq.min(self.expected_seq));
            return false;
        }
        self.expected_seq += 1;
        self.prev_hash = recomputed;
        true
    }

    pub fn finish(self) -> ChainReport {
        ChainReport {
            checkpoints: None,
            replay: None,
            last_seq: self.expected_seq - 1,
            ok: self.first_bad_seq.is_none(),
            events: self.events,
            head_hash: self.prev_hash,
            first_bad_seq: self.first_bad_seq,
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};
    use uuid::Uuid;

    use super::*;
    use crate::domain::event::{canonical_form, hex, ledger_time};

    struct Owned {
        seq: i64,
        at: DateTime<Utc>,
        details: String,
        prev: String,
        hash: String,
    }

    fn content(e: &Owned) -> EventContent<'_> {
        EventContent {
            seq: e.seq,
            occurred_at: e.at,
            actor_id: None,
            actor_username: "qa.officer",
            action: "lot.released",
            subject_kind: "lot",
            subject_id: Uuid::nil(),
            from_location: None,
            to_location: Some("Tank 1 › Rack A › Box 3 › B4"),
            details: &e.details,
            prev_hash: &e.prev,
        }
    }

    fn chain(n: i64) -> Vec<Owned> {
        let mut prev = GENESIS_HASH.to_owned();
        let at = DateTime::from_timestamp(1_790_000_000, 123_456_000).unwrap();
        (1..=n)
            .map(|seq| {
                let mut e = Owned {
                    seq,
                    at,
                    details: format!("{{\"n\":{seq}}}"),
                    prev: prev.clone(),
                    hash: String::new(),
                };
                e.hash = event_hash(&content(&e));
                prev = e.hash.clone();
                e
            })
            .collect()
    }

    fn verify(events: &[Owned]) -> ChainReport {
        let mut verifier = ChainVerifier::default();
        for e in events {
            verifier.check(&content(e), &e.hash);
        }
        verifier.finish()
    }

    #[test]
    fn an_intact_chain_verifies_and_reports_its_head() {
        let events = chain(5);
        let report = verify(&events);
        assert!(report.ok);
        assert_eq!(report.events, 5);
        assert_eq!(report.head_hash, events[4].hash);
        assert_eq!(report.first_bad_seq, None);
    }

    #[test]
    fn an_empty_chain_is_intact() {
        let report = verify(&[]);
        assert!(report.ok);
        assert_eq!(report.head_hash, GENESIS_HASH);
    }

    #[test]
    fn an_edited_detail_is_caught_at_that_event() {
        let mut events = chain(5);
        events[2].details = "{\"n\":99}".into();
        assert_eq!(verify(&events).first_bad_seq, Some(3));
    }

    #[test]
    fn a_rehashed_edit_is_caught_at_the_next_link() {
        let mut events = chain(5);
        events[2].details = "{\"n\":99}".into();
        events[2].hash = event_hash(&content(&events[2]));
        assert_eq!(verify(&events).first_bad_seq, Some(4));
    }

    #[test]
    fn a_deleted_event_is_caught_at_the_gap() {
        let mut events = chain(5);
        events.remove(1);
        assert_eq!(verify(&events).first_bad_seq, Some(2));
    }

    #[test]
    fn a_changed_time_is_caught() {
        let mut events = chain(3);
        events[0].at += chrono::Duration::microseconds(1);
        assert_eq!(verify(&events).first_bad_seq, Some(1));
    }

    #[test]
    fn the_canonical_form_escapes_what_could_be_confused() {
        let e = Owned {
            seq: 1,
            at: DateTime::from_timestamp(0, 0).unwrap(),
            details: "\",\"".into(),
            prev: GENESIS_HASH.into(),
            hash: String::new(),
        };
        let form = canonical_form(&content(&e));
        assert!(form.starts_with("[1,\"1970-01-01T00:00:00.000000Z\",null,\"qa.officer\""));
        assert!(form.contains(r#""\",\"""#));
    }

    #[test]
    fn ledger_time_drops_nanoseconds() {
        let t = DateTime::from_timestamp(10, 123_456_789).unwrap();
        assert_eq!(ledger_time(t).timestamp_subsec_nanos(), 123_456_000);
    }

    #[test]
    fn hex_is_lower_case() {
        assert_eq!(hex(&[0x00, 0xab, 0xff]), "00abff");
    }
}
