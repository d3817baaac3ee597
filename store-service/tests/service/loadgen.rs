//! The load generator against a real server: every scenario runs, the summary adds up.

use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::harness::{ADMIN_TOKEN, Client, Server, free_port};

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

/// A purchase beyond stock is refused and sells nothing, whatever the stock:
/// restocked to the largest quantity a purchase may ask for (1000, the demo's
/// restock), it is skipped instead of emptying the product (which made the
/// demo fire stock alerts on healthy stores). One worker, so no restock falls
/// between the stock read and the purchase.
#[test]
fn a_purchase_beyond_stock_never_sells() {
    let server = Server::sqlite();
    let out = Command::new(env!("CARGO_BIN_EXE_store-service"))
        .args(["loadgen", "--target", &server.url(""), "--rate", "100"])
        .args(["--concurrency", "1", "--duration", "3s", "--json"])
        .args([
            "--weights",
            "buy_beyond_stock=3,restock=1",
            "--restock-to",
            "1000",
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
    let sent = summary["scenarios"]["buy_beyond_stock"]["requests"]
        .as_u64()
        .unwrap_or(0);
    assert!(sent > 0, "no purchase beyond stock was sent: {summary}");
    assert_eq!(
        summary["errors_by_code"]["insufficient_stock"].as_u64(),
        Some(sent),
        "a purchase beyond stock was not refused as such: {summary}"
    );
    assert!(
        summary["skipped_beyond_stock"].as_u64().unwrap() > 0,
        "after a restock to 1000 none was skipped: {summary}"
    );
    assert_eq!(summary["statuses"]["201"], Value::Null, "{summary}");
    // Nothing was sold: every product holds its catalog stock or the restock.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (status, products) = runtime.block_on(Client::new(&server).get("/products"));
    assert_eq!(status, 200);
    for p in products.as_array().unwrap() {
        let (name, stock) = (p["name"].as_str().unwrap(), p["stock"].as_i64().unwrap());
        let initial = match name {
            "apple" => 100,
            "pear" => 40,
            _ => 5,
        };
        assert!(
            stock == initial || stock == 1000,
            "{name} has {stock}: {summary}"
        );
    }
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
