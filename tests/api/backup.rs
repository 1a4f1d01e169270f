//! Backups while the server runs: `celltrail backup` on SQLite, `celltrail
//! checkpoint` + pg_dump on PostgreSQL. A restored copy verifies against
//! the receipt of the checkpoint taken for it; against the server's later
//! checkpoints it is, truthfully, a ledger whose tail is missing.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use celltrail::domain::checkpoint::{parse_checkpoints, parse_public_key};
use futures::future::join_all;
use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, TestDb};
use crate::processes::{Client, ServerProcess, cli, report_of, verify_audit_passes};
use crate::story::{Team, rfc3339};
use crate::{on_both_databases, on_postgresql};

on_both_databases!(
    a_copy_taken_while_serving_verifies_against_its_receipt,
    a_backup_refuses_rather_than_overwrite_or_guess,
    a_newer_binary_backs_up_without_migrating_the_live_database,
);

on_postgresql!(
    #[needs(pg_dump)]
    a_pg_dump_taken_while_serving_verifies_against_its_receipt
);

/// What a command printed, and whether it succeeded.
fn run(mut command: Command) -> (bool, String, String) {
    let output = command.output().unwrap_or_else(|error| {
        panic!("{} does not run: {error}", command.get_program().display())
    });
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The event a `backup`/`checkpoint` command says it signed.
fn signed_event(stdout: &str) -> i64 {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("checkpoint: event "))
        .and_then(|rest| rest.split(',').next())
        .and_then(|seq| seq.parse().ok())
        .unwrap_or_else(|| panic!("no checkpoint printed: {stdout}"))
}

impl TestApp {
    async fn public_key(&self, team: &Team) -> String {
        self.get("/api/v1/audit/checkpoints", Some(&team.quality))
            .await
            .expect(200)["public_key"]
            .as_str()
            .expect("a public key")
            .to_owned()
    }

    /// Donors registered, all at once.
    async fn donors(&self, team: &Team, prefix: &str, count: usize) {
        join_all((0..count).map(|n| {
            self.post(
                "/api/v1/donors",
                Some(&team.lab),
                json!({ "code": format!("{prefix}{n:03}"), "consent_at": rfc3339(self.days_ago(30)) }),
            )
        }))
        .await
        .into_iter()
        .for_each(|answer| {
            answer.expect(201);
        });
    }
}

/// An auditor's verification of a restored copy: the receipt and the
/// public key, nothing of the installation's.
fn verify_with_receipt(database_url: &str, receipt: &Path, public_key: &str) -> Value {
    let nowhere = tempfile::tempdir().unwrap();
    let command = cli(
        database_url,
        &nowhere.path().join("no-key"),
        &nowhere.path().join("no-log"),
    );
    verify_audit_passes(
        command,
        &[
            OsStr::new("--public-key"),
            OsStr::new(public_key),
            OsStr::new("--checkpoints"),
            receipt.as_os_str(),
        ],
    )
}

/// The copy held against the server's own checkpoint log, after the
/// server went on and signed more: the tail the copy lacks is named.
async fn the_servers_later_checkpoints_say_the_copy_lacks_its_tail(
    app: &TestApp,
    team: &Team,
    restored_url: &str,
    backed_up: i64,
) {
    app.donors(team, "UCD-B9", 3).await;
    let later = app
        .post("/api/v1/audit/checkpoints", Some(&team.quality), json!({}))
        .await
        .expect(201);
    assert!(later["seq"].as_i64().unwrap() > backed_up);
    let mut command = app.cli();
    command
        .env("DATABASE_URL", restored_url)
        .arg("verify-audit");
    let (ok, report, _) = report_of(command);
    assert!(!ok, "{report}");
    assert_eq!(report["first_bad_seq"], Value::Null, "the chain holds");
    assert!(
        report["problems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p.as_str().unwrap().contains("events were removed")),
        "{report}"
    );
}

async fn a_copy_taken_while_serving_verifies_against_its_receipt(app: TestApp) {
    let team = app.team().await;
    app.donors(&team, "UCD-B0", 5).await;
    let public_key = app.public_key(&team).await;
    let dir = tempfile::tempdir().unwrap();
    match app.backend {
        Backend::Sqlite => sqlite_backup(&app, &team, dir.path(), &public_key).await,
        Backend::Postgres => backup_points_postgresql_at_pg_dump(&app, dir.path()),
    }
}

async fn a_pg_dump_taken_while_serving_verifies_against_its_receipt(app: TestApp) {
    let team = app.team().await;
    app.donors(&team, "UCD-B0", 5).await;
    let public_key = app.public_key(&team).await;
    let dir = tempfile::tempdir().unwrap();
    postgres_backup(&app, &team, dir.path(), &public_key).await;
}

async fn sqlite_backup(app: &TestApp, team: &Team, dir: &Path, public_key: &str) {
    let copy = dir.join("celltrail-backup.db");
    let mut backup = app.cli();
    backup.arg("backup").arg("-o").arg(&copy);
    // the copy is taken while the lab keeps writing
    let taken = tokio::task::spawn_blocking(move || run(backup));
    app.donors(team, "UCD-B1", 12).await;
    let (ok, stdout, stderr) = taken.await.unwrap();
    assert!(ok, "{stdout}{stderr}");
    let seq = signed_event(&stdout);
    let receipt = PathBuf::from(format!("{}.checkpoint", copy.display()));
    assert!(stdout.contains(&format!("copy: {}", copy.canonicalize().unwrap().display())));
    assert!(stdout.contains(&format!(
        "receipt: {}",
        receipt.canonicalize().unwrap().display()
    )));
    assert!(stdout.contains(public_key), "{stdout}");
    // the receipt is the signed checkpoint of the head the copy holds
    let (read, unreadable) = parse_checkpoints(&std::fs::read_to_string(&receipt).unwrap());
    assert_eq!((read.len(), unreadable), (1, 0));
    assert_eq!(read[0].seq, seq);
    assert!(read[0].is_signed_by(&parse_public_key(public_key).unwrap()));
    // restored elsewhere, it verifies with the receipt and the public key
    let restored = dir.join("restored.db");
    std::fs::copy(&copy, &restored).unwrap();
    let restored_url = format!("sqlite://{}?mode=rwc", restored.display());
    let report = verify_with_receipt(&restored_url, &receipt, public_key);
    assert_eq!(report["checkpoints_checked"], 1);
    assert!(report["events"].as_i64().unwrap() >= seq);
    // the copy carries its checkpoint in its own table too
    let db = Database::connect(restored_url.as_str()).await.unwrap();
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            format!("SELECT COUNT(*) AS n FROM ledger_checkpoints WHERE seq = {seq}"),
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.try_get::<i64>("", "n").unwrap(), 1);
    db.close().await.unwrap();
    the_servers_later_checkpoints_say_the_copy_lacks_its_tail(app, team, &restored_url, seq).await;
    a_restored_copy_serves_from_its_receipt(app, team, dir, &restored_url, &receipt).await;
}

/// The restore as the README tells it. Served beside the old checkpoint
/// log, the copy is a ledger that lost its tail and refuses writes; with
/// the old log kept aside and a new one begun from the backup's receipt, it
/// serves, and the receipt's checkpoint guards it from then on.
async fn a_restored_copy_serves_from_its_receipt(
    app: &TestApp,
    team: &Team,
    dir: &Path,
    restored_url: &str,
    receipt: &Path,
) {
    let key = app.files.path().join("celltrail-ledger.key");
    let client = Client::new();
    let donor = |code: &str| json!({ "code": code, "consent_at": rfc3339(app.days_ago(3)) });
    let mut beside_old_log = ServerProcess::start(
        restored_url,
        &key,
        &app.files.path().join("checkpoints"),
        &dir.join("restored-1.log"),
    );
    let (status, body) = client
        .post(
            &beside_old_log.base,
            "/api/v1/donors",
            &team.lab,
            donor("UCD-B3001"),
        )
        .await
        .unwrap();
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "ledger_inconsistent");
    beside_old_log.kill();
    assert!(
        beside_old_log
            .errors()
            .iter()
            .any(|line| line.contains("inconsistent")),
        "the alarm is logged: {}",
        beside_old_log.log_text()
    );

    let new_log = dir.join("checkpoints-after-restore");
    std::fs::create_dir(&new_log).unwrap();
    std::fs::copy(receipt, new_log.join("checkpoints.jsonl")).unwrap();
    let mut restored =
        ServerProcess::start(restored_url, &key, &new_log, &dir.join("restored-2.log"));
    let (status, body) = client
        .post(
            &restored.base,
            "/api/v1/donors",
            &team.lab,
            donor("UCD-B3002"),
        )
        .await
        .unwrap();
    assert_eq!(status, 201, "{body}");
    restored.stop();
    let report = verify_audit_passes(cli(restored_url, &key, &new_log), &[]);
    // the receipt and the checkpoint signed at shutdown
    assert_eq!(report["checkpoints_checked"], 2, "{report}");
}

/// `backup` is SQLite's; on PostgreSQL it refuses and names pg_dump.
fn backup_points_postgresql_at_pg_dump(app: &TestApp, dir: &Path) {
    let copy = dir.join("celltrail.db");
    let mut backup = app.cli();
    backup.arg("backup").arg("-o").arg(&copy);
    let (ok, _, stderr) = run(backup);
    assert!(!ok);
    assert!(stderr.contains("pg_dump"), "{stderr}");
    assert!(!copy.exists());
}

/// Built to run only where pg_dump and pg_restore were on PATH (or under
/// CI, which must have them): missing now, `run` fails the test.
async fn postgres_backup(app: &TestApp, team: &Team, dir: &Path, public_key: &str) {
    // as the README says: a checkpoint with its receipt, then pg_dump
    let receipt = dir.join("celltrail.pgdump.checkpoint");
    let mut checkpoint = app.cli();
    checkpoint.arg("checkpoint").arg("-o").arg(&receipt);
    let (ok, stdout, stderr) = run(checkpoint);
    assert!(ok, "{stdout}{stderr}");
    let seq = signed_event(&stdout);
    let dump = dir.join("celltrail.pgdump");
    let mut pg_dump = Command::new("pg_dump");
    pg_dump
        .args(["--format=custom", "--file"])
        .arg(&dump)
        .arg(format!("--dbname={}", app.database_url));
    let dumping = tokio::task::spawn_blocking(move || run(pg_dump));
    app.donors(team, "UCD-B1", 12).await;
    let (ok, stdout, stderr) = dumping.await.unwrap();
    assert!(ok, "{stdout}{stderr}");
    // restored into a fresh database
    let (restored_url, _restored) = TestDb::create(Backend::Postgres).await;
    let mut pg_restore = Command::new("pg_restore");
    pg_restore
        .args(["--no-owner", "--exit-on-error"])
        .arg(format!("--dbname={restored_url}"))
        .arg(&dump);
    let (ok, stdout, stderr) = run(pg_restore);
    assert!(ok, "{stdout}{stderr}");
    let report = verify_with_receipt(&restored_url, &receipt, public_key);
    assert_eq!(report["checkpoints_checked"], 1);
    assert!(report["events"].as_i64().unwrap() >= seq);
    the_servers_later_checkpoints_say_the_copy_lacks_its_tail(app, team, &restored_url, seq).await;
}

async fn a_backup_refuses_rather_than_overwrite_or_guess(app: TestApp) {
    let team = app.team().await;
    app.donors(&team, "UCD-B2", 2).await;
    let dir = tempfile::tempdir().unwrap();
    let log = app.files.path().join("checkpoints/checkpoints.jsonl");
    let log_before = std::fs::read_to_string(&log).unwrap_or_default();
    let older = dir.path().join("older.db");
    std::fs::write(&older, "yesterday's backup").unwrap();
    let receipt_only = dir.path().join("receipt-only.db");
    std::fs::write(dir.path().join("receipt-only.db.checkpoint"), "a receipt").unwrap();
    let fresh = dir.path().join("fresh.db");
    let refusals: Vec<(Command, &str)> = vec![
        // an existing file is never overwritten, nor its receipt
        (
            {
                let mut c = app.cli();
                c.arg("backup").arg("-o").arg(&older);
                c
            },
            match app.backend {
                Backend::Sqlite => "already exists",
                Backend::Postgres => "pg_dump",
            },
        ),
        (
            {
                let mut c = app.cli();
                c.arg("backup").arg("-o").arg(&receipt_only);
                c
            },
            match app.backend {
                Backend::Sqlite => "already exists",
                Backend::Postgres => "pg_dump",
            },
        ),
        (
            {
                let mut c = app.cli();
                c.arg("checkpoint")
                    .arg("-o")
                    .arg(dir.path().join("receipt-only.db.checkpoint"));
                c
            },
            "already exists",
        ),
        // a folder that is not there
        (
            {
                let mut c = app.cli();
                c.arg("checkpoint")
                    .arg("-o")
                    .arg(dir.path().join("missing/receipt"));
                c
            },
            "does not exist",
        ),
        // started with another key file than the server's: no key is made up
        (
            {
                let mut c = app.cli();
                c.env("CELLTRAIL_LEDGER_KEY_FILE", dir.path().join("wrong.key"))
                    .arg("checkpoint");
                c
            },
            "does not exist",
        ),
    ];
    for (command, why) in refusals {
        let shown = format!("{command:?}");
        let (ok, stdout, stderr) = run(command);
        assert!(!ok, "{shown} succeeded: {stdout}");
        assert!(stderr.contains(why), "{shown}: {stderr}");
    }
    if app.backend == Backend::Sqlite {
        let mut c = app.cli();
        c.env("CELLTRAIL_LEDGER_KEY_FILE", dir.path().join("wrong.key"))
            .arg("backup")
            .arg("-o")
            .arg(&fresh);
        let (ok, _, stderr) = run(c);
        assert!(!ok);
        assert!(stderr.contains("does not exist"), "{stderr}");
    }
    // nothing was signed, written or overwritten
    assert_eq!(
        std::fs::read_to_string(&older).unwrap(),
        "yesterday's backup"
    );
    assert!(!dir.path().join("older.db.checkpoint").exists());
    assert!(!receipt_only.exists());
    assert!(!fresh.exists());
    assert!(!dir.path().join("wrong.key").exists());
    assert_eq!(
        std::fs::read_to_string(&log).unwrap_or_default(),
        log_before
    );
    assert_eq!(app.verify_ledger(&team).await["ok"], true);
}

/// Before an upgrade the new binary may take the backup: it must not
/// migrate the database under the older server that is still serving.
async fn a_newer_binary_backs_up_without_migrating_the_live_database(app: TestApp) {
    let team = app.team().await;
    app.donors(&team, "UCD-B4", 2).await;
    // the server's schema lacks this binary's newest migration
    let db = app.state.db.conn();
    let newest: String = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT MAX(version) AS v FROM seaql_migrations",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get("", "v")
        .unwrap();
    let unapplied = format!("DELETE FROM seaql_migrations WHERE version = '{newest}'");
    db.execute_raw(Statement::from_string(db.get_database_backend(), unapplied))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut commands = vec![{
        let mut c = app.cli();
        c.arg("checkpoint");
        c
    }];
    if app.backend == Backend::Sqlite {
        let mut c = app.cli();
        c.arg("backup")
            .arg("-o")
            .arg(dir.path().join("before-upgrade.db"));
        commands.push(c);
    }
    for command in commands {
        let shown = format!("{command:?}");
        let (ok, stdout, stderr) = run(command);
        assert!(ok, "{shown}: {stdout}{stderr}");
    }
    let still_unapplied = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            format!("SELECT COUNT(*) AS n FROM seaql_migrations WHERE version = '{newest}'"),
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap();
    assert_eq!(still_unapplied, 0, "the live database was migrated");
}
