//! Every LogQL and TraceQL query of every generated dashboard, parsed by
//! Grafana's own grammars (`@grafana/lezer-logql`, `@grafana/lezer-traceql`,
//! the parsers of Grafana's query editors, pinned in
//! testbin/lezer/package-lock.json and run by testbin/lezer/check.mjs on
//! Node.js), and every label and attribute those queries use, checked
//! against the contract crate. A syntax error fails naming the dashboard,
//! the panel and the query. Node.js 20+ and npm are needed: without them the
//! tests fail saying so.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use operator::fixtures::all_dashboards;
use operator::monitoring::dashboards::{self, Backend, Dashboard};
use serde_json::{Value, json};
use storeops_contract::{log_fields, resource, spans};

/// testbin/lezer with its node_modules, installed once by its install.sh.
fn lezer_dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testbin/lezer/install.sh");
        let out = Command::new("bash")
            .arg(&script)
            .output()
            .unwrap_or_else(|e| panic!("cannot run bash {}: {e}", script.display()));
        assert!(
            out.status.success(),
            "bash {} failed (it needs Node.js 20+ and npm, and the npm registry once):\n{}",
            script.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
    })
}

/// A plausible value for a Grafana variable, so the grammars (which do not
/// know Grafana's variables) see the query Grafana sends.
fn variable_value(name: &str) -> &'static str {
    match name {
        "__rate_interval" | "__interval" | "__range" | "__auto" => "1m",
        "store_id" => "alpha_store",
        "namespace" => "shop",
        "trace_id" => "0af7651916cd43dd8448eb211c80319c",
        other => panic!("no plausible value for the Grafana variable ${other}: add one here"),
    }
}

/// `$name`, `${name}` and `${name:format}` replaced by [`variable_value`].
fn substitute(query: &str) -> String {
    let re = regex::Regex::new(r"\$(?:\{(\w+)(?::\w+)?\}|(\w+))").unwrap();
    re.replace_all(query, |c: &regex::Captures| {
        variable_value(c.get(1).or(c.get(2)).unwrap().as_str())
    })
    .into_owned()
}

/// Every LogQL and TraceQL query of `dashboards` as Grafana's JSON model
/// sends it: `{dashboard, panel, language, query}`, variables substituted.
fn queries(dashboards: &[Dashboard]) -> Vec<Value> {
    let mut found = Vec::new();
    for d in dashboards {
        let model = d.json();
        for panel in model["panels"].as_array().unwrap() {
            for target in panel["targets"].as_array().into_iter().flatten() {
                let (language, query) = match target["datasource"]["type"].as_str() {
                    Some("loki") => ("logql", &target["expr"]),
                    Some("tempo") => match target["queryType"].as_str() {
                        Some("traceql") => ("traceql", &target["query"]),
                        // Not TraceQL: Grafana draws the service map from the
                        // metrics generator's series in Prometheus.
                        Some("serviceMap") => continue,
                        // Not TraceQL: a lookup of one trace by its id.
                        Some("traceId") => {
                            let id = substitute(target["query"].as_str().unwrap());
                            assert!(
                                id.len() == 32 && id.chars().all(|c| c.is_ascii_hexdigit()),
                                "{} / {}: trace id query {id}",
                                d.title,
                                panel["title"]
                            );
                            continue;
                        }
                        other => panic!(
                            "{} / {}: Tempo query type {other:?}",
                            d.title, panel["title"]
                        ),
                    },
                    _ => continue,
                };
                found.push(json!({
                    "dashboard": d.title,
                    "panel": panel["title"],
                    "language": language,
                    "query": substitute(query.as_str().unwrap()),
                }));
            }
        }
    }
    found
}

/// check.mjs's verdict on `queries`: (success, its JSON report).
fn check(queries: &[Value]) -> (bool, Value) {
    let dir = lezer_dir();
    let mut child = Command::new("node")
        .arg(dir.join("check.mjs"))
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run node ({e}): install Node.js 20+ and npm"));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(queries).unwrap().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "check.mjs printed no report ({e}), exit {}:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.success(), report)
}

/// The syntax errors of a report, one `dashboard / panel: message` and its query each.
fn errors(report: &Value) -> String {
    report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{} / {}: {}\n    {}\n",
                e["dashboard"].as_str().unwrap(),
                e["panel"].as_str().unwrap(),
                e["message"].as_str().unwrap(),
                e["query"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn every_logql_and_traceql_query_parses_with_grafanas_grammars() {
    let queries = queries(&all_dashboards());
    let (ok, report) = check(&queries);
    assert!(ok, "queries Grafana cannot parse:\n{}", errors(&report));
    for language in ["logql", "traceql"] {
        let n = queries.iter().filter(|q| q["language"] == language).count();
        println!("{language}: {n} queries parsed");
        assert!(n > 0, "no {language} query found in the dashboards");
    }
}

/// The check is not a rubber stamp: broken queries in a real dashboard fail
/// it, each named by dashboard, panel and query.
#[test]
fn a_broken_query_fails_naming_dashboard_panel_and_query() {
    let mut d = dashboards::workbench::dashboard();
    let broken = [
        (Backend::Loki, r#"{store_id="a""#),
        (Backend::Tempo, "{ resource.store.id = }"),
    ];
    let mut planted = Vec::new();
    for (backend, expr) in broken {
        let panel = d
            .rows
            .iter_mut()
            .flat_map(|r| &mut r.panels)
            .find(|p| p.queries[0].backend == backend && p.queries[0].expr.starts_with('{'))
            .unwrap();
        panel.queries[0].expr = expr.into();
        planted.push((panel.title.clone(), expr));
    }
    let (ok, report) = check(&queries(std::slice::from_ref(&d)));
    let text = errors(&report);
    println!("{text}");
    assert!(!ok, "broken queries passed: {report}");
    for (panel, expr) in planted {
        assert!(
            text.contains(&format!("{} / {panel}: ", d.title)) && text.contains(expr),
            "{panel}: {expr} not reported:\n{text}"
        );
    }
}

/// TraceQL's intrinsic fields (Tempo's documentation, "Intrinsic fields"):
/// properties every span has, not attributes the service sets.
const TRACEQL_INTRINSICS: &[&str] = &[
    "name",
    "status",
    "statusMessage",
    "duration",
    "kind",
    "rootName",
    "rootServiceName",
    "traceDuration",
];

/// Labels Loki makes itself rather than the service.
const LOKI_OWN_LABELS: &[(&str, &str)] = &[(
    "detected_level",
    "Loki derives it from each line's OTLP severity (the service's level)",
)];

/// The name Loki's OTLP ingestion gives a resource attribute: `.` becomes
/// `_`. So `service.name` is the index label `service_name` (one of Loki's
/// default index labels), `store.id` the index label `store_id` (the stack's
/// loki.yaml indexes it), and the rest structured metadata.
fn loki_name(attribute: &str) -> String {
    attribute.replace('.', "_")
}

/// The contract's resource attributes.
const RESOURCE_ATTRIBUTES: &[&str] = &[
    resource::STORE_ID,
    resource::SERVICE_NAME,
    resource::SERVICE_VERSION,
    resource::SERVICE_INSTANCE_ID,
    resource::K8S_NAMESPACE_NAME,
    resource::K8S_POD_NAME,
];

/// The contract's span attributes.
const SPAN_ATTRIBUTES: &[&str] = &[
    spans::ATTR_APP_ERROR_CODE,
    spans::ATTR_DB_SYSTEM_NAME,
    spans::ATTR_DB_OPERATION_NAME,
    spans::ATTR_DB_COLLECTION_NAME,
];

/// The contract's log fields (`trace_id` and `span_id` are also the
/// structured metadata Loki keeps of an OTLP log record's trace context).
const LOG_FIELDS: &[&str] = &[
    log_fields::TIME,
    log_fields::LEVEL,
    log_fields::MSG,
    log_fields::TRACE_ID,
    log_fields::SPAN_ID,
    log_fields::STORE_ID,
];

#[test]
fn every_label_and_field_the_queries_use_is_in_the_contract() {
    let (ok, report) = check(&queries(&all_dashboards()));
    assert!(ok, "queries Grafana cannot parse:\n{}", errors(&report));

    let mut logql: BTreeSet<String> = LOG_FIELDS.iter().map(|f| f.to_string()).collect();
    logql.extend(RESOURCE_ATTRIBUTES.iter().map(|a| loki_name(a)));
    logql.extend(LOKI_OWN_LABELS.iter().map(|(l, _)| l.to_string()));
    let mut traceql: BTreeSet<String> = BTreeSet::new();
    for a in RESOURCE_ATTRIBUTES {
        traceql.extend([format!("resource.{a}"), format!(".{a}")]);
    }
    for a in SPAN_ATTRIBUTES {
        traceql.extend([format!("span.{a}"), format!(".{a}")]);
    }
    for i in TRACEQL_INTRINSICS {
        traceql.extend([i.to_string(), format!("span:{i}"), format!("trace:{i}")]);
    }

    let fields = report["fields"].as_array().unwrap();
    let mut unknown = Vec::new();
    let mut checked = BTreeSet::new();
    for f in fields {
        let (language, field) = (
            f["language"].as_str().unwrap(),
            f["field"].as_str().unwrap(),
        );
        let known = if language == "logql" {
            &logql
        } else {
            &traceql
        };
        if !known.contains(field) {
            unknown.push(format!(
                "{} / {}: {language} {} {field}",
                f["dashboard"].as_str().unwrap(),
                f["panel"].as_str().unwrap(),
                f["kind"].as_str().unwrap()
            ));
        }
        checked.insert(format!("{language} {field}"));
    }
    println!(
        "{} uses of {} fields checked: {checked:?}",
        fields.len(),
        checked.len()
    );
    assert!(
        unknown.is_empty(),
        "labels and fields not in storeops-contract (add them to contract/src/lib.rs and to this test's lists):\n{}",
        unknown.join("\n")
    );
    assert!(
        checked.iter().any(|f| f.starts_with("logql"))
            && checked.iter().any(|f| f.starts_with("traceql"))
    );
}
