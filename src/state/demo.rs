//! Whether the database was seen to hold demo data, remembered once it
//! can no longer change; `services::demo_mark` asks the database.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

/// Remembers the answer once it can no longer change: a marker is never
/// removed, and the demo loads only into a database with no donor and no
/// patient, so one that holds real records unmarked stays real. Only a
/// database still empty is asked again (another process may load the demo
/// into it); a serving installation asks the database once.
#[derive(Debug, Clone, Default)]
pub struct DemoFlag(Arc<AtomicU8>);

// 0: not known yet
const DEMO: u8 = 1;
const REAL: u8 = 2;

impl DemoFlag {
    pub(crate) fn known(&self) -> Option<bool> {
        match self.0.load(Ordering::Relaxed) {
            DEMO => Some(true),
            REAL => Some(false),
            _ => None,
        }
    }

    pub(crate) fn remember(&self, demo: bool) {
        self.0
            .store(if demo { DEMO } else { REAL }, Ordering::Relaxed);
    }
}
