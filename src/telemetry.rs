//! Logging, set up once: `RUST_LOG` picks the level (default `info`),
//! `--log-format json` makes one JSON object per line.
//!
//! Lines are handed to a writer thread of their own (`tracing-appender`),
//! so a slow terminal, pipe or log collector never holds up a request: a
//! request thread formats its line and queues it. Should the queue
//! ([`QUEUED_LINES`]) ever be full, new lines are dropped rather than waited
//! for; the record of what happened is the custody ledger, never the log.

use std::io::IsTerminal;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::LogFormat;

/// Lines queued for the writer at most: about a second of a busy server's
/// request lines. The queue is allocated whole at start; the crate's
/// default (128k lines) held 4 MB for it.
pub const QUEUED_LINES: usize = 16_384;

/// Keep the guard for as long as the process logs: dropping it writes out
/// what is queued.
#[must_use = "dropping the guard stops the log writer"]
pub fn init(format: LogFormat) -> WorkerGuard {
    init_writing_to(format, std::io::stderr(), std::io::stderr().is_terminal())
}

/// [`init`], with the lines written to `out` (the benchmarks log to a file,
/// as a server's log collector would read them).
#[must_use = "dropping the guard stops the log writer"]
pub fn init_writing_to(
    format: LogFormat,
    out: impl std::io::Write + Send + 'static,
    ansi: bool,
) -> WorkerGuard {
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .buffered_lines_limit(QUEUED_LINES)
        .lossy(true)
        .finish(out);
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    let registry = tracing_subscriber::registry().with(filter);
    let result = match format {
        LogFormat::Text => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .with_target(false)
                    .with_writer(writer)
                    .with_ansi(ansi),
            )
            .try_init(),
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_writer(writer)
                    .with_current_span(true)
                    .with_span_list(false),
            )
            .try_init(),
    };
    // A second init (tests, embedding) keeps the first subscriber.
    let _ = result;
    guard
}
