//! The operator's alerts and dashboards against real backends, fed by a real
//! store-service under the load generator:
//!
//! ```text
//! loadgen -> store-service --scrape--> Prometheus (the Store's rules, exemplars)
//! ```
//!
//! Every PromQL query of every dashboard returns data, but for a short list
//! of panels that are empty while the store is healthy; those are checked
//! again with the fault that fills them. Every recording rule returns data
//! and every alert expression evaluates. A live drill: injected errors take
//! `StoreErrorRateSpike` to firing, and removing them resolves it.
//!
//! The rules run with their durations compressed (minutes become seconds,
//! hours minutes, days hours) so the drill takes seconds; their structure and
//! thresholds are the operator's own.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use operator::fixtures::{all_dashboards, monitored};
use operator::monitoring::dashboards::{Backend, Variable};
use operator::monitoring::{
    self,
    rules::{RuleGroup, Target},
};
use serde_json::{Value, json};
use testenv::collector::Collector;
use testenv::otlp::attribute;
use testenv::process::Process;
use testenv::store_service::{self, StoreService, Via};
use testenv::wait::eventually;

const ADMIN_TOKEN: &str = "backends-admin-token-0123456789";
const CATALOG: &str = "- {name: apple, category: fruit, price: 0.5, stock: 100000}
- {name: pear, category: fruit, price: 0.75, stock: 100000}
- {name: laptop, category: electronics, price: 999.99, stock: 50000}
- {name: headphones, category: electronics, price: 149.0, stock: 50000}
";

/// Minutes to seconds, hours to minutes, days to hours, in `for` and in
/// range selectors: the same rules, 60 times faster.
fn compress(text: &str) -> String {
    let re = regex::Regex::new(r"\b(\d+)([mhd])\b").unwrap();
    re.replace_all(text, |c: &regex::Captures| {
        let unit = match &c[2] {
            "m" => "s",
            "h" => "m",
            _ => "h",
        };
        format!("{}{unit}", &c[1])
    })
    .into_owned()
}

fn compressed_groups() -> Vec<RuleGroup> {
    let mut groups = monitoring::fleet_groups();
    for rule in groups.iter_mut().flat_map(|g| g.rules.iter_mut()) {
        rule.expr = compress(&rule.expr);
        rule.for_ = rule.for_.as_deref().map(compress);
    }
    groups
}

struct Store {
    _service: StoreService,
    url: String,
}

impl Store {
    /// `extra` settings named as the environment variables (the service
    /// gets them as flags).
    fn start(dir: &Path, extra: &[(&str, &str)]) -> Store {
        std::fs::write(dir.join("catalog.yaml"), CATALOG).unwrap();
        let port = testenv::wait::free_port().unwrap();
        let mut settings = store_service::settings("alpha_store", dir, port, ADMIN_TOKEN);
        settings.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let binary = store_service::workspace_binary().unwrap_or_else(|e| panic!("{e}"));
        let service = StoreService::start(&binary, dir, &settings, Via::Flags)
            .unwrap_or_else(|e| panic!("{e}"));
        Store {
            url: service.url(""),
            _service: service,
        }
    }

    /// The load generator, in the background for `seconds`.
    fn load(&self, dir: &Path, seconds: u64) -> Process {
        let args: Vec<String> = [
            "loadgen",
            "--target",
            &self.url,
            "--rate",
            "40",
            "--concurrency",
            "8",
            "--duration",
            &format!("{seconds}s"),
            "--admin-token",
            ADMIN_TOKEN,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        Process::start(
            "loadgen",
            &store_service::workspace_binary().unwrap_or_else(|e| panic!("{e}")),
            &args,
            &dir.join("loadgen.log"),
        )
        .unwrap()
    }

    async fn admin(&self, method: reqwest::Method, path: &str, body: Value) -> u16 {
        reqwest::Client::new()
            .request(method, format!("{}{path}", self.url))
            .bearer_auth(ADMIN_TOKEN)
            .json(&body)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }
}

struct Prometheus {
    _server: testenv::prometheus::Prometheus,
    /// The Store's objectives, as the operator serves them.
    _objectives: testenv::exporter::Exporter,
    url: String,
}

impl Prometheus {
    fn start(dir: &Path, store_url: &str, t: &Target) -> Prometheus {
        Prometheus::start_on(testenv::wait::free_port().unwrap(), dir, store_url, t)
    }

    /// On a port chosen earlier, so the collector can send OTLP metrics to it.
    fn start_on(port: u16, dir: &Path, store_url: &str, t: &Target) -> Prometheus {
        let rules = json!({"groups": compressed_groups()});
        std::fs::write(
            dir.join("rules.yaml"),
            serde_yaml_ng::to_string(&rules).unwrap(),
        )
        .unwrap();
        let target = store_url.trim_start_matches("http://");
        let page = monitoring::rules::exposition(std::slice::from_ref(t));
        let objectives = testenv::exporter::Exporter::start(Box::new(move |_| page.clone()))
            .unwrap_or_else(|e| panic!("{e}"));
        let config = json!({
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [dir.join("rules.yaml")],
            "scrape_configs": [{
                "job_name": t.job,
                "static_configs": [{"targets": [target], "labels": {
                    "namespace": t.namespace, "pod": t.example_pod()}}],
            }, {
                "job_name": "storeops-operator",
                "static_configs": [{"targets": [objectives.target()], "labels": {
                    "namespace": "storeops-system"}}],
            }],
        });
        let program = testenv::programs::PROMETHEUS
            .path()
            .unwrap_or_else(|e| panic!("{e}"));
        let server = testenv::prometheus::Prometheus::start(&program, dir, &config, port)
            .unwrap_or_else(|e| panic!("{e}"));
        Prometheus {
            url: server.url(),
            _server: server,
            _objectives: objectives,
        }
    }

    async fn get(&self, path: &str, params: &[(&str, &str)]) -> Value {
        let query: Vec<String> = params
            .iter()
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect();
        let response = reqwest::Client::new()
            .get(format!("{}{path}?{}", self.url, query.join("&")))
            .send()
            .await
            .unwrap();
        response.json().await.unwrap()
    }

    /// Series of an instant query; `Err` with Prometheus's error.
    async fn query(&self, expr: &str) -> Result<Vec<Value>, String> {
        let answer = self.get("/api/v1/query", &[("query", expr)]).await;
        if answer["status"] != "success" {
            return Err(answer.to_string());
        }
        Ok(answer["data"]["result"]
            .as_array()
            .cloned()
            .unwrap_or_default())
    }

    async fn firing(&self, alert: &str) -> bool {
        self.query(&format!(
            r#"ALERTS{{alertname="{alert}",alertstate="firing"}}"#
        ))
        .await
        .is_ok_and(|r| !r.is_empty())
    }
}

/// A dashboard query with Grafana's variables given values.
fn concrete(expr: &str, store_id: &str) -> String {
    expr.replace("$__rate_interval", "1m")
        .replace("$__range", "5m")
        .replace(r#"=~"$namespace""#, r#"=~".*""#)
        .replace(r#"=~"$store_id""#, r#"=~".*""#)
        .replace("$store_id", store_id)
}

/// Panels that are empty while a store is healthy, and what fills them.
const EMPTY_WHEN_HEALTHY: &[(&str, &str)] = &[
    ("Low stock", "a product's stock set below the threshold"),
    (
        "Firing alerts",
        "injected errors firing StoreErrorRateSpike",
    ),
];

/// PromQL queries of every dashboard that return nothing: `(dashboard, panel, expr, why)`.
async fn empty_panels(prometheus: &Prometheus) -> Vec<(String, String, String, String)> {
    let mut empty = Vec::new();
    for d in all_dashboards() {
        for (panel, q) in d.queries() {
            if q.backend != Backend::Prometheus {
                continue;
            }
            let expr = concrete(&q.expr, "alpha_store");
            match prometheus.query(&expr).await {
                Ok(r) if !r.is_empty() => {}
                Ok(_) => empty.push((d.title.clone(), panel.to_string(), expr, "no data".into())),
                Err(e) => empty.push((d.title.clone(), panel.to_string(), expr, e)),
            }
        }
    }
    empty
}

/// One store under load, scraped by one Prometheus with the Store's rules,
/// shared by the claims below: each would otherwise wait its own minute of
/// scrapes. Started by the first claim that asks; its processes end with the
/// test binary (testenv's supervisor).
struct Loaded {
    _dir: tempfile::TempDir,
    t: Target,
    store: Store,
    _load: Process,
    prometheus: Prometheus,
}

/// The fault drill changes what the store answers: it takes [`Loaded`]
/// alone (write), the other claims share it (read).
static DRILL: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());

fn loaded() -> &'static Loaded {
    static LOADED: std::sync::OnceLock<Loaded> = std::sync::OnceLock::new();
    LOADED.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let t = monitored().resolved().monitored;
        let store = Store::start(dir.path(), &[]);
        let load = store.load(dir.path(), 900);
        let prometheus = Prometheus::start(dir.path(), &store.url, &t);
        // Rates over 1m need a minute of scrapes.
        std::thread::sleep(Duration::from_secs(65));
        Loaded {
            _dir: dir,
            t,
            store,
            _load: load,
            prometheus,
        }
    })
}

#[tokio::test]
async fn every_panel_has_data_but_the_documented_few() {
    let _shared = DRILL.read().await;
    let empty = empty_panels(&loaded().prometheus).await;
    let unexpected: Vec<_> = empty
        .iter()
        .filter(|(_, panel, _, why)| {
            why != "no data" || !EMPTY_WHEN_HEALTHY.iter().any(|(p, _)| p == panel)
        })
        .collect();
    assert!(
        unexpected.is_empty(),
        "panels without data or failing:\n{unexpected:#?}"
    );
}

#[tokio::test]
async fn every_query_variable_of_the_fleet_dashboards_lists_the_store() {
    let _shared = DRILL.read().await;
    let Loaded { t, prometheus, .. } = loaded();
    for d in all_dashboards() {
        for v in &d.variables {
            let Variable::LabelValues(name, label, selector, _) = v else {
                continue;
            };
            let selector = concrete(selector, "alpha_store");
            let answer = prometheus
                .get(
                    &format!("/api/v1/label/{label}/values"),
                    &[("match[]", &selector)],
                )
                .await;
            let values: Vec<&str> = answer["data"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            let want = if *label == "namespace" {
                t.namespace.as_str()
            } else {
                "alpha_store"
            };
            assert!(
                values.contains(&want),
                "{}: variable {name} (label_values({selector}, {label})) lists {values:?}, not {want}",
                d.title
            );
        }
    }
}

#[tokio::test]
async fn every_recording_rule_records_and_every_alert_expression_evaluates() {
    let _shared = DRILL.read().await;
    let Loaded { prometheus, .. } = loaded();
    for rule in compressed_groups().iter().flat_map(|g| &g.rules) {
        let result = prometheus.query(&rule.expr).await;
        match (&rule.record, result) {
            (Some(name), Ok(r)) => assert!(
                !r.is_empty(),
                "recording rule {name} has no data: {}",
                rule.expr
            ),
            (_, Err(e)) => panic!("{:?} does not evaluate: {e}\n{}", rule.alert, rule.expr),
            (None, Ok(_)) => {}
        }
    }
}

#[tokio::test]
async fn exemplars_of_the_latency_histogram_carry_trace_ids() {
    let _shared = DRILL.read().await;
    let start = (unix_now() - 120.0).to_string();
    let exemplars = loaded()
        .prometheus
        .get(
            "/api/v1/query_exemplars",
            &[
                ("query", "http_server_request_duration_seconds_bucket"),
                ("start", &start),
            ],
        )
        .await;
    let trace_ids: Vec<&str> = exemplars["data"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|s| s["exemplars"].as_array().into_iter().flatten())
        .filter_map(|e| e["labels"]["trace_id"].as_str())
        .collect();
    assert!(!trace_ids.is_empty(), "no trace_id exemplars: {exemplars}");
}

#[tokio::test]
async fn low_stock_fills_its_panel() {
    let _shared = DRILL.read().await;
    let Loaded {
        store, prometheus, ..
    } = loaded();
    // The load restocks laptop too (about every few seconds), so each try
    // sets it low again and reads the panel's own query two scrapes later
    // (CI failed once on a single set and 30 s of whole-dashboard sweeps).
    let low_stock: Vec<String> = all_dashboards()
        .iter()
        .flat_map(|d| d.queries())
        .filter(|(panel, _)| *panel == "Low stock")
        .map(|(_, q)| concrete(&q.expr, "alpha_store"))
        .collect();
    assert!(!low_stock.is_empty(), "no dashboard has a Low stock panel");
    eventually(
        "the Low stock panel has data",
        Duration::from_secs(60),
        || async {
            let status = store
                .admin(
                    reqwest::Method::PUT,
                    "/products/laptop/stock",
                    json!({"stock": 2}),
                )
                .await;
            assert_eq!(status, 200, "PUT /products/laptop/stock");
            tokio::time::sleep(Duration::from_secs(2)).await;
            for expr in &low_stock {
                if !prometheus.query(expr).await.is_ok_and(|r| !r.is_empty()) {
                    return Err(format!("no data: {expr}"));
                }
            }
            Ok(())
        },
    )
    .await;
}

/// The drill: errors on, the alert fires (and fills Firing alerts and the
/// dashboards' alert annotations); off, it resolves.
#[tokio::test]
async fn the_error_alert_fires_under_injected_errors_marks_the_dashboards_and_resolves() {
    let _alone = DRILL.write().await;
    let Loaded {
        store, prometheus, ..
    } = loaded();
    assert!(
        !prometheus.firing("StoreErrorRateSpike").await,
        "firing before the drill"
    );
    assert_eq!(
        store
            .admin(
                reqwest::Method::PUT,
                "/admin/faults",
                json!({"error_ratio": 0.5})
            )
            .await,
        200
    );
    let injected = Instant::now();
    eventually(
        "StoreErrorRateSpike firing",
        Duration::from_secs(90),
        || async {
            match prometheus.firing("StoreErrorRateSpike").await {
                true => Ok(()),
                false => Err("not firing".to_string()),
            }
        },
    )
    .await;
    eprintln!(
        "StoreErrorRateSpike fired {:.1} s after the fault",
        injected.elapsed().as_secs_f64()
    );
    let empty = empty_panels(prometheus).await;
    assert!(
        !empty.iter().any(|(_, p, _, _)| p == "Firing alerts"),
        "Firing alerts stays empty while an alert fires"
    );
    // The dashboards' alert annotations mark it.
    for d in all_dashboards() {
        let json = d.json();
        for a in json["annotations"]["list"].as_array().into_iter().flatten() {
            let Some(expr) = a["expr"].as_str() else {
                continue;
            };
            let found = prometheus.query(&concrete(expr, "alpha_store")).await;
            assert!(
                found.as_ref().is_ok_and(|r| !r.is_empty()),
                "{}: annotation {expr} finds no firing alert: {found:?}",
                d.title
            );
        }
    }
    assert_eq!(
        store
            .admin(reqwest::Method::DELETE, "/admin/faults", json!({}))
            .await,
        200
    );
    let cleared = Instant::now();
    eventually(
        "StoreErrorRateSpike resolved",
        Duration::from_secs(90),
        || async {
            match prometheus.firing("StoreErrorRateSpike").await {
                true => Err("still firing".to_string()),
                false => Ok(()),
            }
        },
    )
    .await;
    eprintln!(
        "StoreErrorRateSpike resolved {:.1} s after the fault was removed",
        cleared.elapsed().as_secs_f64()
    );
}

/// The series Grafana's service map and the Tempo datasource's span-metrics
/// links query (made by the collector's connectors), absent ones named.
async fn service_map_series(prometheus: &Prometheus) -> Vec<String> {
    let mut missing = Vec::new();
    for metric in [
        "traces_service_graph_request_total",
        "traces_service_graph_request_server_seconds_bucket",
        "traces_spanmetrics_calls_total",
        "traces_spanmetrics_duration_seconds_bucket",
    ] {
        let found = prometheus
            .query(&format!(
                r#"{metric}{{service_name="store-service"}} or {metric}{{server="store-service"}}"#
            ))
            .await
            .is_ok_and(|r| !r.is_empty());
        if !found {
            missing.push(metric.to_string());
        }
    }
    missing
}

/// Percent-encoding of a query parameter value.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// The collector config of the stack's ConfigMap.
fn stack_collector_config() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../charts/stack/otel-collector.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let map: Value = text
        .split("\n---\n")
        .map(|d| serde_yaml_ng::from_str::<Value>(d).unwrap())
        .find(|d| d["kind"] == "ConfigMap")
        .expect("no ConfigMap in otel-collector.yaml");
    serde_yaml_ng::from_str(map["data"]["config.yaml"].as_str().unwrap()).unwrap()
}

/// The stack's collector (`charts/stack/otel-collector.yaml`) on loopback:
/// its processors, connectors and pipelines as written there; the exporters
/// to Tempo and Loki become files (AGPL programs are not built here), the one
/// to Prometheus points at the test's Prometheus.
fn stack_collector(dir: &Path, prometheus_port: u16) -> Collector {
    let (traces, logs) = (Collector::traces_file(dir), Collector::logs_file(dir));
    let mut config = stack_collector_config();
    // Exporters by where they send: the stack's Services become files or loopback.
    let mut renamed = BTreeMap::new();
    let mut exporters = serde_json::Map::new();
    for (name, exporter) in config["exporters"].as_object().unwrap() {
        let endpoint = exporter["endpoint"].as_str().unwrap();
        let (new_name, new) = if endpoint.contains("tempo.") {
            ("file/traces", json!({"path": traces}))
        } else if endpoint.contains("loki.") {
            ("file/logs", json!({"path": logs}))
        } else if endpoint.contains("prometheus") {
            let mut e = exporter.clone();
            e["endpoint"] = json!(format!("http://127.0.0.1:{prometheus_port}/api/v1/otlp"));
            ("otlp_http/prometheus", e)
        } else {
            panic!("collector exporter {name} sends to {endpoint}: which test backend is that?")
        };
        renamed.insert(name.clone(), new_name);
        exporters.insert(new_name.to_string(), new);
    }
    config["exporters"] = Value::Object(exporters);
    for pipeline in config["service"]["pipelines"]
        .as_object_mut()
        .unwrap()
        .values_mut()
    {
        for e in pipeline["exporters"].as_array_mut().unwrap() {
            if let Some(new) = renamed.get(e.as_str().unwrap()) {
                *e = json!(new);
            }
        }
    }
    // Timing only: the connectors flush every 2 s instead of 15 s.
    for connector in config["connectors"].as_object_mut().unwrap().values_mut() {
        connector["metrics_flush_interval"] = json!("2s");
    }
    let program = testenv::programs::OTELCOL
        .path()
        .unwrap_or_else(|e| panic!("{e}"));
    Collector::start(&program, dir, config, None).unwrap_or_else(|e| panic!("{e}"))
}

/// The attribute keys TraceQL queries name with a scope (`resource.store.id`, `span.http.route`).
fn traceql_fields(expr: &str) -> Vec<(String, String)> {
    let re = regex::Regex::new(r"\b(resource|span)\.([a-z][a-z0-9_.]*[a-z0-9_])").unwrap();
    re.captures_iter(expr)
        .map(|c| (c[1].to_string(), c[2].to_string()))
        .collect()
}

#[tokio::test]
async fn an_exemplar_names_an_exported_trace_whose_logs_were_exported_and_spans_make_the_service_map()
 {
    let dir = tempfile::tempdir().unwrap();
    let t = monitored().resolved().monitored;
    let prometheus_port = testenv::wait::free_port().unwrap();
    let collector = stack_collector(dir.path(), prometheus_port);
    let store = Store::start(
        dir.path(),
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &collector.endpoint(false)),
            (
                "OTEL_RESOURCE_ATTRIBUTES",
                "k8s.namespace.name=shop,k8s.pod.name=store-alpha-7d9c5b6f4-x2v8k,service.instance.id=store-alpha-7d9c5b6f4-x2v8k",
            ),
        ],
    );
    let _load = store.load(dir.path(), 600);
    let prometheus = Prometheus::start_on(prometheus_port, dir.path(), &store.url, &t);
    tokio::time::sleep(Duration::from_secs(15)).await;
    // Failures and slow requests: warnings and error spans to find.
    assert_eq!(
        store
            .admin(
                reqwest::Method::PUT,
                "/admin/faults",
                json!({"error_ratio": 0.3, "latency_ms": 300})
            )
            .await,
        200
    );
    tokio::time::sleep(Duration::from_secs(8)).await;
    assert_eq!(
        store
            .admin(reqwest::Method::DELETE, "/admin/faults", json!({}))
            .await,
        200
    );
    tokio::time::sleep(Duration::from_secs(5)).await;

    // The purchases' exemplars, as Grafana asks Prometheus for them.
    let start = (unix_now() - 300.0) as u64;
    let exemplars = prometheus
        .get("/api/v1/query_exemplars", &[
            ("query", r#"http_server_request_duration_seconds_bucket{http_route="/products/{name}/buy"}"#),
            ("start", &start.to_string()),
        ])
        .await;
    let ids = testenv::prometheus::exemplar_trace_ids(&exemplars);
    assert!(!ids.is_empty(), "no purchase exemplar: {exemplars}");

    // Each of the last 20 exemplars is a server span the collector exported
    // (what Tempo would store), and its trace's logs were exported with it
    // (what Loki would store): both resources carry the store.
    let store_id = storeops_contract::resource::STORE_ID;
    let mut checked = 0;
    for id in ids.iter().rev().take(20) {
        eventually(
            &format!("the server span and logs of exemplar trace {id}"),
            Duration::from_secs(30),
            || async {
                let trace: Vec<(Value, Value)> = collector
                    .spans()
                    .into_iter()
                    .filter(|(_, s)| s["traceId"] == **id)
                    .collect();
                let server = trace.iter().any(|(r, s)| {
                    s["kind"] == 2 && attribute(&r["attributes"], store_id) == Some("alpha_store")
                });
                let span_ids: Vec<&Value> = trace.iter().map(|(_, s)| &s["spanId"]).collect();
                let logged = collector.log_records().iter().any(|(r, l)| {
                    l["traceId"] == **id
                        && span_ids.contains(&&l["spanId"])
                        && attribute(&r["attributes"], store_id) == Some("alpha_store")
                });
                match (server, logged) {
                    (true, true) => Ok(()),
                    _ => Err(format!("server span: {server}, its logs: {logged}")),
                }
            },
        )
        .await;
        checked += 1;
    }
    eprintln!(
        "{checked} exemplars: each a server span exported with logs of the same trace and spans"
    );

    // What the dashboards' LogQL and TraceQL select on is really emitted:
    // Loki's labels come from the resource (store.id -> store_id, service.name
    // -> service_name), detected_level from the severity, trace_id from the record.
    let records = collector.log_records();
    let service = storeops_contract::resource::SERVICE_NAME;
    assert!(records.iter().all(|(r, _)| {
        attribute(&r["attributes"], service)
            == Some(storeops_contract::resource::STORE_SERVICE_NAME)
            && attribute(&r["attributes"], store_id) == Some("alpha_store")
    }));
    assert!(
        records
            .iter()
            .any(|(_, l)| matches!(l["severityText"].as_str(), Some("WARN" | "ERROR"))),
        "no warning or error log record while faults were injected"
    );
    let all_spans = collector.spans();
    let mut fields = Vec::new();
    for d in all_dashboards() {
        for (panel, q) in d.queries() {
            if q.backend == Backend::Tempo {
                fields.extend(
                    traceql_fields(&q.expr)
                        .into_iter()
                        .map(|f| (d.title.clone(), panel.to_string(), f)),
                );
            }
        }
    }
    assert!(!fields.is_empty(), "no TraceQL attribute in any dashboard");
    for (dashboard, panel, (scope, key)) in &fields {
        let found = all_spans.iter().any(|(r, s)| {
            let attributes = if scope == "resource" {
                &r["attributes"]
            } else {
                &s["attributes"]
            };
            attributes
                .as_array()
                .is_some_and(|a| a.iter().any(|x| x["key"] == key.as_str()))
        });
        assert!(
            found,
            "{dashboard} / {panel}: no exported span has {scope}.{key}"
        );
    }

    // The connectors' span metrics and service graph reach Prometheus: the
    // APM dashboard's service map and the Tempo datasource's links read them.
    eventually(
        "the service graph and span metrics in Prometheus",
        Duration::from_secs(60),
        || async {
            match service_map_series(&prometheus).await {
                missing if missing.is_empty() => Ok(()),
                missing => Err(format!("missing {missing:?}")),
            }
        },
    )
    .await;
    for (name, query) in datasource_span_metric_queries() {
        // `$$` is Grafana provisioning's escape of `$`.
        let expr = query.replace("$$", "$").replace(
            "$__tags",
            r#"service_name="store-service", store_id="alpha_store""#,
        );
        let result = prometheus.query(&expr).await;
        assert!(
            result.as_ref().is_ok_and(|r| !r.is_empty()),
            "the Tempo datasource's {name:?} link: {expr}: {result:?}"
        );
    }
}

/// The Tempo datasource's trace-to-metrics queries in the stack's Grafana values.
fn datasource_span_metric_queries() -> Vec<(String, String)> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../charts/stack/kube-prometheus-stack.yaml");
    let values: Value = serde_yaml_ng::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let datasources = values["grafana"]["additionalDataSources"]
        .as_array()
        .expect("grafana.additionalDataSources");
    let tempo = datasources
        .iter()
        .find(|d| d["uid"] == "tempo")
        .expect("a datasource with uid tempo");
    let queries = tempo["jsonData"]["tracesToMetrics"]["queries"]
        .as_array()
        .unwrap();
    assert!(!queries.is_empty());
    queries
        .iter()
        .map(|q| {
            (
                q["name"].as_str().unwrap().to_string(),
                q["query"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}
