//! Crash test: the real server killed with SIGKILL in the middle of a load
//! of writes, three times, and started again on the same database, key and
//! checkpoint log. Every write it acknowledged is still there, it takes
//! writes again at once (its head is at or past the last checkpoint, never
//! behind it), and the ledger verifies against the checkpoints.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use chrono::Utc;
use serde_json::json;

use crate::helpers::Backend;
use crate::processes::{Client, Installation, verify_audit_passes};

const KILLS: usize = 3;
const CLIENTS: usize = 6;

mod acknowledged_writes_survive_kill_9 {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        crate::helpers::sqlite_only();
        acknowledged_writes_survive_kill_9(Backend::Sqlite).await;
    }

    crate::postgres_test! {
        async fn postgres() {
            acknowledged_writes_survive_kill_9(Backend::Postgres).await;
        }
    }
}

/// A write the server acknowledged (2xx), to be found after the crashes.
#[derive(Debug, Clone)]
enum Acknowledged {
    StorageUnit(String),
    Donor(String),
}

impl Acknowledged {
    fn path(&self) -> String {
        match self {
            Acknowledged::StorageUnit(id) => format!("/api/v1/storage/{id}"),
            Acknowledged::Donor(id) => format!("/api/v1/donors/{id}"),
        }
    }
}

/// What one client saw until the server went away.
#[derive(Debug, Default)]
struct Seen {
    acknowledged: Vec<Acknowledged>,
    checkpoints: usize,
    /// Answers other than 2xx: a killed server answers nothing, never an
    /// error.
    refused: Vec<String>,
}

/// One client writing until told to stop or until the server is gone:
/// storage units and donors, and (client 0) a checkpoint now and then, so
/// that the kills fall between checkpoints.
async fn writer(
    client: Arc<Client>,
    base: String,
    lab: String,
    quality: String,
    number: usize,
    next: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
) -> Seen {
    let mut seen = Seen::default();
    for round in 0_usize.. {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let n = next.fetch_add(1, Ordering::Relaxed);
        let (reply, made) = if number == 0 && round.is_multiple_of(4) {
            let reply = client
                .post(&base, "/api/v1/audit/checkpoints", &quality, json!({}))
                .await;
            (reply, None)
        } else if n.is_multiple_of(2) {
            let reply = client
                .post(
                    &base,
                    "/api/v1/storage",
                    &lab,
                    json!({ "name": format!("Crash tank {n}"), "kind": "tank" }),
                )
                .await;
            (
                reply,
                Some(Acknowledged::StorageUnit as fn(String) -> Acknowledged),
            )
        } else {
            let reply = client
                .post(
                    &base,
                    "/api/v1/donors",
                    &lab,
                    json!({
                        "code": format!("UCD-K{n:05}"),
                        "consent_at": (Utc::now() - chrono::Duration::days(30)).to_rfc3339(),
                    }),
                )
                .await;
            (
                reply,
                Some(Acknowledged::Donor as fn(String) -> Acknowledged),
            )
        };
        let Some((status, body)) = reply else {
            // killed: nothing more will answer
            break;
        };
        match (status, made) {
            (200..=299, Some(made)) => seen
                .acknowledged
                .push(made(body["id"].as_str().expect("an id").to_owned())),
            (200..=299, None) => seen.checkpoints += 1,
            _ => seen.refused.push(format!("{status}: {body}")),
        }
    }
    seen
}

async fn acknowledged_writes_survive_kill_9(backend: Backend) {
    let site = Installation::create(backend).await;
    let client = Arc::new(Client::new());
    let mut server = site.serve();
    let lab = client.staff(&server.base, "lab.tech", "lab").await;
    let quality = client.staff(&server.base, "qa.officer", "quality").await;
    let next = Arc::new(AtomicUsize::new(0));
    let mut acknowledged = Vec::new();
    let mut checkpoints = 0;
    for kill in 1..=KILLS {
        let stop = Arc::new(AtomicBool::new(false));
        let writers: Vec<_> = (0..CLIENTS)
            .map(|number| {
                tokio::spawn(writer(
                    client.clone(),
                    server.base.clone(),
                    lab.clone(),
                    quality.clone(),
                    number,
                    next.clone(),
                    stop.clone(),
                ))
            })
            .collect();
        // long enough for checkpoints and writes in flight, different each time
        tokio::time::sleep(Duration::from_millis(1200 + 400 * kill as u64)).await;
        server.kill();
        stop.store(true, Ordering::Relaxed);
        for seen in futures::future::join_all(writers).await {
            let seen = seen.expect("a writer ends");
            assert!(
                seen.refused.is_empty(),
                "the server refused writes before kill {kill}: {:?}\n{}",
                seen.refused,
                server.log_text()
            );
            acknowledged.extend(seen.acknowledged);
            checkpoints += seen.checkpoints;
        }
        // the same database, key and checkpoint log
        server = site.serve();
    }
    assert!(
        acknowledged.len() > 10 * KILLS && checkpoints >= KILLS,
        "the load was too light to mean anything: {} writes, {checkpoints} checkpoints",
        acknowledged.len()
    );
    for write in &acknowledged {
        let (status, body) = client
            .get(&server.base, &write.path(), &lab)
            .await
            .expect("the server answers");
        assert_eq!(status, 200, "{write:?} was acknowledged and lost: {body}");
    }
    // writes are taken at once: the head is past the last checkpoint
    let (status, body) = client
        .post(
            &server.base,
            "/api/v1/donors",
            &lab,
            json!({ "code": "UCD-K-AFTER", "consent_at": (Utc::now() - chrono::Duration::days(1)).to_rfc3339() }),
        )
        .await
        .expect("the server answers");
    assert_eq!(status, 201, "{body}");
    let (status, report) = client
        .get(&server.base, "/api/v1/audit/verify", &quality)
        .await
        .expect("the server answers");
    assert_eq!(status, 200);
    assert_eq!(report["ok"], true, "{report}");
    assert!(report["alarm"].is_null(), "{report}");
    server.stop();
    assert_eq!(
        server.errors(),
        Vec::<String>::new(),
        "the server logged errors"
    );
    let report = verify_audit_passes(site.cli(), &[]);
    assert!(
        report["checkpoints_checked"].as_u64().unwrap() >= KILLS as u64,
        "{report}"
    );
    println!(
        "crash test on {backend:?}: {} acknowledged writes, all present after {KILLS} kills (SIGKILL); {checkpoints} checkpoints asked for, {} checked by verify-audit over {} events",
        acknowledged.len(),
        report["checkpoints_checked"],
        report["events"],
    );
}
