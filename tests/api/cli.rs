//! The real binary: `admin` subcommands, `migrate`, and `serve` with its
//! first-start password, JSON logs and graceful shutdown.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::{TestApp, token_of};
use crate::on_both_databases;

on_both_databases!(
    admin_commands_create_and_reset_accounts,
    migrate_is_idempotent,
    a_database_that_is_not_there_is_named_with_its_fix,
    the_label_command_prints_a_donations_din_label,
);

fn celltrail(database_url: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_celltrail"));
    command
        .env("DATABASE_URL", database_url)
        .env_remove("CELLTRAIL_ADMIN_PASSWORD")
        .env("RUST_LOG", "warn");
    command
}

fn run_with_stdin(mut command: Command, stdin: &str) -> (bool, String, String) {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

async fn admin_commands_create_and_reset_accounts(app: TestApp) {
    let mut create = celltrail(&app.database_url);
    create.args([
        "admin",
        "create-user",
        "--username",
        "qa.lead",
        "--full-name",
        "Quality Lead",
        "--role",
        "quality",
        "--password-stdin",
    ]);
    let (ok, stdout, stderr) = run_with_stdin(create, "chosen-password-1\n");
    assert!(ok, "{stdout}{stderr}");
    let token = token_of(app.login("qa.lead", "chosen-password-1").await);
    let me = app.get("/api/v1/users/me", Some(&token)).await.expect(200);
    assert_eq!(me["role"], "quality");

    // a weak password is refused with a clear message
    let mut weak = celltrail(&app.database_url);
    weak.args([
        "admin",
        "create-user",
        "--username",
        "qa.two",
        "--full-name",
        "QA",
        "--role",
        "quality",
        "--password-stdin",
    ]);
    let (ok, _, stderr) = run_with_stdin(weak, "short\n");
    assert!(!ok);
    assert!(stderr.contains("at least 10 characters"), "{stderr}");

    // lock the account (wrong passwords in its session), then reset it
    // from the command line
    for _ in 0..5 {
        app.post(
            "/api/v1/users/me/password",
            Some(&token),
            serde_json::json!({"current_password": "wrong-password", "new_password": "another-password-1"}),
        )
        .await
        .expect_error(401, "invalid_credentials");
    }
    app.login("qa.lead", "chosen-password-1")
        .await
        .expect_error(401, "account_locked");
    let mut reset = celltrail(&app.database_url);
    reset.args(["admin", "reset-password", "--username", "qa.lead"]);
    let (ok, stdout, stderr) = run_with_stdin(reset, "");
    assert!(ok, "{stdout}{stderr}");
    let generated = stdout
        .lines()
        .find_map(|line| line.strip_prefix("password: "))
        .expect("the generated password is printed")
        .to_owned();
    assert_eq!(generated.len(), 20);
    app.get("/api/v1/users/me", Some(&token))
        .await
        .expect_error(401, "unauthenticated");
    token_of(app.login("qa.lead", &generated).await);
    app.login("qa.lead", "chosen-password-1")
        .await
        .expect_error(401, "invalid_credentials");
}

async fn migrate_is_idempotent(app: TestApp) {
    for _ in 0..2 {
        let (ok, stdout, stderr) = run_with_stdin(
            {
                let mut c = celltrail(&app.database_url);
                c.arg("migrate");
                c
            },
            "",
        );
        assert!(ok, "{stdout}{stderr}");
        assert!(stdout.starts_with("migrated"), "{stdout}");
    }
    app.get("/readyz", None).await.expect(200);
}

#[test]
fn serve_prints_the_first_password_logs_json_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_celltrail"))
        .current_dir(dir.path())
        .env_remove("DATABASE_URL")
        .env_remove("CELLTRAIL_ADMIN_PASSWORD")
        .env("RUST_LOG", "info")
        .args([
            "--log-format",
            "json",
            "serve",
            "--bind",
            &format!("127.0.0.1:{port}"),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    let stdout = BufReader::new(child.stdout.take().unwrap());
    let password = stdout
        .lines()
        .map_while(Result::ok)
        .find_map(|line| line.trim().strip_prefix("password: ").map(str::to_owned))
        .expect("the first start prints the admin password");
    assert!(
        dir.path().join("celltrail.db").exists(),
        "the default SQLite file is created"
    );

    let base = format!("http://127.0.0.1:{port}");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        while client.get(format!("{base}/readyz")).send().await.is_err() {
            assert!(Instant::now() < deadline, "the server never answered");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let login = client
            .post(format!("{base}/api/v1/auth/login"))
            .json(&serde_json::json!({"username": "admin", "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(login.status(), 200);
    });

    let stopped = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(stopped.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "SIGTERM is a clean stop: {status:?}");

    let mut logs = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut logs).unwrap();
    let lines: Vec<serde_json::Value> = logs
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l["fields"]["message"] == "celltrail serving")
    );
    let request = lines
        .iter()
        .find(|l| l["span"]["path"] == "/api/v1/auth/login")
        .expect("the request is logged with its span");
    assert_eq!(request["fields"]["status"], 200);
    assert!(request["span"]["request_id"].as_str().unwrap().len() == 36);
    assert!(request["fields"]["latency"].is_string());
    assert!(
        lines
            .iter()
            .any(|l| l["fields"]["message"] == "celltrail stopped")
    );
    // the password never reaches the logs
    assert!(!logs.contains(&password));
}

#[test]
fn settings_out_of_range_are_refused_at_start_with_their_range() {
    let dir = tempfile::tempdir().unwrap();
    for (name, value, range) in [
        ("CELLTRAIL_TOKEN_TTL_HOURS", "0", "1..=72"),
        ("CELLTRAIL_TOKEN_TTL_HOURS", "73", "1..=72"),
        ("CELLTRAIL_DB_MAX_CONNECTIONS", "0", "1..=1000"),
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_celltrail"))
            .current_dir(dir.path())
            .args(["serve", "--bind", "127.0.0.1:0"])
            .env_remove("DATABASE_URL")
            .env(name, value)
            .env("RUST_LOG", "off")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{name}={value} was accepted");
        assert!(stderr.contains(range), "{name}={value}: {stderr}");
        // refused before anything was opened or created
        assert!(
            std::fs::read_dir(dir.path()).unwrap().next().is_none(),
            "{name}={value} created files"
        );
    }
}

/// Runs the binary and answers (succeeded, stderr).
fn refused(mut command: Command) -> (bool, String) {
    let output = command.output().unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The one line a refusal prints: said once, not repeated by the log.
fn one_error_line(stderr: &str) -> &str {
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(lines[0].starts_with("error: "), "{stderr}");
    lines[0]
}

#[test]
fn commands_that_only_open_a_database_never_create_one() {
    let dir = tempfile::tempdir().unwrap();
    let expected = dir.path().canonicalize().unwrap().join("celltrail.db");
    let receipt = dir.path().join("receipt").display().to_string();
    let copy = dir.path().join("copy.db").display().to_string();
    let commands: [&[&str]; 6] = [
        &[
            "label",
            "--vial",
            "A999926000001-L01-V001",
            "--format",
            "png",
            "-o",
            "-",
        ],
        &["verify-audit"],
        &["admin", "reset-password", "--username", "admin"],
        &[
            "admin",
            "create-user",
            "--username",
            "x",
            "--full-name",
            "X",
            "--role",
            "lab",
        ],
        &["backup", "-o", &copy],
        &["checkpoint", "-o", &receipt],
    ];
    for args in commands {
        let mut command = Command::new(env!("CARGO_BIN_EXE_celltrail"));
        command
            .current_dir(dir.path())
            .env_remove("DATABASE_URL")
            .env("RUST_LOG", "info")
            .args(args);
        let (ok, stderr) = refused(command);
        assert!(!ok, "{args:?} succeeded");
        let line = one_error_line(&stderr);
        assert!(
            line.contains(&format!("no database at {}", expected.display()))
                && line.contains("set DATABASE_URL")
                && line.contains("`celltrail migrate`"),
            "{args:?}: {line}"
        );
        assert!(
            std::fs::read_dir(dir.path()).unwrap().next().is_none(),
            "{args:?} left files behind"
        );
    }
    // `migrate` is what creates it; then the same command finds it
    let mut migrate = Command::new(env!("CARGO_BIN_EXE_celltrail"));
    migrate
        .current_dir(dir.path())
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn")
        .arg("migrate");
    let (ok, stderr) = refused(migrate);
    assert!(ok, "{stderr}");
    assert!(expected.exists());
    let mut label = Command::new(env!("CARGO_BIN_EXE_celltrail"));
    label
        .current_dir(dir.path())
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn")
        .args(commands[0]);
    let (ok, stderr) = refused(label);
    assert!(!ok);
    assert!(
        one_error_line(&stderr).contains("no vial has the code A999926000001-L01-V001"),
        "{stderr}"
    );
}

async fn a_database_that_is_not_there_is_named_with_its_fix(app: TestApp) {
    match app.backend {
        crate::helpers::Backend::Sqlite => {
            let dir = tempfile::tempdir().unwrap();
            let file = dir.path().canonicalize().unwrap().join("absent.db");
            let url = format!("sqlite://{}", file.display());
            // a URL that does not create the file: serving names it and
            // both ways to create it
            let mut serve = celltrail(&url);
            serve.args(["serve", "--bind", "127.0.0.1:0"]);
            let (ok, stderr) = refused(serve);
            assert!(!ok);
            let line = one_error_line(&stderr);
            assert!(
                line.contains(&format!(
                    "the SQLite database file {} does not exist",
                    file.display()
                )) && line.contains("?mode=rwc")
                    && line.contains("`celltrail migrate`"),
                "{line}"
            );
            assert!(!file.exists());
            // migrate creates it, whatever the URL's mode
            let mut migrate = celltrail(&url);
            migrate.arg("migrate");
            let (ok, stderr) = refused(migrate);
            assert!(ok, "{stderr}");
            assert!(file.exists());
        }
        crate::helpers::Backend::Postgres => {
            let absent = format!("celltrail_absent_{}", uuid::Uuid::new_v4().simple());
            let (base, _) = app.database_url.rsplit_once('/').unwrap();
            let url = format!("{base}/{absent}");
            let mut migrate = celltrail(&url);
            migrate.arg("migrate");
            let (ok, stderr) = refused(migrate);
            assert!(!ok);
            let line = one_error_line(&stderr);
            assert!(
                line.contains(&format!(
                    "the PostgreSQL database \"{absent}\" does not exist"
                )) && line.contains("createdb")
                    && line.contains(&format!(" {absent}`")),
                "{line}"
            );
            // nothing listens on the port: the server is named unreachable
            let port = {
                let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
                probe.local_addr().unwrap().port()
            };
            let mut migrate = celltrail(&format!("postgres://postgres@127.0.0.1:{port}/celltrail"));
            migrate.arg("migrate");
            let (ok, stderr) = refused(migrate);
            assert!(!ok);
            let line = one_error_line(&stderr);
            assert!(
                line.contains(&format!(
                    "the PostgreSQL server at 127.0.0.1:{port} is not reachable (connection refused)"
                )),
                "{line}"
            );
        }
    }
    // the app's own database is untouched and answers
    app.get("/readyz", None).await.expect(200);
}

/// `celltrail label --donation`: the DIN label by the DIN as printed (the
/// check character too, spaces and case forgiven), the label's payload or
/// the donation's id; anything else refused in one line saying what it is.
async fn the_label_command_prints_a_donations_din_label(app: TestApp) {
    let team = app.team().await;
    let (_, donation) = app.eligible_donor(&team, "UCD-4090").await;
    let din = donation["din"].as_str().unwrap();
    let shown = donation["din_display"].as_str().unwrap();
    let payload = format!("{din}{}", donation["check_character"].as_str().unwrap());
    let label = |args: &[&str]| {
        let mut command = celltrail(&app.database_url);
        command.arg("label").args(args);
        command.output().unwrap()
    };
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("din.png");
    let typed = shown.to_lowercase();
    let output = label(&[
        "--donation",
        &typed,
        "--format",
        "png",
        "-o",
        png.to_str().unwrap(),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        crate::readback::decode_png(&std::fs::read(&png).unwrap()),
        std::slice::from_ref(&payload)
    );
    // by the payload, as ZPL on standard output
    let output = label(&["--donation", &payload, "--format", "zpl", "-o", "-"]);
    assert!(output.status.success());
    let zpl = String::from_utf8(output.stdout).unwrap();
    assert!(zpl.starts_with("^XA") && zpl.contains(&payload), "{zpl}");
    // by the id, as SVG
    let svg = dir.path().join("din.svg");
    let id = donation["id"].as_str().unwrap();
    let output = label(&[
        "--donation",
        id,
        "--format",
        "svg",
        "-o",
        svg.to_str().unwrap(),
    ]);
    assert!(output.status.success());
    assert!(std::fs::read_to_string(&svg).unwrap().contains("<svg"));

    let unknown = celltrail::domain::din::Din::parse("A999926999999")
        .unwrap()
        .display();
    let stranger = uuid::Uuid::new_v4().to_string();
    let check = payload.chars().last().unwrap();
    let wrong = format!("{din}{}", if check == 'A' { 'B' } else { 'A' });
    for (given, format, said) in [
        (din, "png", "type the DIN's check character too"),
        (&wrong, "png", "does not match this DIN"),
        (
            "CT1:P:PV-409",
            "png",
            "which is the payload of a patient's label: give it as --patient",
        ),
        (&unknown, "png", "no donation has the DIN A999926999999"),
        (&stranger, "png", "no donation has the id"),
    ] {
        let output = label(&["--donation", given, "--format", format, "-o", "-"]);
        assert!(!output.status.success(), "{given}");
        assert!(output.stdout.is_empty(), "{given}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        let line = one_error_line(&stderr);
        assert!(line.contains(said), "{given}: {line}");
    }
}
