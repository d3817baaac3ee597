//! Test Stores that read as prose: `Store::test().with_replicas(3).with_postgres()`.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use kube::api::ObjectMeta;

use crate::api::{
    Amounts, Catalog, ConfigMapKeyRef, Database, PostgresDatabase, Product, Resources,
    SecretKeyRef, Store, StoreSpec,
};

impl Store {
    /// The Store resolved with the operator's default configuration, as the
    /// build step gets it; panics on a Store admission would refuse.
    pub fn resolved(&self) -> crate::reconcile::resolve::ResolvedStore {
        crate::reconcile::resolve::resolve(self, &crate::config::OperatorConfig::default())
            .expect("a valid test Store")
    }

    /// Store `alpha` in namespace `shop`, with every default, as the API
    /// server would return it (uid and generation set).
    pub fn test() -> Store {
        let spec: StoreSpec = serde_json::from_value(serde_json::json!({})).expect("defaults");
        Store {
            metadata: ObjectMeta {
                name: Some("alpha".into()),
                namespace: Some("shop".into()),
                uid: Some("0b6c9a8e-3f7d-4d2a-9e51-7a1f0c2b9d11".into()),
                generation: Some(1),
                ..ObjectMeta::default()
            },
            spec,
            status: None,
        }
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

    /// With `spec.replicas`.
    pub fn with_replicas(mut self, n: i32) -> Store {
        self.spec.replicas = n;
        self
    }

    /// With PostgreSQL from Secret `pg`, key `url`, instead of SQLite.
    pub fn with_postgres(mut self) -> Store {
        self.spec.database = Database {
            embedded: None,
            postgres: Some(PostgresDatabase {
                secret_ref: SecretKeyRef {
                    name: "pg".into(),
                    key: "url".into(),
                },
            }),
        };
        self
    }

    /// With two products inline.
    pub fn with_inline_catalog(mut self) -> Store {
        let product = |name: &str, price, stock| Product {
            name: name.into(),
            category: "fruit".into(),
            price,
            stock,
        };
        self.spec.catalog = Some(Catalog {
            products: Some(vec![
                product("apple", 0.5, 500),
                product("banana", 0.25, 800),
            ]),
            config_map_ref: None,
        });
        self
    }

    /// With the catalog in key `products.yaml` of ConfigMap `beta-products`.
    pub fn with_catalog_ref(mut self) -> Store {
        self.spec.catalog = Some(Catalog {
            products: None,
            config_map_ref: Some(ConfigMapKeyRef {
                name: "beta-products".into(),
                key: "products.yaml".into(),
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

fn to_map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}
