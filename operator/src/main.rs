//! The `operator` command: `run` the controller, or `render` a Store's objects.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::{Args, Parser, Subcommand};
use futures::StreamExt;
use k8s_openapi::api::coordination::v1::Lease;
use kube::Api;
use kube::runtime::events::{Recorder, Reporter};
use kube::runtime::{Controller, watcher};
use operator::api::Store;
use operator::drift::scoped as scoped_api;
use operator::reconcile::{Context, error_policy, identity, reconcile};
use operator::{leader, metrics::Metrics, telemetry};

use operator::config::{
    DEFAULT_IMAGE, DEFAULT_PROMETHEUS_NAMESPACE, DEFAULT_PROMETHEUS_POD_LABELS, FIELD_MANAGER,
    OperatorConfig, parse_labels,
};

/// How long triggers of one Store are gathered into one reconcile.
const RECONCILE_DEBOUNCE: std::time::Duration = std::time::Duration::from_millis(500);

#[derive(Debug, Parser)]
#[command(name = "operator", version, about = "The storeops Kubernetes operator")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Reconcile Stores in the cluster of the current kubeconfig.
    Run(RunArgs),
    /// Print every object the operator would apply for the Stores of a file.
    Render(RenderArgs),
}

/// Settings shared by `run` and `render`.
#[derive(Debug, Args)]
struct ConfigArgs {
    /// store-service image for Stores that set no spec.image.
    #[arg(long, env = "STOREOPS_IMAGE", default_value = DEFAULT_IMAGE)]
    image: String,
    /// OTLP gRPC endpoint for Stores that set no spec.telemetry.otlpEndpoint.
    #[arg(long, env = "STOREOPS_OTLP_ENDPOINT")]
    otlp_endpoint: Option<String>,
    /// Namespace of the fleet dashboards and the fleet's PrometheusRule.
    #[arg(
        long,
        env = "STOREOPS_DASHBOARD_NAMESPACE",
        default_value = "storeops-system"
    )]
    dashboard_namespace: String,
    /// Labels of the fleet's PrometheusRule, `key=value,...` (e.g. the
    /// release label a Prometheus selects rules by).
    #[arg(long, env = "STOREOPS_FLEET_RULE_LABELS", default_value = "", value_parser = parse_labels)]
    fleet_rule_labels: BTreeMap<String, String>,
    /// Namespace of the Prometheus that scrapes the Stores (a Store's
    /// NetworkPolicy lets it in).
    #[arg(
        long,
        env = "STOREOPS_PROMETHEUS_NAMESPACE",
        default_value = DEFAULT_PROMETHEUS_NAMESPACE
    )]
    prometheus_namespace: String,
    /// Labels of that Prometheus's pods, `key=value,...`.
    #[arg(
        long,
        env = "STOREOPS_PROMETHEUS_POD_LABELS",
        default_value = DEFAULT_PROMETHEUS_POD_LABELS,
        value_parser = parse_labels
    )]
    prometheus_pod_labels: BTreeMap<String, String>,
}

impl ConfigArgs {
    fn into_config(self) -> OperatorConfig {
        OperatorConfig {
            default_image: self.image,
            default_otlp_endpoint: self.otlp_endpoint.filter(|e| !e.is_empty()),
            dashboard_namespace: self.dashboard_namespace,
            fleet_rule_labels: self.fleet_rule_labels,
            field_manager: FIELD_MANAGER.to_string(),
            prometheus_namespace: self.prometheus_namespace,
            prometheus_pod_labels: self.prometheus_pod_labels,
        }
    }
}

#[derive(Debug, Args)]
struct RunArgs {
    #[command(flatten)]
    config: ConfigArgs,
    #[command(flatten)]
    process: ProcessArgs,
}

/// Settings of the operator process itself.
#[derive(Debug, Args)]
struct ProcessArgs {
    /// Watch Stores (and their objects) in these namespaces only, comma
    /// separated; unset: every namespace.
    #[arg(
        long = "namespaces",
        alias = "namespace",
        env = "STOREOPS_WATCH_NAMESPACES",
        value_delimiter = ','
    )]
    namespaces: Vec<String>,
    /// Address of /metrics, /healthz and /readyz.
    #[arg(long, env = "STOREOPS_LISTEN", default_value = "0.0.0.0:8080")]
    listen: std::net::SocketAddr,
    /// Namespace of the leader-election Lease.
    #[arg(long, env = "POD_NAMESPACE", default_value = "storeops-system")]
    lease_namespace: String,
    /// Name of the leader-election Lease.
    #[arg(long, env = "STOREOPS_LEASE_NAME", default_value = "storeops-operator")]
    lease_name: String,
    /// This replica's identity in the Lease (the pod name).
    #[arg(long, env = "POD_NAME", default_value_t = default_identity())]
    identity: String,
    /// error, warn, info, debug or trace.
    #[arg(long, env = "LOG_LEVEL", default_value = "info")]
    log_level: String,
    /// Kubeconfig file; unset: $KUBECONFIG, ~/.kube/config or the in-cluster config.
    #[arg(long)]
    kubeconfig: Option<std::path::PathBuf>,
    /// OTLP gRPC endpoint for the operator's own traces; unset: none.
    #[arg(long, env = "OTEL_EXPORTER_OTLP_ENDPOINT")]
    otel_endpoint: Option<String>,
    /// Reconciles in flight at once, per watched namespace: bounds the
    /// operator's memory and its load on the API server with many Stores.
    #[arg(long, env = "STOREOPS_MAX_CONCURRENT_RECONCILES", default_value_t = 16,
          value_parser = clap::value_parser!(u16).range(1..))]
    max_concurrent_reconciles: u16,
}

fn default_identity() -> String {
    std::env::var("HOSTNAME").unwrap_or_else(|_| format!("operator-{:08x}", rand::random::<u32>()))
}

#[derive(Debug, Args)]
struct RenderArgs {
    /// YAML file with one or more Stores; `-` reads stdin.
    #[arg(short = 'f', long = "filename")]
    file: String,
    /// Namespace of Stores that name none.
    #[arg(short = 'n', long, default_value = "default")]
    namespace: String,
    #[command(flatten)]
    config: ConfigArgs,
}

fn main() -> std::process::ExitCode {
    // Our errors name what failed and why in one line; print just that.
    match dispatch(Cli::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn dispatch(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Run(args) => run_controller(args.config.into_config(), args.process),
        Command::Render(args) => {
            let text = operator::render::read_input(&args.file)?;
            let config = args.config.into_config();
            print!(
                "{}",
                operator::render::render(&text, &args.file, &config, &args.namespace)?
            );
            Ok(())
        }
    }
}

/// Reconciles Stores until SIGTERM: HTTP endpoints first, then the Lease,
/// then the controller; on shutdown the Lease is released for a standby.
fn run_controller(config: OperatorConfig, args: ProcessArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run(config, args))
}

/// The controller's life, one named step after the other.
async fn run(config: OperatorConfig, args: ProcessArgs) -> anyhow::Result<()> {
    let provider = init_telemetry(&args)?;
    let client = connect(args.kubeconfig.as_deref()).await?;
    let scopes = scopes(&args);
    let controllers = store_controllers(&client, &scopes, &args).await?;
    let metrics = Arc::new(Metrics::new(
        controllers.iter().map(Controller::store).collect(),
    ));
    serve_objectives_once_synced(&controllers, metrics.clone());
    let ready = Arc::new(AtomicBool::new(false));
    let http = tokio::spawn(serve_http(args.listen, metrics.clone(), ready.clone()));
    let stop_rx = stop_on_signal(ready.clone());

    let leases: Api<Lease> = Api::namespaced(client.clone(), &args.lease_namespace);
    let timing = leader::Timing::default();
    ready.store(true, Ordering::Relaxed);
    if !wait_to_lead(&leases, &args, timing, stop_rx.clone()).await {
        return Ok(());
    }
    let (renew, lost_rx) = keep_lease(&leases, &args, timing);

    let fleet = tokio::spawn(operator::reconcile::fleet::keep_fleet(
        client.clone(),
        config.clone(),
    ));
    retire_store_rules(&client, &scopes);
    // One discovery poller for the reconciles, the drift watches and the
    // controllers' "reconcile every Store" when the CRDs come or go.
    let monitoring =
        operator::discovery::MonitoringCrds::start(client.clone(), operator::discovery::POLL).await;
    let reporter = Reporter {
        controller: "storeops".into(),
        instance: Some(args.identity.clone()),
    };
    let ctx = Arc::new(Context::new(
        client.clone(),
        config,
        Recorder::new(client.clone(), reporter),
        metrics,
        monitoring.clone(),
    ));
    let stopped = Stop {
        stop: stop_rx,
        lost: lost_rx.clone(),
    };
    reconcile_until_stopped(controllers, &scopes, &client, ctx, monitoring, stopped).await;

    renew.abort();
    fleet.abort();
    let lost = *lost_rx.borrow();
    if !lost && let Err(error) = leader::release(&leases, &args.lease_name, &args.identity).await {
        tracing::warn!(%error, "could not release the Lease");
    }
    http.abort();
    let _ = tokio::task::spawn_blocking(move || provider.shutdown()).await;
    tracing::info!("stopped");
    if lost {
        anyhow::bail!("lost leadership");
    }
    Ok(())
}

/// Logs (JSON lines at `--log-level`) and, with an endpoint, traces.
fn init_telemetry(
    args: &ProcessArgs,
) -> anyhow::Result<opentelemetry_sdk::trace::SdkTracerProvider> {
    let level = args.log_level.parse().map_err(|_| {
        anyhow::anyhow!(
            "--log-level {:?}: use error, warn, info, debug or trace",
            args.log_level
        )
    })?;
    Ok(telemetry::init(
        level,
        args.otel_endpoint.as_deref(),
        &args.identity,
    )?)
}

/// One scope per watched namespace, or one (`None`) for all: each
/// controller watches only its namespace, so a namespaced grant of the RBAC
/// is enough.
fn scopes(args: &ProcessArgs) -> Vec<Option<String>> {
    if args.namespaces.is_empty() {
        vec![None]
    } else {
        args.namespaces
            .iter()
            .map(|n| Some(n.trim().to_string()))
            .collect()
    }
}

/// A Store controller per scope, after a list that fails early with a clear
/// line if the CRD is missing or RBAC forbids it.
async fn store_controllers(
    client: &kube::Client,
    scopes: &[Option<String>],
    args: &ProcessArgs,
) -> anyhow::Result<Vec<Controller<Store>>> {
    let mut controllers = Vec::new();
    for scope in scopes {
        let stores: Api<Store> = scoped_api(client, scope.as_deref());
        stores
            .list(&kube::api::ListParams::default().limit(1))
            .await
            .map_err(|e| anyhow::anyhow!("cannot list Stores in {} (is crds/storeops.dev_stores.yaml applied, and RBAC granted?): {e}",
                scope.as_deref().unwrap_or("any namespace")))?;
        // Debounced: the burst of status updates a new Deployment goes
        // through (created, progressing, available) makes one reconcile, not five.
        controllers.push(
            Controller::new(stores, watcher::Config::default().any_semantic())
                .with_config(
                    kube::runtime::controller::Config::default()
                        .debounce(RECONCILE_DEBOUNCE)
                        .concurrency(args.max_concurrent_reconciles),
                )
                // Short: the watches recover together within seconds of an API server restart.
                .trigger_backoff(operator::backoff::WatchBackoff::default()),
        );
    }
    Ok(controllers)
}

/// Deletes, in the background, the per-Store PrometheusRules earlier
/// versions applied (the fleet's rules read the objectives from `/metrics`).
fn retire_store_rules(client: &kube::Client, scopes: &[Option<String>]) {
    let (client, scopes) = (client.clone(), scopes.to_vec());
    tokio::spawn(async move {
        match operator::reconcile::fleet::retire_store_rules(&client, &scopes).await {
            Ok(deleted) if !deleted.is_empty() => {
                tracing::info!(
                    ?deleted,
                    "deleted the per-Store PrometheusRules of an earlier version"
                )
            }
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(%error, "could not delete the per-Store PrometheusRules of an earlier version")
            }
        }
    });
}

/// Serves the Stores' objectives at `/metrics` once every watch cache is
/// synced, which happens only when this replica leads and runs the
/// controllers: a follower serves none.
fn serve_objectives_once_synced(controllers: &[Controller<Store>], metrics: Arc<Metrics>) {
    let stores: Vec<_> = controllers.iter().map(Controller::store).collect();
    tokio::spawn(async move {
        for store in stores {
            // kube's readiness wakes one waiter only, and the controller
            // waits on it too: look again every second.
            loop {
                let ready = tokio::time::timeout(
                    std::time::Duration::from_secs(1),
                    store.wait_until_ready(),
                );
                match ready.await {
                    Ok(Ok(())) => break,
                    Ok(Err(_)) => return,
                    Err(_) => continue,
                }
            }
        }
        metrics.caches_synced();
        tracing::info!("the watch caches are synced: serving the Stores' objectives");
    });
}

/// On SIGTERM or Ctrl-C: out of the Service's endpoints first (readiness
/// false), then the returned channel turns true and everything drains.
fn stop_on_signal(ready: Arc<AtomicBool>) -> tokio::sync::watch::Receiver<bool> {
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        ready.store(false, Ordering::Relaxed);
        let _ = stop_tx.send(true);
    });
    stop_rx
}

/// Waits for the Lease; `false` when told to stop first.
async fn wait_to_lead(
    leases: &Api<Lease>,
    args: &ProcessArgs,
    timing: leader::Timing,
    mut stopping: tokio::sync::watch::Receiver<bool>,
) -> bool {
    tracing::info!(identity = %args.identity, lease = %args.lease_name, "waiting to lead");
    loop {
        if leader::try_acquire(leases, &args.lease_name, &args.identity, timing)
            .await
            .unwrap_or(false)
        {
            tracing::info!(identity = %args.identity, "leading: reconciling Stores");
            return true;
        }
        tokio::select! {
            _ = tokio::time::sleep(timing.renew) => {}
            _ = stopping.wait_for(|s| *s) => return false,
        }
    }
}

/// Renews the Lease in the background; losing it turns the returned channel
/// true, which stops this process so a standby can lead.
fn keep_lease(
    leases: &Api<Lease>,
    args: &ProcessArgs,
    timing: leader::Timing,
) -> (
    tokio::task::JoinHandle<()>,
    tokio::sync::watch::Receiver<bool>,
) {
    let (lost_tx, lost_rx) = tokio::sync::watch::channel(false);
    let (leases, name, me) = (
        leases.clone(),
        args.lease_name.clone(),
        args.identity.clone(),
    );
    let renew = tokio::spawn(async move {
        leader::keep(&leases, &name, &me, timing).await;
        tracing::error!("lost the Lease: stopping");
        let _ = lost_tx.send(true);
    });
    (renew, lost_rx)
}

/// What ends the reconciles: a signal, or the Lease lost.
struct Stop {
    stop: tokio::sync::watch::Receiver<bool>,
    lost: tokio::sync::watch::Receiver<bool>,
}

/// Runs every controller with its watches until [`Stop`]: the managed
/// kinds that are always served trigger their Store (metadata only, and only
/// the objects the operator manages: less memory, and other tenants'
/// Secrets never enter the cache); the monitoring objects' drift is watched
/// apart (`operator::drift`), since their CRDs may come and go.
async fn reconcile_until_stopped(
    controllers: Vec<Controller<Store>>,
    scopes: &[Option<String>],
    client: &kube::Client,
    ctx: Arc<Context>,
    monitoring: operator::discovery::MonitoringCrds,
    stopped: Stop,
) {
    use operator::reconcile::kinds;
    let managed_selector = format!("app.kubernetes.io/managed-by={}", identity::PART_OF);
    let managed = || watcher::Config::default().labels(&managed_selector);
    let runs = controllers
        .into_iter()
        .zip(scopes)
        .map(|(controller, scope)| {
            let (mut stop, mut lost) = (stopped.stop.clone(), stopped.lost.clone());
            let controller = kinds::ALL
                .into_iter()
                .filter(|k| k.owned_by_controller())
                .fold(controller, |controller, kind| {
                    let resource = kinds::api_resource(kind);
                    let api = operator::drift::scoped_dynamic(client, scope.as_deref(), &resource);
                    controller.owns_with(api, resource, managed())
                });
            let controller = controller.reconcile_on(operator::drift::monitoring_drift(
                client.clone(),
                monitoring.clone(),
                scope.clone(),
                managed_selector.clone(),
            ));
            controller
                .reconcile_all_on(monitoring.changes())
                .graceful_shutdown_on(async move {
                    tokio::select! {
                        _ = stop.wait_for(|s| *s) => {}
                        _ = lost.wait_for(|l| *l) => {}
                    }
                })
                .run(reconcile, error_policy, ctx.clone())
                .boxed()
        });
    futures::stream::select_all(runs)
        .for_each(|result| async move {
            if let Err(error) = result {
                tracing::debug!(%error, "reconcile stream");
            }
        })
        .await;
}

/// A client from `--kubeconfig`, or kube's defaults when it is unset.
async fn connect(kubeconfig: Option<&std::path::Path>) -> anyhow::Result<kube::Client> {
    let config = match kubeconfig {
        Some(path) => {
            let file = kube::config::Kubeconfig::read_from(path)
                .map_err(|e| anyhow::anyhow!("--kubeconfig {}: {e}", path.display()))?;
            kube::Config::from_custom_kubeconfig(file, &Default::default())
                .await
                .map_err(|e| anyhow::anyhow!("--kubeconfig {}: {e}", path.display()))?
        }
        None => kube::Config::infer().await.map_err(|e| {
            anyhow::anyhow!("cannot find the cluster (kubeconfig or in-cluster config): {e}")
        })?,
    };
    Ok(kube::Client::try_from(config)?)
}

/// The admin endpoints on axum (already a dependency). Not kubert's
/// `admin` server: kubert 0.25.0 (Apache-2.0, the latest, read 2026-12-06)
/// is built on kube 1.1 and k8s-openapi 0.25: a second kube and
/// k8s-openapi beside ours (5.0, 0.29), whose types are not ours, for three
/// routes.
async fn serve_http(
    listen: std::net::SocketAddr,
    metrics: Arc<Metrics>,
    ready: Arc<AtomicBool>,
) -> anyhow::Result<()> {
    use axum::routing::get;
    let app = axum::Router::new()
        .route(
            "/metrics",
            get(move || async move {
                (
                    [(
                        "content-type",
                        "application/openmetrics-text; version=1.0.0; charset=utf-8",
                    )],
                    metrics.encode(),
                )
            }),
        )
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/readyz",
            get(move || async move {
                if ready.load(Ordering::Relaxed) {
                    (axum::http::StatusCode::OK, "ready")
                } else {
                    (axum::http::StatusCode::SERVICE_UNAVAILABLE, "starting")
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind(listen).await?;
    axum::serve(listener, app).await?;
    Ok(())
}

async fn shutdown_signal() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}
