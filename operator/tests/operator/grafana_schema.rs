//! Every dashboard the operator generates, checked against Grafana's own
//! dashboard schema (the dashboard kind, each core panel's options and
//! fieldConfig, each datasource's query, as Grafana publishes them in
//! grafana-foundation-sdk; see testbin/grafana-schema/). Strict: a field the
//! schema requires without a default must be there, an unknown field or a
//! value outside an enum fails, naming the field.

use std::process::Command;

use operator::fixtures::all_dashboards;
use operator::monitoring::dashboards;
use testenv::programs::GRAFANA_DASHBOARD_VALIDATE;

fn validate(files: &[std::path::PathBuf]) -> (bool, String) {
    let bin = GRAFANA_DASHBOARD_VALIDATE
        .path()
        .unwrap_or_else(|e| panic!("{e}"));
    let out = Command::new(bin).arg("-q").args(files).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn every_generated_dashboard_meets_grafanas_schema() {
    let dir = tempfile::tempdir().unwrap();
    let all = all_dashboards();
    let files: Vec<_> = all
        .iter()
        .map(|d| {
            let path = dir.path().join(format!("{}.json", d.uid));
            std::fs::write(&path, serde_json::to_string_pretty(&d.json()).unwrap()).unwrap();
            path
        })
        .collect();
    assert_eq!(files.len(), 5);
    let (ok, report) = validate(&files);
    assert!(ok, "dashboards outside Grafana's schema:\n{report}");
}

/// The validator is not a rubber stamp: a wrong dashboard fails, naming the field.
#[test]
fn the_schema_check_fails_a_wrong_dashboard_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let mut json = dashboards::fleet()[0].json();
    json["panels"][1]["gridPos"]["w"] = 30.into();
    json["panels"][2]["fieldConfig"]["defaults"]["unitt"] = "s".into();
    let path = dir.path().join("wrong.json");
    std::fs::write(&path, json.to_string()).unwrap();
    let (ok, report) = validate(&[path]);
    assert!(!ok, "a wrong dashboard passed: {report}");
    assert!(report.contains("panels[1].gridPos.w"), "{report}");
    assert!(
        report.contains("panels[2].fieldConfig.defaults.unitt"),
        "{report}"
    );
}
