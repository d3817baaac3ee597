//! The reconciler of a Store:
//!
//! ```text
//! dereference -> resolve -> build -> apply -> status
//! ```
//!
//! - [`dereference`]: read what the Store points at (the admin token already
//!   issued, a referenced catalog ConfigMap, the database Secret, whether the
//!   monitoring CRDs exist). Touches the API.
//! - [`resolve`]: check the Store once (metadata, every admission rule) and
//!   resolve it into a [`resolve::ResolvedStore`] (defaults applied,
//!   cross-field rules decided, names and labels computed), the build's only
//!   input. Pure.
//! - [`build`]: turn the resolved Store, the operator's configuration and
//!   what was dereferenced into every object the Store wants. Pure.
//! - [`apply`]: server-side apply each object with one field manager, then
//!   delete the objects with the Store's labels that were not applied.
//! - [`status`]: conditions and counts (pure), written only when they change;
//!   while the rollout is incomplete the Store's pods are listed too, and
//!   [`pods`] (pure) says why they do not start.
//! - [`fleet`]: the fleet dashboards, once per operator, beside the Stores.

pub mod apply;
pub mod build;
pub mod dereference;
pub mod fleet;
pub mod identity;
pub mod kinds;
pub mod limits;
pub mod pods;
pub mod resolve;
pub mod status;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, DynamicObject, ListParams, Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::runtime::events::{Event, EventType, Recorder};
use kube::{Client, Resource, ResourceExt};
use opentelemetry::trace::TraceContextExt;
use serde_json::json;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::api::{Store, StoreStatus};
use crate::config::OperatorConfig;
use crate::discovery::MonitoringCrds;
use crate::metrics::Metrics;
use status::{Monitoring, Observed, Problem, Reason, Rollout};

/// Everything a reconcile needs besides the Store.
pub struct Context {
    /// The Kubernetes client every step uses.
    pub client: Client,
    /// The operator's own settings.
    pub config: OperatorConfig,
    /// Publishes the Store's events.
    pub recorder: Recorder,
    /// The operator's metrics, shared with the `/metrics` server.
    pub metrics: Arc<Metrics>,
    /// Whether the monitoring CRDs are served (one poller per process).
    pub monitoring: MonitoringCrds,
    /// Consecutive failures per Store, for the error backoff.
    failures: Mutex<HashMap<String, u32>>,
}

impl Context {
    /// A context with no failures counted yet.
    pub fn new(
        client: Client,
        config: OperatorConfig,
        recorder: Recorder,
        metrics: Arc<Metrics>,
        monitoring: MonitoringCrds,
    ) -> Self {
        Context {
            client,
            config,
            recorder,
            metrics,
            monitoring,
            failures: Mutex::default(),
        }
    }

    fn failures(&self) -> std::sync::MutexGuard<'_, HashMap<String, u32>> {
        self.failures.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A reconcile that could not finish; the variant names the step.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The Store is not namespaced, so its objects have nowhere to go.
    #[error("Store has no namespace")]
    NoNamespace,
    /// Reading what the Store points at failed.
    #[error("reading {what}: {source}")]
    Dereference {
        /// The object or API group being read.
        what: String,
        /// Why.
        source: kube::Error,
    },
    /// The build step refused the Store.
    #[error(transparent)]
    Build(#[from] build::Error),
    /// A built object did not serialize with its apiVersion and kind.
    #[error("{kind} has no apiVersion/kind")]
    NoType {
        /// The object's kind.
        kind: &'static str,
    },
    /// Server-side apply of an object failed.
    #[error("applying {kind} {name}: {source}")]
    Apply {
        /// The object's kind.
        kind: &'static str,
        /// The object's name.
        name: String,
        /// Why.
        source: kube::Error,
    },
    /// Listing or deleting an orphaned object failed.
    #[error("deleting orphaned {kind} {name}: {source}")]
    DeleteOrphan {
        /// The object's kind.
        kind: &'static str,
        /// The object's name; empty when listing the kind failed.
        name: String,
        /// Why.
        source: kube::Error,
    },
    /// Patching the Store's status failed.
    #[error("writing the status: {0}")]
    Status(kube::Error),
    /// The process's discovery of monitoring.coreos.com has not answered
    /// yet (the API server refused or timed out): whether to make
    /// ServiceMonitors is unknown, so nothing is applied or swept.
    #[error(
        "whether {} is served is not known yet (discovery has not answered)",
        crate::discovery::MONITORING_API
    )]
    MonitoringUnknown,
}

impl Error {
    /// The namespace is being deleted: the API server refuses new objects and
    /// the garbage collector takes the old ones. Nothing to do, nothing to retry.
    pub fn namespace_terminating(&self) -> bool {
        let source = match self {
            Error::Apply { source, .. }
            | Error::DeleteOrphan { source, .. }
            | Error::Dereference { source, .. }
            | Error::Status(source) => source,
            _ => return false,
        };
        matches!(source, kube::Error::Api(s) if s.details.as_ref().is_some_and(|d| {
            d.causes.iter().any(|c| c.reason == "NamespaceTerminating")
        }))
    }

    /// A bounded label for `storeops_reconcile_errors_total{reason}`.
    pub fn metric_label(&self) -> &'static str {
        match self {
            Error::NoNamespace => "no_namespace",
            Error::Dereference { .. } => "dereference",
            Error::Build(e) => e.metric_label(),
            Error::NoType { .. } => "no_type",
            Error::Apply { .. } => "apply",
            Error::DeleteOrphan { .. } => "delete_orphan",
            Error::Status(_) => "status",
            Error::MonitoringUnknown => "monitoring_unknown",
        }
    }
}

/// The root span of one reconcile; its trace id goes to the logs and to the
/// duration histogram's exemplar.
pub async fn reconcile(store: Arc<Store>, ctx: Arc<Context>) -> Result<Action, Error> {
    let span = tracing::info_span!(
        "reconcile",
        otel.name = "reconcile Store",
        store.namespace = store.namespace().unwrap_or_default(),
        store.name = store.name_any(),
    );
    // The log lines inside take it from the span's context (storeops-logs).
    let trace_id = span.context().span().span_context().trace_id();
    let started = Instant::now();
    let result = match reconcile_store(&store, &ctx).instrument(span.clone()).await {
        Err(e) if e.namespace_terminating() => {
            tracing::debug!(store = %key(&store), "namespace terminating: nothing to do");
            Ok(Action::await_change())
        }
        other => other,
    };
    let exemplar =
        (trace_id != opentelemetry::trace::TraceId::INVALID).then(|| trace_id.to_string());
    ctx.metrics
        .reconciled(started.elapsed(), result.is_ok(), exemplar);
    match &result {
        Ok(_) => drop(ctx.failures().remove(&key(&store))),
        // In the span, so the line carries the reconcile's trace id.
        Err(error) => {
            span.in_scope(|| tracing::warn!(store = %key(&store), %error, "reconcile failed"))
        }
    }
    result
}

fn key(store: &Store) -> String {
    format!(
        "{}/{}",
        store.namespace().unwrap_or_default(),
        store.name_any()
    )
}

async fn reconcile_store(store: &Store, ctx: &Context) -> Result<Action, Error> {
    let namespace = store.namespace().ok_or(Error::NoNamespace)?;
    // Going away: its children go with it by garbage collection.
    if store.meta().deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let now = Time(Timestamp::now());
    if store.spec.paused {
        let status = status::paused_status(store.status.as_ref(), store.meta().generation, &now);
        write_status(ctx, store, &namespace, status).await?;
        return Ok(Action::await_change());
    }
    let mut found = dereference::dereference(&ctx.client, store, &namespace).await?;
    found.monitoring_crds = ctx.monitoring.installed().ok_or(Error::MonitoringUnknown)?;
    let built = resolve::resolve(store, &ctx.config)
        .and_then(|resolved| build::build(&resolved, &ctx.config, &found.dereferenced));
    let mut desired = match built {
        Ok(desired) => desired,
        // Admission should have refused it (or the operator generated rules
        // Prometheus would not load); retrying cannot help until the spec or
        // the operator changes.
        Err(e) => {
            let problem = Problem {
                reason: e.reason(),
                message: e.to_string(),
            };
            publish(
                ctx,
                store,
                EventType::Warning,
                problem.reason.as_str(),
                &problem.message,
            )
            .await;
            let observed = observed(store, vec![problem], None, None, Monitoring::NotApplied);
            let status = status::next_status(store.status.as_ref(), &observed, &now);
            write_status(ctx, store, &namespace, status).await?;
            return Ok(Action::await_change());
        }
    };
    let wants_monitoring = desired.objects.iter().any(build::Desired::is_monitoring);
    let monitoring = if !wants_monitoring {
        Monitoring::Disabled
    } else if !found.monitoring_crds {
        desired
            .objects
            .retain(|o| !build::Desired::is_monitoring(o));
        Monitoring::CrdsMissing
    } else {
        Monitoring::Applied
    };

    let failures = Failures {
        ctx,
        store,
        namespace: &namespace,
        now: &now,
    };
    // A referenced catalog the service would refuse: a new pod template would
    // crash-loop on it, so the Deployment stays as it is (the condition says
    // why); the sweep below still counts it as wanted.
    let to_apply = if found.holds_deployment() {
        std::borrow::Cow::Owned(desired.without(&kinds::DEPLOYMENT))
    } else {
        std::borrow::Cow::Borrowed(&desired)
    };
    let applied = apply::apply(
        &ctx.client,
        &namespace,
        &to_apply,
        &ctx.config.field_manager,
    )
    .await;
    let applied = failures
        .report(
            Reason::ApplyFailed,
            monitoring.after_failed_apply(),
            applied,
        )
        .await?;
    let selector = format!(
        "app.kubernetes.io/instance={},app.kubernetes.io/managed-by={}",
        store.name_any(),
        identity::PART_OF
    );
    // Orphans come only from a spec change (a kind turned off, replicas back
    // to one), so the sweep's lists run when a generation is first seen, not
    // on every event of a child or every resync.
    let deleted = if unobserved_generation(store) {
        apply::delete_orphans(
            &ctx.client,
            &namespace,
            &selector,
            &desired,
            found.monitoring_crds,
        )
        .await
    } else {
        Ok(Vec::new())
    };
    let deleted = failures
        .report(Reason::DeleteFailed, monitoring, deleted)
        .await?;

    if applied.changed.is_empty() && deleted.is_empty() {
        tracing::debug!("converged: nothing to change");
    } else {
        tracing::info!(changed = ?applied.changed, deleted = ?deleted, "applied the Store's objects");
    }
    let deployment = applied.get(&kinds::DEPLOYMENT);
    let rollout = deployment.map(rollout_of);
    // A ready Store's pods are not listed: only while the rollout is incomplete.
    let pods = match deployment {
        Some(d) if rollout.is_some_and(|r| !r.complete()) => {
            pods_not_starting(&ctx.client, &namespace, d).await
        }
        _ => None,
    };
    let observed = observed(store, found.problems, rollout, pods, monitoring);
    let next = status::next_status(store.status.as_ref(), &observed, &now);
    announce(ctx, store, &observed, &deleted).await;
    write_status(ctx, store, &namespace, next).await?;

    Ok(Action::requeue(requeue_after(&observed)))
}

/// When to look again without a watch event. A problem (a pod that cannot
/// start included): 30 s. A rollout under way: 15 s, since a pod that starts
/// and then crash-loops, or waits for an image, changes nothing in the
/// Deployment's status, so no event would tell. Otherwise a 5-minute resync.
fn requeue_after(observed: &Observed) -> Duration {
    if !observed.degrading().is_empty() {
        Duration::from_secs(30)
    } else if observed.monitoring == Monitoring::CrdsMissing {
        Duration::from_secs(60)
    } else if observed.rollout.is_some_and(|r| !r.complete()) {
        Duration::from_secs(15)
    } else {
        Duration::from_secs(300)
    }
}

/// Why the pods of the Deployment do not start ([`pods::not_starting`]),
/// from one list by the Deployment's selector, served from the API server's
/// cache. A failed list is logged and leaves the status to the Deployment's
/// counts: the pods only explain, the reconcile does not depend on them.
async fn pods_not_starting(
    client: &Client,
    namespace: &str,
    deployment: &DynamicObject,
) -> Option<Problem> {
    let selector = pod_selector(deployment)?;
    let api: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let params = ListParams::default().labels(&selector).match_any();
    match api.list(&params).await {
        Ok(list) => pods::not_starting(&list.items),
        Err(error) => {
            tracing::warn!(%error, %selector, "could not list the store's pods");
            None
        }
    }
}

/// The Deployment's `spec.selector.matchLabels` as a label selector
/// (`k=v,...`); `None` when it has none, never a selector of every pod.
fn pod_selector(deployment: &DynamicObject) -> Option<String> {
    let labels = deployment.data["spec"]["selector"]["matchLabels"].as_object()?;
    let pairs = labels
        .iter()
        .map(|(k, v)| Some(format!("{k}={}", v.as_str()?)))
        .collect::<Option<Vec<_>>>()?;
    (!pairs.is_empty()).then(|| pairs.join(","))
}

/// Whether the Store's current generation has not been reconciled to the end yet.
fn unobserved_generation(store: &Store) -> bool {
    store.status.as_ref().and_then(|s| s.observed_generation) != store.meta().generation
}

fn observed(
    store: &Store,
    problems: Vec<Problem>,
    rollout: Option<Rollout>,
    pods: Option<Problem>,
    monitoring: Monitoring,
) -> Observed {
    Observed {
        store_id: store.store_id().to_string(),
        generation: store.meta().generation,
        problems,
        rollout,
        pods,
        monitoring,
        service_url: Some(build::service::service_url(&identity::Identity::of(store))),
        dashboard_uids: dashboard_uids(store),
    }
}

/// Uids of the Store's dashboards, for its status (the uid alone: the whole
/// dashboard is not built for it).
fn dashboard_uids(store: &Store) -> Vec<String> {
    if store.spec.monitoring.dashboards.enabled {
        let namespace = store.namespace().unwrap_or_default();
        vec![crate::monitoring::dashboards::store::uid(
            &namespace,
            &store.name_any(),
        )]
    } else {
        vec![]
    }
}

/// The rollout of an applied Deployment, from the status the API returned.
fn rollout_of(deployment: &DynamicObject) -> Rollout {
    let int = |v: &serde_json::Value| v.as_i64().unwrap_or(0) as i32;
    let (spec, status) = (&deployment.data["spec"], &deployment.data["status"]);
    Rollout {
        desired: spec["replicas"].as_i64().map_or(1, |r| r as i32),
        replicas: int(&status["replicas"]),
        updated: int(&status["updatedReplicas"]),
        ready: int(&status["readyReplicas"]),
        observed: status["observedGeneration"].as_i64() >= deployment.metadata.generation,
    }
}

/// Events on create, on spec update, on orphan deletion and on new problems.
async fn announce(ctx: &Context, store: &Store, observed: &Observed, deleted: &[String]) {
    let previous = store.status.as_ref();
    match previous.and_then(|s| s.observed_generation) {
        None => {
            publish(
                ctx,
                store,
                EventType::Normal,
                "Created",
                "created the store's objects",
            )
            .await
        }
        Some(g) if Some(g) != observed.generation => {
            publish(
                ctx,
                store,
                EventType::Normal,
                "Updated",
                "applied the new spec",
            )
            .await
        }
        _ => {}
    }
    if !deleted.is_empty() {
        publish(
            ctx,
            store,
            EventType::Normal,
            "Deleted",
            &format!("deleted {}", deleted.join(", ")),
        )
        .await;
    }
    let was_degraded_by = |reason: Reason| {
        previous.is_some_and(|s| {
            s.conditions.iter().any(|c| {
                c.type_ == crate::api::condition_types::DEGRADED && c.reason == reason.as_str()
            })
        })
    };
    for p in &observed.problems {
        if !was_degraded_by(p.reason) {
            publish(
                ctx,
                store,
                EventType::Warning,
                p.reason.as_str(),
                &p.message,
            )
            .await;
        }
    }
    // Pods that cannot start are told when they become the reason the Store
    // is degraded: behind another problem they are most likely its
    // consequence, and that one was told.
    if let Some(p) = &observed.pods
        && observed.problems.is_empty()
        && !was_degraded_by(p.reason)
    {
        publish(
            ctx,
            store,
            EventType::Warning,
            p.reason.as_str(),
            &p.message,
        )
        .await;
    }
}

async fn publish(ctx: &Context, store: &Store, type_: EventType, reason: &str, note: &str) {
    let event = Event {
        type_,
        reason: reason.to_string(),
        note: Some(limits::fit(note, limits::EVENT_NOTE_MAX_BYTES).into_owned()),
        action: "Reconcile".to_string(),
        secondary: None,
    };
    if let Err(error) = ctx.recorder.publish(&event, &store.object_ref(&())).await {
        tracing::warn!(%error, reason, "could not publish an event");
    }
}

/// Where a failed write is reported.
struct Failures<'a> {
    ctx: &'a Context,
    store: &'a Store,
    namespace: &'a str,
    now: &'a Time,
}

impl Failures<'_> {
    /// A failed write shows in the status too (Ready=False, Degraded=True
    /// with `reason` and the API server's answer), not only in an event:
    /// `kubectl get stores` tells. `monitoring` is what is known of the
    /// monitoring objects after the failure. The error still goes on to the
    /// error policy's backoff.
    async fn report<T>(
        &self,
        reason: Reason,
        monitoring: Monitoring,
        result: Result<T, Error>,
    ) -> Result<T, Error> {
        let Err(error) = &result else { return result };
        let problem = Problem {
            reason,
            message: error.to_string(),
        };
        let observed = observed(self.store, vec![problem], None, None, monitoring);
        let status = status::next_status(self.store.status.as_ref(), &observed, self.now);
        if let Err(e) = write_status(self.ctx, self.store, self.namespace, status).await {
            tracing::warn!(error = %e, "could not report the failure in the status");
        }
        result
    }
}

/// Writes the status only when it changed: no write, no watch event, no loop.
async fn write_status(
    ctx: &Context,
    store: &Store,
    namespace: &str,
    status: StoreStatus,
) -> Result<(), Error> {
    if store.status.as_ref() == Some(&status) {
        return Ok(());
    }
    let api: Api<Store> = Api::namespaced(ctx.client.clone(), namespace);
    api.patch_status(
        &store.name_any(),
        &PatchParams::default(),
        &Patch::Merge(json!({ "status": status })),
    )
    .await
    .map_err(Error::Status)?;
    Ok(())
}

/// Failed reconciles retry with exponential backoff per Store (5 s doubling
/// to 5 min), so a broken Store never spins.
pub fn error_policy(store: Arc<Store>, error: &Error, ctx: Arc<Context>) -> Action {
    ctx.metrics.failed(error.metric_label());
    let failures = {
        let mut map = ctx.failures();
        let n = map.entry(key(&store)).or_insert(0);
        *n = n.saturating_add(1);
        *n
    };
    let delay = backoff(failures);
    tracing::debug!(store = %key(&store), retry_in_s = delay.as_secs(), "reconcile retry scheduled");
    let message = error.to_string();
    tokio::spawn(async move {
        publish(
            &ctx,
            &store,
            EventType::Warning,
            "ReconcileFailed",
            &message,
        )
        .await;
    });
    Action::requeue(delay)
}

/// 5 s, 10 s, 20 s, ... at most 300 s.
pub fn backoff(failures: u32) -> Duration {
    Duration::from_secs((5u64 << failures.saturating_sub(1).min(6)).min(300))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_five_minutes() {
        let secs: Vec<u64> = (1..=9).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(secs, [5, 10, 20, 40, 80, 160, 300, 300, 300]);
    }

    #[test]
    fn rollout_reads_the_deployment_status() {
        let d: DynamicObject = serde_json::from_value(json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "store-alpha", "generation": 2},
            "spec": {"replicas": 2},
            "status": {"observedGeneration": 2, "replicas": 2, "updatedReplicas": 2, "readyReplicas": 1}
        }))
        .unwrap();
        assert_eq!(
            rollout_of(&d),
            Rollout {
                desired: 2,
                replicas: 2,
                updated: 2,
                ready: 1,
                observed: true
            }
        );
    }

    #[test]
    fn pods_are_selected_by_the_deployment_selector() {
        let d: DynamicObject = serde_json::from_value(json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "store-alpha"},
            "spec": {"selector": {"matchLabels": {
                "app.kubernetes.io/instance": "alpha", "app.kubernetes.io/name": "store-service"}}}
        }))
        .unwrap();
        assert_eq!(
            pod_selector(&d).as_deref(),
            Some("app.kubernetes.io/instance=alpha,app.kubernetes.io/name=store-service")
        );
        let mut empty = d.clone();
        empty.data["spec"]["selector"] = json!({"matchLabels": {}});
        assert_eq!(
            pod_selector(&empty),
            None,
            "never every pod of the namespace"
        );
        empty.data["spec"] = json!({});
        assert_eq!(pod_selector(&empty), None);
    }

    #[test]
    fn an_incomplete_rollout_is_looked_at_again_soon_and_a_problem_a_little_later() {
        let store = Store::test();
        let rollout = |ready, updated| Rollout {
            desired: 2,
            replicas: 2,
            updated,
            ready,
            observed: true,
        };
        let at = |rollout, pods| {
            let o = observed(&store, vec![], Some(rollout), pods, Monitoring::Applied);
            requeue_after(&o).as_secs()
        };
        assert_eq!(at(rollout(2, 2), None), 300);
        assert_eq!(at(rollout(1, 2), None), 15);
        // Old pods ready, a new one not: still rolling out.
        assert_eq!(at(rollout(2, 1), None), 15);
        let crash = Problem {
            reason: pods::REASON,
            message: "pod x: container y: CrashLoopBackOff".into(),
        };
        assert_eq!(at(rollout(1, 2), Some(crash)), 30);
    }

    #[test]
    fn a_refusal_because_the_namespace_terminates_is_recognised() {
        let status: kube::core::Status = serde_json::from_value(json!({
            "code": 403, "message": "namespace shop is being terminated", "reason": "Forbidden",
            "details": {"causes": [{"reason": "NamespaceTerminating", "field": "metadata.namespace"}]}
        }))
        .unwrap();
        let apply = |source| Error::Apply {
            kind: "Secret",
            name: "s".into(),
            source,
        };
        assert!(apply(kube::Error::Api(Box::new(status.clone()))).namespace_terminating());
        let mut other = status;
        other.details = None;
        assert!(!apply(kube::Error::Api(Box::new(other))).namespace_terminating());
    }

    #[test]
    fn errors_map_to_bounded_labels() {
        let e = Error::Apply {
            kind: "Deployment",
            name: "x".into(),
            source: kube::Error::LinesCodecMaxLineLengthExceeded,
        };
        assert_eq!(e.metric_label(), "apply");
        assert!(e.to_string().starts_with("applying Deployment x"));
    }
}
