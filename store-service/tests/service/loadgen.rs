//! The load generator against a real server: every scenario runs, the summary adds up.

use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::harness::{ADMIN_TOKEN, Server, free_port};

#[test]
fn loadgen_runs_weighted_scenarios_and_summarizes() {
    let server = Server::sqlite();
    let out = Command::new(env!("CARGO_BIN_EXE_store-service"))
        .args([
            "loadgen",
            "--target",
            &server.url(""),
            "--rate",
            "200",
            "--concurrency",
            "4",
            "--duration",
            "3s",
            "--json",
        ])
        .args([
            "--weights",
            "browse=2,filter=1,search_miss=1,buy=2,buy_beyond_stock=1,restock=1",
        ])
        .env("ADMIN_TOKEN", ADMIN_TOKEN)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    let requests = summary["requests"].as_u64().unwrap();
    assert!(
        (200..=700).contains(&requests),
        "rate 200/s for 3s gave {requests}"
    );
    for scenario in [
        "browse",
        "filter",
        "search_miss",
        "buy",
        "buy_beyond_stock",
        "restock",
    ] {
        assert!(
            summary["scenarios"][scenario]["requests"]
                .as_u64()
                .unwrap_or(0)
                > 0,
            "{scenario} never ran: {summary}"
        );
    }
    assert!(
        summary["errors_by_code"]["product_not_found"]
            .as_u64()
            .unwrap()
            > 0
    );
    assert!(
        summary["errors_by_code"]["insufficient_stock"]
            .as_u64()
            .unwrap()
            > 0
    );
    assert_eq!(summary["transport_errors"], 0);
    assert!(summary["p50_ms"].as_f64().unwrap() <= summary["p99_ms"].as_f64().unwrap());
}

/// Deployed beside a store that is still starting, the load generator waits
/// for it (`--wait-for-target`) instead of exiting; without the flag it
/// fails at once, naming the target.
#[test]
fn loadgen_waits_for_a_target_that_is_not_up_yet() {
    let port = free_port();
    let target = format!("http://127.0.0.1:{port}");
    let loadgen = |wait: &str| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_store-service"));
        cmd.args(["loadgen", "--target", &target, "--rate", "50"])
            .args(["--duration", "2s", "--json", "--wait-for-target", wait])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    };
    let refused = loadgen("0s").output().unwrap();
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains(&target), "{stderr}");

    let waiting = loadgen("60s").spawn().unwrap();
    std::thread::sleep(Duration::from_secs(3));
    let mut server = Server::sqlite();
    server.kill9();
    server.start_on(port);
    let out = waiting.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("retrying"), "{stderr}");
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(summary["requests"].as_u64().unwrap() > 0, "{summary}");
}
