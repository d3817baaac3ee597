//! The observability stack of the kind path (`charts/stack/`), rendered by
//! the real helm from the pinned chart versions (`testbin/charts.sh`, through
//! the Go module proxy) with our values files, and checked for what the demo
//! needs: Prometheus takes every namespace's monitors and rules and keeps
//! exemplars, Grafana's sidecar finds the operator's dashboards, the
//! datasources link metrics, traces and logs, every address one component
//! gives another names a rendered Service, Loki, Tempo and the collector
//! accept their rendered configs (the real binaries verify them), and the
//! whole demo fits one 4 GiB kind node, and the real API server admits every
//! rendered object (dry run, strict fields, Pod Security). Installing it needs kind (a container
//! engine), which the development machines lack.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use operator::config::OperatorConfig;
use serde::Deserialize;
use serde_json::Value;
use testenv::operator::{repo_root, run_helm};
use testenv::process::Process;
use testenv::programs::{self, Program};

/// The namespace of the stack's releases (`make stack`).
const MONITORING: &str = "monitoring";
/// The Helm releases: each is rendered from `<charts>/<name>` with `charts/stack/<name>.yaml`.
const RELEASES: [&str; 3] = ["kube-prometheus-stack", "loki", "tempo"];
/// What a kind node's own components take besides the workloads: the control
/// plane (kube-apiserver ~300 MiB, etcd, controller-manager, scheduler),
/// kubelet and containerd, CoreDNS, kindnet, kube-proxy, local-path. An
/// estimate from kind clusters, not measured here (no container engine).
const KIND_SYSTEM_MIB: f64 = 768.0;
/// The kind node of the demo: Docker Desktop's default 4 GiB.
const NODE_MIB: f64 = 4096.0;

fn program(p: Program) -> PathBuf {
    p.path().unwrap_or_else(|e| panic!("{e}"))
}

fn documents(yaml: &str) -> Vec<Value> {
    serde_yaml_ng::Deserializer::from_str(yaml)
        .map(|d| Value::deserialize(d).unwrap_or_else(|e| panic!("bad YAML: {e}")))
        .filter(|v| !v.is_null())
        .collect()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn helm(args: &[&str]) -> String {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    run_helm(&args).unwrap_or_else(|e| panic!("{e}"))
}

fn values_file(release: &str) -> PathBuf {
    repo_root().join(format!("charts/stack/{release}.yaml"))
}

/// Every release rendered once per test binary, by release name; the
/// collector's plain manifests under "otel-collector".
fn stack() -> &'static BTreeMap<String, Vec<Value>> {
    static STACK: OnceLock<BTreeMap<String, Vec<Value>>> = OnceLock::new();
    STACK.get_or_init(|| {
        let charts = program(programs::STACK_CHARTS);
        let mut stack = BTreeMap::new();
        for release in RELEASES {
            let chart = charts.join(release).display().to_string();
            let values = values_file(release).display().to_string();
            let out = helm(&[
                "template",
                release,
                &chart,
                "--namespace",
                MONITORING,
                "-f",
                &values,
            ]);
            stack.insert(release.to_string(), documents(&out));
        }
        let collector = read(&values_file("otel-collector"));
        stack.insert("otel-collector".to_string(), documents(&collector));
        stack
    })
}

fn all_objects() -> impl Iterator<Item = &'static Value> {
    stack().values().flatten()
}

fn find(kind: &str, name: &str) -> &'static Value {
    all_objects()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("the stack renders no {kind} {name}"))
}

fn container<'a>(workload: &'a Value, name: &str) -> &'a Value {
    workload["spec"]["template"]["spec"]["containers"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["name"] == name))
        .unwrap_or_else(|| panic!("no container {name} in {}", workload["metadata"]["name"]))
}

fn env<'a>(container: &'a Value, name: &str) -> &'a str {
    container["env"]
        .as_array()
        .and_then(|vars| vars.iter().find(|v| v["name"] == name))
        .and_then(|v| v["value"].as_str())
        .unwrap_or_else(|| panic!("no {name} in the env of {}", container["name"]))
}

fn yaml_value(text: &str) -> Value {
    serde_yaml_ng::from_str(text).unwrap_or_else(|e| panic!("bad YAML ({e}):\n{text}"))
}

/// A ConfigMap's key, parsed as YAML.
fn config_map_yaml(name: &str, key: &str) -> Value {
    let text = find("ConfigMap", name)["data"][key]
        .as_str()
        .unwrap_or_else(|| panic!("ConfigMap {name} has no {key}"));
    yaml_value(text)
}

/// The three sample Stores of `manifests/stores/`, as `operator render` makes them.
fn sample_stores() -> Vec<Value> {
    let dir = repo_root().join("manifests/stores");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .iter()
        .flat_map(|f| {
            let text = read(f);
            let out = operator::render::render(
                &text,
                &f.display().to_string(),
                &OperatorConfig::default(),
                "shop",
            )
            .unwrap_or_else(|e| panic!("{e}"));
            documents(&out)
        })
        .collect()
}

/// `make -n <target>`: the commands the Makefile would run where registries
/// answer (the air-gapped variant: repo-tests/tests/repo/makefile.rs).
fn make_dry_run(target: &str) -> String {
    let out = Command::new("make")
        .current_dir(repo_root())
        .args([
            "--no-print-directory",
            "-n",
            target,
            "STOREOPS_AIRGAP=false",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "make -n {target}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).replace("\\\n", " ")
}

#[test]
fn make_stack_installs_the_chart_versions_rendered_here_with_these_values() {
    let charts = program(programs::STACK_CHARTS);
    let stack = make_dry_run("stack");
    let readme = read(&repo_root().join("charts/stack/README.md"));
    for release in RELEASES {
        let chart = yaml_value(&read(&charts.join(release).join("Chart.yaml")));
        let version = chart["version"].as_str().unwrap();
        let install = regex::Regex::new(&format!(
            r"upgrade --install {release} {release} --repo \S+\s+--version (\S+)\s+--namespace {MONITORING} -f charts/stack/{release}.yaml"
        ))
        .unwrap();
        let made = install
            .captures(&stack)
            .unwrap_or_else(|| panic!("make stack does not install {release}:\n{stack}"));
        assert_eq!(
            &made[1], version,
            "make stack installs {release} {}, the tests render {version}",
            &made[1]
        );
        let pin = format!("{release} --version {version}");
        assert!(
            read(&values_file(release)).contains(&pin),
            "charts/stack/{release}.yaml does not name `{pin}`"
        );
        assert!(
            readme.contains(&pin),
            "charts/stack/README.md does not name `{pin}`"
        );
    }
}

#[test]
fn prometheus_takes_monitors_and_rules_from_every_namespace_and_keeps_exemplars() {
    let spec = &find("Prometheus", "kube-prometheus-stack-prometheus")["spec"];
    // The operator's ServiceMonitors and PrometheusRules carry no release
    // label and live in the Stores' namespaces: empty selectors take all.
    for selector in [
        "serviceMonitorSelector",
        "serviceMonitorNamespaceSelector",
        "podMonitorSelector",
        "podMonitorNamespaceSelector",
        "ruleSelector",
        "ruleNamespaceSelector",
    ] {
        assert_eq!(
            spec[selector],
            serde_json::json!({}),
            "{selector} is not empty: {}",
            spec[selector]
        );
    }
    let features = spec["enableFeatures"].as_array().unwrap();
    assert!(
        features.iter().any(|f| f == "exemplar-storage"),
        "{features:?}"
    );
    assert_eq!(
        spec["enableOTLPReceiver"], true,
        "the collector's metrics pipeline (span metrics, service graph) writes here"
    );
    // Nothing remote-writes any more (Tempo's metrics generator is off):
    // no unauthenticated write endpoint left open.
    assert!(
        spec["enableRemoteWriteReceiver"].is_null() || spec["enableRemoteWriteReceiver"] == false,
        "{}",
        spec["enableRemoteWriteReceiver"]
    );
}

/// `alertmanager.yaml` of the config Secret the chart renders with our values.
fn alertmanager_config() -> String {
    let secret: k8s_openapi::api::core::v1::Secret = serde_json::from_value(
        find("Secret", "alertmanager-kube-prometheus-stack-alertmanager").clone(),
    )
    .unwrap();
    let data = secret.data.unwrap_or_default();
    String::from_utf8(data["alertmanager.yaml"].0.clone()).unwrap()
}

/// The Stores of one namespace share its alerts' `namespace` label: every
/// inhibit rule that compares alert names compares `store_id` too, so one
/// store's critical alert never silences another store's warning (the
/// chart's defaults compare only `namespace` and `alertname`). Read from the
/// Alertmanager config Secret the chart renders with our values.
#[test]
fn one_stores_critical_alert_inhibits_only_that_stores_warnings() {
    let text = alertmanager_config();
    let config = yaml_value(&text);
    let rules = config["inhibit_rules"].as_array().unwrap();
    let by_name: Vec<&Value> = rules
        .iter()
        .filter(|r| {
            r["equal"]
                .as_array()
                .is_some_and(|e| e.iter().any(|l| l == "alertname"))
        })
        .collect();
    assert!(
        by_name.len() >= 2,
        "the severity inhibit rules are gone: {text}"
    );
    for rule in by_name {
        assert!(
            rule["equal"]
                .as_array()
                .unwrap()
                .iter()
                .any(|l| l == "store_id"),
            "an inhibit rule ignores store_id: {rule}"
        );
    }
    // The rest of the chart's config is kept (values merge, lists replace).
    assert_eq!(config["route"]["receiver"], "null", "{text}");
}

/// The same through a real Alertmanager (the chart's tag, built by testbin)
/// running the rendered config: alpha_store's critical alert suppresses
/// alpha_store's warning of the same name and not beta_store's, in the
/// namespace both share; the API says which alert inhibits.
#[tokio::test]
async fn alertmanager_suppresses_a_warning_only_under_its_own_stores_critical_alert() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("alertmanager.yaml");
    std::fs::write(&config, alertmanager_config()).unwrap();
    let port = testenv::wait::free_port().unwrap();
    let args = [
        format!("--config.file={}", config.display()),
        format!("--storage.path={}", dir.path().join("data").display()),
        format!("--web.listen-address=127.0.0.1:{port}"),
        "--cluster.listen-address=".into(),
    ];
    let log = dir.path().join("alertmanager.log");
    let mut alertmanager = Process::start(
        "alertmanager",
        &program(programs::ALERTMANAGER),
        &args,
        &log,
    )
    .unwrap();
    alertmanager
        .wait_ready(
            "ready with the rendered config",
            Duration::from_secs(30),
            || testenv::wait::http_status(port, "/-/ready") == Some(200),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let alert = |store: &str, severity: &str| {
        serde_json::json!({"labels": {
            "alertname": "StoreErrorBudgetBurn", "namespace": "shop",
            "store_id": store, "severity": severity,
        }})
    };
    let posted = http
        .post(format!("{base}/api/v2/alerts"))
        .json(&serde_json::json!([
            alert("alpha_store", "critical"),
            alert("alpha_store", "warning"),
            alert("beta_store", "warning"),
        ]))
        .send()
        .await
        .unwrap();
    assert!(posted.status().is_success(), "{}", posted.status());
    let state = |alerts: &Value, store: &str, severity: &str| -> (String, usize) {
        let a = alerts
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["labels"]["store_id"] == store && a["labels"]["severity"] == severity)
            .unwrap_or_else(|| panic!("no {store} {severity} alert in {alerts}"));
        let status = &a["status"];
        (
            status["state"].as_str().unwrap_or_default().to_string(),
            status["inhibitedBy"].as_array().map_or(0, Vec::len),
        )
    };
    let start = std::time::Instant::now();
    loop {
        let alerts: Value = http
            .get(format!("{base}/api/v2/alerts"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let (alpha, beta) = (
            state(&alerts, "alpha_store", "warning"),
            state(&alerts, "beta_store", "warning"),
        );
        if alpha == ("suppressed".to_string(), 1) {
            assert_eq!(
                beta,
                ("active".to_string(), 0),
                "beta_store's warning is hidden by alpha_store's critical alert: {alerts}"
            );
            assert_eq!(state(&alerts, "alpha_store", "critical").0, "active");
            break;
        }
        assert!(
            start.elapsed().as_secs() < 15,
            "alpha_store's warning is not suppressed by its critical alert: {alerts}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

#[test]
fn grafanas_sidecar_loads_the_operators_dashboards_into_their_folders() {
    let grafana = find("Deployment", "kube-prometheus-stack-grafana");
    let sidecar = container(grafana, "grafana-sc-dashboard");
    assert_eq!(env(sidecar, "NAMESPACE"), "ALL");
    let (label, value) = (env(sidecar, "LABEL"), env(sidecar, "LABEL_VALUE"));
    let folder = env(sidecar, "FOLDER_ANNOTATION");
    let provider = config_map_yaml(
        "kube-prometheus-stack-grafana-config-dashboards",
        "provider.yaml",
    );
    assert_eq!(
        provider["providers"][0]["options"]["foldersFromFilesStructure"], true,
        "{provider}"
    );
    // The sidecar reads ConfigMaps in every namespace: a ClusterRole.
    let role = find("ClusterRole", "kube-prometheus-stack-grafana-clusterrole");
    assert!(
        role["rules"].as_array().unwrap().iter().any(|r| {
            r["resources"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x == "configmaps")
                && ["get", "watch", "list"]
                    .iter()
                    .all(|v| r["verbs"].as_array().unwrap().iter().any(|x| x == v))
        }),
        "{role}"
    );
    let dashboards: Vec<Value> = sample_stores()
        .into_iter()
        .filter(|o| {
            o["kind"] == "ConfigMap"
                && o["metadata"]["name"]
                    .as_str()
                    .unwrap()
                    .ends_with("-dashboard")
        })
        .collect();
    assert_eq!(dashboards.len(), 3, "one dashboard per sample Store");
    for d in &dashboards {
        let meta = &d["metadata"];
        assert_eq!(
            meta["labels"][label], value,
            "the sidecar would skip {}",
            meta["name"]
        );
        assert!(
            meta["annotations"][folder].is_string(),
            "{} has no {folder} annotation",
            meta["name"]
        );
    }
    let gamma = dashboards
        .iter()
        .find(|d| d["metadata"]["name"] == "store-gamma-dashboard");
    assert_eq!(
        gamma.unwrap()["metadata"]["annotations"][folder],
        "Bookshop"
    );
}

/// The provisioned datasources by uid (Grafana expands `$VAR` there: `$$` is a literal `$`).
fn datasources() -> BTreeMap<String, Value> {
    let config_map = all_objects()
        .find(|o| o["kind"] == "ConfigMap" && o["metadata"]["labels"]["grafana_datasource"] == "1")
        .expect("no datasource ConfigMap (label grafana_datasource: \"1\")");
    let text = config_map["data"]["datasource.yaml"].as_str().unwrap();
    yaml_value(text)["datasources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["uid"].as_str().unwrap_or_default().to_string(), d.clone()))
        .collect()
}

#[test]
fn the_datasources_link_metrics_traces_and_logs() {
    let ds = datasources();
    for uid in ["prometheus", "loki", "tempo"] {
        assert!(
            ds.contains_key(uid),
            "no datasource uid {uid}: {:?}",
            ds.keys()
        );
    }
    // The operator's dashboards pick the datasources by type through variables.
    assert_eq!(ds["prometheus"]["type"], "prometheus");
    assert_eq!(ds["loki"]["type"], "loki");
    assert_eq!(ds["tempo"]["type"], "tempo");
    // Exemplar (trace_id) -> Tempo.
    let exemplars = &ds["prometheus"]["jsonData"]["exemplarTraceIdDestinations"][0];
    assert_eq!(exemplars["datasourceUid"], "tempo", "{exemplars}");
    assert_eq!(
        exemplars["name"],
        storeops_contract::labels::TRACE_ID,
        "{exemplars}"
    );
    // Log line -> trace: structured metadata (OTLP) and JSON lines.
    let derived = ds["loki"]["jsonData"]["derivedFields"].as_array().unwrap();
    assert!(
        derived.iter().all(|f| f["datasourceUid"] == "tempo"),
        "{derived:?}"
    );
    assert!(
        derived
            .iter()
            .any(|f| f["matcherType"] == "label" && f["matcherRegex"] == "trace_id")
    );
    let json_line = format!(r#"{{"msg":"x","trace_id":"{}"}}"#, "ab".repeat(16));
    let regex = derived
        .iter()
        .find(|f| f["matcherType"] == "regex")
        .unwrap()["matcherRegex"]
        .as_str()
        .unwrap();
    assert!(
        regex::Regex::new(regex).unwrap().is_match(&json_line),
        "{regex}"
    );
    // Trace -> its logs (store.id -> store_id, Loki's index label), metrics and service map.
    let tempo = &ds["tempo"]["jsonData"];
    assert_eq!(tempo["tracesToLogsV2"]["datasourceUid"], "loki");
    let tags = tempo["tracesToLogsV2"]["tags"].as_array().unwrap();
    assert!(
        tags.iter()
            .any(|t| t["key"] == storeops_contract::resource::STORE_ID
                && t["value"] == storeops_contract::labels::STORE_ID),
        "{tags:?}"
    );
    assert_eq!(tempo["tracesToMetrics"]["datasourceUid"], "prometheus");
    assert_eq!(tempo["serviceMap"]["datasourceUid"], "prometheus");
}

/// Every rendered Service as `name.namespace` -> its ports.
fn services() -> BTreeMap<String, Vec<u64>> {
    all_objects()
        .filter(|o| o["kind"] == "Service")
        .map(|s| {
            let ns = s["metadata"]["namespace"].as_str().unwrap_or(MONITORING);
            let name = format!("{}.{ns}", s["metadata"]["name"].as_str().unwrap());
            let ports = s["spec"]["ports"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|p| p["port"].as_u64())
                .collect();
            (name, ports)
        })
        .collect()
}

/// Checks that `address` (`[scheme://]host:port[/path]`) names a rendered Service and port.
fn assert_names_a_service(services: &BTreeMap<String, Vec<u64>>, what: &str, address: &str) {
    let host_port = address
        .split("://")
        .last()
        .unwrap()
        .split('/')
        .next()
        .unwrap();
    let (host, port) = host_port
        .rsplit_once(':')
        .unwrap_or_else(|| panic!("{what}: {address} has no port"));
    let host = host
        .trim_end_matches(".svc.cluster.local")
        .trim_end_matches(".svc");
    let port: u64 = port.parse().unwrap();
    let ports = services.get(host).unwrap_or_else(|| {
        panic!(
            "{what}: {address} names no rendered Service; there are {:?}",
            services.keys()
        )
    });
    assert!(
        ports.contains(&port),
        "{what}: {address}: {host} serves {ports:?}"
    );
}

#[test]
fn every_address_one_component_gives_another_names_a_rendered_service() {
    let services = services();
    let collector = config_map_yaml("otel-collector", "config.yaml");
    let exporters = collector["exporters"].as_object().unwrap();
    assert_eq!(exporters.len(), 3, "{exporters:?}");
    for (name, exporter) in exporters {
        let endpoint = exporter["endpoint"].as_str().unwrap();
        assert_names_a_service(&services, &format!("collector exporter {name}"), endpoint);
    }
    for (uid, d) in datasources() {
        assert_names_a_service(
            &services,
            &format!("datasource {uid}"),
            d["url"].as_str().unwrap(),
        );
    }
    // Where the stores are told to send (`make deploy`).
    let deploy = make_dry_run("deploy");
    let otlp = regex::Regex::new(r"otlpEndpoint=(\S+)").unwrap();
    let endpoint = &otlp
        .captures(&deploy)
        .expect("make deploy sets no otlpEndpoint")[1];
    assert_names_a_service(&services, "the Makefile's otlpEndpoint", endpoint);
}

/// Panics with the program's output when it refuses the config.
fn verify(program: Program, args: &[&str], config: &str) {
    check_config(program, args, config).unwrap_or_else(|e| panic!("{e}\n{config}"));
}

/// Runs a program on a config written to a temp file (`{}` in `args`); its output when it refuses.
fn check_config(program: Program, args: &[&str], config: &str) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.yaml");
    std::fs::write(&path, config).unwrap();
    let bin = self::program(program);
    let args: Vec<String> = args
        .iter()
        .map(|a| a.replace("{}", &path.display().to_string()))
        .collect();
    let out = Command::new(&bin).args(&args).output().unwrap();
    if out.status.success() {
        return Ok(());
    }
    Err(format!(
        "{} {args:?} refused the rendered config:\n{}{}",
        program.name,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    ))
}

#[test]
fn loki_and_tempo_take_otlp_and_index_by_store() {
    // Loki and Tempo are AGPL: their binaries are never built here, so their
    // rendered configs are read structurally; their own checks run in users' clusters.
    let loki = yaml_value(
        find("ConfigMap", "loki")["data"]["config.yaml"]
            .as_str()
            .unwrap(),
    );
    let attributes =
        &loki["limits_config"]["otlp_config"]["resource_attributes"]["attributes_config"];
    assert!(
        attributes
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["action"] == "index_label"
                && a["attributes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|x| x == storeops_contract::resource::STORE_ID)),
        "store.id is not an index label: {attributes}"
    );
    // OTLP logs keep trace_id and span_id as structured metadata.
    assert_eq!(
        loki["limits_config"]["allow_structured_metadata"], true,
        "{}",
        loki["limits_config"]
    );

    let tempo = yaml_value(
        find("ConfigMap", "tempo")["data"]["tempo.yaml"]
            .as_str()
            .unwrap(),
    );
    let otlp = &tempo["distributor"]["receivers"]["otlp"]["protocols"];
    for (protocol, port) in [("grpc", ":4317"), ("http", ":4318")] {
        let endpoint = otlp[protocol]["endpoint"].as_str().unwrap_or_default();
        assert!(endpoint.ends_with(port), "tempo OTLP {protocol}: {otlp}");
    }
    // Span metrics and the service graph come from the collector's
    // connectors; a second source in Tempo would double every series.
    assert!(
        tempo["metrics_generator"].is_null()
            || tempo["overrides"]["defaults"]["metrics_generator"]["processors"]
                .as_array()
                .is_none_or(|p| p.is_empty()),
        "tempo's metrics generator runs: {}",
        tempo["overrides"]
    );
}

#[test]
fn the_collector_accepts_its_config_and_makes_span_metrics_and_the_service_graph() {
    let text = find("ConfigMap", "otel-collector")["data"]["config.yaml"]
        .as_str()
        .unwrap();
    verify(programs::OTELCOL, &["validate", "--config={}"], text);
    let config = yaml_value(text);
    let pipelines = &config["service"]["pipelines"];
    let names = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap().to_string())
            .collect()
    };
    let traces_to = names(&pipelines["traces"]["exporters"]);
    let metrics_from = names(&pipelines["metrics"]["receivers"]);
    for connector in ["span_metrics", "service_graph"] {
        assert!(traces_to.iter().any(|e| e == connector), "{traces_to:?}");
        assert!(
            metrics_from.iter().any(|r| r == connector),
            "{metrics_from:?}"
        );
    }
    // By store, as the dashboards and the datasources' links filter.
    let store_id = storeops_contract::resource::STORE_ID;
    let connectors = &config["connectors"];
    assert_eq!(
        connectors["span_metrics"]["dimensions"][0]["name"], store_id,
        "{connectors}"
    );
    assert_eq!(
        connectors["service_graph"]["dimensions"][0], store_id,
        "{connectors}"
    );
    // The metric names the Tempo datasource's links query.
    assert_eq!(
        connectors["span_metrics"]["namespace"], "traces.spanmetrics",
        "{connectors}"
    );
}

#[test]
fn a_config_with_a_mistake_is_refused_by_the_same_check() {
    // The check above is only worth something if it can fail.
    let text = find("ConfigMap", "otel-collector")["data"]["config.yaml"]
        .as_str()
        .unwrap();
    let broken = text.replace("limit_mib", "limit_mb");
    assert_ne!(broken, text);
    let message = check_config(programs::OTELCOL, &["validate", "--config={}"], &broken)
        .expect_err("the collector accepted limit_mb");
    assert!(message.contains("limit_mb"), "{message}");
}

/// Bytes of a Kubernetes memory quantity (`64Mi`, `1Gi`, `500M`, plain bytes).
fn mebibytes(quantity: &str) -> f64 {
    const UNITS: [(&str, f64); 6] = [
        ("Ki", 1024.0),
        ("Mi", 1048576.0),
        ("Gi", 1073741824.0),
        ("k", 1e3),
        ("M", 1e6),
        ("G", 1e9),
    ];
    let (number, scale) = UNITS
        .iter()
        .find_map(|(u, s)| quantity.strip_suffix(u).map(|n| (n, *s)))
        .unwrap_or((quantity, 1.0));
    let n: f64 = number
        .parse()
        .unwrap_or_else(|_| panic!("not a memory quantity: {quantity}"));
    n * scale / 1048576.0
}

/// One running container of the demo: where, how many copies, its memory.
struct Row {
    workload: String,
    container: String,
    copies: f64,
    request_mib: f64,
    limit_mib: f64,
}

/// The memory of a container spec; every container must set both.
fn row(workload: &str, copies: f64, c: &Value) -> Row {
    let name = c["name"].as_str().unwrap_or_default();
    let amount = |kind: &str| {
        let q = c["resources"][kind]["memory"]
            .as_str()
            .unwrap_or_else(|| panic!("{workload}/{name} sets no memory {kind}"));
        mebibytes(q)
    };
    Row {
        workload: workload.to_string(),
        container: name.to_string(),
        copies,
        request_mib: amount("requests"),
        limit_mib: amount("limits"),
    }
}

/// The prometheus-operator's config-reloader sidecar, as its flags give it.
fn config_reloader() -> Value {
    let args = container(
        find("Deployment", "kube-prometheus-stack-operator"),
        "kube-prometheus-stack",
    )["args"]
        .as_array()
        .unwrap()
        .clone();
    let flag = |name: &str| {
        args.iter()
            .filter_map(|a| {
                a.as_str()?
                    .strip_prefix(&format!("--config-reloader-memory-{name}="))
            })
            .next()
            .unwrap_or_else(|| panic!("no --config-reloader-memory-{name} in {args:?}"))
            .to_string()
    };
    serde_json::json!({"name": "config-reloader", "resources": {
        "requests": {"memory": flag("request")}, "limits": {"memory": flag("limit")}}})
}

/// The containers that run once the demo is up (init containers and the
/// install hooks' Jobs have finished by then).
fn rows(objects: &[&Value]) -> Vec<Row> {
    let mut rows = Vec::new();
    for o in objects {
        let kind = o["kind"].as_str().unwrap();
        let name = format!("{kind}/{}", o["metadata"]["name"].as_str().unwrap());
        let replicas = o["spec"]["replicas"].as_f64().unwrap_or(1.0);
        match kind {
            "Deployment" | "StatefulSet" | "DaemonSet" => {
                // A DaemonSet: one pod, on the one node.
                let copies = if kind == "DaemonSet" { 1.0 } else { replicas };
                for c in o["spec"]["template"]["spec"]["containers"]
                    .as_array()
                    .unwrap()
                {
                    rows.push(row(&name, copies, c));
                }
            }
            // The prometheus-operator runs these with a config-reloader sidecar.
            "Prometheus" | "Alertmanager" => {
                let main = serde_json::json!({"name": kind.to_lowercase(), "resources": o["spec"]["resources"]});
                rows.push(row(&name, replicas, &main));
                rows.push(row(&name, replicas, &config_reloader()));
            }
            _ => {}
        }
    }
    rows
}

#[test]
fn the_stack_three_stores_and_the_operator_fit_one_4gib_kind_node() {
    // The operator as `make deploy` installs it (the chart's defaults).
    let chart = repo_root().join("charts/storeops").display().to_string();
    let operator = documents(&helm(&[
        "template",
        "storeops",
        &chart,
        "--namespace",
        "storeops-system",
    ]));
    let stores = sample_stores();
    let loadgen = documents(&read(&repo_root().join("manifests/loadgen.yaml")));
    let mut objects: Vec<&Value> = all_objects().collect();
    objects.extend(operator.iter().chain(&stores).chain(&loadgen));
    let rows = rows(&objects);
    assert!(
        rows.iter()
            .filter(|r| r.workload.starts_with("Deployment/store-"))
            .count()
            == 3,
        "three store Deployments expected"
    );
    let mut table = String::from(
        "| workload | container | copies | request MiB | limit MiB |\n|---|---|---:|---:|---:|\n",
    );
    let (mut requests, mut limits) = (0.0, 0.0);
    for r in &rows {
        table += &format!(
            "| {} | {} | {} | {:.0} | {:.0} |\n",
            r.workload, r.container, r.copies, r.request_mib, r.limit_mib
        );
        requests += r.copies * r.request_mib;
        limits += r.copies * r.limit_mib;
    }
    table += &format!("| total | | | {requests:.0} | {limits:.0} |\n");
    table += &format!("| kind node's own components (estimate) | | | | {KIND_SYSTEM_MIB:.0} |\n");
    println!("{table}");
    // Even with every container at its limit, the node's own components keep their share.
    assert!(
        limits + KIND_SYSTEM_MIB <= NODE_MIB,
        "the demo's limits ({limits:.0} MiB) and the node's own {KIND_SYSTEM_MIB:.0} MiB exceed {NODE_MIB:.0} MiB:\n{table}"
    );
    assert!(requests < limits, "{table}");
}

/// Server-side apply of `object` as a dry run with strict field validation:
/// the API server checks it against the real schemas (CRDs included) and runs
/// admission (Pod Security), and keeps nothing.
async fn dry_run_apply(
    client: &kube::Client,
    object: &Value,
    namespace: &str,
) -> Result<(), String> {
    use kube::api::{DynamicObject, Patch, PatchParams, ValidationDirective};
    let mut object: DynamicObject = serde_json::from_value(object.clone()).unwrap();
    let api = {
        object
            .metadata
            .namespace
            .get_or_insert_with(|| namespace.to_string());
        testenv::manifests::api_for(client, &object)
            .await
            .map_err(|e| e.to_string())?
    };
    let params = PatchParams {
        dry_run: true,
        field_validation: Some(ValidationDirective::Strict),
        ..PatchParams::apply("storeops-stack-test").force()
    };
    let name = object.metadata.name.clone().unwrap_or_default();
    api.patch(&name, &params, &Patch::Apply(&object))
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[tokio::test]
async fn the_api_server_admits_the_stack_and_the_load_generator_strictly() {
    let plane = testenv::ControlPlane::start().unwrap_or_else(|e| panic!("{e}"));
    let client = plane.client().await.unwrap();
    // kube-prometheus-stack's CRDs (Prometheus, Alertmanager, ServiceMonitor, ...), as its chart ships them.
    let crds = program(programs::STACK_CHARTS).join("kube-prometheus-stack/charts/crds/crds");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&crds)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for file in &files {
        for crd in testenv::manifests::apply(&client, &read(file), "storeops-stack-test")
            .await
            .unwrap()
        {
            let name = crd.metadata.name.unwrap();
            testenv::operator::wait_established(&client, &name)
                .await
                .unwrap();
        }
    }
    let namespaces = read(&repo_root().join("manifests/namespaces.yaml"));
    testenv::manifests::apply(&client, &namespaces, "storeops-stack-test")
        .await
        .unwrap();

    let mut refused = Vec::new();
    let loadgen = documents(&read(&repo_root().join("manifests/loadgen.yaml")));
    let objects = all_objects()
        .map(|o| (o, MONITORING))
        .chain(loadgen.iter().map(|o| (o, "shop")));
    let mut admitted = 0;
    for (object, namespace) in objects {
        match dry_run_apply(&client, object, namespace).await {
            Ok(()) => admitted += 1,
            Err(e) => refused.push(format!(
                "{} {}: {e}",
                object["kind"], object["metadata"]["name"]
            )),
        }
    }
    assert!(refused.is_empty(), "refused:\n{}", refused.join("\n"));
    assert!(admitted > 100, "only {admitted} objects");
    println!(
        "{admitted} objects admitted (dry run, strict field validation); {} CRDs",
        files.len()
    );
}

/// Every string in `v` under a key `image`, and every image a Prometheus
/// Operator flag names (`--prometheus-config-reloader=<image>`).
fn images_in(v: &Value, out: &mut std::collections::BTreeSet<String>) {
    match v {
        Value::Object(map) => {
            for (key, value) in map {
                match value {
                    Value::String(s) if key == "image" => {
                        out.insert(s.clone());
                    }
                    _ => images_in(value, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| images_in(i, out)),
        Value::String(s) => {
            if let Some(image) = s.strip_prefix("--prometheus-config-reloader=") {
                out.insert(image.to_string());
            }
        }
        _ => {}
    }
}

fn script(path: &str, args: &[&str]) -> String {
    let out = Command::new("bash")
        .arg(repo_root().join(path))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{path} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Where no registry answers, `make stack` layers charts/stack/airgap/'s
/// overlay over ours: every image the stack then runs, Prometheus and
/// Alertmanager included, is one `hack/airgap/stack-images.sh` builds here
/// (and loads into the node), nothing runs kube-webhook-certgen, Grafana is
/// off, and the Prometheus Operator is told the Prometheus version it runs.
#[test]
fn the_air_gapped_stack_runs_only_images_built_here() {
    let charts = program(programs::STACK_CHARTS);
    let chart = charts.join("kube-prometheus-stack").display().to_string();
    let ours = values_file("kube-prometheus-stack").display().to_string();
    let overlay = repo_root()
        .join("charts/stack/airgap/kube-prometheus-stack.yaml")
        .display()
        .to_string();
    let rendered = documents(&helm(&[
        "template",
        "kube-prometheus-stack",
        &chart,
        "--namespace",
        MONITORING,
        "-f",
        &ours,
        "-f",
        &overlay,
    ]));
    let built: std::collections::BTreeSet<String> =
        script("hack/airgap/stack-images.sh", &["--list"])
            .lines()
            .map(|name| format!("docker.io/{name}"))
            .collect();
    let mut images = std::collections::BTreeSet::new();
    for doc in &rendered {
        images_in(doc, &mut images);
    }
    let collector = documents(&script(
        "hack/airgap/collector.sh",
        &["storeops/otelcol:0.160.0"],
    ));
    for doc in &collector {
        images_in(doc, &mut images);
    }
    let images: std::collections::BTreeSet<String> = images
        .into_iter()
        .map(|i| {
            if i.matches('/').count() == 1 {
                format!("docker.io/{i}")
            } else {
                i
            }
        })
        .collect();
    assert_eq!(images, built, "rendered images against those built here");
    for doc in &rendered {
        let (kind, name) = (&doc["kind"], &doc["metadata"]["name"]);
        assert!(
            !name.as_str().unwrap_or_default().contains("grafana")
                && !name.as_str().unwrap_or_default().contains("admission"),
            "{kind} {name} is rendered"
        );
        if kind == "Prometheus" {
            assert_eq!(doc["spec"]["version"], "v3.15.0", "{}", doc["spec"]);
        }
    }

    // The collector's variant sends traces and logs to its log instead of
    // Tempo and Loki, and the real collector accepts the config.
    let config = collector
        .iter()
        .find(|d| d["kind"] == "ConfigMap")
        .and_then(|d| d["data"]["config.yaml"].as_str())
        .unwrap();
    verify(programs::OTELCOL, &["validate", "--config={}"], config);
    let config = yaml_value(config);
    assert!(
        !config["exporters"]
            .as_object()
            .unwrap()
            .keys()
            .any(|e| e.contains("tempo") || e.contains("loki")),
        "{}",
        config["exporters"]
    );
    for signal in ["traces", "logs"] {
        assert_eq!(
            config["service"]["pipelines"][signal]["exporters"][0], "debug",
            "{}",
            config["service"]["pipelines"]
        );
    }
}

/// Seconds of a Prometheus duration (`30d`, `6h`, `1h30m`).
fn duration_seconds(text: &str) -> u64 {
    let (mut total, mut digits) = (0, String::new());
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86400,
            'w' => 7 * 86400,
            'y' => 365 * 86400,
            _ => panic!("{text}: unit {c}"),
        };
        total += digits.parse::<u64>().unwrap() * unit;
        digits.clear();
    }
    total
}

/// The demo Prometheus keeps every range the Store's rules and dashboards
/// query (the 3-day burn-rate window, the 30-day availability panels), so
/// no panel of a long-running demo is silently computed over less.
#[test]
fn prometheus_keeps_the_longest_range_the_rules_and_panels_query() {
    let spec = &find("Prometheus", "kube-prometheus-stack-prometheus")["spec"];
    let retention = duration_seconds(spec["retention"].as_str().expect("spec.retention"));
    let range = regex::Regex::new(r"\[([0-9]+[smhdwy])(:[0-9smhdwy]*)?\]").unwrap();
    let mut longest = (0, String::new());
    for object in sample_stores() {
        let text = serde_json::to_string(&object).unwrap();
        for cap in range.captures_iter(&text) {
            let seconds = duration_seconds(&cap[1]);
            if seconds > longest.0 {
                longest = (seconds, format!("{} in {}", &cap[1], object["kind"]));
            }
        }
    }
    assert!(
        longest.0 >= 30 * 86400,
        "the scan found no 30d panel: {longest:?}"
    );
    assert!(
        retention >= longest.0,
        "retention {} is shorter than {}",
        spec["retention"],
        longest.1
    );
}
