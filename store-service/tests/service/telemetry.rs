//! Metrics through real parsers (promtool, a Prometheus scrape), traces and
//! logs through a real OpenTelemetry Collector.

use std::time::Duration;

use serde_json::{Value, json};
use storeops_contract::{labels, metrics, resource, spans};

use crate::harness::{ADMIN_TOKEN, Client, Collector, Prometheus, Server, sample, wait_until};

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_SPAN: &str = "00f067aa0ba902b7";

fn traceparent() -> String {
    format!("00-{TRACE_ID}-{PARENT_SPAN}-01")
}

/// A purchase, a refusal and a miss, all under our trace context.
async fn traffic(c: &Client) -> reqwest::Response {
    for (path, quantity) in [("laptop", 1000), ("ghost", 1)] {
        c.http
            .post(format!("{}/products/{path}/buy", c.base))
            .json(&json!({ "quantity": quantity }))
            .send()
            .await
            .unwrap();
    }
    c.http
        .post(format!("{}/products/apple/buy", c.base))
        .header("traceparent", traceparent())
        .json(&json!({"quantity": 2}))
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_pass_promtool_and_carry_every_contract_name() {
    let server = Server::sqlite();
    let c = Client::new(&server);
    assert_eq!(traffic(&c).await.status().as_u16(), 200);
    assert_eq!(
        c.set_stock("pear", json!(41), Some(ADMIN_TOKEN)).await.0,
        200
    );

    let classic = c.metrics(false).await;
    let file = server.dir.path().join("metrics.txt");
    std::fs::write(&file, &classic).unwrap();
    let promtool = testenv::programs::PROMTOOL
        .path()
        .unwrap_or_else(|e| panic!("{e}"));
    let out = std::process::Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(std::fs::File::open(&file).unwrap())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    let store_label = format!("{}=\"alpha_store\"", labels::STORE_ID);
    for name in metrics::ALL {
        let series: Vec<&str> = classic
            .lines()
            .filter(|l| {
                l.starts_with(&format!("{name}{{")) || l.starts_with(&format!("{name}_bucket{{"))
            })
            .collect();
        assert!(!series.is_empty(), "{name} is not exposed");
        assert!(
            series.iter().all(|l| l.contains(&store_label)),
            "{name} lacks {store_label}"
        );
    }
    assert_eq!(
        sample(&classic, "app_items_sold_total", "product_name=\"apple\""),
        Some(2.0)
    );
    assert_eq!(
        sample(&classic, "app_revenue_total", "product_name=\"apple\""),
        Some(1.0)
    );
    assert_eq!(
        sample(&classic, "app_product_notfound_total", ""),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &classic,
            "app_errors_total",
            "app_error_code=\"insufficient_stock\""
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &classic,
            "app_product_stock_updates_total",
            "update_type=\"restock\""
        ),
        Some(1.0)
    );
    assert!(
        !classic.contains("ghost"),
        "user input must not become a label"
    );
    assert!(!classic.contains("# EOF") && !classic.contains("trace_id"));

    // OpenMetrics, when asked, with our trace id as an exemplar.
    let om = c.metrics(true).await;
    assert!(om.trim_end().ends_with("# EOF"));
    let exemplar = format!("# {{{}=\"{TRACE_ID}\"}}", labels::TRACE_ID);
    assert!(
        om.lines().any(
            |l| l.starts_with("http_server_request_duration_seconds_bucket")
                && l.contains("/buy")
                && l.contains(&exemplar)
        ),
        "no exemplar with {TRACE_ID}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn prometheus_scrapes_series_and_trace_exemplars() {
    let server = Server::sqlite();
    let c = Client::new(&server);
    let prom = Prometheus::scrape(server.port);
    let start = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - 60;
    assert_eq!(traffic(&c).await.status().as_u16(), 200);

    let mut found = Value::Null;
    for _ in 0..100 {
        let end = start + 3600;
        let r = prom
            .api(&format!("query_exemplars?query=http_server_request_duration_seconds_bucket&start={start}&end={end}"))
            .await;
        let ids = testenv::prometheus::exemplar_trace_ids(&r);
        if ids.iter().any(|id| id == TRACE_ID) {
            found = r;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        !found.is_null(),
        "Prometheus stored no exemplar with trace_id {TRACE_ID}"
    );
    let r = prom
        .api("query?query=app_items_sold_total%7Bproduct_name%3D%22apple%22%7D")
        .await;
    assert_eq!(
        r["data"]["result"][0]["metric"]["store_id"], "alpha_store",
        "{r}"
    );
    assert_eq!(r["data"]["result"][0]["value"][1], "2", "{r}");
}

fn find(items: &[Value], pred: impl Fn(&Value) -> bool) -> Option<&Value> {
    items.iter().find(|i| pred(i))
}

async fn otlp_roundtrip(grpc: bool) {
    let collector = Collector::start();
    let endpoint = collector.endpoint(grpc);
    let protocol = if grpc { "grpc" } else { "http/protobuf" };
    let server = Server::sqlite_with(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
    ]);
    let c = Client::new(&server);
    // One server error first (an injected fault), for `error.type`.
    let faults = format!("{}/admin/faults", c.base);
    let r = c
        .http
        .put(&faults)
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"error_ratio": 1.0}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let r = c
        .http
        .post(format!("{}/products/laptop/buy", c.base))
        .json(&json!({"quantity": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 500);
    let r = c
        .http
        .delete(&faults)
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let response = traffic(&c).await;
    assert_eq!(response.status().as_u16(), 200);
    let echoed = response.headers()["traceparent"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        echoed.starts_with(&format!("00-{TRACE_ID}-")),
        "traceparent out: {echoed}"
    );
    let server_span_id = echoed.split('-').nth(2).unwrap().to_string();

    wait_until(
        "spans and logs of our trace at the collector",
        Duration::from_secs(20),
        || {
            let spans = collector.spans();
            let logs = collector.logs();
            spans
                .iter()
                .any(|s| s["name"] == spans::BUY_PRODUCT && s["traceId"] == TRACE_ID)
                && logs.iter().any(|l| l["traceId"] == TRACE_ID)
        },
    );
    let all = collector.spans();
    let ours: Vec<Value> = all
        .iter()
        .filter(|s| s["traceId"] == TRACE_ID)
        .cloned()
        .collect();

    let http = find(&ours, |s| s["name"] == "POST /products/{name}/buy").expect("server span");
    assert_eq!(http["kind"], 2, "SPAN_KIND_SERVER");
    assert_eq!(
        http["parentSpanId"], PARENT_SPAN,
        "continues the caller's trace"
    );
    assert_eq!(
        http["spanId"],
        server_span_id.as_str(),
        "traceparent out names the server span"
    );
    assert_eq!(http["attrs"]["http.request.method"], "POST");
    assert_eq!(http["attrs"]["http.route"], "/products/{name}/buy");
    assert_eq!(http["attrs"]["http.response.status_code"], "200");
    assert_eq!(http["attrs"][spans::ATTR_URL_SCHEME], "http");
    assert!(
        http["attrs"].get(spans::ATTR_ERROR_TYPE).is_none(),
        "{http}"
    );
    // A 404 is the client's error: no `error.type` on the server span.
    let miss = find(&all, |s| {
        s["attrs"]["http.response.status_code"] == "404" && s["kind"] == 2
    })
    .expect("404 server span");
    assert!(
        miss["attrs"].get(spans::ATTR_ERROR_TYPE).is_none(),
        "{miss}"
    );
    // A 5xx carries its status code as `error.type`.
    let failed = find(&all, |s| {
        s["attrs"]["http.response.status_code"] == "500" && s["kind"] == 2
    })
    .expect("500 server span");
    assert_eq!(failed["attrs"][spans::ATTR_ERROR_TYPE], "500");
    assert_eq!(failed["attrs"][spans::ATTR_URL_SCHEME], "http");

    let buy = find(&ours, |s| s["name"] == spans::BUY_PRODUCT).expect("buy span");
    assert_eq!(buy["parentSpanId"], http["spanId"]);
    // Log events inside the span become span events too; the DESIGN's come in order.
    let events: Vec<&str> = buy["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .filter(|n| n.contains('.'))
        .collect();
    assert_eq!(
        events,
        [
            spans::EVENT_STOCK_CHECK_START,
            spans::EVENT_STOCK_CHECK_END,
            spans::EVENT_INVENTORY_UPDATE_END
        ]
    );
    // Stable database semantic conventions: `db.system.name`,
    // `db.operation.name`, `db.collection.name`, the span named
    // `{operation} {collection}`; not the deprecated `db.system`/`db.operation`.
    let db = find(&ours, |s| {
        s["attrs"][spans::ATTR_DB_OPERATION_NAME] == "UPDATE"
    })
    .expect("db span");
    assert_eq!(db["attrs"][spans::ATTR_DB_SYSTEM_NAME], "sqlite");
    assert_eq!(db["attrs"][spans::ATTR_DB_COLLECTION_NAME], "products");
    assert_eq!(db["name"], "UPDATE products");
    assert!(db["attrs"].get("db.system").is_none(), "{db}");
    assert!(db["attrs"].get("db.operation").is_none(), "{db}");
    assert_eq!(db["kind"], 3, "SPAN_KIND_CLIENT");

    let res = &http["resource"];
    assert_eq!(res[resource::SERVICE_NAME], resource::STORE_SERVICE_NAME);
    assert_eq!(res[resource::STORE_ID], "alpha_store");
    assert_eq!(res[resource::SERVICE_INSTANCE_ID], "store-alpha-0");
    assert_eq!(res[resource::K8S_NAMESPACE_NAME], "shop");
    assert_eq!(res[resource::K8S_POD_NAME], "store-alpha-0");
    assert!(res[resource::SERVICE_VERSION].is_string());
    assert_eq!(res["telemetry.sdk.name"], "opentelemetry");
    assert_eq!(res["telemetry.sdk.language"], "rust");
    assert!(res["telemetry.sdk.version"].is_string(), "{res}");

    // The refused purchase carries its error code.
    let refused = find(&all, |s| {
        s["name"] == spans::BUY_PRODUCT
            && s["attrs"][spans::ATTR_APP_ERROR_CODE] == "insufficient_stock"
    });
    assert!(
        refused.is_some(),
        "no span with app.error.code=insufficient_stock"
    );

    // Logs: OTLP records and stdout lines of the same request share its ids.
    let logs = collector.logs();
    let completed = find(&logs, |l| {
        l["traceId"] == TRACE_ID && l["body"]["stringValue"] == "purchase completed"
    })
    .expect("OTLP log");
    assert_eq!(completed["resource"][resource::STORE_ID], "alpha_store");
    let line = server
        .log_lines()
        .into_iter()
        .find(|l| l["msg"] == "purchase completed")
        .expect("stdout log line");
    assert_eq!(
        line["trace_id"], TRACE_ID,
        "the log line names the response's trace"
    );
    assert_eq!(line["span_id"], completed["spanId"]);
    for field in [
        "time",
        "level",
        "store_id",
        "service.name",
        "service.version",
        "service.instance.id",
    ] {
        assert!(
            line.get(field).is_some(),
            "stdout line lacks {field}: {line}"
        );
    }
    let stdout = server.stdout();
    assert!(
        !stdout.contains(ADMIN_TOKEN),
        "the admin token leaked into the logs"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn traces_and_logs_reach_a_collector_over_grpc() {
    otlp_roundtrip(true).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn traces_and_logs_reach_a_collector_over_http() {
    otlp_roundtrip(false).await;
}

/// With the backend gone, requests still succeed and the loss is counted.
#[tokio::test(flavor = "multi_thread")]
async fn closed_otlp_port_costs_requests_nothing_and_drops_are_counted() {
    let closed = format!("http://127.0.0.1:{}", testenv::wait::free_port().unwrap());
    let server = Server::sqlite_with(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", &closed),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
    ]);
    let c = Client::new(&server);
    // Misses: each makes spans and log lines, so both signals must drop.
    for _ in 0..200 {
        let (status, body) = c.get("/products/ghost").await;
        assert_eq!(status, 404, "{body}");
    }
    let (status, body) = c.buy("apple", json!(1)).await;
    assert_eq!(status, 200, "{body}");
    let mut dropped = (0.0, 0.0);
    for _ in 0..100 {
        let m = c.metrics(false).await;
        dropped = (
            sample(
                &m,
                metrics::APP_TELEMETRY_DROPPED_TOTAL,
                "signal=\"traces\"",
            )
            .unwrap_or(0.0),
            sample(&m, metrics::APP_TELEMETRY_DROPPED_TOTAL, "signal=\"logs\"").unwrap_or(0.0),
        );
        if dropped.0 >= 200.0 && dropped.1 >= 200.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        dropped.0 >= 200.0 && dropped.1 >= 200.0,
        "dropped spans/logs counted: {dropped:?}"
    );
}
