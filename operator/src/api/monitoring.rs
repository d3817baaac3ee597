//! `spec.monitoring`: the ServiceMonitor, alert rules and dashboards of a store.

use std::collections::BTreeMap;

use kube::{KubeSchema, core::Rule};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use storeops_contract::metrics::HTTP_SERVER_REQUEST_DURATION_BUCKETS as LATENCY_BUCKETS;

use super::syntax::{
    FOLDER_PATTERN, INTERVAL_PATTERN, LABEL_KEY_PATTERN, LABEL_VALUE_PATTERN, MAX_LABELS,
    MSG_LABEL_KEY, MSG_LABEL_VALUE, URL_PATTERN,
};

/// Lowest SLO target (90%).
pub const MIN_TARGET: f64 = 0.9;
/// Highest SLO target (five nines).
pub const MAX_TARGET: f64 = 0.99999;

/// Shortest SLO window (days): longer than the slowest burn-rate window (3 days).
pub const MIN_WINDOW_DAYS: u32 = 7;
/// Longest SLO window (days).
pub const MAX_WINDOW_DAYS: u32 = 90;
/// Largest minimum-events guard.
pub const MAX_MIN_EVENTS: u32 = 1_000_000;

/// The largest `(1 - target) x windowDays` at which a critical burn-rate
/// row can still fire at 100 % errors: a row fires above `factor x budget`,
/// and the factor grows with the window (the 6h row: 0.2 x windowDays), so
/// a loose target over a long window would put every critical threshold
/// above 100 % and a total outage would never page. 5 (days), from the
/// most reachable critical row of the table.
pub fn reachable_budget_days() -> f64 {
    crate::monitoring::rules::BURN_RATES
        .iter()
        .filter(|b| b.severity == "critical")
        .map(|b| (b.long_hours / (b.budget_share * 24.0) * 1e9).round() / 1e9)
        .fold(0.0, f64::max)
}

/// CEL: both targets leave a critical burn-rate row reachable over the window.
pub fn reachable_rule() -> Rule {
    let limit = reachable_budget_days();
    Rule::new(format!(
        "(1.0 - self.availabilityTarget) * double(self.windowDays) < {limit:?} && \
         (1.0 - self.latencyTarget) * double(self.windowDays) < {limit:?}"
    ))
    .message(
        format!(
            "spec.monitoring.alerts.slo: (1 - availabilityTarget) x windowDays and (1 - latencyTarget) x windowDays \
             must be below {limit}, or no critical burn-rate alert could fire even at 100% errors \
             (e.g. over 90 days a target must be above {:.4})",
            1.0 - limit / 90.0
        )
        .as_str(),
    )
}

/// CEL: the latency threshold is a bucket boundary of the request histogram.
pub fn latency_threshold_rule() -> Rule {
    let buckets: Vec<String> = LATENCY_BUCKETS.iter().map(|b| format!("{b:?}")).collect();
    Rule::new(format!("self in [{}]", buckets.join(", "))).message(
        format!(
            "spec.monitoring.alerts.slo.latencyThresholdSeconds must be a bucket boundary of {}: {}",
            storeops_contract::metrics::HTTP_SERVER_REQUEST_DURATION_SECONDS,
            buckets.join(", ")
        )
        .as_str(),
    )
}

/// CEL: an SLO target at `field` (of `spec.monitoring.alerts.slo`) is from
/// [`MIN_TARGET`] to [`MAX_TARGET`]. Beside the schema's own `minimum` and
/// `maximum`, which the API server checks against an integer-valued number
/// with the bound cut to an integer (Kubernetes 1.37: `0` passes `minimum:
/// 0.9`, and `1` is refused as "less than or equal to 0").
pub fn target_range_rule(field: &str) -> Rule {
    Rule::new(format!("self >= {MIN_TARGET:?} && self <= {MAX_TARGET:?}")).message(
        format!("spec.monitoring.alerts.slo.{field} must be from {MIN_TARGET} to {MAX_TARGET}")
            .as_str(),
    )
}

/// Schema of the extra-labels map at `field`: Kubernetes label syntax,
/// checked at admission, the messages naming the field.
fn labels_schema(field: &str) -> schemars::Schema {
    schemars::json_schema!({
        "type": "object",
        "maxProperties": MAX_LABELS,
        "additionalProperties": {"type": "string", "maxLength": 63},
        "x-kubernetes-validations": [
            {"rule": format!("self.all(k, k.matches('{}'))", LABEL_KEY_PATTERN.replace('\\', "\\\\")), "message": format!("{field} {MSG_LABEL_KEY}")},
            {"rule": format!("self.all(k, self[k].matches('{}'))", LABEL_VALUE_PATTERN), "message": format!("{field} {MSG_LABEL_VALUE}")},
        ],
    })
}

fn service_monitor_labels(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    labels_schema("spec.monitoring.serviceMonitor.labels")
}
fn alerts_labels(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    labels_schema("spec.monitoring.alerts.labels")
}
fn dashboards_labels(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    labels_schema("spec.monitoring.dashboards.labels")
}

/// ServiceMonitor, alert rules and dashboards of the store.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Monitoring {
    /// The ServiceMonitor through which Prometheus scrapes the store.
    #[serde(default)]
    pub service_monitor: ServiceMonitorSettings,
    /// The store's SLO and business alerts: its objectives, which the fleet's
    /// PrometheusRule reads.
    #[serde(default)]
    pub alerts: Alerts,
    /// The store's Grafana dashboard (a ConfigMap found by the Grafana sidecar).
    #[serde(default)]
    pub dashboards: Dashboards,
}

/// The ServiceMonitor (monitoring.coreos.com/v1) of the store.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ServiceMonitorSettings {
    /// Create the ServiceMonitor (when the prometheus-operator CRDs exist).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Scrape interval from 1s to 2m, e.g. 30s or 1m30s (minutes before
    /// seconds, as the Prometheus Operator writes durations): every rate()
    /// the alerts take over the store's own series then spans 4 scrapes.
    #[serde(default = "default_interval")]
    #[schemars(regex(pattern = INTERVAL_PATTERN))]
    pub interval: String,
    /// Extra labels of the ServiceMonitor, e.g. the release label a
    /// Prometheus selects ServiceMonitors by.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(schema_with = "service_monitor_labels")]
    pub labels: BTreeMap<String, String>,
}

impl Default for ServiceMonitorSettings {
    fn default() -> Self {
        ServiceMonitorSettings {
            enabled: true,
            interval: default_interval(),
            labels: BTreeMap::new(),
        }
    }
}

/// The store's alerts: the fleet's rules, with its objectives (served at
/// the operator's /metrics).
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Alerts {
    /// Alert on this Store: the operator serves its objectives, which the
    /// fleet's PrometheusRule reads (when the prometheus-operator CRDs exist).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Service level objectives, alerted on with multi-window burn rates.
    #[serde(default)]
    pub slo: Slo,
    /// Alert when a product has this many units or fewer in stock.
    #[serde(default = "default_low_stock")]
    #[schemars(range(min = 0))]
    pub low_stock_threshold: i64,
    /// Base URL of the runbooks; each alert links to `<runbookBaseUrl>/<alertname>.md`.
    /// Unset: the operator's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = URL_PATTERN))]
    pub runbook_base_url: Option<String>,
    /// Deprecated and ignored: the labels of the Store's own PrometheusRule,
    /// which it no longer has (its objectives are served at the operator's
    /// /metrics; the fleet's rule takes the chart's fleetRuleLabels). Kept
    /// so that Stores that set it stay valid.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(schema_with = "alerts_labels")]
    pub labels: BTreeMap<String, String>,
}

impl Default for Alerts {
    fn default() -> Self {
        Alerts {
            enabled: true,
            slo: Slo::default(),
            low_stock_threshold: default_low_stock(),
            runbook_base_url: None,
            labels: BTreeMap::new(),
        }
    }
}

/// Service level objectives of the store over its SLO window (30 days by
/// default). A total outage must be able to page: (1 - target) x windowDays
/// must stay below [`reachable_budget_days`] for both targets.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = reachable_rule())]
pub struct Slo {
    /// Share of requests that must not fail with a 5xx, from 0.9 to 0.99999.
    #[serde(default = "default_availability")]
    #[schemars(range(min = MIN_TARGET, max = MAX_TARGET))]
    #[x_kube(validation = target_range_rule("availabilityTarget"))]
    pub availability_target: f64,
    /// A request slower than this many seconds misses the latency objective.
    /// Must be a bucket boundary of the request duration histogram: 0.005,
    /// 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5 or 10.
    #[serde(default = "default_latency_threshold")]
    #[x_kube(validation = latency_threshold_rule())]
    pub latency_threshold_seconds: f64,
    /// Share of requests that must be faster than latencyThresholdSeconds,
    /// from 0.9 to 0.99999.
    #[serde(default = "default_latency_target")]
    #[schemars(range(min = MIN_TARGET, max = MAX_TARGET))]
    #[x_kube(validation = target_range_rule("latencyTarget"))]
    pub latency_target: f64,
    /// The SLO window in days, from 7 to 90: the error budget is the bad
    /// requests the targets allow over it, and the burn-rate alerts' factors
    /// follow from it (14.4, 6, 3, 1 for 30 days).
    #[serde(default = "default_window_days")]
    #[schemars(range(min = MIN_WINDOW_DAYS, max = MAX_WINDOW_DAYS))]
    pub window_days: u32,
    /// The fewest API requests in a burn-rate, error-rate or latency alert's
    /// long window for it to fire, from 0 (no guard) to 1000000: below it,
    /// one failed request of a quiet store would be a large share of its
    /// requests and page for nothing.
    #[serde(default = "default_min_events")]
    #[schemars(range(max = MAX_MIN_EVENTS))]
    pub min_events: u32,
}

impl Default for Slo {
    fn default() -> Self {
        Slo {
            availability_target: default_availability(),
            latency_threshold_seconds: default_latency_threshold(),
            latency_target: default_latency_target(),
            window_days: default_window_days(),
            min_events: default_min_events(),
        }
    }
}

/// The store's Grafana dashboard.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Dashboards {
    /// Create the dashboard ConfigMap.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Grafana folder of the dashboard: 1 to 100 characters, no `/`, `\`
    /// or control characters, not starting with `.` (Grafana's sidecar makes
    /// it a directory name, so `..` or `a/b` would leave its folder).
    #[serde(default = "default_folder")]
    #[schemars(length(min = 1, max = 100), regex(pattern = FOLDER_PATTERN))]
    pub folder: String,
    /// Extra labels of the dashboard ConfigMap.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(schema_with = "dashboards_labels")]
    pub labels: BTreeMap<String, String>,
}

impl Default for Dashboards {
    fn default() -> Self {
        Dashboards {
            enabled: true,
            folder: default_folder(),
            labels: BTreeMap::new(),
        }
    }
}

fn yes() -> bool {
    true
}
fn default_interval() -> String {
    "30s".to_string()
}
fn default_low_stock() -> i64 {
    5
}
fn default_availability() -> f64 {
    0.995
}
fn default_latency_threshold() -> f64 {
    0.25
}
fn default_latency_target() -> f64 {
    0.99
}
fn default_window_days() -> u32 {
    30
}
fn default_min_events() -> u32 {
    20
}
fn default_folder() -> String {
    "Stores".to_string()
}
