//! Every alert of the fleet, each with the promtool cases that prove it:
//! input series of several Stores under which it fires for some (with the
//! labels, value and annotations it must fire with) and stays quiet for the
//! others. An alert cannot be added without its proof; `promtool test
//! rules` runs them all (`promtool.rs`).
//!
//! The rules are written once for every Store: a Store's thresholds are its
//! objective series ([`super::rules::objective_rules`]), joined `on
//! (namespace, store_id)`, and its annotations read them back with the
//! template function `query`. So an alert names its store, objective and
//! runbook as it did when each Store had rules of its own.
//!
//! A proof is written for one Store (`StoreCases`) and run for several
//! at once (`Alert::prove`), only with the `proofs` feature, which the
//! operator's own tests turn on: the released binary never builds the series.

use std::collections::BTreeMap;

use storeops_contract::{labels as l, metrics as m};

#[cfg(feature = "proofs")]
use super::proof::{Case, Proof};
use super::proof::{Expected, Series, go_g4, humanize_percentage, render};
use super::rules::{
    BURN_RATES, INFO, OBJECTIVE, POD_BUCKETS, Rule, Target, by_store, errors_ratio, objective,
    requests_in, slow_ratio,
};

/// Every alert's name, written out so that a name read on a page or in a
/// runbook greps to its code; all start with `Store`.
pub mod names {
    /// 5xx responses spend the availability budget too fast.
    pub const AVAILABILITY_BUDGET_BURN: &str = "StoreAvailabilityBudgetBurn";
    /// Slow requests spend the latency budget too fast.
    pub const LATENCY_BUDGET_BURN: &str = "StoreLatencyBudgetBurn";
    /// Prometheus cannot scrape a pod.
    pub const DOWN: &str = "StoreDown";
    /// Prometheus has no target for the store.
    pub const TARGET_MISSING: &str = "StoreTargetMissing";
    /// More than 5% of requests fail.
    pub const ERROR_RATE_SPIKE: &str = "StoreErrorRateSpike";
    /// The p95 latency is above the threshold.
    pub const HIGH_LATENCY_P95: &str = "StoreHighLatencyP95";
    /// A product's stock is low.
    pub const LOW_STOCK: &str = "StoreLowStock";
    /// Many purchases are refused for lack of stock.
    pub const INSUFFICIENT_STOCK_SURGE: &str = "StoreInsufficientStockSurge";
    /// Requests arrive but nothing sells.
    pub const SALES_STOPPED: &str = "StoreSalesStopped";
    /// A container restarts repeatedly.
    pub const POD_RESTARTING: &str = "StorePodRestarting";
    /// The service drops telemetry.
    pub const TELEMETRY_DROPPING: &str = "StoreTelemetryDropping";

    /// Every alert, in the order the PrometheusRule holds them.
    pub const ALL: [&str; 11] = [
        AVAILABILITY_BUDGET_BURN,
        LATENCY_BUDGET_BURN,
        DOWN,
        TARGET_MISSING,
        ERROR_RATE_SPIKE,
        HIGH_LATENCY_P95,
        LOW_STOCK,
        INSUFFICIENT_STOCK_SURGE,
        SALES_STOPPED,
        POD_RESTARTING,
        TELEMETRY_DROPPING,
    ];
}

/// The cases of one alert for one Store: series that fire it (and what
/// fires), series that keep it quiet, and more cases where some of its rules
/// fire; all looked at `eval_time`.
pub struct StoreCases {
    /// When to evaluate, e.g. `4h`.
    pub eval_time: &'static str,
    /// Series under which it fires, and what fires.
    pub fires: (Vec<Series>, Vec<Expected>),
    /// Series under which nothing of its name fires.
    pub quiet: Vec<Series>,
    /// More cases, each series and what fires.
    pub more: Vec<(Vec<Series>, Vec<Expected>)>,
}

/// Builds the cases of an alert (from its rules) for one Store.
type CasesFn = fn(&Target, &[Rule]) -> StoreCases;

/// An alert: one name, one or more rules, and its proof (built with the
/// `proofs` feature).
pub struct Alert {
    /// The rules that raise it (the burn-rate alerts have one per window pair).
    pub rules: Vec<Rule>,
    #[cfg(feature = "proofs")]
    cases: CasesFn,
}

/// An alert with its proof built (`Alert::prove`).
#[cfg(feature = "proofs")]
#[derive(Debug, Clone)]
pub struct Proven {
    /// The rules that raise it.
    pub rules: Vec<Rule>,
    /// Its cases.
    pub proof: Proof,
}

impl Alert {
    /// Every alert is written with its proof; without the `proofs` feature
    /// the cases are not kept.
    fn new(rules: Vec<Rule>, cases: CasesFn) -> Self {
        #[cfg(not(feature = "proofs"))]
        let _ = cases;
        Alert {
            rules,
            #[cfg(feature = "proofs")]
            cases,
        }
    }

    /// The alert's name.
    pub fn name(&self) -> &str {
        name(&self.rules)
    }

    /// Builds the proof over `stores` together, in one series set each:
    /// every store's firing series at once (each fires, with its own labels,
    /// values and annotations), every store's quiet series, each store firing
    /// while the others stay quiet, and the further cases of all stores.
    #[cfg(feature = "proofs")]
    pub fn prove(self, stores: &[Target]) -> Proven {
        let per_store: Vec<StoreCases> = stores
            .iter()
            .map(|t| (self.cases)(t, &self.rules))
            .collect();
        let eval_time = per_store[0].eval_time;
        let case = |parts: Vec<&(Vec<Series>, Vec<Expected>)>| Case {
            series: parts.iter().flat_map(|p| p.0.clone()).collect(),
            eval_time: eval_time.into(),
            expected: parts.iter().flat_map(|p| p.1.clone()).collect(),
        };
        let quiet: Vec<(Vec<Series>, Vec<Expected>)> = per_store
            .iter()
            .map(|c| (c.quiet.clone(), vec![]))
            .collect();
        let mut more: Vec<Case> = (0..per_store.len())
            .map(|k| {
                case(
                    (0..per_store.len())
                        .map(|i| {
                            if i == k {
                                &per_store[i].fires
                            } else {
                                &quiet[i]
                            }
                        })
                        .collect(),
                )
            })
            .collect();
        for i in 0..per_store[0].more.len() {
            more.push(case(per_store.iter().map(|c| &c.more[i]).collect()));
        }
        Proven {
            proof: Proof {
                fires: case(per_store.iter().map(|c| &c.fires).collect()),
                quiet: case(quiet.iter().collect()),
                more,
            },
            rules: self.rules,
        }
    }
}

#[cfg(feature = "proofs")]
impl Proven {
    /// The alert's name.
    pub fn name(&self) -> &str {
        name(&self.rules)
    }
}

fn name(rules: &[Rule]) -> &str {
    rules[0].alert.as_deref().unwrap_or_default()
}

/// Every alert of the fleet, in [`names::ALL`]'s order.
pub fn alerts() -> Vec<Alert> {
    vec![
        burn_rate(Sli::Availability),
        burn_rate(Sli::Latency),
        store_down(),
        target_missing(),
        error_rate_spike(),
        high_latency(),
        low_stock(),
        insufficient_stock_surge(),
        sales_stopped(),
        pod_restarting(),
        telemetry_dropping(),
    ]
}

/// `{{ ... }}` reading the Store's objective `name` (of the burn-rate row
/// `long`) back from its series, formatted by `format` (a template function:
/// `printf "%g"`, `humanizePercentage`, ...).
fn objective_text(name: &str, long: Option<&str>, format: &str) -> String {
    let long = long.map(|w| format!(r#",long="{w}""#)).unwrap_or_default();
    format!(
        r#"{{{{ printf `{OBJECTIVE}{{namespace="%s",{}="%s",objective="{name}"{long}}}` $labels.namespace $labels.{} | query | first | value | {format} }}}}"#,
        l::STORE_ID,
        l::STORE_ID
    )
}

/// `{{ ... }}` reading the Store's runbook base URL from its info series.
fn runbook_base_text() -> String {
    format!(
        r#"{{{{ printf `{INFO}{{namespace="%s",{}="%s"}}` $labels.namespace $labels.{} | query | first | label "runbook_base" }}}}"#,
        l::STORE_ID,
        l::STORE_ID
    )
}

/// What `{{ <action> }}` of [`objective_text`] or [`runbook_base_text`]
/// renders to for the Store `t`, as Prometheus renders it.
pub fn lookup(t: &Target, action: &str) -> Option<String> {
    if action.contains(INFO) {
        return Some(t.runbook_base.clone());
    }
    let quoted = |key: &str| {
        let start = action.find(&format!(r#"{key}=""#))? + key.len() + 2;
        Some(action[start..].split('"').next()?.to_string())
    };
    let value = t.objective(&quoted("objective")?, quoted("long").as_deref())?;
    Some(match action.rsplit("| ").next()?.trim() {
        "humanizePercentage" => humanize_percentage(value),
        r#"printf "%.4g""# => go_g4(value),
        r#"printf "%.0f""# => format!("{value:.0}"),
        r#"printf "%g""# => format!("{value}"),
        _ => return None,
    })
}

/// `and on (namespace, store_id)` the Store's info: only Stores the
/// operator gives rules alert.
fn known() -> String {
    format!("and on (namespace, {}) {INFO}", l::STORE_ID)
}

/// The Store's objective series `name` (of the burn-rate row `long`).
fn objective_series(name: &str, long: Option<&str>) -> String {
    let long = long.map(|w| format!(r#",long="{w}""#)).unwrap_or_default();
    format!(r#"{OBJECTIVE}{{objective="{name}"{long}}}"#)
}

/// `<lhs> <op> on (namespace, store_id) group_left () <the objective>`.
fn against(lhs: &str, op: &str, rhs: &str) -> String {
    format!(
        "{lhs} {op} on (namespace, {}) group_left () {rhs}",
        l::STORE_ID
    )
}

/// The minimum-events guard: at least the Store's `min_events` API requests
/// in `window`, so that one failed request of a quiet store pages no one.
fn enough_events(window: &str) -> String {
    format!(
        "and on (namespace, {}) (\n{}\n)",
        l::STORE_ID,
        against(
            &requests_in(window),
            ">=",
            &objective_series(objective::MIN_EVENTS, None)
        )
    )
}

/// Builds one alerting rule with the common labels and annotations. The
/// texts may use `{{ $value | humanize }}`, `{{ $value | humanizePercentage
/// }}`, `{{ $labels.<name> }}` of the result labels and [`objective_text`].
fn rule(
    name: &str,
    expr: String,
    for_: &str,
    severity: &str,
    summary: String,
    description: String,
) -> Rule {
    let annotations = BTreeMap::from([
        ("summary".to_string(), summary),
        ("description".to_string(), description),
        (
            "runbook_url".to_string(),
            format!("{}/{name}.md", runbook_base_text()),
        ),
    ]);
    Rule {
        alert: Some(name.to_string()),
        expr,
        for_: Some(for_.to_string()),
        labels: BTreeMap::from([("severity".to_string(), severity.to_string())]),
        annotations,
        ..Rule::default()
    }
}

/// `Store {{ $labels.store_id }}` and ` in {{ $labels.namespace }}`, for texts.
const STORE: &str = "store {{ $labels.store_id }} in {{ $labels.namespace }}";

/// What a firing alert of rule `r` for Store `t` carries: the labels of the
/// result (`result`) and the rule's, and the annotations rendered with them,
/// `value` and `t`'s objectives.
fn expect(t: &Target, r: &Rule, result: &[(&str, &str)], value: f64) -> Expected {
    let mut labels: BTreeMap<String, String> = result
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    labels.extend(r.labels.clone());
    let annotations = r
        .annotations
        .iter()
        .map(|(k, v)| (k.clone(), render(v, &labels, value, &|a| lookup(t, a))))
        .collect();
    Expected {
        labels,
        value,
        annotations,
    }
}

/// The result labels of a per-store aggregation: `namespace, store_id`.
fn of_store(t: &Target) -> [(&str, &str); 2] {
    [
        ("namespace", t.namespace.as_str()),
        (l::STORE_ID, t.store_id.as_str()),
    ]
}

/// The cases of an alert of one rule that fires once, with `value` and the
/// labels `result`, on `fires`, and stays quiet on `quiet`.
fn once(
    t: &Target,
    r: &Rule,
    eval_time: &'static str,
    fires: Vec<Series>,
    result: &[(&str, &str)],
    value: f64,
    quiet: Vec<Series>,
) -> StoreCases {
    StoreCases {
        eval_time,
        fires: (fires, vec![expect(t, r, result, value)]),
        quiet,
        more: vec![],
    }
}

/// Labels of a store's scraped series, as the ServiceMonitor gives them.
fn scraped(t: &Target) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("namespace".to_string(), t.namespace.clone()),
        (l::STORE_ID.to_string(), t.store_id.clone()),
        ("job".to_string(), t.job.clone()),
        ("pod".to_string(), t.example_pod()),
        ("instance".to_string(), "10.244.0.7:8080".to_string()),
    ])
}

/// `metric{scraped labels, extra}` with promtool `values`.
fn series(t: &Target, metric: &str, extra: &[(&str, &str)], values: &str) -> Series {
    let mut labels = scraped(t);
    labels.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Series::new(metric, labels, values)
}

/// `metric{scraped labels, extra}` going up by `per_minute` every minute.
fn counter(t: &Target, metric: &str, extra: &[(&str, &str)], per_minute: f64) -> Series {
    series(t, metric, extra, &format!("0+{per_minute}x300"))
}

fn request_labels<'a>(method: &'a str, route: &'a str, code: &'a str) -> [(&'a str, &'a str); 3] {
    [
        (l::HTTP_REQUEST_METHOD, method),
        (l::HTTP_ROUTE, route),
        (l::HTTP_RESPONSE_STATUS_CODE, code),
    ]
}

fn count_metric() -> String {
    format!("{}_count", m::HTTP_SERVER_REQUEST_DURATION_SECONDS)
}

fn requests(t: &Target, code: &str, per_minute: f64) -> Series {
    counter(
        t,
        &count_metric(),
        &request_labels("GET", "/products", code),
        per_minute,
    )
}

fn probes(t: &Target, route: &str, per_minute: f64) -> Series {
    counter(
        t,
        &count_metric(),
        &request_labels("GET", route, "200"),
        per_minute,
    )
}

fn bucket(t: &Target, le: &str, per_minute: f64) -> Series {
    let mut labels = request_labels("GET", "/products", "200").to_vec();
    labels.push(("le", le));
    counter(
        t,
        &format!("{}_bucket", m::HTTP_SERVER_REQUEST_DURATION_SECONDS),
        &labels,
        per_minute,
    )
}

#[derive(Clone, Copy)]
enum Sli {
    Availability,
    Latency,
}

impl Sli {
    fn name(self) -> &'static str {
        match self {
            Sli::Availability => names::AVAILABILITY_BUDGET_BURN,
            Sli::Latency => names::LATENCY_BUDGET_BURN,
        }
    }
    fn target(self) -> &'static str {
        match self {
            Sli::Availability => objective::AVAILABILITY_TARGET,
            Sli::Latency => objective::LATENCY_TARGET,
        }
    }
    fn ratio(self, window: &str) -> String {
        match self {
            Sli::Availability => errors_ratio(window),
            Sli::Latency => slow_ratio(window),
        }
    }
    /// What the bad requests did, for the description.
    fn what(self) -> String {
        match self {
            Sli::Availability => "failed (5xx)".into(),
            Sli::Latency => format!(
                "took longer than {}s",
                objective_text(objective::LATENCY_THRESHOLD_SECONDS, None, r#"printf "%g""#)
            ),
        }
    }
    fn budget(self, t: &Target) -> f64 {
        1.0 - match self {
            Sli::Availability => t.availability_target,
            Sli::Latency => t.latency_target,
        }
    }
}

/// Multi-window multi-burn-rate alerts (SRE workbook, ch. 5): each row of
/// [`BURN_RATES`] fires when both its windows burn the Store's budget
/// `factor` times too fast (the factor follows from the Store's SLO window)
/// and the long window saw at least the Store's minimum of requests.
fn burn_rate(sli: Sli) -> Alert {
    let rules: Vec<Rule> = BURN_RATES
        .iter()
        .map(|b| {
            let factor = objective_text(objective::BURN_FACTOR, Some(b.long), r#"printf "%.4g""#);
            let threshold = format!(
                "({} * on (namespace, {}) (1 - {}))",
                objective_series(objective::BURN_FACTOR, Some(b.long)),
                l::STORE_ID,
                objective_series(sli.target(), None)
            );
            let mut r = rule(
                sli.name(),
                format!(
                    "{}\nand on (namespace, {})\n{}\n{}",
                    against(&sli.ratio(b.long), ">", &threshold),
                    l::STORE_ID,
                    against(&sli.ratio(b.short), ">", &threshold),
                    enough_events(b.long)
                ),
                "0s",
                b.severity,
                format!("Store {{{{ $labels.store_id }}}} is burning its error budget {factor}x too fast"),
                format!(
                    "{{{{ $value | humanizePercentage }}}} of the requests to {STORE} {} over the last {} \
                     (and the last {}): {factor}x the rate that spends the whole budget of its {} objective in {} days.",
                    sli.what(),
                    b.long,
                    b.short,
                    objective_text(sli.target(), None, r#"printf "%g""#),
                    objective_text(objective::WINDOW_DAYS, None, r#"printf "%.0f""#),
                ),
            );
            r.for_ = None;
            r.labels.insert("long".into(), b.long.to_string());
            r.labels.insert("short".into(), b.short.to_string());
            r
        })
        .collect();
    let cases: CasesFn = match sli {
        Sli::Availability => |t, rules| burn_rate_cases(t, Sli::Availability, rules),
        Sli::Latency => |t, rules| burn_rate_cases(t, Sli::Latency, rules),
    };
    Alert::new(rules, cases)
}

/// Half of the requests bad: every row fires; half the slowest burn of the
/// table: none; burns between the factors: the rows below them. A busy
/// store losing 2 % of its budget in an hour (15x over 30 days) pages; a
/// quiet one (a request every ten minutes) with one failure pages no one.
fn burn_rate_cases(t: &Target, sli: Sli, rules: &[Rule]) -> StoreCases {
    let budget = sli.budget(t);
    // 600 requests a minute, a `ratio` of them bad (failed, or slower than
    // the threshold).
    let traffic = |ratio: f64| match sli {
        Sli::Availability => vec![
            requests(t, "200", 600.0 * (1.0 - ratio)),
            requests(t, "500", 600.0 * ratio),
        ],
        Sli::Latency => vec![
            requests(t, "200", 600.0),
            bucket(t, &t.le(), 600.0 * (1.0 - ratio)),
        ],
    };
    let factors: Vec<f64> = BURN_RATES.iter().map(|b| b.factor(t.window_days)).collect();
    let slowest = factors.iter().copied().fold(f64::INFINITY, f64::min);
    // The rows whose threshold (factor times budget) the ratio is above.
    let firing = |ratio: f64| -> Vec<Expected> {
        rules
            .iter()
            .zip(&factors)
            .filter(|(_, factor)| ratio > *factor * budget)
            .map(|(r, _)| expect(t, r, &of_store(t), ratio))
            .collect()
    };
    // Burns between the factors of the Store's table (the 30-day table's
    // 15, 10, 4.5 and 2, scaled to its window).
    let mut more: Vec<(Vec<Series>, Vec<Expected>)> = [15.0, 10.0, 4.5, 2.0]
        .into_iter()
        .map(|burn| burn * factors[0] / 14.4 * budget)
        .map(|ratio| (traffic(ratio), firing(ratio)))
        .collect();
    if let Sli::Availability = sli {
        // For the last hour one request every ten minutes, the last of them
        // failed two minutes ago: fewer requests than the guard asks for.
        more.push((
            vec![
                series(
                    t,
                    &count_metric(),
                    &request_labels("GET", "/products", "200"),
                    "_x180 0+0.1x120",
                ),
                series(
                    t,
                    &count_metric(),
                    &request_labels("GET", "/products", "500"),
                    "_x180 0x57 1x63",
                ),
            ],
            vec![],
        ));
    }
    StoreCases {
        eval_time: "4h",
        fires: (traffic(0.5), firing(0.5)),
        quiet: traffic(budget * slowest * 0.5),
        more,
    }
}

fn up(t: &Target, value: f64) -> Series {
    // store_id too: the ServiceMonitor relabels it from the Service.
    let mut labels = scraped(t);
    labels.insert("service".into(), t.job.clone());
    labels.insert("endpoint".into(), "http".into());
    Series::new("up", labels, &format!("{value}x30"))
}

/// `and on (namespace, job)` a scraped Store's info: its scrape job.
fn scraped_job() -> String {
    format!(r#"and on (namespace, job) {INFO}{{scraped="true"}}"#)
}

fn store_down() -> Alert {
    let r = rule(
        names::DOWN,
        format!("up == 0\n{}", scraped_job()),
        "2m",
        "critical",
        "Store {{ $labels.store_id }} does not answer its scrapes".into(),
        format!(
            "Prometheus cannot scrape pod {{{{ $labels.pod }}}} of {STORE} for 2 minutes: the store-service is down or unreachable."
        ),
    );
    Alert::new(vec![r], |t, rules| {
        let down = up(t, 0.0);
        let result: Vec<(&str, &str)> = down
            .labels
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        once(
            t,
            &rules[0],
            "10m",
            vec![down.clone()],
            &result,
            0.0,
            vec![up(t, 1.0)],
        )
    })
}

fn target_missing() -> Alert {
    let r = rule(
        names::TARGET_MISSING,
        format!(
            r#"max by (namespace, {}, job) ({INFO}{{scraped="true"}})
unless on (namespace, job)
up"#,
            l::STORE_ID
        ),
        "5m",
        "critical",
        "Prometheus has no target for store {{ $labels.store_id }}".into(),
        format!(
            "No scrape target of {STORE} for 5 minutes: its Service or ServiceMonitor is missing, or Prometheus does not select it."
        ),
    );
    Alert::new(vec![r], |t, rules| {
        let mut other = up(t, 1.0);
        other
            .labels
            .insert("job".into(), format!("{}-other", t.job));
        let result = [
            ("namespace", t.namespace.as_str()),
            (l::STORE_ID, t.store_id.as_str()),
            ("job", t.job.as_str()),
        ];
        once(
            t,
            &rules[0],
            "10m",
            vec![other],
            &result,
            1.0,
            vec![up(t, 1.0)],
        )
    })
}

fn error_rate_spike() -> Alert {
    let r = rule(
        names::ERROR_RATE_SPIKE,
        format!("{} > 0.05\n{}", errors_ratio("5m"), enough_events("5m")),
        "5m",
        "warning",
        "Store {{ $labels.store_id }} fails more than 5% of its requests".into(),
        format!(
            "{{{{ $value | humanizePercentage }}}} of the requests to {STORE} failed (5xx) over the last 5 minutes."
        ),
    );
    Alert::new(vec![r], |t, rules| {
        let mut cases = once(
            t,
            &rules[0],
            "20m",
            vec![requests(t, "200", 600.0), requests(t, "500", 600.0)],
            &of_store(t),
            0.5,
            vec![requests(t, "200", 600.0), requests(t, "500", 6.0)],
        );
        // Half of the requests failed, but a request every ten minutes: quiet.
        cases.more.push((
            vec![requests(t, "200", 0.05), requests(t, "500", 0.05)],
            vec![],
        ));
        cases
    })
}

fn high_latency() -> Alert {
    let threshold = objective_text(objective::LATENCY_THRESHOLD_SECONDS, None, r#"printf "%g""#);
    let r = rule(
        names::HIGH_LATENCY_P95,
        format!(
            "{}\n{}",
            against(
                &format!(
                    "histogram_quantile(0.95, {})",
                    by_store(", le", &format!("rate({POD_BUCKETS}[5m])"))
                ),
                ">",
                &objective_series(objective::LATENCY_THRESHOLD_SECONDS, None)
            ),
            enough_events("5m")
        ),
        "10m",
        "warning",
        "Store {{ $labels.store_id }} answers slowly".into(),
        format!(
            "The 95th percentile of request latency of {STORE} is {{{{ $value | humanize }}}}s over the last 5 minutes, above {threshold}s."
        ),
    );
    Alert::new(vec![r], |t, rules| {
        // Every request lands in the first bucket above the threshold, or in the
        // first bucket: p95 interpolates inside it.
        let above = m::HTTP_SERVER_REQUEST_DURATION_BUCKETS
            .iter()
            .position(|b| *b == t.latency_threshold)
            .and_then(|i| m::HTTP_SERVER_REQUEST_DURATION_BUCKETS.get(i + 1))
            .copied()
            .unwrap_or(f64::INFINITY);
        let first = m::HTTP_SERVER_REQUEST_DURATION_BUCKETS[0];
        let slow = vec![
            bucket(t, &t.le(), 0.0),
            bucket(t, &format!("{above:?}"), 600.0),
            bucket(t, "+Inf", 600.0),
            requests(t, "200", 600.0),
        ];
        let mut fast = vec![
            bucket(t, &t.le(), 600.0),
            bucket(t, "+Inf", 600.0),
            requests(t, "200", 600.0),
        ];
        if first < t.latency_threshold {
            fast.push(bucket(t, &format!("{first:?}"), 600.0));
        }
        let p95 = t.latency_threshold + (above - t.latency_threshold) * 0.95;
        once(t, &rules[0], "30m", slow, &of_store(t), p95, fast)
    })
}

fn stock(t: &Target, product: &str, value: f64) -> Series {
    series(
        t,
        m::APP_PRODUCT_STOCK,
        &[
            (l::PRODUCT_NAME, product),
            (l::PRODUCT_CATEGORY, "electronics"),
        ],
        &format!("{value}x300"),
    )
}

fn low_stock() -> Alert {
    let by = format!(", {}, {}", l::PRODUCT_NAME, l::PRODUCT_CATEGORY);
    let r = rule(
        names::LOW_STOCK,
        against(
            &format!(
                "min by (namespace, {}{by}) ({})",
                l::STORE_ID,
                m::APP_PRODUCT_STOCK
            ),
            "<=",
            &objective_series(objective::LOW_STOCK_THRESHOLD, None),
        ),
        "5m",
        "warning",
        "A product of store {{ $labels.store_id }} is running out".into(),
        format!(
            "Product {{{{ $labels.product_name }}}} ({{{{ $labels.product_category }}}}) of {STORE} has {{{{ $value | humanize }}}} left, at or below the threshold of {}.",
            objective_text(objective::LOW_STOCK_THRESHOLD, None, r#"printf "%.0f""#)
        ),
    );
    Alert::new(vec![r], |t, rules| {
        let left = (t.low_stock_threshold as f64 / 2.0).floor();
        let result = [
            ("namespace", t.namespace.as_str()),
            (l::STORE_ID, t.store_id.as_str()),
            (l::PRODUCT_NAME, "laptop"),
            (l::PRODUCT_CATEGORY, "electronics"),
        ];
        let plenty = (t.low_stock_threshold + 10) as f64;
        once(
            t,
            &rules[0],
            "10m",
            vec![stock(t, "laptop", left), stock(t, "headphones", plenty)],
            &result,
            left,
            vec![stock(t, "laptop", plenty), stock(t, "headphones", plenty)],
        )
    })
}

fn store_rate(selector: &str, window: &str) -> String {
    by_store("", &format!("rate({selector}[{window}])"))
}

/// `POST /products/{name}/buy` requests: purchase attempts.
fn buy_attempts(window: &str) -> String {
    store_rate(
        &format!(
            r#"{}{{{}="/products/{{name}}/buy"}}"#,
            count_metric(),
            l::HTTP_ROUTE
        ),
        window,
    )
}

fn buys(t: &Target, code: &str, per_minute: f64) -> Series {
    counter(
        t,
        &count_metric(),
        &request_labels("POST", "/products/{name}/buy", code),
        per_minute,
    )
}

fn insufficient_stock_surge() -> Alert {
    let r = rule(
        names::INSUFFICIENT_STOCK_SURGE,
        format!(
            "{}\n/\n{} > 0.25\n{}",
            store_rate(m::APP_STOCK_INSUFFICIENT_EVENTS_TOTAL, "10m"),
            buy_attempts("10m"),
            known()
        ),
        "10m",
        "warning",
        "Store {{ $labels.store_id }} turns buyers away for lack of stock".into(),
        "Store {{ $labels.store_id }} in {{ $labels.namespace }} refused {{ $value | humanizePercentage }} of its purchase attempts for insufficient stock over the last 10 minutes: restock.".to_string(),
    );
    Alert::new(vec![r], |t, rules| {
        let refused = |per_minute| {
            counter(
                t,
                m::APP_STOCK_INSUFFICIENT_EVENTS_TOTAL,
                &[
                    (l::PRODUCT_NAME, "laptop"),
                    (l::PRODUCT_CATEGORY, "electronics"),
                ],
                per_minute,
            )
        };
        // Fires when half of the attempts are refused; quiet at one in ten, the
        // ordinary life of a busy store.
        once(
            t,
            &rules[0],
            "30m",
            vec![buys(t, "200", 5.0), buys(t, "409", 5.0), refused(5.0)],
            &of_store(t),
            0.5,
            vec![buys(t, "200", 9.0), buys(t, "409", 1.0), refused(1.0)],
        )
    })
}

fn sales_stopped() -> Alert {
    let r = rule(
        names::SALES_STOPPED,
        format!(
            "{} > 0.1\nand\n{} == 0\n{}",
            // The API requests, from the per-pod sums (one series per pod).
            store_rate(super::rules::POD_REQUESTS, "15m"),
            store_rate(m::APP_ITEMS_SOLD_TOTAL, "15m"),
            known()
        ),
        "15m",
        "warning",
        "Store {{ $labels.store_id }} sells nothing while customers keep coming".into(),
        "Store {{ $labels.store_id }} in {{ $labels.namespace }} serves {{ $value | humanize }} requests/s but has sold nothing for 15 minutes: check purchases, stock and payments.".to_string(),
    );
    Alert::new(vec![r], |t, rules| {
        let sold = |per_minute| {
            counter(
                t,
                m::APP_ITEMS_SOLD_TOTAL,
                &[(l::PRODUCT_NAME, "apple"), (l::PRODUCT_CATEGORY, "fruit")],
                per_minute,
            )
        };
        // A quiet night: no customer, only the kubelet's probes and the scrapes.
        let night = vec![
            probes(t, "/readyz", 12.0),
            probes(t, "/metrics", 2.0),
            sold(0.0),
        ];
        once(
            t,
            &rules[0],
            "40m",
            vec![requests(t, "200", 600.0), sold(0.0)],
            &of_store(t),
            10.0,
            night,
        )
    })
}

fn restarts(t: &Target, per_minute: f64) -> Series {
    let labels = BTreeMap::from([
        ("namespace".to_string(), t.namespace.clone()),
        ("pod".to_string(), t.example_pod()),
        ("container".to_string(), "store-service".to_string()),
        ("job".to_string(), "kube-state-metrics".to_string()),
    ]);
    Series::new(
        "kube_pod_container_status_restarts_total",
        labels,
        &format!("0+{per_minute}x300"),
    )
}

/// kube-state-metrics' `kube_pod_owner` of the store's pod: its ReplicaSet.
fn owner(t: &Target) -> Series {
    let labels = BTreeMap::from([
        ("namespace".to_string(), t.namespace.clone()),
        ("pod".to_string(), t.example_pod()),
        ("owner_kind".to_string(), "ReplicaSet".to_string()),
        (
            "owner_name".to_string(),
            format!("{}-7d9c5b6f4", t.deployment),
        ),
        ("owner_is_controller".to_string(), "true".to_string()),
        ("job".to_string(), "kube-state-metrics".to_string()),
    ]);
    Series::new("kube_pod_owner", labels, "1x300")
}

fn pod_restarting() -> Alert {
    let r = rule(
        names::POD_RESTARTING,
        format!(
            // By owner, not by pod name: Kubernetes cuts a long Store's pod
            // names (Target::example_pod), its ReplicaSet names never.
            r#"increase(kube_pod_container_status_restarts_total[15m])
* on (namespace, pod) group_left ({id})
max by (namespace, pod, {id}) (
  label_replace(kube_pod_owner{{owner_kind="ReplicaSet"}}, "deployment", "$1", "owner_name", "(.+)-[a-z0-9]{{5,10}}")
  * on (namespace, deployment) group_left ({id}) {INFO}
)
> 2"#,
            id = l::STORE_ID
        ),
        "5m",
        "warning",
        "A pod of store {{ $labels.store_id }} keeps restarting".into(),
        format!(
            "Pod {{{{ $labels.pod }}}} of {STORE} restarted {{{{ $value | humanize }}}} times in 15 minutes."
        ),
    );
    Alert::new(vec![r], |t, rules| {
        let crashing = restarts(t, 1.0);
        let mut result: Vec<(&str, &str)> = crashing
            .labels
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        result.push((l::STORE_ID, t.store_id.as_str()));
        let mut cases = once(
            t,
            &rules[0],
            "30m",
            vec![crashing.clone(), owner(t)],
            &result,
            15.0,
            vec![restarts(t, 0.0), owner(t)],
        );
        // Another Deployment's pod restarting, with a name that begins like
        // this store's (as cut pod names of two long Stores can): quiet.
        let other = Target {
            deployment: format!("{}x", t.deployment),
            ..t.clone()
        };
        cases
            .more
            .push((vec![restarts(&other, 1.0), owner(&other)], vec![]));
        cases
    })
}

fn telemetry_dropping() -> Alert {
    let r = rule(
        names::TELEMETRY_DROPPING,
        format!(
            "{} > 0\n{}",
            by_store(
                &format!(", {}", l::SIGNAL),
                &format!("rate({}[10m])", m::APP_TELEMETRY_DROPPED_TOTAL)
            ),
            known()
        ),
        "10m",
        "warning",
        "Store {{ $labels.store_id }} loses telemetry".into(),
        "Store {{ $labels.store_id }} in {{ $labels.namespace }} drops {{ $value | humanize }} {{ $labels.signal }} records/s: the OTLP backend is down or too slow, so traces or logs are missing.".to_string(),
    );
    Alert::new(vec![r], |t, rules| {
        let dropped = |per_minute| {
            counter(
                t,
                m::APP_TELEMETRY_DROPPED_TOTAL,
                &[(l::SIGNAL, "traces")],
                per_minute,
            )
        };
        let mut result = of_store(t).to_vec();
        result.push((l::SIGNAL, "traces"));
        once(
            t,
            &rules[0],
            "30m",
            vec![dropped(60.0)],
            &result,
            1.0,
            vec![dropped(0.0)],
        )
    })
}
