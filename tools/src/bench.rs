//! Shared by the benchmark and drill programs (`src/bin/scale-bench.rs`,
//! `src/bin/drills.rs`): Stores in bulk on a fresh control plane, applied
//! concurrently, waited for, and counted.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams};
use kube::discovery::{self, Scope};
use kube::{Client, ResourceExt};

use storeops_contract::kinds;
use testenv::{ControlPlane, Options, manifests};

/// What the programs return: any error, as text at their edge.
pub type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// Concurrent writers of a bulk apply.
pub const WORKERS: usize = 32;
/// Pods per fake node (kwok); one store is one pod.
pub const PODS_PER_NODE: usize = 250;
/// The namespace of the Stores.
pub const NAMESPACE: &str = "shop";
/// How long any wait may take.
pub const DEADLINE: Duration = Duration::from_secs(1800);

/// A fresh control plane with room for `n` store pods, the namespace of the stores.
pub async fn plane_for(n: usize) -> Result<(ControlPlane, Client)> {
    let plane = ControlPlane::start_with(Options {
        // Room for the chart's own operator pods (kwok runs them too) besides the stores'.
        nodes: (n + 10).div_ceil(PODS_PER_NODE),
        dir: None,
    })?;
    let client = plane.client().await?;
    let namespace = format!(
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {NAMESPACE}\n  labels:\n    pod-security.kubernetes.io/enforce: restricted\n"
    );
    manifests::apply(&client, &namespace, "scale-bench").await?;
    Ok((plane, client))
}

/// `n` small Stores, one product each.
pub fn stores_yaml(n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                "apiVersion: storeops.dev/v1alpha1\nkind: Store\nmetadata:\n  name: s{i:04}\n  namespace: {NAMESPACE}\nspec:\n  catalog:\n    products:\n      - {{name: apple, category: fruit, price: 1.0, stock: 100}}\n"
            )
        })
        .collect::<Vec<_>>()
        .join("---\n")
}

/// Server-side applies `objects` with WORKERS concurrent requests.
pub async fn apply_all(client: &Client, objects: Vec<DynamicObject>) -> Result<()> {
    let mut resources: HashMap<String, (ApiResource, bool)> = HashMap::new();
    for o in &objects {
        let types = o.types.clone().ok_or("an object without apiVersion/kind")?;
        let key = format!("{}/{}", types.api_version, types.kind);
        if let std::collections::hash_map::Entry::Vacant(slot) = resources.entry(key) {
            let gvk = GroupVersionKind::try_from(&types)?;
            let (resource, caps) = discovery::pinned_kind(client, &gvk).await?;
            slot.insert((resource, caps.scope == Scope::Namespaced));
        }
    }
    let resources = Arc::new(resources);
    let permits = Arc::new(tokio::sync::Semaphore::new(WORKERS));
    let mut tasks = tokio::task::JoinSet::new();
    for o in objects {
        let (client, resources, permit) = (
            client.clone(),
            resources.clone(),
            permits.clone().acquire_owned().await?,
        );
        tasks.spawn(async move {
            let _permit = permit;
            let types = o.types.clone().unwrap();
            let (resource, namespaced) =
                &resources[&format!("{}/{}", types.api_version, types.kind)];
            let api: Api<DynamicObject> = if *namespaced {
                Api::namespaced_with(client, &o.namespace().unwrap_or(NAMESPACE.into()), resource)
            } else {
                Api::all_with(client, resource)
            };
            api.patch(
                &o.name_any(),
                &PatchParams::apply("scale-bench").force(),
                &Patch::Apply(&o),
            )
            .await
            .map(|_| ())
            .map_err(|e| format!("{} {}: {e}", types.kind, o.name_any()))
        });
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    Ok(())
}

/// Polls `probe` (ready?, progress) every 250 ms until ready or DEADLINE
/// ([`testenv::wait::until`] with the programs' error type, which a probe's
/// `?` needs to know).
pub async fn wait_until<F, Fut>(what: &str, probe: F) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(bool, String)>>,
{
    testenv::wait::until(what, DEADLINE, probe).await
}

/// Ready Stores, by name, as a watch sees them.
pub fn ready_count(states: &HashMap<String, bool>) -> usize {
    states.values().filter(|r| **r).count()
}

/// Whether a Store is Ready at its current generation.
pub fn is_ready(store: &DynamicObject) -> bool {
    let generation = store.metadata.generation;
    let status = &store.data["status"];
    status["observedGeneration"].as_i64() == generation
        && status["conditions"].as_array().is_some_and(|c| {
            c.iter()
                .any(|c| c["type"] == "Ready" && c["status"] == "True")
        })
}

/// storeops.dev/v1alpha1 stores.
pub fn store_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("storeops.dev", "v1alpha1", "Store"),
        "stores",
    )
}

/// The operator's writes in the audit log, oldest first, Lease renewals apart.
pub fn operator_writes(plane: &ControlPlane) -> Result<Vec<testenv::audit::Write>> {
    Ok(testenv::audit::writes(&plane.audit_log())?
        .into_iter()
        .filter(|w| w.user == testenv::operator::USER && !w.resource.starts_with("leases"))
        .collect())
}

/// How many of each kind the operator made in the stores' namespace (one
/// replica each, so no PodDisruptionBudget).
pub async fn children(client: &Client) -> Result<BTreeMap<String, usize>> {
    let mut counts = BTreeMap::new();
    // The managed-kinds table's, but the monitoring kinds (no CRDs here) and
    // those no default Store makes.
    let made = kinds::ALL.into_iter().filter(|k| {
        !k.needs_monitoring_crds
            && ![&kinds::POD_DISRUPTION_BUDGET, &kinds::NETWORK_POLICY].contains(k)
    });
    for managed in made {
        let (kind, version, group) = (managed.kind, managed.version, managed.group);
        let resource = ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk(group, version, kind),
            managed.plural,
        );
        let api = Api::<DynamicObject>::namespaced_with(client.clone(), NAMESPACE, &resource);
        let list = api
            .list(&kube::api::ListParams::default().labels("app.kubernetes.io/managed-by=storeops"))
            .await?;
        counts.insert(kind.to_string(), list.items.len());
    }
    Ok(counts)
}

/// The peak resident set of process `pid` in KiB (VmHWM), 0 once it is gone.
pub fn peak_rss_kib(pid: u32) -> u64 {
    i32::try_from(pid)
        .ok()
        .and_then(|pid| procfs::process::Process::new(pid).ok())
        .and_then(|p| p.status().ok())
        .and_then(|s| s.vmhwm)
        .unwrap_or(0)
}

/// A path that names a file (a program to run), for a command line's
/// `value_parser`; the error names the path.
pub fn existing_file(path: &str) -> std::result::Result<std::path::PathBuf, String> {
    let path = std::path::PathBuf::from(path);
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!("{} is not a file", path.display()))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_peak_memory_of_a_live_process_is_read() {
        assert!(super::peak_rss_kib(std::process::id()) > 0);
    }
}
