//! The test's view of the real programs on loopback: the store-service
//! binary itself, PostgreSQL, an OpenTelemetry Collector and Prometheus,
//! each started by testenv's launcher and stopped when its handle drops.
//! Here they only gain what these tests want: panics instead of errors, the
//! service configured through its environment, flattened OTLP items.

use std::path::PathBuf;
use std::process::ExitStatus;
use std::time::Duration;

use serde_json::{Value, json};
use testenv::store_service::{StoreService, Via};

pub use testenv::collector::ReceiverTls as CollectorTls;
pub use testenv::postgres::Postgres;

pub const ADMIN_TOKEN: &str = "test-admin-token-0123456789";

/// A catalog with a cheap product for concurrency and a pricey one for money.
pub const CATALOG: &str = r#"
- {name: apple, category: fruit, price: 0.5, stock: 100}
- {name: pear, category: fruit, price: 0.75, stock: 40}
- {name: laptop, category: electronics, price: 999.99, stock: 5}
"#;

/// Waiting and ports: testenv's, shared by every test crate.
pub use testenv::wait::wait_until;

/// A running store-service with its own directory (database, catalog, log),
/// configured through its environment (as the operator's pods are).
pub struct Server {
    pub port: u16,
    pub dir: tempfile::TempDir,
    pub database_url: String,
    service: Option<StoreService>,
    env: Vec<(String, String)>,
}

impl Server {
    /// SQLite in a fresh directory.
    pub fn sqlite() -> Server {
        Server::sqlite_with(&[])
    }

    /// SQLite with extra environment.
    pub fn sqlite_with(env: &[(&str, &str)]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/store.db", dir.path().display());
        Server::with_db(dir, url, env)
    }

    pub fn with_db(dir: tempfile::TempDir, database_url: String, env: &[(&str, &str)]) -> Server {
        std::fs::write(dir.path().join("catalog.yaml"), CATALOG).unwrap();
        let mut server = Server {
            port: 0,
            database_url,
            dir,
            service: None,
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        server.start();
        server
    }

    /// Starts (or restarts) the process on a new port and waits for /readyz.
    pub fn start(&mut self) {
        self.start_on(testenv::wait::free_port().unwrap());
    }

    /// Starts (or restarts) the process on `port` and waits for /readyz;
    /// its output is appended to the same log.
    pub fn start_on(&mut self, port: u16) {
        self.kill9();
        self.port = port;
        let mut settings =
            testenv::store_service::settings("alpha_store", self.dir.path(), port, ADMIN_TOKEN);
        settings.extend(
            [
                ("DATABASE_URL", self.database_url.as_str()),
                ("HOSTNAME", "store-alpha-0"),
                (
                    "OTEL_RESOURCE_ATTRIBUTES",
                    "k8s.namespace.name=shop,k8s.pod.name=store-alpha-0",
                ),
            ]
            .map(|(k, v)| (k.to_string(), v.to_string())),
        );
        settings.extend(self.env.iter().cloned());
        let binary = PathBuf::from(env!("CARGO_BIN_EXE_store-service"));
        let service = StoreService::start(&binary, self.dir.path(), &settings, Via::Environment);
        self.service = Some(service.unwrap_or_else(|e| panic!("{e}")));
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn stdout_path(&self) -> PathBuf {
        self.dir.path().join("store-service.log")
    }

    pub fn stdout(&self) -> String {
        std::fs::read_to_string(self.stdout_path()).unwrap_or_default()
    }

    /// The JSON log lines written so far.
    pub fn log_lines(&self) -> Vec<Value> {
        self.stdout()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// SIGKILL: no chance to flush anything.
    pub fn kill9(&mut self) {
        if let Some(mut service) = self.service.take() {
            service.process().kill();
        }
    }

    /// SIGTERM and wait for the exit status; panics if it has not exited
    /// within `timeout`.
    pub fn terminate(&mut self, timeout: Duration) -> ExitStatus {
        let mut service = self.service.take().expect("server running");
        service
            .process()
            .terminate(timeout)
            .unwrap_or_else(|e| panic!("{e}"))
    }
}

/// A small async client with JSON helpers.
#[derive(Clone)]
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
}

impl Client {
    pub fn new(server: &Server) -> Client {
        Client {
            http: reqwest::Client::new(),
            base: server.url(""),
        }
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        decode(r).await
    }

    pub async fn buy(&self, product: &str, quantity: Value) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}/products/{product}/buy", self.base))
            .json(&json!({ "quantity": quantity }))
            .send()
            .await
            .unwrap();
        decode(r).await
    }

    pub async fn set_stock(
        &self,
        product: &str,
        stock: Value,
        token: Option<&str>,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .put(format!("{}/products/{product}/stock", self.base))
            .json(&json!({ "stock": stock }));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        decode(req.send().await.unwrap()).await
    }

    pub async fn stock(&self, product: &str) -> i64 {
        let (status, body) = self.get(&format!("/products/{product}")).await;
        assert_eq!(status, 200, "{body}");
        body["stock"].as_i64().unwrap()
    }

    pub async fn metrics(&self, openmetrics: bool) -> String {
        let mut req = self.http.get(format!("{}/metrics", self.base));
        if openmetrics {
            req = req.header("accept", "application/openmetrics-text;version=1.0.0");
        }
        req.send().await.unwrap().text().await.unwrap()
    }
}

async fn decode(r: reqwest::Response) -> (u16, Value) {
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// The value of one sample in classic text exposition, e.g.
/// `app_items_sold_total{...,product_name="apple",...}`.
pub fn sample(text: &str, name: &str, label: &str) -> Option<f64> {
    text.lines()
        .filter(|l| l.starts_with(&format!("{name}{{")) || l.starts_with(&format!("{name} ")))
        .find(|l| label.is_empty() || l.contains(label))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
}

/// An OpenTelemetry Collector writing what it receives over OTLP to files
/// in its own directory.
pub struct Collector {
    inner: testenv::collector::Collector,
    _dir: tempfile::TempDir,
}

impl Collector {
    pub fn start() -> Collector {
        Collector::start_with(None)
    }

    /// OTLP over TLS on both receivers: endpoints are `https://127.0.0.1:PORT`.
    pub fn start_tls(tls: &CollectorTls) -> Collector {
        Collector::start_with(Some(tls))
    }

    fn start_with(tls: Option<&CollectorTls>) -> Collector {
        let dir = tempfile::tempdir().unwrap();
        let program = testenv::programs::OTELCOL
            .path()
            .unwrap_or_else(|e| panic!("{e}"));
        let inner = testenv::collector::Collector::to_files(&program, dir.path(), tls)
            .unwrap_or_else(|e| panic!("{e}"));
        Collector { inner, _dir: dir }
    }

    pub fn endpoint(&self, grpc: bool) -> String {
        self.inner.endpoint(grpc)
    }

    /// Every span received, its resource attributes flat under "resource"
    /// and its own under "attrs".
    pub fn spans(&self) -> Vec<Value> {
        flatten(self.inner.spans())
    }

    /// What the collector wrote about itself (start-up, TLS handshakes).
    pub fn log(&self) -> String {
        self.inner.log()
    }

    /// Every log record received, flattened as [`Collector::spans`].
    pub fn logs(&self) -> Vec<Value> {
        flatten(self.inner.log_records())
    }
}

fn flatten(items: Vec<(Value, Value)>) -> Vec<Value> {
    items
        .into_iter()
        .map(|(resource, mut item)| {
            item["resource"] = attributes(&resource["attributes"]);
            item["attrs"] = attributes(&item["attributes"]);
            item
        })
        .collect()
}

pub use testenv::otlp::attributes;

/// Prometheus scraping one target every second, exemplar storage on.
pub struct Prometheus {
    inner: testenv::prometheus::Prometheus,
    _dir: tempfile::TempDir,
}

impl Prometheus {
    pub fn scrape(target_port: u16) -> Prometheus {
        let dir = tempfile::tempdir().unwrap();
        let config = json!({
            "global": {"scrape_interval": "1s"},
            "scrape_configs": [{"job_name": "store",
                "static_configs": [{"targets": [format!("127.0.0.1:{target_port}")]}]}],
        });
        let program = testenv::programs::PROMETHEUS
            .path()
            .unwrap_or_else(|e| panic!("{e}"));
        let inner = testenv::prometheus::Prometheus::start(
            &program,
            dir.path(),
            &config,
            testenv::wait::free_port().unwrap(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        Prometheus { inner, _dir: dir }
    }

    pub async fn api(&self, path: &str) -> Value {
        let url = format!("{}/api/v1/{path}", self.inner.url());
        reqwest::get(url).await.unwrap().json().await.unwrap()
    }
}
