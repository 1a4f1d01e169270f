//! The key that signs ledger checkpoints and the log they are written to,
//! held by a serving instance; `services::checkpoints` loads it and signs.

use std::path::PathBuf;

use ed25519_dalek::{SigningKey, VerifyingKey};

use crate::domain::checkpoint::public_key_text;

/// The signing side: the key and the log, for a serving instance.
pub struct Signer {
    pub(crate) key: SigningKey,
    pub(crate) log: PathBuf,
    /// One checkpoint at a time within this process.
    pub(crate) busy: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("public_key", &self.public_key())
            .field("log", &self.log)
            .finish()
    }
}

impl Signer {
    pub fn public_key(&self) -> String {
        public_key_text(&self.key.verifying_key())
    }

    pub fn verifying_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }
}
