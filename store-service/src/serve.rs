//! `store-service serve`: start-up, serving and graceful shutdown.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use crate::config::{ConfigError, ServeArgs, ServeConfig};
use crate::db::{Database, DbError};
use crate::domain::{self, DomainError};
use crate::http::{self, AppState, Faults, Shared};
use crate::service::ProductService;
use crate::telemetry::{self, TelemetryError, metrics::Metrics};

/// Why the process stops; each maps to an exit code.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{}: {source}", storeops_contract::env::CATALOG_FILE)]
    Catalog { source: DomainError },
    #[error("cannot read {path}: {source}", path = path.display())]
    CatalogRead {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Telemetry(#[from] TelemetryError),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("server failed: {0}")]
    Serve(std::io::Error),
    #[error("load generator: {0}")]
    Loadgen(String),
}

impl RunError {
    /// 2 for bad input (configuration, catalog), 1 for failures.
    pub fn exit_code(&self) -> u8 {
        match self {
            RunError::Config(_) | RunError::Catalog { .. } | RunError::CatalogRead { .. } => 2,
            _ => 1,
        }
    }
}

pub async fn run(args: ServeArgs) -> Result<(), RunError> {
    let started = Instant::now();
    let cfg = ServeConfig::from_args(args)?;
    let catalog = match &cfg.catalog_file {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|source| RunError::CatalogRead {
                path: path.clone(),
                source,
            })?;
            domain::parse_catalog(&text).map_err(|source| RunError::Catalog { source })?
        }
        None => Vec::new(),
    };
    let metrics = Metrics::new(&cfg.store_id, &cfg.currency);
    metrics.app.known_error_codes(http::openapi::ERROR_CODES);
    let telemetry = telemetry::init(&cfg.telemetry, &metrics)?;
    let result = serve(&cfg, catalog, &metrics, started).await;
    if let Err(e) = &result {
        tracing::error!(error = %e, "store-service stopped on an error");
    }
    let timeout = cfg.shutdown_timeout;
    // Exporters block while they flush: keep that off the async workers.
    let _ = tokio::task::spawn_blocking(move || telemetry.shutdown(timeout)).await;
    result
}

async fn serve(
    cfg: &ServeConfig,
    catalog: Vec<domain::Product>,
    metrics: &Metrics,
    started: Instant,
) -> Result<(), RunError> {
    let db = Database::connect(&cfg.database_url, metrics.db.clone()).await?;
    let service = ProductService::new(db.clone(), metrics.app.clone());
    service.start(&catalog).await?;
    let shutting_down = Arc::new(AtomicBool::new(false));
    let state = AppState::new(Shared {
        service,
        metrics: metrics.clone(),
        admin_token: cfg.admin_token.as_deref().map(Arc::from),
        currency: Arc::from(cfg.currency.as_str()),
        faults: Arc::new(Faults::default()),
        shutting_down: shutting_down.clone(),
    });
    let listener = tokio::net::TcpListener::bind(cfg.listen)
        .await
        .map_err(|source| RunError::Listen {
            addr: cfg.listen,
            source,
        })?;
    metrics.app.started(started.elapsed());
    tracing::info!(
        listen = %cfg.listen,
        database = db.system().otel_name(),
        admin = cfg.admin_token.is_some(),
        otlp_traces = cfg.telemetry.traces.as_ref().map(|x| x.endpoint.as_str()),
        otlp_logs = cfg.telemetry.logs.as_ref().map(|x| x.endpoint.as_str()),
        startup_ms = started.elapsed().as_millis() as u64,
        "store-service ready"
    );

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let app = http::router(state, cfg.max_body_bytes);
    let mut server = tokio::spawn(async move {
        let mut stop_rx = stop_rx;
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stop_rx.wait_for(|stop| *stop).await;
            })
            .await
    });
    tokio::select! {
        finished = &mut server => return finished.map_err(|e| RunError::Serve(std::io::Error::other(e)))?.map_err(RunError::Serve),
        signal = shutdown_signal() => tracing::info!(signal, "shutting down: draining in-flight requests"),
    }
    shutting_down.store(true, Ordering::Relaxed);
    let _ = stop_tx.send(true);
    match tokio::time::timeout(cfg.shutdown_timeout, &mut server).await {
        Ok(_) => tracing::info!("all requests drained"),
        Err(_) => {
            server.abort();
            tracing::warn!(
                timeout_s = cfg.shutdown_timeout.as_secs(),
                "drain timed out; closing remaining connections"
            );
        }
    }
    db.close().await;
    Ok(())
}

async fn shutdown_signal() -> &'static str {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = tokio::signal::ctrl_c() => "SIGINT",
    }
}
