//! The operator against a real control plane (testenv: etcd, kube-apiserver,
//! controller-manager, scheduler, kwok), run as its own binary with only the
//! RBAC of its Helm chart. What the e2e crate cannot do because it needs the
//! cluster to itself: monitoring CRDs installed late, a restart that must not
//! write (read from the API server's audit log), leader failover.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Namespace;
use kube::Client;
use kube::api::{
    Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams,
};
use operator::discovery;
use operator::reconcile::kinds;
use serde_json::{Value, json};
use testenv::collector::Collector;
use testenv::operator::{NAMESPACE, Operator, USER};
use testenv::{ControlPlane, audit, manifests, programs};

const CONVERGE: Duration = Duration::from_secs(60);

/// A control plane with the CRD and the chart's RBAC installed.
struct Cluster {
    plane: ControlPlane,
    client: Client,
    operator_kubeconfig: PathBuf,
}

impl Cluster {
    async fn start() -> Cluster {
        let plane = ControlPlane::start().unwrap_or_else(|e| panic!("{e}"));
        let client = plane.client().await.unwrap();
        let operator_kubeconfig = testenv::operator::install(&plane, &client)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        Cluster {
            plane,
            client,
            operator_kubeconfig,
        }
    }

    fn operator(&self, identity: &str) -> Operator {
        self.operator_with(identity, &[])
    }

    fn operator_with(&self, identity: &str, args: &[&str]) -> Operator {
        Operator::start(
            std::path::Path::new(env!("CARGO_BIN_EXE_operator")),
            &self.operator_kubeconfig,
            self.plane.dir(),
            identity,
            args,
        )
        .unwrap()
    }

    async fn namespace(&self, name: &str) {
        let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": name,
            "labels": {"pod-security.kubernetes.io/enforce": "restricted"}}}))
        .unwrap();
        Api::<Namespace>::all(self.client.clone())
            .create(&PostParams::default(), &ns)
            .await
            .unwrap();
    }

    fn stores(&self, namespace: &str) -> Api<DynamicObject> {
        let gvk = GroupVersionKind::gvk("storeops.dev", "v1alpha1", "Store");
        Api::namespaced_with(
            self.client.clone(),
            namespace,
            &ApiResource::from_gvk_with_plural(&gvk, "stores"),
        )
    }

    async fn apply_store(&self, namespace: &str, name: &str, spec: Value) {
        let store = json!({"apiVersion": "storeops.dev/v1alpha1", "kind": "Store",
            "metadata": {"name": name}, "spec": spec});
        self.stores(namespace)
            .patch(
                name,
                &PatchParams::apply("test").force(),
                &Patch::Apply(&store),
            )
            .await
            .unwrap();
    }

    /// The prometheus-operator's ServiceMonitor and PrometheusRule CRDs.
    async fn install_monitoring_crds(&self) {
        self.install_monitoring_crd("servicemonitors").await;
        self.install_monitoring_crd("prometheusrules").await;
    }

    /// One prometheus-operator CRD, by its plural (`servicemonitors`), until
    /// it is established.
    async fn install_monitoring_crd(&self, plural: &str) {
        let dir = programs::MONITORING_CRDS
            .path()
            .unwrap_or_else(|e| panic!("{e}"));
        let file = dir.join(format!("monitoring.coreos.com_{plural}.yaml"));
        let text =
            std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        manifests::apply(&self.client, &text, "test").await.unwrap();
        testenv::operator::wait_established(
            &self.client,
            &format!("{plural}.monitoring.coreos.com"),
        )
        .await
        .unwrap();
    }

    /// Waits until `check` holds for the Store's conditions.
    async fn wait_condition(
        &self,
        namespace: &str,
        name: &str,
        type_: &str,
        status: &str,
        reason: Option<&str>,
    ) {
        let stores = self.stores(namespace);
        let start = Instant::now();
        loop {
            let store = stores.get(name).await.unwrap();
            let found = store.data["status"]["conditions"]
                .as_array()
                .and_then(|c| c.iter().find(|c| c["type"] == type_).cloned());
            if let Some(c) = &found
                && c["status"] == status
                && reason.is_none_or(|r| c["reason"] == r)
            {
                return;
            }
            assert!(
                start.elapsed() < CONVERGE,
                "Store {namespace}/{name}: {type_} is not {status} {reason:?} after {} s: {found:?}",
                CONVERGE.as_secs()
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Writes by the operator's ServiceAccount recorded after `from`
    /// (an index into the audit log), leases aside.
    fn operator_writes(&self, from: usize) -> Vec<audit::Write> {
        audit::writes(&self.plane.audit_log())
            .unwrap()
            .into_iter()
            .skip(from)
            .filter(|w| w.user == USER && w.resource != "leases")
            .collect()
    }

    fn audit_len(&self) -> usize {
        audit::writes(&self.plane.audit_log()).unwrap().len()
    }

    /// The operator never met a 403: the chart's RBAC is enough.
    fn assert_never_forbidden(&self) {
        let requests = audit::requests(&self.plane.audit_log()).unwrap();
        // The policy records the operator's reads: a refused read would show.
        assert!(
            requests.iter().any(|r| r.user == USER && r.verb == "list"),
            "no read of the operator in the audit log"
        );
        let forbidden: Vec<_> = requests
            .into_iter()
            .filter(|w| w.user == USER && w.code == 403)
            .collect();
        assert!(
            forbidden.is_empty(),
            "the chart's RBAC refused the operator: {forbidden:#?}"
        );
    }
}

fn default_spec() -> Value {
    json!({"catalog": {"products": [{"name": "apple", "category": "fruit", "price": 0.5, "stock": 10}]}})
}

async fn metric(operator: &Operator, name: &str) -> f64 {
    let text = http_get(&format!("http://{}/metrics", operator.listen)).await;
    text.lines()
        .filter(|l| l.starts_with(name))
        .filter_map(|l| l.split_whitespace().nth(1))
        .filter_map(|v| v.parse::<f64>().ok())
        .sum()
}

/// A plain HTTP GET on loopback, without an HTTP client dependency.
async fn http_get(url: &str) -> String {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').unwrap();
    let mut stream = match tokio::net::TcpStream::connect(host).await {
        Ok(s) => s,
        Err(_) => return String::new(),
    };
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let request = format!("GET /{path} HTTP/1.0\r\nHost: {host}\r\n\r\n");
    if stream.write_all(request.as_bytes()).await.is_err() {
        return String::new();
    }
    let mut body = String::new();
    let _ = stream.read_to_string(&mut body).await;
    body
}

#[tokio::test]
async fn monitoring_crds_installed_later_are_picked_up_without_a_restart() {
    let cluster = Cluster::start().await;
    let mut operator = cluster.operator("operator-a");
    cluster.namespace("shop").await;
    cluster.apply_store("shop", "alpha", default_spec()).await;
    cluster
        .wait_condition("shop", "alpha", "Ready", "True", None)
        .await;
    let monitors: Api<DynamicObject> = Api::namespaced_with(
        cluster.client.clone(),
        "shop",
        &kinds::api_resource(&kinds::SERVICE_MONITOR),
    );
    // With no CRD, then with the ServiceMonitor CRD alone (half the
    // prometheus-operator's CRDs, given two polls to be seen), nothing
    // monitoring is applied (no apply that fails on every retry) and the
    // condition names the missing CRDs.
    for installed in [None, Some(kinds::SERVICE_MONITOR.plural)] {
        if let Some(plural) = installed {
            cluster.install_monitoring_crd(plural).await;
            tokio::time::sleep(discovery::POLL * 2).await;
        }
        cluster
            .wait_condition(
                "shop",
                "alpha",
                "MonitoringReady",
                "False",
                Some("MonitoringCRDsMissing"),
            )
            .await;
        // Where the kind is not served the API server answers a bare 404.
        let found = monitors.get_opt("store-alpha").await;
        assert!(
            matches!(&found, Ok(None))
                || matches!(&found, Err(kube::Error::Api(s)) if s.code == 404),
            "a ServiceMonitor with {installed:?} installed: {found:?}"
        );
    }

    cluster
        .install_monitoring_crd(kinds::PROMETHEUS_RULE.plural)
        .await;
    let installed = Instant::now();
    cluster
        .wait_condition("shop", "alpha", "MonitoringReady", "True", Some("Applied"))
        .await;
    let monitor = monitors
        .get("store-alpha")
        .await
        .expect("the ServiceMonitor appeared");
    assert_eq!(
        monitor.data["spec"]["endpoints"][0]["port"], "http",
        "{:?}",
        monitor.data
    );
    eprintln!(
        "ServiceMonitor applied {:.1} s after the CRDs were installed",
        installed.elapsed().as_secs_f64()
    );
    let rules: Api<DynamicObject> = Api::namespaced_with(
        cluster.client.clone(),
        "shop",
        &kinds::api_resource(&kinds::PROMETHEUS_RULE),
    );
    // No PrometheusRule of its own: the operator serves its objectives.
    assert!(rules.get_opt("store-alpha").await.unwrap().is_none());
    let objective = r#"storeops_store_objective{store_namespace="shop",store_id="alpha",objective="availability_target"} 0.995"#;
    let page = http_get(&format!("http://{}/metrics", operator.listen)).await;
    assert!(
        page.contains(objective),
        "{page}\n{}",
        std::fs::read_to_string(operator.log()).unwrap_or_default()
    );
    // And the fleet's rules (SLIs and alerts), in the operator's namespace.
    let fleet: Api<DynamicObject> = Api::namespaced_with(
        cluster.client.clone(),
        NAMESPACE,
        &kinds::api_resource(&kinds::PROMETHEUS_RULE),
    );
    let fleet = testenv::wait::eventually(
        "the fleet's PrometheusRule",
        Duration::from_secs(60),
        || async { fleet.get("storeops-fleet").await.map_err(|e| e.to_string()) },
    )
    .await;
    let alerts = fleet.data["spec"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["rules"].as_array().unwrap())
        .filter(|r| r.get("alert").is_some())
        .count();
    assert_eq!(alerts, 17);
    eprintln!(
        "the fleet's PrometheusRule applied {:.1} s after the CRDs were installed",
        installed.elapsed().as_secs_f64()
    );

    // Drift of a monitoring object is undone at once (the resync would take
    // 5 minutes): a ServiceMonitor deleted by hand comes back.
    let uid = monitor.metadata.uid.clone();
    monitors
        .delete("store-alpha", &kube::api::DeleteParams::default())
        .await
        .unwrap();
    let deleted = Instant::now();
    loop {
        let now = monitors.get_opt("store-alpha").await.unwrap();
        if now.is_some_and(|m| m.metadata.uid != uid) {
            break;
        }
        assert!(
            deleted.elapsed() < Duration::from_secs(60),
            "the deleted ServiceMonitor was not restored"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    eprintln!(
        "ServiceMonitor restored {:.1} s after it was deleted",
        deleted.elapsed().as_secs_f64()
    );

    // Alerts turned off: the objectives go, the ServiceMonitor stays.
    let mut spec = default_spec();
    spec["monitoring"] = json!({"alerts": {"enabled": false}});
    cluster.apply_store("shop", "alpha", spec).await;
    let start = Instant::now();
    while http_get(&format!("http://{}/metrics", operator.listen))
        .await
        .contains(r#"store_id="alpha""#)
    {
        assert!(
            start.elapsed() < CONVERGE,
            "the objectives of disabled alerts are still served"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(monitors.get_opt("store-alpha").await.unwrap().is_some());

    // A per-Store PrometheusRule of an earlier version is deleted by the
    // next leader (left, it would record the objectives of its day).
    let old: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule",
        "metadata": {"name": "store-alpha", "namespace": "shop", "labels": {
            "app.kubernetes.io/instance": "alpha",
            "app.kubernetes.io/managed-by": "storeops",
            "storeops.dev/store-id": "alpha"}},
        "spec": {"groups": [{"name": "storeops.shop.alpha.objectives", "rules": [
            {"record": "storeops:store:objective", "expr": "vector(0.995)"}]}]},
    }))
    .unwrap();
    rules
        .create(&kube::api::PostParams::default(), &old)
        .await
        .unwrap();
    operator.stop();
    let _next = cluster.operator("operator-b");
    let start = Instant::now();
    while rules.get_opt("store-alpha").await.unwrap().is_some() {
        assert!(
            start.elapsed() < CONVERGE,
            "the per-Store PrometheusRule of an earlier version is still there"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    cluster.assert_never_forbidden();
}

#[tokio::test]
async fn a_restarted_operator_makes_no_write_once_stores_converged() {
    let cluster = Cluster::start().await;
    let mut first = cluster.operator("operator-first");
    cluster.namespace("shop").await;
    let secret = json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "pg", "namespace": "shop"}, "stringData": {"url": "postgres://db/store"}});
    manifests::apply(
        &cluster.client,
        &serde_yaml_ng::to_string(&secret).unwrap(),
        "test",
    )
    .await
    .unwrap();
    cluster.apply_store("shop", "alpha", default_spec()).await;
    let mut replicated = default_spec();
    replicated["replicas"] = json!(2);
    replicated["database"] = json!({"postgres": {"secretRef": {"name": "pg"}}});
    cluster.apply_store("shop", "beta", replicated).await;
    for name in ["alpha", "beta"] {
        cluster
            .wait_condition("shop", name, "Ready", "True", None)
            .await;
    }
    // Let the last status writes and events of the first operator land.
    tokio::time::sleep(Duration::from_secs(3)).await;
    first.stop();

    // The audit log attributes the first operator's writes to its ServiceAccount,
    // so an empty list below means no write, not a blind log.
    let first_writes = cluster.operator_writes(0);
    assert!(
        first_writes
            .iter()
            .any(|w| w.resource == "deployments" && w.verb == "patch"),
        "the audit log shows no Deployment applied by {USER}: {first_writes:#?}"
    );
    let mark = cluster.audit_len();
    let second = cluster.operator("operator-second");
    let start = Instant::now();
    while metric(&second, "storeops_reconciliations_total").await < 2.0 {
        assert!(
            start.elapsed() < CONVERGE,
            "the restarted operator did not reconcile both Stores"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // A few more seconds for anything a reconcile would send after its count.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let writes = cluster.operator_writes(mark);
    assert!(
        writes.is_empty(),
        "the restarted operator wrote:\n{writes:#?}"
    );
    // The fleet dashboards are in the operator's namespace (and were not rewritten).
    let maps: Api<k8s_openapi::api::core::v1::ConfigMap> =
        Api::namespaced(cluster.client.clone(), NAMESPACE);
    for uid in [
        "storeops-overview",
        "storeops-apm",
        "storeops-business",
        "storeops-workbench",
    ] {
        let map = maps
            .get(uid)
            .await
            .unwrap_or_else(|e| panic!("fleet dashboard {uid}: {e}"));
        assert!(map.data.unwrap().contains_key(&format!("{uid}.json")));
    }
    let leases: Api<Lease> = Api::namespaced(cluster.client.clone(), NAMESPACE);
    let holder = leases
        .get("storeops-operator")
        .await
        .unwrap()
        .spec
        .unwrap()
        .holder_identity;
    assert_eq!(holder.as_deref(), Some("operator-second"));
    cluster.assert_never_forbidden();
}

#[tokio::test]
async fn a_standby_replica_takes_over_when_the_leader_stops_or_dies() {
    let cluster = Cluster::start().await;
    let leases: Api<Lease> = Api::namespaced(cluster.client.clone(), NAMESPACE);
    let holder = || async {
        leases
            .get_opt("storeops-operator")
            .await
            .unwrap()
            .and_then(|l| l.spec)
            .and_then(|s| s.holder_identity)
    };
    let wait_holder = |who: &'static str, limit: Duration| async move {
        let start = Instant::now();
        while holder().await.as_deref() != Some(who) {
            assert!(
                start.elapsed() < limit,
                "{who} did not take the Lease within {limit:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        start.elapsed()
    };
    // a leads before b starts, so the roles are known.
    let mut a = cluster.operator("operator-a");
    wait_holder("operator-a", CONVERGE).await;
    let mut b = cluster.operator("operator-b");
    cluster.namespace("shop").await;
    cluster.apply_store("shop", "alpha", default_spec()).await;
    cluster
        .wait_condition("shop", "alpha", "Ready", "True", None)
        .await;

    // SIGTERM: a releases the Lease on its way out; b takes it at its next try.
    a.stop();
    let handover = wait_holder("operator-b", Duration::from_secs(15)).await;
    eprintln!(
        "operator-b took the released Lease {:.1} s after operator-a's SIGTERM",
        handover.as_secs_f64()
    );

    // kill -9: nobody releases; c waits until the Lease expires (15 s).
    let _c = cluster.operator("operator-c");
    tokio::time::sleep(Duration::from_secs(1)).await;
    b.kill();
    let takeover = wait_holder("operator-c", Duration::from_secs(40)).await;
    eprintln!(
        "operator-c took the Lease {:.1} s after operator-b was killed",
        takeover.as_secs_f64()
    );

    // The new leader reconciles: a new Store becomes Ready.
    cluster.apply_store("shop", "beta", default_spec()).await;
    cluster
        .wait_condition("shop", "beta", "Ready", "True", None)
        .await;
    cluster.assert_never_forbidden();
}

/// Trace ids of the spans named `name` the collector has written so far.
fn trace_ids(collector: &Collector, name: &str) -> Vec<String> {
    collector
        .spans()
        .into_iter()
        .filter(|(_, span)| span["name"] == name)
        .map(|(_, span)| span["traceId"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test]
async fn the_operator_reports_health_metrics_and_a_trace_per_reconcile() {
    let cluster = Cluster::start().await;
    let otelcol = programs::OTELCOL.path().unwrap_or_else(|e| panic!("{e}"));
    let collector = Collector::to_files(&otelcol, cluster.plane.dir(), None).unwrap();
    let endpoint = format!("--otel-endpoint={}", collector.endpoint(true));
    let operator = cluster.operator_with("operator-traced", &[&endpoint]);
    cluster.namespace("shop").await;
    cluster.apply_store("shop", "alpha", default_spec()).await;
    cluster
        .wait_condition("shop", "alpha", "Ready", "True", None)
        .await;

    let base = format!("http://{}", operator.listen);
    assert!(
        http_get(&format!("{base}/healthz"))
            .await
            .starts_with("HTTP/1.0 200")
    );
    assert!(
        http_get(&format!("{base}/readyz"))
            .await
            .starts_with("HTTP/1.0 200")
    );
    // The gauge reads the watch cache, which follows the status write.
    let start = Instant::now();
    let metrics = loop {
        let metrics = http_get(&format!("{base}/metrics")).await;
        if metrics.contains(r#"storeops_stores{condition="Ready",status="True"} 1"#) {
            break metrics;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "{metrics}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(metric(&operator, "storeops_reconciliations_total").await >= 1.0);
    let exemplars: Vec<String> = metrics
        .lines()
        .filter(|l| l.starts_with("storeops_reconcile_duration_seconds_bucket"))
        .filter_map(|l| l.split("trace_id=\"").nth(1))
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_string)
        .collect();
    assert!(
        !exemplars.is_empty(),
        "no trace_id exemplar on the reconcile histogram:\n{metrics}"
    );

    // Each exemplar's trace reaches the collector as a "reconcile Store" span,
    // and the operator's JSON log lines carry the trace ids of their reconcile.
    let start = Instant::now();
    loop {
        let received = trace_ids(&collector, "reconcile Store");
        if exemplars.iter().all(|id| received.contains(id)) {
            let log = std::fs::read_to_string(operator.log()).unwrap();
            let logged: Vec<String> = log
                .lines()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .filter_map(|l| l["trace_id"].as_str().map(str::to_string))
                .collect();
            assert!(!logged.is_empty(), "no log line with a trace_id:\n{log}");
            assert!(
                logged.iter().all(|id| received.contains(id)),
                "logged {logged:?}, received {received:?}"
            );
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "exemplars {exemplars:?} not all among the collector's reconcile spans {received:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    cluster.assert_never_forbidden();
}

/// A pod that cannot start shows in the Store's conditions with the
/// scheduler's (or kubelet's) word, not only as replicas not ready, and goes
/// away once the spec is fixed. The pods are read under the chart's RBAC.
#[tokio::test]
async fn a_pod_that_cannot_be_scheduled_shows_in_the_store_conditions() {
    let cluster = Cluster::start().await;
    let _operator = cluster.operator("operator-a");
    cluster.namespace("shop").await;
    // More cpu than the fake node has (32).
    let mut spec = default_spec();
    spec["resources"] = json!({"requests": {"cpu": "64"}, "limits": {"cpu": "64"}});
    cluster.apply_store("shop", "alpha", spec).await;
    cluster
        .wait_condition("shop", "alpha", "Ready", "False", Some("PodNotStarting"))
        .await;
    cluster
        .wait_condition("shop", "alpha", "Degraded", "True", Some("PodNotStarting"))
        .await;
    cluster
        .wait_condition("shop", "alpha", "Progressing", "True", Some("RollingOut"))
        .await;
    let store = cluster.stores("shop").get("alpha").await.unwrap();
    let ready = store.data["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "Ready")
        .unwrap()
        .clone();
    let message = ready["message"].as_str().unwrap();
    assert!(
        message.starts_with("pod store-alpha-")
            && message.contains(": Unschedulable: ")
            && message.contains("Insufficient cpu"),
        "{ready:#}"
    );
    // One Warning event on the Store when the reason appeared.
    let events: Api<DynamicObject> = Api::namespaced_with(
        cluster.client.clone(),
        "shop",
        &ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("events.k8s.io", "v1", "Event"),
            "events",
        ),
    );
    let start = Instant::now();
    loop {
        let list = events.list(&Default::default()).await.unwrap();
        let warned = list.items.iter().any(|e| {
            e.data["reason"] == "PodNotStarting"
                && e.data["type"] == "Warning"
                && e.data["regarding"]["kind"] == "Store"
        });
        if warned {
            break;
        }
        assert!(
            start.elapsed() < CONVERGE,
            "no PodNotStarting event: {list:#?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    cluster.apply_store("shop", "alpha", default_spec()).await;
    cluster
        .wait_condition("shop", "alpha", "Ready", "True", None)
        .await;
    cluster
        .wait_condition("shop", "alpha", "Degraded", "False", None)
        .await;
    cluster.assert_never_forbidden();
}

/// The chart, installed by the real helm after a server-side dry run
/// (Cluster::start), is what runs: its Deployment's two replicas are admitted
/// under `restricted` Pod Security and Run, with their Service and
/// PodDisruptionBudget; an upgrade once the monitoring CRDs exist adds the
/// operator's ServiceMonitor (and, with networkPolicy.enabled, its
/// NetworkPolicy, which the API server admits); and the operator, under the
/// chart's ServiceAccount, reconciles a Store.
#[tokio::test]
async fn the_chart_installs_for_real_and_its_operator_reconciles_a_store() {
    use k8s_openapi::api::apps::v1::Deployment;
    use k8s_openapi::api::core::v1::{Pod, Service};
    use k8s_openapi::api::policy::v1::PodDisruptionBudget;
    use kube::api::ListParams;

    let cluster = Cluster::start().await;
    let client = &cluster.client;
    let deployment = Api::<Deployment>::namespaced(client.clone(), NAMESPACE)
        .get("storeops-operator")
        .await
        .unwrap();
    assert_eq!(deployment.spec.unwrap().replicas, Some(2));
    let selector = "app.kubernetes.io/name=storeops-operator";
    let pods = Api::<Pod>::namespaced(client.clone(), NAMESPACE);
    let start = Instant::now();
    loop {
        let running = pods
            .list(&ListParams::default().labels(selector))
            .await
            .unwrap()
            .items
            .iter()
            .filter(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running"))
            .count();
        if running == 2 {
            break;
        }
        assert!(
            start.elapsed() < CONVERGE,
            "{running} of the chart's 2 operator pods Running in the restricted namespace"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    Api::<Service>::namespaced(client.clone(), NAMESPACE)
        .get("storeops-operator")
        .await
        .unwrap();
    let pdb = Api::<PodDisruptionBudget>::namespaced(client.clone(), NAMESPACE)
        .get("storeops-operator")
        .await
        .unwrap();
    assert_eq!(
        pdb.spec.unwrap().max_unavailable,
        Some(k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(1))
    );

    // No ServiceMonitor without its CRD; an upgrade adds it once it exists.
    let notes = testenv::operator::run_helm(&[
        "status".into(),
        "storeops".into(),
        "--namespace".into(),
        NAMESPACE.into(),
        "--kubeconfig".into(),
        cluster.plane.kubeconfig().display().to_string(),
    ])
    .unwrap();
    assert!(notes.contains("MonitoringReady=False"), "NOTES: {notes}");
    cluster.install_monitoring_crds().await;
    let upgraded = testenv::operator::helm(
        &cluster.plane,
        &["upgrade", "--set", "networkPolicy.enabled=true"],
    )
    .unwrap();
    assert!(
        !upgraded.contains("MonitoringReady=False"),
        "NOTES: {upgraded}"
    );
    let monitors: Api<DynamicObject> = Api::namespaced_with(
        client.clone(),
        NAMESPACE,
        &kinds::api_resource(&kinds::SERVICE_MONITOR),
    );
    let monitor = monitors.get("storeops-operator").await.unwrap();
    assert_eq!(
        monitor.data["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"],
        "storeops-operator"
    );
    assert_eq!(monitor.data["spec"]["endpoints"][0]["port"], "http");

    // networkPolicy.enabled: the API server admits the operator's policy
    // (created for real by the upgrade, not a dry run). The local control
    // plane has no CNI, so nothing enforces it: this checks the object the
    // API server stored, not the traffic.
    let policy = Api::<k8s_openapi::api::networking::v1::NetworkPolicy>::namespaced(
        client.clone(),
        NAMESPACE,
    )
    .get("storeops-operator")
    .await
    .unwrap();
    let spec = serde_json::to_value(policy.spec.unwrap()).unwrap();
    assert_eq!(
        spec["podSelector"]["matchLabels"]["app.kubernetes.io/name"], "storeops-operator",
        "{spec}"
    );
    assert_eq!(
        spec["policyTypes"],
        serde_json::json!(["Ingress", "Egress"])
    );
    assert_eq!(
        spec["ingress"],
        serde_json::json!([{
            "from": [{
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
                "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}},
            }],
            "ports": [{"port": "http", "protocol": "TCP"}],
        }]),
        "{spec}"
    );
    assert_eq!(
        spec["egress"][0]["to"][0]["podSelector"]["matchLabels"],
        serde_json::json!({"k8s-app": "kube-dns"}),
        "{spec}"
    );
    assert_eq!(
        spec["egress"][0]["ports"],
        serde_json::json!([{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]),
        "{spec}"
    );
    assert_eq!(
        spec["egress"][1]["ports"],
        serde_json::json!([{"port": 443, "protocol": "TCP"}, {"port": 6443, "protocol": "TCP"}]),
        "{spec}"
    );

    let _operator = cluster.operator("operator-a");
    cluster.namespace("shop").await;
    cluster.apply_store("shop", "alpha", default_spec()).await;
    cluster
        .wait_condition("shop", "alpha", "Ready", "True", None)
        .await;
    cluster
        .wait_condition("shop", "alpha", "MonitoringReady", "True", None)
        .await;
    cluster.assert_never_forbidden();
}

/// Two releases of the chart side by side (different namespaces, disjoint
/// watchNamespaces): both install (their cluster-wide objects are named
/// after the release) and each operator reconciles its own Stores only.
#[tokio::test]
async fn two_releases_side_by_side_each_reconcile_their_own_stores() {
    use testenv::operator::{Release, install_release};
    let plane = ControlPlane::start().unwrap_or_else(|e| panic!("{e}"));
    let client = plane.client().await.unwrap();
    let a = Release {
        name: "storeops",
        namespace: NAMESPACE,
        set: &["watchNamespaces={shop-a}"],
    };
    let b = Release {
        name: "team-b",
        namespace: "team-b-system",
        set: &[
            "watchNamespaces={shop-b}",
            "dashboardNamespace=team-b-system",
        ],
    };
    let cluster = Cluster {
        plane,
        client,
        operator_kubeconfig: PathBuf::new(),
    };
    cluster.namespace("shop-a").await;
    cluster.namespace("shop-b").await;
    let mut operators = Vec::new();
    for (release, watched) in [(a, "shop-a"), (b, "shop-b")] {
        let kubeconfig = install_release(&cluster.plane, &cluster.client, release)
            .await
            .unwrap_or_else(|e| panic!("release {}: {e}", release.name));
        let operator = Operator::start_for(
            std::path::Path::new(env!("CARGO_BIN_EXE_operator")),
            &kubeconfig,
            cluster.plane.dir(),
            &format!("operator-{}", release.name),
            release,
            &[
                &format!("--namespaces={watched}"),
                &format!("--dashboard-namespace={}", release.namespace),
            ],
        )
        .unwrap();
        operators.push(operator);
    }
    cluster.apply_store("shop-a", "alpha", default_spec()).await;
    cluster.apply_store("shop-b", "beta", default_spec()).await;
    cluster
        .wait_condition("shop-a", "alpha", "Ready", "True", None)
        .await;
    cluster
        .wait_condition("shop-b", "beta", "Ready", "True", None)
        .await;
    let log = |o: &Operator| std::fs::read_to_string(o.log()).unwrap();
    let (log_a, log_b) = (log(&operators[0]), log(&operators[1]));
    assert!(
        log_a.contains("alpha") && !log_a.contains("\"beta\""),
        "{log_a}"
    );
    assert!(
        log_b.contains("beta") && !log_b.contains("\"alpha\""),
        "{log_b}"
    );
    // Each holds its own Lease.
    for (namespace, lease) in [
        (NAMESPACE, "storeops-operator"),
        ("team-b-system", "team-b-operator"),
    ] {
        let holder = Api::<Lease>::namespaced(cluster.client.clone(), namespace)
            .get(lease)
            .await
            .unwrap_or_else(|e| panic!("Lease {namespace}/{lease}: {e}"))
            .spec
            .and_then(|s| s.holder_identity);
        assert!(holder.is_some(), "{namespace}/{lease} has no holder");
    }
}

/// The chart's aggregated ClusterRoles: a namespace editor (the built-in
/// `edit` role, bound in one namespace) manages Stores there, a viewer reads
/// them and may not change them, proven by impersonating each.
#[tokio::test]
async fn namespace_editors_manage_stores_and_viewers_read_them() {
    use k8s_openapi::api::rbac::v1::RoleBinding;
    let cluster = Cluster::start().await;
    cluster.namespace("team").await;
    for (user, role) in [("alice", "edit"), ("bob", "view")] {
        let binding: RoleBinding = serde_json::from_value(json!({
            "metadata": {"name": format!("{user}-{role}")},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}]
        }))
        .unwrap();
        Api::<RoleBinding>::namespaced(cluster.client.clone(), "team")
            .create(&PostParams::default(), &binding)
            .await
            .unwrap();
    }
    let admin = admin_config(&cluster.plane.kubeconfig()).await;
    let as_user = |user: &str| {
        let mut config = admin.clone();
        config.auth_info.impersonate = Some(user.to_string());
        let client = Client::try_from(config).unwrap();
        let gvk = GroupVersionKind::gvk("storeops.dev", "v1alpha1", "Store");
        Api::<DynamicObject>::namespaced_with(
            client,
            "team",
            &ApiResource::from_gvk_with_plural(&gvk, "stores"),
        )
    };
    let store: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "storeops.dev/v1alpha1", "kind": "Store",
        "metadata": {"name": "delta"}, "spec": default_spec()
    }))
    .unwrap();
    // The controller-manager aggregates the rules within moments.
    let alice = as_user("alice");
    let start = Instant::now();
    loop {
        match alice.create(&PostParams::default(), &store).await {
            Ok(_) => break,
            Err(e) => assert!(
                start.elapsed() < CONVERGE,
                "alice (edit in team) cannot create a Store: {e}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let bob = as_user("bob");
    assert_eq!(bob.list(&Default::default()).await.unwrap().items.len(), 1);
    bob.get("delta").await.unwrap();
    match bob.delete("delta", &Default::default()).await {
        Err(kube::Error::Api(s)) => assert_eq!(s.code, 403, "{s:?}"),
        other => panic!("bob (view) deleted a Store: {other:?}"),
    }
    alice.delete("delta", &Default::default()).await.unwrap();
    // Nothing outside the namespace the role was bound in.
    let elsewhere = {
        let mut config = admin.clone();
        config.auth_info.impersonate = Some("alice".into());
        let gvk = GroupVersionKind::gvk("storeops.dev", "v1alpha1", "Store");
        Api::<DynamicObject>::namespaced_with(
            Client::try_from(config).unwrap(),
            "default",
            &ApiResource::from_gvk_with_plural(&gvk, "stores"),
        )
    };
    match elsewhere.list(&Default::default()).await {
        Err(kube::Error::Api(s)) => assert_eq!(s.code, 403, "{s:?}"),
        other => panic!("alice listed Stores outside her namespace: {other:?}"),
    }
}

/// The admin kubeconfig as a kube Config (to impersonate from).
async fn admin_config(path: &std::path::Path) -> kube::Config {
    let kubeconfig = kube::config::Kubeconfig::read_from(path).unwrap();
    kube::Config::from_custom_kubeconfig(kubeconfig, &kube::config::KubeConfigOptions::default())
        .await
        .unwrap()
}
