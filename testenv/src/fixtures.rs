//! Stores as JSON for the tests and drills: a small valid one, JSON merge
//! patches of it, and the table of invalid ones the API server must refuse,
//! each naming the field (the e2e crate's admission test checks it on a real
//! cluster; `make drills` prints it with the API server's answers).

use serde_json::{Value, json};

/// The catalog every fixture Store sells, as `spec.catalog.products` holds
/// it: an apple (fruit, 0.5, 100 in stock) and a laptop (electronics,
/// 999.99, 3 in stock: few enough to sell out).
pub fn products() -> Value {
    json!([
        {"name": "apple", "category": "fruit", "price": 0.5, "stock": 100},
        {"name": "laptop", "category": "electronics", "price": 999.99, "stock": 3}
    ])
}

/// A small valid Store for a cluster: inline catalog ([`products`]),
/// embedded database, every default.
pub fn store(name: &str) -> Value {
    json!({
        "metadata": {"name": name},
        "spec": {
            "displayName": format!("Store {name}"),
            "catalog": {"products": products()},
            "telemetry": {"traceSampleRatio": 0.5}
        }
    })
}

/// Store `alpha` in namespace `shop` with every default, as the API server
/// returns it (uid and generation set): where the operator's own tests start
/// (`operator::fixtures`, the typed view of this module).
pub fn alpha() -> Value {
    json!({
        "apiVersion": "storeops.dev/v1alpha1",
        "kind": "Store",
        "metadata": {
            "name": "alpha",
            "namespace": "shop",
            "uid": "0b6c9a8e-3f7d-4d2a-9e51-7a1f0c2b9d11",
            "generation": 1
        },
        "spec": {}
    })
}

/// Secret and key of the database URL of a fixture Store on PostgreSQL.
pub const POSTGRES_SECRET: (&str, &str) = ("pg", "url");

/// ConfigMap and key of a fixture Store's referenced catalog.
pub const CATALOG_CONFIG_MAP: (&str, &str) = ("beta-products", "products.yaml");

/// `base` with a JSON merge patch (RFC 7386) applied: a `null` removes the
/// key, an object merges into an object, anything else replaces.
pub fn merged(mut base: Value, patch: &Value) -> Value {
    json_patch::merge(&mut base, patch);
    base
}

/// Invalid Stores, each as (what is wrong, a JSON merge patch of [`store`],
/// the field the API server's refusal must name).
pub fn invalid_stores() -> Vec<(&'static str, Value, &'static str)> {
    let spec = |s: Value| json!({"spec": s});
    let mut stores = vec![
        (
            "dotted name",
            json!({"metadata": {"name": "bad.name"}}),
            "metadata.name",
        ),
        (
            "uppercase storeId",
            spec(json!({"storeId": "Alpha"})),
            "spec.storeId",
        ),
        (
            "storeId starting with -",
            spec(json!({"storeId": "-alpha"})),
            "spec.storeId",
        ),
        (
            "storeId of 64 characters",
            spec(json!({"storeId": "a".repeat(64)})),
            "spec.storeId",
        ),
        (
            "lowercase currency",
            spec(json!({"currency": "usd"})),
            "spec.currency",
        ),
        ("no replicas", spec(json!({"replicas": 0})), "spec.replicas"),
        (
            "eleven replicas",
            spec(json!({"replicas": 11})),
            "spec.replicas",
        ),
        (
            "two replicas on SQLite",
            spec(json!({"replicas": 2})),
            "spec.replicas",
        ),
        (
            "catalog inline and referenced",
            spec(json!({"catalog": {"configMapRef": {"name": "cm"}}})),
            "spec.catalog",
        ),
        (
            "empty catalog",
            spec(json!({"catalog": {"products": null}})),
            "spec.catalog",
        ),
        (
            "duplicate product",
            spec(json!({"catalog": {"products": [
                {"name": "apple", "category": "fruit", "price": 1.0, "stock": 1},
                {"name": "apple", "category": "fruit", "price": 2.0, "stock": 1}
            ]}})),
            "spec.catalog.products[1]",
        ),
        (
            "embedded and postgres",
            spec(
                json!({"database": {"embedded": {"size": "1Gi"}, "postgres": {"secretRef": {"name": "pg"}}}}),
            ),
            "spec.database",
        ),
        (
            "volume size not a quantity",
            spec(json!({"database": {"embedded": {"size": "lots"}}})),
            "spec.database.embedded.size",
        ),
        (
            "volume size zero",
            spec(json!({"database": {"embedded": {"size": "0"}}})),
            "spec.database.embedded.size",
        ),
        (
            "empty database secret name",
            spec(json!({"database": {"embedded": null, "postgres": {"secretRef": {"name": ""}}}})),
            "spec.database.postgres.secretRef.name",
        ),
        (
            "sample ratio above 1",
            spec(json!({"telemetry": {"traceSampleRatio": 1.5}})),
            "spec.telemetry.traceSampleRatio",
        ),
        (
            "unknown log level",
            spec(json!({"telemetry": {"logLevel": "verbose"}})),
            "spec.telemetry.logLevel",
        ),
        (
            "endpoint without scheme",
            spec(json!({"telemetry": {"otlpEndpoint": "collector:4317"}})),
            "spec.telemetry.otlpEndpoint",
        ),
        (
            "scrape interval in words",
            spec(json!({"monitoring": {"serviceMonitor": {"interval": "30 seconds"}}})),
            "spec.monitoring.serviceMonitor.interval",
        ),
        // Field cases: minutes after seconds, refused by the ServiceMonitor's
        // own pattern after the Store was admitted; an interval no 5-minute
        // rate() can read twice.
        (
            "scrape interval 30s1m",
            spec(json!({"monitoring": {"serviceMonitor": {"interval": "30s1m"}}})),
            "spec.monitoring.serviceMonitor.interval",
        ),
        (
            "scrape interval 5m",
            spec(json!({"monitoring": {"serviceMonitor": {"interval": "5m"}}})),
            "spec.monitoring.serviceMonitor.interval",
        ),
        (
            "scrape interval 0s",
            spec(json!({"monitoring": {"serviceMonitor": {"interval": "0s"}}})),
            "spec.monitoring.serviceMonitor.interval",
        ),
        (
            "SLO window of 6 days",
            spec(json!({"monitoring": {"alerts": {"slo": {"windowDays": 6}}}})),
            "spec.monitoring.alerts.slo.windowDays",
        ),
        (
            "SLO window of 91 days",
            spec(json!({"monitoring": {"alerts": {"slo": {"windowDays": 91}}}})),
            "spec.monitoring.alerts.slo.windowDays",
        ),
        (
            "minimum events above a million",
            spec(json!({"monitoring": {"alerts": {"slo": {"minEvents": 1_000_001}}}})),
            "spec.monitoring.alerts.slo.minEvents",
        ),
        (
            "a 90-day window on a 0.9 target (no critical alert could fire)",
            spec(
                json!({"monitoring": {"alerts": {"slo": {"windowDays": 90, "availabilityTarget": 0.9}}}}),
            ),
            "spec.monitoring.alerts.slo",
        ),
        (
            "availability target above 1",
            spec(json!({"monitoring": {"alerts": {"slo": {"availabilityTarget": 1.5}}}})),
            "spec.monitoring.alerts.slo.availabilityTarget",
        ),
        // Integer-valued numbers at a fractional bound: the API server's
        // OpenAPI check cuts 0.9 to 0 for them, so only the CEL rule beside
        // it refuses these.
        (
            "availability target 0",
            spec(json!({"monitoring": {"alerts": {"slo": {"availabilityTarget": 0}}}})),
            "spec.monitoring.alerts.slo.availabilityTarget",
        ),
        (
            "availability target -0",
            spec(json!({"monitoring": {"alerts": {"slo": {"availabilityTarget": -0.0}}}})),
            "spec.monitoring.alerts.slo.availabilityTarget",
        ),
        (
            "latency target 0",
            spec(json!({"monitoring": {"alerts": {"slo": {"latencyTarget": 0}}}})),
            "spec.monitoring.alerts.slo.latencyTarget",
        ),
        (
            "latency target 1",
            spec(json!({"monitoring": {"alerts": {"slo": {"latencyTarget": 1}}}})),
            "spec.monitoring.alerts.slo.latencyTarget",
        ),
        (
            "latency threshold between buckets",
            spec(json!({"monitoring": {"alerts": {"slo": {"latencyThresholdSeconds": 0.3}}}})),
            "spec.monitoring.alerts.slo.latencyThresholdSeconds",
        ),
        (
            "runbook URL not http",
            spec(json!({"monitoring": {"alerts": {"runbookBaseUrl": "ftp://runbooks"}}})),
            "spec.monitoring.alerts.runbookBaseUrl",
        ),
        (
            "empty display name",
            spec(json!({"displayName": ""})),
            "spec.displayName",
        ),
        (
            "cpu limit in words",
            spec(json!({"resources": {"limits": {"cpu": "lots"}}})),
            "spec.resources.limits.cpu",
        ),
        (
            "memory request above its limit",
            spec(
                json!({"resources": {"requests": {"memory": "2Gi"}, "limits": {"memory": "1Gi"}}}),
            ),
            "spec.resources",
        ),
        (
            "currency of four letters",
            spec(json!({"currency": "EURO"})),
            "spec.currency",
        ),
        (
            "latency target below 0.9",
            spec(json!({"monitoring": {"alerts": {"slo": {"latencyTarget": 0.5}}}})),
            "spec.monitoring.alerts.slo.latencyTarget",
        ),
        (
            "negative low-stock threshold",
            spec(json!({"monitoring": {"alerts": {"lowStockThreshold": -1}}})),
            "spec.monitoring.alerts.lowStockThreshold",
        ),
        (
            "empty dashboard folder",
            spec(json!({"monitoring": {"dashboards": {"folder": ""}}})),
            "spec.monitoring.dashboards.folder",
        ),
        (
            "label value with a space",
            spec(json!({"monitoring": {"alerts": {"labels": {"team": "shop one"}}}})),
            "spec.monitoring.alerts.labels",
        ),
        (
            "runbook URL with a template",
            spec(
                json!({"monitoring": {"alerts": {"runbookBaseUrl": "https://wiki.example.com/{{team}}/runbooks"}}}),
            ),
            "spec.monitoring.alerts.runbookBaseUrl",
        ),
        (
            "runbook URL with a quote",
            spec(
                json!({"monitoring": {"alerts": {"runbookBaseUrl": "https://wiki.example.com/\"a"}}}),
            ),
            "spec.monitoring.alerts.runbookBaseUrl",
        ),
        (
            "dashboard folder ..",
            spec(json!({"monitoring": {"dashboards": {"folder": ".."}}})),
            "spec.monitoring.dashboards.folder",
        ),
        (
            "dashboard folder with a /",
            spec(json!({"monitoring": {"dashboards": {"folder": "shop/../../etc"}}})),
            "spec.monitoring.dashboards.folder",
        ),
        (
            "display name with a newline",
            spec(json!({"displayName": "Store\nOne"})),
            "spec.displayName",
        ),
    ];
    stores.extend(invalid_products());
    stores.push((
        "101 products inline",
        spec(json!({"catalog": {"products": (0..101)
            .map(|i| json!({"name": format!("p{i}"), "category": "c", "price": 1.0, "stock": 1}))
            .collect::<Vec<_>>()}})),
        "spec.catalog.products",
    ));
    stores
}

/// The products the store-service refuses (the shared table,
/// `storeops_contract::catalog::cases`), each in an inline catalog.
fn invalid_products() -> Vec<(&'static str, Value, &'static str)> {
    use storeops_contract::catalog::{Field, cases};
    cases()
        .into_iter()
        .filter_map(|(what, product, field)| {
            let field = match field? {
                Field::Name => "spec.catalog.products[0].name",
                Field::Category => "spec.catalog.products[0].category",
                Field::Price => "spec.catalog.products[0].price",
                Field::Stock => "spec.catalog.products[0].stock",
            };
            let catalog = json!({"catalog": {"products": [product]}});
            Some((what, json!({"spec": catalog}), field))
        })
        .collect()
}

/// One probe of a numeric bound of the Store's schema: what it is, a JSON
/// merge patch of [`store`], whether the schema admits it, and the field a
/// refusal must name.
pub struct BoundProbe {
    /// e.g. `spec.replicas = 11 (just past the maximum 10)`.
    pub what: String,
    /// The change to the valid base Store.
    pub patch: Value,
    /// Whether the value is within the bounds.
    pub admitted: bool,
    /// The field's path, e.g. `spec.replicas`.
    pub field: String,
}

/// Every `minimum` and `maximum` of the Store schema `spec` (the CRD's
/// `openAPIV3Schema.properties.spec`), probed at its edges: 0, -0 (numbers;
/// an integer -0 is 0 in JSON), the bound, and just past it (1 for an
/// integer; 1e-9 relative, at least 0.01 where two decimals are the rule,
/// for a number). Fields under `spec.catalog.products` are probed in a
/// one-product catalog; `spec.replicas` on PostgreSQL (SQLite allows one).
pub fn bound_probes(spec: &Value) -> Vec<BoundProbe> {
    let mut found = Vec::new();
    walk_bounds(spec, "spec", &mut found);
    let mut probes = Vec::new();
    for (field, node) in found {
        let integer = node["type"] == "integer";
        let (min, max) = (node["minimum"].as_f64(), node["maximum"].as_f64());
        let within = |v: f64| min.is_none_or(|m| v >= m) && max.is_none_or(|m| v <= m);
        let past = |bound: f64, dir: f64| {
            if integer {
                bound + dir
            } else {
                bound
                    + dir
                        * (bound.abs() * 1e-9).max(if field.ends_with("price") {
                            0.01
                        } else {
                            1e-9
                        })
            }
        };
        let mut values = vec![("0".to_string(), 0.0)];
        if !integer {
            values.push(("-0".into(), -0.0));
        }
        if let Some(m) = min {
            values.push((format!("the minimum {m}"), m));
            values.push((format!("just below the minimum {m}"), past(m, -1.0)));
        }
        if let Some(m) = max {
            values.push((format!("the maximum {m}"), m));
            values.push((format!("just above the maximum {m}"), past(m, 1.0)));
        }
        for (what, v) in values {
            let value = if integer { json!(v as i64) } else { json!(v) };
            probes.push(BoundProbe {
                what: format!("{field} = {value} ({what})"),
                patch: bound_patch(&field, value),
                admitted: within(v),
                field: field.replace("[]", "[0]"),
            });
        }
    }
    probes
}

fn walk_bounds(node: &Value, path: &str, found: &mut Vec<(String, Value)>) {
    if node.get("minimum").is_some() || node.get("maximum").is_some() {
        found.push((path.to_string(), node.clone()));
    }
    if let Some(props) = node["properties"].as_object() {
        for (k, v) in props {
            walk_bounds(v, &format!("{path}.{k}"), found);
        }
    }
    if node["items"].is_object() {
        walk_bounds(&node["items"], &format!("{path}[]"), found);
    }
}

/// The merge patch setting `field` (`spec.a.b`, `spec.catalog.products[].price`) to `value`.
fn bound_patch(field: &str, value: Value) -> Value {
    if let Some(key) = field.strip_prefix("spec.catalog.products[].") {
        let mut product = json!({"name": "edge", "category": "c", "price": 1.0, "stock": 1});
        product[key] = value;
        return json!({"spec": {"catalog": {"products": [product]}}});
    }
    let mut patch = value;
    for part in field.split('.').rev() {
        patch = json!({ part: patch });
    }
    if field == "spec.replicas" {
        patch["spec"]["database"] = json!({"postgres": {"secretRef": {"name": "pg"}}});
    }
    patch
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_merge_patch_merges_objects_and_removes_nulls() {
        let patched = merged(
            store("a"),
            &json!({"spec": {"catalog": {"products": null}, "replicas": 2}}),
        );
        assert_eq!(patched["spec"]["catalog"], json!({}));
        assert_eq!(patched["spec"]["replicas"], 2);
        assert_eq!(patched["spec"]["displayName"], "Store a");
    }

    #[test]
    fn every_invalid_store_changes_the_valid_one_and_names_a_field() {
        for (what, patch, field) in invalid_stores() {
            assert_ne!(merged(store("bad"), &patch), store("bad"), "{what}");
            assert!(
                field.starts_with("spec.") || field.starts_with("metadata."),
                "{what}: {field}"
            );
        }
    }
}
