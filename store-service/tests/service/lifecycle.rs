//! Start-up refuses bad settings with one line; SIGTERM drains and flushes.

use std::process::Command;
use std::time::Duration;

use serde_json::json;

use crate::harness::{ADMIN_TOKEN, Client, Collector, Server, wait_until};

fn serve_with(env: &[(&str, &str)]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_store-service"))
        .arg("serve")
        .env_clear()
        .envs(env.iter().copied())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[test]
fn bad_settings_stop_start_up_with_one_line_naming_them() {
    let base = [
        ("STORE_ID", "alpha"),
        ("DATABASE_URL", "sqlite:///nonexistent-dir/x.db"),
    ];
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[], "STORE_ID"),
        (&[("STORE_ID", "Alpha Store")], "STORE_ID"),
        (&[("PORT", "http")], "PORT"),
        (&[("DATABASE_URL", "mysql://x")], "DATABASE_URL"),
        (&[("CATALOG_FILE", "/no/such/catalog.yaml")], "CATALOG_FILE"),
        (&[("ADMIN_TOKEN", "short")], "ADMIN_TOKEN"),
        (&[("LOG_LEVEL", "loud")], "LOG_LEVEL"),
        (&[("CURRENCY", "dollars")], "CURRENCY"),
        (
            &[("OTEL_TRACES_SAMPLER", "sometimes")],
            "OTEL_TRACES_SAMPLER",
        ),
        (
            &[
                ("OTEL_TRACES_SAMPLER", "traceidratio"),
                ("OTEL_TRACES_SAMPLER_ARG", "1.5"),
            ],
            "OTEL_TRACES_SAMPLER_ARG",
        ),
        (
            &[("OTEL_EXPORTER_OTLP_PROTOCOL", "carrier-pigeon")],
            "OTEL_EXPORTER_OTLP_PROTOCOL",
        ),
        (
            &[("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4317")],
            "OTEL_EXPORTER_OTLP_ENDPOINT",
        ),
        (
            &[("OTEL_RESOURCE_ATTRIBUTES", "k8s.pod.name")],
            "OTEL_RESOURCE_ATTRIBUTES",
        ),
        (
            &[("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")],
            "OTEL_EXPORTER_OTLP_PROTOCOL",
        ),
        (
            &[("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "collector:4318")],
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        ),
        (
            &[("OTEL_EXPORTER_OTLP_LOGS_HEADERS", "authorization")],
            "OTEL_EXPORTER_OTLP_LOGS_HEADERS",
        ),
        (
            &[("OTEL_EXPORTER_OTLP_TIMEOUT", "10s")],
            "OTEL_EXPORTER_OTLP_TIMEOUT",
        ),
        (
            &[("OTEL_EXPORTER_OTLP_COMPRESSION", "brotli")],
            "OTEL_EXPORTER_OTLP_COMPRESSION",
        ),
        (
            &[("OTEL_EXPORTER_OTLP_CERTIFICATE", "/no/such/ca.pem")],
            "OTEL_EXPORTER_OTLP_CERTIFICATE",
        ),
        (
            &[("OTEL_EXPORTER_OTLP_CLIENT_KEY", "/no/such/key.pem")],
            "OTEL_EXPORTER_OTLP_CLIENT_KEY",
        ),
        (
            &[("OTEL_TRACES_EXPORTER", "zipkin")],
            "OTEL_TRACES_EXPORTER",
        ),
        (&[("DATABASE_URL", "")], "DATABASE_URL"),
        (&[("DATABASE_URL", "store.db")], "DATABASE_URL"),
        (&[("DATABASE_URL", "sqlite::memory:")], "DATABASE_URL"),
        (&[("DATABASE_URL", "sqlite://:memory:")], "DATABASE_URL"),
        (
            &[("DATABASE_URL", "sqlite://x.db?mode=memory")],
            "DATABASE_URL",
        ),
        (&[("DATABASE_URL", "sqlite://")], "DATABASE_URL"),
        (&[("DATABASE_URL", "sqlite://x.db?mode=ro")], "DATABASE_URL"),
        (
            &[("DATABASE_URL", "sqlite://x.db?journal=wal")],
            "DATABASE_URL",
        ),
        (&[("DATABASE_URL", "sqlite:///tmp")], "DATABASE_URL"),
        (
            &[("DATABASE_URL", "postgres://u:hunter2@db:99999/store")],
            "DATABASE_URL",
        ),
    ];
    for (i, (overrides, named)) in cases.iter().enumerate() {
        // Case 0 runs without STORE_ID at all; the others override the base.
        let mut env: Vec<(&str, &str)> = base
            .iter()
            .copied()
            .filter(|(k, _)| {
                let dropped = i == 0 && *k == "STORE_ID";
                !dropped && !overrides.iter().any(|(o, _)| o == k)
            })
            .collect();
        env.extend_from_slice(overrides);
        let (code, stderr) = serve_with(&env);
        assert_eq!(code, 2, "{overrides:?}: {stderr}");
        assert_eq!(
            stderr.trim().lines().count(),
            1,
            "{overrides:?}: not one line: {stderr}"
        );
        assert!(
            stderr.contains(named),
            "{overrides:?}: does not name {named}: {stderr}"
        );
    }
    // Secrets stay out of the message.
    let (_, stderr) = serve_with(&[
        ("STORE_ID", "a"),
        ("DATABASE_URL", "mysql://user:hunter2@db"),
    ]);
    assert!(!stderr.contains("hunter2"), "{stderr}");
    let (_, stderr) = serve_with(&[
        ("STORE_ID", "a"),
        ("DATABASE_URL", "postgres://user:hunter2@db:99999/store"),
    ]);
    assert!(!stderr.contains("hunter2"), "{stderr}");
    let (_, stderr) = serve_with(&[
        ("STORE_ID", "a"),
        ("DATABASE_URL", "sqlite://x.db"),
        ("OTEL_EXPORTER_OTLP_HEADERS", "authorization=hunter2%zz"),
    ]);
    assert!(!stderr.contains("hunter2"), "{stderr}");
}

/// clap's own message for a value that is not UTF-8 names nothing.
#[test]
fn a_value_that_is_not_utf8_is_named() {
    use std::os::unix::ffi::OsStrExt;
    let out = Command::new(env!("CARGO_BIN_EXE_store-service"))
        .arg("serve")
        .env_clear()
        .env("STORE_ID", "a")
        // Should the variable be ignored, start-up still ends (exit 1), not serves.
        .env("DATABASE_URL", "sqlite:///nonexistent-dir/x.db")
        .env(
            "OTEL_EXPORTER_OTLP_HEADERS",
            std::ffi::OsStr::from_bytes(b"k=\xff"),
        )
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("OTEL_EXPORTER_OTLP_HEADERS"), "{stderr}");
}

/// An in-memory SQLite database would be one per connection: refused before
/// connecting, saying why, instead of failing on a missing table.
#[test]
fn in_memory_sqlite_is_refused_with_the_reason() {
    for url in [
        "sqlite::memory:",
        "sqlite://:memory:",
        "sqlite://?mode=memory",
    ] {
        let (code, stderr) = serve_with(&[("STORE_ID", "a"), ("DATABASE_URL", url)]);
        assert_eq!(code, 2, "{url}: {stderr}");
        assert!(
            stderr.contains("each connection would get its own empty database")
                && stderr.contains("file on its volume"),
            "{url}: {stderr}"
        );
    }
}

/// The specification: an empty variable is an unset one, so a template that
/// renders `OTEL_...=` leaves the defaults in place.
#[test]
fn empty_otel_variables_are_unset() {
    let mut server = Server::sqlite_with(&[
        ("OTEL_SERVICE_NAME", ""),
        ("OTEL_RESOURCE_ATTRIBUTES", ""),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", ""),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", ""),
        ("OTEL_EXPORTER_OTLP_HEADERS", ""),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", ""),
        ("OTEL_EXPORTER_OTLP_CERTIFICATE", ""),
        ("OTEL_TRACES_SAMPLER", ""),
        ("OTEL_TRACES_SAMPLER_ARG", ""),
        ("OTEL_SDK_DISABLED", ""),
        ("OTEL_TRACES_EXPORTER", ""),
    ]);
    let ready = server
        .log_lines()
        .into_iter()
        .find(|l| l["msg"] == "store-service ready")
        .expect("ready line");
    assert_eq!(ready["service.name"], "store-service");
    assert!(ready.get("otlp_traces").is_none(), "{ready}");
    assert!(server.terminate(Duration::from_secs(10)).success());
}

#[test]
fn an_unreachable_database_is_a_clear_failure() {
    let (code, stderr) = serve_with(&[
        ("STORE_ID", "a"),
        ("DATABASE_URL", "sqlite:///nonexistent-dir/x.db"),
    ]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("database connect failed"), "{stderr}");
}

/// SIGTERM: readiness fails, the in-flight request completes, telemetry is
/// flushed, the process exits 0.
#[tokio::test(flavor = "multi_thread")]
async fn sigterm_drains_in_flight_requests_and_flushes_telemetry() {
    let collector = Collector::start();
    let endpoint = collector.endpoint(true);
    let mut server = Server::sqlite_with(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
    ]);
    let c = Client::new(&server);
    let r = c
        .http
        .put(format!("{}/admin/faults", c.base))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"latency_ms": 1500}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let slow = {
        let c = c.clone();
        tokio::spawn(async move { c.buy("apple", json!(1)).await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let status = tokio::task::spawn_blocking(move || {
        let status = server.terminate(Duration::from_secs(15));
        (status, server)
    })
    .await
    .unwrap();
    let (exit, server) = status;
    let (code, body) = slow.await.unwrap();
    assert_eq!(code, 200, "the in-flight purchase was cut: {body}");
    assert!(exit.success(), "exit status {exit}");
    let logs = server.log_lines();
    assert!(logs.iter().any(|l| l["msg"] == "all requests drained"));
    // Flushed on the way out: the slow purchase's span reached the collector.
    wait_until("the drained request's span", Duration::from_secs(5), || {
        collector
            .spans()
            .iter()
            .any(|s| s["name"] == "productService.BuyProduct")
    });
}
