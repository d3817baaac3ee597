//! OTLP over TLS to a real OpenTelemetry Collector whose receivers serve a
//! certificate from a CA made for the test: the service trusts that CA
//! through `OTEL_EXPORTER_OTLP_CERTIFICATE` (and, for mutual TLS, presents a
//! client certificate from `OTEL_EXPORTER_OTLP_*CLIENT_*`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
};
use serde_json::json;
use storeops_contract::spans;

use crate::harness::{Client, Collector, CollectorTls, Server, wait_until};

const TRACE_ID: &str = "5bf92f3577b34da6a3ce929d0e0e4736";

/// A CA and the PEM files it signed, in a temporary directory.
struct TestPki {
    dir: tempfile::TempDir,
    issuer: Issuer<'static, KeyPair>,
}

impl TestPki {
    fn new() -> TestPki {
        let dir = tempfile::tempdir().unwrap();
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "storeops test CA");
        let cert = params.self_signed(&key).unwrap();
        std::fs::write(dir.path().join("ca.pem"), cert.pem()).unwrap();
        TestPki {
            dir,
            issuer: Issuer::new(params, key),
        }
    }

    fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// Writes `NAME.pem` and `NAME-key.pem`; returns their paths.
    fn leaf(
        &self,
        name: &str,
        sans: &[&str],
        usage: ExtendedKeyUsagePurpose,
    ) -> (PathBuf, PathBuf) {
        let key = KeyPair::generate().unwrap();
        let mut params =
            CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.extended_key_usages = vec![usage];
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        let (c, k) = (
            self.path(&format!("{name}.pem")),
            self.path(&format!("{name}-key.pem")),
        );
        std::fs::write(&c, cert.pem()).unwrap();
        std::fs::write(&k, key.serialize_pem()).unwrap();
        (c, k)
    }

    fn path(&self, file: &str) -> PathBuf {
        self.dir.path().join(file)
    }

    /// A collector serving a certificate for 127.0.0.1 and localhost.
    fn collector(&self, require_client_cert: bool) -> Collector {
        let (cert_file, key_file) = self.leaf(
            "collector",
            &["127.0.0.1", "localhost"],
            ExtendedKeyUsagePurpose::ServerAuth,
        );
        Collector::start_tls(&CollectorTls {
            cert_file,
            key_file,
            client_ca_file: require_client_cert.then(|| self.ca_file()),
        })
    }
}

fn path_str(p: &Path) -> String {
    p.display().to_string()
}

/// One purchase under our trace id; waits until its span and a log record
/// of the trace reached the collector.
async fn purchase_reaches(server: &Server, collector: &Collector) {
    let c = Client::new(server);
    let r = c
        .http
        .post(format!("{}/products/apple/buy", c.base))
        .header("traceparent", format!("00-{TRACE_ID}-00f067aa0ba902b7-01"))
        .json(&json!({"quantity": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let waited = std::panic::catch_unwind(|| {
        wait_until(
            "our span and log record at the TLS collector",
            Duration::from_secs(20),
            || {
                collector
                    .spans()
                    .iter()
                    .any(|s| s["name"] == spans::BUY_PRODUCT && s["traceId"] == TRACE_ID)
                    && collector.logs().iter().any(|l| l["traceId"] == TRACE_ID)
            },
        )
    });
    if waited.is_err() {
        panic!(
            "nothing arrived.\nservice:\n{}\ncollector:\n{}",
            server.stdout(),
            collector.log()
        );
    }
}

async fn tls_roundtrip(protocol: &str) {
    let pki = TestPki::new();
    let collector = pki.collector(false);
    let endpoint = collector.endpoint(protocol == "grpc");
    assert!(endpoint.starts_with("https://"));
    let ca = path_str(&pki.ca_file());
    let server = Server::sqlite_with(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
        ("OTEL_EXPORTER_OTLP_CERTIFICATE", &ca),
    ]);
    purchase_reaches(&server, &collector).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn traces_and_logs_reach_a_tls_collector_over_grpc() {
    tls_roundtrip("grpc").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn traces_and_logs_reach_a_tls_collector_over_http() {
    tls_roundtrip("http/protobuf").await;
}

/// Mutual TLS, each signal configured by its own variables: traces over
/// HTTP to a full per-signal URL (beating the generic `grpc`), logs over
/// gRPC (an empty per-signal protocol is unset); gzip, headers and timeouts
/// from the generic variables.
#[tokio::test(flavor = "multi_thread")]
async fn per_signal_settings_and_mutual_tls_reach_the_collector() {
    let pki = TestPki::new();
    let collector = pki.collector(true);
    let (client_cert, client_key) = pki.leaf(
        "store-service",
        &["store-service"],
        ExtendedKeyUsagePurpose::ClientAuth,
    );
    let traces = format!("{}/v1/traces", collector.endpoint(false));
    let logs = collector.endpoint(true);
    let (ca, cert, key) = (
        path_str(&pki.ca_file()),
        path_str(&client_cert),
        path_str(&client_key),
    );
    let server = Server::sqlite_with(&[
        ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", &traces),
        ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "HTTP/PROTOBUF"),
        ("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", &logs),
        ("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", ""),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ("OTEL_EXPORTER_OTLP_CERTIFICATE", &ca),
        ("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", &cert),
        ("OTEL_EXPORTER_OTLP_CLIENT_KEY", &key),
        ("OTEL_EXPORTER_OTLP_HEADERS", "x-tenant=shop%20one"),
        ("OTEL_EXPORTER_OTLP_COMPRESSION", "GZIP"),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "4000"),
        ("OTEL_TRACES_SAMPLER", ""),
    ]);
    purchase_reaches(&server, &collector).await;
}

/// Without the CA the collector's certificate is not trusted: nothing is
/// exported, requests still succeed, and the loss is counted.
#[tokio::test(flavor = "multi_thread")]
async fn an_untrusted_collector_gets_nothing_and_requests_do_not_care() {
    let pki = TestPki::new();
    let collector = pki.collector(false);
    let endpoint = collector.endpoint(false);
    let server = Server::sqlite_with(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
    ]);
    let c = Client::new(&server);
    let (status, body) = c.buy("apple", json!(1)).await;
    assert_eq!(status, 200, "{body}");
    let mut dropped = 0.0;
    for _ in 0..100 {
        let m = c.metrics(false).await;
        dropped = crate::harness::sample(&m, "app_telemetry_dropped_total", "signal=\"traces\"")
            .unwrap_or(0.0);
        if dropped > 0.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(dropped > 0.0, "no dropped spans counted");
    assert!(collector.spans().is_empty());
}
