//! The deep-dive of one Store (the seeds' store health dashboard): KPIs,
//! revenue and items, top products, sales by category, stock and the
//! low-stock list, insufficient stock, RED per route with percentiles and
//! exemplars, database, recent error logs from Loki, slow and failed traces
//! from Tempo, runtime.

use super::names::{bucket, count, l, m};
use super::{Dashboard, Kind, Panel, logql, prom, prom_now, row, traceql};
use crate::monitoring::rules::{
    POD_BUCKETS, POD_ERRORS, POD_REQUESTS, REQUESTS_RATE5M, Target, errors_ratio,
};

/// What the store dashboard needs to know of its Store.
#[derive(Debug, Clone, PartialEq)]
pub struct StoreView {
    /// Namespace, store id, SLOs, thresholds.
    pub target: Target,
    /// Display name for the title.
    pub display_name: String,
    /// ISO 4217 code of the store's prices.
    pub currency: String,
    /// The Store's object name (for the uid).
    pub name: String,
}

/// A uid that stays the same for the Store and fits Grafana's 40 characters.
pub fn uid(namespace: &str, name: &str) -> String {
    let readable = format!("store-{namespace}-{name}");
    if readable.len() <= 40 {
        return readable;
    }
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!("{namespace}/{name}"));
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("store-{hex}")
}

/// Grafana's unit for a currency (its own where it has one).
pub fn currency_unit(code: &str) -> String {
    match code {
        "USD" | "EUR" | "GBP" | "JPY" | "CHF" | "CAD" | "AUD" | "SEK" | "NOK" | "DKK" | "PLN"
        | "CZK" | "INR" | "BRL" | "CNY" | "KRW" | "RUB" | "ZAR" | "NZD" | "SGD" | "HKD" | "MXN" => {
            format!("currency{code}")
        }
        other => format!("suffix: {other}"),
    }
}

/// The dashboard.
pub fn dashboard(v: &StoreView) -> Dashboard {
    let t = &v.target;
    let s = t.matchers();
    // The SLI panels leave out probes and scrapes, as the alerts do.
    let api = t.api_matchers();
    let count = count();
    let bucket = bucket();
    // The SLO window's availability, from the fleet's per-pod sums.
    let window = format!("{}d", t.window_days);
    let availability = format!(
        "1 - (\n(sum(increase({POD_ERRORS}{{{s}}}[{window}])) or vector(0))\n/\nsum(increase({POD_REQUESTS}{{{s}}}[{window}]))\n)"
    );
    let money = currency_unit(&v.currency);
    // Percentiles of the API's requests (probes and scrapes left out), of
    // the whole store or `by` route.
    let pct = |q: f64, by: &str| {
        let p = (q * 100.0).round();
        let (group, legend) = if by.is_empty() {
            ("le".to_string(), format!("p{p}"))
        } else {
            (format!("le, {by}"), format!("p{p} {{{{{by}}}}}"))
        };
        prom(
            format!(
                "histogram_quantile({q}, sum by ({group}) (rate({bucket}{{{api}}}[$__rate_interval])))"
            ),
            &legend,
        )
    };
    let percentiles = |by: &str| [0.5, 0.9, 0.95, 0.99].map(|q| pct(q, by)).to_vec();
    Dashboard {
        uid: uid(&t.namespace, &v.name),
        title: format!("Store {} ({})", v.display_name, t.store_id),
        source: format!("Store {}/{}", t.namespace, v.name),
        tags: vec!["store".into(), t.store_id.clone()],
        // Queries name the store outright; the variable rides along on the
        // links, so a fleet dashboard opens filtered to this store.
        variables: vec![super::Variable::Constant("store_id", t.store_id.clone())],
        rows: vec![
            row("Health", vec![
                // The SLIs as the alerts read them: the fleet's recording rules.
                Panel::new(Kind::Stat, "Requests", vec![prom_now(format!("sum({REQUESTS_RATE5M}{{{s}}})"), "")]).unit("reqps").size(4, 4),
                Panel::new(Kind::Stat, "Error ratio (5xx)", vec![prom_now(
                    format!("sum({}{{{s}}})", errors_ratio("5m")), "")]).unit("percentunit").size(4, 4),
                Panel::new(Kind::Stat, "p95 latency", vec![prom_now(
                    format!("histogram_quantile(0.95, sum by (le) (rate({POD_BUCKETS}{{{s}}}[5m])))"), "")]).unit("s").size(4, 4),
                Panel::new(Kind::Stat, &format!("Availability ({window})"), vec![prom_now(availability.clone(), "")])
                    .unit("percentunit").size(4, 4)
                    .describe(&format!("Objective: {}", t.availability_target)),
                Panel::new(Kind::Stat, &format!("Error budget left ({window})"), vec![prom_now(
                    format!("1 - (\n1 - {availability}\n) / {:.5}", 1.0 - t.availability_target), "")])
                    .unit("percentunit").size(4, 4),
                Panel::new(Kind::Stat, "Pods up", vec![prom_now(
                    format!(r#"sum(up{{namespace="{}",job="{}"}})"#, t.namespace, t.job), "")]).size(4, 4),
            ]),
            row("Business", vec![
                Panel::new(Kind::Stat, "Revenue (24h)", vec![prom_now(format!("sum(increase({}{{{s}}}[24h]))", m::APP_REVENUE_TOTAL), "")]).unit(&money).size(6, 4),
                Panel::new(Kind::Stat, "Items sold (24h)", vec![prom_now(format!("sum(increase({}{{{s}}}[24h]))", m::APP_ITEMS_SOLD_TOTAL), "")]).size(6, 4),
                Panel::new(Kind::Stat, "Purchases refused for stock (24h)", vec![prom_now(
                    format!("sum(increase({}{{{s}}}[24h]))", m::APP_STOCK_INSUFFICIENT_EVENTS_TOTAL), "")]).size(6, 4),
                Panel::new(Kind::Stat, "Products not found (24h)", vec![prom_now(
                    format!("sum(increase({}{{{s}}}[24h]))", m::APP_PRODUCT_NOTFOUND_TOTAL), "")]).size(6, 4),
                Panel::new(Kind::TimeSeries, "Revenue per minute by category", vec![prom(
                    format!("sum by ({c}) (rate({}{{{s}}}[$__rate_interval])) * 60", m::APP_REVENUE_TOTAL, c = l::PRODUCT_CATEGORY), "{{product_category}}")]).unit(&money),
                Panel::new(Kind::TimeSeries, "Items sold per minute by product", vec![prom(
                    format!("sum by ({p}) (rate({}{{{s}}}[$__rate_interval])) * 60", m::APP_ITEMS_SOLD_TOTAL, p = l::PRODUCT_NAME), "{{product_name}}")]),
                Panel::new(Kind::BarGauge, "Top products (items sold in range)", vec![prom_now(
                    format!("topk(10, sum by ({p}) (increase({}{{{s}}}[$__range])))", m::APP_ITEMS_SOLD_TOTAL, p = l::PRODUCT_NAME), "{{product_name}}")]).size(8, 8),
                Panel::new(Kind::PieChart, "Sales by category (revenue in range)", vec![prom_now(
                    format!("sum by ({c}) (increase({}{{{s}}}[$__range]))", m::APP_REVENUE_TOTAL, c = l::PRODUCT_CATEGORY), "{{product_category}}")]).unit(&money).size(8, 8),
                Panel::new(Kind::BarGauge, "Stock levels", vec![prom_now(
                    format!("max by ({p}) ({}{{{s}}})", m::APP_PRODUCT_STOCK, p = l::PRODUCT_NAME), "{{product_name}}")]).size(8, 8),
                Panel::new(Kind::Table, "Low stock", vec![prom_now(
                    format!("max by ({p}, {c}) ({}{{{s}}}) <= {}", m::APP_PRODUCT_STOCK, t.low_stock_threshold, p = l::PRODUCT_NAME, c = l::PRODUCT_CATEGORY), "")])
                    .describe(&format!("Products at or below {} units; empty while every product is stocked.", t.low_stock_threshold)),
                Panel::new(Kind::TimeSeries, "Purchases refused for insufficient stock (per minute)", vec![prom(
                    format!("sum by ({p}) (rate({}{{{s}}}[$__rate_interval])) * 60", m::APP_STOCK_INSUFFICIENT_EVENTS_TOTAL, p = l::PRODUCT_NAME), "{{product_name}}")]),
            ]),
            row("Requests (RED)", vec![
                Panel::new(Kind::TimeSeries, "Requests by route", vec![prom(
                    format!("sum by ({}, {}) (rate({count}{{{s}}}[$__rate_interval]))", l::HTTP_REQUEST_METHOD, l::HTTP_ROUTE), "{{http_request_method}} {{http_route}}")]).unit("reqps"),
                Panel::new(Kind::TimeSeries, "Error responses by route and status", vec![prom(
                    format!(r#"sum by ({}, {}) (rate({count}{{{s},{}=~"4..|5.."}}[$__rate_interval]))"#, l::HTTP_ROUTE, l::HTTP_RESPONSE_STATUS_CODE, l::HTTP_RESPONSE_STATUS_CODE), "{{http_response_status_code}} {{http_route}}")]).unit("reqps"),
                Panel::new(Kind::TimeSeries, "Latency percentiles", percentiles("")).unit("s").exemplars()
                    .describe("Dots are exemplars: click one to open its trace in Tempo."),
                Panel::new(Kind::TimeSeries, "Latency percentiles by route", percentiles(l::HTTP_ROUTE)).unit("s").exemplars()
                    .describe("p50, p90, p95 and p99 of each route of the API (probes and scrapes left out)."),
                Panel::new(Kind::TimeSeries, "Errors by code", vec![prom(
                    format!("sum by ({}) (rate({}{{{s}}}[$__rate_interval]))", l::APP_ERROR_CODE, m::APP_ERRORS_TOTAL), "{{app_error_code}}")]).unit("reqps"),
                Panel::new(Kind::TimeSeries, "Database p95 by operation", vec![prom(
                    format!("histogram_quantile(0.95, sum by (le, {}) (rate({}_bucket{{{s}}}[$__rate_interval])))", l::OPERATION, m::APP_DB_OPERATION_DURATION_SECONDS), "{{operation}}")]).unit("s"),
            ]),
            row("Logs and traces", vec![
                Panel::new(Kind::Logs, "Recent warnings and errors", vec![logql(store_error_logs(&t.store_id))]).size(24, 10)
                    .describe("Warnings and errors of this store from Loki; a log line's trace_id opens its trace."),
                Panel::new(Kind::Traces, "Slow and failed traces", vec![traceql(format!(
                    r#"{{resource.store.id="{}" && (status = error || duration > {}ms)}}"#, t.store_id, (t.latency_threshold * 1000.0).round()))]).size(24, 8)
                    .describe("Requests slower than the latency objective or failed; empty while the store is healthy."),
            ]),
            row("Runtime", vec![
                Panel::new(Kind::TimeSeries, "CPU by pod", vec![prom(
                    format!("sum by (pod) (rate({}{{{s}}}[$__rate_interval]))", m::PROCESS_CPU_SECONDS_TOTAL), "{{pod}}")]).unit("percentunit").size(8, 7),
                Panel::new(Kind::TimeSeries, "Memory by pod", vec![prom(
                    format!("sum by (pod) ({}{{{s}}})", m::PROCESS_RESIDENT_MEMORY_BYTES), "{{pod}}")]).unit("bytes").size(8, 7),
                Panel::new(Kind::TimeSeries, "Telemetry dropped", vec![prom(
                    format!("sum by ({}) (rate({}{{{s}}}[$__rate_interval]))", l::SIGNAL, m::APP_TELEMETRY_DROPPED_TOTAL), "{{signal}}")]).size(8, 7),
            ]),
        ],
    }
}

/// LogQL: the store's warnings and errors.
pub fn store_error_logs(store_id: &str) -> String {
    format!(
        r#"{{service_name="store-service", store_id="{store_id}"}} | detected_level=~"warn|error""#
    )
}
