//! docs/telemetry.md names every telemetry name there is: each metric, label,
//! span name, span event, span attribute, resource attribute and log field of
//! the contract, and each `storeops_*` metric of the operator.
//!
//! The contract's modules other than `metrics` have no list of their
//! constants, so this reads them from contract/src/lib.rs: a constant added
//! there is checked without anyone remembering to list it.

use std::path::PathBuf;

use regex::Regex;
use storeops_contract::metrics;

/// The contract modules whose every constant is a telemetry name.
const MODULES: [&str; 4] = ["labels", "spans", "resource", "log_fields"];

fn read(relative: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// Every code span of the page: a name counts as documented when it is
/// written as code, not when it merely occurs in a longer word.
fn code_spans(markdown: &str) -> std::collections::BTreeSet<String> {
    let span = Regex::new(r"`([^`]+)`").unwrap();
    span.captures_iter(markdown)
        .map(|c| c[1].to_string())
        .collect()
}

/// `(module::CONSTANT, value)` of every `&str` constant of `module`.
fn contract_constants(source: &str, module: &str) -> Vec<(String, String)> {
    let body = Regex::new(&format!(r"(?s)\npub mod {module} \{{(.*?)\n\}}"))
        .unwrap()
        .captures(source)
        .unwrap_or_else(|| panic!("no `pub mod {module}` in contract/src/lib.rs"))[1]
        .to_string();
    let constant = Regex::new(r#"pub const ([A-Z0-9_]+): &str\s*=\s*"([^"]*)";"#).unwrap();
    constant
        .captures_iter(&body)
        .map(|c| (format!("{module}::{}", &c[1]), c[2].to_string()))
        .collect()
}

/// The metric names of the operator: its source registers the counters
/// without `_total`, which the page writes as in PromQL.
fn operator_metrics() -> Vec<String> {
    let name = Regex::new(r"storeops_[a-z_]+").unwrap();
    let mut names: Vec<String> = name
        .find_iter(&read("operator/src/metrics.rs"))
        .map(|m| m.as_str().to_string())
        .collect();
    names.sort();
    names.dedup();
    names
}

fn missing_from(
    spans: &std::collections::BTreeSet<String>,
    names: &[(String, String)],
) -> Vec<String> {
    names
        .iter()
        .filter(|(_, value)| !spans.contains(value))
        .map(|(origin, value)| format!("`{value}` ({origin})"))
        .collect()
}

#[test]
fn every_contract_name_is_documented() {
    let spans = code_spans(&read("docs/telemetry.md"));
    let source = read("contract/src/lib.rs");
    let mut names: Vec<(String, String)> = metrics::ALL
        .iter()
        .map(|m| ("metrics::ALL".to_string(), m.to_string()))
        .collect();
    for module in MODULES {
        let constants = contract_constants(&source, module);
        assert!(
            !constants.is_empty(),
            "read no constant of contract::{module}"
        );
        names.extend(constants);
    }
    // The reading of the source finds what the compiled contract holds.
    for known in [
        storeops_contract::labels::STORE_ID,
        storeops_contract::spans::BUY_PRODUCT,
        storeops_contract::resource::STORE_ID,
        storeops_contract::log_fields::SPAN_ID,
    ] {
        assert!(names.iter().any(|(_, v)| v == known), "{known} not read");
    }
    let missing = missing_from(&spans, &names);
    assert!(
        missing.is_empty(),
        "docs/telemetry.md does not mention, as code: {}",
        missing.join(", ")
    );
}

#[test]
fn every_operator_metric_is_documented() {
    let spans = code_spans(&read("docs/telemetry.md"));
    let names = operator_metrics();
    assert!(
        !names.is_empty(),
        "no storeops_* name in operator/src/metrics.rs"
    );
    let missing: Vec<&String> = names
        .iter()
        .filter(|n| !spans.contains(*n) && !spans.contains(&format!("{n}_total")))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/telemetry.md does not mention these metrics of operator/src/metrics.rs, as code: {missing:?}",
    );
}
