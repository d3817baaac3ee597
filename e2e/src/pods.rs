//! What only a cluster running real containers can show (kind, `make up`):
//! pods of the tests' own run to completion and tell their logs, the
//! load generator (`store-service loadgen`) runs inside the cluster and its
//! JSON summary is read back, and the store's API is reached through the
//! API server's proxy. The local control plane of `make e2e-local` has kwok's
//! fake nodes, where pods are only pretended: [`require_real_pods`] says so.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, DeleteParams, ListParams, LogParams, PostParams};
use kube::{Client, ResourceExt};
use serde_json::{Value, json};

use crate::{Env, eventually};

/// The store-service image (`make up` loads it; it has the `loadgen` subcommand, no shell).
pub const STORE_IMAGE: &str = "storeops/store-service:0.1.0";
/// A busybox-static image with `sh` and `wget` (`make up` loads it).
pub const BUSYBOX_IMAGE: &str = "storeops/busybox:bookworm";
/// The uid the tests' pods run as (the images' `nonroot`).
pub const RUN_AS_USER: i64 = 65532;
/// Port of a Store's Service (the operator's `build::service::SERVICE_PORT`).
pub const STORE_SERVICE_PORT: u16 = 80;
/// Port of the store-service container.
pub const STORE_CONTAINER_PORT: u16 = 8080;

/// Why `node` is a kwok fake node (kwok's annotation or the `type=kwok`
/// label the local control plane gives its nodes), or `None` for a real one.
pub fn kwok_marker(node: &Node) -> Option<String> {
    let annotated = node.annotations().get("kwok.x-k8s.io/node");
    let labelled = node.labels().get("type").is_some_and(|t| t == "kwok");
    match (annotated, labelled) {
        (Some(value), _) => Some(format!("annotation kwok.x-k8s.io/node={value}")),
        (None, true) => Some("label type=kwok".into()),
        (None, false) => None,
    }
}

/// Panics unless every node of the cluster runs real containers: these tests
/// need real pods, `make e2e` against kind (`make up`), not the kwok nodes of
/// `make e2e-local`.
pub async fn require_real_pods(client: &Client) {
    let nodes = Api::<Node>::all(client.clone())
        .list(&ListParams::default())
        .await
        .unwrap_or_else(|e| panic!("listing the nodes: {e}"));
    let fake: Vec<String> = nodes
        .items
        .iter()
        .filter_map(|n| kwok_marker(n).map(|why| format!("{} ({why})", n.name_any())))
        .collect();
    assert!(
        !nodes.items.is_empty() && fake.is_empty(),
        "these tests need real pods: run them by `make e2e` against kind (`make up`), \
         not against kwok's fake nodes (`make e2e-local`); fake nodes: {fake:?}, nodes: {}",
        nodes.items.len()
    );
}

/// [`Env::new`] after [`require_real_pods`]: no namespace is made on a
/// cluster of fake nodes.
pub async fn real_pods_env(prefix: &str) -> Env {
    let client = Client::try_default().await.unwrap_or_else(|e| {
        panic!("no cluster: set KUBECONFIG (make e2e uses the current context): {e}")
    });
    require_real_pods(&client).await;
    Env::new(prefix).await
}

/// A pod of one container that runs `args` once (restartPolicy Never) and
/// passes the restricted Pod Security Standard: non-root uid 65532, no
/// privilege escalation, every capability dropped, RuntimeDefault seccomp,
/// read-only root filesystem, no service account token. The image must be
/// on the node already (imagePullPolicy IfNotPresent, nothing is pulled).
pub fn restricted_pod(name: &str, image: &str, args: &[String]) -> Pod {
    serde_json::from_value(json!({
        "metadata": {"name": name, "labels": {"app.kubernetes.io/part-of": "storeops-e2e"}},
        "spec": {
            "restartPolicy": "Never",
            "automountServiceAccountToken": false,
            "enableServiceLinks": false,
            "securityContext": {
                "runAsNonRoot": true,
                "runAsUser": RUN_AS_USER,
                "runAsGroup": RUN_AS_USER,
                "seccompProfile": {"type": "RuntimeDefault"}
            },
            "containers": [{
                "name": "main",
                "image": image,
                "imagePullPolicy": "IfNotPresent",
                "args": args,
                "resources": {
                    "requests": {"cpu": "20m", "memory": "16Mi"},
                    "limits": {"cpu": "500m", "memory": "64Mi"}
                },
                "securityContext": {
                    "runAsNonRoot": true,
                    "runAsUser": RUN_AS_USER,
                    "allowPrivilegeEscalation": false,
                    "readOnlyRootFilesystem": true,
                    "capabilities": {"drop": ["ALL"]},
                    "seccompProfile": {"type": "RuntimeDefault"}
                }
            }]
        }
    }))
    .expect("a valid Pod")
}

/// The phase of a pod, `""` before it has one.
pub fn phase(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or_default()
}

/// Whether a pod runs, is not being deleted, and its Ready condition is True.
pub fn is_ready(pod: &Pod) -> bool {
    pod.metadata.deletion_timestamp.is_none()
        && phase(pod) == "Running"
        && pod
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// Creates `pod` in the test's namespace.
pub async fn start(env: &Env, pod: &Pod) {
    env.api::<Pod>()
        .create(&PostParams::default(), pod)
        .await
        .unwrap_or_else(|e| panic!("creating pod {}: {e}", pod.name_any()));
}

/// The log of pod `name` (all of it, stdout and stderr).
pub async fn logs(env: &Env, name: &str) -> Result<String, String> {
    env.api::<Pod>()
        .logs(name, &LogParams::default())
        .await
        .map_err(|e| format!("logs of pod {name}: {e}"))
}

/// Waits until pod `name` has run (phase Running or later).
pub async fn started(env: &Env, name: &str, timeout: Duration) -> Pod {
    let pods = env.api::<Pod>();
    eventually(&format!("pod {name} started"), timeout, || async {
        let pod = crate::exists(&pods, name).await?;
        match phase(&pod) {
            "Running" | "Succeeded" | "Failed" => Ok(pod),
            other => Err(format!("phase {other:?}; status {:?}", pod.status)),
        }
    })
    .await
}

/// Waits for pod `name` to finish and returns its log; panics with the log
/// when it failed, and after `timeout`.
pub async fn finished(env: &Env, name: &str, timeout: Duration) -> String {
    let pods = env.api::<Pod>();
    let pod = eventually(&format!("pod {name} finished"), timeout, || async {
        let pod = crate::exists(&pods, name).await?;
        match phase(&pod) {
            "Succeeded" | "Failed" => Ok(pod),
            other => Err(format!("phase {other:?}")),
        }
    })
    .await;
    let log = logs(env, name).await.unwrap_or_else(|e| e);
    assert_eq!(
        phase(&pod),
        "Succeeded",
        "pod {name} failed: {:?}\nlog:\n{log}",
        pod.status
            .as_ref()
            .and_then(|s| s.container_statuses.clone())
    );
    log
}

/// Creates `pod`, waits for it to succeed (panicking otherwise, with its
/// log) and returns its log.
pub async fn run_to_completion(env: &Env, pod: &Pod, timeout: Duration) -> String {
    start(env, pod).await;
    finished(env, &pod.name_any(), timeout).await
}

/// Deletes pod `name` (gracefully) and waits until it is gone.
pub async fn delete_and_wait(env: &Env, name: &str, timeout: Duration) {
    let pods = env.api::<Pod>();
    let _ = pods.delete(name, &DeleteParams::default()).await;
    eventually(&format!("pod {name} gone"), timeout, || async {
        match pods.get_opt(name).await {
            Ok(None) => Ok(()),
            Ok(Some(_)) => Err("still there".into()),
            Err(e) => Err(e.to_string()),
        }
    })
    .await
}

/// The pods of Store `name` (label `app.kubernetes.io/instance`), those
/// being deleted included.
pub async fn store_pods(env: &Env, name: &str) -> Result<Vec<Pod>, String> {
    env.api::<Pod>()
        .list(&ListParams::default().labels(&format!("app.kubernetes.io/instance={name}")))
        .await
        .map(|l| l.items)
        .map_err(|e| e.to_string())
}

/// A run of `store-service loadgen` in a pod of the test's namespace.
#[derive(Debug, Clone)]
pub struct Load {
    /// Base URL, e.g. the Store's `status.serviceUrl`.
    pub target: String,
    /// Requests per second in total.
    pub rate: f64,
    /// How long the load lasts.
    pub duration: Duration,
    /// Scenario weights, e.g. `browse=3,buy=1`.
    pub weights: String,
    /// How long the generator keeps trying to fetch the catalog at its start.
    pub wait_for_target: Duration,
}

impl Load {
    /// A load of `rate` requests per second for `duration` on `target`.
    pub fn new(target: &str, rate: f64, duration: Duration, weights: &str) -> Load {
        Load {
            target: target.to_string(),
            rate,
            duration,
            weights: weights.to_string(),
            wait_for_target: Duration::from_secs(60),
        }
    }

    /// The pod that runs it (restricted, the store-service image) and prints
    /// the JSON summary.
    pub fn pod(&self, name: &str) -> Pod {
        let args = [
            "loadgen".to_string(),
            "--target".into(),
            self.target.clone(),
            "--rate".into(),
            self.rate.to_string(),
            "--duration".into(),
            format!("{}ms", self.duration.as_millis()),
            "--weights".into(),
            self.weights.clone(),
            "--wait-for-target".into(),
            format!("{}s", self.wait_for_target.as_secs()),
            "--json".into(),
        ];
        restricted_pod(name, STORE_IMAGE, &args)
    }

    /// Runs it to completion in pod `name` and returns its summary.
    pub async fn run(&self, env: &Env, name: &str) -> LoadSummary {
        let log = run_to_completion(env, &self.pod(name), self.timeout()).await;
        LoadSummary::from_log(&log).unwrap_or_else(|e| panic!("{e}"))
    }

    /// How long its pod may take: start, catalog wait, load, with margin.
    pub fn timeout(&self) -> Duration {
        self.duration + self.wait_for_target + Duration::from_secs(60)
    }
}

/// The JSON summary `store-service loadgen --json` prints at its end.
#[derive(Debug, Clone)]
pub struct LoadSummary {
    /// Requests that got an HTTP response.
    pub requests: u64,
    /// Requests that got none (refused, reset, timed out).
    pub transport_errors: u64,
    /// Responses by HTTP status.
    pub statuses: BTreeMap<u16, u64>,
    /// Error responses by the API's error code (`out_of_stock`, `http_503`...).
    pub errors_by_code: BTreeMap<String, u64>,
    /// Seconds the load ran.
    pub duration_s: f64,
    /// The summary as printed.
    pub raw: Value,
}

impl LoadSummary {
    /// The summary in the generator's log: its last line that is a JSON object.
    pub fn from_log(log: &str) -> Result<LoadSummary, String> {
        let raw: Value = log
            .lines()
            .rev()
            .find_map(|l| {
                serde_json::from_str::<Value>(l.trim())
                    .ok()
                    .filter(Value::is_object)
            })
            .ok_or_else(|| format!("no JSON summary in the load generator's log:\n{log}"))?;
        let count = |key: &str| {
            raw[key]
                .as_u64()
                .ok_or_else(|| format!("summary without {key}: {raw}"))
        };
        let statuses = raw["statuses"]
            .as_object()
            .ok_or_else(|| format!("summary without statuses: {raw}"))?
            .iter()
            .map(|(k, v)| {
                Ok((
                    k.parse().map_err(|_| format!("status {k}"))?,
                    v.as_u64().unwrap_or(0),
                ))
            })
            .collect::<Result<_, String>>()?;
        let errors_by_code = raw["errors_by_code"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))
                    .collect()
            })
            .unwrap_or_default();
        Ok(LoadSummary {
            requests: count("requests")?,
            transport_errors: count("transport_errors")?,
            statuses,
            errors_by_code,
            duration_s: raw["duration_s"].as_f64().unwrap_or(0.0),
            raw,
        })
    }

    /// Responses with a status in `range`.
    pub fn with_status(&self, range: std::ops::RangeInclusive<u16>) -> u64 {
        self.statuses
            .iter()
            .filter(|(s, _)| range.contains(s))
            .map(|(_, n)| n)
            .sum()
    }

    /// Requests sent: answered or not.
    pub fn attempts(&self) -> u64 {
        self.requests + self.transport_errors
    }

    /// Requests the store failed: no response, or a 5xx.
    pub fn failed(&self) -> u64 {
        self.transport_errors + self.with_status(500..=599)
    }

    /// One line of figures, for the test's output.
    pub fn figures(&self) -> String {
        format!(
            "{} requests in {:.1} s ({} answered, {} transport errors), statuses {:?}, errors {:?}",
            self.attempts(),
            self.duration_s,
            self.requests,
            self.transport_errors,
            self.statuses,
            self.errors_by_code
        )
    }
}

/// `GET` of `path` on a Service or a Pod through the API server's proxy
/// (`/api/v1/namespaces/{ns}/{services|pods}/{name}:{port}/proxy{path}`).
pub async fn proxy_get(
    client: &Client,
    namespace: &str,
    kind: &str,
    name_port: &str,
    path: &str,
) -> Result<String, String> {
    let uri = format!("/api/v1/namespaces/{namespace}/{kind}/{name_port}/proxy{path}");
    let request = http::Request::get(&uri)
        .body(Vec::new())
        .map_err(|e| e.to_string())?;
    client
        .request_text(request)
        .await
        .map_err(|e| format!("GET {uri}: {e}"))
}

/// `POST` of a JSON body to `path` on Store `store`'s Service, through the
/// API server's proxy.
pub async fn proxy_post(
    env: &Env,
    store: &str,
    path: &str,
    body: &Value,
) -> Result<String, String> {
    let uri = format!(
        "/api/v1/namespaces/{}/services/store-{store}:{STORE_SERVICE_PORT}/proxy{path}",
        env.namespace
    );
    let request = http::Request::post(&uri)
        .header("content-type", "application/json")
        .body(serde_json::to_vec(body).expect("JSON"))
        .map_err(|e| e.to_string())?;
    env.client
        .request_text(request)
        .await
        .map_err(|e| format!("POST {uri}: {e}"))
}

fn stock_of(text: &str) -> Result<BTreeMap<String, i64>, String> {
    let products: Vec<Value> =
        serde_json::from_str(text).map_err(|e| format!("{e}: not a product list: {text}"))?;
    products
        .iter()
        .map(|p| match (p["name"].as_str(), p["stock"].as_i64()) {
            (Some(name), Some(stock)) => Ok((name.to_string(), stock)),
            _ => Err(format!("a product without name or stock: {p}")),
        })
        .collect()
}

/// The stock of every product of Store `store`, read through its Service
/// (`store-<name>`, port 80) by the API server's service proxy.
pub async fn stock(env: &Env, store: &str) -> Result<BTreeMap<String, i64>, String> {
    let service = format!("store-{store}:{STORE_SERVICE_PORT}");
    stock_of(
        &proxy_get(
            &env.client,
            &env.namespace,
            "services",
            &service,
            "/products",
        )
        .await?,
    )
}

/// The stock of every product as one store pod (`pod`) serves it, by the
/// API server's pod proxy.
pub async fn stock_of_pod(env: &Env, pod: &str) -> Result<BTreeMap<String, i64>, String> {
    let target = format!("{pod}:{STORE_CONTAINER_PORT}");
    stock_of(&proxy_get(&env.client, &env.namespace, "pods", &target, "/products").await?)
}

/// The units in stock over all products of Store `store`.
pub async fn total_stock(env: &Env, store: &str) -> Result<i64, String> {
    Ok(stock(env, store).await?.values().sum())
}

/// Appends or replaces the row of a markdown table file whose first cell is
/// `key`, creating the file (and its directories) with `header` (the header
/// and separator lines), or starting it afresh when its header is another.
/// Tests writing one file in parallel are serialised.
pub fn upsert_markdown_row(path: &std::path::Path, header: &str, key: &str, row: &str) {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    }
    let old = std::fs::read_to_string(path).unwrap_or_default();
    let prefix = format!("| {key} |");
    // A file with another header (columns changed since) starts afresh.
    let mut lines: Vec<String> = if old.starts_with(&format!("{header}\n")) {
        old.lines().map(str::to_string).collect()
    } else {
        header.lines().map(str::to_string).collect()
    };
    match lines.iter().position(|l| l.starts_with(&prefix)) {
        Some(i) => lines[i] = row.to_string(),
        None => lines.push(row.to_string()),
    }
    std::fs::write(path, lines.join("\n") + "\n")
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

/// Appends `row` to a markdown table file, creating the file (and its
/// directories) with `header` (the header and separator lines) first.
pub fn append_markdown_row(path: &std::path::Path, header: &str, row: &str) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    }
    let fresh = std::fs::read_to_string(path).map_or(true, |t| t.trim().is_empty());
    let text = if fresh {
        format!("{header}\n{row}\n")
    } else {
        format!("{row}\n")
    };
    use std::io::Write;
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

/// `target/kind-e2e/<file>` of the workspace, where the kind tier keeps its figures.
pub fn figures_path(file: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/kind-e2e")
        .join(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_is_the_last_json_line() {
        let log = "cannot list products at http://x: refused; retrying\n\
            {\"requests\":10,\"transport_errors\":2,\"statuses\":{\"200\":7,\"409\":1,\"503\":2},\
            \"errors_by_code\":{\"out_of_stock\":1,\"http_503\":2},\"duration_s\":3.0}\n";
        let s = LoadSummary::from_log(log).unwrap();
        assert_eq!((s.requests, s.transport_errors, s.attempts()), (10, 2, 12));
        assert_eq!(s.with_status(200..=299), 7);
        assert_eq!(s.failed(), 4);
        assert_eq!(s.errors_by_code["out_of_stock"], 1);
        assert!(LoadSummary::from_log("no summary").is_err());
    }

    #[test]
    fn kwok_nodes_are_told_apart() {
        let node =
            |meta: Value| -> Node { serde_json::from_value(json!({"metadata": meta})).unwrap() };
        assert!(kwok_marker(&node(json!({"name": "kind", "labels": {"type": "real"}}))).is_none());
        assert!(kwok_marker(&node(json!({"name": "k", "labels": {"type": "kwok"}}))).is_some());
        assert!(
            kwok_marker(&node(
                json!({"name": "k", "annotations": {"kwok.x-k8s.io/node": "fake"}})
            ))
            .is_some()
        );
    }

    #[test]
    fn a_row_is_replaced_by_its_key() {
        let dir = std::env::temp_dir().join(format!("e2e-md-{}", rand::random::<u32>()));
        let path = dir.join("t.md");
        let header = "| k | v |\n|---|---|";
        upsert_markdown_row(&path, header, "a", "| a | 1 |");
        upsert_markdown_row(&path, header, "b", "| b | 2 |");
        upsert_markdown_row(&path, header, "a", "| a | 3 |");
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, "| k | v |\n|---|---|\n| a | 3 |\n| b | 2 |\n");
        let other = "| k | v | w |\n|---|---|---|";
        upsert_markdown_row(&path, other, "a", "| a | 4 | 5 |");
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, "| k | v | w |\n|---|---|---|\n| a | 4 | 5 |\n");
        let _ = std::fs::remove_dir_all(dir);
    }
}
