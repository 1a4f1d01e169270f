//! What every request handler and service shares.

use std::sync::{Arc, RwLock};

use crate::clock::Clock;
use crate::config::Settings;
use crate::db::Db;
use crate::labels::Labels;
use crate::services::ledger::LedgerCheck;
use crate::services::storage::StorageCache;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub clock: Clock,
    pub settings: Arc<Settings>,
    pub storage: StorageCache,
    /// The label layouts, loaded and checked at start.
    pub labels: Arc<Labels>,
    /// The last full verification of the ledger, for the home page.
    pub ledger_check: Arc<RwLock<Option<LedgerCheck>>>,
    /// Protocol versions read so far (they never change).
    pub protocols: crate::services::protocol::Versions,
    /// The key that signs ledger checkpoints, on a serving instance.
    pub checkpoint_signer: Option<Arc<crate::services::checkpoints::Signer>>,
    /// Whether the database was seen to hold demo data (`services::demo_mark`).
    pub demo: crate::services::demo_mark::DemoFlag,
    /// The sessions this instance has seen (`services::sessions`).
    pub sessions: crate::services::sessions::SessionCache,
}

impl AppState {
    pub fn new(db: Db, clock: Clock, settings: Settings, labels: Labels) -> Self {
        AppState {
            db,
            clock,
            settings: Arc::new(settings),
            storage: StorageCache::default(),
            labels: Arc::new(labels),
            ledger_check: Arc::default(),
            protocols: Default::default(),
            checkpoint_signer: None,
            demo: Default::default(),
            sessions: Default::default(),
        }
    }
}
