//! Every admission rule, run through a CEL interpreter on the generated
//! schema and through the Rust mirror; the two must agree.

use kube::CustomResourceExt;
use serde_json::{Value, json};

use super::*;
use crate::api::{Store, catalog, database, monitoring};

/// The CRD's `openAPIV3Schema` as JSON.
fn schema() -> Value {
    let crd = serde_json::to_value(Store::crd()).unwrap();
    crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"].clone()
}

/// The schema node at a dotted path of properties (`spec.database`).
fn node(path: &str) -> Value {
    let mut at = schema();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        at = at["properties"][part].clone();
        assert!(!at.is_null(), "no schema at {path}");
    }
    at
}

/// The CEL rules at a schema path.
fn rules_at(path: &str) -> Vec<String> {
    node(path)["x-kubernetes-validations"]
        .as_array()
        .map(|rules| {
            rules
                .iter()
                .map(|r| r["rule"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn json_of(store: &Store) -> Value {
    serde_json::to_value(store).unwrap()
}

/// Runs a Store through the CEL rules and the Rust rules; asserts they agree
/// and returns whether it is accepted.
fn accepted(new: Value, old: Option<Value>) -> bool {
    let cel = kube_cel::Validator::new().validate(&schema(), &new, old.as_ref());
    let store: Store = serde_json::from_value(new).unwrap();
    let rust = match old {
        None => validate(&store),
        Some(old) => validate_update(&serde_json::from_value(old).unwrap(), &store),
    };
    assert_eq!(
        cel.is_ok(),
        rust.is_ok(),
        "CEL and Rust disagree:\nCEL: {cel:?}\nRust: {rust:?}"
    );
    rust.is_ok()
}

/// The Store as JSON with the field at `pointer` set (its parent must exist).
fn with(store: &Store, pointer: &str, value: Value) -> Value {
    let mut v = json_of(store);
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let parent = v.pointer_mut(parent).unwrap_or_else(|| panic!("{pointer}"));
    parent[key] = value;
    v
}

#[test]
fn the_defaulted_test_store_is_valid() {
    assert!(accepted(json_of(&Store::test()), None));
    assert!(accepted(
        json_of(&Store::test().with_inline_catalog()),
        None
    ));
}

#[test]
fn the_name_rule_is_in_the_schema_and_enforced() {
    assert!(rules_at("").contains(&super::super::RULE_NAME.to_string()));
    let store = Store::test();
    assert!(accepted(with(&store, "/metadata/name", json!("a-1")), None));
    assert!(!accepted(
        with(&store, "/metadata/name", json!("a.b")),
        None
    ));
    assert!(!accepted(
        with(&store, "/metadata/name", json!("a".repeat(58))),
        None
    ));
    assert!(accepted(
        with(&store, "/metadata/name", json!("a".repeat(57))),
        None
    ));
}

#[test]
fn the_store_id_cannot_change_once_the_store_exists() {
    assert!(rules_at("").contains(&super::super::RULE_STORE_ID_IMMUTABLE.to_string()));
    let unset = json_of(&Store::test());
    let set = |id: &str| json_of(&Store::test().with_store_id(id));
    // Setting it to what it already was (the name) is no change.
    assert!(accepted(set("alpha"), Some(unset.clone())));
    assert!(accepted(set("alpha_store"), Some(set("alpha_store"))));
    assert!(!accepted(set("other"), Some(unset.clone())));
    assert!(!accepted(set("other"), Some(set("alpha_store"))));
    assert!(!accepted(unset, Some(set("alpha_store"))));
}

#[test]
fn more_than_one_replica_needs_postgres() {
    let rules = rules_at("spec");
    assert!(rules.contains(&super::super::RULE_REPLICAS_NEED_POSTGRES.to_string()));
    assert!(accepted(json_of(&Store::test().with_replicas(1)), None));
    assert!(!accepted(json_of(&Store::test().with_replicas(3)), None));
    assert!(accepted(
        json_of(&Store::test().with_replicas(3).with_postgres()),
        None
    ));
}

#[test]
fn a_catalog_is_inline_or_referenced_never_both() {
    assert_eq!(
        rules_at("spec.catalog"),
        [catalog::RULE_CATALOG_EXACTLY_ONE]
    );
    let store = Store::test();
    let products = json!([{"name": "a", "category": "c", "price": 1.0, "stock": 1}]);
    let reference = json!({"name": "cm", "key": "k"});
    let catalog = |c: Value| with(&store, "/spec/catalog", c);
    assert!(accepted(catalog(json!({"products": products})), None));
    assert!(accepted(catalog(json!({"configMapRef": reference})), None));
    assert!(!accepted(
        catalog(json!({"products": products, "configMapRef": reference})),
        None
    ));
    assert!(!accepted(catalog(json!({})), None));
}

#[test]
fn product_names_are_list_map_keys_so_duplicates_are_rejected() {
    let products = node("spec.catalog.products");
    assert_eq!(products["x-kubernetes-list-type"], "map");
    assert_eq!(products["x-kubernetes-list-map-keys"], json!(["name"]));
    assert_eq!(products["maxItems"], catalog::MAX_ITEMS);
    let mut store = Store::test().with_inline_catalog();
    let products = store
        .spec
        .catalog
        .as_mut()
        .unwrap()
        .products
        .as_mut()
        .unwrap();
    products[1].name = products[0].name.clone();
    let e = validate(&store).unwrap_err();
    assert_eq!(e.errors[0].field, "spec.catalog.products[1].name");
}

#[test]
fn a_database_is_embedded_or_postgres_never_both() {
    assert_eq!(
        rules_at("spec.database"),
        [database::RULE_DATABASE_EXACTLY_ONE]
    );
    let store = Store::test();
    let pg = json!({"secretRef": {"name": "pg", "key": "url"}});
    let db = |d: Value| with(&store, "/spec/database", d);
    assert!(accepted(db(json!({"embedded": {"size": "1Gi"}})), None));
    assert!(accepted(db(json!({"postgres": pg})), None));
    assert!(!accepted(db(json!({"embedded": {}, "postgres": pg})), None));
    assert!(!accepted(db(json!({})), None));
}

#[test]
fn an_embedded_volume_size_is_a_positive_quantity() {
    assert_eq!(
        rules_at("spec.database.embedded.size"),
        [database::RULE_SIZE_QUANTITY]
    );
    let store = Store::test();
    let size = |s: &str| with(&store, "/spec/database/embedded/size", json!(s));
    for good in ["1Gi", "500M", "0.5Gi", "1e9", "10", "1Ei", "100n"] {
        assert!(accepted(size(good), None), "{good}");
    }
    for bad in ["0", "0Gi", "-1Gi", "lots", "1GB", "--1Gi", "1e3Mi"] {
        assert!(!accepted(size(bad), None), "{bad}");
    }
}

#[test]
fn the_latency_threshold_is_a_bucket_of_the_request_histogram() {
    let path = "spec.monitoring.alerts.slo.latencyThresholdSeconds";
    assert_eq!(rules_at(path), [monitoring::latency_threshold_rule().rule]);
    let store = Store::test();
    let at = "/spec/monitoring/alerts/slo/latencyThresholdSeconds";
    assert!(accepted(with(&store, at, json!(0.25)), None));
    assert!(accepted(with(&store, at, json!(1.0)), None));
    assert!(!accepted(with(&store, at, json!(0.3)), None));
    let e = validate(&serde_json::from_value(with(&store, at, json!(0.3))).unwrap()).unwrap_err();
    assert!(e.to_string().contains("latencyThresholdSeconds"), "{e}");
}

/// The OpenAPI keywords the API server checks besides CEL (the interpreter
/// runs only CEL): pattern, min/maxLength in characters, minimum/maximum.
fn keywords_admit(node: &Value, value: &Value) -> bool {
    if let Some(s) = value.as_str() {
        let n = s.chars().count() as u64;
        let pattern = node["pattern"]
            .as_str()
            .is_none_or(|p| regex::Regex::new(p).unwrap().is_match(s));
        return pattern
            && node["minLength"].as_u64().is_none_or(|m| n >= m)
            && node["maxLength"].as_u64().is_none_or(|m| n <= m);
    }
    let x = value.as_f64().unwrap();
    node["minimum"].as_f64().is_none_or(|m| x >= m)
        && node["maximum"].as_f64().is_none_or(|m| x <= m)
}

/// The store-service's catalog table (storeops_contract::catalog::cases):
/// the schema (through a CEL interpreter) and the Rust mirror admit exactly
/// the products the service seeds, and the mirror names the field.
#[test]
fn the_schema_admits_exactly_the_products_the_service_accepts() {
    let store = Store::test().with_inline_catalog();
    let items = node("spec.catalog.products")["items"].clone();
    for (what, p, refused) in storeops_contract::catalog::cases() {
        let product = serde_json::to_value(&p).unwrap();
        let v = with(&store, "/spec/catalog/products", json!([product]));
        let cel = kube_cel::Validator::new().validate(&schema(), &v, None);
        let keywords = product
            .as_object()
            .unwrap()
            .iter()
            .all(|(field, value)| keywords_admit(&items["properties"][field], value));
        assert_eq!(
            cel.is_ok() && keywords,
            refused.is_none(),
            "{what}: {cel:?}"
        );
        let rust = validate(&serde_json::from_value(v.clone()).unwrap());
        assert_eq!(rust.is_ok(), refused.is_none(), "{what}: {rust:?}");
        if let Some(field) = refused {
            let e = validate(&serde_json::from_value(v).unwrap()).unwrap_err();
            let want = format!("spec.catalog.products[0].{}", field.as_str());
            assert!(e.errors.iter().any(|e| e.field == want), "{what}: {e}");
        }
    }
    assert_eq!(
        items["properties"]["name"]["pattern"],
        storeops_contract::catalog::NAME_PATTERN
    );
    assert_eq!(
        rules_at("spec.catalog.products"),
        [catalog::RULE_MAX_PRODUCTS]
    );
    assert!(catalog::RULE_MAX_PRODUCTS.ends_with(&format!(" {}", catalog::MAX_PRODUCTS)));
}

/// OpenAPI keywords the API server checks before CEL; the Rust mirror must
/// accept exactly what the pattern accepts.
#[test]
fn patterns_in_the_schema_match_the_rust_checks() {
    type Check = fn(&str) -> bool;
    let cases: [(&str, &str, Check, &[&str]); 6] = [
        (
            "spec.storeId",
            crate::api::syntax::STORE_ID_PATTERN,
            is_store_id,
            &[
                "alpha_store",
                "a",
                "a-b",
                "_a",
                "a_",
                "A",
                "a.b",
                "",
                &"a".repeat(64),
            ],
        ),
        (
            "spec.currency",
            crate::api::syntax::CURRENCY_PATTERN,
            is_currency,
            &["USD", "EUR", "usd", "US", "USDT"],
        ),
        (
            "spec.telemetry.otlpEndpoint",
            crate::api::syntax::URL_PATTERN,
            is_url,
            &[
                "http://c:4317",
                "https://x",
                "grpc://c",
                "http://",
                "http://a b",
            ],
        ),
        (
            "spec.monitoring.serviceMonitor.interval",
            crate::api::syntax::INTERVAL_PATTERN,
            is_interval,
            &[
                "30s", "1m30s", "500ms", "1h", "", "30", "s", "1d", "1.5s", "30s1m", "5m", "0s",
                "1s", "120s", "121s", "2m", "2m1s", "1m59s", "1m60s", "1m0s", "01s", "90s", "3m",
            ],
        ),
        (
            "spec.monitoring.alerts.runbookBaseUrl",
            crate::api::syntax::URL_PATTERN,
            is_url,
            &[
                "https://runbooks.example.com",
                "runbooks",
                "https://wiki.example.com/{{team}}/runbooks",
                "https://wiki.example.com/%7B%7Bteam%7D%7D/a?b=c&d=e#f",
                "https://x/\"a\"",
                "https://x/a\\b",
                "https://x/é",
                "https://[::1]:8080/a",
                "https://x/a\nb",
            ],
        ),
        (
            "spec.monitoring.dashboards.folder",
            crate::api::syntax::FOLDER_PATTERN,
            is_folder,
            &[
                "Stores",
                "Shop 1 (EU)",
                "Läden",
                "..",
                ".hidden",
                "a/b",
                "a\\b",
                "a\tb",
                "a.b",
                "",
            ],
        ),
    ];
    for (path, pattern, check, examples) in cases {
        assert_eq!(node(path)["pattern"], pattern, "{path}");
        let re = regex::Regex::new(pattern).unwrap();
        for example in examples {
            // maxLength is a separate keyword: apply it like the API server.
            let fits = node(path)["maxLength"]
                .as_u64()
                .is_none_or(|max| example.chars().count() as u64 <= max);
            assert_eq!(
                re.is_match(example) && fits,
                check(example),
                "{path}: {example:?}"
            );
        }
    }
}

#[test]
fn bounds_in_the_schema_match_the_rust_checks() {
    let replicas = node("spec.replicas");
    assert_eq!(
        (replicas["minimum"].as_f64(), replicas["maximum"].as_f64()),
        (Some(1.0), Some(10.0))
    );
    let ratio = node("spec.telemetry.traceSampleRatio");
    assert_eq!(
        (ratio["minimum"].as_f64(), ratio["maximum"].as_f64()),
        (Some(0.0), Some(1.0))
    );
    for target in ["availabilityTarget", "latencyTarget"] {
        let t = node(&format!("spec.monitoring.alerts.slo.{target}"));
        assert_eq!(t["minimum"].as_f64(), Some(monitoring::MIN_TARGET));
        assert_eq!(t["maximum"].as_f64(), Some(monitoring::MAX_TARGET));
    }
    let mut store = Store::test();
    store.spec.replicas = 11;
    store.spec.telemetry.trace_sample_ratio = 1.5;
    store.spec.monitoring.alerts.slo.availability_target = 0.5;
    store.spec.currency = "usd".into();
    let fields: Vec<String> = validate(&store)
        .unwrap_err()
        .errors
        .into_iter()
        .map(|e| e.field)
        .collect();
    assert_eq!(
        fields,
        [
            "spec.currency",
            "spec.replicas",
            "spec.replicas",
            "spec.telemetry.traceSampleRatio",
            "spec.monitoring.alerts.slo.availabilityTarget",
            // 0.5 over 30 days also leaves no critical burn rate reachable.
            "spec.monitoring.alerts.slo",
        ]
    );
}

#[test]
fn every_cel_rule_message_names_its_field() {
    fn walk(path: &str, node: &Value, found: &mut Vec<(String, String)>) {
        for rule in node["x-kubernetes-validations"]
            .as_array()
            .into_iter()
            .flatten()
        {
            found.push((
                path.to_string(),
                rule["message"].as_str().unwrap_or("").to_string(),
            ));
        }
        for (name, child) in node["properties"].as_object().into_iter().flatten() {
            walk(
                format!("{path}.{name}").trim_start_matches('.'),
                child,
                found,
            );
        }
        if node["items"].is_object() {
            walk(path, &node["items"], found);
        }
    }
    let mut found = Vec::new();
    walk("", &schema(), &mut found);
    assert_eq!(found.len(), 23, "{found:?}");
    for (path, message) in found {
        assert!(
            message.starts_with("spec.") || message.starts_with("metadata."),
            "the rule at {path:?} has a message that names no field: {message:?}"
        );
    }
}

#[test]
fn quantities_parse_like_kubernetes() {
    for good in [
        "1", "1Gi", "1.5Gi", "+2M", "1e3", "1E3", "100m", ".5", "5n", "2E", "1Ei",
    ] {
        assert!(is_positive_quantity(good), "{good}");
    }
    for bad in [
        "", "0", "0.0Gi", "Gi", "1 Gi", "1gi", "1..5", "-1", "1e", ".", "--1", "1e3k",
    ] {
        assert!(!is_positive_quantity(bad), "{bad}");
    }
}

#[test]
fn resources_are_positive_quantities_and_requests_stay_within_limits() {
    use crate::api::resources::{positive_quantity_rule, request_within_limit_rule};
    let rules = rules_at("spec.resources");
    assert!(rules.contains(&request_within_limit_rule()));
    for kind in ["requests", "limits"] {
        for resource in ["cpu", "memory"] {
            assert!(
                rules.contains(&positive_quantity_rule(kind, resource)),
                "{kind}.{resource}"
            );
        }
    }
    let store = Store::test().with_big_resources();
    assert!(accepted(json_of(&store), None));
    for (pointer, value) in [
        ("/spec/resources/limits/cpu", json!("lots")),
        ("/spec/resources/limits/memory", json!("0")),
        ("/spec/resources/requests/memory", json!("-1Gi")),
        ("/spec/resources/requests/cpu", json!("1x")),
        // Within quantity rules but above the limit (1 cpu, 1Gi).
        ("/spec/resources/requests/cpu", json!("1500m")),
        ("/spec/resources/requests/memory", json!("2Gi")),
    ] {
        assert!(
            !accepted(with(&store, pointer, value.clone()), None),
            "{pointer} = {value} was accepted"
        );
    }
    for (pointer, value) in [
        ("/spec/resources/requests/cpu", json!("999m")),
        ("/spec/resources/requests/memory", json!("1024Mi")),
        ("/spec/resources/limits/cpu", json!(2)),
    ] {
        assert!(
            accepted(with(&store, pointer, value.clone()), None),
            "{pointer} = {value} was refused"
        );
    }
}

#[test]
fn extra_labels_follow_kubernetes_label_syntax() {
    let store = Store::test();
    for field in ["serviceMonitor", "alerts", "dashboards"] {
        let at = format!("spec.monitoring.{field}.labels");
        assert_eq!(rules_at(&at).len(), 2, "{at}");
        let set = |labels: Value| with(&store, &format!("/spec/monitoring/{field}/labels"), labels);
        for good in [
            json!({"release": "kube-prometheus-stack"}),
            json!({"example.com/team": "shop_1", "a": ""}),
        ] {
            assert!(accepted(set(good.clone()), None), "{field}: {good} refused");
        }
        for bad in [
            json!({"team": "has space"}),
            json!({"-team": "a"}),
            json!({"Example.com/team": "a"}),
            json!({"team": "a".repeat(64)}),
            json!({"team": "ends-"}),
        ] {
            assert!(!accepted(set(bad.clone()), None), "{field}: {bad} accepted");
        }
    }
}

/// The API server checks an integer-valued number against a fractional
/// `minimum` or `maximum` cut to an integer (0 passes `minimum: 0.9`): every
/// such bound has a CEL rule beside it, which compares as a double.
#[test]
fn every_fractional_bound_has_a_cel_rule_beside_it() {
    fn walk(path: &str, node: &Value, bare: &mut Vec<String>) {
        let fractional = ["minimum", "maximum"]
            .iter()
            .filter_map(|b| node[*b].as_f64())
            .any(|b| b.fract() != 0.0);
        if fractional
            && node["x-kubernetes-validations"]
                .as_array()
                .is_none_or(Vec::is_empty)
        {
            bare.push(path.to_string());
        }
        for (name, child) in node["properties"].as_object().into_iter().flatten() {
            walk(&format!("{path}.{name}"), child, bare);
        }
        if node["items"].is_object() {
            walk(&format!("{path}[]"), &node["items"], bare);
        }
    }
    let mut bare = Vec::new();
    walk("", &schema(), &mut bare);
    assert!(
        bare.is_empty(),
        "fractional bounds without a CEL rule: {bare:?}"
    );
}

#[test]
fn a_target_of_zero_or_one_is_refused_by_the_cel_rules_as_by_rust() {
    let store = Store::test();
    for field in ["availabilityTarget", "latencyTarget"] {
        let at = format!("/spec/monitoring/alerts/slo/{field}");
        for bad in [json!(0), json!(-0.0), json!(1), json!(0.89999)] {
            assert!(
                !accepted(with(&store, &at, bad.clone()), None),
                "{field}: {bad}"
            );
        }
        for good in [json!(0.9), json!(0.99999)] {
            assert!(
                accepted(with(&store, &at, good.clone()), None),
                "{field}: {good}"
            );
        }
    }
}

#[test]
fn a_target_and_window_where_no_critical_alert_could_fire_are_refused() {
    // 0.9 over 30 days: (1 - 0.9) x 30 = 3 < 5, the 6h row fires above 60 %.
    let mut store = Store::test();
    store.spec.monitoring.alerts.slo.availability_target = 0.9;
    assert!(accepted(json_of(&store), None));
    // Over 90 days every critical threshold is above 100 %.
    store.spec.monitoring.alerts.slo.window_days = 90;
    assert!(!accepted(json_of(&store), None));
    store.spec.monitoring.alerts.slo.availability_target = 0.95;
    assert!(accepted(json_of(&store), None));
    store.spec.monitoring.alerts.slo.latency_target = 0.9;
    assert!(!accepted(json_of(&store), None));
    assert_eq!(monitoring::reachable_budget_days(), 5.0);
}

#[test]
fn the_window_and_minimum_events_bounds_are_the_schemas() {
    let window = node("spec.monitoring.alerts.slo.windowDays");
    assert_eq!(
        (window["minimum"].as_f64(), window["maximum"].as_f64()),
        (Some(7.0), Some(90.0))
    );
    let min_events = node("spec.monitoring.alerts.slo.minEvents");
    assert_eq!(min_events["maximum"].as_f64(), Some(1_000_000.0));
    for (days, ok) in [(6, false), (7, true), (90, true), (91, false)] {
        let mut store = Store::test();
        store.spec.monitoring.alerts.slo.window_days = days;
        assert_eq!(validate(&store).is_ok(), ok, "windowDays {days}");
    }
    let mut store = Store::test();
    store.spec.monitoring.alerts.slo.min_events = 1_000_001;
    assert!(validate(&store).is_err());
}
