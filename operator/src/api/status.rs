//! `status`: what the operator observed, written by the status step.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::KubeSchema;
use serde::{Deserialize, Serialize};

/// The condition types of a Store (Kubernetes conventions: `True` is good).
pub mod condition_types {
    /// Every replica is ready and the spec is fully applied.
    pub const READY: &str = "Ready";
    /// A change is being rolled out.
    pub const PROGRESSING: &str = "Progressing";
    /// Something the Store needs is missing or failing; the reason says what.
    pub const DEGRADED: &str = "Degraded";
    /// The ServiceMonitor, alerts and dashboards are in place.
    pub const MONITORING_READY: &str = "MonitoringReady";
}

/// What the operator observed of the Store.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct StoreStatus {
    /// The store id in effect (spec.storeId, else metadata.name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_id: Option<String>,
    /// The metadata.generation this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Ready, Progressing, Degraded and MonitoringReady.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["type".into()]))]
    pub conditions: Vec<Condition>,
    /// Pods of the store-service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<i32>,
    /// Ready pods of the store-service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready_replicas: Option<i32>,
    /// In-cluster URL of the store's API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_url: Option<String>,
    /// Uids of the store's Grafana dashboards.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dashboard_uids: Vec<String>,
}
