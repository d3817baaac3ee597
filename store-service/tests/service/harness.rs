//! Real programs on loopback for the tests: the store-service binary itself,
//! PostgreSQL (Debian's server), an OpenTelemetry Collector and Prometheus.
//! Each is stopped when its handle drops; a missing program fails the test
//! with the command that installs it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub const ADMIN_TOKEN: &str = "test-admin-token-0123456789";

/// A catalog with a cheap product for concurrency and a pricey one for money.
pub const CATALOG: &str = r#"
- {name: apple, category: fruit, price: 0.5, stock: 100}
- {name: pear, category: fruit, price: 0.75, stock: 40}
- {name: laptop, category: electronics, price: 999.99, stock: 5}
"#;

/// Waiting and ports: testenv's, shared by every test crate.
pub use testenv::wait::wait_until;

/// A free loopback port.
pub fn free_port() -> u16 {
    testenv::wait::free_port().expect("no free loopback port")
}

fn require(program: &Path, how: &str) -> PathBuf {
    assert!(program.exists(), "{} is missing: {how}", program.display());
    program.to_path_buf()
}

/// A running store-service with its own directory (database, catalog, stdout).
pub struct Server {
    pub port: u16,
    pub dir: tempfile::TempDir,
    pub database_url: String,
    child: Option<Child>,
    env: Vec<(String, String)>,
}

impl Server {
    /// SQLite in a fresh directory.
    pub fn sqlite() -> Server {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/store.db", dir.path().display());
        Server::with_db(dir, url, &[])
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
            child: None,
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
        self.start_on(free_port());
    }

    /// Starts (or restarts) the process on `port` and waits for /readyz.
    pub fn start_on(&mut self, port: u16) {
        self.port = port;
        let stdout = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.stdout_path())
            .unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_store-service"));
        cmd.arg("serve")
            .env_clear()
            .env("STORE_ID", "alpha_store")
            .env("PORT", self.port.to_string())
            .env("LISTEN_ADDRESS", "127.0.0.1")
            .env("DATABASE_URL", &self.database_url)
            .env("CATALOG_FILE", self.dir.path().join("catalog.yaml"))
            .env("ADMIN_TOKEN", ADMIN_TOKEN)
            .env("HOSTNAME", "store-alpha-0")
            .env(
                "OTEL_RESOURCE_ATTRIBUTES",
                "k8s.namespace.name=shop,k8s.pod.name=store-alpha-0",
            )
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdout(stdout.try_clone().unwrap())
            .stderr(stdout);
        let child = cmd.spawn().expect("spawn store-service");
        self.child = Some(child);
        let url = self.url("/readyz");
        wait_until("store-service /readyz", Duration::from_secs(20), || {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("store-service exited with {status}: {}", self.stdout());
            }
            blocking_get(&url).is_some_and(|(s, _)| s == 200)
        });
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn stdout_path(&self) -> PathBuf {
        self.dir.path().join("stdout.log")
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
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM and wait for the exit status.
    pub fn terminate(&mut self, timeout: Duration) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("server running");
        let ok = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("store-service did not exit within {timeout:?} of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
    }
}

fn blocking_get(url: &str) -> Option<(u16, String)> {
    let out = Command::new("curl")
        .args(["-s", "-m", "2", "-o", "-", "-w", "\n%{http_code}", url])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (body, code) = text.rsplit_once('\n')?;
    Some((code.parse().ok()?, body.to_string()))
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

/// Runs a command as the `postgres` user when we are root (PostgreSQL refuses root).
fn as_postgres(program: &Path) -> Command {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout == b"0\n")
        .unwrap_or(false);
    if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

/// A throwaway PostgreSQL server on a loopback port.
pub struct Postgres {
    bin: PathBuf,
    data: PathBuf,
    _dir: tempfile::TempDir,
    pub port: u16,
}

impl Postgres {
    pub fn start() -> Postgres {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()
            .and_then(|d| d.filter_map(|e| e.ok()).map(|e| e.path().join("bin")).max())
            .unwrap_or_else(|| PathBuf::from("/usr/lib/postgresql/NN/bin"));
        require(
            &bin.join("initdb"),
            "install Debian's PostgreSQL server: `make deps` (apt-get install postgresql)",
        );
        let dir = tempfile::Builder::new()
            .prefix("storeops-pg")
            .tempdir()
            .unwrap();
        let data = dir.path().join("data");
        let _ = Command::new("chown")
            .args(["-R", "postgres", &dir.path().display().to_string()])
            .status();
        let _ = Command::new("chmod")
            .args(["755", &dir.path().display().to_string()])
            .status();
        let out = as_postgres(&bin.join("initdb"))
            .args([
                "-D",
                &data.display().to_string(),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let port = free_port();
        let log = dir.path().join("postgres.log");
        let out = as_postgres(&bin.join("pg_ctl"))
            .args([
                "-D",
                &data.display().to_string(),
                "-l",
                &log.display().to_string(),
                "-w",
                "-t",
                "30",
                "start",
                "-o",
            ])
            .arg(format!(
                "-h 127.0.0.1 -p {port} -k {} -c fsync=on -c max_connections=100",
                dir.path().display()
            ))
            .stdout(Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "postgres did not start: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        Postgres {
            bin,
            data,
            _dir: dir,
            port,
        }
    }

    /// A new empty database; returns its URL.
    pub fn database(&self, name: &str) -> String {
        let out = Command::new(self.bin.join("psql"))
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                "-c",
                &format!("CREATE DATABASE {name}"),
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "CREATE DATABASE failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = as_postgres(&self.bin.join("pg_ctl"))
            .args([
                "-D",
                &self.data.display().to_string(),
                "-m",
                "immediate",
                "stop",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// An OpenTelemetry Collector (built from source by testbin/install.sh) that
/// writes what it receives over OTLP to JSON files.
pub struct Collector {
    child: Child,
    pub grpc_port: u16,
    pub http_port: u16,
    dir: tempfile::TempDir,
    scheme: &'static str,
}

/// PEM files that make the collector's receivers serve TLS.
pub struct CollectorTls {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    /// When set, clients must present a certificate this CA signed.
    pub client_ca_file: Option<PathBuf>,
}

impl CollectorTls {
    fn yaml(&self) -> String {
        let client_ca = self
            .client_ca_file
            .as_ref()
            .map(|f| format!(", client_ca_file: \"{}\"", f.display()))
            .unwrap_or_default();
        format!(
            ", tls: {{cert_file: \"{}\", key_file: \"{}\"{client_ca}}}",
            self.cert_file.display(),
            self.key_file.display()
        )
    }
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
        let bin = std::env::var_os("OTELCOL_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("otelcol-not-built"));
        let bin = require(
            &bin,
            "build the OpenTelemetry Collector with `make testbin` and run the tests through `make test` (it sets OTELCOL_BIN)",
        );
        let dir = tempfile::tempdir().unwrap();
        let (grpc_port, http_port) = (free_port(), free_port());
        let config = format!(
            r#"
receivers:
  otlp:
    protocols:
      grpc: {{endpoint: "127.0.0.1:{grpc_port}"{tls}}}
      http: {{endpoint: "127.0.0.1:{http_port}"{tls}}}
exporters:
  file/traces: {{path: "{out}/traces.json", flush_interval: 100ms}}
  file/logs: {{path: "{out}/logs.json", flush_interval: 100ms}}
service:
  telemetry:
    metrics: {{level: none}}
  pipelines:
    traces: {{receivers: [otlp], exporters: [file/traces]}}
    logs: {{receivers: [otlp], exporters: [file/logs]}}
"#,
            out = dir.path().display(),
            tls = tls.map(CollectorTls::yaml).unwrap_or_default(),
        );
        let config_path = dir.path().join("config.yaml");
        std::fs::write(&config_path, config).unwrap();
        let log = std::fs::File::create(dir.path().join("collector.log")).unwrap();
        let child = Command::new(bin)
            .arg(format!("--config={}", config_path.display()))
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let c = Collector {
            child,
            grpc_port,
            http_port,
            dir,
            scheme: if tls.is_some() { "https" } else { "http" },
        };
        wait_until("collector OTLP/HTTP port", Duration::from_secs(20), || {
            std::net::TcpStream::connect(("127.0.0.1", http_port)).is_ok()
                && std::net::TcpStream::connect(("127.0.0.1", grpc_port)).is_ok()
        });
        c
    }

    pub fn endpoint(&self, grpc: bool) -> String {
        format!(
            "{}://127.0.0.1:{}",
            self.scheme,
            if grpc { self.grpc_port } else { self.http_port }
        )
    }

    fn read(&self, file: &str) -> Vec<Value> {
        std::fs::read_to_string(self.dir.path().join(file))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// Every span received, each with its resource attributes under "resource".
    pub fn spans(&self) -> Vec<Value> {
        flatten(
            self.read("traces.json"),
            "resourceSpans",
            "scopeSpans",
            "spans",
        )
    }

    /// What the collector wrote about itself (start-up, TLS handshakes).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("collector.log")).unwrap_or_default()
    }

    /// Every log record received, each with its resource attributes under "resource".
    pub fn logs(&self) -> Vec<Value> {
        flatten(
            self.read("logs.json"),
            "resourceLogs",
            "scopeLogs",
            "logRecords",
        )
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn flatten(batches: Vec<Value>, resources: &str, scopes: &str, items: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for batch in batches {
        for rs in batch[resources].as_array().into_iter().flatten() {
            let resource = attributes(&rs["resource"]["attributes"]);
            for ss in rs[scopes].as_array().into_iter().flatten() {
                for item in ss[items].as_array().into_iter().flatten() {
                    let mut item = item.clone();
                    item["resource"] = resource.clone();
                    item["attrs"] = attributes(&item["attributes"]);
                    out.push(item);
                }
            }
        }
    }
    out
}

/// OTLP JSON attributes as a flat object of strings/numbers.
pub fn attributes(list: &Value) -> Value {
    let mut map = serde_json::Map::new();
    for kv in list.as_array().into_iter().flatten() {
        let v = &kv["value"];
        let value = v
            .get("stringValue")
            .or_else(|| v.get("intValue"))
            .or_else(|| v.get("boolValue"))
            .or_else(|| v.get("doubleValue"))
            .cloned()
            .unwrap_or(Value::Null);
        map.insert(kv["key"].as_str().unwrap_or_default().to_string(), value);
    }
    Value::Object(map)
}

/// Debian's Prometheus server scraping one target with exemplar storage on.
pub struct Prometheus {
    child: Child,
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl Prometheus {
    pub fn scrape(target_port: u16) -> Prometheus {
        let bin = require(
            Path::new("/usr/bin/prometheus"),
            "install Debian's Prometheus: `make deps` (apt-get install prometheus)",
        );
        let dir = tempfile::tempdir().unwrap();
        let config = format!(
            "global: {{scrape_interval: 1s}}\nscrape_configs:\n  - job_name: store\n    static_configs: [{{targets: ['127.0.0.1:{target_port}']}}]\n"
        );
        std::fs::write(dir.path().join("prometheus.yml"), config).unwrap();
        let port = free_port();
        let log = std::fs::File::create(dir.path().join("prometheus.log")).unwrap();
        let child = Command::new(bin)
            .arg(format!(
                "--config.file={}/prometheus.yml",
                dir.path().display()
            ))
            .arg(format!("--storage.tsdb.path={}/data", dir.path().display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--enable-feature=exemplar-storage")
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let p = Prometheus {
            child,
            port,
            _dir: dir,
        };
        wait_until("prometheus ready", Duration::from_secs(30), || {
            blocking_get(&format!("http://127.0.0.1:{port}/-/ready")).is_some_and(|(s, _)| s == 200)
        });
        p
    }

    pub async fn api(&self, path: &str) -> Value {
        let url = format!("http://127.0.0.1:{}/api/v1/{path}", self.port);
        reqwest::get(url).await.unwrap().json().await.unwrap()
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
