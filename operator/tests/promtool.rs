//! The operator's alert rules, through promtool: `check rules` clean, and
//! every alert's generated unit tests (one case fires it, one keeps it
//! quiet) pass.

use std::path::PathBuf;
use std::process::Command;

use operator::monitoring::{alerts, promtool, rules};

fn promtool_bin() -> PathBuf {
    let path = std::env::var_os("PROMTOOL_BIN").map(PathBuf::from).unwrap_or_else(|| {
        panic!("PROMTOOL_BIN is not set: run `make testbin` (or `bash testbin/backends.sh promtool` and export PROMTOOL_BIN=<the printed path>)")
    });
    assert!(
        path.exists(),
        "PROMTOOL_BIN={} does not exist: run `make testbin`",
        path.display()
    );
    path
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
    let store: operator::api::Store = serde_yaml_ng::from_str(&format!(
        "apiVersion: storeops.dev/v1alpha1\nkind: Store\nmetadata: {{name: {name}, namespace: shop}}\nspec: {{storeId: alpha_store}}\n",
    ))
    .unwrap();
    rules::Target::of(&store)
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
    let mut all = alerts::alerts(&t);
    let down = all
        .iter_mut()
        .find(|a| a.name() == "StoreErrorRateSpike")
        .unwrap();
    down.fires.expected[0].value = 0.25;
    let dir = tempfile::tempdir().unwrap();
    let rules = serde_yaml_ng::to_string(&promtool::rules_file(&rules::groups(&t))).unwrap();
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
