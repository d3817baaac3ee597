//! Leader failover of the operator on real pods: the chart runs two
//! replicas and one leads by the Lease `storeops-operator` in
//! `storeops-system` (`holderIdentity` is the leader's pod name). The leader
//! is taken away three ways: gracefully (its pod deleted: it releases the
//! Lease on SIGTERM), killed (SIGKILL through the node's container runtime:
//! it releases nothing, and the kubelet restarts it) and frozen (SIGSTOP: it
//! releases nothing and is not restarted, so only the Lease's expiry hands
//! over). The tests measure how long until a live process holds the Lease
//! again and a Store's spec change made meanwhile is reconciled, and assert
//! only that it happens within a generous minute (a figure, not a speed
//! test). Figures: printed, and appended to `target/kind-e2e/failover.md`.
//!
//! A group of its own: failing the operator over pauses reconciling for
//! everyone, so `make e2e` runs these apart from `any_cluster` and `kind`
//! (one `cargo test -- failover::` after the others), and one at a time
//! here. Like `kind`, they need real pods: kind (`make up`), not the kwok
//! nodes of `make e2e-local`.

use std::process::Command;
use std::time::{Duration, Instant};

use e2e::pods::{append_markdown_row, figures_path, is_ready, real_pods_env};
use e2e::{Env, ready_at};
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, DeleteParams, ListParams};
use kube::{Client, ResourceExt};
use serde_json::json;
use testenv::fixtures::{merged, store};

/// The operator's namespace (the chart's release namespace of `make deploy`).
const OPERATOR_NAMESPACE: &str = "storeops-system";
/// The operator's Lease (`--lease-name`, default `storeops-operator`).
const LEASE: &str = "storeops-operator";
/// The operator's pods (the chart's selector labels).
const OPERATOR_PODS: &str = "app.kubernetes.io/name=storeops-operator";
/// How long the tests wait for a takeover: generous, the Lease lasts 15 s.
const TAKEOVER: Duration = Duration::from_secs(60);

/// One failover at a time: each takes the leader away.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn leases(client: &Client) -> Api<Lease> {
    Api::namespaced(client.clone(), OPERATOR_NAMESPACE)
}

fn operator_pods(client: &Client) -> Api<Pod> {
    Api::namespaced(client.clone(), OPERATOR_NAMESPACE)
}

async fn lease_spec(client: &Client) -> Result<LeaseSpec, String> {
    leases(client)
        .get(LEASE)
        .await
        .map_err(|e| format!("Lease {OPERATOR_NAMESPACE}/{LEASE}: {e}"))?
        .spec
        .ok_or_else(|| "a Lease without spec".to_string())
}

fn holder(spec: &LeaseSpec) -> &str {
    spec.holder_identity.as_deref().unwrap_or_default()
}

fn restarts(pod: &Pod) -> i32 {
    pod.status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .map_or(0, |c| c.iter().map(|c| c.restart_count).sum())
}

/// Waits until a Ready operator pod holds the Lease and another Ready one
/// stands by (an earlier failover's replacement may still be starting);
/// returns the leader's pod and the Lease.
async fn steady(client: &Client) -> (Pod, LeaseSpec) {
    e2e::eventually(
        "the operator led by a Ready pod, with a Ready standby",
        Duration::from_secs(180),
        || async {
            let spec = lease_spec(client).await?;
            let pods = operator_pods(client)
                .list(&ListParams::default().labels(OPERATOR_PODS))
                .await
                .map_err(|e| e.to_string())?
                .items;
            let leader = pods
                .iter()
                .find(|p| p.name_any() == holder(&spec) && is_ready(p))
                .ok_or_else(|| {
                    format!("the holder {:?} is no Ready operator pod", holder(&spec))
                })?;
            let standbys = pods
                .iter()
                .filter(|p| p.name_any() != holder(&spec) && is_ready(p));
            if standbys.count() == 0 {
                return Err("no Ready standby".into());
            }
            Ok((leader.clone(), spec))
        },
    )
    .await
}

/// A Store Ready at generation 1 in a namespace of the test's own.
async fn anchored(prefix: &str) -> Env {
    let env = real_pods_env(prefix).await;
    env.apply_store(&store("anchor")).await.unwrap();
    ready_at(&env, "anchor", 1).await;
    env
}

/// A spec change to the Store that needs a reconcile to be observed.
async fn change(env: &Env, generation: i64) {
    let changed = merged(
        store("anchor"),
        &json!({"spec": {"displayName": format!("Anchor {generation}")}}),
    );
    let applied = env.apply_store(&changed).await.unwrap();
    assert_eq!(applied.metadata.generation, Some(generation));
}

async fn observed_generation(env: &Env) -> Option<i64> {
    let s = env.stores().get("anchor").await.ok()?;
    s.data["status"]["observedGeneration"].as_i64()
}

/// When the Lease was held again and when the change was reconciled, in
/// seconds from `start`; polls every 100 ms, panics after [`TAKEOVER`].
struct Takeover {
    new_holder: String,
    lease_s: f64,
    reconciled_s: f64,
}

async fn measure(
    env: &Env,
    start: Instant,
    generation: i64,
    held_again: impl Fn(&LeaseSpec, &[Pod]) -> bool,
) -> Takeover {
    let (mut lease_s, mut reconciled_s, mut new_holder) = (None, None, String::new());
    let mut last = String::new();
    while start.elapsed() < TAKEOVER {
        if lease_s.is_none()
            && let Ok(spec) = lease_spec(&env.client).await
        {
            let pods = operator_pods(&env.client)
                .list(&ListParams::default().labels(OPERATOR_PODS))
                .await
                .map(|l| l.items)
                .unwrap_or_default();
            if held_again(&spec, &pods) {
                lease_s = Some(start.elapsed().as_secs_f64());
                new_holder = holder(&spec).to_string();
            }
            last = format!("{spec:?}");
        }
        if reconciled_s.is_none() && observed_generation(env).await == Some(generation) {
            reconciled_s = Some(start.elapsed().as_secs_f64());
        }
        if let (Some(lease_s), Some(reconciled_s)) = (lease_s, reconciled_s) {
            return Takeover {
                new_holder,
                lease_s,
                reconciled_s,
            };
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "no takeover within {} s: Lease held again after {lease_s:?} s, generation {generation} \
         reconciled after {reconciled_s:?} s; last Lease {last}",
        TAKEOVER.as_secs()
    );
}

const FAILOVER_HEADER: &str = "| at | how | leader | Lease held again by | Lease held again (s) | change reconciled (s) | leaseDurationSeconds |\n\
|---|---|---|---|---|---|---|";

fn record(how: &str, leader: &str, duration: i32, t: &Takeover) {
    println!(
        "{how}: Lease held again by {} after {:.1} s, the spec change reconciled after {:.1} s \
         (the Lease lasts {duration} s; standbys try every 5 s)",
        t.new_holder, t.lease_s, t.reconciled_s
    );
    let row = format!(
        "| {} | {how} | {leader} | {} | {:.1} | {:.1} | {duration} |",
        Timestamp::now().strftime("%Y-%m-%d %H:%M:%S UTC"),
        t.new_holder,
        t.lease_s,
        t.reconciled_s
    );
    let path = figures_path("failover.md");
    append_markdown_row(&path, FAILOVER_HEADER, &row);
    println!("figures in {}", path.display());
}

#[tokio::test]
async fn a_deleted_leader_hands_the_lease_over_and_a_change_is_reconciled() {
    let _serial = SERIAL.lock().await;
    let env = anchored("failover-delete").await;
    let (leader, spec) = steady(&env.client).await;
    let leader = leader.name_any();
    let duration = spec.lease_duration_seconds.unwrap_or(15);

    let start = Instant::now();
    operator_pods(&env.client)
        .delete(&leader, &DeleteParams::default())
        .await
        .unwrap();
    change(&env, 2).await;
    let t = measure(&env, start, 2, |spec, _| {
        !holder(spec).is_empty() && holder(spec) != leader
    })
    .await;
    record("leader pod deleted", &leader, duration, &t);
    env.cleanup().await;
}

/// `docker exec <node> <args>`: the kind node is a container named as the node.
fn node_exec(node: &str, args: &[&str]) -> Result<String, String> {
    let out = Command::new("docker")
        .arg("exec")
        .arg(node)
        .args(args)
        .output()
        .map_err(|e| format!("docker exec {node} {args:?}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "docker exec {node} {args:?}: {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// The node's PID of the operator container of `pod` (crictl's `info.pid`).
fn operator_pid(pod: &Pod) -> (String, String) {
    let node = pod
        .spec
        .as_ref()
        .and_then(|s| s.node_name.clone())
        .expect("a scheduled pod");
    let container = pod
        .status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .and_then(|c| c.first())
        .and_then(|c| c.container_id.clone())
        .expect("a started container");
    let id = container
        .split_once("://")
        .map_or(container.as_str(), |(_, id)| id);
    let inspect = node_exec(&node, &["crictl", "inspect", id]).unwrap_or_else(|e| panic!("{e}"));
    let info: serde_json::Value = serde_json::from_str(&inspect).expect("crictl inspect's JSON");
    let pid = info["info"]["pid"]
        .as_u64()
        .unwrap_or_else(|| panic!("no info.pid from crictl inspect {id}"));
    (node, pid.to_string())
}

/// Sends `signal` (`-KILL`, `-STOP`) to a process of the kind node.
async fn signal(node: &str, pid: &str, signal: &'static str) -> Result<String, String> {
    let (node, pid) = (node.to_string(), pid.to_string());
    tokio::task::spawn_blocking(move || node_exec(&node, &["kill", signal, &pid]))
        .await
        .map_err(|e| e.to_string())?
}

/// The leader's pod, the Lease's duration, and its process on the node,
/// once the operator is steady.
async fn leader_process(client: &Client) -> (Pod, i32, String, String) {
    let (pod, spec) = steady(client).await;
    let (node, pid) = tokio::task::spawn_blocking({
        let pod = pod.clone();
        move || operator_pid(&pod)
    })
    .await
    .unwrap();
    (pod, spec.lease_duration_seconds.unwrap_or(15), node, pid)
}

/// The leader's process killed (SIGKILL): it neither releases the Lease
/// nor stops leading in an orderly way. A live process must hold the Lease
/// again: the kubelet restarts the container at once, and as its identity is
/// the pod's name the new process takes its own Lease back without waiting
/// for it to expire (or the standby takes it, if it got there first).
#[tokio::test]
async fn a_killed_leader_is_followed_by_a_live_process() {
    let _serial = SERIAL.lock().await;
    let env = anchored("failover-kill").await;
    let (leader_pod, duration, node, pid) = leader_process(&env.client).await;
    let leader = leader_pod.name_any();
    let restarts_before = restarts(&leader_pod);

    let start = Instant::now();
    let killed_at = Timestamp::now();
    signal(&node, &pid, "-KILL")
        .await
        .unwrap_or_else(|e| panic!("SIGKILL to {leader}: {e}"));
    change(&env, 2).await;
    let t = measure(&env, start, 2, |spec, pods| {
        let renewed_since = spec.renew_time.as_ref().is_some_and(|t| t.0 > killed_at);
        let by = holder(spec);
        let restarted = pods
            .iter()
            .any(|p| p.name_any() == leader && restarts(p) > restarts_before);
        renewed_since && !by.is_empty() && (by != leader || restarted)
    })
    .await;
    let how = if t.new_holder == leader {
        "leader SIGKILLed (its container restarted, took the Lease back)"
    } else {
        "leader SIGKILLed (the standby took the Lease)"
    };
    record(how, &leader, duration, &t);
    env.cleanup().await;
}

/// SIGKILLs a frozen process when dropped, so that a failing test leaves no
/// leader frozen (the kubelet then restarts it as a standby).
struct Thaw {
    node: String,
    pid: String,
}

impl Drop for Thaw {
    fn drop(&mut self) {
        let _ = node_exec(&self.node, &["kill", "-KILL", &self.pid]);
    }
}

/// The leader frozen (SIGSTOP), as a hung process or a node cut off would
/// be: no release, no renewal, no restart (its liveness probe fails only
/// after 30 s). Another replica must take the Lease once it expires: after
/// the Lease's duration since the last renewal, at a standby's next try
/// (every 5 s). The frozen process is killed afterwards and comes back as a
/// standby.
#[tokio::test]
async fn a_frozen_leader_loses_the_lease_to_another_replica_when_it_expires() {
    let _serial = SERIAL.lock().await;
    let env = anchored("failover-freeze").await;
    let (leader_pod, duration, node, pid) = leader_process(&env.client).await;
    let leader = leader_pod.name_any();

    let start = Instant::now();
    signal(&node, &pid, "-STOP")
        .await
        .unwrap_or_else(|e| panic!("SIGSTOP to {leader}: {e}"));
    let thaw = Thaw { node, pid };
    change(&env, 2).await;
    let t = measure(&env, start, 2, |spec, _| {
        !holder(spec).is_empty() && holder(spec) != leader
    })
    .await;
    drop(thaw);
    record(
        "leader frozen by SIGSTOP (the standby took the Lease)",
        &leader,
        duration,
        &t,
    );
    env.cleanup().await;
}
