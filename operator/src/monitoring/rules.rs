//! The Prometheus rules of one Store: SLI recording rules per window, the
//! multi-window multi-burn-rate SLO alerts of the SRE workbook, and the
//! store's operational and business alerts. Monitoring-mixin style: one
//! `Store` prefix, `severity`, `summary`, `description`, `runbook_url`.
//!
//! Every series is selected by `namespace` and `store_id`, so two Stores
//! never see each other's traffic; every alert carries both as labels.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use storeops_contract::{labels as l, metrics as m};

/// A Prometheus rule group, as in a rules file or a PrometheusRule's spec.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct RuleGroup {
    /// Unique within the PrometheusRule.
    pub name: String,
    /// Its recording and alerting rules.
    pub rules: Vec<Rule>,
}

/// One recording (`record`) or alerting (`alert`) rule.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct Rule {
    /// Name of the recorded series.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<String>,
    /// Name of the alert.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alert: Option<String>,
    /// PromQL.
    pub expr: String,
    /// How long the condition must hold before the alert fires.
    #[serde(rename = "for", skip_serializing_if = "Option::is_none")]
    pub for_: Option<String>,
    /// Labels added to the result.
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub labels: BTreeMap<String, String>,
    /// summary, description, runbook_url.
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub annotations: BTreeMap<String, String>,
}

/// The windows of the SLI recording rules.
pub const WINDOWS: [&str; 7] = ["5m", "30m", "1h", "2h", "6h", "1d", "3d"];

/// The SRE workbook's burn-rate alerts: (long window, short window, burn
/// factor, for, severity). Two page, two open a ticket.
pub const BURN_RATES: [(&str, &str, f64, &str, &str); 4] = [
    ("1h", "5m", 14.4, "2m", "critical"),
    ("6h", "30m", 6.0, "15m", "critical"),
    ("1d", "2h", 3.0, "1h", "warning"),
    ("3d", "6h", 1.0, "3h", "warning"),
];

/// Recorded ratio of failed (5xx) requests over a window.
pub fn errors_ratio(window: &str) -> String {
    format!("storeops:slo_errors:ratio_rate{window}")
}

/// Recorded ratio of requests slower than the latency threshold over a window.
pub fn slow_ratio(window: &str) -> String {
    format!("storeops:slo_latency_slow:ratio_rate{window}")
}

/// Recorded request rate (per second) over a window.
pub fn requests_rate(window: &str) -> String {
    format!("storeops:http_requests:rate{window}")
}

/// Routes that are not the store's API: probes and the metrics scrape.
pub const NOT_API: &str = "/livez|/readyz|/metrics";

/// The base of runbook links when the Store names none.
pub const DEFAULT_RUNBOOK_BASE: &str =
    "https://github.com/storeops/storeops/blob/main/docs/runbooks";

/// What the rules of one Store are about.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// The Store's namespace (the `namespace` label Prometheus gives its series).
    pub namespace: String,
    /// The store id (the `store_id` label of every series).
    pub store_id: String,
    /// The scrape job: the Service's name.
    pub job: String,
    /// The store's Deployment; its ReplicaSets are `<deployment>-<hash>`.
    pub deployment: String,
    /// Availability objective, e.g. 0.995.
    pub availability_target: f64,
    /// Latency threshold in seconds (a bucket boundary).
    pub latency_threshold: f64,
    /// Share of requests that must be faster than the threshold.
    pub latency_target: f64,
    /// Products at or below this stock are low.
    pub low_stock_threshold: i64,
    /// Base URL of the runbooks.
    pub runbook_base: String,
    /// Prometheus scrapes the store (a ServiceMonitor is applied): only then
    /// can it be missing or down.
    pub scraped: bool,
}

impl Target {
    /// A name of one of the store's pods as Kubernetes makes it, for test
    /// series: the ReplicaSet's name and `-` cut to 58 characters (so a long
    /// Store name loses the pod-template hash and more), then 5 random
    /// characters. Rules cannot match pods by name for this reason.
    pub fn example_pod(&self) -> String {
        let mut prefix = format!("{}-7d9c5b6f4-", self.deployment);
        prefix.truncate(58);
        format!("{prefix}x2v8k")
    }

    /// `namespace="...",store_id="..."`: the matchers of every query.
    pub fn matchers(&self) -> String {
        format!(
            r#"namespace="{}",{}="{}""#,
            self.namespace,
            l::STORE_ID,
            self.store_id
        )
    }

    /// The matchers plus the exclusion of probes and scrapes: the kubelet and
    /// Prometheus are not customers, and their requests would dilute the SLIs.
    pub fn api_matchers(&self) -> String {
        format!(r#"{},{}!~"{NOT_API}""#, self.matchers(), l::HTTP_ROUTE)
    }

    /// `sum by (namespace, store_id) (<inner>)`.
    fn sum(&self, inner: &str) -> String {
        format!("sum by (namespace, {}) ({inner})", l::STORE_ID)
    }

    fn rate(&self, metric: &str, extra: &str, window: &str) -> String {
        let sep = if extra.is_empty() { "" } else { "," };
        self.sum(&format!(
            "rate({metric}{{{}{sep}{extra}}}[{window}])",
            self.api_matchers()
        ))
    }

    /// The `le` label value of the latency threshold, as Prometheus stores it.
    fn le(&self) -> String {
        format!("{:?}", self.latency_threshold)
    }
}

fn record(name: String, expr: String) -> Rule {
    Rule {
        record: Some(name),
        expr,
        ..Rule::default()
    }
}

/// The SLI recording rules: request rate, error ratio and slow ratio per
/// window of [`WINDOWS`].
pub fn sli_rules(t: &Target) -> Vec<Rule> {
    let count = format!("{}_count", m::HTTP_SERVER_REQUEST_DURATION_SECONDS);
    let bucket = format!("{}_bucket", m::HTTP_SERVER_REQUEST_DURATION_SECONDS);
    let errors = format!(r#"{}=~"5..""#, l::HTTP_RESPONSE_STATUS_CODE);
    let fast = format!(r#"le="{}""#, t.le());
    let mut rules = Vec::new();
    for w in WINDOWS {
        let all = t.rate(&count, "", w);
        rules.push(record(requests_rate(w), all.clone()));
        // Without a single 5xx the numerator has no series; `or ... * 0`
        // makes a healthy store's ratio 0 rather than absent.
        rules.push(record(
            errors_ratio(w),
            format!(
                "(\n{}\nor\n{all} * 0\n)\n/\n{all}",
                t.rate(&count, &errors, w)
            ),
        ));
        rules.push(record(
            slow_ratio(w),
            format!("1 - (\n{}\n/\n{all}\n)", t.rate(&bucket, &fast, w)),
        ));
    }
    rules
}

#[cfg(test)]
mod tests {
    use super::BURN_RATES;

    /// The SRE workbook's table (ch. 5, "Multiwindow, Multi-Burn-Rate
    /// Alerts"): the promtool cases prove the rules follow BURN_RATES; this
    /// pins BURN_RATES to the book.
    #[test]
    fn burn_rates_are_the_workbooks() {
        let table: Vec<(&str, &str, f64, &str)> = BURN_RATES
            .iter()
            .map(|(long, short, factor, _, severity)| (*long, *short, *factor, *severity))
            .collect();
        assert_eq!(
            table,
            [
                ("1h", "5m", 14.4, "critical"),
                ("6h", "30m", 6.0, "critical"),
                ("1d", "2h", 3.0, "warning"),
                ("3d", "6h", 1.0, "warning"),
            ]
        );
    }
}
