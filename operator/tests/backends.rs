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
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use operator::monitoring::dashboards::{self, Backend, Dashboard, Variable};
use operator::monitoring::rules::{self, RuleGroup, Target};
use serde_json::{Value, json};
use testenv::process::Process;

const ADMIN_TOKEN: &str = "backends-admin-token-0123456789";
const CATALOG: &str = "- {name: apple, category: fruit, price: 0.5, stock: 100000}
- {name: pear, category: fruit, price: 0.75, stock: 100000}
- {name: laptop, category: electronics, price: 999.99, stock: 50000}
- {name: headphones, category: electronics, price: 149.0, stock: 50000}
";

fn program(variable: &str, how: &str) -> PathBuf {
    let path = std::env::var_os(variable)
        .map(PathBuf::from)
        .unwrap_or_else(|| panic!("{variable} is not set: {how}"));
    assert!(
        path.exists(),
        "{variable}={} does not exist: {how}",
        path.display()
    );
    path
}

/// The workspace's store-service binary, next to this test's directory.
fn store_service_bin() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let bin = exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("store-service");
    assert!(
        bin.exists(),
        "{} is missing: run `cargo build -p store-service` (make test builds it)",
        bin.display()
    );
    bin
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "{what}: not after {limit:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The Store the rules and dashboards are built for.
fn store() -> operator::api::Store {
    serde_yaml_ng::from_str(
        "apiVersion: storeops.dev/v1alpha1\nkind: Store\nmetadata: {name: alpha, namespace: shop}\n\
         spec: {storeId: alpha_store, displayName: Alpha}\n",
    )
    .unwrap()
}

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

fn compressed_groups(t: &Target) -> Vec<RuleGroup> {
    let mut groups = rules::groups(t);
    for rule in groups.iter_mut().flat_map(|g| g.rules.iter_mut()) {
        rule.expr = compress(&rule.expr);
        rule.for_ = rule.for_.as_deref().map(compress);
    }
    groups
}

struct Store {
    _process: Process,
    url: String,
}

impl Store {
    fn start(dir: &Path, extra_env: &[(&str, &str)]) -> Store {
        let port = free_port();
        std::fs::write(dir.join("catalog.yaml"), CATALOG).unwrap();
        let mut args = vec!["serve".to_string()];
        let env: BTreeMap<&str, String> = [
            ("store-id", "alpha_store".to_string()),
            ("port", port.to_string()),
            ("listen-address", "127.0.0.1".to_string()),
            (
                "database-url",
                format!("sqlite://{}/store.db", dir.display()),
            ),
            (
                "catalog-file",
                dir.join("catalog.yaml").display().to_string(),
            ),
            ("admin-token", ADMIN_TOKEN.to_string()),
        ]
        .into_iter()
        .chain(extra_env.iter().map(|(k, v)| (*k, v.to_string())))
        .collect();
        for (k, v) in &env {
            args.push(format!("--{k}={v}"));
        }
        let process = Process::start(
            "store-service",
            &store_service_bin(),
            &args,
            &dir.join("store-service.log"),
        )
        .unwrap();
        let url = format!("http://127.0.0.1:{port}");
        wait_until("store-service ready", Duration::from_secs(30), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        Store {
            _process: process,
            url,
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
            &store_service_bin(),
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
    _process: Process,
    url: String,
}

impl Prometheus {
    fn start(dir: &Path, store_url: &str, t: &Target) -> Prometheus {
        Prometheus::start_on(free_port(), dir, store_url, t)
    }

    /// On a port chosen earlier, so Tempo can remote-write to it.
    fn start_on(port: u16, dir: &Path, store_url: &str, t: &Target) -> Prometheus {
        let bin = program(
            "PROMETHEUS_BIN",
            "run `make testbin` (bash testbin/backends.sh prometheus)",
        );
        let rules = json!({"groups": compressed_groups(t)});
        std::fs::write(
            dir.join("rules.yaml"),
            serde_yaml_ng::to_string(&rules).unwrap(),
        )
        .unwrap();
        let target = store_url.trim_start_matches("http://");
        let config = json!({
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [dir.join("rules.yaml")],
            "scrape_configs": [{
                "job_name": t.job,
                "static_configs": [{"targets": [target], "labels": {
                    "namespace": t.namespace, "pod": format!("{}7d9c5b6f4-x2v8k", t.pod_prefix)}}],
            }],
        });
        std::fs::write(
            dir.join("prometheus.yaml"),
            serde_yaml_ng::to_string(&config).unwrap(),
        )
        .unwrap();
        let args = vec![
            format!("--config.file={}", dir.join("prometheus.yaml").display()),
            format!("--storage.tsdb.path={}", dir.join("tsdb").display()),
            format!("--web.listen-address=127.0.0.1:{port}"),
            "--enable-feature=exemplar-storage".into(),
            "--web.enable-otlp-receiver".into(),
            "--web.enable-remote-write-receiver".into(),
        ];
        let process =
            Process::start("prometheus", &bin, &args, &dir.join("prometheus.log")).unwrap();
        let url = format!("http://127.0.0.1:{port}");
        wait_until("prometheus ready", Duration::from_secs(60), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        Prometheus {
            _process: process,
            url,
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

fn all_dashboards() -> Vec<Dashboard> {
    let mut all = vec![operator::reconcile::build::dashboard::store_dashboard(
        &store(),
    )];
    all.extend(dashboards::fleet());
    all
}

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

#[tokio::test]
async fn prometheus_answers_every_panel_and_rule_and_the_error_alert_fires_and_resolves() {
    let dir = tempfile::tempdir().unwrap();
    let t = Target::of(&store());
    let store = Store::start(dir.path(), &[]);
    let _load = store.load(dir.path(), 600);
    let prometheus = Prometheus::start(dir.path(), &store.url, &t);
    // Rates over 1m need a minute of scrapes.
    tokio::time::sleep(Duration::from_secs(65)).await;

    // Every panel has data but the documented few.
    let empty = empty_panels(&prometheus).await;
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

    // Every query variable of the fleet dashboards lists the store.
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

    // Every recording rule records, every alert expression evaluates.
    for rule in compressed_groups(&t).iter().flat_map(|g| &g.rules) {
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

    // Exemplars of the latency histogram carry trace ids.
    let start = (chrono_now() - 120.0).to_string();
    let exemplars = prometheus
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

    // Low stock fills its panel.
    assert_eq!(
        store
            .admin(
                reqwest::Method::PUT,
                "/products/laptop/stock",
                json!({"stock": 2})
            )
            .await,
        200
    );
    eventually(
        "the Low stock panel has data",
        Duration::from_secs(30),
        || async {
            !empty_panels(&prometheus)
                .await
                .iter()
                .any(|(_, p, _, _)| p == "Low stock")
        },
    )
    .await;

    // The drill: errors on, the alert fires (and fills Firing alerts); off, it resolves.
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
        || prometheus.firing("StoreErrorRateSpike"),
    )
    .await;
    eprintln!(
        "StoreErrorRateSpike fired {:.1} s after the fault",
        injected.elapsed().as_secs_f64()
    );
    let empty = empty_panels(&prometheus).await;
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
        || async { !prometheus.firing("StoreErrorRateSpike").await },
    )
    .await;
    eprintln!(
        "StoreErrorRateSpike resolved {:.1} s after the fault was removed",
        cleared.elapsed().as_secs_f64()
    );
}

/// The series Grafana's service map queries, absent ones named.
async fn service_map_series(prometheus: &Prometheus) -> Vec<String> {
    let mut missing = Vec::new();
    for metric in [
        "traces_service_graph_request_total",
        "traces_service_graph_request_server_seconds_sum",
        "traces_spanmetrics_calls_total",
    ] {
        let found = prometheus
            .query(&format!(r#"{metric}{{source="tempo"}}"#))
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

fn chrono_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// Polls `probe` every half second until it holds.
async fn eventually<F, Fut>(what: &str, limit: Duration, mut probe: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !probe().await {
        assert!(start.elapsed() < limit, "{what}: not after {limit:?}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The repository's testbin scripts (one source for the backends' configs).
fn testbin_script(args: &[&str]) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testbin/backends.sh");
    let out = std::process::Command::new("bash")
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "backends.sh {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A program on loopback with a config file, ready when `ready_path` answers 200.
struct Server {
    _process: Process,
    url: String,
}

async fn start_backend(
    name: &str,
    bin: &Path,
    config: String,
    dir: &Path,
    http: u16,
    ready_path: &str,
) -> Server {
    let file = dir.join(format!("{name}.yaml"));
    std::fs::write(&file, config).unwrap();
    let args = vec![format!("-config.file={}", file.display())];
    let process = Process::start(name, bin, &args, &dir.join(format!("{name}.log"))).unwrap();
    let url = format!("http://127.0.0.1:{http}");
    let ready = format!("{url}{ready_path}");
    eventually(
        &format!("{name} ready"),
        Duration::from_secs(120),
        || async { reqwest::get(&ready).await.is_ok_and(|r| r.status() == 200) },
    )
    .await;
    Server {
        _process: process,
        url,
    }
}

async fn get_json(url: &str) -> (u16, Value) {
    match reqwest::get(url).await {
        Ok(r) => {
            let status = r.status().as_u16();
            (status, r.json().await.unwrap_or(Value::Null))
        }
        Err(e) => (0, json!(e.to_string())),
    }
}

/// An OpenTelemetry Collector: OTLP in, traces to Tempo, logs to Loki.
fn collector(dir: &Path, tempo_otlp_http: u16, loki_http: u16) -> (Process, u16) {
    let bin = program(
        "OTELCOL_BIN",
        "run `make testbin` (bash testbin/install.sh otelcol)",
    );
    let port = free_port();
    let config = json!({
        "receivers": {"otlp": {"protocols": {"http": {"endpoint": format!("127.0.0.1:{port}")}}}},
        "processors": {"batch": {"timeout": "200ms"}},
        "exporters": {
            "otlphttp/tempo": {"endpoint": format!("http://127.0.0.1:{tempo_otlp_http}"), "tls": {"insecure": true}},
            "otlphttp/loki": {"endpoint": format!("http://127.0.0.1:{loki_http}/otlp"), "tls": {"insecure": true}},
        },
        "service": {
            "telemetry": {"metrics": {"level": "none"}},
            "pipelines": {
                "traces": {"receivers": ["otlp"], "processors": ["batch"], "exporters": ["otlphttp/tempo"]},
                "logs": {"receivers": ["otlp"], "processors": ["batch"], "exporters": ["otlphttp/loki"]},
            },
        },
    });
    let file = dir.join("otelcol.yaml");
    std::fs::write(&file, serde_yaml_ng::to_string(&config).unwrap()).unwrap();
    let process = Process::start(
        "otelcol",
        &bin,
        &[format!("--config={}", file.display())],
        &dir.join("otelcol.log"),
    )
    .unwrap();
    wait_until("collector listening", Duration::from_secs(30), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    (process, port)
}

#[tokio::test]
async fn tempo_and_loki_answer_every_dashboard_query_and_link_traces_and_logs() {
    let dir = tempfile::tempdir().unwrap();
    let t = Target::of(&store());
    let (tempo_http, tempo_grpc, otlp_grpc, otlp_http, prometheus_port) = (
        free_port(),
        free_port(),
        free_port(),
        free_port(),
        free_port(),
    );
    let tempo_dir = dir.path().join("tempo");
    let tempo_config = testbin_script(&[
        "tempo-config",
        &tempo_dir.display().to_string(),
        &tempo_http.to_string(),
        &tempo_grpc.to_string(),
        &otlp_grpc.to_string(),
        &otlp_http.to_string(),
        // The metrics generator writes span metrics and the service graph.
        &format!("http://127.0.0.1:{prometheus_port}/api/v1/write"),
    ]);
    let tempo_bin = program(
        "TEMPO_BIN",
        "run `make testbin` (bash testbin/backends.sh tempo)",
    );
    let tempo = start_backend(
        "tempo",
        &tempo_bin,
        tempo_config,
        dir.path(),
        tempo_http,
        "/ready",
    )
    .await;
    let (loki_http, loki_grpc) = (free_port(), free_port());
    let loki_dir = dir.path().join("loki");
    let loki_config = testbin_script(&[
        "loki-config",
        &loki_dir.display().to_string(),
        &loki_http.to_string(),
        &loki_grpc.to_string(),
    ]);
    let loki_bin = program(
        "LOKI_BIN",
        "run `make testbin` (bash testbin/backends.sh loki)",
    );
    let loki = start_backend(
        "loki",
        &loki_bin,
        loki_config,
        dir.path(),
        loki_http,
        "/ready",
    )
    .await;
    let (_collector, collector_port) = collector(dir.path(), otlp_http, loki_http);

    let endpoint = format!("http://127.0.0.1:{collector_port}");
    let store = Store::start(
        dir.path(),
        &[
            ("otel-exporter-otlp-endpoint", &endpoint),
            (
                "otel-resource-attributes",
                "k8s.namespace.name=shop,k8s.pod.name=store-alpha-7d9c5b6f4-x2v8k,service.instance.id=store-alpha-7d9c5b6f4-x2v8k",
            ),
        ],
    );
    let _load = store.load(dir.path(), 600);
    let prometheus = Prometheus::start_on(prometheus_port, dir.path(), &store.url, &t);
    tokio::time::sleep(Duration::from_secs(20)).await;
    // Failures and slow requests, so the "failed" and "slow" queries have something to find.
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
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert_eq!(
        store
            .admin(reqwest::Method::DELETE, "/admin/faults", json!({}))
            .await,
        200
    );
    tokio::time::sleep(Duration::from_secs(5)).await;

    // An exemplar of a purchase: its trace is in Tempo, its logs in Loki.
    let start = (chrono_now() - 300.0) as u64;
    let end = chrono_now() as u64 + 5;
    let exemplars = prometheus
        .get("/api/v1/query_exemplars", &[
            ("query", r#"http_server_request_duration_seconds_bucket{http_route="/products/{name}/buy"}"#),
            ("start", &start.to_string()),
        ])
        .await;
    let ids: Vec<String> = exemplars["data"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|s| s["exemplars"].as_array().into_iter().flatten())
        .filter_map(|e| e["labels"]["trace_id"].as_str().map(str::to_string))
        .collect();
    let trace_id = ids
        .last()
        .unwrap_or_else(|| panic!("no purchase exemplar: {exemplars}"))
        .clone();
    // Every exemplar (the last 20) opens its trace in Tempo.
    for id in ids.iter().rev().take(20) {
        let url = format!("{}/api/traces/{id}", tempo.url);
        eventually(
            &format!("exemplar trace {id} in Tempo"),
            Duration::from_secs(30),
            || async { get_json(&url).await.0 == 200 },
        )
        .await;
    }

    let range = |q: &str| {
        format!(
            "{}/loki/api/v1/query_range?query={}&start={start}000000000&end={end}000000000&limit=100",
            loki.url,
            encode(q)
        )
    };
    let logs_of_trace = dashboards::workbench::trace_logs(&trace_id);
    eventually(
        "the logs of the exemplar's trace in Loki",
        Duration::from_secs(30),
        || async {
            let (_, v) = get_json(&range(&logs_of_trace)).await;
            v["data"]["result"]
                .as_array()
                .is_some_and(|r| !r.is_empty())
        },
    )
    .await;

    // A log line opens its trace: the trace_id of a warning in Loki is a trace in Tempo.
    let (_, warnings) = get_json(&range(&dashboards::store::store_error_logs("alpha_store"))).await;
    let logged_trace = warnings["data"]["result"]
        .as_array()
        .into_iter()
        .flatten()
        // Loki answers structured metadata (trace_id) among the stream's labels.
        .filter_map(|stream| stream["stream"]["trace_id"].as_str())
        .next()
        .unwrap_or_else(|| panic!("no warning with a trace_id in Loki: {warnings}"))
        .to_string();
    assert_eq!(
        get_json(&format!("{}/api/traces/{logged_trace}", tempo.url))
            .await
            .0,
        200,
        "trace {logged_trace} of a log line"
    );

    // Tempo's metrics generator feeds the service map in Prometheus.
    eventually(
        "the service graph and span metrics in Prometheus",
        Duration::from_secs(60),
        || async { service_map_series(&prometheus).await.is_empty() },
    )
    .await;

    // Every LogQL and TraceQL of the dashboards answers, with data.
    let mut failures = Vec::new();
    for d in all_dashboards() {
        for (panel, q) in d.queries() {
            let expr = q
                .expr
                .replace("${trace_id}", &trace_id)
                .replace("$store_id", "alpha_store");
            let ok = match q.backend {
                Backend::Prometheus => continue,
                Backend::Loki => {
                    let (status, v) = get_json(&range(&expr)).await;
                    status == 200
                        && v["data"]["result"]
                            .as_array()
                            .is_some_and(|r| !r.is_empty())
                }
                // Grafana draws the service map from the metrics generator's
                // series in the Prometheus the Tempo datasource names.
                Backend::Tempo if expr == "serviceMap" => {
                    service_map_series(&prometheus).await.is_empty()
                }
                Backend::Tempo if !expr.starts_with('{') => {
                    get_json(&format!("{}/api/traces/{expr}", tempo.url))
                        .await
                        .0
                        == 200
                }
                Backend::Tempo => {
                    let url = format!(
                        "{}/api/search?q={}&start={start}&end={end}&limit=20",
                        tempo.url,
                        encode(&expr)
                    );
                    let (status, v) = get_json(&url).await;
                    status == 200 && v["traces"].as_array().is_some_and(|t| !t.is_empty())
                }
            };
            if !ok {
                failures.push(format!("{} / {panel}: {expr}", d.title));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "queries without an answer:\n{}",
        failures.join("\n")
    );
}
