//! The real binary serving, as a site runs it: `celltrail serve` on a
//! database with a ledger key and a checkpoint log outside it, on a port of
//! its own choosing; killed without warning (SIGKILL) or stopped (SIGTERM).

use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{ADMIN_PASSWORD, Backend, STAFF_PASSWORD, TestDb};

/// How long a start (migrations included) may take.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A database with its ledger key and checkpoint folder, as one site keeps
/// them; no server runs until `serve`.
pub struct Installation {
    pub database_url: String,
    pub files: tempfile::TempDir,
    // Last: the database goes after everything that uses it.
    _db: TestDb,
}

impl Installation {
    /// A fresh installation.
    pub async fn create(backend: Backend) -> Installation {
        let (database_url, db) = TestDb::create(backend).await;
        Installation {
            database_url,
            files: tempfile::tempdir().expect("a temporary directory"),
            _db: db,
        }
    }

    pub fn key_file(&self) -> PathBuf {
        self.files.path().join("celltrail-ledger.key")
    }

    pub fn checkpoint_dir(&self) -> PathBuf {
        self.files.path().join("checkpoints")
    }

    /// The command line on this installation's database, key and log.
    pub fn cli(&self) -> Command {
        cli(&self.database_url, &self.key_file(), &self.checkpoint_dir())
    }

    /// Starts the server (again) on this installation.
    pub fn serve(&self) -> ServerProcess {
        ServerProcess::start(
            &self.database_url,
            &self.key_file(),
            &self.checkpoint_dir(),
            &self.files.path().join("serve.log"),
        )
    }
}

/// The binary on a database, key and checkpoint folder, quiet.
pub fn cli(database_url: &str, key_file: &Path, checkpoint_dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_celltrail"));
    command
        .env("DATABASE_URL", database_url)
        .env("CELLTRAIL_LEDGER_KEY_FILE", key_file)
        .env("CELLTRAIL_CHECKPOINT_DIR", checkpoint_dir)
        .env_remove("CELLTRAIL_ADMIN_PASSWORD")
        .env("RUST_LOG", "off");
    command
}

/// A running `celltrail serve`.
pub struct ServerProcess {
    child: Child,
    pub base: String,
    log: PathBuf,
}

impl ServerProcess {
    /// Starts the binary and waits until it serves; its JSON log is
    /// appended to `log` (read back for its address and on failure).
    pub fn start(
        database_url: &str,
        key_file: &Path,
        checkpoint_dir: &Path,
        log: &Path,
    ) -> ServerProcess {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .expect("the server's log file");
        let from = file.seek(SeekFrom::End(0)).expect("the log's length");
        let mut command = cli(database_url, key_file, checkpoint_dir);
        let child = command
            .env("CELLTRAIL_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("CELLTRAIL_TIMEZONE", "Asia/Shanghai")
            .env("CELLTRAIL_DB_MAX_CONNECTIONS", "8")
            // the start and the checkpoints, not every request
            .env("RUST_LOG", "warn,celltrail=info")
            .args(["--log-format", "json", "serve", "--bind", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .expect("the binary starts");
        let mut server = ServerProcess {
            child,
            base: String::new(),
            log: log.to_owned(),
        };
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(address) = server.serving_address(from) {
                server.base = format!("http://{address}");
                return server;
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!(
                    "the server stopped ({status}) before serving:\n{}",
                    server.log_text()
                );
            }
            assert!(
                Instant::now() < deadline,
                "the server did not serve within {START_TIMEOUT:?}:\n{}",
                server.log_text()
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// The address of the "celltrail serving" line written after `from`.
    fn serving_address(&self, from: u64) -> Option<String> {
        let mut file = std::fs::File::open(&self.log).ok()?;
        file.seek(SeekFrom::Start(from)).ok()?;
        BufReader::new(file)
            .lines()
            .map_while(Result::ok)
            .filter_map(|line| serde_json::from_str::<Value>(&line).ok())
            .find(|line| line["fields"]["message"] == "celltrail serving")
            .and_then(|line| line["fields"]["address"].as_str().map(str::to_owned))
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The lines logged at ERROR (this start and the ones before it on the
    /// same log).
    pub fn errors(&self) -> Vec<String> {
        self.log_text()
            .lines()
            .filter(|line| serde_json::from_str::<Value>(line).is_ok_and(|l| l["level"] == "ERROR"))
            .map(str::to_owned)
            .collect()
    }

    /// `kill -9`: no shutdown, no last checkpoint, requests cut mid-way.
    pub fn kill(&mut self) {
        self.child.kill().expect("the server can be killed");
        self.child.wait().expect("the killed server is reaped");
    }

    /// SIGTERM: finishes the requests in flight, signs the head, exits 0.
    pub fn stop(&mut self) {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(sent.success());
        let status = self.child.wait().expect("the server stops");
        assert!(status.success(), "{status}:\n{}", self.log_text());
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A client of a server process, by its base URL.
pub struct Client {
    pub http: reqwest::Client,
}

/// An answer: status, and the JSON body (`Null` when there is none); `None`
/// when the server never answered (it was killed).
pub type Reply = Option<(u16, Value)>;

impl Client {
    pub fn new() -> Client {
        Client {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("an HTTP client"),
        }
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        let response = request.send().await.ok()?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.ok()?;
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                panic!("{status}: not JSON: {}", String::from_utf8_lossy(&bytes))
            })
        };
        Some((status, body))
    }

    pub async fn post(&self, base: &str, path: &str, token: &str, body: Value) -> Reply {
        self.send(
            self.http
                .post(format!("{base}{path}"))
                .bearer_auth(token)
                .json(&body),
        )
        .await
    }

    pub async fn get(&self, base: &str, path: &str, token: &str) -> Reply {
        self.send(self.http.get(format!("{base}{path}")).bearer_auth(token))
            .await
    }

    pub async fn login(&self, base: &str, username: &str, password: &str) -> String {
        let (status, body) = self
            .send(
                self.http
                    .post(format!("{base}/api/v1/auth/login"))
                    .json(&json!({ "username": username, "password": password })),
            )
            .await
            .expect("the server answers");
        assert_eq!(status, 200, "{body}");
        body["token"].as_str().expect("a token").to_owned()
    }

    /// Creates an account (as admin) and signs it in.
    pub async fn staff(&self, base: &str, username: &str, role: &str) -> String {
        let admin = self.login(base, "admin", ADMIN_PASSWORD).await;
        let body = json!({
            "username": username,
            "full_name": format!("{username} (test)"),
            "role": role,
            "password": STAFF_PASSWORD,
        });
        let (status, created) = self
            .post(base, "/api/v1/users", &admin, body)
            .await
            .expect("the server answers");
        assert_eq!(status, 201, "{created}");
        self.login(base, username, STAFF_PASSWORD).await
    }
}

/// Runs a command that prints one JSON report (`verify-audit …`):
/// whether it succeeded, the report, and what it said on standard error.
pub fn report_of(mut command: Command) -> (bool, Value, String) {
    let output = command.output().expect("the binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let report = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|_| panic!("no JSON report: {stderr}"));
    (output.status.success(), report, stderr)
}

/// `verify-audit` with `args`, which must pass; returns its report.
#[track_caller]
pub fn verify_audit_passes(mut command: Command, args: &[&std::ffi::OsStr]) -> Value {
    command.arg("verify-audit").args(args);
    let (ok, report, stderr) = report_of(command);
    assert!(
        ok && report["ok"] == true,
        "verify-audit failed: {report}\n{stderr}"
    );
    report
}
