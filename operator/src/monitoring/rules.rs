//! The Prometheus rules of the fleet, and the series each Store contributes.
//!
//! The rules are the fleet's, written once and evaluated over every Store
//! (`sum by (namespace, store_id, ...)`): per-pod sums of the request
//! counters, the SLI ratios per window, and the alerts. A Store contributes
//! no rule: the operator serves its objectives and facts as series at its
//! own `/metrics`, from its watch cache ([`Target::exported`]:
//! [`EXPORTED_OBJECTIVE`], [`EXPORTED_INFO`]), and two fleet rules record
//! them under the Store's `namespace` ([`OBJECTIVE`], [`INFO`]). The alerts
//! join both on `namespace, store_id`, so per-Store thresholds differ side
//! by side, an objective change takes effect at the next scrape and
//! evaluation and writes no object, and the rule count does not grow with
//! the fleet (40 at most).
//!
//! Why per-pod sums first: every window's `rate()` then reads one series per
//! pod (per bucket for latency) instead of one per route, method and status
//! code, and a counter reset stays a reset of that pod. Monitoring-mixin
//! style: one `Store` prefix, `severity`, `summary`, `description`,
//! `runbook_url`.

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

/// One row of the SRE workbook's burn-rate table (ch. 5, "Multiwindow,
/// Multi-Burn-Rate Alerts"): alert when `budget_share` of the SLO window's
/// error budget is spent within `long` (and still being spent over `short`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BurnRate {
    /// The long window, e.g. `1h`.
    pub long: &'static str,
    /// The short window, 1/12 of the long one.
    pub short: &'static str,
    /// `long` in hours.
    pub long_hours: f64,
    /// Share of the whole window's budget spent within `long` (0.02: 2 %).
    pub budget_share: f64,
    /// `critical` pages, `warning` opens a ticket.
    pub severity: &'static str,
}

impl BurnRate {
    /// The burn factor for an SLO window of `window_days`: how many times
    /// faster than "exactly the budget over the window" the budget burns
    /// when `budget_share` of it goes in `long` (14.4 for 2 % in 1h of 30
    /// days).
    pub fn factor(&self, window_days: u32) -> f64 {
        // Rounded to 1e-9: 0.02 * 720 is 14.400000000000002 in floats.
        (self.budget_share * f64::from(window_days) * 24.0 / self.long_hours * 1e9).round() / 1e9
    }
}

/// The workbook's four rows: two page, two open a ticket. No `for`: the
/// short window already ends an alert soon after the burn stops and keeps a
/// blip from firing, and a `for` would page later than Sloth's alerts (which
/// have none) for nothing; the minimum-events guard keeps quiet stores quiet.
pub const BURN_RATES: [BurnRate; 4] = [
    BurnRate {
        long: "1h",
        short: "5m",
        long_hours: 1.0,
        budget_share: 0.02,
        severity: "critical",
    },
    BurnRate {
        long: "6h",
        short: "30m",
        long_hours: 6.0,
        budget_share: 0.05,
        severity: "critical",
    },
    BurnRate {
        long: "1d",
        short: "2h",
        long_hours: 24.0,
        budget_share: 0.10,
        severity: "warning",
    },
    BurnRate {
        long: "3d",
        short: "6h",
        long_hours: 72.0,
        budget_share: 0.10,
        severity: "warning",
    },
];

/// Recorded ratio of failed (5xx) API requests over a window, by
/// `namespace, store_id`.
pub fn errors_ratio(window: &str) -> String {
    format!("storeops:slo_errors:ratio_rate{window}")
}

/// Recorded ratio of API requests slower than the Store's latency threshold
/// over a window, by `namespace, store_id`.
pub fn slow_ratio(window: &str) -> String {
    format!("storeops:slo_latency_slow:ratio_rate{window}")
}

/// Recorded API request rate (per second) over 5 minutes, by `namespace, store_id`.
pub const REQUESTS_RATE5M: &str = "storeops:http_requests:rate5m";

/// Recorded per-pod sum of the API request counter (a counter: read it with
/// `rate()`), by `namespace, store_id, pod, instance`.
pub const POD_REQUESTS: &str = "storeops_pod:http_requests:sum";
/// The same, of the failed (5xx) requests.
pub const POD_ERRORS: &str = "storeops_pod:http_requests_errors:sum";
/// The same, of the request duration histogram's buckets, by `le` too
/// (for quantiles: the p95 alert and the dashboards).
pub const POD_BUCKETS: &str = "storeops_pod:http_request_duration_seconds_bucket:sum";
/// The same, of the requests within the Store's latency threshold: the one
/// bucket of [`POD_BUCKETS`] its objective selects, keeping that `le`. The
/// slow ratios read this one series per pod, not all 15 buckets. When a
/// threshold changes, the old `le`'s series ends and the new one's begins:
/// a window then sums both, each request judged by the threshold in force
/// when it was served.
pub const POD_WITHIN_THRESHOLD: &str = "storeops_pod:http_requests_within_threshold:sum";
/// [`POD_REQUESTS`] where the Store has a latency threshold: the slow
/// ratios' denominator, recorded from the same evaluations as
/// [`POD_WITHIN_THRESHOLD`]. A Store's rules load after its pods are first
/// scraped; over all requests, the requests served before would count as
/// slow for as long as they stay in a window (hours of false burn).
pub const POD_JUDGED: &str = "storeops_pod:http_requests_judged:sum";

/// A Store's objectives, one series each, told apart by the `objective`
/// label (and `le`, `long` where named), labelled `namespace, store_id`:
/// recorded by the fleet from [`EXPORTED_OBJECTIVE`].
pub const OBJECTIVE: &str = "storeops:store:objective";
/// A Store's facts, value 1, labelled `namespace, store_id` and
/// [`INFO_LABELS`]: recorded by the fleet from [`EXPORTED_INFO`].
pub const INFO: &str = "storeops:store:info";

/// What the operator serves at `/metrics` for each Store whose alerts are
/// on: [`OBJECTIVE`]'s series with [`STORE_NAMESPACE`] for `namespace`
/// (the scrape sets `namespace` to the operator's own, and a Prometheus
/// enforcing a namespace label would too).
pub const EXPORTED_OBJECTIVE: &str = "storeops_store_objective";
/// The same of [`INFO`], with [`STORE_JOB`] for `job` as well.
pub const EXPORTED_INFO: &str = "storeops_store_info";
/// The Stores whose objectives the operator serves: present only while it
/// leads and its watch caches are synced. While it is absent (the operator
/// restarting, failing over, or not scraped) the fleet keeps the objectives
/// it last recorded, so no alert resolves or goes silent for that.
pub const EXPORTED_STORES: &str = "storeops_objective_stores";
/// The label of the exported series holding the Store's namespace.
pub const STORE_NAMESPACE: &str = "store_namespace";
/// The label of [`EXPORTED_INFO`] holding the Store's scrape job.
pub const STORE_JOB: &str = "store_job";
/// The labels of [`INFO`]: the scrape job (the Service), the Deployment, the
/// runbooks' base URL, and whether Prometheus scrapes it (`true`/`false`).
pub const INFO_LABELS: [&str; 4] = ["job", "deployment", "runbook_base", "scraped"];

/// The values of the `objective` label of [`OBJECTIVE`].
pub mod objective {
    /// `spec.monitoring.alerts.slo.availabilityTarget`, e.g. 0.995.
    pub const AVAILABILITY_TARGET: &str = "availability_target";
    /// `spec.monitoring.alerts.slo.latencyTarget`, e.g. 0.99.
    pub const LATENCY_TARGET: &str = "latency_target";
    /// `spec.monitoring.alerts.slo.latencyThresholdSeconds`, with the `le`
    /// label of the histogram bucket it selects.
    pub const LATENCY_THRESHOLD_SECONDS: &str = "latency_threshold_seconds";
    /// `spec.monitoring.alerts.slo.windowDays`: the SLO window in days.
    pub const WINDOW_DAYS: &str = "window_days";
    /// `spec.monitoring.alerts.slo.minEvents`: the fewest API requests in
    /// an alert's long window for it to fire.
    pub const MIN_EVENTS: &str = "min_events";
    /// The burn factor of each row of the burn-rate table, with its `long`
    /// window as a label (it follows from the SLO window).
    pub const BURN_FACTOR: &str = "burn_factor";
    /// `spec.monitoring.alerts.lowStockThreshold`.
    pub const LOW_STOCK_THRESHOLD: &str = "low_stock_threshold";
}

/// Routes that are not the store's API: probes and the metrics scrape.
pub const NOT_API: &str = "/livez|/readyz|/metrics";

/// The base of runbook links when the Store names none.
pub const DEFAULT_RUNBOOK_BASE: &str =
    "https://github.com/storeops/storeops/blob/main/docs/runbooks";

/// What the rules of one Store are about: read from its spec.
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
    /// The SLO window in days (30 by default).
    pub window_days: u32,
    /// The fewest API requests in an alert's long window for a burn-rate,
    /// error or latency alert to fire.
    pub min_events: u32,
    /// Products at or below this stock are low.
    pub low_stock_threshold: i64,
    /// Base URL of the runbooks.
    pub runbook_base: String,
    /// Prometheus scrapes the store (a ServiceMonitor is applied): only then
    /// can it be missing or down.
    pub scraped: bool,
}

/// One series the operator serves for a Store: its metric, labels, value.
#[derive(Debug, Clone, PartialEq)]
pub struct Exported {
    /// [`EXPORTED_OBJECTIVE`] or [`EXPORTED_INFO`].
    pub metric: &'static str,
    /// Its labels, [`STORE_NAMESPACE`] and `store_id` first.
    pub labels: Vec<(&'static str, String)>,
    /// Its value (1 for the info series).
    pub value: f64,
}

impl Exported {
    /// `metric{<scrape labels>,<labels>}`, as promtool's input series
    /// name it: `scrape` are the labels the operator's scrape adds.
    pub fn selector(&self, scrape: &[(&str, &str)]) -> String {
        let all: Vec<String> = scrape
            .iter()
            .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
            .chain(
                self.labels
                    .iter()
                    .map(|(k, v)| format!("{k}=\"{}\"", escape(v))),
            )
            .collect();
        format!("{}{{{}}}", self.metric, all.join(","))
    }
}

/// [`EXPORTED_STORES`]: the operator serves the objectives of `stores`
/// Stores.
pub fn exported_stores(stores: usize) -> Exported {
    Exported {
        metric: EXPORTED_STORES,
        labels: vec![],
        value: stores as f64,
    }
}

/// The operator's series of `stores` in Prometheus' text format, with
/// [`EXPORTED_STORES`]: what `/metrics` serves of them (and the benchmarks'
/// exporter), one `# TYPE` per metric.
pub fn exposition(stores: &[Target]) -> String {
    let mut out = String::new();
    let all: Vec<Exported> = stores.iter().flat_map(Target::exported).collect();
    for metric in [EXPORTED_OBJECTIVE, EXPORTED_INFO] {
        out.push_str(&format!("# TYPE {metric} gauge\n"));
        for e in all.iter().filter(|e| e.metric == metric) {
            let labels: Vec<String> = e
                .labels
                .iter()
                .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
                .collect();
            out.push_str(&format!("{metric}{{{}}} {:?}\n", labels.join(","), e.value));
        }
    }
    out.push_str(&format!(
        "# TYPE {EXPORTED_STORES} gauge\n{EXPORTED_STORES} {}\n",
        stores.len()
    ));
    out
}

/// A label value as the text format quotes it: `\\`, `\"` and `\n` escaped.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// One series of [`OBJECTIVE`]: the `objective` label, more labels, the value.
#[derive(Debug, Clone, PartialEq)]
pub struct Objective {
    /// The `objective` label: one of [`objective`].
    pub name: &'static str,
    /// Labels beside it (`le`, `long`).
    pub labels: Vec<(&'static str, String)>,
    /// Its value.
    pub value: f64,
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

    /// `namespace="...",store_id="..."`: selects the store's series.
    pub fn matchers(&self) -> String {
        format!(
            r#"namespace="{}",{}="{}""#,
            self.namespace,
            l::STORE_ID,
            self.store_id
        )
    }

    /// The matchers plus the API's (probes and scrapes left out): for the
    /// dashboard's panels by route.
    pub fn api_matchers(&self) -> String {
        format!("{},{}", self.matchers(), api_matcher())
    }

    /// The `le` label value of the latency threshold, as Prometheus stores it.
    pub fn le(&self) -> String {
        format!("{:?}", self.latency_threshold)
    }

    /// The Store's objectives: the series of its [`OBJECTIVE`] rule, and
    /// what the alerts' annotations read back.
    pub fn objectives(&self) -> Vec<Objective> {
        let one = |name, value| Objective {
            name,
            labels: vec![],
            value,
        };
        let mut all = vec![
            one(objective::AVAILABILITY_TARGET, self.availability_target),
            one(objective::LATENCY_TARGET, self.latency_target),
            Objective {
                name: objective::LATENCY_THRESHOLD_SECONDS,
                labels: vec![("le", self.le())],
                value: self.latency_threshold,
            },
            one(objective::WINDOW_DAYS, f64::from(self.window_days)),
            one(objective::MIN_EVENTS, f64::from(self.min_events)),
            one(
                objective::LOW_STOCK_THRESHOLD,
                self.low_stock_threshold as f64,
            ),
        ];
        all.extend(BURN_RATES.iter().map(|b| Objective {
            name: objective::BURN_FACTOR,
            labels: vec![("long", b.long.to_string())],
            value: b.factor(self.window_days),
        }));
        all
    }

    /// The value of the objective `name` (with `long` for the burn factor).
    pub fn objective(&self, name: &str, long: Option<&str>) -> Option<f64> {
        self.objectives()
            .into_iter()
            .find(|o| {
                o.name == name
                    && long.is_none_or(|w| o.labels.iter().any(|(k, v)| *k == "long" && v == w))
            })
            .map(|o| o.value)
    }

    /// The labels of the Store's [`INFO`] series, [`INFO_LABELS`] in order.
    pub fn info(&self) -> [(&'static str, String); 4] {
        [
            ("job", self.job.clone()),
            ("deployment", self.deployment.clone()),
            ("runbook_base", self.runbook_base.clone()),
            ("scraped", self.scraped.to_string()),
        ]
    }

    /// The series the operator serves for this Store: one
    /// [`EXPORTED_OBJECTIVE`] per objective, one [`EXPORTED_INFO`].
    pub fn exported(&self) -> Vec<Exported> {
        let store = || {
            vec![
                (STORE_NAMESPACE, self.namespace.clone()),
                (l::STORE_ID, self.store_id.clone()),
            ]
        };
        let mut all: Vec<Exported> = self
            .objectives()
            .into_iter()
            .map(|o| {
                let mut labels = store();
                labels.push(("objective", o.name.to_string()));
                labels.extend(o.labels);
                Exported {
                    metric: EXPORTED_OBJECTIVE,
                    labels,
                    value: o.value,
                }
            })
            .collect();
        let mut labels = store();
        labels.extend(
            self.info()
                .map(|(k, v)| (if k == "job" { STORE_JOB } else { k }, v)),
        );
        all.push(Exported {
            metric: EXPORTED_INFO,
            labels,
            value: 1.0,
        });
        all
    }
}

fn record(name: &str, expr: String) -> Rule {
    Rule {
        record: Some(name.to_string()),
        expr,
        ..Rule::default()
    }
}

/// `label_replace(<expr>, "<to>", "$1", "<from>", "(.*)")`.
fn relabel(expr: &str, to: &str, from: &str) -> String {
    format!(r#"label_replace({expr}, "{to}", "$1", "{from}", "(.*)")"#)
}

/// The two rules that record the Stores' exported series ([`Target::exported`])
/// as [`OBJECTIVE`] and [`INFO`]: under the Store's `namespace` (and `job`),
/// one series per Store whatever the operator's replicas, and while
/// [`EXPORTED_STORES`] is absent the series last recorded (the rule reads
/// its own result), so an operator restart neither resolves nor silences
/// an alert. A deleted Store's series end with the next scrape.
pub fn objective_rules() -> Vec<Rule> {
    let keep = |recorded: &str| format!("{recorded} unless on () {EXPORTED_STORES}");
    let objective = format!(
        "max by (namespace, {}, objective, le, long) (\n{}\n)\nor\n({})",
        l::STORE_ID,
        relabel(EXPORTED_OBJECTIVE, "namespace", STORE_NAMESPACE),
        keep(OBJECTIVE)
    );
    let info = format!(
        "max by (namespace, {}, {}) (\n{}\n)\nor\n({})",
        l::STORE_ID,
        INFO_LABELS.join(", "),
        relabel(
            &relabel(EXPORTED_INFO, "namespace", STORE_NAMESPACE),
            "job",
            STORE_JOB
        ),
        keep(INFO)
    );
    vec![record(OBJECTIVE, objective), record(INFO, info)]
}

/// `{http_route!~"/livez|/readyz|/metrics"}`'s matcher: the kubelet and
/// Prometheus are not customers, and their requests would dilute the SLIs.
pub fn api_matcher() -> String {
    format!(r#"{}!~"{NOT_API}""#, l::HTTP_ROUTE)
}

/// `sum by (namespace, store_id<, more>) (<inner>)`.
pub fn by_store(more: &str, inner: &str) -> String {
    format!("sum by (namespace, {}{more}) ({inner})", l::STORE_ID)
}

/// `sum by (namespace, store_id) (rate(<recorded>[<window>]))`.
fn store_rate(recorded: &str, window: &str) -> String {
    by_store("", &format!("rate({recorded}[{window}])"))
}

/// The API requests of each store over `window` (a count, for the
/// minimum-events guard), from the per-pod sums.
pub fn requests_in(window: &str) -> String {
    by_store("", &format!("increase({POD_REQUESTS}[{window}])"))
}

/// The fleet's recording rules: the Stores' objectives and facts
/// ([`objective_rules`]), per-pod sums of the API request counters, the 5-minute request rate, and the error and slow ratios per
/// window of [`WINDOWS`]. The slow ratio reads, per store, the bucket of its
/// own threshold ([`POD_WITHIN_THRESHOLD`]) over the requests recorded with
/// it ([`POD_JUDGED`]).
pub fn fleet_sli_rules() -> Vec<Rule> {
    let count = format!("{}_count", m::HTTP_SERVER_REQUEST_DURATION_SECONDS);
    let bucket = format!("{}_bucket", m::HTTP_SERVER_REQUEST_DURATION_SECONDS);
    let per_pod = |le: &str, selector: String| {
        format!(
            "sum by (namespace, {}, pod, instance{le}) ({selector})",
            l::STORE_ID
        )
    };
    let api = api_matcher();
    let mut rules = objective_rules();
    rules.extend([
        record(POD_REQUESTS, per_pod("", format!("{count}{{{api}}}"))),
        // A pod without a single 5xx yet has no 5xx series: `or ... * 0`
        // makes its sum 0 rather than absent (its first failures then count
        // as an increase from 0). The request sums of this evaluation, not
        // the raw series again.
        record(
            POD_ERRORS,
            format!(
                "{}\nor\n{POD_REQUESTS} * 0",
                per_pod(
                    "",
                    format!(
                        r#"{count}{{{api},{}=~"5.."}}"#,
                        l::HTTP_RESPONSE_STATUS_CODE
                    )
                ),
            ),
        ),
        record(POD_BUCKETS, per_pod(", le", format!("{bucket}{{{api}}}"))),
        record(
            POD_WITHIN_THRESHOLD,
            format!(
                r#"{POD_BUCKETS} and on (namespace, {}, le) {OBJECTIVE}{{objective="{}"}}"#,
                l::STORE_ID,
                objective::LATENCY_THRESHOLD_SECONDS
            ),
        ),
        record(
            POD_JUDGED,
            format!(
                r#"{POD_REQUESTS} and on (namespace, {}) {OBJECTIVE}{{objective="{}"}}"#,
                l::STORE_ID,
                objective::LATENCY_THRESHOLD_SECONDS
            ),
        ),
        record(REQUESTS_RATE5M, store_rate(POD_REQUESTS, "5m")),
    ]);
    for w in WINDOWS {
        let all = store_rate(POD_REQUESTS, w);
        rules.push(record(
            &errors_ratio(w),
            format!("{}\n/\n{all}", store_rate(POD_ERRORS, w)),
        ));
        let fast = store_rate(POD_WITHIN_THRESHOLD, w);
        let judged = store_rate(POD_JUDGED, w);
        rules.push(record(
            &slow_ratio(w),
            format!("1 - (\n{fast}\n/\n{judged}\n)"),
        ));
    }
    rules
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The SRE workbook's table (ch. 5, "Multiwindow, Multi-Burn-Rate
    /// Alerts") for its 30-day window: the promtool cases prove the alerts
    /// follow BURN_RATES; this pins BURN_RATES to the book.
    #[test]
    fn burn_rates_are_the_workbooks() {
        let table: Vec<(&str, &str, f64, &str)> = BURN_RATES
            .iter()
            .map(|b| (b.long, b.short, b.factor(30), b.severity))
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
        // A 7-day window spends the same share of a smaller budget: slower burns page.
        assert_eq!(BURN_RATES[0].factor(7), 3.36);
    }

    #[test]
    fn the_fleet_rules_do_not_grow_with_the_fleet_and_a_store_adds_none() {
        // Recording rules: the objectives and facts, 5 per-pod sums, the 5m
        // request rate, 2 ratios per window.
        assert_eq!(fleet_sli_rules().len(), 2 + 6 + 2 * WINDOWS.len());
        let t = Target {
            namespace: "shop".into(),
            store_id: "alpha".into(),
            job: "store-alpha".into(),
            deployment: "store-alpha".into(),
            availability_target: 0.995,
            latency_threshold: 1.0,
            latency_target: 0.99,
            window_days: 30,
            min_events: 20,
            low_stock_threshold: 5,
            runbook_base: DEFAULT_RUNBOOK_BASE.into(),
            scraped: true,
        };
        let text = exposition(std::slice::from_ref(&t));
        assert!(
            text.contains(
                r#"storeops_store_objective{store_namespace="shop",store_id="alpha",objective="latency_threshold_seconds",le="1.0"} 1.0"#
            ),
            "{text}"
        );
        assert!(
            text.contains(r#"storeops_store_info{store_namespace="shop",store_id="alpha",store_job="store-alpha",deployment="store-alpha","#),
            "{text}"
        );
        assert!(text.ends_with("storeops_objective_stores 1\n"), "{text}");
        // Six objectives, a burn factor per row of the table, the info.
        assert_eq!(t.exported().len(), 6 + BURN_RATES.len() + 1);
        assert_eq!(t.objective(objective::BURN_FACTOR, Some("6h")), Some(6.0));
    }
}
