//! The observability stack as `make stack` installs it on kind: Prometheus,
//! Alertmanager and the collector in `monitoring`, reached through the API
//! server's service proxy, and a store pod's admin API through a port-forward
//! (the API server drops the `Authorization` header it authenticated, so its
//! proxy cannot carry a store's bearer token).

use std::time::Duration;

use k8s_openapi::api::core::v1::{Pod, Secret};
use kube::Client;
use kube::api::{Api, ListParams, LogParams};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::pods::{STORE_CONTAINER_PORT, proxy_get};

/// The stack's namespace (`make stack`).
pub const MONITORING: &str = "monitoring";
/// Prometheus' Service and port (release kube-prometheus-stack).
pub const PROMETHEUS: &str = "kube-prometheus-stack-prometheus:9090";
/// Alertmanager's Service and port.
pub const ALERTMANAGER: &str = "kube-prometheus-stack-alertmanager:9093";
/// The collector's Deployment (charts/stack/otel-collector.yaml).
pub const COLLECTOR: &str = "otel-collector";

/// Encodes a query parameter's value (`application/x-www-form-urlencoded`,
/// as Prometheus' API reads its query string).
pub fn encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Fails, saying how to install it, when the stack is not in the cluster.
pub async fn require_stack(client: &Client) {
    if let Err(e) = proxy_get(client, MONITORING, "services", PROMETHEUS, "/-/ready").await {
        panic!(
            "no Prometheus of the stack answers ({e}): these tests need `make stack` \
             (part of `make up`; on a machine without registries it builds the stack's \
             images: hack/airgap/README.md)"
        );
    }
}

/// `GET` of a Prometheus or Alertmanager API path, parsed as JSON.
pub async fn api_json(client: &Client, service: &str, path: &str) -> Result<Value, String> {
    let text = proxy_get(client, MONITORING, "services", service, path).await?;
    serde_json::from_str(&text).map_err(|e| format!("{e}: {text}"))
}

/// The result vector of an instant PromQL query: `[(labels, value)]`.
pub async fn query(client: &Client, promql: &str) -> Result<Vec<(Value, f64)>, String> {
    let body = api_json(
        client,
        PROMETHEUS,
        &format!("/api/v1/query?query={}", encode(promql)),
    )
    .await?;
    if body["status"] != "success" {
        return Err(format!("{promql}: {body}"));
    }
    Ok(body["data"]["result"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|s| {
            let value = s["value"][1]
                .as_str()
                .and_then(|v| v.parse().ok())
                .unwrap_or(f64::NAN);
            (s["metric"].clone(), value)
        })
        .collect())
}

/// Prometheus' active scrape targets (`/api/v1/targets?state=active`).
pub async fn active_targets(client: &Client) -> Result<Vec<Value>, String> {
    let body = api_json(client, PROMETHEUS, "/api/v1/targets?state=active").await?;
    Ok(body["data"]["activeTargets"]
        .as_array()
        .cloned()
        .unwrap_or_default())
}

/// The alerts Alertmanager holds (`/api/v2/alerts`: active, silenced and inhibited).
pub async fn alertmanager_alerts(client: &Client) -> Result<Vec<Value>, String> {
    let body = api_json(client, ALERTMANAGER, "/api/v2/alerts").await?;
    body.as_array()
        .cloned()
        .ok_or_else(|| format!("not a list of alerts: {body}"))
}

/// The admin token of Store `store` (Secret `store-<name>-admin`, key `token`).
pub async fn admin_token(client: &Client, namespace: &str, store: &str) -> Result<String, String> {
    let secret = Api::<Secret>::namespaced(client.clone(), namespace)
        .get(&format!("store-{store}-admin"))
        .await
        .map_err(|e| e.to_string())?;
    let bytes = secret
        .data
        .and_then(|d| d.get("token").cloned())
        .ok_or("no key token")?;
    String::from_utf8(bytes.0).map_err(|e| e.to_string())
}

/// One HTTP/1.1 request to a store pod's port through a port-forward; the
/// response's status code and body.
pub async fn pod_request(
    client: &Client,
    namespace: &str,
    pod: &str,
    request: &str,
) -> Result<(u16, String), String> {
    let pods = Api::<Pod>::namespaced(client.clone(), namespace);
    let mut forward = pods
        .portforward(pod, &[STORE_CONTAINER_PORT])
        .await
        .map_err(|e| format!("port-forward to {pod}: {e}"))?;
    let mut stream = forward
        .take_stream(STORE_CONTAINER_PORT)
        .ok_or("no stream")?;
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .await
        .map_err(|e| e.to_string())?;
    drop(stream);
    let _ = forward.join().await;
    let response = String::from_utf8_lossy(&response).to_string();
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("not an HTTP response: {response}"))?;
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

/// `PUT /admin/faults` with `faults` (JSON) on every pod of Store `store`.
pub async fn set_faults(
    client: &Client,
    namespace: &str,
    store: &str,
    faults: &Value,
) -> Result<(), String> {
    let token = admin_token(client, namespace, store).await?;
    let body = faults.to_string();
    let pods = Api::<Pod>::namespaced(client.clone(), namespace)
        .list(&ListParams::default().labels(&format!("app.kubernetes.io/instance={store}")))
        .await
        .map_err(|e| e.to_string())?;
    for pod in pods.items {
        let name = pod.metadata.name.unwrap_or_default();
        let request = format!(
            "PUT /admin/faults HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let (status, answer) = pod_request(client, namespace, &name, &request).await?;
        if status != 200 {
            return Err(format!("PUT /admin/faults on {name}: {status} {answer}"));
        }
    }
    Ok(())
}

/// The log of the collector's pod (the `debug` exporter's output, where the
/// air-gapped stack sends traces and logs).
pub async fn collector_log(client: &Client) -> Result<String, String> {
    let pods = Api::<Pod>::namespaced(client.clone(), MONITORING);
    let list = pods
        .list(&ListParams::default().labels(&format!("app.kubernetes.io/name={COLLECTOR}")))
        .await
        .map_err(|e| e.to_string())?;
    let pod = list.items.first().ok_or("no collector pod")?;
    pods.logs(
        pod.metadata.name.as_deref().unwrap_or_default(),
        &LogParams {
            since_seconds: Some(Duration::from_secs(600).as_secs() as i64),
            ..LogParams::default()
        },
    )
    .await
    .map_err(|e| e.to_string())
}
