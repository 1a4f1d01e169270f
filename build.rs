//! Decides, when the tests are built, which of them can run here, so that
//! `cargo test` reports a test it could not run as ignored (with how to run
//! it) instead of as passed. Std only and a few file lookups: it runs for
//! every build of the package, `cargo build --release` included, and prints
//! nothing.
//!
//! - `celltrail_pg`: `CELLTRAIL_TEST_PG_URL` is set, so the PostgreSQL half
//!   of the integration tests runs.
//! - one cfg per external tool a test reads labels or documents back with,
//!   set when the tool is on `PATH`.
//!
//! Under `CI` every cfg is set whatever is missing: the tests then run and
//! fail, each saying what it lacks, because CI must never skip them.

use std::env;
use std::ffi::OsStr;
use std::path::Path;

/// Each tool-dependent cfg and the programs it needs, all of them.
const TOOLS: [(&str, &[&str]); 4] = [
    ("celltrail_rsvg_convert", &["rsvg-convert"]),
    ("celltrail_poppler", &["pdftoppm", "pdftotext"]),
    ("celltrail_pg_dump", &["pg_dump", "pg_restore"]),
    (
        "celltrail_openapi_spec_validator",
        &["openapi-spec-validator"],
    ),
];

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=CELLTRAIL_TEST_PG_URL");
    println!("cargo::rerun-if-env-changed=CI");
    println!("cargo::rerun-if-env-changed=PATH");
    let ci = env::var_os("CI").is_some();

    println!("cargo::rustc-check-cfg=cfg(celltrail_pg)");
    let pg_url = env::var_os("CELLTRAIL_TEST_PG_URL").is_some_and(|url| !url.is_empty());
    if pg_url || ci {
        println!("cargo::rustc-cfg=celltrail_pg");
    }

    let path = env::var_os("PATH").unwrap_or_default();
    for (cfg, programs) in TOOLS {
        println!("cargo::rustc-check-cfg=cfg({cfg})");
        if ci || programs.iter().all(|program| on_path(&path, program)) {
            println!("cargo::rustc-cfg={cfg}");
        }
    }
}

fn on_path(path: &OsStr, program: &str) -> bool {
    env::split_paths(path).any(|dir| executable(&dir.join(program)))
}

#[cfg(unix)]
fn executable(file: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    file.metadata()
        .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn executable(file: &Path) -> bool {
    file.with_extension("exe").is_file()
}
