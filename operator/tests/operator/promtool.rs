//! The operator's alert rules, through promtool: `check rules` clean, and
//! every alert's generated unit tests (one case fires it, one keeps it
//! quiet) pass.

use std::path::PathBuf;
use std::process::Command;

use operator::monitoring::{self, alerts, promtool, rules};

fn promtool_bin() -> PathBuf {
    testenv::programs::PROMTOOL
        .path()
        .unwrap_or_else(|e| panic!("{e}"))
}

fn run(args: &[&str], dir: &std::path::Path) -> String {
    let out = Command::new(promtool_bin())
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "promtool {args:?} failed:\n{text}");
    text
}

fn target() -> rules::Target {
    target_named("alpha")
}

fn target_named(name: &str) -> rules::Target {
    let mut store = operator::fixtures::monitored();
    store.metadata.name = Some(name.into());
    store.resolved().monitored
}

#[test]
fn every_alert_fires_on_its_case_and_stays_quiet_on_the_other() {
    // The longest Store name (57): Kubernetes cuts its pod names, and the
    // pod restart alert still finds them.
    let long = "a-store-with-the-longest-name-the-operator-accepts-57-chr";
    assert_eq!(long.len(), operator::api::MAX_NAME_LEN);
    assert!(!target_named(long).example_pod().contains("7d9c5b6f4"));
    for t in [target(), target_named(long)] {
        let dir = tempfile::tempdir().unwrap();
        let (rules_yaml, tests_yaml) = promtool::files(&t);
        std::fs::write(dir.path().join("rules.yaml"), &rules_yaml).unwrap();
        std::fs::write(dir.path().join("tests.yaml"), &tests_yaml).unwrap();
        let checked = run(&["check", "rules", "rules.yaml"], dir.path());
        assert!(checked.contains("SUCCESS"), "{checked}");
        run(&["test", "rules", "tests.yaml"], dir.path());
    }
    let names: Vec<String> = alerts::alerts(&target())
        .iter()
        .map(|a| a.name().to_string())
        .collect();
    assert_eq!(names.len(), 11, "{names:?}");
}

#[test]
fn a_wrong_expectation_fails_promtool() {
    // The generated tests can fail: shift one expected value and promtool says so.
    let t = target();
    let mut all: Vec<alerts::Proven> = alerts::alerts(&t)
        .into_iter()
        .map(alerts::Alert::prove)
        .collect();
    let down = all
        .iter_mut()
        .find(|a| a.name() == "StoreErrorRateSpike")
        .unwrap();
    down.proof.fires.expected[0].value = 0.25;
    let dir = tempfile::tempdir().unwrap();
    let rules = serde_yaml_ng::to_string(&promtool::rules_file(&monitoring::groups(&t))).unwrap();
    let tests = serde_yaml_ng::to_string(&promtool::unit_tests(&all, "rules.yaml")).unwrap();
    std::fs::write(dir.path().join("rules.yaml"), rules).unwrap();
    std::fs::write(dir.path().join("tests.yaml"), tests).unwrap();
    let out = Command::new(promtool_bin())
        .args(["test", "rules", "tests.yaml"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "promtool accepted a wrong expectation:\n{text}"
    );
    assert!(text.contains("StoreErrorRateSpike"), "{text}");
}

#[test]
fn every_alert_has_a_runbook_and_every_runbook_an_alert() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/runbooks");
    let mut names: Vec<String> = alerts::alerts(&target())
        .iter()
        .map(|a| a.name().to_string())
        .collect();
    names.sort();
    let mut runbooks: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|f| f.strip_suffix(".md").map(str::to_string))
        .filter(|f| f != "README")
        .collect();
    runbooks.sort();
    assert_eq!(names, runbooks, "alerts and docs/runbooks/*.md differ");
    // The written-out names are the built ones, in the rule's order.
    let built: Vec<String> = alerts::alerts(&target())
        .iter()
        .map(|a| a.name().to_string())
        .collect();
    assert_eq!(
        built,
        alerts::names::ALL,
        "alerts::names::ALL is not the alerts built"
    );
    // The runbook index lists each alert once, in that order.
    let index = std::fs::read_to_string(dir.join("README.md")).unwrap();
    let listed: Vec<&str> = index
        .lines()
        .filter_map(|l| l.strip_prefix("| ["))
        .filter_map(|l| l.split(']').next())
        .collect();
    assert_eq!(
        listed,
        alerts::names::ALL,
        "docs/runbooks/README.md's table"
    );
    for alert in alerts::alerts(&target()) {
        for rule in &alert.rules {
            let url = &rule.annotations["runbook_url"];
            assert!(
                url.ends_with(&format!("/docs/runbooks/{}.md", alert.name())),
                "{url}"
            );
        }
    }
}

#[test]
fn promtool_refuses_every_rule_the_operators_check_refuses() {
    // The check the operator runs before it applies a PrometheusRule
    // (monitoring::check) against Prometheus' own loader: each planted bad
    // rule is refused by both.
    let dir = tempfile::tempdir().unwrap();
    for (rule, says) in operator::monitoring::check::planted_bad_rules() {
        let groups = vec![rules::RuleGroup {
            name: "planted".into(),
            rules: vec![rule.clone()],
        }];
        let ours = operator::monitoring::check::check(&groups).expect_err(says);
        let file = dir.path().join("rules.yaml");
        std::fs::write(
            &file,
            serde_yaml_ng::to_string(&promtool::rules_file(&groups)).unwrap(),
        )
        .unwrap();
        let out = Command::new(promtool_bin())
            .args(["check", "rules", "rules.yaml"])
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(
            !out.status.success(),
            "promtool loads {rule:?}, which the operator refuses ({ours})"
        );
    }
}

/// Hostile strings a user may write into the Store's free-text fields that
/// reach a Prometheus template, PromQL, a label, a Grafana field or a file
/// name (issue: `runbookBaseUrl: https://wiki/{{team}}/runbooks` was admitted
/// and broke every rule). Each is refused by the admission rules naming its
/// field, or `render`'s PrometheusRule loads in promtool and the dashboards'
/// folder stays one directory name.
#[test]
fn a_hostile_string_is_refused_naming_its_field_or_renders_rules_promtool_loads() {
    let hostile = [
        "{{team}}",
        "{{ $labels.x }}",
        "}}{{",
        "\"",
        "'",
        "\\",
        "a\nb",
        "a\tb",
        "é ✓ 緑茶",
        "..",
        "/",
        "../etc",
        "$x ${x}",
        "%7B%7Bteam%7D%7D",
        "`x`",
        "a\"b\\c",
        "x",
    ];
    type Place = fn(&str) -> serde_json::Value;
    let fields: [(&str, &str, Place); 6] = [
        (
            "spec.monitoring.alerts.runbookBaseUrl",
            "/spec/monitoring/alerts/runbookBaseUrl",
            |h| serde_json::json!(format!("https://wiki.example.com/{h}/runbooks")),
        ),
        ("spec.displayName", "/spec/displayName", |h| {
            serde_json::json!(h)
        }),
        (
            "spec.monitoring.dashboards.folder",
            "/spec/monitoring/dashboards/folder",
            |h| serde_json::json!(h),
        ),
        (
            "spec.monitoring.alerts.labels",
            "/spec/monitoring/alerts/labels",
            |h| serde_json::json!({"team": h}),
        ),
        ("spec.storeId", "/spec/storeId", |h| serde_json::json!(h)),
        (
            "spec.telemetry.otlpEndpoint",
            "/spec/telemetry/otlpEndpoint",
            |h| serde_json::json!(format!("http://collector/{h}")),
        ),
    ];
    let base = serde_json::json!({
        "apiVersion": "storeops.dev/v1alpha1", "kind": "Store",
        "metadata": {"name": "alpha", "namespace": "shop"},
        "spec": {"monitoring": {"alerts": {}, "dashboards": {}}, "telemetry": {}}
    });
    let dir = tempfile::tempdir().unwrap();
    let (mut files, mut refused) = (Vec::new(), 0);
    for (field, pointer, place) in fields {
        for h in hostile {
            let mut v = base.clone();
            let (parent, key) = pointer.rsplit_once('/').unwrap();
            v.pointer_mut(parent).unwrap()[key] = place(h);
            let store: operator::api::Store = serde_json::from_value(v.clone()).unwrap();
            if let Err(e) = operator::api::validation::validate(&store) {
                assert!(
                    e.errors.iter().any(|e| e.field.starts_with(field)),
                    "{field} = {h:?}: refused without naming the field: {e}"
                );
                refused += 1;
                continue;
            }
            let out = operator::render::render(
                &serde_json::to_string(&v).unwrap(),
                "test",
                &Default::default(),
                "shop",
            )
            .unwrap_or_else(|e| panic!("{field} = {h:?}: admitted but render fails: {e}"));
            for doc in serde_yaml_ng::Deserializer::from_str(&out) {
                let doc = <serde_yaml_ng::Value as serde::Deserialize>::deserialize(doc).unwrap();
                match doc["kind"].as_str() {
                    Some("PrometheusRule") => {
                        let file = dir.path().join(format!("rules-{}.yaml", files.len()));
                        std::fs::write(&file, serde_yaml_ng::to_string(&doc["spec"]).unwrap())
                            .unwrap();
                        files.push((file, format!("{field} = {h:?}")));
                    }
                    Some("ConfigMap") => {
                        if let Some(folder) =
                            doc["metadata"]["annotations"]["grafana_folder"].as_str()
                        {
                            assert!(
                                !folder.contains('/') && !folder.starts_with('.'),
                                "{field} = {h:?}: folder {folder:?}"
                            );
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    assert!(
        refused > 20 && files.len() > 20,
        "refused {refused}, rendered {}",
        files.len()
    );
    let mut args = vec!["check".to_string(), "rules".to_string()];
    args.extend(files.iter().map(|(f, _)| f.display().to_string()));
    let out = Command::new(promtool_bin()).args(&args).output().unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        let failed: Vec<&str> = files
            .iter()
            .filter(|(f, _)| {
                text.contains(&format!("{}: ", f.display())) && text.contains("FAILED")
            })
            .map(|(_, what)| what.as_str())
            .collect();
        panic!("promtool refused rules rendered for {failed:?}:\n{text}");
    }
}
