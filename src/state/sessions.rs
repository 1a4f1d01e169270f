//! The sessions this instance has seen, kept in memory so that an
//! authenticated request needs no database read for its session. The
//! epoch that bounds their staleness is read and raised by
//! `services::sessions`; this is the memory alone.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

use crate::domain::actor::AuthenticatedUser;

/// Sessions kept at most; past it the cache starts again empty.
const CAPACITY: usize = 20_000;

#[derive(Debug, Clone, Default)]
pub struct SessionCache {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    sessions: Mutex<HashMap<String, Kept>>,
    /// Raised whenever every kept session must be read again.
    generation: AtomicU64,
    /// The epoch has been read and is being watched.
    live: AtomicBool,
}

#[derive(Debug, Clone)]
struct Kept {
    user: AuthenticatedUser,
    expires_at: DateTime<Utc>,
    generation: u64,
}

/// Where a request stands before reading its session from the database:
/// what to keep it under, and the generation it was read in.
#[derive(Debug)]
pub struct Lookup {
    key: String,
    generation: u64,
}

impl Lookup {
    /// The token's hash, which the session row is found by.
    pub fn key(&self) -> &str {
        &self.key
    }
}

impl SessionCache {
    /// The session under this token hash, when it is kept, of the current
    /// generation and not expired at `now`; else how to keep what the
    /// database will say. The generation is taken before the database is
    /// read, so a revocation committed meanwhile makes the kept copy stale.
    pub fn find(&self, key: String, now: DateTime<Utc>) -> Result<AuthenticatedUser, Lookup> {
        let generation = self.inner.generation.load(Ordering::Acquire);
        if self.inner.live.load(Ordering::Acquire)
            && let Ok(sessions) = self.inner.sessions.lock()
            && let Some(kept) = sessions.get(&key)
            && kept.generation == generation
            && kept.expires_at > now
        {
            return Ok(kept.user.clone());
        }
        Err(Lookup { key, generation })
    }

    /// Keeps a session the database said is valid until `expires_at`.
    pub fn keep(&self, lookup: Lookup, user: &AuthenticatedUser, expires_at: DateTime<Utc>) {
        if !self.inner.live.load(Ordering::Acquire) {
            return;
        }
        if let Ok(mut sessions) = self.inner.sessions.lock() {
            if sessions.len() >= CAPACITY {
                let current = self.inner.generation.load(Ordering::Acquire);
                sessions.retain(|_, kept| kept.generation == current);
                if sessions.len() >= CAPACITY {
                    sessions.clear();
                }
            }
            sessions.insert(
                lookup.key,
                Kept {
                    user: user.clone(),
                    expires_at,
                    generation: lookup.generation,
                },
            );
        }
    }

    /// A session or account changed: every kept session is read again.
    /// Called after the change's commit, on the instance that made it.
    pub fn changed(&self) {
        self.inner.generation.fetch_add(1, Ordering::AcqRel);
        if let Ok(mut sessions) = self.inner.sessions.lock() {
            sessions.clear();
        }
    }

    /// Sessions kept now (for tests and the start-up log).
    pub fn len(&self) -> usize {
        self.inner.sessions.lock().map(|s| s.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The epoch has been read and is being watched ([`crate::services::sessions::watch`]).
    pub(crate) fn is_live(&self) -> bool {
        self.inner.live.load(Ordering::Acquire)
    }

    pub(crate) fn set_live(&self, live: bool) {
        if !live {
            self.changed();
        }
        self.inner.live.store(live, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::accounts::Role;
    use uuid::Uuid;

    fn someone() -> AuthenticatedUser {
        AuthenticatedUser {
            user_id: Uuid::nil(),
            session_id: Uuid::nil(),
            username: "ana.lab".into(),
            full_name: "Ana".into(),
            role: Role::Lab,
            locked_until: None,
            created_at: DateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn kept_only_while_live_unexpired_and_of_the_current_generation() {
        let cache = SessionCache::default();
        let now = Utc::now();
        let later = now + chrono::Duration::hours(1);
        // not live yet: nothing is kept
        let lookup = cache.find("a".into(), now).unwrap_err();
        cache.keep(lookup, &someone(), later);
        assert!(cache.is_empty());
        cache.set_live(true);
        let lookup = cache.find("a".into(), now).unwrap_err();
        cache.keep(lookup, &someone(), later);
        assert_eq!(cache.find("a".into(), now).unwrap(), someone());
        // expiry is judged on the clock of each request
        assert!(cache.find("a".into(), later).is_err());
        // a change forgets everything
        cache.changed();
        assert!(cache.find("a".into(), now).is_err());
        // a revocation between the lookup and the keeping wins
        let lookup = cache.find("b".into(), now).unwrap_err();
        cache.changed();
        cache.keep(lookup, &someone(), later);
        assert!(cache.find("b".into(), now).is_err());
        // losing the epoch stops serving from memory
        let lookup = cache.find("c".into(), now).unwrap_err();
        cache.keep(lookup, &someone(), later);
        assert!(cache.find("c".into(), now).is_ok());
        cache.set_live(false);
        assert!(cache.find("c".into(), now).is_err());
    }
}
