//! celltrail: chain of identity and custody for cell-therapy products.
//!
//! This file builds the application from its settings: database, migrations,
//! first administrator, routes, listener. Everything else lives in modules.

pub mod api;
pub mod clock;
pub mod config;
pub mod database_url;
pub mod db;
pub mod demo;
pub mod domain;
pub mod entities;
pub mod error;
pub mod i18n;
pub mod labels;
pub mod memory;
pub mod services;
pub mod state;
pub mod telemetry;
pub mod web;

use std::future::Future;
use std::net::SocketAddr;

use anyhow::Context;
use axum::Router;
use tokio::net::TcpListener;

use crate::clock::Clock;
use crate::config::Settings;
use crate::db::Db;
use crate::services::accounts::{self, Bootstrap};
use crate::state::AppState;

/// A migrated database, a bound listener and the router, ready to serve.
pub struct Application {
    listener: TcpListener,
    router: Router,
    state: AppState,
    bootstrap: Bootstrap,
}

impl Application {
    pub async fn build(settings: Settings, clock: Clock) -> anyhow::Result<Application> {
        let mut state = open(settings, clock).await?;
        let signer = std::sync::Arc::new(services::checkpoints::signer(&state)?);
        services::checkpoints::announce(&signer);
        state.checkpoint_signer = Some(signer);
        // the serving instance's configuration is its site's; commands that
        // only read (verify-audit, label) leave the site as it is
        services::sites::configure_default(&state)
            .await
            .map_err(|e| anyhow::anyhow!("cannot configure the default site: {e}"))?;
        // patients enrolled before Chain of Identity identifiers existed
        // get theirs from their site, each a ledger event
        services::patients::coi::assign_missing(&state)
            .await
            .map_err(|e| anyhow::anyhow!("cannot give patients their identifiers: {e}"))?;
        let bootstrap = accounts::bootstrap_admin(&state)
            .await
            .map_err(|e| anyhow::anyhow!("cannot create the first administrator: {e}"))?;
        let listener = TcpListener::bind(&state.settings.bind)
            .await
            .with_context(|| format!("cannot listen on {}", state.settings.bind))?;
        Ok(Application {
            listener,
            router: router(state.clone()),
            state,
            bootstrap,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The first administrator's generated password, when this start
    /// created one; it is shown once and never stored in clear.
    pub fn generated_admin_password(&self) -> Option<&str> {
        match &self.bootstrap {
            Bootstrap::CreatedWithPassword(password) => Some(password),
            _ => None,
        }
    }

    /// Serves until `shutdown` resolves, then lets in-flight requests finish.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        // The ledger is verified in the background at start and every
        // quarter of an hour; the home page shows the last result.
        let checker = self.state.clone();
        let verifier = tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_secs(15 * 60));
            loop {
                every.tick().await;
                if let Err(error) = services::ledger::check(&checker).await {
                    tracing::warn!(%error, "the background ledger check could not run");
                }
                if let Err(error) = services::throttle::prune(&checker).await {
                    tracing::warn!(%error, "old failed sign-ins could not be pruned");
                }
            }
        });
        // The ledger's head is signed at least every 1,000 events and every
        // ten minutes while anything is written, and once more at shutdown.
        let checkpointer = tokio::spawn(services::checkpoints::run(self.state.clone()));
        // Sessions are served from memory once the session epoch is read,
        // and read again when any instance ends one (`services::sessions`).
        let sessions = tokio::spawn(services::sessions::watch(self.state.clone()));
        // The protocol in force is kept in memory, and read again when any
        // instance amends it (`services::protocol`).
        let protocol = tokio::spawn(services::protocol::watch(self.state.clone()));
        // What a burst of work used (the demo's load, a large trace, the
        // ledger check) is handed back once its connections have gone idle.
        let trimmer = tokio::spawn(memory::release_periodically());
        // The peer's address reaches the handlers: wrong sign-ins are
        // slowed down per client address.
        let service = self
            .router
            .into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(self.listener, service)
            .with_graceful_shutdown(shutdown)
            .await
            .context("server error")?;
        verifier.abort();
        checkpointer.abort();
        sessions.abort();
        protocol.abort();
        trimmer.abort();
        if let Err(error) = services::checkpoints::take(&self.state).await {
            tracing::error!(%error, "the checkpoint at shutdown could not be taken");
        }
        self.state.db.conn().clone().close().await.ok();
        Ok(())
    }
}

/// Connects and migrates: the state the service and the command line share.
pub async fn open(settings: Settings, clock: Clock) -> anyhow::Result<AppState> {
    let labels = labels::Labels::load(settings.labels_dir.as_deref())?;
    let db = Db::connect(&settings.database_url, settings.db_max_connections).await?;
    db.migrate(&settings.database_url).await?;
    let state = AppState::new(db, clock, settings, labels);
    services::checkpoints::load_floor(&state).await?;
    services::protocol::seed(&state)
        .await
        .map_err(|e| anyhow::anyhow!("cannot seed the trial protocol: {e}"))?;
    Ok(state)
}

/// Connects without migrating or seeding, for a command run beside a
/// serving instance that must change nothing but what it is for (`backup`,
/// `checkpoint`): a newer binary taking the backup before an upgrade must
/// not migrate the database under the older server first.
pub async fn attach(settings: Settings, clock: Clock) -> anyhow::Result<AppState> {
    let labels = labels::Labels::load(settings.labels_dir.as_deref())?;
    let db = Db::connect(&settings.database_url, settings.db_max_connections).await?;
    let state = AppState::new(db, clock, settings, labels);
    services::checkpoints::load_floor(&state).await?;
    Ok(state)
}

/// Every route, with middleware and state.
pub fn router(state: AppState) -> Router {
    let (api, openapi) = api::routes();
    api::finish(api.merge(web::docs(openapi)).merge(web::pages()), state)
}
