//! The Store's admission rules in Rust.
//!
//! The API server enforces the schema (OpenAPI keywords and CEL rules) at
//! admission. `operator render` has no API server, and a Store read from a
//! file skips admission, so the build step checks the same rules here first.
//! The tests run every rule both ways — through a CEL interpreter on the
//! generated schema and through these functions — and require them to agree.

use std::collections::BTreeSet;

use storeops_contract::metrics::HTTP_SERVER_REQUEST_DURATION_BUCKETS as LATENCY_BUCKETS;

use storeops_contract::catalog as contract_catalog;

use super::catalog::MAX_PRODUCTS;
use super::monitoring::{
    MAX_MIN_EVENTS, MAX_TARGET, MAX_WINDOW_DAYS, MIN_TARGET, MIN_WINDOW_DAYS,
    reachable_budget_days, reachable_rule,
};
use super::syntax::{
    FOLDER_PATTERN, MAX_LABELS, MSG_LABEL_KEY, MSG_LABEL_VALUE, STORE_ID_PATTERN, is_currency,
    is_dns_label, is_folder, is_interval, is_label, is_store_id, is_url,
};
use super::{MAX_NAME_LEN, MAX_REPLICAS, Store};

/// One field that breaks a rule.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    /// JSON path of the field, e.g. `spec.replicas`.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

/// A Store that the API server would reject.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("Store {name:?} is invalid: {}", join(.errors))]
pub struct InvalidStore {
    /// The Store's name.
    pub name: String,
    /// Every broken rule.
    pub errors: Vec<FieldError>,
}

fn join(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Checks a new Store against every admission rule.
pub fn validate(store: &Store) -> Result<(), InvalidStore> {
    result(store, check(store))
}

/// Checks an update: every admission rule, and the transition rules.
pub fn validate_update(old: &Store, new: &Store) -> Result<(), InvalidStore> {
    let mut errors = check(new);
    if old.store_id() != new.store_id() {
        errors.push(err("spec.storeId", super::MSG_STORE_ID_IMMUTABLE));
    }
    result(new, errors)
}

fn result(store: &Store, errors: Vec<FieldError>) -> Result<(), InvalidStore> {
    if errors.is_empty() {
        return Ok(());
    }
    let name = store.metadata.name.clone().unwrap_or_default();
    Err(InvalidStore { name, errors })
}

fn err(field: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.to_string(),
        message: message.into(),
    }
}

fn check(store: &Store) -> Vec<FieldError> {
    let mut e = Vec::new();
    let spec = &store.spec;
    let name = store.metadata.name.as_deref().unwrap_or_default();
    if !is_dns_label(name, MAX_NAME_LEN) {
        e.push(err("metadata.name", super::MSG_NAME));
    }
    if let Some(id) = &spec.store_id
        && !is_store_id(id)
    {
        e.push(err(
            "spec.storeId",
            format!("{id:?} does not match {}", STORE_ID_PATTERN),
        ));
    }
    if let Some(n) = &spec.display_name {
        check_len(&mut e, "spec.displayName", n, 1, 100);
        if n.chars().any(char::is_control) {
            e.push(err(
                "spec.displayName",
                "must not contain control characters",
            ));
        }
    }
    if !is_currency(&spec.currency) {
        e.push(err(
            "spec.currency",
            "must be three capital letters (ISO 4217)",
        ));
    }
    if spec.image.as_deref() == Some("") {
        e.push(err("spec.image", "must not be empty"));
    }
    if !(1..=MAX_REPLICAS).contains(&spec.replicas) {
        e.push(err(
            "spec.replicas",
            format!("must be from 1 to {MAX_REPLICAS}"),
        ));
    }
    if spec.replicas > 1 && spec.database.postgres.is_none() {
        e.push(err("spec.replicas", super::MSG_REPLICAS_NEED_POSTGRES));
    }
    if let Some(catalog) = &spec.catalog {
        check_catalog(&mut e, catalog);
    }
    check_database(&mut e, &spec.database);
    if let Some(r) = &spec.resources {
        check_resources(&mut e, r);
    }
    check_telemetry(&mut e, &spec.telemetry);
    check_monitoring(&mut e, &spec.monitoring);
    e
}

fn check_catalog(e: &mut Vec<FieldError>, catalog: &super::Catalog) {
    if catalog.products.is_some() == catalog.config_map_ref.is_some() {
        e.push(err("spec.catalog", super::catalog::MSG_CATALOG_EXACTLY_ONE));
    }
    if let Some(products) = &catalog.products {
        if products.len() > MAX_PRODUCTS {
            e.push(err(
                "spec.catalog.products",
                super::catalog::MSG_MAX_PRODUCTS,
            ));
        }
        let mut seen = BTreeSet::new();
        for (i, p) in products.iter().enumerate() {
            let at = |f: &str| format!("spec.catalog.products[{i}].{f}");
            if !seen.insert(p.name.as_str()) {
                e.push(err(&at("name"), format!("duplicate product {:?}", p.name)));
            }
            // The store-service's own rules (storeops_contract::catalog).
            for broken in contract_catalog::check(&contract_product(p)) {
                e.push(err(&at(broken.field.as_str()), broken.message));
            }
        }
    }
    if let Some(r) = &catalog.config_map_ref {
        check_len(e, "spec.catalog.configMapRef.name", &r.name, 1, 253);
        check_key(e, "spec.catalog.configMapRef.key", &r.key);
    }
}

/// A Store's product in the store-service's shape.
pub fn contract_product(p: &super::Product) -> contract_catalog::Product {
    contract_catalog::Product {
        name: p.name.clone(),
        category: p.category.clone(),
        price: p.price,
        stock: p.stock,
    }
}

fn check_database(e: &mut Vec<FieldError>, db: &super::Database) {
    if db.embedded.is_some() == db.postgres.is_some() {
        e.push(err(
            "spec.database",
            super::database::MSG_DATABASE_EXACTLY_ONE,
        ));
    }
    if let Some(embedded) = &db.embedded {
        if !is_positive_quantity(&embedded.size.0) {
            e.push(err(
                "spec.database.embedded.size",
                super::database::MSG_SIZE_QUANTITY,
            ));
        }
        if let Some(class) = &embedded.storage_class_name {
            check_len(e, "spec.database.embedded.storageClassName", class, 1, 253);
        }
    }
    if let Some(pg) = &db.postgres {
        check_len(
            e,
            "spec.database.postgres.secretRef.name",
            &pg.secret_ref.name,
            1,
            253,
        );
        check_key(
            e,
            "spec.database.postgres.secretRef.key",
            &pg.secret_ref.key,
        );
    }
}

fn check_resources(e: &mut Vec<FieldError>, r: &super::Resources) {
    use super::resources::{MSG_CPU, MSG_MEMORY, MSG_REQUEST_WITHIN_LIMIT, quantity_value};
    let mut within = true;
    for (which, message) in [("cpu", MSG_CPU), ("memory", MSG_MEMORY)] {
        fn amount<'a>(a: &'a Option<super::Amounts>, which: &str) -> Option<&'a str> {
            let a = a.as_ref()?;
            let q = if which == "cpu" { &a.cpu } else { &a.memory };
            q.as_ref().map(|q| q.0.as_str())
        }
        let (request, limit) = (amount(&r.requests, which), amount(&r.limits, which));
        for (kind, q) in [("requests", request), ("limits", limit)] {
            if q.is_some_and(|q| !is_positive_quantity(q)) {
                e.push(err(&format!("spec.resources.{kind}.{which}"), message));
            }
        }
        if let (Some(req), Some(lim)) = (
            request.and_then(quantity_value),
            limit.and_then(quantity_value),
        ) && req > lim
        {
            within = false;
        }
    }
    if !within {
        e.push(err("spec.resources", MSG_REQUEST_WITHIN_LIMIT));
    }
}

fn check_telemetry(e: &mut Vec<FieldError>, t: &super::Telemetry) {
    if let Some(url) = &t.otlp_endpoint
        && !is_url(url)
    {
        e.push(err(
            "spec.telemetry.otlpEndpoint",
            "must be an http:// or https:// URL",
        ));
    }
    if !(0.0..=1.0).contains(&t.trace_sample_ratio) {
        e.push(err(
            "spec.telemetry.traceSampleRatio",
            "must be from 0 to 1",
        ));
    }
}

fn check_monitoring(e: &mut Vec<FieldError>, m: &super::Monitoring) {
    if !is_interval(&m.service_monitor.interval) {
        e.push(err(
            "spec.monitoring.serviceMonitor.interval",
            "must be a duration from 1s to 2m such as 30s or 1m30s (minutes before seconds)",
        ));
    }
    let slo = &m.alerts.slo;
    for (field, value) in [
        ("availabilityTarget", slo.availability_target),
        ("latencyTarget", slo.latency_target),
    ] {
        if !(MIN_TARGET..=MAX_TARGET).contains(&value) {
            e.push(err(
                &format!("spec.monitoring.alerts.slo.{field}"),
                format!("must be from {MIN_TARGET} to {MAX_TARGET}"),
            ));
        }
    }
    if !(MIN_WINDOW_DAYS..=MAX_WINDOW_DAYS).contains(&slo.window_days) {
        e.push(err(
            "spec.monitoring.alerts.slo.windowDays",
            format!("must be from {MIN_WINDOW_DAYS} to {MAX_WINDOW_DAYS}"),
        ));
    }
    if slo.min_events > MAX_MIN_EVENTS {
        e.push(err(
            "spec.monitoring.alerts.slo.minEvents",
            format!("must be from 0 to {MAX_MIN_EVENTS}"),
        ));
    }
    let limit = reachable_budget_days();
    let days = f64::from(slo.window_days);
    if (1.0 - slo.availability_target) * days >= limit || (1.0 - slo.latency_target) * days >= limit
    {
        let rule = reachable_rule();
        let message = match rule.message {
            Some(kube::core::Message::Message(m)) => m,
            _ => rule.rule,
        };
        e.push(err(
            "spec.monitoring.alerts.slo",
            message.trim_start_matches("spec.monitoring.alerts.slo: "),
        ));
    }
    if !LATENCY_BUCKETS.contains(&slo.latency_threshold_seconds) {
        let rule = super::monitoring::latency_threshold_rule();
        let message = match rule.message {
            Some(kube::core::Message::Message(m)) => m,
            _ => rule.rule,
        };
        e.push(err(
            "spec.monitoring.alerts.slo.latencyThresholdSeconds",
            message,
        ));
    }
    if m.alerts.low_stock_threshold < 0 {
        e.push(err(
            "spec.monitoring.alerts.lowStockThreshold",
            "must be 0 or more",
        ));
    }
    if let Some(url) = &m.alerts.runbook_base_url
        && !is_url(url)
    {
        e.push(err(
            "spec.monitoring.alerts.runbookBaseUrl",
            "must be an http:// or https:// URL",
        ));
    }
    for (field, labels) in [
        ("serviceMonitor", &m.service_monitor.labels),
        ("alerts", &m.alerts.labels),
        ("dashboards", &m.dashboards.labels),
    ] {
        check_labels(e, &format!("spec.monitoring.{field}.labels"), labels);
    }
    let folder = &m.dashboards.folder;
    check_len(e, "spec.monitoring.dashboards.folder", folder, 1, 100);
    if !is_folder(folder) {
        e.push(err(
            "spec.monitoring.dashboards.folder",
            format!("{folder:?} does not match {}", FOLDER_PATTERN),
        ));
    }
}

fn check_labels(
    e: &mut Vec<FieldError>,
    field: &str,
    labels: &std::collections::BTreeMap<String, String>,
) {
    if labels.len() > MAX_LABELS {
        e.push(err(field, format!("must have at most {MAX_LABELS} labels")));
    }
    if labels.keys().any(|k| !is_label(k, "")) {
        e.push(err(field, MSG_LABEL_KEY));
    }
    if labels.values().any(|v| !is_label("k", v)) {
        e.push(err(field, MSG_LABEL_VALUE));
    }
}

fn check_len(e: &mut Vec<FieldError>, field: &str, value: &str, min: usize, max: usize) {
    // OpenAPI lengths count characters, not bytes.
    let n = value.chars().count();
    if n < min || n > max {
        e.push(err(field, format!("must be {min} to {max} characters")));
    }
}

fn check_key(e: &mut Vec<FieldError>, field: &str, key: &str) {
    let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_');
    if key.is_empty() || key.len() > 253 || !key.chars().all(ok) {
        e.push(err(field, "must be letters, digits, '-', '.' or '_'"));
    }
}

/// A Kubernetes quantity (`1Gi`, `500M`, `1e9`, `0.5Gi`) greater than zero,
/// as CEL's `isQuantity(self) && quantity(self).isGreaterThan(quantity('0'))`.
pub fn is_positive_quantity(s: &str) -> bool {
    super::resources::quantity_value(s).is_some_and(|v| v > 0.0)
}

#[cfg(test)]
#[path = "validation_tests.rs"]
mod tests;
