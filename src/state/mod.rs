//! What every request handler and service shares: the database, the
//! clock, the settings, and the in-process memories (caches and handles)
//! that services keep. Each memory is a module of its own here and knows
//! nothing of services, so services use the state and never the reverse.

pub mod demo;
pub mod ledger;
pub mod protocols;
pub mod sessions;
pub mod signer;
pub mod storage;

use std::sync::{Arc, RwLock};

use crate::clock::Clock;
use crate::config::Settings;
use crate::db::Db;
use crate::labels::Labels;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub clock: Clock,
    pub settings: Arc<Settings>,
    pub storage: storage::StorageCache,
    /// The label layouts, loaded and checked at start.
    pub labels: Arc<Labels>,
    /// The last full verification of the ledger, for the home page.
    pub ledger_check: Arc<RwLock<Option<ledger::LedgerCheck>>>,
    /// Protocol versions read so far (they never change).
    pub protocols: protocols::Versions,
    /// The key that signs ledger checkpoints, on a serving instance.
    pub checkpoint_signer: Option<Arc<signer::Signer>>,
    /// Whether the database was seen to hold demo data (`services::demo_mark`).
    pub demo: demo::DemoFlag,
    /// The sessions this instance has seen (`services::sessions`).
    pub sessions: sessions::SessionCache,
}

impl AppState {
    pub fn new(db: Db, clock: Clock, settings: Settings, labels: Labels) -> Self {
        AppState {
            db,
            clock,
            settings: Arc::new(settings),
            storage: storage::StorageCache::default(),
            labels: Arc::new(labels),
            ledger_check: Arc::default(),
            protocols: Default::default(),
            checkpoint_signer: None,
            demo: Default::default(),
            sessions: Default::default(),
        }
    }
}
