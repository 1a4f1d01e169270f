//! Settings from flags and the environment, with defaults that serve.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::domain::din::FacilityCode;
use crate::domain::language::Language;
use crate::domain::printer::Printer;
use crate::domain::zone::SiteZone;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://celltrail.db?mode=rwc";
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
/// A sign-in lasts a shift unless set otherwise.
pub const DEFAULT_TOKEN_TTL_HOURS: u32 = 12;

/// celltrail: chain of identity and custody for cell-therapy products.
#[derive(Debug, Parser)]
#[command(name = "celltrail", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub database: DatabaseArgs,

    #[command(flatten)]
    pub facility: FacilityArgs,

    #[command(flatten)]
    pub labels: LabelArgs,

    /// Log format: `text` for people, `json` for log collectors.
    #[arg(long, value_enum, env = "CELLTRAIL_LOG_FORMAT", default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,

    /// Serving settings, used when no subcommand is given.
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Migrate the database and serve the API (the default).
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Recompute the custody ledger's hash chain and hold it against the
    /// signed checkpoints (this installation's, or an auditor's with
    /// --public-key and --checkpoints); exits 1 if anything is wrong.
    VerifyAudit(VerifyArgs),
    /// Load the demo trial (30 patients, 5 lots, one recalled) into an
    /// empty database, then exit. Demo data only: never next to real records.
    Demo,
    /// Manage accounts from the command line.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Render a label to a file, for printing offline: a vial's label, a
    /// lot's box label or (`--lot … --format pdf`) its label sheet, a dose's
    /// bag label, a patient's wristband. Each is named by its code, its
    /// label's payload or its id.
    Label(LabelCommand),
    /// Copy the SQLite database while the server runs (`VACUUM INTO`),
    /// after signing a checkpoint of the ledger's head: writes FILE and the
    /// checkpoint's receipt FILE.checkpoint, which a restored copy verifies
    /// against. PostgreSQL is backed up with pg_dump (see the README).
    Backup(BackupArgs),
    /// Sign a checkpoint of the ledger's head now (or name the one that
    /// already holds it) and print it; with -o, write its receipt too. The
    /// first step of a PostgreSQL backup.
    Checkpoint(CheckpointArgs),
    /// Bring an existing bank in from a CSV file (docs/import/template.csv):
    /// --dry-run reports every problem as row:column: message and writes
    /// nothing; otherwise a quality officer signs to accept (and with
    /// --release, to release every lot), and the file is written in
    /// chunks, resumable: run the same command again after an interruption.
    Import(ImportArgs),
}

#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// The bank's CSV file, one row per vial.
    pub file: PathBuf,
    /// Check every row against the file and the database; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Release every lot in the same signed act (each must pass the normal
    /// rule: donor eligible, every required QC result passing).
    #[arg(long)]
    pub release: bool,
    /// The lab person importing (username).
    #[arg(long = "as", value_name = "USERNAME", env = "CELLTRAIL_IMPORT_USER")]
    pub lab: String,
    /// The quality officer accepting it with their signature (username);
    /// their password is asked on the terminal, or read from
    /// CELLTRAIL_SIGNER_PASSWORD for scripts.
    #[arg(long, value_name = "USERNAME", env = "CELLTRAIL_IMPORT_SIGNER")]
    pub signer: Option<String>,
    /// What the signature means.
    #[arg(long, default_value = "accepted for import")]
    pub meaning: String,
    /// Vials per write transaction (whole lots; a resumed import keeps the
    /// size it started with).
    #[arg(long, default_value_t = 5000)]
    pub chunk_vials: usize,
    /// The site the bank is at (its facility code), for a lab person who
    /// works at several sites.
    #[arg(long, value_name = "FACILITY_CODE")]
    pub site: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct BackupArgs {
    /// The copy to write; it must not exist (nor FILE.checkpoint).
    #[arg(short = 'o', long)]
    pub output: PathBuf,
}

#[derive(Debug, Clone, Args)]
pub struct CheckpointArgs {
    /// Also write the checkpoint's receipt to this file (which must not
    /// exist), to keep beside a backup.
    #[arg(short = 'o', long)]
    pub receipt: Option<PathBuf>,
}

/// What an auditor trusts when verifying a copy of the database: by
/// default this installation's key file and checkpoint log.
#[derive(Debug, Clone, Args)]
pub struct VerifyArgs {
    /// The public key that signed the checkpoints (`ed25519:…`, or a file
    /// holding it).
    #[arg(long)]
    pub public_key: Option<String>,
    /// A checkpoint log or a file of receipts.
    #[arg(long)]
    pub checkpoints: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
#[command(group(clap::ArgGroup::new("record").required(true).args(["vial", "lot", "dose", "patient", "donation", "storage_box", "shipper"])))]
pub struct LabelCommand {
    /// The vial: its code (e.g. A999926000123-L01-V007), its label's
    /// payload (CT1:V:…) or its id.
    #[arg(long)]
    pub vial: Option<String>,
    /// The lot: its code (e.g. A999926000123-L01), its box label's payload
    /// (CT1:L:…) or its id. With --format pdf, the sheet of its vial labels.
    #[arg(long)]
    pub lot: Option<String>,
    /// The dose: its code (e.g. PV-007-D01), its bag label's payload
    /// (CT1:D:…) or its id.
    #[arg(long)]
    pub dose: Option<String>,
    /// The patient's wristband: the subject code (e.g. PV-007), the
    /// wristband's payload (CT1:P:…) or the patient's id.
    #[arg(long)]
    pub patient: Option<String>,
    /// The donation's DIN label: its DIN with the check character (e.g.
    /// "A9999 26 000123 K"), its label's payload (the same run together,
    /// A999926000123K) or its id.
    #[arg(long)]
    pub donation: Option<String>,
    /// A storage box's side label: the box's id or its label's payload
    /// (CT1:B:…).
    #[arg(long = "box")]
    pub storage_box: Option<String>,
    /// A shipping container's (dry shipper's) side label: its code (e.g.
    /// DS-07), its label's payload (CT1:S:…) or its id.
    #[arg(long)]
    pub shipper: Option<String>,
    /// png, svg, zpl or pdf (a page the label's size; for --lot, the sheet
    /// of its vial labels).
    #[arg(long, value_enum)]
    pub format: crate::labels::Format,
    /// The file to write; `-` for standard output.
    #[arg(short = 'o', long)]
    pub output: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an account; prints a generated password unless one is given on
    /// standard input with --password-stdin.
    CreateUser {
        #[arg(long)]
        username: String,
        #[arg(long)]
        full_name: String,
        /// lab, pharmacist, quality, clinician or admin
        #[arg(long)]
        role: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a new password (generated and printed, or from standard input),
    /// unlock the account and sign it out everywhere.
    ResetPassword {
        #[arg(long)]
        username: String,
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// `sqlite://FILE?mode=rwc` (embedded) or `postgres://USER@HOST/DB`.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true)]
    pub database_url: String,

    /// Largest number of pooled database connections.
    #[arg(
        long,
        env = "CELLTRAIL_DB_MAX_CONNECTIONS",
        default_value_t = 16,
        value_parser = clap::value_parser!(u32).range(1..=1000),
        global = true
    )]
    pub db_max_connections: u32,

    /// The Ed25519 key that signs the ledger's checkpoints; kept outside the
    /// database, created (mode 0600) on first start. Instances sharing one
    /// database share this file.
    #[arg(
        long,
        env = "CELLTRAIL_LEDGER_KEY_FILE",
        default_value = "celltrail-ledger.key",
        global = true
    )]
    pub ledger_key_file: PathBuf,

    /// Where the checkpoint log is appended (outside the database): the
    /// record verification trusts.
    #[arg(
        long,
        env = "CELLTRAIL_CHECKPOINT_DIR",
        default_value = "checkpoints",
        global = true
    )]
    pub checkpoint_dir: PathBuf,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "CELLTRAIL_BIND", default_value = DEFAULT_BIND)]
    pub bind: String,

    /// Password of the `admin` account created on first start; when unset a
    /// random one is generated and printed once.
    #[arg(long, env = "CELLTRAIL_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,

    /// Mark the browser session cookie `Secure` (sent over HTTPS only; browsers
    /// also accept it from localhost). Turn off only for plain HTTP on a
    /// trusted network.
    #[arg(long, env = "CELLTRAIL_COOKIE_SECURE", default_value_t = true, action = clap::ArgAction::Set)]
    pub cookie_secure: bool,

    /// On an empty database, load the demo trial before serving.
    #[arg(long)]
    pub demo: bool,

    /// The server is behind a reverse proxy that appends the client's
    /// address to `X-Forwarded-For`: wrong sign-ins are then counted per
    /// that address instead of per connection. Leave off when clients
    /// connect directly, or anyone could claim any address.
    #[arg(long, env = "CELLTRAIL_TRUST_FORWARDED_FOR", default_value_t = false, action = clap::ArgAction::Set)]
    pub trust_forwarded_for: bool,

    /// Lifetime of a sign-in token, in hours (1 to 72: a shift, up to a
    /// long weekend; 0 would sign nobody in).
    #[arg(
        long,
        env = "CELLTRAIL_TOKEN_TTL_HOURS",
        default_value_t = DEFAULT_TOKEN_TTL_HOURS,
        value_parser = clap::value_parser!(u32).range(1..=72)
    )]
    pub token_ttl_hours: u32,
}

impl ServeArgs {
    /// The serving settings of `celltrail [FLAGS] serve [FLAGS]`: a flag
    /// given after `serve` wins, and one given only before it still counts
    /// (`celltrail --bind 0.0.0.0:9000 serve` serves on port 9000). A
    /// value left at its default after `serve` is taken from before it.
    pub fn over(self, before: &ServeArgs) -> ServeArgs {
        ServeArgs {
            bind: if self.bind == DEFAULT_BIND {
                before.bind.clone()
            } else {
                self.bind
            },
            admin_password: self
                .admin_password
                .or_else(|| before.admin_password.clone()),
            cookie_secure: self.cookie_secure && before.cookie_secure,
            demo: self.demo || before.demo,
            trust_forwarded_for: self.trust_forwarded_for || before.trust_forwarded_for,
            token_ttl_hours: if self.token_ttl_hours == DEFAULT_TOKEN_TTL_HOURS {
                before.token_ttl_hours
            } else {
                self.token_ttl_hours
            },
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct FacilityArgs {
    /// The ISBT 128 facility identification number (FIN) ICCBBA assigned to
    /// this facility; it starts every DIN. The default, A9999, is ICCBBA's
    /// example FIN: a placeholder, fine for trying celltrail out, never for
    /// labelling real products.
    #[arg(long, env = "CELLTRAIL_FACILITY_CODE", default_value = FacilityCode::PLACEHOLDER, global = true)]
    pub facility_code: String,

    /// The site's time zone, an IANA name such as `Asia/Shanghai`: every
    /// time a person reads (pages, labels, worksheets, CSV for people) is
    /// shown in it, and day-counting rules use its calendar. Default: the
    /// host's zone, else UTC. The API always speaks UTC.
    #[arg(long, env = "CELLTRAIL_TIMEZONE", global = true)]
    pub timezone: Option<String>,

    /// The language of the pages for someone who has not chosen one and
    /// whose browser asks for neither: `en` or `zh-CN`.
    #[arg(long, env = "CELLTRAIL_LANGUAGE", default_value = "en", global = true)]
    pub language: String,
}

impl FacilityArgs {
    /// The site's default language.
    pub fn site_language(&self) -> anyhow::Result<Language> {
        Language::from_tag(&self.language).ok_or_else(|| {
            anyhow::anyhow!(
                "CELLTRAIL_LANGUAGE {:?}: the pages speak en (English) or zh-CN (简体中文)",
                self.language
            )
        })
    }

    /// The zone named, or the host's, or UTC.
    pub fn site_zone(&self) -> anyhow::Result<SiteZone> {
        match self.timezone.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            Some(name) => SiteZone::parse(name).ok_or_else(|| {
                anyhow::anyhow!(
                    "CELLTRAIL_TIMEZONE {name:?} is not an IANA time zone name (e.g. Asia/Shanghai, Europe/Berlin, UTC)"
                )
            }),
            None => Ok(iana_time_zone::get_timezone()
                .ok()
                .and_then(|name| SiteZone::parse(&name))
                .unwrap_or(SiteZone::UTC)),
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct LabelArgs {
    /// Folder of label layouts (`vial.toml`, `lot.toml`, `sheet.toml`); a
    /// layout missing there is taken from the built-in defaults.
    #[arg(
        long,
        env = "CELLTRAIL_LABELS_DIR",
        default_value = "labels",
        global = true
    )]
    pub labels_dir: PathBuf,

    /// The network label printers labels may be sent to, by name:
    /// `NAME=HOST[:PORT],…` (raw ZPL over TCP; the port defaults to 9100),
    /// e.g. `lab-zebra=10.0.0.5:9100,pharmacy=10.0.0.6`. None by default.
    #[arg(long, env = "CELLTRAIL_PRINTERS", default_value = "", global = true)]
    pub printers: String,
}

impl LabelArgs {
    /// The printers named; a malformed entry stops the start, naming it.
    pub fn site_printers(&self) -> anyhow::Result<Vec<Printer>> {
        Printer::parse_list(&self.printers).map_err(|e| anyhow::anyhow!("CELLTRAIL_PRINTERS: {e}"))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Everything the running service needs, whatever it was read from.
#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: String,
    pub db_max_connections: u32,
    pub bind: String,
    pub admin_password: Option<String>,
    pub token_ttl: Duration,
    pub facility_code: FacilityCode,
    /// Where label layouts are read from; `None`: the built-in ones.
    pub labels_dir: Option<PathBuf>,
    /// The browser session cookie is `Secure`.
    pub cookie_secure: bool,
    /// Client addresses come from `X-Forwarded-For` (behind a proxy).
    pub trust_forwarded_for: bool,
    /// The site's time zone: what people read times in.
    pub timezone: SiteZone,
    /// The pages' language for someone who has not chosen one.
    pub language: Language,
    /// The key that signs ledger checkpoints, and where they are logged.
    pub ledger_key_file: PathBuf,
    pub checkpoint_dir: PathBuf,
    /// The network label printers, by name (`CELLTRAIL_PRINTERS`).
    pub printers: Vec<Printer>,
}

impl Settings {
    pub fn new(
        database: &DatabaseArgs,
        facility: &FacilityArgs,
        labels: &LabelArgs,
        serve: &ServeArgs,
    ) -> anyhow::Result<Self> {
        let facility_code = FacilityCode::parse(&facility.facility_code).map_err(|e| {
            anyhow::anyhow!("CELLTRAIL_FACILITY_CODE {:?}: {e}", facility.facility_code)
        })?;
        let timezone = facility.site_zone()?;
        let language = facility.site_language()?;
        let printers = labels.site_printers()?;
        Ok(Settings {
            language,
            printers,
            ledger_key_file: database.ledger_key_file.clone(),
            checkpoint_dir: database.checkpoint_dir.clone(),
            timezone,
            facility_code,
            database_url: database.database_url.clone(),
            db_max_connections: database.db_max_connections,
            bind: serve.bind.clone(),
            admin_password: serve.admin_password.clone(),
            token_ttl: Duration::from_secs(u64::from(serve.token_ttl_hours) * 3600),
            labels_dir: Some(labels.labels_dir.clone()),
            cookie_secure: serve.cookie_secure,
            trust_forwarded_for: serve.trust_forwarded_for,
        })
    }

    /// Defaults for a database, as a test or an embedding program wants them.
    pub fn for_database(database_url: impl Into<String>) -> Self {
        let scratch = std::env::temp_dir().join(format!("celltrail-{}", uuid::Uuid::new_v4()));
        Settings {
            database_url: database_url.into(),
            db_max_connections: 16,
            bind: "127.0.0.1:0".into(),
            admin_password: None,
            token_ttl: Duration::from_secs(12 * 3600),
            facility_code: FacilityCode::parse(FacilityCode::PLACEHOLDER)
                .expect("the placeholder is a valid FIN"),
            labels_dir: None,
            cookie_secure: true,
            trust_forwarded_for: false,
            timezone: SiteZone::UTC,
            language: Language::En,
            // a place of its own, so embedded and test instances never
            // share a key or a log by accident
            ledger_key_file: scratch.join("celltrail-ledger.key"),
            checkpoint_dir: scratch.join("checkpoints"),
            printers: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_arguments_means_serve_with_the_defaults() {
        let cli = Cli::try_parse_from(["celltrail"]).unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.serve.bind, DEFAULT_BIND);
        assert_eq!(cli.log_format, LogFormat::Text);
    }

    #[test]
    fn flags_work_before_and_after_the_subcommand() {
        let cli = Cli::try_parse_from([
            "celltrail",
            "--log-format",
            "json",
            "serve",
            "--bind",
            "0.0.0.0:9000",
            "--database-url",
            "postgres://x@y/z",
        ])
        .unwrap();
        assert_eq!(cli.log_format, LogFormat::Json);
        assert_eq!(cli.database.database_url, "postgres://x@y/z");
        match cli.command {
            Some(Command::Serve(serve)) => assert_eq!(serve.bind, "0.0.0.0:9000"),
            other => panic!("{other:?}"),
        }
        // a serving flag before `serve` counts; one after it wins
        let cli = Cli::try_parse_from(["celltrail", "--bind", "0.0.0.0:9001", "--demo", "serve"])
            .unwrap();
        match cli.command {
            Some(Command::Serve(serve)) => {
                let serve = serve.over(&cli.serve);
                assert_eq!(serve.bind, "0.0.0.0:9001");
                assert!(serve.demo);
            }
            other => panic!("{other:?}"),
        }
        let cli = Cli::try_parse_from([
            "celltrail",
            "--bind",
            "0.0.0.0:9001",
            "serve",
            "--bind",
            "0.0.0.0:9002",
        ])
        .unwrap();
        match cli.command {
            Some(Command::Serve(serve)) => assert_eq!(serve.over(&cli.serve).bind, "0.0.0.0:9002"),
            other => panic!("{other:?}"),
        }
        assert!(
            Cli::try_parse_from(["celltrail", "admin", "reset-password", "--username", "a"])
                .is_ok()
        );
    }

    #[test]
    fn the_site_language_is_english_unless_set() {
        let cli = Cli::try_parse_from(["celltrail"]).unwrap();
        assert_eq!(cli.facility.site_language().unwrap(), Language::En);
        let cli = Cli::try_parse_from(["celltrail", "--language", "zh-CN"]).unwrap();
        assert_eq!(cli.facility.site_language().unwrap(), Language::ZhCn);
        let cli = Cli::try_parse_from(["celltrail", "--language", "fr"]).unwrap();
        let error = cli.facility.site_language().unwrap_err().to_string();
        assert!(
            error.contains("CELLTRAIL_LANGUAGE") && error.contains("zh-CN"),
            "{error}"
        );
    }

    #[test]
    fn the_site_zone_is_named_or_the_hosts() {
        let cli = Cli::try_parse_from(["celltrail", "--timezone", "Asia/Shanghai"]).unwrap();
        assert_eq!(cli.facility.site_zone().unwrap().name(), "Asia/Shanghai");
        let cli = Cli::try_parse_from(["celltrail", "--timezone", "Beijing"]).unwrap();
        let error = cli.facility.site_zone().unwrap_err().to_string();
        assert!(error.contains("IANA"), "{error}");
        // unset: whatever the host says, it is a zone
        let cli = Cli::try_parse_from(["celltrail"]).unwrap();
        if std::env::var_os("CELLTRAIL_TIMEZONE").is_none() {
            assert!(cli.facility.site_zone().is_ok());
        }
    }

    #[test]
    fn printers_are_named_in_one_setting() {
        let cli = Cli::try_parse_from(["celltrail"]).unwrap();
        if std::env::var_os("CELLTRAIL_PRINTERS").is_none() {
            assert!(cli.labels.site_printers().unwrap().is_empty());
        }
        let cli = Cli::try_parse_from([
            "celltrail",
            "serve",
            "--printers",
            "lab-zebra=10.0.0.5:9100,pharmacy=10.0.0.6",
        ])
        .unwrap();
        let printers = cli.labels.site_printers().unwrap();
        assert_eq!(printers.len(), 2);
        assert_eq!(printers[1].address(), "10.0.0.6:9100");
        let cli = Cli::try_parse_from(["celltrail", "--printers", "lab-zebra"]).unwrap();
        let error = cli.labels.site_printers().unwrap_err().to_string();
        assert!(
            error.contains("CELLTRAIL_PRINTERS") && error.contains("\"lab-zebra\""),
            "{error}"
        );
    }

    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
