//! The common story: spawn the app on a fresh database, sign in, create
//! staff, call the API.

use std::time::Duration;

use celltrail::Application;
use celltrail::clock::Clock;
use celltrail::config::Settings;
use celltrail::state::AppState;
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use uuid::Uuid;

pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";
pub const STAFF_PASSWORD: &str = "staff-password-for-tests";

/// Runs each named `async fn(TestApp)` as two tests, `name::sqlite` and
/// `name::postgres`. A name may be preceded by `#[needs(tool)]` (one of
/// `rsvg_convert`, `poppler`, `openapi_spec_validator`, `pg_dump`): both
/// halves then need that program too.
///
/// What cannot run here is reported by libtest as ignored, with how to run
/// it, never as passed: `build.rs` sets `celltrail_pg` when the tests are
/// built with `CELLTRAIL_TEST_PG_URL`, and a cfg per tool found on `PATH`
/// (all of them under `CI`, where whatever is missing fails instead).
#[macro_export]
macro_rules! on_both_databases {
    ($($(#[needs($tool:ident)])? $name:ident),+ $(,)?) => {$(
        $crate::needs_tool!($($tool)? => on_both_databases $name);
    )+};
    (@tests $name:ident, $tool:meta, $why:literal) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[cfg_attr(not($tool), ignore = $why)]
            async fn sqlite() {
                $crate::helpers::sqlite_only();
                let app = $crate::helpers::TestApp::spawn($crate::helpers::Backend::Sqlite).await;
                super::$name(app).await;
            }

            $crate::postgres_test! {
                #[cfg_attr(all(celltrail_pg, not($tool)), ignore = $why)]
                async fn postgres() {
                    let app =
                        $crate::helpers::TestApp::spawn($crate::helpers::Backend::Postgres).await;
                    super::$name(app).await;
                }
            }
        }
    };
}

/// Runs each named `async fn(TestApp)` as one test, `name::postgres`, for
/// what only PostgreSQL has (a second server process on the same database,
/// `pg_dump`); `#[needs(tool)]` as for [`on_both_databases!`].
#[macro_export]
macro_rules! on_postgresql {
    ($($(#[needs($tool:ident)])? $name:ident),+ $(,)?) => {$(
        $crate::needs_tool!($($tool)? => on_postgresql $name);
    )+};
    (@tests $name:ident, $tool:meta, $why:literal) => {
        mod $name {
            $crate::postgres_test! {
                #[cfg_attr(all(celltrail_pg, not($tool)), ignore = $why)]
                async fn postgres() {
                    let app =
                        $crate::helpers::TestApp::spawn($crate::helpers::Backend::Postgres).await;
                    super::$name(app).await;
                }
            }
        }
    };
}

/// The cfg `build.rs` sets when a tool is on `PATH`, and what libtest says
/// when it was not (an ignore reason must be a literal, so it is written
/// out here, once per tool).
#[doc(hidden)]
#[macro_export]
macro_rules! needs_tool {
    (=> $on:ident $name:ident) => {
        // `all()` always holds: no tool, nothing to ignore for
        $crate::$on!(@tests $name, all(), "");
    };
    (rsvg_convert => $on:ident $name:ident) => {
        $crate::$on!(@tests $name, celltrail_rsvg_convert,
            "needs rsvg-convert (apt install librsvg2-bin), not on PATH when the tests were built; after installing it: touch build.rs");
    };
    (poppler => $on:ident $name:ident) => {
        $crate::$on!(@tests $name, celltrail_poppler,
            "needs pdftoppm and pdftotext (apt install poppler-utils), not on PATH when the tests were built; after installing them: touch build.rs");
    };
    (openapi_spec_validator => $on:ident $name:ident) => {
        $crate::$on!(@tests $name, celltrail_openapi_spec_validator,
            "needs openapi-spec-validator (pip install openapi-spec-validator), not on PATH when the tests were built; after installing it: touch build.rs");
    };
    (pg_dump => $on:ident $name:ident) => {
        $crate::$on!(@tests $name, celltrail_pg_dump,
            "needs pg_dump and pg_restore (apt install postgresql-client), not on PATH when the tests were built; after installing them: touch build.rs");
    };
}

/// A PostgreSQL test: ignored, saying how to run it, unless the tests were
/// built with `CELLTRAIL_TEST_PG_URL` (or under `CI`).
#[doc(hidden)]
#[macro_export]
macro_rules! postgres_test {
    ($(#[$attr:meta])* async fn $test:ident() $body:block) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        #[cfg_attr(
            not(celltrail_pg),
            ignore = "PostgreSQL: set CELLTRAIL_TEST_PG_URL=postgres://postgres@127.0.0.1:5432/postgres to run"
        )]
        $(#[$attr])*
        async fn $test() $body
    };
}

/// Called by each SQLite half as it starts. Where the PostgreSQL halves
/// were built ignored, libtest lists each with its reason, and one line
/// after its summary says how many tests ran on SQLite only and how to run
/// the rest, where a person finishing `cargo test` reads.
pub fn sqlite_only() {
    #[cfg(not(celltrail_pg))]
    postgres_notice::count();
}

#[cfg(not(celltrail_pg))]
mod postgres_notice {
    use std::io::Write;
    use std::sync::Once;
    use std::sync::atomic::{AtomicUsize, Ordering};

    static SQLITE_ONLY: AtomicUsize = AtomicUsize::new(0);
    static AT_EXIT: Once = Once::new();

    unsafe extern "C" {
        /// The C library's: runs `callback` as the process exits, after
        /// libtest has printed its summary (std has no such hook).
        fn atexit(callback: extern "C" fn()) -> std::ffi::c_int;
    }

    pub fn count() {
        SQLITE_ONLY.fetch_add(1, Ordering::SeqCst);
        AT_EXIT.call_once(|| {
            // SAFETY: `notice` is a plain function that lives as long as
            // the process and neither unwinds nor calls `exit`.
            unsafe { atexit(notice) };
        });
    }

    extern "C" fn notice() {
        let sqlite_only = SQLITE_ONLY.load(Ordering::SeqCst);
        // Written straight to stderr: libtest captures only `eprintln!`.
        // Nothing to do if stderr is gone.
        let _ = writeln!(
            std::io::stderr(),
            "note: {sqlite_only} tests ran on SQLite only: their PostgreSQL half was ignored; \
             run it with CELLTRAIL_TEST_PG_URL=postgres://postgres@127.0.0.1:5432/postgres cargo test"
        );
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A database made for one test and removed after it.
pub enum TestDb {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { server_url: String, name: String },
}

impl TestDb {
    /// A fresh, empty database of the backend and its URL.
    pub async fn create(backend: Backend) -> (String, TestDb) {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("a temporary directory");
                let url = format!(
                    "sqlite://{}?mode=rwc",
                    dir.path().join("celltrail.db").display()
                );
                (url, TestDb::Sqlite(dir))
            }
            Backend::Postgres => {
                // `build.rs` built this test to run only with the URL (or
                // under CI, which must run it): without it, fail, not pass.
                let server_url = std::env::var("CELLTRAIL_TEST_PG_URL").expect(
                    "a PostgreSQL test needs CELLTRAIL_TEST_PG_URL \
                     (postgres://postgres@127.0.0.1:5432/postgres); CI must run the PostgreSQL half",
                );
                let name = format!("celltrail_test_{}", Uuid::new_v4().simple());
                let server = Database::connect(server_url.as_str())
                    .await
                    .expect("PostgreSQL from CELLTRAIL_TEST_PG_URL answers");
                server
                    .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .expect("a test database can be created");
                server.close().await.ok();
                (
                    with_database(&server_url, &name),
                    TestDb::Postgres { server_url, name },
                )
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let TestDb::Postgres { server_url, name } = self {
            let (server_url, name) = (server_url.clone(), name.clone());
            let shown = name.clone();
            // Drop runs outside any runtime we may block; use a thread of its own.
            let dropped = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a runtime for dropping the test database");
                runtime.block_on(async {
                    let server = Database::connect(server_url.as_str()).await?;
                    server
                        .execute_unprepared(&format!(
                            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                        ))
                        .await?;
                    server.close().await
                })
            })
            .join();
            if !matches!(dropped, Ok(Ok(()))) {
                eprintln!("could not drop test database {shown}: {dropped:?}");
            }
        }
    }
}

pub struct TestApp {
    /// The ledger key and checkpoint log of this app (outside its database).
    pub files: tempfile::TempDir,
    pub base: String,
    pub database_url: String,
    pub client: reqwest::Client,
    pub clock: Clock,
    pub state: AppState,
    pub backend: Backend,
    /// Set by a test that edits the database behind the service's back:
    /// the ledger is then not expected to agree with the tables.
    pub tampered: std::sync::atomic::AtomicBool,
    server: tokio::task::JoinHandle<()>,
    // Last: the database goes after the server.
    _db: TestDb,
}

impl Drop for TestApp {
    /// Whatever a test did through the service, its ledger must still
    /// verify, and replaying its events must give exactly the tables.
    fn drop(&mut self) {
        let tampered = self.tampered.load(std::sync::atomic::Ordering::SeqCst);
        if !tampered && !std::thread::panicking() {
            let url = self.database_url.clone();
            // Drop runs outside any runtime we may block; use a thread of its own.
            let verified = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a runtime for the last verification");
                runtime.block_on(async {
                    let db = celltrail::db::Db::connect(&url, 2).await?;
                    let report = celltrail::services::ledger::verify(&db).await?;
                    db.conn().clone().close().await?;
                    anyhow::Ok(report)
                })
            })
            .join()
            .expect("the last verification ran");
            self.server.abort();
            let report = verified.expect("the ledger can be read");
            assert!(
                report.ok && report.replay.is_some(),
                "at the end of the test the ledger does not verify, or does not replay to the tables:\n{}",
                report.problems().join("\n")
            );
        }
        self.server.abort();
    }
}

/// A response: status and JSON body (`Value::Null` when there is none).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Answer {
    /// Asserts the status and returns the body.
    #[track_caller]
    pub fn expect(self, status: u16) -> Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected answer: {:#}",
            self.body
        );
        self.body
    }

    /// Asserts an error answer: status, the JSON error shape, and the code.
    #[track_caller]
    pub fn expect_error(self, status: u16, code: &str) -> Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected answer: {:#}",
            self.body
        );
        let error = &self.body["error"];
        assert_eq!(error["code"], code, "unexpected error: {:#}", self.body);
        assert!(
            error["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{:#}",
            self.body
        );
        assert!(error["details"].is_object(), "{:#}", self.body);
        error["details"].clone()
    }
}

impl TestApp {
    /// The app on a fresh database of the backend.
    pub async fn spawn(backend: Backend) -> TestApp {
        Self::spawn_with(backend, |_| {}).await
    }

    /// The app on a fresh database of the backend, its settings changed by
    /// `configure` first (label printers, say).
    pub async fn spawn_with(backend: Backend, configure: impl FnOnce(&mut Settings)) -> TestApp {
        let (database_url, db) = TestDb::create(backend).await;
        let files = tempfile::tempdir().expect("a temporary directory");
        let mut settings = Settings::for_database(database_url.clone());
        settings.admin_password = Some(ADMIN_PASSWORD.into());
        settings.ledger_key_file = files.path().join("celltrail-ledger.key");
        settings.checkpoint_dir = files.path().join("checkpoints");
        settings.db_max_connections = 8;
        // the trial's site: Beijing, UTC+8
        settings.timezone =
            celltrail::domain::zone::SiteZone::parse("Asia/Shanghai").expect("a time zone");
        configure(&mut settings);
        let clock = Clock::system();
        let app = Application::build(settings, clock.clone())
            .await
            .expect("the application starts");
        let base = format!("http://{}", app.local_addr());
        let state = app.state().clone();
        let server = tokio::spawn(async move {
            app.run_until(std::future::pending()).await.ok();
        });
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("an HTTP client");
        TestApp {
            files,
            base,
            database_url,
            client,
            clock,
            state,
            backend,
            tampered: std::sync::atomic::AtomicBool::new(false),
            server,
            _db: db,
        }
    }

    /// Marks the database as edited behind the service's back.
    pub fn tamper(&self) {
        self.tampered
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        let response = request.send().await.expect("the server answers");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("a body");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                panic!("{status}: not JSON: {}", String::from_utf8_lossy(&bytes))
            })
        };
        Answer {
            status,
            headers,
            body,
        }
    }

    // The request is built before the future is returned, so the future
    // borrows only the app, not the path or the token.
    pub fn get<'a>(
        &'a self,
        path: &str,
        token: Option<&str>,
    ) -> impl Future<Output = Answer> + use<'a> {
        self.send(with_token(self.client.get(self.url(path)), token))
    }

    pub fn post<'a>(
        &'a self,
        path: &str,
        token: Option<&str>,
        body: Value,
    ) -> impl Future<Output = Answer> + use<'a> {
        self.send(with_token(self.client.post(self.url(path)), token).json(&body))
    }

    pub fn put<'a>(
        &'a self,
        path: &str,
        token: Option<&str>,
        body: Value,
    ) -> impl Future<Output = Answer> + use<'a> {
        self.send(with_token(self.client.put(self.url(path)), token).json(&body))
    }

    pub async fn login(&self, username: &str, password: &str) -> Answer {
        self.post(
            "/api/v1/auth/login",
            None,
            json!({ "username": username, "password": password }),
        )
        .await
    }

    /// A token of the bootstrap administrator.
    pub async fn admin_token(&self) -> String {
        token_of(self.login("admin", ADMIN_PASSWORD).await)
    }

    /// Creates an account with the role (password `STAFF_PASSWORD`) and
    /// returns its id and a token.
    pub async fn staff(&self, username: &str, role: &str) -> (Uuid, String) {
        let admin = self.admin_token().await;
        let created = self
            .post(
                "/api/v1/users",
                Some(&admin),
                json!({
                    "username": username,
                    "full_name": format!("{username} (test)"),
                    "role": role,
                    "password": STAFF_PASSWORD,
                }),
            )
            .await
            .expect(201);
        let id = created["id"].as_str().unwrap().parse().unwrap();
        (id, token_of(self.login(username, STAFF_PASSWORD).await))
    }

    /// A GET answered with bytes (a label, a PDF): status, content type, body.
    pub async fn get_bytes(&self, path: &str, token: Option<&str>) -> (u16, String, Vec<u8>) {
        let response = with_token(self.client.get(self.url(path)), token)
            .send()
            .await
            .expect("the server answers");
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let bytes = response.bytes().await.expect("a body").to_vec();
        (status, content_type, bytes)
    }

    /// The signature object for `password`.
    pub fn signature(password: &str, meaning: &str) -> Value {
        json!({ "password": password, "meaning": meaning })
    }
}

#[track_caller]
pub fn token_of(answer: Answer) -> String {
    let body = answer.expect(200);
    body["token"].as_str().expect("a token").to_owned()
}

fn with_token(request: reqwest::RequestBuilder, token: Option<&str>) -> reqwest::RequestBuilder {
    match token {
        Some(token) => request.bearer_auth(token),
        None => request,
    }
}

/// The server URL with its database replaced by `name`.
fn with_database(server_url: &str, name: &str) -> String {
    let after_scheme = server_url.find("://").map_or(0, |i| i + 3);
    let (base, query) = match server_url.find('?') {
        Some(q) => (&server_url[..q], &server_url[q..]),
        None => (server_url, ""),
    };
    let host_end = base[after_scheme..]
        .find('/')
        .map_or(base.len(), |i| after_scheme + i);
    format!("{}/{}{}", &base[..host_end], name, query)
}

#[test]
fn database_names_replace_the_path() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5432/postgres", "t1"),
        "postgres://postgres@127.0.0.1:5432/t1"
    );
    assert_eq!(with_database("postgres://u@h", "t1"), "postgres://u@h/t1");
    assert_eq!(
        with_database("postgres://u@h/db?sslmode=disable", "t1"),
        "postgres://u@h/t1?sslmode=disable"
    );
}
