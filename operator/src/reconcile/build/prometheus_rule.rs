//! The fleet's PrometheusRule (monitoring.coreos.com/v1), holding the
//! recording rules and alerts of every Store ([`crate::monitoring`]). A
//! Store has none of its own: the operator serves its objectives at
//! `/metrics` ([`crate::metrics`]), and sweeps the per-Store
//! PrometheusRules of earlier versions.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::CustomResource;
use serde::{Deserialize, Serialize};

use crate::monitoring::{self, rules::RuleGroup};

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
}
