//! `spec.networkPolicy`: an optional NetworkPolicy around the store's pods.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A NetworkPolicy that lets into the store's pods only its own namespace
/// (the load generator, other clients) and the monitoring namespace's
/// Prometheus, and out only DNS, the database and the OTLP endpoint. Off by
/// default; it takes effect only where the cluster's network plugin enforces
/// NetworkPolicies.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct NetworkPolicySettings {
    /// Create the NetworkPolicy `store-<name>`. Default false.
    #[serde(default)]
    pub enabled: bool,
}
