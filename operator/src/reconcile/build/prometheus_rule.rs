//! The PrometheusRule (monitoring.coreos.com/v1) holding the Store's SLI
//! recording rules and alerts, from [`crate::monitoring::rules`].

use kube::CustomResource;
use serde::{Deserialize, Serialize};

use crate::monitoring::{self, rules::RuleGroup};
use crate::reconcile::identity::add_labels;
use crate::reconcile::resolve::ResolvedStore;

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
pub fn prometheus_rule(store: &ResolvedStore) -> Option<PrometheusRule> {
    let labels = store.alert_labels.as_ref()?;
    let mut metadata = store.id.object_meta(&store.id.object_name);
    add_labels(&mut metadata, labels);
    Some(PrometheusRule {
        metadata,
        spec: PrometheusRuleSpec {
            groups: monitoring::groups(&store.monitored),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Store;

    #[test]
    fn the_rules_select_the_store_by_namespace_and_store_id() {
        let rule = prometheus_rule(&Store::test().resolved()).unwrap();
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
        let labels = prometheus_rule(&store.resolved())
            .unwrap()
            .metadata
            .labels
            .unwrap();
        assert_eq!(labels["release"], "kube-prometheus-stack");
        store.spec.monitoring.alerts.enabled = false;
        assert_eq!(prometheus_rule(&store.resolved()), None);
    }
}
