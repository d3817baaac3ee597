//! The PrometheusRules (monitoring.coreos.com/v1): each Store's, holding its
//! objectives as series, and the fleet's, holding the SLI recording rules and
//! alerts of every Store ([`crate::monitoring`]).

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
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

/// The Store's rules (its objectives and facts, 2 rules); `None` when
/// `spec.monitoring.alerts` is disabled, and then the fleet's alerts leave
/// the Store alone. The spec's alert labels are added (they are how
/// Prometheus selects rules).
pub fn prometheus_rule(store: &ResolvedStore) -> Option<PrometheusRule> {
    let labels = store.alert_labels.as_ref()?;
    let mut metadata = store.id.object_meta(&store.id.object_name);
    add_labels(&mut metadata, labels);
    Some(PrometheusRule {
        metadata,
        spec: PrometheusRuleSpec {
            groups: vec![monitoring::store_group(&store.monitored)],
        },
    })
}

/// Name of the fleet's PrometheusRule, in the operator's namespace.
pub const FLEET_RULE_NAME: &str = "storeops-fleet";

/// The fleet's rules (SLI recording rules and alerts of every Store), named
/// [`FLEET_RULE_NAME`] in `namespace`, with `labels` (how Prometheus selects
/// rules) and the operator's managed-by label.
pub fn fleet_prometheus_rule(namespace: &str, labels: &BTreeMap<String, String>) -> PrometheusRule {
    let mut all = BTreeMap::from([(
        "app.kubernetes.io/managed-by".to_string(),
        "storeops".to_string(),
    )]);
    all.extend(labels.clone());
    PrometheusRule {
        metadata: ObjectMeta {
            name: Some(FLEET_RULE_NAME.into()),
            namespace: Some(namespace.into()),
            labels: Some(all),
            ..ObjectMeta::default()
        },
        spec: PrometheusRuleSpec {
            groups: monitoring::fleet_groups(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Store;

    #[test]
    fn a_store_adds_two_rules_labelled_with_its_namespace_and_store_id() {
        let rule = prometheus_rule(&Store::test().resolved()).unwrap();
        let value = serde_json::to_value(&rule).unwrap();
        assert_eq!(value["kind"], "PrometheusRule");
        assert_eq!(value["metadata"]["name"], "store-alpha");
        let rules: Vec<_> = rule.spec.groups.iter().flat_map(|g| &g.rules).collect();
        assert_eq!(rules.len(), 2);
        for r in rules {
            assert_eq!(r.labels["namespace"], "shop");
            assert_eq!(r.labels["store_id"], "alpha");
        }
    }

    #[test]
    fn the_fleet_rule_has_at_most_40_rules_and_no_store_in_it() {
        let rule = fleet_prometheus_rule("storeops-system", &BTreeMap::new());
        let rules: Vec<_> = rule.spec.groups.iter().flat_map(|g| &g.rules).collect();
        assert!(rules.len() <= 40, "{}", rules.len());
        for r in rules {
            assert!(!r.expr.contains("shop"), "{}", r.expr);
        }
        assert_eq!(rule.metadata.name.as_deref(), Some(FLEET_RULE_NAME));
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
