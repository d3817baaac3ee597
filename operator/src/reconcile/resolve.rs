//! The resolve step: a Store, as read from the API server or a file, checked
//! once against every admission rule (the API server enforces the same ones;
//! `operator render` and a Store that skipped admission meet them here), then
//! resolved into a [`ResolvedStore`]: the build step's only input. Defaults
//! are applied here (the spec's and the operator's), cross-field rules
//! decided, names, labels, selectors and the monitored view computed once.
//! No builder reads the Store's spec (a test in `build` keeps it so).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ResourceRequirements;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use kube::ResourceExt;

use super::build::error::Error;
use super::identity::Identity;
use crate::api::{ConfigMapKeyRef, LogLevel, Product, SecretKeyRef, Store, validation};
use crate::config::OperatorConfig;
use crate::monitoring::rules::{DEFAULT_RUNBOOK_BASE, Target};

/// Key of the inline catalog in its ConfigMap, and its file name in the pod.
pub const INLINE_CATALOG_KEY: &str = "catalog.json";

/// A Store that passed every admission rule, with everything the build step
/// needs decided.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedStore {
    /// Name, namespace, store id, owner; the names and labels of its objects.
    pub id: Identity,
    /// `spec.displayName`, else `metadata.name`: the dashboards' title.
    pub display_name: String,
    /// ISO 4217 code of the catalog's prices (`spec.currency`).
    pub currency: String,
    /// The store-service image: `spec.image`, else the operator's default.
    pub image: String,
    /// Pods (`spec.replicas`, 1 to 10).
    pub replicas: i32,
    /// Whether the pods get a PodDisruptionBudget: more than one replica
    /// (which admission allows only on PostgreSQL).
    pub disruption_budget: bool,
    /// Where products and sales live.
    pub database: Database,
    /// Where the pods read their catalog from; `None`: the store starts empty.
    pub catalog: Option<Catalog>,
    /// The container's resources: `spec.resources`, else the defaults
    /// (requests 50m / 64Mi, limits 500m / 256Mi).
    pub resources: ResourceRequirements,
    /// Traces and logs of the store-service.
    pub telemetry: Telemetry,
    /// The ServiceMonitor's settings; `None` when it is disabled.
    pub service_monitor: Option<ServiceMonitorSettings>,
    /// Alerts are on: the operator serves the Store's objectives, which the
    /// fleet's rules read.
    pub alerts: bool,
    /// What the rules and dashboards are about: namespace, store id, job,
    /// objectives and thresholds, runbook base.
    pub monitored: Target,
    /// The dashboard ConfigMap's folder and labels; `None` when disabled.
    pub dashboards: Option<DashboardSettings>,
    /// Whether a NetworkPolicy surrounds the pods (`spec.networkPolicy.enabled`).
    pub network_policy: bool,
}

/// The store's database.
#[derive(Debug, Clone, PartialEq)]
pub enum Database {
    /// SQLite on a ReadWriteOnce volume of this size and storage class.
    Embedded {
        /// Size of the PersistentVolumeClaim.
        size: Quantity,
        /// Its storage class; `None`: the cluster's default.
        storage_class_name: Option<String>,
    },
    /// PostgreSQL at the URL held by this key of this Secret.
    Postgres(SecretKeyRef),
}

/// Where the pods read the catalog from.
#[derive(Debug, Clone, PartialEq)]
pub struct Catalog {
    /// The ConfigMap: ours for an inline catalog, the user's for `configMapRef`.
    pub config_map: String,
    /// Its key, also the file name under the catalog mount.
    pub key: String,
    /// The inline products (written to our ConfigMap); `None` for a reference.
    pub inline: Option<Vec<Product>>,
}

/// Traces and logs, with the operator's defaults applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Telemetry {
    /// OTLP gRPC endpoint: `spec.telemetry.otlpEndpoint`, else the
    /// operator's default; `None`: nothing is exported.
    pub otlp_endpoint: Option<String>,
    /// Share of root traces sampled, 0 to 1.
    pub trace_sample_ratio: f64,
    /// Least severe level logged.
    pub log_level: LogLevel,
}

/// How Prometheus scrapes the store.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceMonitorSettings {
    /// Scrape interval, e.g. `30s`.
    pub interval: String,
    /// Extra labels of the ServiceMonitor.
    pub labels: BTreeMap<String, String>,
}

/// Where Grafana's sidecar files the store's dashboard.
#[derive(Debug, Clone, PartialEq)]
pub struct DashboardSettings {
    /// Grafana folder.
    pub folder: String,
    /// Extra labels of the dashboard ConfigMap.
    pub labels: BTreeMap<String, String>,
}

/// Checks the Store and resolves it. Errors: [`Error::MissingMetadata`]
/// without a name or namespace, [`Error::InvalidStore`] naming every broken
/// admission rule.
pub fn resolve(store: &Store, config: &OperatorConfig) -> Result<ResolvedStore, Error> {
    let missing = |field| Error::MissingMetadata {
        name: store.metadata.name.clone().unwrap_or_default(),
        field,
    };
    store
        .metadata
        .name
        .as_ref()
        .ok_or_else(|| missing("name"))?;
    store.namespace().ok_or_else(|| missing("namespace"))?;
    validation::validate(store)?;
    Ok(resolved(store, config))
}

/// The rules' view of `store` when its alerts are on, for the objectives the
/// operator serves; `None` when they are off, or its spec is invalid (then
/// the Store is Degraded with InvalidSpec, and the fleet's alerts leave it
/// alone until it is fixed).
pub fn monitored_target(store: &Store) -> Option<Target> {
    // At every scrape, for every Store: what resolve checks, not all it builds.
    store.metadata.name.as_ref()?;
    store.namespace()?;
    validation::validate(store).ok()?;
    let alerts = store.spec.monitoring.alerts.enabled;
    alerts.then(|| monitored(store, &Identity::of(store)))
}

/// The model of a Store known to be valid.
fn resolved(store: &Store, config: &OperatorConfig) -> ResolvedStore {
    let spec = &store.spec;
    let id = Identity::of(store);
    let monitoring = &spec.monitoring;
    ResolvedStore {
        display_name: spec.display_name.clone().unwrap_or_else(|| id.name.clone()),
        currency: spec.currency.clone(),
        image: spec
            .image
            .clone()
            .unwrap_or_else(|| config.default_image.clone()),
        replicas: spec.replicas,
        disruption_budget: spec.replicas > 1,
        database: database(store),
        catalog: catalog(store, &id),
        resources: spec
            .resources
            .as_ref()
            .map_or_else(default_resources, |r| r.to_requirements()),
        telemetry: Telemetry {
            otlp_endpoint: spec
                .telemetry
                .otlp_endpoint
                .clone()
                .or_else(|| config.default_otlp_endpoint.clone()),
            trace_sample_ratio: spec.telemetry.trace_sample_ratio,
            log_level: spec.telemetry.log_level,
        },
        service_monitor: monitoring
            .service_monitor
            .enabled
            .then(|| ServiceMonitorSettings {
                interval: monitoring.service_monitor.interval.clone(),
                labels: monitoring.service_monitor.labels.clone(),
            }),
        alerts: monitoring.alerts.enabled,
        monitored: monitored(store, &id),
        dashboards: monitoring.dashboards.enabled.then(|| DashboardSettings {
            folder: monitoring.dashboards.folder.clone(),
            labels: monitoring.dashboards.labels.clone(),
        }),
        network_policy: spec.network_policy.as_ref().is_some_and(|n| n.enabled),
        id,
    }
}

/// Exactly one of embedded and postgres is set (admission).
fn database(store: &Store) -> Database {
    let db = &store.spec.database;
    match (&db.postgres, &db.embedded) {
        (Some(pg), _) => Database::Postgres(pg.secret_ref.clone()),
        (None, Some(e)) => Database::Embedded {
            size: e.size.clone(),
            storage_class_name: e.storage_class_name.clone(),
        },
        // Admission refuses neither; the schema's default is embedded.
        (None, None) => Database::Embedded {
            size: crate::api::EmbeddedDatabase::default().size,
            storage_class_name: None,
        },
    }
}

/// Exactly one of products and configMapRef is set (admission).
fn catalog(store: &Store, id: &Identity) -> Option<Catalog> {
    let catalog = store.spec.catalog.as_ref()?;
    Some(match &catalog.config_map_ref {
        Some(ConfigMapKeyRef { name, key }) => Catalog {
            config_map: name.clone(),
            key: key.clone(),
            inline: None,
        },
        None => Catalog {
            config_map: id.catalog_config_map_name.clone(),
            key: INLINE_CATALOG_KEY.to_string(),
            inline: Some(catalog.products.clone().unwrap_or_default()),
        },
    })
}

/// The rules' and dashboards' view of the Store.
fn monitored(store: &Store, id: &Identity) -> Target {
    let monitoring = &store.spec.monitoring;
    let alerts = &monitoring.alerts;
    Target {
        namespace: id.namespace.clone(),
        store_id: id.store_id.clone(),
        job: id.object_name.clone(),
        deployment: id.object_name.clone(),
        availability_target: alerts.slo.availability_target,
        latency_threshold: alerts.slo.latency_threshold_seconds,
        latency_target: alerts.slo.latency_target,
        window_days: alerts.slo.window_days,
        min_events: alerts.slo.min_events,
        low_stock_threshold: alerts.low_stock_threshold,
        runbook_base: alerts
            .runbook_base_url
            .as_deref()
            .unwrap_or(DEFAULT_RUNBOOK_BASE)
            .trim_end_matches('/')
            .to_string(),
        scraped: monitoring.service_monitor.enabled,
    }
}

/// Requests 50m / 64Mi, limits 500m / 256Mi.
pub fn default_resources() -> ResourceRequirements {
    let q = |cpu: &str, memory: &str| {
        BTreeMap::from([
            ("cpu".to_string(), Quantity(cpu.into())),
            ("memory".to_string(), Quantity(memory.into())),
        ])
    };
    ResourceRequirements {
        requests: Some(q("50m", "64Mi")),
        limits: Some(q("500m", "256Mi")),
        ..ResourceRequirements::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(store: &Store) -> ResolvedStore {
        resolve(store, &OperatorConfig::default()).unwrap()
    }

    #[test]
    fn a_default_store_resolves_to_the_documented_defaults() {
        let r = of(&Store::test());
        assert_eq!(r.id.store_id, "alpha");
        assert_eq!(r.id.object_name, "store-alpha");
        assert_eq!(r.display_name, "alpha");
        assert_eq!(r.image, crate::config::DEFAULT_IMAGE);
        assert!(!r.disruption_budget && !r.network_policy);
        assert!(matches!(r.database, Database::Embedded { .. }));
        assert_eq!(r.catalog, None);
        assert_eq!(r.resources, default_resources());
        assert_eq!(r.telemetry.otlp_endpoint, None);
        assert!(r.service_monitor.is_some() && r.alerts);
        assert_eq!(r.monitored.namespace, "shop");
        assert_eq!(r.monitored.job, "store-alpha");
        assert!(r.monitored.scraped);
    }

    #[test]
    fn operator_defaults_yield_to_the_spec() {
        let config = OperatorConfig {
            default_otlp_endpoint: Some("http://collector:4317".into()),
            ..OperatorConfig::default()
        };
        let r = resolve(&Store::test(), &config).unwrap();
        assert_eq!(
            r.telemetry.otlp_endpoint.as_deref(),
            Some("http://collector:4317")
        );
        let own = Store::test()
            .with_otlp_endpoint("http://mine:4317")
            .with_image("reg/store:1");
        let r = resolve(&own, &config).unwrap();
        assert_eq!(
            r.telemetry.otlp_endpoint.as_deref(),
            Some("http://mine:4317")
        );
        assert_eq!(r.image, "reg/store:1");
    }

    #[test]
    fn replicas_on_postgres_get_a_budget_and_catalogs_their_source() {
        let r = of(&Store::test()
            .with_replicas(2)
            .with_postgres()
            .with_catalog_ref());
        assert!(r.disruption_budget);
        let (secret, _) = testenv::fixtures::POSTGRES_SECRET;
        assert!(matches!(r.database, Database::Postgres(ref s) if s.name == secret));
        let c = r.catalog.unwrap();
        assert_eq!(
            (c.config_map.as_str(), c.key.as_str()),
            testenv::fixtures::CATALOG_CONFIG_MAP
        );
        assert_eq!(c.inline, None);
        let inline = of(&Store::test().with_inline_catalog()).catalog.unwrap();
        assert_eq!(inline.config_map, "store-alpha-catalog");
        assert_eq!(inline.key, INLINE_CATALOG_KEY);
        let products = testenv::fixtures::products();
        assert_eq!(
            inline.inline.map(|p| p.len()),
            products.as_array().map(Vec::len)
        );
    }

    #[test]
    fn disabled_monitoring_resolves_to_none_and_the_view_knows_it_is_unscraped() {
        let mut store = Store::test().without_service_monitor();
        store.spec.monitoring.alerts.enabled = false;
        store.spec.monitoring.dashboards.enabled = false;
        let r = of(&store);
        assert_eq!(r.service_monitor, None);
        assert!(!r.alerts);
        assert_eq!(r.dashboards, None);
        assert!(!r.monitored.scraped);
    }

    #[test]
    fn a_store_without_namespace_or_breaking_a_rule_is_refused() {
        let mut store = Store::test();
        store.metadata.namespace = None;
        let err = resolve(&store, &OperatorConfig::default()).unwrap_err();
        assert_eq!(err.to_string(), "Store \"alpha\" has no metadata.namespace");
        let err = resolve(&Store::test().with_replicas(2), &OperatorConfig::default()).unwrap_err();
        assert!(err.to_string().contains("spec.replicas"), "{err}");
    }
}
