//! The three tables of the admission rules agree: the schema with its CEL
//! rules and the Rust mirror (`api::validation`) are run against each other
//! by the operator's unit tests; here the third, testenv's invalid Stores
//! (which the e2e tests send to a real API server and `make drills`
//! prints), is run through the Rust mirror: each must be refused, naming the
//! field the table says.

use operator::api::Store;
use operator::api::validation::validate;
use testenv::fixtures::{bound_probes, invalid_stores, merged, store};

#[test]
fn every_invalid_store_of_the_table_is_refused_by_the_rust_rules_naming_its_field() {
    let full = |patch: &serde_json::Value| {
        let mut json = merged(store("alpha"), patch);
        json["apiVersion"] = "storeops.dev/v1alpha1".into();
        json["kind"] = "Store".into();
        json["metadata"]["namespace"] = "shop".into();
        json
    };
    let valid: Store = serde_json::from_value(full(&serde_json::json!({}))).unwrap();
    assert_eq!(validate(&valid), Ok(()), "the table's base Store is valid");
    let cases = invalid_stores();
    assert!(cases.len() >= 30, "{} cases", cases.len());
    for (what, patch, field) in cases {
        let store: Store = match serde_json::from_value(full(&patch)) {
            Ok(store) => store,
            // Refused by the type itself (an enum, a number): the schema
            // generated from the same type refuses it too.
            Err(e) => {
                let leaf = field.rsplit('.').next().unwrap();
                assert!(
                    e.to_string().contains("variant") || e.to_string().contains(leaf),
                    "{what}: {e}"
                );
                continue;
            }
        };
        let err = validate(&store).expect_err(what);
        assert!(
            err.errors.iter().any(|e| e.field.starts_with(field)),
            "{what}: refused, but not naming {field}: {err}"
        );
    }
}

/// The docs that count the invalid Stores give the table's count.
#[test]
fn the_docs_count_the_invalid_stores_of_the_table() {
    let count = regex::Regex::new(r"(\d+) invalid Stores").unwrap();
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let mut seen = 0;
    for page in ["docs/testing.md", "docs/reliability.md"] {
        let text = std::fs::read_to_string(format!("{root}/{page}")).unwrap();
        for c in count.captures_iter(&text) {
            assert_eq!(
                c[1].parse::<usize>().unwrap(),
                invalid_stores().len(),
                "{page}: {}",
                &c[0]
            );
            seen += 1;
        }
    }
    assert!(seen >= 2, "{seen} counts found");
}

/// The probes of every numeric bound (e2e sends them to the real API
/// server): the Rust rules admit and refuse the same ones.
#[test]
fn the_rust_rules_hold_every_numeric_bound_at_its_edges() {
    use kube::CustomResourceExt;
    let crd = serde_json::to_value(Store::crd()).unwrap();
    let spec = &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"];
    let probes = bound_probes(spec);
    assert!(probes.len() >= 40, "{} probes", probes.len());
    for probe in probes {
        let mut json = merged(store("edge"), &probe.patch);
        json["apiVersion"] = "storeops.dev/v1alpha1".into();
        json["kind"] = "Store".into();
        json["metadata"]["namespace"] = "shop".into();
        let admitted = match serde_json::from_value::<Store>(json) {
            // A negative number for an unsigned field: the type refuses it.
            Err(_) => false,
            Ok(store) => match validate(&store) {
                Ok(()) => true,
                Err(e) => {
                    assert!(
                        e.errors.iter().any(|e| e.field.starts_with(&probe.field)),
                        "{}: refused, not naming {}: {e}",
                        probe.what,
                        probe.field
                    );
                    false
                }
            },
        };
        assert_eq!(admitted, probe.admitted, "{}", probe.what);
    }
}
