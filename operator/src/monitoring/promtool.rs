//! promtool unit tests generated from the operator's own rules: for every
//! alert, series of several Stores that make it fire for each (with the
//! exact labels, and the annotations Prometheus must render from them) and
//! series that keep it quiet. `promtool test rules` runs them against the
//! fleet's rule groups, with the Stores' objectives as the operator serves
//! them ([`objectives_input`]) among the input series.

use serde_json::{Value, json};

use super::alerts::Proven;
use super::proof::Case;
use super::rules::{RuleGroup, Target};

/// The rule file promtool reads.
pub fn rules_file(groups: &[RuleGroup]) -> Value {
    json!({ "groups": groups })
}

/// A test file's `group_eval_order`: `groups` in their order. Without one
/// promtool evaluates the groups of a test in an order that varies from run
/// to run.
pub fn eval_order(groups: &[RuleGroup]) -> Value {
    json!(groups.iter().map(|g| &g.name).collect::<Vec<_>>())
}

/// The scrape labels of the operator's series in the tests: another
/// namespace and job than any Store's, which the fleet's rules replace.
const OPERATOR_TARGET: [(&str, &str); 3] = [
    ("namespace", "storeops-system"),
    ("job", "storeops-operator"),
    ("instance", "10.244.0.9:8080"),
];

/// The series the operator serves for `stores`
/// ([`super::rules::exposition`]), as promtool input series constant for
/// `minutes`, with the labels its scrape adds.
pub fn objectives_input(stores: &[Target], minutes: u32) -> Vec<Value> {
    stores
        .iter()
        .flat_map(Target::exported)
        .chain([super::rules::exported_stores(stores.len())])
        .map(|e| {
            json!({
                "series": e.selector(&OPERATOR_TARGET),
                "values": format!("{:?}x{minutes}", e.value),
            })
        })
        .collect()
}

/// Minutes of a promtool duration such as `30m`, `4h` or `2d`.
pub fn minutes(duration: &str) -> u32 {
    let (n, unit) = duration.split_at(duration.len() - 1);
    let n: u32 = n.parse().unwrap_or(0);
    match unit {
        "h" => n * 60,
        "d" => n * 24 * 60,
        _ => n,
    }
}

/// The promtool test file for `alerts` proven over `stores`, reading
/// `rules_file_name`.
pub fn unit_tests(alerts: &[Proven], stores: &[Target], rules_file_name: &str) -> Value {
    let mut tests = Vec::new();
    for alert in alerts {
        for (kind, case) in [("fires", &alert.proof.fires), ("quiet", &alert.proof.quiet)] {
            tests.push(test_group(alert, stores, kind, case));
        }
        for (i, case) in alert.proof.more.iter().enumerate() {
            tests.push(test_group(alert, stores, &format!("case {}", i + 1), case));
        }
    }
    json!({
        "rule_files": [rules_file_name],
        "evaluation_interval": "1m",
        "tests": tests,
    })
}

fn test_group(alert: &Proven, stores: &[Target], kind: &str, case: &Case) -> Value {
    let mut input: Vec<Value> = case
        .series
        .iter()
        .map(|s| json!({"series": s.selector(), "values": s.values}))
        .collect();
    input.extend(objectives_input(stores, minutes(&case.eval_time) + 10));
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
    let groups = super::fleet_groups();
    let rules = rules_file(&groups);
    let proven: Vec<_> = super::alerts::alerts()
        .into_iter()
        .map(|a| a.prove(stores))
        .collect();
    let mut tests = unit_tests(&proven, stores, "rules.yaml");
    tests["group_eval_order"] = eval_order(&groups);
    let yaml = |v: &Value| serde_yaml_ng::to_string(v).expect("JSON values serialize as YAML");
    (yaml(&rules), yaml(&tests))
}
