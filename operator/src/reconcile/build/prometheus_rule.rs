//! The PrometheusRule (monitoring.coreos.com/v1) holding the Store's SLI
//! recording rules and alerts, from [`crate::monitoring::rules`].

use kube::CustomResource;
use serde::{Deserialize, Serialize};

use super::meta;
use crate::api::Store;
use crate::monitoring::{
    self,
    rules::{RuleGroup, Target},
};

/// `spec` of a PrometheusRule: its groups.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "monitoring.coreos.com",
    version = "v1",
    kind = "PrometheusRule",
    namespaced,
    schema = "disabled",
    derive = "PartialEq"
)]
pub struct PrometheusRuleSpec {
    /// Rule groups, evaluated by Prometheus.
    pub groups: Vec<RuleGroup>,
}

/// The Store's rules; `None` when `spec.monitoring.alerts` is disabled. The
/// spec's alert labels are added (they are how Prometheus selects rules).
pub fn prometheus_rule(store: &Store, monitored: &Target) -> Option<PrometheusRule> {
    let alerts = &store.spec.monitoring.alerts;
    if !alerts.enabled {
        return None;
    }
    let mut metadata = meta::object_meta(store, meta::object_name(store));
    meta::add_labels(&mut metadata, &alerts.labels);
    Some(PrometheusRule {
        metadata,
        spec: PrometheusRuleSpec {
            groups: monitoring::groups(monitored),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rules_select_the_store_by_namespace_and_store_id() {
        let rule = prometheus_rule(&Store::test(), &Target::of(&Store::test())).unwrap();
        let value = serde_json::to_value(&rule).unwrap();
        assert_eq!(value["kind"], "PrometheusRule");
        assert_eq!(value["metadata"]["name"], "store-alpha");
        let exprs: Vec<&str> = rule
            .spec
            .groups
            .iter()
            .flat_map(|g| &g.rules)
            .map(|r| r.expr.as_str())
            .collect();
        assert!(exprs.len() > 30, "{}", exprs.len());
        for expr in exprs {
            assert!(
                expr.contains(r#"namespace="shop""#),
                "an expression without the store's namespace: {expr}"
            );
        }
    }

    #[test]
    fn alert_labels_are_added_and_disabled_alerts_build_nothing() {
        let mut store = Store::test();
        store
            .spec
            .monitoring
            .alerts
            .labels
            .insert("release".into(), "kube-prometheus-stack".into());
        let labels = prometheus_rule(&store, &Target::of(&store))
            .unwrap()
            .metadata
            .labels
            .unwrap();
        assert_eq!(labels["release"], "kube-prometheus-stack");
        store.spec.monitoring.alerts.enabled = false;
        assert_eq!(prometheus_rule(&store, &Target::of(&store)), None);
    }
}
