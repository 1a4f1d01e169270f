//! The service's one source of "now". Production reads the system clock;
//! tests and the demo loader move it forward to cross a lockout, a token
//! expiry or a post-thaw shelf life without sleeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Duration, Utc};

use crate::error::{AppError, AppResult};

/// Clocks disagree a little; a time this far ahead of ours is still "now".
pub const CLOCK_SKEW: Duration = Duration::minutes(5);

/// A time a person gives for something that happened (a test, a weight, a
/// freezing) may not lie ahead of the server's clock, beyond the skew.
pub fn not_in_future(field: &'static str, at: DateTime<Utc>, now: DateTime<Utc>) -> AppResult<()> {
    if at > now + CLOCK_SKEW {
        return Err(AppError::invalid(field, format!("{at} is in the future")));
    }
    Ok(())
}

#[derive(Clone, Debug, Default)]
pub struct Clock {
    /// Microseconds added to the system time; 0 in production.
    offset_us: Arc<AtomicI64>,
}

impl Clock {
    pub fn system() -> Self {
        Clock::default()
    }

    /// The current time to the microsecond: both databases keep
    /// microseconds, so a time read back equals the time written.
    pub fn now(&self) -> DateTime<Utc> {
        let us = Utc::now().timestamp_micros() + self.offset_us.load(Ordering::Relaxed);
        DateTime::from_timestamp_micros(us).expect("the clock is within chrono's range")
    }

    /// A clock of its own that reads `at` now and runs on from there (the
    /// demo loader writes a trial that happened in the past, in order).
    pub fn starting_at(at: DateTime<Utc>) -> Self {
        let clock = Clock::default();
        clock.jump_to(at);
        clock
    }

    /// Sets this clock (and every clone of it) to read `at` now.
    pub fn jump_to(&self, at: DateTime<Utc>) {
        self.advance(at - self.now());
    }

    /// Moves this clock (and every clone of it) forward.
    pub fn advance(&self, by: Duration) {
        let us = by.num_microseconds().unwrap_or(i64::MAX);
        self.offset_us.fetch_add(us, Ordering::Relaxed);
    }
}
