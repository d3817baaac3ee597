//! The `Store` custom resource (`storeops.dev/v1alpha1`).
//!
//! Types only: the schema, its defaults and its admission rules. `crdgen`
//! prints them as the CRD, and [`reference`] as the Markdown reference of the
//! Store; the reconciler reads them. Every doc comment below
//! becomes `kubectl explain` text, so it speaks to the person writing a Store.
//!
//! The admission rules live in two places that must agree: in the schema
//! (OpenAPI keywords and CEL `x-kubernetes-validations`, enforced by the API
//! server) and in [`validation`] (the same rules in Rust, for `operator render`,
//! which has no API server). The tests of [`validation`] run both.

pub mod catalog;
pub mod database;
pub mod monitoring;
pub mod network_policy;
pub mod reference;
pub mod resources;
pub mod status;
pub mod syntax;
pub mod telemetry;
pub mod validation;

use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};
use syntax::{CURRENCY_PATTERN, STORE_ID_PATTERN};

pub use catalog::{Catalog, ConfigMapKeyRef, Product};
pub use database::{Database, EmbeddedDatabase, PostgresDatabase, SecretKeyRef};
pub use monitoring::{Alerts, Dashboards, Monitoring, ServiceMonitorSettings, Slo};
pub use network_policy::NetworkPolicySettings;
pub use reference::{REFERENCE_PATH, ReferenceError, reference_markdown};
pub use resources::{Amounts, Resources};
pub use status::{StoreStatus, condition_types};
pub use telemetry::{LogLevel, Telemetry};

/// Label carrying the store id on every object the operator owns.
pub const STORE_ID_LABEL: &str = "storeops.dev/store-id";

/// Largest `spec.replicas`.
pub const MAX_REPLICAS: i32 = 10;
/// Longest Store name: objects are named `store-<name>` and a Service name is
/// a DNS label of at most 63 characters.
pub const MAX_NAME_LEN: usize = 57;

/// CEL: a Store's name fits the names of the objects made from it.
pub const RULE_NAME: &str = "self.metadata.name.matches('^[a-z0-9]([-a-z0-9]{0,55}[a-z0-9])?$')";
/// Message of [`RULE_NAME`].
pub const MSG_NAME: &str = "metadata.name must be at most 57 lowercase letters, digits or '-', \
     starting and ending with a letter or digit (objects are named store-<name>)";
/// CEL: the effective store id (spec.storeId, else metadata.name) never changes.
pub const RULE_STORE_ID_IMMUTABLE: &str = "(has(self.spec.storeId) ? self.spec.storeId : self.metadata.name) == \
     (has(oldSelf.spec.storeId) ? oldSelf.spec.storeId : oldSelf.metadata.name)";
/// Message of [`RULE_STORE_ID_IMMUTABLE`].
pub const MSG_STORE_ID_IMMUTABLE: &str = "spec.storeId is immutable (unset, it is metadata.name): \
     metrics, logs and traces of the store are keyed by it";
/// CEL: several replicas need a database they can share.
pub const RULE_REPLICAS_NEED_POSTGRES: &str = "!has(self.replicas) || self.replicas <= 1 || \
     (has(self.database) && has(self.database.postgres))";
/// Message of [`RULE_REPLICAS_NEED_POSTGRES`].
pub const MSG_REPLICAS_NEED_POSTGRES: &str = "spec.replicas greater than 1 requires spec.database.postgres: \
     the embedded SQLite database lives on one ReadWriteOnce volume";

/// The desired store. Unset fields take the defaults shown by
/// `kubectl explain store.spec --recursive`.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "storeops.dev",
    version = "v1alpha1",
    kind = "Store",
    namespaced,
    shortname = "st",
    category = "storeops",
    status = "StoreStatus",
    derive = "PartialEq",
    doc = "A store of the platform: its product service, database, catalog and the monitoring \
           (ServiceMonitor, alerts, dashboards) that watches it.",
    printcolumn(name = "Store-ID", type_ = "string", json_path = ".status.storeId"),
    printcolumn(
        name = "Ready",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].status"
    ),
    printcolumn(name = "Replicas", type_ = "integer", json_path = ".status.readyReplicas"),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp"),
    validation = Rule::new(RULE_NAME).message(MSG_NAME),
    validation = Rule::new(RULE_STORE_ID_IMMUTABLE)
        .message(MSG_STORE_ID_IMMUTABLE)
        .field_path(".spec.storeId")
)]
#[x_kube(validation = Rule::new(RULE_REPLICAS_NEED_POSTGRES)
    .message(MSG_REPLICAS_NEED_POSTGRES)
    .field_path(".replicas")
    .reason(Reason::FieldValueForbidden))]
#[serde(rename_all = "camelCase")]
pub struct StoreSpec {
    /// Identifier of the store in metrics (`store_id`), logs and traces
    /// (`store.id`) and in the `storeops.dev/store-id` label. Defaults to
    /// metadata.name; immutable. Lowercase letters, digits, '-' and '_',
    /// starting and ending with a letter or digit, at most 63 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = STORE_ID_PATTERN), length(max = 63))]
    pub store_id: Option<String>,

    /// Human-readable name of the store, shown on dashboards: 1 to 100
    /// characters, no control characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 100), regex(pattern = storeops_contract::catalog::NAME_PATTERN))]
    pub display_name: Option<String>,

    /// ISO 4217 currency of the catalog's prices, e.g. USD or EUR.
    #[serde(default = "default_currency")]
    #[schemars(regex(pattern = CURRENCY_PATTERN))]
    pub currency: String,

    /// Container image of the store-service. Defaults to the image the
    /// operator was configured with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub image: Option<String>,

    /// Number of store-service pods, 1 to 10. More than one requires
    /// database.postgres.
    #[serde(default = "default_replicas")]
    #[schemars(range(min = 1, max = MAX_REPLICAS))]
    pub replicas: i32,

    /// Products that seed the store's database on its first start (later
    /// changes roll the pods but do not overwrite existing stock). Unset: the
    /// store starts empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalog: Option<Catalog>,

    /// Where the store keeps products and sales: an embedded SQLite database
    /// on a volume (default) or an external PostgreSQL.
    #[serde(default)]
    pub database: Database,

    /// Compute resources of the store-service container. Unset: requests
    /// cpu 50m, memory 64Mi; limits cpu 500m, memory 256Mi.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Resources>,

    /// Traces and logs of the store-service (OTLP).
    #[serde(default)]
    pub telemetry: Telemetry,

    /// ServiceMonitor, alert rules and dashboards of the store.
    #[serde(default)]
    pub monitoring: Monitoring,

    /// A NetworkPolicy around the store's pods. Unset: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_policy: Option<NetworkPolicySettings>,

    /// Stop reconciling this Store without deleting anything: the operator
    /// leaves its objects as they are until paused is false again.
    #[serde(default)]
    pub paused: bool,
}

fn default_currency() -> String {
    "USD".to_string()
}

fn default_replicas() -> i32 {
    1
}

impl Store {
    /// The store id: `spec.storeId`, else the Store's name.
    pub fn store_id(&self) -> &str {
        self.spec
            .store_id
            .as_deref()
            .or(self.metadata.name.as_deref())
            .unwrap_or_default()
    }

    /// `store-<name>`: the name of the Store's Deployment, Service,
    /// ServiceAccount, PodDisruptionBudget, ServiceMonitor and
    /// PrometheusRule, and so the scrape job of its series.
    pub fn object_name(&self) -> String {
        format!("store-{}", kube::ResourceExt::name_any(self))
    }
}

/// Where `crdgen` writes the CRD, relative to the workspace root.
pub const CRD_PATH: &str = "crds/storeops.dev_stores.yaml";

/// The same CRD in the Helm chart (Helm installs `crds/` of a chart first).
pub const CHART_CRD_PATH: &str = "charts/storeops/crds/storeops.dev_stores.yaml";

/// The Store CRD as YAML, exactly as committed at [`CRD_PATH`].
pub fn crd_yaml() -> Result<String, serde_yaml_ng::Error> {
    use kube::CustomResourceExt;
    let body = serde_yaml_ng::to_string(&Store::crd())?;
    Ok(format!(
        "# Generated from operator/src/api by `cargo run -p operator --bin crdgen`; do not edit.\n{body}"
    ))
}
