//! promtool unit tests generated from the operator's own rules: for every
//! alert, series of several Stores that make it fire for each (with the
//! exact labels, and the annotations Prometheus must render from them) and
//! series that keep it quiet. `promtool test rules` runs them against the
//! fleet's rule groups and the Stores' objective groups, as Prometheus loads
//! them from the PrometheusRules.

use serde_json::{Value, json};

use super::alerts::Proven;
use super::proof::Case;
use super::rules::{RuleGroup, Target};

/// The rule file promtool reads.
pub fn rules_file(groups: &[RuleGroup]) -> Value {
    json!({ "groups": groups })
}

/// A test file's `group_eval_order`: `groups` in their order (the Stores'
/// objectives before the fleet's rules that read them, see
/// [`super::groups`]). Without one promtool evaluates the groups of a test
/// in an order that varies from run to run.
pub fn eval_order(groups: &[RuleGroup]) -> Value {
    json!(groups.iter().map(|g| &g.name).collect::<Vec<_>>())
}

/// The promtool test file for `alerts`, reading `rules_file_name`.
pub fn unit_tests(alerts: &[Proven], rules_file_name: &str) -> Value {
    let mut tests = Vec::new();
    for alert in alerts {
        for (kind, case) in [("fires", &alert.proof.fires), ("quiet", &alert.proof.quiet)] {
            tests.push(test_group(alert, kind, case));
        }
        for (i, case) in alert.proof.more.iter().enumerate() {
            tests.push(test_group(alert, &format!("case {}", i + 1), case));
        }
    }
    json!({
        "rule_files": [rules_file_name],
        "evaluation_interval": "1m",
        "tests": tests,
    })
}

fn test_group(alert: &Proven, kind: &str, case: &Case) -> Value {
    let input: Vec<Value> = case
        .series
        .iter()
        .map(|s| json!({"series": s.selector(), "values": s.values}))
        .collect();
    let expected: Vec<Value> = case
        .expected
        .iter()
        .map(|e| json!({"exp_labels": e.labels, "exp_annotations": e.annotations}))
        .collect();
    json!({
        "name": format!("{} {kind}", alert.name()),
        "interval": "1m",
        "input_series": input,
        "alert_rule_test": [{
            "eval_time": case.eval_time,
            "alertname": alert.name(),
            "exp_alerts": expected,
        }],
    })
}

/// The rule groups of the fleet with `stores`, and the promtool tests of
/// every alert over those stores together, as YAML.
pub fn files(stores: &[Target]) -> (String, String) {
    let groups = super::groups(stores);
    let rules = rules_file(&groups);
    let proven: Vec<_> = super::alerts::alerts()
        .into_iter()
        .map(|a| a.prove(stores))
        .collect();
    let mut tests = unit_tests(&proven, "rules.yaml");
    tests["group_eval_order"] = eval_order(&groups);
    let yaml = |v: &Value| serde_yaml_ng::to_string(v).expect("JSON values serialize as YAML");
    (yaml(&rules), yaml(&tests))
}
