//! The protocol versions this instance has read, and the one in force.
//! Reading them from the database and watching for amendments is
//! `services::protocol`'s; this is the memory alone.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use crate::domain::protocol::Protocol;
use crate::entities::protocol_version;

/// A protocol and its version number.
#[derive(Debug, Clone)]
pub struct Versioned {
    pub version: i32,
    pub protocol: Protocol,
    pub record: protocol_version::Model,
}

/// Protocol versions already read, and the one in force. A version is never
/// changed once written (an amendment is a new version), so what was read
/// stays true; which version is in force is watched ([`watch`]).
#[derive(Debug, Clone, Default)]
pub struct Versions {
    pub(crate) read: Arc<RwLock<HashMap<i32, Arc<Protocol>>>>,
    pub(crate) in_force: Arc<InForce>,
}

#[derive(Debug, Default)]
pub(crate) struct InForce {
    current: RwLock<Option<Arc<Versioned>>>,
    /// The latest version number has been read and is being watched.
    pub(crate) live: AtomicBool,
}

impl Versions {
    pub(crate) fn current(&self) -> Option<Arc<Versioned>> {
        if !self.in_force.live.load(Ordering::Acquire) {
            return None;
        }
        self.in_force.current.read().ok()?.clone()
    }

    /// Keeps `read` as the version in force unless a later one is kept
    /// already (versions only grow: a slow reader never puts back an older
    /// one).
    pub(crate) fn keep(&self, read: &Arc<Versioned>) {
        if let Ok(mut current) = self.in_force.current.write()
            && current.as_ref().is_none_or(|c| c.version < read.version)
        {
            *current = Some(read.clone());
        }
    }

    /// Puts `read` in force, whatever was kept (the watcher's word).
    pub(crate) fn replace(&self, read: Option<Arc<Versioned>>) {
        if let Ok(mut current) = self.in_force.current.write() {
            *current = read;
        }
    }

    /// Forgets the version in force: the next use reads it again.
    pub(crate) fn forget(&self) {
        self.replace(None);
    }

    pub(crate) fn set_live(&self, live: bool) {
        if !live {
            self.forget();
        }
        self.in_force.live.store(live, Ordering::Release);
    }

    /// The version number kept as in force.
    pub(crate) fn kept_version(&self) -> Option<i32> {
        self.in_force
            .current
            .read()
            .ok()?
            .as_ref()
            .map(|c| c.version)
    }
}
