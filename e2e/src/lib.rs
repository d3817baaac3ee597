//! End-to-end tests of storeops, against the cluster of the current
//! kubeconfig and nothing else: the Store CRD and a running operator are
//! expected there (`make e2e` on kind, `make e2e-local` on the local control
//! plane). Each test works in a namespace of its own that enforces the
//! `restricted` Pod Security Standard, and deletes it when it passes.
//!
//! This library holds the vocabulary the tests read in: [`Env`], what reads
//! a Store's state and waiting ([`eventually`], testenv's); [`pods`] what
//! only real pods allow (the tests' `kind` group). Stores as JSON (the
//! invalid-Store table among them) are `testenv::fixtures`'.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod pods;
pub mod stack;

/// Waiting, as every crate's tests wait (testenv's).
pub use testenv::wait::eventually;

use std::time::Duration;

use k8s_openapi::api::core::v1::Namespace;
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams,
};
use kube::{Client, Resource, ResourceExt};
use serde_json::{Value, json};
use storeops_contract::kinds::ManagedKind;

/// The field manager of what the tests apply (as a user's kubectl would).
pub const MANAGER: &str = "e2e";

/// A test's view of the cluster: a client and a namespace of its own.
pub struct Env {
    /// Admin client of the current kubeconfig.
    pub client: Client,
    /// The test's namespace (restricted Pod Security, enforced).
    pub namespace: String,
}

impl Env {
    /// Connects with the current kubeconfig and creates a fresh namespace
    /// `e2e-<prefix>-<random>`.
    pub async fn new(prefix: &str) -> Env {
        let client = Client::try_default().await.unwrap_or_else(|e| {
            panic!("no cluster: set KUBECONFIG (make e2e uses the current context; make e2e-local starts one): {e}")
        });
        let namespace = format!("e2e-{prefix}-{:04x}", rand::random::<u16>());
        let ns: Namespace = serde_json::from_value(json!({
            "metadata": {"name": namespace, "labels": {
                "pod-security.kubernetes.io/enforce": "restricted",
                "pod-security.kubernetes.io/enforce-version": "latest",
            }}
        }))
        .unwrap();
        Api::<Namespace>::all(client.clone())
            .create(&PostParams::default(), &ns)
            .await
            .unwrap_or_else(|e| panic!("creating namespace {namespace}: {e}"));
        Env { client, namespace }
    }

    /// Deletes the namespace (called at the end of a passing test; a failing
    /// one leaves it for inspection).
    pub async fn cleanup(self) {
        let _ = Api::<Namespace>::all(self.client.clone())
            .delete(&self.namespace, &DeleteParams::background())
            .await;
    }

    /// The API of `K` in the test's namespace.
    pub fn api<K>(&self) -> Api<K>
    where
        K: Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>,
    {
        Api::namespaced(self.client.clone(), &self.namespace)
    }

    /// The Stores of the test's namespace.
    pub fn stores(&self) -> Api<DynamicObject> {
        Api::namespaced_with(self.client.clone(), &self.namespace, &store_resource())
    }

    /// Any kind in the test's namespace, e.g. `("monitoring.coreos.com", "v1", "ServiceMonitor")`.
    pub fn dynamic(&self, group: &str, version: &str, kind: &str) -> Api<DynamicObject> {
        let resource = ApiResource::from_gvk(&GroupVersionKind::gvk(group, version, kind));
        Api::namespaced_with(self.client.clone(), &self.namespace, &resource)
    }

    /// A kind of the managed-kinds table in the test's namespace.
    pub fn managed(&self, kind: &ManagedKind) -> Api<DynamicObject> {
        let resource = ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk(kind.group, kind.version, kind.kind),
            kind.plural,
        );
        Api::namespaced_with(self.client.clone(), &self.namespace, &resource)
    }

    /// Server-side applies a Store given as JSON (metadata.name set).
    pub async fn apply_store(&self, store: &Value) -> Result<DynamicObject, kube::Error> {
        let name = store["metadata"]["name"]
            .as_str()
            .expect("metadata.name")
            .to_string();
        let mut object = store.clone();
        object["apiVersion"] = json!("storeops.dev/v1alpha1");
        object["kind"] = json!("Store");
        self.stores()
            .patch(
                &name,
                &PatchParams::apply(MANAGER).force(),
                &Patch::Apply(&object),
            )
            .await
    }

    /// Server-side applies one manifest document of any kind (apiVersion,
    /// kind and metadata.name set) in the test's namespace.
    pub async fn apply(&self, doc: &Value) -> Result<DynamicObject, kube::Error> {
        let api_version = doc["apiVersion"].as_str().expect("apiVersion");
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        let kind = doc["kind"].as_str().expect("kind");
        let name = doc["metadata"]["name"].as_str().expect("metadata.name");
        self.dynamic(group, version, kind)
            .patch(
                name,
                &PatchParams::apply(MANAGER).force(),
                &Patch::Apply(doc),
            )
            .await
    }

    /// Creates a Store with a server-side dry run: admission only, nothing stored.
    pub async fn dry_run_store(&self, store: &Value) -> Result<DynamicObject, kube::Error> {
        let mut object = store.clone();
        object["apiVersion"] = json!("storeops.dev/v1alpha1");
        object["kind"] = json!("Store");
        let object: DynamicObject = serde_json::from_value(object).expect("a Store as JSON");
        self.stores()
            .create(
                &PostParams {
                    dry_run: true,
                    field_manager: None,
                },
                &object,
            )
            .await
    }

    /// Whether the cluster serves monitoring.coreos.com/v1 (kube-prometheus-stack's CRDs).
    pub async fn serves_monitoring(&self) -> bool {
        self.client
            .list_api_group_resources("monitoring.coreos.com/v1")
            .await
            .is_ok_and(|l| l.resources.iter().any(|r| r.kind == "ServiceMonitor"))
    }
}

/// The documents of a YAML file of the repository (`path` from its root), as
/// JSON; panics naming the file when it cannot be read.
pub fn manifest(path: &str) -> Vec<Value> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(path);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_yaml_ng::Deserializer::from_str(&text)
        .map(|d| serde::Deserialize::deserialize(d).unwrap())
        .filter(|v: &Value| !v.is_null())
        .collect()
}

/// storeops.dev/v1alpha1 Store.
pub fn store_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("storeops.dev", "v1alpha1", "Store"),
        "stores",
    )
}

/// A condition of an object's status: `(status, reason, observedGeneration)`.
pub fn condition(object: &DynamicObject, type_: &str) -> Option<(String, String, Option<i64>)> {
    object.data["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == type_)
        .map(|c| {
            (
                c["status"].as_str().unwrap_or_default().to_string(),
                c["reason"].as_str().unwrap_or_default().to_string(),
                c["observedGeneration"].as_i64(),
            )
        })
}

/// The time the tests give the operator to converge: room for one failed
/// volume provisioning, which kind's local-path provisioner retries only
/// after its helper pod's 120 s timeout (seen in CI: a helper pod whose
/// container runc failed to start, under load). Converging stores pass as
/// soon as they converge; only a failure waits this long.
pub const CONVERGE: Duration = Duration::from_secs(180);

/// `Ok(object)` if it exists, `Err` naming it otherwise.
pub async fn exists<K>(api: &Api<K>, name: &str) -> Result<K, String>
where
    K: Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    match api.get_opt(name).await {
        Ok(Some(o)) => Ok(o),
        Ok(None) => Err(format!("{name} does not exist")),
        Err(e) => Err(format!("{name}: {e}")),
    }
}

/// The name of an object, for messages.
pub fn name_of<K: ResourceExt>(object: &K) -> String {
    object.name_any()
}

/// Waits until Store `name` is Ready=True at `generation` (the condition's
/// observedGeneration and `status.observedGeneration`) and returns it.
pub async fn ready_at(env: &Env, name: &str, generation: i64) -> DynamicObject {
    let stores = env.stores();
    eventually(
        &format!("Store {name} Ready at generation {generation}"),
        CONVERGE,
        || async {
            let s = exists(&stores, name).await?;
            match condition(&s, "Ready") {
                Some((status, _, Some(g))) if status == "True" && g == generation => {
                    if s.data["status"]["observedGeneration"] == json!(generation) {
                        Ok(s)
                    } else {
                        Err(format!("status {}", s.data["status"]))
                    }
                }
                other => Err(format!("Ready {other:?}; status {}", s.data["status"])),
            }
        },
    )
    .await
}
