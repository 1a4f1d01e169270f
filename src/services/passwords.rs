//! Password hashing with argon2id (OWASP's first choice; default parameters:
//! 19 MiB, 2 passes). Hashing is slow on purpose, so it runs on the blocking
//! pool and at most a few at a time: a burst of logins queues instead of
//! eating all memory.

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Argon2, PasswordHash};
use tokio::sync::Semaphore;

use crate::domain::accounts::NewPassword;
use crate::error::{AppError, AppResult};

static HASHING_SLOTS: Semaphore = Semaphore::const_new(4);

pub async fn hash(password: &NewPassword) -> AppResult<String> {
    let password = password.expose().to_owned();
    run_blocking(move || {
        let hash: PasswordHash = Argon2::default()
            .hash_password(password.as_bytes())
            .map_err(|e| anyhow::anyhow!("argon2 hashing failed: {e}"))?;
        Ok(hash.to_string())
    })
    .await
}

/// Whether `candidate` is the password behind `stored`. A stored hash that
/// does not parse never matches.
pub async fn verify(stored: &str, candidate: &str) -> AppResult<bool> {
    let (stored, candidate) = (stored.to_owned(), candidate.to_owned());
    run_blocking(move || {
        Ok(Argon2::default()
            .verify_password(candidate.as_bytes(), stored.as_str())
            .is_ok())
    })
    .await
}

/// Spends the time a real verification takes, so that an unknown username
/// cannot be told from a wrong password by the answer's speed.
pub async fn verify_against_nothing(candidate: &str) -> AppResult<()> {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let stored = match DUMMY.get() {
        Some(hash) => hash.clone(),
        None => {
            let fresh = hash(&NewPassword::dummy()).await?;
            DUMMY.get_or_init(|| fresh).clone()
        }
    };
    verify(&stored, candidate).await.map(|_| ())
}

async fn run_blocking<T: Send + 'static>(
    work: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
) -> AppResult<T> {
    let _slot = HASHING_SLOTS.acquire().await.map_err(AppError::internal)?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::Internal)
}

/// A random password for a new or reset account: 20 characters from an
/// alphabet without look-alikes (no 0/O, 1/l/I), about 115 bits.
pub fn generate() -> AppResult<String> {
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    // Bytes at or above the largest multiple of the alphabet's size are
    // thrown away, so every character is equally likely.
    let unbiased_below = 256 - 256 % ALPHABET.len();
    let mut password = String::with_capacity(20);
    while password.len() < 20 {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)
            .map_err(|e| AppError::internal(anyhow::anyhow!("no randomness: {e}")))?;
        password.extend(
            bytes
                .iter()
                .map(|b| usize::from(*b))
                .filter(|b| *b < unbiased_below)
                .map(|b| char::from(ALPHABET[b % ALPHABET.len()]))
                .take(20 - password.len()),
        );
    }
    Ok(password)
}
