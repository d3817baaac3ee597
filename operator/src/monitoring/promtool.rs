//! promtool unit tests generated from the operator's own rules: for every
//! alert, the series that make it fire (with the exact labels, and the
//! annotations Prometheus must render from them) and the series that keep it
//! quiet. `promtool test rules` runs them against the same rule groups the
//! PrometheusRule carries.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::alerts::Proven;
use super::proof::Case;
use super::rules::{RuleGroup, Target};

/// The rule file promtool reads: the PrometheusRule's groups.
pub fn rules_file(groups: &[RuleGroup]) -> Value {
    json!({ "groups": groups })
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
        .map(|e| {
            let rule = alert
                .rules
                .iter()
                .find(|r| r.labels.iter().all(|(k, v)| e.labels.get(k) == Some(v)))
                .unwrap_or(&alert.rules[0]);
            let annotations: BTreeMap<&String, String> = rule
                .annotations
                .iter()
                .map(|(k, v)| (k, render(v, &e.labels, e.value)))
                .collect();
            json!({"exp_labels": e.labels, "exp_annotations": annotations})
        })
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

/// The rule groups and the promtool tests of one Store, as YAML.
pub fn files(t: &Target) -> (String, String) {
    let rules = rules_file(&super::groups(t));
    let proven: Vec<_> = super::alerts::alerts(t)
        .into_iter()
        .map(super::alerts::Alert::prove)
        .collect();
    let tests = unit_tests(&proven, "rules.yaml");
    let yaml = |v: &Value| serde_yaml_ng::to_string(v).expect("JSON values serialize as YAML");
    (yaml(&rules), yaml(&tests))
}

/// Renders the template functions our annotations use, as Prometheus does:
/// `{{ $labels.x }}`, `{{ $value | humanize }}`, `{{ $value | humanizePercentage }}`.
pub fn render(template: &str, labels: &BTreeMap<String, String>, value: f64) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find("}}")
            .map_or(rest.len(), |e| start + e + 2);
        let action = rest[start + 2..end.saturating_sub(2)].trim();
        out.push_str(&match action {
            "$value | humanize" => humanize(value),
            "$value | humanizePercentage" => format!("{}%", go_g4(value * 100.0)),
            a if a.starts_with("$labels.") => labels.get(&a[8..]).cloned().unwrap_or_default(),
            other => format!("{{{{ {other} }}}}"),
        });
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Prometheus's `humanize`: SI prefixes and four significant digits.
pub fn humanize(mut v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return go_g4(v);
    }
    let mut prefix = "";
    if v.abs() >= 1.0 {
        for p in ["k", "M", "G", "T", "P", "E", "Z", "Y"] {
            if v.abs() < 1000.0 {
                break;
            }
            prefix = p;
            v /= 1000.0;
        }
    } else {
        for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
            if v.abs() >= 1.0 {
                break;
            }
            prefix = p;
            v *= 1000.0;
        }
    }
    format!("{}{prefix}", go_g4(v))
}

/// Go's `%.4g`: four significant digits, no trailing zeros, exponent form
/// below 1e-4 and from 1e4.
pub fn go_g4(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let sci = format!("{v:.3e}");
    let (mantissa, exp) = sci.split_once('e').expect("{:e} has an exponent");
    let exp: i32 = exp.parse().expect("an integer exponent");
    let trim = |s: &str| {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s.to_string()
        }
    };
    if !(-4..4).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{}e{sign}{:02}", trim(mantissa), exp.abs());
    }
    trim(&format!("{v:.*}", (3 - exp) as usize))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_prometheus_prints_them() {
        assert_eq!(go_g4(50.0), "50");
        assert_eq!(go_g4(33.33333), "33.33");
        assert_eq!(go_g4(0.4875), "0.4875");
        assert_eq!(go_g4(12345.0), "1.234e+04");
        assert_eq!(go_g4(0.00001234), "1.234e-05");
        assert_eq!(humanize(0.4875), "487.5m");
        assert_eq!(humanize(1234.0), "1.234k");
        assert_eq!(humanize(15.0), "15");
        assert_eq!(humanize(0.0), "0");
    }

    #[test]
    fn templates_render_labels_and_values() {
        let labels = BTreeMap::from([("pod".to_string(), "p-1".to_string())]);
        assert_eq!(
            render(
                "{{ $labels.pod }} at {{ $value | humanizePercentage }}",
                &labels,
                0.5
            ),
            "p-1 at 50%"
        );
    }
}
