//! The `celltrail` command: serve (the default), migrate, verify-audit,
//! admin, label, backup, checkpoint, import.

use std::io::{BufRead, Write};
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;

use celltrail::clock::Clock;
use celltrail::config::{
    AdminCommand, BackupArgs, CheckpointArgs, Cli, Command, LabelCommand, LogFormat, Settings,
    VerifyArgs,
};
use celltrail::domain::checkpoint::Checkpoint;
use celltrail::domain::scan::{self, ScanKind, Scanned};
use celltrail::labels::Format;
use celltrail::services::labels::RecordName;
use celltrail::services::{Actor, accounts, backup, checkpoints, labels, ledger, passwords};
use celltrail::state::AppState;
use celltrail::{Application, attach, database_url, db, open, telemetry};
use uuid::Uuid;

#[tokio::main]
async fn main() -> ExitCode {
    celltrail::memory::give_large_blocks_back();
    let cli = Cli::parse();
    let log_format = cli.log_format;
    let _log_writer = telemetry::init(log_format);
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // Once on standard error: a line for people, or with
            // --log-format json the log collector's record (unless logging
            // is off, when the line for people is all there is).
            if log_format == LogFormat::Json && tracing::enabled!(tracing::Level::ERROR) {
                tracing::error!("{error:#}");
            } else {
                eprintln!("error: {error:#}");
            }
            ExitCode::FAILURE
        }
    }
}

/// The settings for a command that opens the database it is pointed at
/// and never creates one.
fn existing(mut settings: Settings) -> anyhow::Result<Settings> {
    settings.database_url = database_url::existing(&settings.database_url)?;
    Ok(settings)
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        None => {
            let settings = Settings::new(&cli.database, &cli.facility, &cli.labels, &cli.serve)?;
            serve(settings, cli.serve.demo).await
        }
        Some(Command::Serve(args)) => {
            let args = args.over(&cli.serve);
            let settings = Settings::new(&cli.database, &cli.facility, &cli.labels, &args)?;
            serve(settings, args.demo).await
        }
        Some(Command::Demo) => {
            let settings = Settings::new(&cli.database, &cli.facility, &cli.labels, &cli.serve)?;
            let state = open(settings, Clock::system()).await?;
            load_demo(&state).await
        }
        Some(Command::Migrate) => {
            let mut settings =
                Settings::new(&cli.database, &cli.facility, &cli.labels, &cli.serve)?;
            // creating the database is what migrate is for
            settings.database_url = database_url::creating(&settings.database_url);
            open(settings.clone(), Clock::system()).await?;
            println!("migrated {}", db::redact(&settings.database_url));
            Ok(())
        }
        Some(Command::VerifyAudit(args)) => {
            let settings = Settings::new(&cli.database, &cli.facility, &cli.labels, &cli.serve)?;
            verify_audit(existing(settings)?, args).await
        }
        Some(Command::Label(command)) => {
            let settings = Settings::new(&cli.database, &cli.facility, &cli.labels, &cli.serve)?;
            label(open(existing(settings)?, Clock::system()).await?, command).await
        }
        Some(Command::Backup(args)) => {
            let settings = Settings::new(&cli.database, &cli.facility, &cli.labels, &cli.serve)?;
            backup_sqlite(existing(settings)?, args).await
        }
        Some(Command::Checkpoint(args)) => {
            let settings = Settings::new(&cli.database, &cli.facility, &cli.labels, &cli.serve)?;
            checkpoint(existing(settings)?, args).await
        }
        Some(Command::Import(args)) => {
            let settings = Settings::new(&cli.database, &cli.facility, &cli.labels, &cli.serve)?;
            let state = open(existing(settings)?, Clock::system()).await?;
            celltrail::services::imports::command::run(&state, &args).await
        }
        Some(Command::Admin(command)) => {
            let settings = Settings::new(&cli.database, &cli.facility, &cli.labels, &cli.serve)?;
            admin(existing(settings)?, command).await
        }
    }
}

/// Verifies the ledger of the configured database: the chain, and the
/// signed checkpoints (this installation's, or an auditor's copies).
async fn verify_audit(settings: Settings, args: VerifyArgs) -> anyhow::Result<()> {
    use celltrail::domain::checkpoint::CheckpointJudge;
    let log = args
        .checkpoints
        .clone()
        .unwrap_or_else(|| checkpoints::log_path(&settings.checkpoint_dir));
    let key = match &args.public_key {
        Some(given) => Some(checkpoints::read_public_key(given)?),
        None => checkpoints::public_key_of(&settings.ledger_key_file),
    };
    let trusted = checkpoints::read_log(&log)?;
    if args.checkpoints.is_some() && trusted.is_empty() {
        anyhow::bail!("{} holds no checkpoint", log.display());
    }
    if !trusted.is_empty() && key.is_none() {
        anyhow::bail!(
            "checkpoints need the public key that signed them: give --public-key (ed25519:…)"
        );
    }
    let state = open(settings, Clock::system()).await?;
    let report = ledger::verify_with(&state.db, Some(CheckpointJudge::new(key, trusted))).await?;
    let problems = report.problems();
    println!(
        "{}",
        serde_json::json!({
            "ok": report.ok,
            "events": report.events,
            "head_hash": report.head_hash,
            "first_bad_seq": report.first_bad_seq,
            "checkpoints_checked": report.checkpoints.as_ref().map_or(0, |c| c.checked),
            "public_key": report.checkpoints.as_ref().and_then(|c| c.public_key.clone()),
            "rows_compared": report.replay.as_ref().map_or(0, |r| r.rows_compared),
            "differences": report.replay.as_ref().map_or(0, |r| r.differences),
            "problems": problems,
        })
    );
    if report.ok {
        Ok(())
    } else {
        anyhow::bail!(
            "the custody ledger does not verify: {}",
            problems.join("; ")
        )
    }
}

/// The database opened with the server's signing key, for a command that
/// signs a checkpoint beside the running server.
async fn signing_state(settings: Settings) -> anyhow::Result<AppState> {
    let mut state = attach(settings, Clock::system()).await?;
    state.checkpoint_signer = Some(std::sync::Arc::new(checkpoints::existing_signer(&state)?));
    Ok(state)
}

/// A checkpoint as an operator reads it: the event, the head, the time at
/// the site and the key.
fn describe(checkpoint: &Checkpoint, settings: &Settings) -> String {
    format!(
        "checkpoint: event {}, head {}, signed {}\npublic key: {}",
        checkpoint.seq,
        checkpoint.head_hash,
        settings.timezone.minute(checkpoint.time),
        checkpoint.public_key
    )
}

/// `celltrail backup -o FILE`: the SQLite copy and its receipt.
async fn backup_sqlite(settings: Settings, args: BackupArgs) -> anyhow::Result<()> {
    backup::check(&settings.database_url, &args.output)?;
    let state = signing_state(settings.clone()).await?;
    let done = backup::sqlite(&state, &args.output).await?;
    let absolute = |path: &std::path::Path| std::fs::canonicalize(path).unwrap_or(path.to_owned());
    let copy = absolute(&done.copy);
    match &done.checkpoint {
        Some((checkpoint, receipt)) => {
            let receipt = absolute(receipt);
            let restored = std::env::temp_dir().join("celltrail-restored.db");
            println!(
                "{}\ncopy: {} ({} bytes)\nreceipt: {}\nverify it restored (verify-audit opens a database to write, so never the backup itself):\n  cp {} {} && DATABASE_URL='sqlite://{}?mode=rwc' celltrail verify-audit --public-key {} --checkpoints {}",
                describe(checkpoint, &settings),
                copy.display(),
                done.bytes,
                receipt.display(),
                copy.display(),
                restored.display(),
                restored.display(),
                checkpoint.public_key,
                receipt.display(),
            )
        }
        None => println!(
            "the ledger is empty: nothing to checkpoint\ncopy: {} ({} bytes)",
            copy.display(),
            done.bytes
        ),
    }
    Ok(())
}

/// `celltrail checkpoint [-o RECEIPT]`: signs the head now (or names the
/// checkpoint that holds it).
async fn checkpoint(settings: Settings, args: CheckpointArgs) -> anyhow::Result<()> {
    if let Some(receipt) = &args.receipt {
        backup::refuse_existing(receipt)?;
    }
    let state = signing_state(settings.clone()).await?;
    let checkpoint = checkpoints::of_head(&state)
        .await
        .map_err(|e| anyhow::anyhow!("cannot sign a checkpoint of the ledger's head: {e}"))?
        .ok_or_else(|| anyhow::anyhow!("the ledger is empty: there is nothing to sign"))?;
    println!("{}", describe(&checkpoint, &settings));
    if let Some(receipt) = &args.receipt {
        backup::write_receipt(receipt, &checkpoint)?;
        println!("receipt: {}", receipt.display());
    }
    Ok(())
}

/// Loads the demo trial and says how to sign in.
async fn load_demo(state: &AppState) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let summary = celltrail::demo::load(state).await?;
    let report = ledger::verify(&state.db).await?;
    // the load and the verification read much; what they cached and
    // freed goes back
    state.db.hand_back_idle().await;
    celltrail::memory::release_free_memory();
    celltrail::memory::release_after(std::time::Duration::from_secs(2));
    println!(
        "\n  Demo trial loaded in {:.1} s (DEMO DATA, not for clinical use):\n    {} donors, {} lots, {} vials, {} patients, {} infusions, {} adverse events; lot {} recalled\n    today: {} doses in progress, lot {} in quarantine awaiting QC, a follow-up due\n    ledger: {} events, {}\n\n  Sign in as (username / password):",
        started.elapsed().as_secs_f64(),
        summary.donors,
        summary.lots,
        summary.vials,
        summary.patients,
        summary.infusions,
        summary.adverse_events,
        summary.recalled_lot,
        summary.doses_in_progress,
        summary.quarantine_lot,
        report.events,
        if report.ok { "verified" } else { "BROKEN" },
    );
    for (username, role, password) in celltrail::demo::ACCOUNTS {
        println!("    {username:<16} {password:<26} ({role})");
    }
    println!();
    Ok(())
}

async fn serve(settings: Settings, demo: bool) -> anyhow::Result<()> {
    let database = db::redact(&settings.database_url);
    let app = Application::build(settings, Clock::system()).await?;
    if demo {
        if celltrail::demo::is_empty(app.state()).await? {
            load_demo(app.state()).await?;
        } else {
            tracing::info!("--demo: the database already holds records; the demo is not loaded");
        }
    }
    if let Some(password) = app.generated_admin_password() {
        // Shown once; only its argon2 hash is kept.
        println!(
            "\n  First start: created the administrator account.\n\n    username: admin\n    password: {password}\n\n  Write it down now: it is not shown again. Sign in and create staff accounts,\n  or set CELLTRAIL_ADMIN_PASSWORD before the first start to choose it.\n"
        );
    }
    let facility = app.state().settings.facility_code.clone();
    if facility.is_placeholder() {
        tracing::warn!(
            facility = facility.as_str(),
            "CELLTRAIL_FACILITY_CODE is not set: DINs use ICCBBA's example FIN {}, a placeholder not for labelling real products",
            facility.as_str()
        );
    }
    // Decided from the database's marker, not from --demo: a server
    // restarted on a demo database says so too.
    if celltrail::services::demo_mark::is_demo(app.state()).await? {
        tracing::warn!(
            "DEMO DATA - NOT FOR CLINICAL USE: this database holds the demo trial; every page, label and CSV export is marked as demo"
        );
    }
    let layouts = app.state().labels.sources.join(", ");
    tracing::info!(address = %app.local_addr(), %database, facility = facility.as_str(), %layouts, "celltrail serving");
    app.run_until(shutdown_signal()).await?;
    tracing::info!("celltrail stopped");
    Ok(())
}

async fn admin(settings: Settings, command: AdminCommand) -> anyhow::Result<()> {
    let state = open(settings, Clock::system()).await?;
    let actor = Actor::system("cli");
    match command {
        AdminCommand::CreateUser {
            username,
            full_name,
            role,
            password_stdin,
        } => {
            let (password, generated) = password_from(password_stdin)?;
            let account = accounts::create(
                &state,
                &actor,
                accounts::NewAccount {
                    username: &username,
                    full_name: &full_name,
                    role: &role,
                    password: &password,
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "created {} ({}) as {}",
                account.username, account.full_name, account.role
            );
            if generated {
                println!("password: {password}\n(shown once; ask them to change it)");
            }
        }
        AdminCommand::ResetPassword {
            username,
            password_stdin,
        } => {
            let (password, generated) = password_from(password_stdin)?;
            let account = accounts::reset_password(&state, &actor, &username, &password)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "reset the password of {}; the account is unlocked and signed out",
                account.username
            );
            if generated {
                println!("password: {password}\n(shown once)");
            }
        }
    }
    Ok(())
}

/// Renders a label from the database to a file.
async fn label(state: AppState, command: LabelCommand) -> anyhow::Result<()> {
    let fail = |e: celltrail::error::AppError| anyhow::anyhow!("{e}");
    if let Some(given) = &command.donation {
        // a donation is named by its DIN, which no `ScanKind` payload carries
        let id = donation_named(&state, given).await?;
        let data = labels::donation_label(&state, id).await.map_err(fail)?;
        return write_label(&command, &state.labels.render(&data, command.format)?);
    }
    let named = [
        (ScanKind::Vial, &command.vial),
        (ScanKind::Lot, &command.lot),
        (ScanKind::Dose, &command.dose),
        (ScanKind::Patient, &command.patient),
        (ScanKind::Box, &command.storage_box),
        (ScanKind::Shipper, &command.shipper),
    ];
    let Some((kind, given)) = named
        .into_iter()
        .find_map(|(kind, given)| given.as_ref().map(|given| (kind, given)))
    else {
        anyhow::bail!("name a --vial, --lot, --dose, --patient, --box, --shipper or --donation");
    };
    let id = labelled(&state, kind, given).await?;
    let render = |data| state.labels.render(&data, command.format);
    let bytes = match (kind, command.format) {
        (ScanKind::Lot, Format::Pdf) => {
            let (_, sheet) = labels::lot_sheet(&state, id).await.map_err(fail)?;
            state.labels.sheet(&sheet)?
        }
        (ScanKind::Vial, _) => render(labels::vial_label(&state, id).await.map_err(fail)?)?,
        (ScanKind::Lot, _) => render(labels::lot_label(&state, id).await.map_err(fail)?)?,
        (ScanKind::Dose, _) => render(labels::dose_label(&state, id).await.map_err(fail)?)?,
        (ScanKind::Patient, _) => render(labels::wristband_label(&state, id).await.map_err(fail)?)?,
        (ScanKind::Box, _) => render(labels::box_label(&state, id).await.map_err(fail)?)?,
        (ScanKind::Shipper, _) => render(
            celltrail::services::shipments::documents::shipper_label(&state, id)
                .await
                .map_err(fail)?,
        )?,
        // no flag names a shipment: its paper is the packing list (API)
        (ScanKind::Shipment, _) => anyhow::bail!("a shipment has no label of its own"),
    };
    write_label(&command, &bytes)
}

/// Writes a rendered label to the file named, or standard output for `-`.
fn write_label(command: &LabelCommand, bytes: &[u8]) -> anyhow::Result<()> {
    if command.output.as_os_str() == "-" {
        std::io::stdout()
            .write_all(bytes)
            .context("cannot write the label to standard output")?;
    } else {
        std::fs::write(&command.output, bytes)
            .with_context(|| format!("cannot write {}", command.output.display()))?;
        eprintln!("wrote {} ({} bytes)", command.output.display(), bytes.len());
    }
    Ok(())
}

/// The donation a `--donation` names: its DIN with the check character,
/// read as the scan station reads it (`domain::scan`: spaces and lower case
/// forgiven, a wrong check character refused), or its id.
async fn donation_named(state: &AppState, given: &str) -> anyhow::Result<Uuid> {
    let text = given.trim();
    let accepts = "a donation's DIN with its check character (such as \"A9999 26 000123 K\"), its label's payload (A999926000123K) or its id";
    let name = if let Ok(id) = Uuid::parse_str(text) {
        RecordName::Id(id)
    } else {
        match scan::parse(text) {
            Ok(Scanned::Din(din)) => RecordName::Code(din.compact()),
            Ok(Scanned::Payload { kind, .. }) => anyhow::bail!(
                "--donation was given {text:?}, which is the payload of a {kind}'s label: give it as --{kind}; --donation takes {accepts}"
            ),
            Ok(Scanned::VialCode(_)) => anyhow::bail!(
                "--donation was given {text:?}, which is a vial's code: give it as --vial; --donation takes {accepts}"
            ),
            Ok(Scanned::LotCode(_)) => anyhow::bail!(
                "--donation was given {text:?}, which is a lot's code: give it as --lot; --donation takes {accepts}"
            ),
            Err(error) => {
                anyhow::bail!("--donation was given {text:?}: {error}; --donation takes {accepts}")
            }
        }
    };
    let found = labels::find_donation(state, &name)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    found.ok_or_else(|| {
        let (by, value) = match &name {
            RecordName::Id(id) => ("id", id.to_string()),
            RecordName::Code(din) => ("DIN", din.clone()),
        };
        anyhow::anyhow!(
            "no donation has the {by} {value} in the database at {}",
            db::redact(&state.settings.database_url)
        )
    })
}

/// The record a `label` flag names: by its code, its label's payload or
/// its id. A name of another kind of record (a lot code given to --vial)
/// is refused with what it is and the flag it belongs to.
async fn labelled(state: &AppState, kind: ScanKind, given: &str) -> anyhow::Result<Uuid> {
    let flag = format!("--{kind}");
    let accepts = match kind {
        ScanKind::Vial => {
            "a vial's code (such as A999926000123-L01-V007), its label's payload (CT1:V:…) or its id"
        }
        ScanKind::Lot => {
            "a lot's code (such as A999926000123-L01), its box label's payload (CT1:L:…) or its id"
        }
        ScanKind::Dose => {
            "a dose's code (such as PV-007-D01), its bag label's payload (CT1:D:…) or its id"
        }
        ScanKind::Patient => {
            "a patient's subject code (such as PV-007), the wristband's payload (CT1:P:…) or the patient's id"
        }
        ScanKind::Box => "a storage box's id or its label's payload (CT1:B:…)",
        ScanKind::Shipper => {
            "a shipping container's code (such as DS-07), its label's payload (CT1:S:…) or its id"
        }
        ScanKind::Shipment => "a shipment's code (such as SH-2026-0012) or its id",
    };
    let text = given.trim();
    let elsewhere = |other: ScanKind, what: &str| {
        anyhow::anyhow!(
            "{flag} was given {text:?}, which is {what}: give it as --{other}; {flag} takes {accepts}"
        )
    };
    let name = if let Ok(id) = Uuid::parse_str(text) {
        RecordName::Id(id)
    } else {
        match scan::parse(text) {
            Ok(Scanned::Payload { kind: named, code }) if named == kind => RecordName::Code(code),
            Ok(Scanned::VialCode(code)) if kind == ScanKind::Vial => RecordName::Code(code),
            Ok(Scanned::LotCode(code)) if kind == ScanKind::Lot => RecordName::Code(code),
            Ok(Scanned::Payload {
                kind: ScanKind::Shipment,
                ..
            }) => anyhow::bail!(
                "{flag} was given {text:?}, which is a shipment's packing-list QR: a shipment has no label; its packing list is GET /api/v1/shipments/{{id}}/packing-list.pdf; {flag} takes {accepts}"
            ),
            Ok(Scanned::Payload { kind: other, .. }) => {
                return Err(elsewhere(
                    other,
                    &format!("the payload of a {other}'s label"),
                ));
            }
            Ok(Scanned::VialCode(_)) => return Err(elsewhere(ScanKind::Vial, "a vial's code")),
            Ok(Scanned::LotCode(_)) => return Err(elsewhere(ScanKind::Lot, "a lot's code")),
            Ok(Scanned::Din(_)) => anyhow::bail!(
                "{flag} was given {text:?}, which is a donation's DIN: labels are printed for its lots (--lot) and vials (--vial); {flag} takes {accepts}"
            ),
            // dose codes and subject codes have no fixed shape to recognise
            Err(_)
                if matches!(
                    kind,
                    ScanKind::Dose | ScanKind::Patient | ScanKind::Shipper | ScanKind::Shipment
                ) && !text.is_empty() =>
            {
                RecordName::Code(text.to_ascii_uppercase())
            }
            Err(_) => anyhow::bail!("{flag} was given {text:?}, which is not {accepts}"),
        }
    };
    let found = labels::find_labelled(state, kind, &name)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    found.ok_or_else(|| {
        let (by, value) = match &name {
            RecordName::Id(id) => ("id", id.to_string()),
            RecordName::Code(code) if kind == ScanKind::Patient => ("subject code", code.clone()),
            RecordName::Code(code) => ("code", code.clone()),
        };
        anyhow::anyhow!(
            "no {kind} has the {by} {value} in the database at {}",
            db::redact(&state.settings.database_url)
        )
    })
}

/// The password from standard input's first line, or a generated one.
fn password_from(stdin: bool) -> anyhow::Result<(String, bool)> {
    if stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from standard input")?;
        Ok((line.trim_end_matches(['\r', '\n']).to_owned(), false))
    } else {
        Ok((
            passwords::generate().map_err(|e| anyhow::anyhow!("{e}"))?,
            true,
        ))
    }
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down; finishing requests in flight");
}
