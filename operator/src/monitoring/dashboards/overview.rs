//! The global multi-store overview: platform KPIs, revenue, items, error
//! rate and latency by store, a health table per instance, firing alerts.

use super::FLEET_SOURCE;
use super::names::{bucket, count, l, m};
use super::{Dashboard, Kind, Panel, Variable, prom, prom_now, row};
use crate::monitoring::rules::{
    POD_BUCKETS, POD_ERRORS, POD_REQUESTS, REQUESTS_RATE5M, errors_ratio,
};

/// Matchers of the fleet dashboards' variables.
pub(crate) const FLEET: &str = r#"namespace=~"$namespace",store_id=~"$store_id""#;

/// The store's own dashboard, found by its tags (`store` and the store id),
/// from a table row or from a series.
const STORE_DASHBOARD_BY_FIELD: &str = "/dashboards?tag=store&tag=${__data.fields.store_id}";
const STORE_DASHBOARD_BY_LABEL: &str = "/dashboards?tag=store&tag=${__field.labels.store_id}";

/// The namespace and store variables of the fleet dashboards.
pub(crate) fn fleet_variables() -> Vec<Variable> {
    vec![
        Variable::LabelValues("namespace", "namespace", count(), true),
        Variable::LabelValues(
            "store_id",
            l::STORE_ID,
            format!(r#"{}{{namespace=~"$namespace"}}"#, count()),
            true,
        ),
    ]
}

/// The dashboard.
pub fn dashboard() -> Dashboard {
    let (count, bucket, f) = (count(), bucket(), FLEET);
    let by_store = |metric: &str, per: &str| {
        prom(
            format!("sum by (store_id) (rate({metric}{{{f}}}[$__rate_interval])){per}"),
            "{{store_id}}",
        )
    };
    Dashboard {
        source: FLEET_SOURCE.into(),
        uid: "storeops-overview".into(),
        title: "storeops / Fleet overview".into(),
        tags: vec!["fleet".into()],
        variables: fleet_variables(),
        rows: vec![
            row("Platform", vec![
                Panel::new(Kind::Stat, "Revenue (24h)", vec![prom_now(format!("sum(increase({}{{{f}}}[24h]))", m::APP_REVENUE_TOTAL), "")]).size(4, 4),
                Panel::new(Kind::Stat, "Items sold (24h)", vec![prom_now(format!("sum(increase({}{{{f}}}[24h]))", m::APP_ITEMS_SOLD_TOTAL), "")]).size(4, 4),
                // The SLIs as the alerts read them: the fleet's recording rules.
                Panel::new(Kind::Stat, "Requests", vec![prom_now(format!("sum({REQUESTS_RATE5M}{{{f}}})"), "")]).unit("reqps").size(4, 4),
                Panel::new(Kind::Stat, "Error ratio (5xx)", vec![prom_now(format!(
                    "sum(rate({POD_ERRORS}{{{f}}}[5m]))\n/\nsum(rate({POD_REQUESTS}{{{f}}}[5m]))"), "")]).unit("percentunit").size(4, 4),
                Panel::new(Kind::Stat, "p95 latency", vec![prom_now(format!("histogram_quantile(0.95, sum by (le) (rate({POD_BUCKETS}{{{f}}}[5m])))"), "")]).unit("s").size(4, 4),
                Panel::new(Kind::Stat, "Stores serving", vec![prom_now(format!("count({REQUESTS_RATE5M}{{{f}}} > 0)"), "")]).size(4, 4),
            ]),
            row("By store", vec![
                Panel::new(Kind::TimeSeries, "Revenue per minute by store", vec![by_store(m::APP_REVENUE_TOTAL, " * 60")])
                    .link("Store dashboard", STORE_DASHBOARD_BY_LABEL),
                Panel::new(Kind::TimeSeries, "Items sold per minute by store", vec![by_store(m::APP_ITEMS_SOLD_TOTAL, " * 60")]),
                Panel::new(Kind::TimeSeries, "Error ratio (5xx) by store", vec![prom(format!(
                    "max by (store_id) ({}{{{f}}})", errors_ratio("5m")), "{{store_id}}")]).unit("percentunit"),
                Panel::new(Kind::TimeSeries, "p95 latency by store", vec![prom(
                    format!("histogram_quantile(0.95, sum by (le, store_id) (rate({bucket}{{{f}}}[$__rate_interval])))"), "{{store_id}}")]).unit("s").exemplars(),
            ]),
            row("Health", vec![
                Panel::new(Kind::Table, "Instances", vec![
                    prom_now(format!("sum by (store_id, pod) (rate({count}{{{f}}}[5m]))"), "requests/s"),
                    prom_now(format!("histogram_quantile(0.95, sum by (le, store_id, pod) (rate({bucket}{{{f}}}[5m])))"), "p95 s"),
                    prom_now(format!("max by (store_id, pod) ({}{{{f}}})", m::PROCESS_RESIDENT_MEMORY_BYTES), "memory"),
                ]).size(14, 9).link("Store dashboard", STORE_DASHBOARD_BY_FIELD),
                Panel::new(Kind::Table, "Firing alerts", vec![prom_now(
                    r#"ALERTS{alertstate="firing", alertname=~"Store.*", namespace=~"$namespace"}"#, "")]).size(10, 9)
                    .describe("Store alerts firing now; empty while every store is healthy."),
            ]),
        ],
    }
}
