//! The build step: a Store in, every object it wants out. Pure: no client, no
//! clock; one file per kind of object.
//!
//! ```text
//! ResolvedStore + OperatorConfig + Dereferenced
//!   -> ServiceAccount, admin Secret, catalog ConfigMap (inline catalog),
//!      PersistentVolumeClaim (embedded database), Deployment, Service,
//!      PodDisruptionBudget (replicas > 1), NetworkPolicy (enabled),
//!      ServiceMonitor (enabled), dashboard ConfigMap (enabled); no
//!      PrometheusRule: the fleet's rules read the objectives the operator
//!      serves at /metrics

//! ```

pub mod config_map;
pub mod dashboard;
pub mod deployment;
pub mod env;
pub mod error;
pub mod network_policy;
pub mod pdb;
pub mod prometheus_rule;
pub mod pvc;
pub mod secret;
pub mod service;
pub mod service_account;
pub mod service_monitor;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{
    ConfigMap, PersistentVolumeClaim, Secret, Service, ServiceAccount,
};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::ResourceExt;
use serde::Serialize;

use super::kinds::{self, ManagedKind};
use super::resolve::ResolvedStore;
use crate::config::OperatorConfig;
pub use error::Error;
pub use prometheus_rule::PrometheusRule;
pub use service_monitor::ServiceMonitor;

/// What the dereference step found in the cluster for a Store.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dereferenced {
    /// The admin token of the existing admin Secret, kept across reconciles.
    /// `None`: a new one is generated.
    pub admin_token: Option<String>,
    /// The content of the catalog ConfigMap key named by
    /// `spec.catalog.configMapRef`; it feeds the pods' catalog hash.
    pub catalog: Option<String>,
    /// Host and port of the PostgreSQL URL in the database Secret (never the
    /// URL itself: it holds a password), for the NetworkPolicy's egress.
    pub database_endpoint: Option<network_policy::Endpoint>,
}

/// One object the Store wants.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Object {
    /// Identity of the pods.
    ServiceAccount(ServiceAccount),
    /// The admin token.
    Secret(Secret),
    /// The inline catalog.
    ConfigMap(ConfigMap),
    /// The embedded database's volume.
    PersistentVolumeClaim(PersistentVolumeClaim),
    /// The store-service pods (boxed: by far the largest object).
    Deployment(Box<Deployment>),
    /// The store's in-cluster address.
    Service(Service),
    /// Keeps one pod up during voluntary disruptions.
    PodDisruptionBudget(PodDisruptionBudget),
    /// Who may reach the pods and whom they may reach.
    NetworkPolicy(NetworkPolicy),
    /// How Prometheus scrapes the store.
    ServiceMonitor(ServiceMonitor),
    /// The store's SLI recording rules and alerts.
    PrometheusRule(PrometheusRule),
}

impl Object {
    /// The row of its kind in the managed-kinds table (an exhaustive match:
    /// a variant without a row does not compile).
    pub fn managed_kind(&self) -> &'static ManagedKind {
        match self {
            Object::ServiceAccount(_) => &kinds::SERVICE_ACCOUNT,
            Object::Secret(_) => &kinds::SECRET,
            Object::ConfigMap(_) => &kinds::CONFIG_MAP,
            Object::PersistentVolumeClaim(_) => &kinds::PERSISTENT_VOLUME_CLAIM,
            Object::Deployment(_) => &kinds::DEPLOYMENT,
            Object::Service(_) => &kinds::SERVICE,
            Object::PodDisruptionBudget(_) => &kinds::POD_DISRUPTION_BUDGET,
            Object::NetworkPolicy(_) => &kinds::NETWORK_POLICY,
            Object::ServiceMonitor(_) => &kinds::SERVICE_MONITOR,
            Object::PrometheusRule(_) => &kinds::PROMETHEUS_RULE,
        }
    }

    /// The object's kind, e.g. `Deployment` (its row's).
    pub fn kind(&self) -> &'static str {
        self.managed_kind().kind
    }

    /// The object's name.
    pub fn name(&self) -> String {
        match self {
            Object::ServiceAccount(o) => o.name_any(),
            Object::Secret(o) => o.name_any(),
            Object::ConfigMap(o) => o.name_any(),
            Object::PersistentVolumeClaim(o) => o.name_any(),
            Object::Deployment(o) => o.name_any(),
            Object::Service(o) => o.name_any(),
            Object::PodDisruptionBudget(o) => o.name_any(),
            Object::NetworkPolicy(o) => o.name_any(),
            Object::ServiceMonitor(o) => o.name_any(),
            Object::PrometheusRule(o) => o.name_any(),
        }
    }
}

/// Every object a Store wants, in the order they are best applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Desired {
    /// The objects.
    pub objects: Vec<Object>,
}

impl Desired {
    /// The kinds of the objects, in order.
    pub fn kinds(&self) -> Vec<&'static ManagedKind> {
        self.objects.iter().map(Object::managed_kind).collect()
    }

    /// Whether the object needs the monitoring.coreos.com CRDs.
    pub fn is_monitoring(object: &Object) -> bool {
        object.managed_kind().needs_monitoring_crds
    }

    /// The objects but those of one kind (what is applied while that kind is
    /// held back; the orphan sweep still sees them all).
    pub fn without(&self, kind: &ManagedKind) -> Desired {
        Desired {
            objects: self
                .objects
                .iter()
                .filter(|o| o.managed_kind() != kind)
                .cloned()
                .collect(),
        }
    }

    /// The first object of a kind.
    pub fn find(&self, kind: &ManagedKind) -> Option<&Object> {
        self.objects.iter().find(|o| o.managed_kind() == kind)
    }
}

/// Builds every object the resolved Store wants. Errors: its inline
/// catalog cannot be written, or its rules would not load in Prometheus.
pub fn build(
    store: &ResolvedStore,
    config: &OperatorConfig,
    found: &Dereferenced,
) -> Result<Desired, Error> {
    let catalog = config_map::catalog(store)?;
    let catalog_hash = config_map::catalog_hash(store, catalog.as_ref(), found);
    let mut objects = vec![
        Object::ServiceAccount(service_account::service_account(store)),
        Object::Secret(secret::admin_secret(store, found.admin_token.as_deref())),
    ];
    objects.extend(catalog.map(Object::ConfigMap));
    objects.extend(pvc::data_volume(store).map(Object::PersistentVolumeClaim));
    objects.push(Object::Deployment(Box::new(deployment::deployment(
        store,
        &catalog_hash,
    ))));
    objects.push(Object::Service(service::service(store)));
    objects.extend(pdb::disruption_budget(store).map(Object::PodDisruptionBudget));
    objects.extend(network_policy::network_policy(store, config, found).map(Object::NetworkPolicy));
    objects.extend(service_monitor::service_monitor(store).map(Object::ServiceMonitor));
    objects.extend(dashboard::store_config_map(store).map(Object::ConfigMap));
    Ok(Desired { objects })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Store;

    /// The reconcile's path: resolve, then build.
    fn build_store(store: &Store) -> Result<Desired, Error> {
        let config = OperatorConfig::default();
        let resolved = super::super::resolve::resolve(store, &config)?;
        build(&resolved, &config, &Dereferenced::default())
    }

    fn built_kinds(store: &Store) -> Vec<&'static ManagedKind> {
        build_store(store).unwrap().kinds()
    }

    #[test]
    fn a_build_error_is_the_specs() {
        let spec = Error::MissingMetadata {
            name: "a".into(),
            field: "namespace",
        };
        assert_eq!(spec.reason().as_str(), "InvalidSpec");
        assert_eq!(spec.metric_label(), "missing_metadata");
    }

    /// Replicated on PostgreSQL, with an inline catalog and a
    /// NetworkPolicy: a Store of every kind but the volume.
    fn everything_but_a_volume() -> Store {
        let mut store = Store::test()
            .with_replicas(2)
            .with_postgres()
            .with_inline_catalog();
        store.spec.network_policy = Some(crate::api::NetworkPolicySettings { enabled: true });
        store
    }

    /// Which kinds, and how many of each: in the table's order.
    fn built_kinds_in_table_order(store: &Store) -> Vec<&'static ManagedKind> {
        kinds::in_table_order(built_kinds(store))
    }

    #[test]
    fn a_default_store_gets_its_pods_volume_service_and_scrape_config() {
        use kinds::*;
        assert_eq!(
            built_kinds_in_table_order(&Store::test()),
            [
                &SERVICE_ACCOUNT,
                &SECRET,
                &CONFIG_MAP,
                &PERSISTENT_VOLUME_CLAIM,
                &DEPLOYMENT,
                &SERVICE,
                &SERVICE_MONITOR,
            ]
        );
    }

    /// The one test of the order: the table's (a Deployment after the
    /// Secret, ConfigMap and volume its pods mount), the dashboards'
    /// ConfigMap last, as nothing the pods need waits on it.
    #[test]
    fn objects_are_built_in_the_tables_order_the_dashboards_last() {
        let built = built_kinds(&everything_but_a_volume());
        let (last, rest) = built.split_last().unwrap();
        assert_eq!(*last, &kinds::CONFIG_MAP);
        assert!(
            rest.is_sorted_by_key(|k| kinds::position(k)),
            "{:?}",
            rest.iter().map(|k| k.kind).collect::<Vec<_>>()
        );
        // Every kind but the volume (PostgreSQL holds the data) and the
        // PrometheusRule (only swept: a Store has no rules of its own).
        assert_eq!(rest.len(), kinds::ALL.len() - 2);
    }

    #[test]
    fn a_replicated_store_on_postgres_gets_a_budget_and_no_volume() {
        let mut store = Store::test()
            .with_replicas(3)
            .with_postgres()
            .with_inline_catalog()
            .without_service_monitor();
        store.spec.monitoring.alerts.enabled = false;
        store.spec.monitoring.dashboards.enabled = false;
        use kinds::*;
        assert_eq!(
            built_kinds_in_table_order(&store),
            [
                &SERVICE_ACCOUNT,
                &SECRET,
                &CONFIG_MAP,
                &DEPLOYMENT,
                &SERVICE,
                &POD_DISRUPTION_BUDGET
            ]
        );
    }

    /// Every row of the managed-kinds table is built by some Store, so
    /// every kind the sweep and the watches know is one the build makes;
    /// but the PrometheusRule, which earlier versions built per Store and
    /// the sweep now deletes.
    #[test]
    fn the_stores_between_them_build_every_managed_kind() {
        let mut built = built_kinds(&everything_but_a_volume());
        built.extend(built_kinds(&Store::test()));
        assert!(!built.contains(&&kinds::PROMETHEUS_RULE));
        for kind in kinds::ALL
            .into_iter()
            .filter(|k| **k != kinds::PROMETHEUS_RULE)
        {
            assert!(built.contains(&kind), "{} is never built", kind.kind);
        }
    }

    #[test]
    fn every_object_carries_the_store_labels_and_namespace() {
        let store = Store::test()
            .with_replicas(2)
            .with_postgres()
            .with_inline_catalog();
        let desired = build_store(&store).unwrap();
        for object in &desired.objects {
            let value = serde_json::to_value(object).unwrap();
            let meta = &value["metadata"];
            assert_eq!(meta["namespace"], "shop", "{}", object.kind());
            assert_eq!(
                meta["labels"]["storeops.dev/store-id"],
                "alpha",
                "{}",
                object.kind()
            );
            assert_eq!(
                meta["ownerReferences"][0]["kind"],
                "Store",
                "{}",
                object.kind()
            );
            assert!(value["apiVersion"].is_string() && value["kind"] == object.kind());
        }
    }

    /// The resolved model is the builders' only input: no builder names the
    /// Store type or the api module, so none can read `spec` beside it.
    #[test]
    fn no_builder_reads_the_store() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/reconcile/build");
        let mut files = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if name.ends_with("_tests.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap();
            for (n, line) in code.lines().enumerate() {
                if line.trim_start().starts_with("//") {
                    continue;
                }
                // Identifiers outside string literals.
                let outside: String = line.split('"').step_by(2).collect();
                let mut words = outside.split(|c: char| !(c.is_alphanumeric() || c == '_'));
                assert!(
                    !words.any(|w| w == "Store" || w == "StoreSpec"),
                    "{name}:{}: a builder names the Store; resolve what it needs in \
                     reconcile/resolve.rs instead: {line}",
                    n + 1
                );
            }
            files += 1;
        }
        assert!(files >= 14, "{files} builder files read");
    }

    #[test]
    fn a_store_without_namespace_or_breaking_a_rule_is_refused_with_the_reason() {
        let mut store = Store::test();
        store.metadata.namespace = None;
        let err = build_store(&store).unwrap_err();
        assert_eq!(err.to_string(), "Store \"alpha\" has no metadata.namespace");
        let err = build_store(&Store::test().with_replicas(2)).unwrap_err();
        assert_eq!(err.metric_label(), "invalid_store");
        assert!(err.to_string().contains("spec.replicas"), "{err}");
    }
}
