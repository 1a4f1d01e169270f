//! Signed checkpoints: the ledger's head leaves the database, so that a tail
//! cut off, or a chain edited and rehashed, is named by verification, and
//! no write seals the gap.

use std::time::Duration;

use celltrail::domain::checkpoint::{parse_checkpoints, parse_public_key};
use celltrail::domain::event::{EventContent, event_hash};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;

use crate::helpers::TestApp;
use crate::on_both_databases;
use crate::story::{Team, rfc3339};

on_both_databases!(
    a_checkpoint_is_signed_logged_listed_and_receipted,
    a_thousand_events_bring_a_checkpoint_by_themselves,
    a_cut_tail_is_named_and_no_write_seals_the_gap,
    an_edited_and_rehashed_chain_is_named,
    an_auditor_verifies_a_copy_with_the_public_key,
);

impl TestApp {
    /// The binary on this app's database, key and checkpoint log.
    pub fn cli(&self) -> std::process::Command {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_celltrail"));
        command
            .env("DATABASE_URL", &self.database_url)
            .env(
                "CELLTRAIL_LEDGER_KEY_FILE",
                self.files.path().join("celltrail-ledger.key"),
            )
            .env(
                "CELLTRAIL_CHECKPOINT_DIR",
                self.files.path().join("checkpoints"),
            )
            .env("RUST_LOG", "off");
        command
    }

    async fn checkpoint_now(&self, team: &Team) -> serde_json::Value {
        let answer = self
            .post("/api/v1/audit/checkpoints", Some(&team.quality), json!({}))
            .await;
        assert!(
            matches!(answer.status.as_u16(), 200 | 201),
            "{:#}",
            answer.body
        );
        answer.body
    }

    async fn head_seq(&self) -> i64 {
        let db = self.state.db.conn();
        let row = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT MAX(seq) AS seq FROM custody_events",
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get::<i64>("", "seq").unwrap()
    }

    pub async fn sql(&self, sql: String) {
        self.tamper();
        let db = self.state.db.conn();
        db.execute_raw(Statement::from_string(db.get_database_backend(), sql))
            .await
            .unwrap();
    }
}

async fn a_checkpoint_is_signed_logged_listed_and_receipted(app: TestApp) {
    let team = app.team().await;
    app.register_donor(&team, "UCD-C001").await;
    app.post("/api/v1/audit/checkpoints", Some(&team.lab), json!({}))
        .await
        .expect_error(403, "forbidden");
    let taken = app
        .post("/api/v1/audit/checkpoints", Some(&team.quality), json!({}))
        .await
        .expect(201);
    let head = app.head_seq().await;
    assert_eq!(taken["seq"], head);
    // nothing new: the same checkpoint
    let again = app
        .post("/api/v1/audit/checkpoints", Some(&team.quality), json!({}))
        .await
        .expect(200);
    assert_eq!(again["seq"], head);
    let list = app
        .get("/api/v1/audit/checkpoints", Some(&team.quality))
        .await
        .expect(200);
    let key = parse_public_key(list["public_key"].as_str().unwrap()).expect("a public key");
    assert_eq!(list["checkpoints"][0]["seq"], head);
    // the receipt verifies with the public key alone
    let (status, content_type, receipt) = app
        .get_bytes(
            &format!("/api/v1/audit/checkpoints/{head}/receipt"),
            Some(&team.quality),
        )
        .await;
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/plain"));
    let receipt = String::from_utf8(receipt).unwrap();
    assert!(
        receipt.starts_with("celltrail ledger checkpoint v1\n"),
        "{receipt}"
    );
    let (read, unreadable) = parse_checkpoints(&receipt);
    assert_eq!(unreadable, 0);
    assert!(read[0].is_signed_by(&key));
    // the log outside the database holds it; the key file is the owner's
    let log =
        std::fs::read_to_string(app.files.path().join("checkpoints/checkpoints.jsonl")).unwrap();
    assert_eq!(parse_checkpoints(&log).0[0], read[0]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(app.files.path().join("celltrail-ledger.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let report = app.verify_ledger(&team).await;
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["checkpoints"]["checked"], 1);
}

async fn a_thousand_events_bring_a_checkpoint_by_themselves(app: TestApp) {
    let team = app.team().await;
    let (_, donation) = app.eligible_donor(&team, "UCD-C002").await;
    let lot = app.lot(&team, donation["id"].as_str().unwrap()).await;
    app.pass_all_qc(&team, lot["id"].as_str().unwrap()).await;
    // freezing 999 vials writes 1,000 events in one commit
    app.post(
        &format!("/api/v1/lots/{}/freeze", lot["id"].as_str().unwrap()),
        Some(&team.lab),
        json!({
            "vial_count": 999, "cells_per_vial": 10_000_000, "volume_ul": 1000,
            "frozen_at": rfc3339(app.days_ago(1)),
        }),
    )
    .await
    .expect(201);
    let head = app.head_seq().await;
    assert!(head > 1000);
    let mut signed = 0;
    for _ in 0..100 {
        let list = app
            .get("/api/v1/audit/checkpoints", Some(&team.quality))
            .await
            .expect(200);
        signed = list["checkpoints"][0]["seq"].as_i64().unwrap_or(0);
        if signed >= 1000 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        signed >= 1000,
        "a checkpoint follows 1,000 events: {signed}"
    );
}

async fn a_cut_tail_is_named_and_no_write_seals_the_gap(app: TestApp) {
    let team = app.team().await;
    for n in 0..3 {
        app.register_donor(&team, &format!("UCD-C01{n}")).await;
    }
    let checkpoint = app.checkpoint_now(&team).await;
    let signed = checkpoint["seq"].as_i64().unwrap();
    // someone deletes the last three events behind the service's back
    app.sql(format!(
        "DELETE FROM custody_events WHERE seq > {}",
        signed - 3
    ))
    .await;
    let report = app.verify_ledger(&team).await;
    assert_eq!(report["ok"], false, "{report}");
    let problems = report["problems"].as_array().unwrap();
    assert!(
        problems
            .iter()
            .any(|p| p.as_str().unwrap().contains("events were removed")),
        "{report}"
    );
    assert_eq!(report["checkpoints"]["problems"][0]["problem"], "truncated");
    assert_eq!(
        report["checkpoints"]["problems"][0]["ledger_ends_at"],
        signed - 3
    );
    assert!(report["alarm"].is_string());
    // the next write does not reuse the numbers and seal the gap
    app.post(
        "/api/v1/donors",
        Some(&team.lab),
        json!({ "code": "UCD-C019", "consent_at": rfc3339(app.days_ago(1)) }),
    )
    .await
    .expect_error(503, "ledger_inconsistent");
    assert_eq!(app.head_seq().await, signed - 3, "nothing was appended");
    // the quality officer's home says so
    let cookie = crate::web::sign_in(&app, "qa.officer").await;
    let (_, home) = crate::web::page(&app, "/", &cookie).await;
    assert!(home.contains("id=\"ledger-alarm\""), "{home}");
}

async fn an_edited_and_rehashed_chain_is_named(app: TestApp) {
    let team = app.team().await;
    for n in 0..4 {
        app.register_donor(&team, &format!("UCD-C02{n}")).await;
    }
    let checkpoint = app.checkpoint_now(&team).await;
    let signed = checkpoint["seq"].as_i64().unwrap();
    // the attacker edits event signed-2 and recomputes every hash after it
    let events = app
        .get(
            &format!("/api/v1/audit?after_seq={}", signed - 3),
            Some(&team.quality),
        )
        .await
        .expect(200);
    let mut prev_hash = events[0]["prev_hash"].as_str().unwrap().to_owned();
    for event in events.as_array().unwrap() {
        let seq = event["seq"].as_i64().unwrap();
        let mut details = serde_json::to_string(&event["details"]).unwrap();
        if seq == signed - 2 {
            details = details.replace("UCD-C021", "UCD-C099");
        }
        let occurred_at =
            chrono::DateTime::parse_from_rfc3339(event["occurred_at"].as_str().unwrap())
                .unwrap()
                .with_timezone(&chrono::Utc);
        let actor_id = event["actor_id"].as_str().map(|s| s.parse().unwrap());
        let subject_id = event["subject_id"].as_str().unwrap().parse().unwrap();
        let content = EventContent {
            seq,
            occurred_at,
            actor_id,
            actor_username: event["actor_username"].as_str().unwrap(),
            action: event["action"].as_str().unwrap(),
            subject_kind: event["subject_kind"].as_str().unwrap(),
            subject_id,
            from_location: event["from_location"].as_str(),
            to_location: event["to_location"].as_str(),
            details: &details,
            prev_hash: &prev_hash,
        };
        let hash = event_hash(&content);
        app.sql(format!(
            "UPDATE custody_events SET details = '{}', prev_hash = '{prev_hash}', hash = '{hash}' WHERE seq = {seq}",
            details.replace('\'', "''")
        ))
        .await;
        prev_hash = hash;
    }
    let report = app.verify_ledger(&team).await;
    assert_eq!(
        report["first_bad_seq"],
        serde_json::Value::Null,
        "the chain itself holds"
    );
    assert_eq!(report["ok"], false, "{report}");
    assert_eq!(report["checkpoints"]["problems"][0]["problem"], "rewritten");
    assert_eq!(report["checkpoints"]["problems"][0]["seq"], signed);
}

async fn an_auditor_verifies_a_copy_with_the_public_key(app: TestApp) {
    let team = app.team().await;
    app.register_donor(&team, "UCD-C030").await;
    let checkpoint = app.checkpoint_now(&team).await;
    let public_key = app
        .get("/api/v1/audit/checkpoints", Some(&team.quality))
        .await
        .expect(200)["public_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let log = app.files.path().join("checkpoints/checkpoints.jsonl");
    // the auditor's copies, outside the installation
    let auditor = tempfile::tempdir().unwrap();
    let copy = auditor.path().join("receipts.jsonl");
    std::fs::copy(&log, &copy).unwrap();
    let verify = |key: &str| {
        let mut command = app.cli();
        command
            .env(
                "CELLTRAIL_LEDGER_KEY_FILE",
                auditor.path().join("no-key-here"),
            )
            .env(
                "CELLTRAIL_CHECKPOINT_DIR",
                auditor.path().join("no-log-here"),
            )
            .args(["verify-audit", "--public-key", key, "--checkpoints"])
            .arg(&copy);
        command.output().unwrap()
    };
    let output = verify(&public_key);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let said: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(said["checkpoints_checked"], 1);
    // another key: the checkpoints are not trusted
    let other = format!("ed25519:{}", "7".repeat(64));
    let forged = verify(&other);
    assert!(!forged.status.success());
    let said: serde_json::Value = serde_json::from_slice(&forged.stdout).unwrap();
    assert_eq!(said["ok"], false, "{said}");
    // cut the tail: the copy's check fails and says why
    let signed = checkpoint["seq"].as_i64().unwrap();
    app.sql(format!("DELETE FROM custody_events WHERE seq = {signed}"))
        .await;
    let output = verify(&public_key);
    assert!(!output.status.success());
    let said: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(said["ok"], false);
    assert!(
        said["problems"][0]
            .as_str()
            .unwrap()
            .contains("events were removed"),
        "{said}"
    );
    // and with this installation's own key and log, no flags needed
    let mut own = app.cli();
    own.arg("verify-audit");
    let output = own.output().unwrap();
    assert!(!output.status.success());
}
