//! What the operator is configured with, as opposed to what a Store asks for.

/// The field manager of every server-side apply.
pub const FIELD_MANAGER: &str = "storeops";

/// The store-service image of this release.
pub const DEFAULT_IMAGE: &str = concat!("storeops/store-service:", env!("CARGO_PKG_VERSION"));

use std::collections::BTreeMap;

/// Namespace of the Prometheus that scrapes the Stores, by default.
pub const DEFAULT_PROMETHEUS_NAMESPACE: &str = "monitoring";
/// Labels of its pods, by default (what the Prometheus Operator sets).
pub const DEFAULT_PROMETHEUS_POD_LABELS: &str = "app.kubernetes.io/name=prometheus";

/// Operator-wide settings that a Store's spec may override.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorConfig {
    /// Image of the store-service when `spec.image` is unset.
    pub default_image: String,
    /// OTLP endpoint when `spec.telemetry.otlpEndpoint` is unset; `None`:
    /// no export.
    pub default_otlp_endpoint: Option<String>,
    /// Namespace of the fleet dashboards and of the fleet's PrometheusRule
    /// (the SLI recording rules and alerts of every Store).
    pub dashboard_namespace: String,
    /// Labels of the fleet's PrometheusRule (how Prometheus selects rules).
    pub fleet_rule_labels: BTreeMap<String, String>,
    /// Field manager of server-side apply.
    pub field_manager: String,
    /// Namespace of the Prometheus that scrapes the Stores: a Store's
    /// NetworkPolicy lets its pods in.
    pub prometheus_namespace: String,
    /// Labels of that Prometheus's pods.
    pub prometheus_pod_labels: BTreeMap<String, String>,
}

impl Default for OperatorConfig {
    fn default() -> Self {
        OperatorConfig {
            default_image: DEFAULT_IMAGE.to_string(),
            default_otlp_endpoint: None,
            dashboard_namespace: "storeops-system".to_string(),
            fleet_rule_labels: BTreeMap::new(),
            field_manager: FIELD_MANAGER.to_string(),
            prometheus_namespace: DEFAULT_PROMETHEUS_NAMESPACE.to_string(),
            prometheus_pod_labels: parse_labels(DEFAULT_PROMETHEUS_POD_LABELS)
                .expect("the default labels parse"),
        }
    }
}

/// Labels written `key=value,key2=value2` (as `kubectl get -l` takes them
/// for equality), e.g. `app.kubernetes.io/name=prometheus`.
///
/// Errors: an item without `=`, or with an empty key, is named.
pub fn parse_labels(text: &str) -> Result<BTreeMap<String, String>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| match item.split_once('=') {
            Some((key, value)) if !key.trim().is_empty() => {
                Ok((key.trim().to_string(), value.trim().to_string()))
            }
            _ => Err(format!("label {item:?} is not key=value")),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_parse_as_key_value_pairs_and_nonsense_is_named() {
        assert_eq!(
            parse_labels("a=1, b/c=2,").unwrap(),
            BTreeMap::from([("a".into(), "1".into()), ("b/c".into(), "2".into())])
        );
        assert!(parse_labels("").unwrap().is_empty());
        assert!(parse_labels("a=1,b").unwrap_err().contains("\"b\""));
        assert!(parse_labels("=x").is_err());
    }
}
