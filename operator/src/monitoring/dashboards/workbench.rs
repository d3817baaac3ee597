//! The troubleshooting workbench: paste a trace id (from an exemplar, a log
//! line, an alert) and pick a store; see the trace, the logs of that trace,
//! and the store's metrics around it.

use super::FLEET_SOURCE;
use super::names::{bucket, count, l};
use super::{Dashboard, Kind, Panel, Variable, logql, prom, row, traceql};

/// The dashboard.
pub fn dashboard() -> Dashboard {
    let (count, bucket) = (count(), bucket());
    let s = r#"store_id="$store_id""#;
    Dashboard {
        source: FLEET_SOURCE.into(),
        uid: "storeops-workbench".into(),
        title: "storeops / Troubleshooting workbench".into(),
        tags: vec!["fleet".into()],
        variables: vec![
            Variable::Text("trace_id", "Trace id"),
            Variable::LabelValues("store_id", l::STORE_ID, count.clone(), false),
        ],
        rows: vec![
            row("The trace", vec![
                Panel::new(Kind::Traces, "Trace", vec![traceql("${trace_id}")]).size(24, 12),
                Panel::new(Kind::Logs, "Logs of the trace", vec![logql(trace_logs("${trace_id}"))]).size(24, 8),
            ]),
            row("The store around it", vec![
                Panel::new(Kind::TimeSeries, "Latency p95 and p99 (exemplars link traces)", vec![
                    prom(format!("histogram_quantile(0.95, sum by (le) (rate({bucket}{{{s}}}[$__rate_interval])))"), "p95"),
                    prom(format!("histogram_quantile(0.99, sum by (le) (rate({bucket}{{{s}}}[$__rate_interval])))"), "p99"),
                ]).unit("s").exemplars(),
                Panel::new(Kind::TimeSeries, "Responses by status", vec![prom(
                    format!("sum by ({c}) (rate({count}{{{s}}}[$__rate_interval]))", c = l::HTTP_RESPONSE_STATUS_CODE), "{{http_response_status_code}}")]).unit("reqps"),
                Panel::new(Kind::Logs, "Warnings and errors of the store", vec![logql(
                    r#"{service_name="store-service", store_id="$store_id"} | detected_level=~"warn|error""#)]).size(12, 10),
                Panel::new(Kind::Traces, "Failed traces of the store", vec![traceql(
                    r#"{resource.store.id="$store_id" && status = error}"#)]).size(12, 10),
            ]),
        ],
    }
}

/// LogQL: every log line of one trace.
pub fn trace_logs(trace_id: &str) -> String {
    format!(r#"{{service_name="store-service"}} | trace_id="{trace_id}""#)
}
