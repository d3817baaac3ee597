//! The rules of a PrometheusRule checked as Prometheus' rule loader
//! (`rulefmt`) checks a rules file, before the operator applies them: the
//! Prometheus Operator leaves a PrometheusRule whose rules do not load out of
//! Prometheus' configuration, and its admission webhook, which would refuse
//! it, is often off (it needs certificates). `operator/tests/operator/promtool.rs`
//! shows that promtool refuses every rule this check refuses.

use std::collections::{BTreeMap, BTreeSet};

use super::rules::{Rule, RuleGroup};

/// Rules that would not load: one message per problem, each naming the
/// group and rule (`group "g", rule "r": ...`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("the generated PrometheusRule would not load: {}", .0.join("; "))]
pub struct InvalidRules(pub Vec<String>);

/// `Ok` when every group and rule would load; otherwise every problem found.
pub fn check(groups: &[RuleGroup]) -> Result<(), InvalidRules> {
    let mut problems = Vec::new();
    let mut names = BTreeSet::new();
    for group in groups {
        if group.name.is_empty() {
            problems.push("a group has no name".to_string());
        } else if !names.insert(group.name.as_str()) {
            problems.push(format!("group {:?} is repeated", group.name));
        }
        for rule in &group.rules {
            for problem in rule_problems(rule) {
                let name = rule
                    .record
                    .as_deref()
                    .or(rule.alert.as_deref())
                    .unwrap_or_default();
                problems.push(format!("group {:?}, rule {name:?}: {problem}", group.name));
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(InvalidRules(problems))
    }
}

fn rule_problems(rule: &Rule) -> Vec<String> {
    let mut problems = Vec::new();
    // An empty name is no name, as in Prometheus' loader.
    let record = rule.record.as_deref().filter(|s| !s.is_empty());
    let alert = rule.alert.as_deref().filter(|s| !s.is_empty());
    match (record, alert) {
        (Some(_), Some(_)) => problems.push("both record and alert are set".into()),
        (None, None) => problems.push("neither record nor alert is set".into()),
        (Some(_), None) => {
            if !rule.annotations.is_empty() {
                problems.push("a recording rule cannot have annotations".into());
            }
            if rule.for_.is_some() {
                problems.push("a recording rule cannot have `for`".into());
            }
        }
        (None, Some(_)) => {
            if let Some(for_) = &rule.for_
                && !is_duration(for_)
            {
                problems.push(format!(
                    "for {for_:?} is not a duration such as 5m or 1h30m"
                ));
            }
        }
    }
    if rule.expr.trim().is_empty() {
        problems.push("expr is empty".into());
    } else if let Err(e) = promql_parser::parser::parse(&rule.expr) {
        problems.push(format!("expr does not parse: {e}"));
    }
    // Prometheus 3 takes any UTF-8 label name but the empty one.
    if rule
        .labels
        .keys()
        .chain(rule.annotations.keys())
        .any(String::is_empty)
    {
        problems.push("a label or annotation has an empty name".into());
    }
    problems
}

/// Prometheus' duration: `0`, or numbers with the units y, w, d, h, m, s,
/// ms, each at most once and in that order (`1h30m`).
fn is_duration(s: &str) -> bool {
    if s == "0" {
        return true;
    }
    const UNITS: [&str; 7] = ["y", "w", "d", "h", "m", "s", "ms"];
    let mut rest = s;
    let mut next_unit = 0;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return false;
        }
        rest = &rest[digits..];
        // "ms" before "m": the longest unit that matches.
        let Some(unit) = (next_unit..UNITS.len())
            .filter(|&i| rest.starts_with(UNITS[i]))
            .max_by_key(|&i| UNITS[i].len())
        else {
            return false;
        };
        rest = &rest[UNITS[unit].len()..];
        next_unit = unit + 1;
    }
    next_unit > 0
}

/// Rules Prometheus' loader refuses, one problem each, with a phrase the
/// check's message for it holds: the unit tests below plant them, and
/// `operator/tests/operator/promtool.rs` shows that promtool refuses each too.
pub fn planted_bad_rules() -> Vec<(Rule, &'static str)> {
    let alert = |expr: &str| Rule {
        alert: Some("StorePlanted".into()),
        expr: expr.into(),
        ..Rule::default()
    };
    vec![
        (
            alert("sum(rate(http_server_request_duration_seconds_count[5m])"),
            "does not parse",
        ),
        (
            Rule {
                for_: Some("5 minutes".into()),
                ..alert("up == 0")
            },
            "not a duration",
        ),
        (
            Rule {
                labels: BTreeMap::from([(String::new(), "x".into())]),
                ..alert("up == 0")
            },
            "an empty name",
        ),
        (
            Rule {
                record: Some("store:up".into()),
                expr: "up".into(),
                for_: Some("5m".into()),
                ..Rule::default()
            },
            "cannot have `for`",
        ),
        (
            Rule {
                record: Some("store:up".into()),
                ..alert("up")
            },
            "both record and alert",
        ),
        (
            Rule {
                expr: "up".into(),
                ..Rule::default()
            },
            "neither record nor alert",
        ),
        (
            Rule {
                record: Some("store:up".into()),
                expr: "up".into(),
                annotations: BTreeMap::from([("summary".into(), "x".into())]),
                ..Rule::default()
            },
            "cannot have annotations",
        ),
        (alert(" "), "expr is empty"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(rules: Vec<Rule>) -> Vec<RuleGroup> {
        vec![RuleGroup {
            name: "planted".into(),
            rules,
        }]
    }

    #[test]
    fn the_fleets_rules_load() {
        assert_eq!(check(&crate::monitoring::fleet_groups()), Ok(()));
    }

    #[test]
    fn each_planted_bad_rule_is_refused_naming_its_group_rule_and_problem() {
        for (rule, says) in planted_bad_rules() {
            let err = check(&group(vec![rule.clone()])).expect_err(says);
            assert_eq!(err.0.len(), 1, "{err}");
            assert!(err.0[0].starts_with("group \"planted\", rule "), "{err}");
            assert!(err.to_string().contains(says), "{rule:?}: {err}");
        }
    }

    #[test]
    fn every_problem_is_reported_and_repeated_groups_too() {
        let bad: Vec<Rule> = planted_bad_rules().into_iter().map(|(r, _)| r).collect();
        let mut groups = group(bad.clone());
        groups.push(RuleGroup {
            name: "planted".into(),
            rules: vec![],
        });
        let err = check(&groups).unwrap_err();
        assert_eq!(err.0.len(), bad.len() + 1, "{err}");
        assert!(err.0.last().unwrap().contains("repeated"), "{err}");
    }

    #[test]
    fn durations_are_prometheus_durations() {
        for good in [
            "0",
            "5m",
            "1h30m",
            "2h",
            "3d",
            "1w",
            "100ms",
            "1y2w3d4h5m6s7ms",
        ] {
            assert!(is_duration(good), "{good}");
        }
        for bad in ["", "5", "m", "5 m", "1m1h", "5m5m", "1.5h", "-5m", "5M"] {
            assert!(!is_duration(bad), "{bad}");
        }
    }
}
