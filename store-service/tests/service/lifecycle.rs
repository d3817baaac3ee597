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
