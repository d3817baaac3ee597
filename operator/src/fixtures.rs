//! Test Stores that read as prose: `Store::test().with_replicas(3).with_postgres()`.
//!
//! The typed view of `testenv::fixtures`, which holds the data (the Store
//! `alpha`, the catalog, the Secret and ConfigMap a Store names) for every
//! crate's tests; built for the operator's unit tests and, with the
//! `fixtures` feature, its integration tests.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use testenv::fixtures as data;

use crate::api::{
    Amounts, Catalog, ConfigMapKeyRef, Database, PostgresDatabase, Product, Resources,
    SecretKeyRef, Store,
};
use crate::monitoring::dashboards::{self, Dashboard};
use crate::reconcile::resolve::ResolvedStore;

impl Store {
    /// The Store resolved with the operator's default configuration, as the
    /// build step gets it; panics on a Store admission would refuse.
    pub fn resolved(&self) -> ResolvedStore {
        crate::reconcile::resolve::resolve(self, &crate::config::OperatorConfig::default())
            .unwrap_or_else(|e| panic!("a valid test Store: {e}"))
    }

    /// Store `alpha` in namespace `shop`, with every default, as the API
    /// server would return it (uid and generation set): `testenv::fixtures::alpha`.
    pub fn test() -> Store {
        serde_json::from_value(data::alpha()).expect("testenv's alpha is a Store")
    }

    /// Without a uid, as read from a file by `operator render`.
    pub fn without_uid(mut self) -> Store {
        self.metadata.uid = None;
        self
    }

    /// With `spec.storeId`.
    pub fn with_store_id(mut self, id: &str) -> Store {
        self.spec.store_id = Some(id.into());
        self
    }

    /// With `spec.displayName`.
    pub fn with_display_name(mut self, name: &str) -> Store {
        self.spec.display_name = Some(name.into());
        self
    }

    /// With `spec.replicas`.
    pub fn with_replicas(mut self, n: i32) -> Store {
        self.spec.replicas = n;
        self
    }

    /// With PostgreSQL instead of SQLite, its URL in the fixtures' Secret
    /// (`testenv::fixtures::POSTGRES_SECRET`).
    pub fn with_postgres(mut self) -> Store {
        let (name, key) = data::POSTGRES_SECRET;
        self.spec.database = Database {
            embedded: None,
            postgres: Some(PostgresDatabase {
                secret_ref: SecretKeyRef {
                    name: name.into(),
                    key: key.into(),
                },
            }),
        };
        self
    }

    /// With the fixtures' catalog inline (`testenv::fixtures::products`).
    pub fn with_inline_catalog(mut self) -> Store {
        let products: Vec<Product> =
            serde_json::from_value(data::products()).expect("testenv's products are Products");
        self.spec.catalog = Some(Catalog {
            products: Some(products),
            config_map_ref: None,
        });
        self
    }

    /// With the catalog in the fixtures' ConfigMap
    /// (`testenv::fixtures::CATALOG_CONFIG_MAP`).
    pub fn with_catalog_ref(mut self) -> Store {
        let (name, key) = data::CATALOG_CONFIG_MAP;
        self.spec.catalog = Some(Catalog {
            products: None,
            config_map_ref: Some(ConfigMapKeyRef {
                name: name.into(),
                key: key.into(),
            }),
        });
        self
    }

    /// With `spec.image`.
    pub fn with_image(mut self, image: &str) -> Store {
        self.spec.image = Some(image.into());
        self
    }

    /// With an OTLP endpoint of its own.
    pub fn with_otlp_endpoint(mut self, url: &str) -> Store {
        self.spec.telemetry.otlp_endpoint = Some(url.into());
        self
    }

    /// With the ServiceMonitor turned off.
    pub fn without_service_monitor(mut self) -> Store {
        self.spec.monitoring.service_monitor.enabled = false;
        self
    }

    /// With ServiceMonitor labels.
    pub fn with_service_monitor_labels(mut self, labels: &[(&str, &str)]) -> Store {
        self.spec.monitoring.service_monitor.labels = to_map(labels);
        self
    }

    /// With 1 cpu and 1Gi of memory requested and allowed.
    pub fn with_big_resources(mut self) -> Store {
        let q = Amounts {
            cpu: Some(Quantity("1".into())),
            memory: Some(Quantity("1Gi".into())),
        };
        self.spec.resources = Some(Resources {
            requests: Some(q.clone()),
            limits: Some(q),
        });
        self
    }
}

/// Store `alpha` as the rules, dashboards and backends tests see it: store
/// id `alpha_store` (not its name, so a query that mixes the two up finds
/// nothing) and display name `Alpha`.
pub fn monitored() -> Store {
    Store::test()
        .with_store_id("alpha_store")
        .with_display_name("Alpha")
}

/// The dashboard of [`monitored`], then the fleet's.
pub fn all_dashboards() -> Vec<Dashboard> {
    let mut all = vec![crate::reconcile::build::dashboard::store_dashboard(
        &monitored().resolved(),
    )];
    all.extend(dashboards::fleet());
    all
}

fn to_map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}
