//! The stack on kind through the real operators (`make up`, then `make e2e`):
//! the Prometheus Operator turns the Stores' ServiceMonitors and
//! PrometheusRules into a running Prometheus' configuration, alerts reach
//! Alertmanager, and the collector receives the pods' OTLP. The demo Stores
//! of `shop` (`make demo`) are read, never changed; the fault drill runs on a
//! Store of its own namespace.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use e2e::pods::{self, Load, require_real_pods};
use e2e::stack::{self, require_stack};
use e2e::{Env, eventually, ready_at};
use k8s_openapi::api::core::v1::Pod;
use kube::Client;
use kube::api::{Api, DynamicObject, ListParams};
use serde_json::{Value, json};
use testenv::fixtures::store;

/// The demo's namespace (`make demo`).
const SHOP: &str = "shop";
/// The operator's namespace (`make deploy`).
const OPERATOR_NAMESPACE: &str = "storeops-system";
/// Discovery, a config reload and two scrapes, with margin.
const SCRAPED: Duration = Duration::from_secs(240);

async fn client() -> Client {
    let client = Client::try_default()
        .await
        .unwrap_or_else(|e| panic!("no cluster: set KUBECONFIG (make e2e on kind): {e}"));
    require_real_pods(&client).await;
    require_stack(&client).await;
    client
}

/// The demo Stores of `shop`: (name, storeId).
async fn demo_stores(client: &Client) -> Vec<(String, String)> {
    let stores =
        Api::<DynamicObject>::namespaced_with(client.clone(), SHOP, &e2e::store_resource())
            .list(&ListParams::default())
            .await
            .unwrap_or_else(|e| panic!("listing the Stores of {SHOP}: {e}"));
    let demo: Vec<(String, String)> = stores
        .items
        .iter()
        .map(|s| {
            (
                s.metadata.name.clone().unwrap_or_default(),
                s.data["spec"]["storeId"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect();
    assert!(
        demo.len() >= 3,
        "the demo Stores are not in {SHOP} (make demo): {demo:?}"
    );
    demo
}

/// The running pods of Store `name` in `namespace`.
async fn running_pods(client: &Client, namespace: &str, name: &str) -> Vec<String> {
    Api::<Pod>::namespaced(client.clone(), namespace)
        .list(&ListParams::default().labels(&format!("app.kubernetes.io/instance={name}")))
        .await
        .unwrap()
        .items
        .iter()
        .filter(|p| pods::phase(p) == "Running" && p.metadata.deletion_timestamp.is_none())
        .map(|p| p.metadata.name.clone().unwrap_or_default())
        .collect()
}

/// The `up` target of `pod` in `namespace` found by a ServiceMonitor, with
/// its labels; `Err` saying what is missing.
fn up_target<'a>(targets: &'a [Value], namespace: &str, pod: &str) -> Result<&'a Value, String> {
    let target = targets
        .iter()
        .find(|t| t["labels"]["namespace"] == namespace && t["labels"]["pod"] == pod)
        .ok_or_else(|| format!("no target of pod {namespace}/{pod}"))?;
    let pool = target["scrapePool"].as_str().unwrap_or_default();
    if !pool.starts_with(&format!("serviceMonitor/{namespace}/")) {
        return Err(format!("{pod} is scraped by {pool}, not a ServiceMonitor"));
    }
    if target["health"] != "up" {
        return Err(format!(
            "{pod}: {} {}",
            target["health"], target["lastError"]
        ));
    }
    Ok(target)
}

#[tokio::test]
async fn every_store_pod_and_the_operator_are_up_targets_of_their_service_monitors() {
    let client = client().await;
    for (name, store_id) in demo_stores(&client).await {
        let pods = running_pods(&client, SHOP, &name).await;
        assert!(!pods.is_empty(), "Store {name} runs no pod");
        for pod in pods {
            let target = eventually(
                &format!("pod {pod} of Store {name} an up target"),
                SCRAPED,
                || async {
                    let targets = stack::active_targets(&client).await?;
                    up_target(&targets, SHOP, &pod).cloned()
                },
            )
            .await;
            let labels = &target["labels"];
            assert_eq!(labels["store_id"], store_id.as_str(), "{labels}");
            assert!(
                target["scrapePool"]
                    .as_str()
                    .unwrap()
                    .starts_with(&format!("serviceMonitor/{SHOP}/store-{name}/")),
                "{}",
                target["scrapePool"]
            );
        }
    }
    let operators = Api::<Pod>::namespaced(client.clone(), OPERATOR_NAMESPACE)
        .list(&ListParams::default().labels("app.kubernetes.io/name=storeops-operator"))
        .await
        .unwrap();
    assert!(
        !operators.items.is_empty(),
        "no operator pod in {OPERATOR_NAMESPACE}"
    );
    for pod in operators
        .items
        .iter()
        .filter(|p| pods::phase(p) == "Running")
    {
        let pod = pod.metadata.name.clone().unwrap_or_default();
        eventually(
            &format!("operator pod {pod} an up target"),
            SCRAPED,
            || async {
                let targets = stack::active_targets(&client).await?;
                up_target(&targets, OPERATOR_NAMESPACE, &pod).map(|_| ())
            },
        )
        .await;
    }
}

/// The PrometheusRules of `namespace`.
fn prometheus_rules(client: &kube::Client, namespace: &str) -> Api<DynamicObject> {
    Api::namespaced_with(
        client.clone(),
        namespace,
        &kube::api::ApiResource::from_gvk(&kube::api::GroupVersionKind::gvk(
            "monitoring.coreos.com",
            "v1",
            "PrometheusRule",
        )),
    )
}

/// The groups of the PrometheusRule `name` in `namespace`, once Prometheus
/// has loaded every one of them and each rule evaluated healthy; returns
/// its rules.
async fn loaded_rules(client: &kube::Client, namespace: &str, name: &str) -> Vec<Value> {
    let rules_api = prometheus_rules(client, namespace);
    let rule = eventually(
        &format!("the PrometheusRule {namespace}/{name}"),
        SCRAPED,
        || async { rules_api.get(name).await.map_err(|e| e.to_string()) },
    )
    .await;
    let want: BTreeSet<String> = rule.data["spec"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap().to_string())
        .collect();
    // The Prometheus Operator writes each PrometheusRule to `<namespace>-<name>-<uid>.yaml`.
    let file = format!("{namespace}-{name}-");
    eventually(
        &format!("the rule groups of {namespace}/{name} loaded and evaluated"),
        SCRAPED,
        || async {
            let body = stack::api_json(client, stack::PROMETHEUS, "/api/v1/rules").await?;
            let groups: Vec<Value> = body["data"]["groups"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter(|g| g["file"].as_str().unwrap_or_default().contains(&file))
                .collect();
            let loaded: BTreeSet<String> = groups
                .iter()
                .map(|g| g["name"].as_str().unwrap_or_default().to_string())
                .collect();
            if loaded != want {
                return Err(format!("loaded {loaded:?}, want {want:?}"));
            }
            let rules: Vec<Value> = groups
                .iter()
                .flat_map(|g| g["rules"].as_array().cloned().unwrap_or_default())
                .collect();
            if let Some(r) = rules.iter().find(|r| r["health"] != "ok") {
                return Err(format!(
                    "rule {} is {}: {}",
                    r["name"], r["health"], r["lastError"]
                ));
            }
            Ok(rules)
        },
    )
    .await
}

/// The fleet's rules (objectives, SLIs and alerts, in the operator's
/// namespace) are loaded and healthy, a Store has no PrometheusRule of its
/// own, and each demo Store's objectives are recorded from the operator's
/// /metrics.
#[tokio::test]
async fn the_fleets_and_each_stores_rules_are_loaded_and_evaluate_without_failures() {
    let client = client().await;
    let fleet = loaded_rules(&client, OPERATOR_NAMESPACE, "storeops-fleet").await;
    let alerting = fleet.iter().filter(|r| r["type"] == "alerting").count();
    eprintln!(
        "the fleet: {} recording and {alerting} alerting rules, all healthy",
        fleet.len() - alerting
    );
    assert_eq!(alerting, 17, "alerting rules of the fleet");
    assert!(
        fleet.len() <= 40,
        "{} rules in the fleet's PrometheusRule",
        fleet.len()
    );
    let own: Vec<String> = prometheus_rules(&client, SHOP)
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .iter()
        .filter_map(|r| r.metadata.name.clone())
        .collect();
    assert!(own.is_empty(), "PrometheusRules in {SHOP}: {own:?}");
    for (name, id) in demo_stores(&client).await {
        let id = if id.is_empty() { name.clone() } else { id };
        eventually(
            &format!("Store {name}'s objectives recorded"),
            SCRAPED,
            || {
                let client = client.clone();
                let name = id.clone();
                async move {
                    let got = stack::query(
                        &client,
                        &format!(r#"count(storeops:store:objective{{namespace="{SHOP}",store_id="{name}"}})"#),
                    )
                    .await?;
                    match got.first() {
                        Some((_, n)) if *n == 10.0 => Ok(()),
                        other => Err(format!("want 10 objectives, got {other:?}")),
                    }
                }
            },
        )
        .await;
    }
    // Prometheus scrapes its own counters every 30 s: a group just loaded
    // may have none yet.
    let failures = eventually(
        "evaluation counters for the fleet's and the Stores' groups",
        SCRAPED,
        || async {
            let failures = stack::query(
                &client,
                &format!(r#"prometheus_rule_evaluation_failures_total{{rule_group=~".*({SHOP}-store-|{OPERATOR_NAMESPACE}-storeops-fleet-).*"}}"#),
            )
            .await?;
            if failures.is_empty() { Err("none yet".to_string()) } else { Ok(failures) }
        },
    )
    .await;
    let failed: Vec<_> = failures.iter().filter(|(_, v)| *v != 0.0).collect();
    assert!(failed.is_empty(), "rule evaluations failed: {failed:?}");
}

/// Under the demo load, with no fault, no alert of a demo Store is pending
/// or firing (the load generator once made healthy stores look broken).
#[tokio::test]
async fn no_demo_store_alert_is_pending_or_firing_under_the_demo_load() {
    let client = client().await;
    demo_stores(&client).await;
    // Rules evaluated, and the load running, for some minutes already.
    let evaluated = stack::query(
        &client,
        &format!(r#"count(ALERTS) or count(up{{namespace="{SHOP}"}})"#),
    )
    .await
    .unwrap();
    assert!(!evaluated.is_empty(), "Prometheus has no series of {SHOP}");
    let alerts = stack::query(
        &client,
        &format!(r#"ALERTS{{namespace="{SHOP}", alertname=~"Store.+"}}"#),
    )
    .await
    .unwrap();
    assert!(alerts.is_empty(), "demo Store alerts: {alerts:?}");
}

#[tokio::test]
async fn an_injected_fault_fires_the_error_alert_in_alertmanager_and_it_resolves() {
    let client = client().await;
    let env = Env::new("stack").await;
    let name = "drill";
    let mut doc = store(name);
    doc["spec"]["storeId"] = json!("drill_store");
    env.apply_store(&doc).await.unwrap();
    let ready = ready_at(&env, name, 1).await;
    let url = ready.data["status"]["serviceUrl"]
        .as_str()
        .unwrap()
        .to_string();
    let load = Load::new(&url, 20.0, Duration::from_secs(1200), "browse=3,filter=1");
    pods::start(&env, &load.pod("load")).await;
    let pod = running_pods(&client, &env.namespace, name).await;
    let pod = pod.first().expect("a store pod");
    eventually("the drill store an up target", SCRAPED, || async {
        let targets = stack::active_targets(&client).await?;
        up_target(&targets, &env.namespace, pod).map(|_| ())
    })
    .await;
    // Some healthy traffic first, so the error ratio has a denominator.
    tokio::time::sleep(Duration::from_secs(30)).await;

    stack::set_faults(&client, &env.namespace, name, &json!({"error_ratio": 0.5}))
        .await
        .unwrap();
    let injected = Instant::now();
    let alert = eventually(
        "StoreErrorRateSpike of drill_store in Alertmanager",
        Duration::from_secs(600),
        || async {
            let alerts = stack::alertmanager_alerts(&client).await?;
            alerts
                .into_iter()
                .find(|a| {
                    a["labels"]["alertname"] == "StoreErrorRateSpike"
                        && a["labels"]["store_id"] == "drill_store"
                })
                .ok_or_else(|| "not there yet".to_string())
        },
    )
    .await;
    let fired = injected.elapsed();
    let labels = &alert["labels"];
    assert_eq!(labels["severity"], "warning", "{alert}");
    assert_eq!(labels["namespace"], env.namespace.as_str(), "{alert}");
    assert!(
        alert["annotations"]["runbook_url"]
            .as_str()
            .unwrap_or_default()
            .ends_with("/StoreErrorRateSpike.md"),
        "{alert}"
    );
    assert_eq!(alert["status"]["state"], "active", "{alert}");
    assert!(
        !alert["receivers"].as_array().unwrap().is_empty(),
        "routed to no receiver: {alert}"
    );

    stack::set_faults(&client, &env.namespace, name, &json!({"error_ratio": 0.0}))
        .await
        .unwrap();
    let removed = Instant::now();
    eventually(
        "StoreErrorRateSpike of drill_store resolved",
        Duration::from_secs(600),
        || async {
            let firing = stack::query(
                &client,
                r#"ALERTS{alertname="StoreErrorRateSpike", store_id="drill_store"}"#,
            )
            .await?;
            let held = stack::alertmanager_alerts(&client)
                .await?
                .into_iter()
                .any(|a| {
                    a["labels"]["alertname"] == "StoreErrorRateSpike"
                        && a["labels"]["store_id"] == "drill_store"
                });
            if firing.is_empty() && !held {
                Ok(())
            } else {
                Err(format!(
                    "in Prometheus: {firing:?}; in Alertmanager: {held}"
                ))
            }
        },
    )
    .await;
    let resolved = removed.elapsed();
    eprintln!(
        "StoreErrorRateSpike: in Alertmanager {:.0} s after a 50 % error ratio, gone {:.0} s after it stopped",
        fired.as_secs_f64(),
        resolved.as_secs_f64()
    );
    pods::upsert_markdown_row(
        &pods::figures_path("alerts.md"),
        "| Alert on kind (real Prometheus Operator, Alertmanager) | after the fault | after its removal |\n|---|---|---|",
        "StoreErrorRateSpike (`for: 5m`, 50 % errors)",
        &format!(
            "| StoreErrorRateSpike (`for: 5m`, 50 % errors) | {:.0} s | {:.0} s |",
            fired.as_secs_f64(),
            resolved.as_secs_f64()
        ),
    );
    env.cleanup().await;
}

#[tokio::test]
async fn the_collector_receives_the_stores_traces_and_logs_with_their_resource() {
    let client = client().await;
    let demo = demo_stores(&client).await;
    for signal in ["spans", "log_records"] {
        let accepted = eventually(
            &format!("the collector accepted {signal}"),
            SCRAPED,
            || async {
                let promql = format!(
                    r#"sum({{__name__=~"otelcol_receiver_accepted_{signal}(_total)?", receiver="otlp"}})"#
                );
                match stack::query(&client, &promql).await?.first() {
                    Some((_, v)) if *v > 0.0 => Ok(*v),
                    other => Err(format!("{promql}: {other:?}")),
                }
            },
        )
        .await;
        eprintln!("collector: {accepted} {signal} accepted");
    }
    eventually(
        "the collector's log shows the stores' resources, a span and a log record",
        SCRAPED,
        || async {
            let log = stack::collector_log(&client).await?;
            let missing: Vec<String> = demo
                .iter()
                .map(|(_, id)| format!("store.id: Str({id})"))
                .chain([
                    format!("k8s.namespace.name: Str({SHOP})"),
                    "k8s.pod.name: Str(store-".to_string(),
                ])
                .filter(|want| !log.contains(want.as_str()))
                .collect();
            // The debug exporter samples what it prints: a span and a log
            // record each show up in the last 10 minutes' log, not at once.
            let span = log.contains("ResourceSpans") || log.contains("Span #");
            let record = log.contains("ResourceLog") || log.contains("LogRecord #");
            if missing.is_empty() && span && record {
                Ok(())
            } else {
                Err(format!(
                    "missing {missing:?}; a span printed: {span}; a log record printed: {record}"
                ))
            }
        },
    )
    .await;
}

/// The memory the stack reserves for the whole demo (`charts/stack/README.md`).
const BUDGET_GIB: f64 = 4.0;
/// How long the demo load runs before memory is read.
const UNDER_LOAD: Duration = Duration::from_secs(600);

/// Working sets (bytes) of the demo's parts after ten minutes of load, read
/// from the kubelet's cAdvisor through the real scrape, written to
/// `target/kind-e2e/memory.md` (`make bench` puts it in docs/benchmarks.md).
/// A measurement: the test fails only where a part has no figure.
#[tokio::test]
async fn the_demos_memory_is_measured_after_ten_minutes_of_load() {
    let client = client().await;
    demo_stores(&client).await;
    let loadgen = Api::<Pod>::namespaced(client.clone(), SHOP)
        .list(&ListParams::default().labels("app.kubernetes.io/name=loadgen"))
        .await
        .unwrap();
    let started = loadgen
        .items
        .iter()
        .filter_map(|p| p.status.as_ref()?.start_time.as_ref())
        .map(|t| t.0)
        .min()
        .unwrap_or_else(|| panic!("no load generator pod in {SHOP} (make demo)"));
    let ran = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .saturating_sub(started.as_second().max(0) as u64);
    if let Some(left) = UNDER_LOAD.checked_sub(Duration::from_secs(ran)) {
        eprintln!(
            "memory: the load has run {ran} s; reading in {} s",
            left.as_secs()
        );
        tokio::time::sleep(left).await;
    }
    const WS: &str =
        r#"container_memory_working_set_bytes{job="kubelet", metrics_path="/metrics/cadvisor""#;
    let parts: [(&str, String); 6] = [
        (
            "the stack (Prometheus Operator, Prometheus, Alertmanager, kube-state-metrics, node-exporter, collector)",
            format!(
                r#"sum({WS}, namespace="{}", container!="", image!=""}})"#,
                stack::MONITORING
            ),
        ),
        (
            "the operator (2 replicas)",
            format!(r#"sum({WS}, namespace="{OPERATOR_NAMESPACE}", container!="", image!=""}})"#),
        ),
        (
            "three store pods",
            format!(
                r#"sum({WS}, namespace="{SHOP}", pod=~"store-.+", container!="", image!=""}})"#
            ),
        ),
        (
            "the load generator",
            format!(
                r#"sum({WS}, namespace="{SHOP}", pod=~"loadgen-.+", container!="", image!=""}})"#
            ),
        ),
        (
            "Kubernetes itself (kube-system, local-path-storage)",
            format!(
                r#"sum({WS}, namespace=~"kube-system|local-path-storage", container!="", image!=""}})"#
            ),
        ),
        (
            "every container on the node (all of the above; not the kubelet and containerd)",
            format!(r#"sum({WS}, container!="", image!=""}})"#),
        ),
    ];
    let mut rows = Vec::new();
    let mut missing = Vec::new();
    for (part, promql) in &parts {
        match stack::query(&client, promql).await.unwrap().first() {
            Some((_, bytes)) if *bytes > 0.0 => rows.push((*part, *bytes)),
            other => missing.push(format!("{part}: {promql} gave {other:?}")),
        }
    }
    assert!(
        missing.is_empty(),
        "no working set for:\n{}",
        missing.join("\n")
    );
    let gib = |b: f64| b / f64::from(1u32 << 30);
    let demo: f64 = rows[..4].iter().map(|(_, b)| b).sum();
    let mut table = format!(
        "| Part (kind node, after {} min of the demo load) | Working set (MiB) |\n|---|---|\n",
        UNDER_LOAD.as_secs() / 60
    );
    for (part, bytes) in &rows {
        table += &format!("| {part} | {:.0} |\n", bytes / f64::from(1u32 << 20));
    }
    table += &format!(
        "\nThe stack, the operator, three stores and the load: {:.2} GiB of the {BUDGET_GIB} GiB \
         that `charts/stack` plans for the whole demo; Grafana, Loki and Tempo (AGPL, not built \
         here) did not run, and their requests in the plan are not in this figure.\n",
        gib(demo)
    );
    eprintln!("{table}");
    let path = pods::figures_path("memory.md");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, table).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

/// A store pod that keeps exiting (a catalog with a negative stock) fires
/// StorePodRestarting through kube-state-metrics' real series, for a Store
/// with the longest name: Kubernetes cuts its pod names.
#[tokio::test]
async fn a_long_named_store_whose_pod_keeps_exiting_fires_the_restart_alert() {
    let client = client().await;
    let env = Env::new("restarts").await;
    let name = "a-store-with-the-longest-name-the-operator-accepts-57-chr";
    assert_eq!(name.len(), 57);
    let store_id = "restarting_store";
    // A database nobody listens on: the store-service exits at start, so
    // its pod keeps restarting. (A catalog the service refuses no longer
    // does: the operator holds the Deployment back, CatalogInvalid.)
    env.apply(&json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "nowhere-db"},
        "stringData": {"url": "postgres://store:store@127.0.0.1:1/store"}
    }))
    .await
    .unwrap();
    let mut doc = store(name);
    doc["spec"]["storeId"] = json!(store_id);
    doc["spec"]["database"] =
        json!({"postgres": {"secretRef": {"name": "nowhere-db", "key": "url"}}});
    env.apply_store(&doc).await.unwrap();

    let pods = Api::<Pod>::namespaced(client.clone(), &env.namespace);
    let (pod, restarts) = eventually(
        "the store pod restarted twice",
        Duration::from_secs(300),
        || async {
            let list = pods
                .list(&ListParams::default().labels(&format!("app.kubernetes.io/instance={name}")))
                .await
                .map_err(|e| e.to_string())?;
            let pod = list.items.first().ok_or("no pod yet")?;
            let restarts: i32 = pod
                .status
                .as_ref()
                .and_then(|s| s.container_statuses.as_ref())
                .map(|cs| cs.iter().map(|c| c.restart_count).sum())
                .unwrap_or(0);
            if restarts >= 2 {
                Ok((pod.metadata.name.clone().unwrap_or_default(), restarts))
            } else {
                Err(format!("{restarts} restarts"))
            }
        },
    )
    .await;
    let replica_set = pod_owner(&pods, &pod).await;
    assert!(
        !pod.starts_with(&format!("{replica_set}-")),
        "pod {pod} is not cut: it holds its ReplicaSet's name {replica_set}"
    );
    eprintln!("pod {pod} of ReplicaSet {replica_set}: {restarts} restarts");

    let started = Instant::now();
    let alert = eventually(
        "StorePodRestarting of the long-named store in Alertmanager",
        Duration::from_secs(900),
        || async {
            stack::alertmanager_alerts(&client)
                .await?
                .into_iter()
                .find(|a| {
                    a["labels"]["alertname"] == "StorePodRestarting"
                        && a["labels"]["store_id"] == store_id
                })
                .ok_or_else(|| "not there yet".to_string())
        },
    )
    .await;
    assert_eq!(alert["labels"]["pod"], pod.as_str(), "{alert}");
    assert_eq!(
        alert["labels"]["namespace"],
        env.namespace.as_str(),
        "{alert}"
    );
    assert_eq!(alert["labels"]["severity"], "warning", "{alert}");
    eprintln!(
        "StorePodRestarting in Alertmanager {:.0} s after the second restart",
        started.elapsed().as_secs_f64()
    );
    env.cleanup().await;
}

/// The name of the ReplicaSet that owns `pod`.
async fn pod_owner(pods: &Api<Pod>, pod: &str) -> String {
    let pod = pods.get(pod).await.unwrap();
    pod.metadata
        .owner_references
        .unwrap_or_default()
        .into_iter()
        .find(|o| o.kind == "ReplicaSet")
        .map(|o| o.name)
        .unwrap_or_else(|| panic!("pod {:?} has no ReplicaSet owner", pod.metadata.name))
}

/// Panels that are empty while a store is healthy, and what fills them (the
/// list of `operator/tests/operator/backends.rs`).
const EMPTY_WHEN_HEALTHY: &[&str] = &["Low stock", "Firing alerts"];

/// A dashboard query with Grafana's variables given values: every
/// namespace and store where a variable takes several, `store_id` where it
/// takes one, and the windows Grafana would use with a 30 s scrape.
fn concrete(expr: &str, store_id: &str) -> String {
    expr.replace("$__rate_interval", "2m")
        .replace("$__range", "15m")
        .replace("$__interval", "1m")
        .replace(r#"=~"$namespace""#, r#"=~".*""#)
        .replace(r#"=~"$store_id""#, r#"=~".*""#)
        .replace("$store_id", store_id)
}

/// `(dashboard, panel, expr)` of every Prometheus query of a dashboard's JSON.
fn prometheus_queries(dashboard: &Value) -> Vec<(String, String, String)> {
    fn walk(title: &str, panels: &[Value], out: &mut Vec<(String, String, String)>) {
        for p in panels {
            walk(
                title,
                p["panels"]
                    .as_array()
                    .map(Vec::as_slice)
                    .unwrap_or_default(),
                out,
            );
            for t in p["targets"].as_array().into_iter().flatten() {
                let source = if t["datasource"].is_object() {
                    &t["datasource"]
                } else {
                    &p["datasource"]
                };
                if source["type"] == "prometheus"
                    && let Some(expr) = t["expr"].as_str()
                {
                    let panel = p["title"].as_str().unwrap_or_default().to_string();
                    out.push((title.to_string(), panel, expr.to_string()));
                }
            }
        }
    }
    let mut out = Vec::new();
    let title = dashboard["title"].as_str().unwrap_or_default();
    walk(
        title,
        dashboard["panels"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default(),
        &mut out,
    );
    out
}

/// Every Prometheus query of the dashboards the operator applied (the demo
/// Stores' and the fleet's, read from their ConfigMaps) answers with data
/// from the real scrape, but the panels empty while stores are healthy.
#[tokio::test]
async fn every_dashboard_query_answers_from_the_real_scrape() {
    let client = client().await;
    let demo = demo_stores(&client).await;
    let mut dashboards = Vec::new();
    for namespace in [SHOP, OPERATOR_NAMESPACE] {
        let maps =
            Api::<k8s_openapi::api::core::v1::ConfigMap>::namespaced(client.clone(), namespace)
                .list(&ListParams::default().labels("grafana_dashboard=1"))
                .await
                .unwrap();
        for map in maps.items {
            for json in map.data.unwrap_or_default().values() {
                dashboards.push(serde_json::from_str::<Value>(json).unwrap());
            }
        }
    }
    assert!(
        dashboards.len() > demo.len(),
        "{} dashboard ConfigMaps in {SHOP} and {OPERATOR_NAMESPACE}",
        dashboards.len()
    );
    let queries: Vec<_> = dashboards.iter().flat_map(prometheus_queries).collect();
    assert!(
        queries.len() > 50,
        "only {} Prometheus queries",
        queries.len()
    );
    // The rates need a few scrapes of every store: retried until they have them.
    let empty = eventually("every dashboard query answers", SCRAPED, || async {
        let mut empty = Vec::new();
        for (dashboard, panel, expr) in &queries {
            let expr = concrete(expr, &demo[0].1);
            match stack::query(&client, &expr).await {
                Ok(r) if !r.is_empty() => {}
                Ok(_) if EMPTY_WHEN_HEALTHY.contains(&panel.as_str()) => {}
                Ok(_) => empty.push(format!("{dashboard} / {panel}: no data: {expr}")),
                Err(e) => empty.push(format!("{dashboard} / {panel}: {e}: {expr}")),
            }
        }
        if empty.is_empty() {
            Ok(queries.len())
        } else {
            Err(empty.join("\n"))
        }
    })
    .await;
    eprintln!(
        "{empty} dashboard queries of {} dashboards answered",
        dashboards.len()
    );
}

/// The exemplars Prometheus stored from the demo's scrape name traces the
/// collector received: their trace ids are in its `debug` exporter's log
/// (which logs only a sample of its batches, so not every one is there).
#[tokio::test]
async fn the_exemplars_prometheus_stored_name_traces_the_collector_received() {
    let client = client().await;
    demo_stores(&client).await;
    let (matched, total) = eventually(
        "an exemplar's trace in the collector's log",
        SCRAPED,
        || async {
            let end = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs();
            let path = format!(
                "/api/v1/query_exemplars?query={}&start={}&end={end}",
                stack::encode(&format!(
                    r#"http_server_request_duration_seconds_bucket{{namespace="{SHOP}"}}"#
                )),
                end - 120
            );
            let body = stack::api_json(&client, stack::PROMETHEUS, &path).await?;
            let trace_ids = testenv::prometheus::exemplar_trace_ids(&body);
            if trace_ids.is_empty() {
                return Err(format!("no exemplar with a trace_id: {body}"));
            }
            let log = stack::collector_log(&client).await?;
            let matched = trace_ids
                .iter()
                .filter(|id| log.contains(&format!("Trace ID       : {id}")))
                .count();
            if matched > 0 {
                Ok((matched, trace_ids.len()))
            } else {
                Err(format!(
                    "none of {} exemplar trace ids in the collector's log",
                    trace_ids.len()
                ))
            }
        },
    )
    .await;
    eprintln!(
        "{matched} of {total} exemplar trace ids of the last 2 minutes are spans in the collector's log"
    );
}

/// An objective is data: a Store's changed availability target reaches
/// Prometheus as its objective series (served at the operator's /metrics,
/// recorded by the fleet's rules), and no rule is written: the fleet's
/// PrometheusRule keeps its version, and the Store has none.
#[tokio::test]
async fn a_changed_objective_reaches_prometheus_and_the_fleets_rules_stay_as_they_are() {
    let client = client().await;
    let env = Env::new("objective").await;
    let name = "objective";
    let series = |target: f64| {
        let namespace = env.namespace.clone();
        let client = client.clone();
        async move {
            let got = stack::query(
                &client,
                &format!(
                    r#"storeops:store:objective{{namespace="{namespace}",objective="availability_target"}}"#
                ),
            )
            .await?;
            match got.first() {
                Some((_, v)) if (*v - target).abs() < 1e-9 => Ok(()),
                other => Err(format!("want {target}, got {other:?}")),
            }
        }
    };
    let fleet_api = prometheus_rules(&client, OPERATOR_NAMESPACE);
    let mut doc = store(name);
    doc["spec"]["monitoring"] = json!({"alerts": {"slo": {"availabilityTarget": 0.995}}});
    env.apply_store(&doc).await.unwrap();
    eventually("the objective 0.995 in Prometheus", SCRAPED, || {
        series(0.995)
    })
    .await;
    let fleet_version = fleet_api
        .get("storeops-fleet")
        .await
        .unwrap()
        .metadata
        .resource_version;
    doc["spec"]["monitoring"]["alerts"]["slo"]["availabilityTarget"] = json!(0.99);
    env.apply_store(&doc).await.unwrap();
    let changed = Instant::now();
    eventually("the objective 0.99 in Prometheus", SCRAPED, || series(0.99)).await;
    eprintln!(
        "availabilityTarget 0.995 -> 0.99: in Prometheus {:.0} s after the change",
        changed.elapsed().as_secs_f64()
    );
    assert_eq!(
        fleet_api
            .get("storeops-fleet")
            .await
            .unwrap()
            .metadata
            .resource_version,
        fleet_version,
        "the fleet's PrometheusRule was written"
    );
    let own = prometheus_rules(&client, &env.namespace)
        .list(&Default::default())
        .await
        .unwrap();
    assert!(
        own.items.is_empty(),
        "a PrometheusRule in {}",
        env.namespace
    );
}
