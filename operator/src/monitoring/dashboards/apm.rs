//! Application performance across stores: RED per store and route, the
//! latency heatmap with exemplars, database time and errors, in-flight
//! requests, the service graph and failed traces from Tempo.

use super::FLEET_SOURCE;
use super::names::{bucket, count, l, m};
use super::overview::{FLEET, fleet_variables};
use super::{Dashboard, Kind, Panel, prom, row, traceql};

/// The dashboard.
pub fn dashboard() -> Dashboard {
    let (count, bucket, f) = (count(), bucket(), FLEET);
    let route = l::HTTP_ROUTE;
    Dashboard {
        source: FLEET_SOURCE.into(),
        uid: "storeops-apm".into(),
        title: "storeops / APM".into(),
        tags: vec!["fleet".into()],
        variables: fleet_variables(),
        rows: vec![
            row("RED", vec![
                Panel::new(Kind::TimeSeries, "Requests by store and route", vec![prom(
                    format!("sum by (store_id, {route}) (rate({count}{{{f}}}[$__rate_interval]))"), "{{store_id}} {{http_route}}")]).unit("reqps"),
                Panel::new(Kind::TimeSeries, "Client and server errors by store", vec![prom(
                    format!("sum by (store_id, {c}) (rate({count}{{{f},{c}=~\"4..|5..\"}}[$__rate_interval]))", c = l::HTTP_RESPONSE_STATUS_CODE),
                    "{{store_id}} {{http_response_status_code}}")]).unit("reqps"),
                Panel::new(Kind::Heatmap, "Latency heatmap", vec![prom(
                    format!("sum by (le) (increase({bucket}{{{f}}}[$__rate_interval]))"), "{{le}}")]).exemplars(),
                Panel::new(Kind::TimeSeries, "p99 latency by store and route", vec![prom(
                    format!("histogram_quantile(0.99, sum by (le, store_id, {route}) (rate({bucket}{{{f}}}[$__rate_interval])))"), "{{store_id}} {{http_route}}")]).unit("s").exemplars(),
                Panel::new(Kind::TimeSeries, "In-flight requests", vec![prom(
                    format!("sum by (store_id) ({}{{{f}}})", m::HTTP_SERVER_ACTIVE_REQUESTS), "{{store_id}}")]),
                Panel::new(Kind::TimeSeries, "Errors by code", vec![prom(
                    format!("sum by (store_id, {c}) (rate({}{{{f}}}[$__rate_interval]))", m::APP_ERRORS_TOTAL, c = l::APP_ERROR_CODE), "{{store_id}} {{app_error_code}}")]).unit("reqps"),
            ]),
            row("Database", vec![
                Panel::new(Kind::TimeSeries, "Database p95 by store and operation", vec![prom(
                    format!("histogram_quantile(0.95, sum by (le, store_id, {o}) (rate({}_bucket{{{f}}}[$__rate_interval])))", m::APP_DB_OPERATION_DURATION_SECONDS, o = l::OPERATION),
                    "{{store_id}} {{operation}}")]).unit("s"),
                Panel::new(Kind::TimeSeries, "Database operations per second", vec![prom(
                    format!("sum by (store_id, {o}) (rate({}_count{{{f}}}[$__rate_interval]))", m::APP_DB_OPERATION_DURATION_SECONDS, o = l::OPERATION),
                    "{{store_id}} {{operation}}")]).unit("ops"),
                Panel::new(Kind::TimeSeries, "Database errors", vec![prom(
                    format!("sum by (store_id, {o}) (rate({}{{{f}}}[$__rate_interval]))", m::APP_DB_ERRORS_TOTAL, o = l::OPERATION), "{{store_id}} {{operation}}")])
                    .describe("Failed database operations; flat at zero while the database is healthy."),
            ]),
            row("Traces", vec![
                Panel::new(Kind::NodeGraph, "Service graph", vec![traceql("serviceMap")]).size(12, 10)
                    .describe("From the collector's servicegraph connector (traces_service_graph_*), read in Prometheus."),
                Panel::new(Kind::Traces, "Failed requests", vec![traceql(
                    r#"{resource.service.name="store-service" && status = error}"#)]).size(12, 10),
            ]),
        ],
    }
}
