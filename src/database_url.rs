//! What a `DATABASE_URL` names, and why connecting to it failed, in words
//! that name the fix: a SQLite file that is not there (and what creates
//! it), a PostgreSQL database that does not exist (`createdb`), a server
//! that does not answer.
//!
//! Only `serve`, `migrate` and `demo` create a database. Every other
//! command opens an existing one: run in the wrong folder or without
//! `DATABASE_URL`, it must say where it looked instead of quietly creating
//! an empty `celltrail.db` and then reporting that nothing is in it.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use sea_orm::sqlx;
use sea_orm::sqlx::postgres::PgConnectOptions;
use sea_orm::sqlx::sqlite::SqliteConnectOptions;
use sea_orm::{DbErr, RuntimeErr};

/// A SQLite database kept in a file (not in memory).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqliteFile {
    /// The file, as the URL names it (relative to the working folder).
    pub path: PathBuf,
    /// `?mode=rwc`: the connection creates the file when it is missing.
    pub creates: bool,
}

impl SqliteFile {
    /// The file a `sqlite:` URL names; `None` for another engine or an
    /// in-memory database.
    pub fn of(url: &str) -> Option<SqliteFile> {
        if !url.starts_with("sqlite:") || url.contains(":memory:") {
            return None;
        }
        let mode = query_value(url, "mode");
        if mode == Some("memory") {
            return None;
        }
        let options = SqliteConnectOptions::from_str(url).ok()?;
        Some(SqliteFile {
            path: options.get_filename().to_owned(),
            creates: mode == Some("rwc"),
        })
    }

    pub fn exists(&self) -> bool {
        self.path.exists()
    }

    /// The path a person can find: absolute when it can be made so.
    pub fn shown(&self) -> String {
        std::path::absolute(&self.path)
            .unwrap_or_else(|_| self.path.clone())
            .display()
            .to_string()
    }
}

/// The value of a query parameter of the URL.
fn query_value<'a>(url: &'a str, name: &str) -> Option<&'a str> {
    let (_, query) = url.split_once('?')?;
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// For a command that only opens an existing database: refuses a SQLite
/// file that is not there, saying which file it looked for and how to make
/// one, and answers the URL to connect with, which never creates the file
/// (`mode=rwc` becomes `mode=rw`, so a file removed meanwhile is not
/// recreated empty either).
pub fn existing(url: &str) -> anyhow::Result<String> {
    let Some(file) = SqliteFile::of(url) else {
        return Ok(url.to_owned());
    };
    if !file.exists() {
        anyhow::bail!(
            "no database at {}: this command opens an existing database and never creates one; \
             set DATABASE_URL (or --database-url) to your database, or create this one with `celltrail migrate`",
            file.shown()
        );
    }
    Ok(if file.creates {
        url.replacen("mode=rwc", "mode=rw", 1)
    } else {
        url.to_owned()
    })
}

/// For `migrate`: the URL that creates a missing SQLite file, whether or
/// not it says `?mode=rwc` (creating the database is what it is for).
pub fn creating(url: &str) -> String {
    match SqliteFile::of(url) {
        Some(file) if !file.creates && !file.exists() => match query_value(url, "mode") {
            Some(mode) => url.replacen(&format!("mode={mode}"), "mode=rwc", 1),
            None if url.contains('?') => format!("{url}&mode=rwc"),
            None => format!("{url}?mode=rwc"),
        },
        _ => url.to_owned(),
    }
}

/// Before connecting: a SQLite file that is missing and that the URL does
/// not create is named, with the two ways to create it.
pub fn check_before_connect(url: &str) -> anyhow::Result<()> {
    match SqliteFile::of(url) {
        Some(file) if !file.creates && !file.exists() => anyhow::bail!(
            "the SQLite database file {} does not exist: create it with `celltrail migrate`, \
             or add ?mode=rwc to DATABASE_URL so that the server creates it on start",
            file.shown()
        ),
        _ => Ok(()),
    }
}

/// Why connecting failed, with its fix, when the cause is a common one;
/// `None` leaves the driver's own words.
pub fn explain(url: &str, error: &DbErr) -> Option<String> {
    let DbErr::Conn(RuntimeErr::SqlxError(sqlx_error)) = error else {
        return match error {
            DbErr::ConnectionAcquire(_) => postgres(url).map(|pg| pg.unreachable(&pg.probe())),
            _ => None,
        };
    };
    let pg = postgres(url)?;
    match &**sqlx_error {
        // invalid_catalog_name: the server is there, the database is not
        sqlx::Error::Database(db) if db.code().as_deref() == Some("3D000") => Some(format!(
            "the PostgreSQL database {:?} does not exist on the server at {}: create it with `{}`, then run celltrail again",
            pg.database,
            pg.address(),
            pg.createdb(),
        )),
        sqlx::Error::Io(io) => Some(pg.unreachable(&io.to_string())),
        sqlx::Error::PoolTimedOut => Some(pg.unreachable(&pg.probe())),
        _ => None,
    }
}

struct Postgres {
    host: String,
    port: u16,
    user: String,
    database: String,
}

fn postgres(url: &str) -> Option<Postgres> {
    if !(url.starts_with("postgres:") || url.starts_with("postgresql:")) {
        return None;
    }
    let options = PgConnectOptions::from_str(url).ok()?;
    let user = options.get_username().to_owned();
    Some(Postgres {
        host: options.get_host().to_owned(),
        port: options.get_port(),
        // PostgreSQL's own default: the database named as the user
        database: options.get_database().unwrap_or(&user).to_owned(),
        user,
    })
}

impl Postgres {
    fn address(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// The `createdb` command that makes the database on the same server,
    /// as the user the URL names (host and port only when not the default).
    fn createdb(&self) -> String {
        let mut command = String::from("createdb");
        if self.host != "localhost" {
            command.push_str(&format!(" -h {}", self.host));
        }
        if self.port != 5432 {
            command.push_str(&format!(" -p {}", self.port));
        }
        command.push_str(&format!(" -U {} {}", self.user, self.database));
        command
    }

    /// Why the pool gave up: it retries until its timeout and keeps only
    /// "timed out", so one plain TCP attempt finds the cause (most often
    /// "connection refused": nothing listens there).
    fn probe(&self) -> String {
        use std::net::{TcpStream, ToSocketAddrs};
        let addresses = match (self.host.as_str(), self.port).to_socket_addrs() {
            Ok(addresses) => addresses,
            Err(error) => return format!("cannot resolve {}: {error}", self.host),
        };
        for address in addresses {
            if let Err(error) = TcpStream::connect_timeout(&address, Duration::from_secs(2)) {
                return match error.kind() {
                    std::io::ErrorKind::ConnectionRefused => "connection refused".into(),
                    _ => error.to_string(),
                };
            }
        }
        "it did not answer in time".into()
    }

    fn unreachable(&self, why: &str) -> String {
        format!(
            "the PostgreSQL server at {} is not reachable ({why}): check that it is running and that DATABASE_URL names the right host and port",
            self.address()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sqlite_url_names_its_file_and_whether_it_creates_it() {
        let file = SqliteFile::of("sqlite://celltrail.db?mode=rwc").unwrap();
        assert_eq!(file.path, PathBuf::from("celltrail.db"));
        assert!(file.creates);
        let file = SqliteFile::of("sqlite:///var/lib/ct.db").unwrap();
        assert_eq!(file.path, PathBuf::from("/var/lib/ct.db"));
        assert!(!file.creates);
        assert!(!SqliteFile::of("sqlite://x.db?mode=rw").unwrap().creates);
        assert_eq!(SqliteFile::of("sqlite::memory:"), None);
        assert_eq!(SqliteFile::of("sqlite://x?mode=memory"), None);
        assert_eq!(SqliteFile::of("postgres://u@h/db"), None);
    }

    #[test]
    fn commands_that_only_open_never_create() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing.db");
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let error = existing(&url).unwrap_err().to_string();
        assert!(error.contains(&path.display().to_string()), "{error}");
        assert!(error.contains("celltrail migrate"), "{error}");
        std::fs::write(&path, b"").unwrap();
        assert_eq!(
            existing(&url).unwrap(),
            format!("sqlite://{}?mode=rw", path.display())
        );
        assert_eq!(existing("postgres://u@h/db").unwrap(), "postgres://u@h/db");
    }

    #[test]
    fn migrate_creates_a_missing_file_whatever_the_url_says() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new.db").display().to_string();
        assert_eq!(
            creating(&format!("sqlite://{path}")),
            format!("sqlite://{path}?mode=rwc")
        );
        assert_eq!(
            creating(&format!("sqlite://{path}?mode=rw")),
            format!("sqlite://{path}?mode=rwc")
        );
        assert_eq!(
            creating(&format!("sqlite://{path}?cache=shared")),
            format!("sqlite://{path}?cache=shared&mode=rwc")
        );
        assert_eq!(creating("postgres://u@h/db"), "postgres://u@h/db");
    }

    #[test]
    fn a_missing_file_the_url_does_not_create_is_named_before_connecting() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("absent.db");
        let error = check_before_connect(&format!("sqlite://{}", path.display()))
            .unwrap_err()
            .to_string();
        assert!(error.contains(&path.display().to_string()), "{error}");
        assert!(error.contains("?mode=rwc"), "{error}");
        assert!(check_before_connect(&format!("sqlite://{}?mode=rwc", path.display())).is_ok());
    }
}
