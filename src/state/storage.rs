//! The storage units read so far, each with its full path: units are
//! few and their paths change only through `services::storage`, which
//! keeps this memory.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use uuid::Uuid;

use crate::domain::storage::StorageKind;

/// A storage unit with its full path, as cached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    pub id: Uuid,
    pub name: String,
    pub kind: StorageKind,
    pub parent_id: Option<Uuid>,
    pub rows: Option<u8>,
    pub cols: Option<u8>,
    /// `Tank 1 › Rack A › Box 3`.
    pub path: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// The site the unit (its whole tree) is at.
    pub site_id: Uuid,
}

#[derive(Debug, Clone, Default)]
pub struct StorageCache {
    units: Arc<RwLock<HashMap<Uuid, Arc<Unit>>>>,
}

impl StorageCache {
    pub(crate) fn get(&self, id: Uuid) -> Option<Arc<Unit>> {
        self.units.read().ok()?.get(&id).cloned()
    }

    pub(crate) fn put(&self, unit: Unit) -> Arc<Unit> {
        let unit = Arc::new(unit);
        if let Ok(mut units) = self.units.write() {
            units.insert(unit.id, unit.clone());
        }
        unit
    }
}
