//! The tests only real pods allow: requests that travel the cluster's
//! network to a store pod, a volume that outlives its pod, rollouts under
//! load, a kubelet that fails to pull an image. They run on kind with real
//! containers (`make up`, then `make e2e`, which runs this group after
//! `any_cluster`); `make e2e-local`'s control plane has kwok's fake nodes,
//! where pods only pretend to run, so it runs `any_cluster` alone and every
//! test here
//! first refuses a cluster with a kwok node ([`e2e::pods::require_real_pods`]).
//!
//! Each test works in a namespace of its own that enforces the restricted
//! Pod Security Standard, so the pods they add (the load generator, uid
//! 65532, images already on the node) pass it too, and deletes it when it
//! passes. They run in parallel; a pause of the operator (a leader failover
//! of the `failover` group, run apart, or an upgrade) fits in their
//! timeouts. Speed is never asserted: the rollout figures (failed requests,
//! the outage of a Recreate) are printed and kept in
//! `target/kind-e2e/rollout.md`.
//!
//! The PostgreSQL test needs the image `storeops/postgres:15` on the node
//! (`e2e/postgres/`).

use std::time::{Duration, Instant};

use e2e::pods::{
    self, Load, LoadSummary, figures_path, is_ready, phase, real_pods_env, store_pods,
    upsert_markdown_row,
};
use e2e::{CONVERGE, Env, eventually, exists, manifest, ready_at};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Pod, Secret};
use kube::ResourceExt;
use kube::api::{DynamicObject, PostParams};
use serde_json::{Value, json};
use testenv::fixtures::{merged, store};

/// Stock of each product: no purchase of a test runs out of it.
const STOCK: i64 = 1_000_000;

/// [`store`] with two products of [`STOCK`] units each.
fn stocked_store(name: &str) -> Value {
    merged(
        store(name),
        &json!({"spec": {"catalog": {"products": [
            {"name": "apple", "category": "fruit", "price": 0.5, "stock": STOCK},
            {"name": "laptop", "category": "electronics", "price": 999.99, "stock": STOCK}
        ]}}}),
    )
}

/// `status.serviceUrl` of a Store.
fn service_url(store: &DynamicObject) -> String {
    store.data["status"]["serviceUrl"]
        .as_str()
        .unwrap_or_else(|| panic!("no serviceUrl in {}", store.data["status"]))
        .to_string()
}

/// The stock total, once the Service answers.
async fn total_stock(env: &Env, name: &str) -> i64 {
    eventually(
        &format!("the stock of Store {name} through its Service"),
        CONVERGE,
        || pods::total_stock(env, name),
    )
    .await
}

#[tokio::test]
async fn a_purchase_from_inside_the_cluster_goes_through_the_service() {
    let env = real_pods_env("buy").await;
    env.apply_store(&stocked_store("kiosk")).await.unwrap();
    let live = ready_at(&env, "kiosk", 1).await;
    let url = service_url(&live);
    assert!(url.starts_with("http://store-kiosk."), "{url}");
    let before = total_stock(&env, "kiosk").await;

    let load = Load::new(&url, 5.0, Duration::from_secs(3), "buy=1");
    let summary = load.run(&env, "loadgen").await;
    println!("purchases through {url}: {}", summary.figures());
    assert!(summary.requests > 0, "{}", summary.raw);
    assert_eq!(summary.transport_errors, 0, "{}", summary.raw);
    assert_eq!(
        summary.with_status(200..=299),
        summary.requests,
        "a purchase was refused: {}",
        summary.raw
    );

    // Each purchase takes 1 to 3 units.
    let after = total_stock(&env, "kiosk").await;
    let sold = before - after;
    let n = summary.requests as i64;
    assert!(
        (n..=3 * n).contains(&sold),
        "{n} purchases took {sold} units ({before} -> {after})"
    );
    env.cleanup().await;
}

#[tokio::test]
async fn a_deleted_store_pod_is_replaced_and_the_stock_stays() {
    let env = real_pods_env("volume").await;
    env.apply_store(&stocked_store("depot")).await.unwrap();
    ready_at(&env, "depot", 1).await;
    let purchase = json!({"quantity": 2});
    for _ in 0..5 {
        eventually("a purchase through the Service", CONVERGE, || {
            pods::proxy_post(&env, "depot", "/products/apple/buy", &purchase)
        })
        .await;
    }
    let before = eventually("the stock", CONVERGE, || pods::stock(&env, "depot")).await;
    assert!(before["apple"] <= STOCK - 10, "{before:?}");

    let old = store_pods(&env, "depot").await.unwrap();
    assert_eq!(old.len(), 1, "one store pod");
    let old_uid = old[0].uid().unwrap();
    env.api::<Pod>()
        .delete(&old[0].name_any(), &Default::default())
        .await
        .unwrap();
    let new = eventually("a new store pod Running and Ready", CONVERGE, || async {
        let pods = store_pods(&env, "depot").await?;
        pods.iter()
            .find(|p| p.uid().as_deref() != Some(old_uid.as_str()) && is_ready(p))
            .cloned()
            .ok_or_else(|| {
                let seen: Vec<_> = pods.iter().map(|p| (p.name_any(), phase(p))).collect();
                format!("pods {seen:?}")
            })
    })
    .await;
    // Read from the new pod itself, not whichever the Service picks.
    let new_name = new.name_any();
    let after = eventually("the stock of the new pod", CONVERGE, || {
        pods::stock_of_pod(&env, &new_name)
    })
    .await;
    assert_eq!(
        after,
        before,
        "pod {} forgot the stock of the old one",
        new.name_any()
    );
    env.cleanup().await;
}

/// Load for the rollouts: 20 requests a second of which none can be a 4xx
/// (the products exist and [`STOCK`] outlasts the purchases).
const ROLLOUT_RATE: f64 = 20.0;
const ROLLOUT_WEIGHTS: &str = "browse=2,filter=1,buy=1";

/// How a rollout under load went.
struct Rollout {
    summary: LoadSummary,
    /// From the spec change until the Store was Ready at the new generation
    /// with only new pods, all ready, and no old one left.
    seconds: f64,
    /// The load's duration.
    load: Duration,
}

/// Runs the load generator on Store `name` (Ready at generation 1, with
/// `replicas` pods), changes its pod template (LOG_LEVEL) once the load
/// flows, waits until the rollout is complete while the load still runs,
/// then for the load's summary.
async fn rollout_under_load(
    env: &Env,
    name: &str,
    spec: &Value,
    replicas: usize,
    load: Duration,
) -> Rollout {
    let live = ready_at(env, name, 1).await;
    let old: Vec<String> = store_pods(env, name)
        .await
        .unwrap()
        .iter()
        .filter_map(|p| p.uid())
        .collect();
    let generator = Load::new(&service_url(&live), ROLLOUT_RATE, load, ROLLOUT_WEIGHTS);
    pods::start(env, &generator.pod("loadgen")).await;
    pods::started(env, "loadgen", CONVERGE).await;
    // The catalog fetched and the load steady before the change.
    tokio::time::sleep(Duration::from_secs(5)).await;

    let changed = merged(
        spec.clone(),
        &json!({"spec": {"telemetry": {"logLevel": "debug"}}}),
    );
    let start = Instant::now();
    let applied = env.apply_store(&changed).await.unwrap();
    assert_eq!(applied.metadata.generation, Some(2));
    ready_at(env, name, 2).await;
    eventually(
        &format!("{replicas} new pods ready and no old one left"),
        load,
        || async {
            let pods = store_pods(env, name).await?;
            let new_ready = pods
                .iter()
                .filter(|p| !old.contains(&p.uid().unwrap_or_default()) && is_ready(p))
                .count();
            if new_ready == replicas && pods.len() == replicas {
                Ok(())
            } else {
                let seen: Vec<_> = pods
                    .iter()
                    .map(|p| {
                        let age = if old.contains(&p.uid().unwrap_or_default()) {
                            "old"
                        } else {
                            "new"
                        };
                        (p.name_any(), age, phase(p).to_string(), is_ready(p))
                    })
                    .collect();
                Err(format!("pods {seen:?}"))
            }
        },
    )
    .await;
    let seconds = start.elapsed().as_secs_f64();
    let generator_pod = env.api::<Pod>().get("loadgen").await.unwrap();
    assert_eq!(
        phase(&generator_pod),
        "Running",
        "the load ended before the rollout did ({seconds:.1} s after the change): \
         the figures would not cover it"
    );
    let log = pods::finished(env, "loadgen", generator.timeout()).await;
    let summary = LoadSummary::from_log(&log).unwrap_or_else(|e| panic!("{e}"));
    Rollout {
        summary,
        seconds,
        load,
    }
}

const ROLLOUT_HEADER: &str = "| strategy | rate (req/s) | load (s) | requests sent | failed (transport + 5xx) | failed / rate (s) | unserved ≈ load − served / rate (s) | spec change → rollout complete (s) |\n\
|---|---|---|---|---|---|---|---|";

/// An outage as the load saw it, two ways, in seconds.
struct Outage {
    /// Failed requests over the rate: right when every failure is quick (a
    /// refused connection), short when some hang until the generator's 10 s
    /// timeout (a request caught by its pod going away): a hung request
    /// holds one of the 4 workers, so fewer requests are sent meanwhile.
    failed_s: f64,
    /// The load's duration less what was served at the rate: the time the
    /// load went without answers, hung requests included.
    unserved_s: f64,
}

/// Prints the figures of a rollout and records them in `target/kind-e2e/rollout.md`.
fn record_rollout(strategy: &str, r: &Rollout) -> Outage {
    let s = &r.summary;
    let failed = s.failed();
    let served = s.attempts() - failed;
    let outage = Outage {
        failed_s: failed as f64 / ROLLOUT_RATE,
        unserved_s: (s.duration_s - served as f64 / ROLLOUT_RATE).max(0.0),
    };
    println!(
        "{strategy}: {failed} failed of {} requests sent at {ROLLOUT_RATE} req/s over {:.1} s \
         (failed / rate {:.2} s; unserved {:.2} s); rollout complete {:.1} s after the spec change; {}",
        s.attempts(),
        s.duration_s,
        outage.failed_s,
        outage.unserved_s,
        r.seconds,
        s.figures()
    );
    let row = format!(
        "| {strategy} | {ROLLOUT_RATE} | {} | {} | {failed} | {:.2} | {:.2} | {:.1} |",
        r.load.as_secs(),
        s.attempts(),
        outage.failed_s,
        outage.unserved_s,
        r.seconds
    );
    let path = figures_path("rollout.md");
    upsert_markdown_row(&path, ROLLOUT_HEADER, strategy, &row);
    println!("figures in {}", path.display());
    outage
}

/// The PostgreSQL of `e2e/postgres/postgres.yaml` in the test's namespace,
/// with the Secret `postgres` it reads its password from; returns the URL
/// the store connects with once it is ready.
async fn postgres(env: &Env) -> String {
    let password = format!("e2e-{:016x}", rand::random::<u64>());
    let secret: Secret = serde_json::from_value(json!({
        "metadata": {"name": "postgres"},
        "stringData": {"password": password}
    }))
    .unwrap();
    env.api::<Secret>()
        .create(&PostParams::default(), &secret)
        .await
        .unwrap();
    const POSTGRES: &str = "e2e/postgres/postgres.yaml";
    let (mut user, mut database) = ("postgres".to_string(), None);
    for doc in manifest(POSTGRES) {
        let (kind, name) = (
            doc["kind"].as_str().unwrap(),
            doc["metadata"]["name"].as_str().unwrap(),
        );
        if kind == "Deployment" {
            // POSTGRES_USER and POSTGRES_DB if the manifest sets them (entrypoint.sh's defaults otherwise).
            for var in doc["spec"]["template"]["spec"]["containers"][0]["env"]
                .as_array()
                .into_iter()
                .flatten()
            {
                match (var["name"].as_str(), var["value"].as_str()) {
                    (Some("POSTGRES_USER"), Some(v)) => user = v.to_string(),
                    (Some("POSTGRES_DB"), Some(v)) => database = Some(v.to_string()),
                    _ => {}
                }
            }
        }
        env.apply(&doc)
            .await
            .unwrap_or_else(|e| panic!("applying {kind} {name} of {POSTGRES}: {e}"));
    }
    let deployments = env.api::<Deployment>();
    eventually("PostgreSQL ready", Duration::from_secs(120), || async {
        let d = exists(&deployments, "postgres").await?;
        let ready = d.status.as_ref().and_then(|s| s.ready_replicas);
        if ready >= Some(1) {
            Ok(())
        } else {
            Err(format!("status {:?}", d.status))
        }
    })
    .await;
    let database = database.unwrap_or_else(|| user.clone());
    format!("postgres://{user}:{password}@postgres:5432/{database}")
}

#[tokio::test]
async fn a_rolling_update_on_postgres_fails_no_request_under_load() {
    let env = real_pods_env("rolling").await;
    let url = postgres(&env).await;
    let secret: Secret = serde_json::from_value(json!({
        "metadata": {"name": "store-db"},
        "stringData": {"url": url}
    }))
    .unwrap();
    env.api::<Secret>()
        .create(&PostParams::default(), &secret)
        .await
        .unwrap();
    let spec = merged(
        stocked_store("mall"),
        &json!({"spec": {
            "replicas": 2,
            "database": {"embedded": null, "postgres": {"secretRef": {"name": "store-db", "key": "url"}}}
        }}),
    );
    env.apply_store(&spec).await.unwrap();
    let rollout = rollout_under_load(&env, "mall", &spec, 2, Duration::from_secs(60)).await;
    record_rollout("RollingUpdate (PostgreSQL, 2 replicas)", &rollout);
    let s = &rollout.summary;
    assert!(s.requests > 0, "{}", s.raw);
    assert_eq!(
        (s.transport_errors, s.with_status(500..=599)),
        (0, 0),
        "requests failed during a rolling update: {}",
        s.raw
    );
    // None of the scenarios can be refused (products exist, stock lasts).
    assert_eq!(s.with_status(400..=499), 0, "{}", s.raw);
    env.cleanup().await;
}

#[tokio::test]
async fn an_embedded_store_is_recreated_and_the_outage_is_measured() {
    let env = real_pods_env("recreate").await;
    let spec = stocked_store("stall");
    env.apply_store(&spec).await.unwrap();
    let load = Duration::from_secs(45);
    let rollout = rollout_under_load(&env, "stall", &spec, 1, load).await;
    let outage = record_rollout("Recreate (embedded SQLite, 1 replica)", &rollout);
    let s = &rollout.summary;
    // No threshold on the outage (a figure, not a speed test); the load saw
    // it, and the counts add up: no more requests than the rate allows, so
    // the failures fit in the unserved time, which fits in the load's.
    assert!(
        s.failed() > 0,
        "the load saw no outage, yet Recreate leaves no pod between the old and the new: {}",
        s.raw
    );
    assert!(s.requests > 0, "nothing was served: {}", s.raw);
    assert!(
        s.attempts() as f64 <= ROLLOUT_RATE * s.duration_s + 10.0,
        "more requests than the rate allows: {}",
        s.raw
    );
    assert!(
        outage.failed_s <= outage.unserved_s + 0.5 && outage.unserved_s <= s.duration_s,
        "failed {:.2} s, unserved {:.2} s, load {:.1} s: {}",
        outage.failed_s,
        outage.unserved_s,
        s.duration_s,
        s.raw
    );
    assert_eq!(s.with_status(400..=499), 0, "{}", s.raw);
    // The new pod serves.
    total_stock(&env, "stall").await;
    env.cleanup().await;
}

#[tokio::test]
async fn a_store_pod_that_cannot_start_says_why_in_the_ready_condition() {
    let env = real_pods_env("imagepull").await;
    let broken = merged(
        store("ghost"),
        &json!({"spec": {"image": "storeops/store-service:does-not-exist"}}),
    );
    env.apply_store(&broken).await.unwrap();
    let stores = env.stores();
    let ready = eventually(
        "Store ghost Ready=False naming the image pull in its reason or message",
        Duration::from_secs(120),
        || async {
            let s = exists(&stores, "ghost").await?;
            let ready = s.data["status"]["conditions"]
                .as_array()
                .and_then(|c| c.iter().find(|c| c["type"] == "Ready").cloned())
                .ok_or_else(|| format!("no Ready condition: {}", s.data["status"]))?;
            let said = format!("{} {}", ready["reason"], ready["message"]);
            if ready["status"] == "False" && said.contains("ImagePull") {
                Ok(ready)
            } else {
                Err(format!("Ready {ready}"))
            }
        },
    )
    .await;
    println!("Ready of a Store whose image does not exist: {ready}");
    env.cleanup().await;
}
