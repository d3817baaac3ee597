//! Every alert of a Store, each with the promtool cases that prove it: input
//! series under which it fires (with the labels and value it must fire with)
//! and series under which it stays quiet. An alert cannot be added without
//! its proof; `promtool test rules` runs them all (`promtool.rs`).
//!
//! The proof is a closure, kept and run (`Alert::prove`) only with the
//! `proofs` feature, which the operator's own tests turn on: the reconcile
//! loop asks for the rules of every Store on every pass and never pays for
//! the series of the proofs, and the released binary does not carry them.

use std::collections::BTreeMap;

use storeops_contract::{labels as l, metrics as m};

use super::proof::{Case, Expected, Proof, Series};
use super::rules::{BURN_RATES, Rule, Target, errors_ratio, slow_ratio};

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

/// Builds an alert's proof from its rules (whose labels the expected alerts carry).
#[cfg(feature = "proofs")]
type ProofFn<'t> = Box<dyn FnOnce(&[Rule]) -> Proof + 't>;

/// An alert (one name, one or more rules) and, with the `proofs` feature,
/// its proof, not yet built.
pub struct Alert<'t> {
    /// The rules that raise it (the burn-rate alerts have one per window pair).
    pub rules: Vec<Rule>,
    #[cfg(feature = "proofs")]
    proof: ProofFn<'t>,
    #[cfg(not(feature = "proofs"))]
    proof: std::marker::PhantomData<&'t ()>,
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

impl<'t> Alert<'t> {
    /// Every alert is written with its proof; without the `proofs` feature
    /// the closure is dropped uncalled (and never compiled into the binary).
    fn new(rules: Vec<Rule>, proof: impl FnOnce(&[Rule]) -> Proof + 't) -> Self {
        #[cfg(feature = "proofs")]
        let proof: ProofFn<'t> = Box::new(proof);
        #[cfg(not(feature = "proofs"))]
        let proof = {
            drop(proof);
            std::marker::PhantomData
        };
        Alert { rules, proof }
    }

    /// The alert's name.
    pub fn name(&self) -> &str {
        name(&self.rules)
    }

    /// Builds the proof: the input series and expected alerts of each case.
    #[cfg(feature = "proofs")]
    pub fn prove(self) -> Proven {
        let proof = (self.proof)(&self.rules);
        Proven {
            rules: self.rules,
            proof,
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

/// Every alert of the Store.
pub fn alerts(t: &Target) -> Vec<Alert<'_>> {
    let scrape = if t.scraped {
        vec![store_down(t), target_missing(t)]
    } else {
        vec![]
    };
    let mut all = vec![burn_rate(t, Sli::Availability), burn_rate(t, Sli::Latency)];
    all.extend(scrape);
    all.extend([
        error_rate_spike(t),
        high_latency(t),
        low_stock(t),
        insufficient_stock_surge(t),
        sales_stopped(t),
        pod_restarting(t),
        telemetry_dropping(t),
    ]);
    all
}

/// Builds one alerting rule with the common labels and annotations. The
/// description may use `{{ $value | humanize }}`, `{{ $value |
/// humanizePercentage }}` and `{{ $labels.<name> }}` of the result labels.
fn rule(
    t: &Target,
    name: &str,
    expr: String,
    for_: &str,
    severity: &str,
    summary: &str,
    description: String,
) -> Rule {
    let labels = BTreeMap::from([
        ("severity".to_string(), severity.to_string()),
        ("namespace".to_string(), t.namespace.clone()),
        (l::STORE_ID.to_string(), t.store_id.clone()),
    ]);
    let annotations = BTreeMap::from([
        ("summary".to_string(), summary.to_string()),
        ("description".to_string(), description),
        (
            "runbook_url".to_string(),
            format!("{}/{name}.md", t.runbook_base),
        ),
    ]);
    Rule {
        alert: Some(name.to_string()),
        expr,
        for_: Some(for_.to_string()),
        labels,
        annotations,
        ..Rule::default()
    }
}

/// The proof of an alert of one rule `r` that fires once, with `value` and
/// the labels `result` (plus the rule's), on `fires`, and stays quiet on
/// `quiet`; both evaluated at `eval_time`.
fn once(
    r: &Rule,
    eval_time: &str,
    fires: Vec<Series>,
    result: &[(&str, &str)],
    value: f64,
    quiet: Vec<Series>,
) -> Proof {
    let expected = vec![Expected {
        labels: fired(result, r),
        value,
    }];
    Proof {
        fires: Case {
            series: fires,
            eval_time: eval_time.into(),
            expected,
        },
        quiet: Case {
            series: quiet,
            eval_time: eval_time.into(),
            expected: vec![],
        },
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

/// `metric{scraped labels, extra}` going up by `per_minute` every minute.
fn counter(t: &Target, metric: &str, extra: &[(&str, &str)], per_minute: f64) -> Series {
    let mut labels = scraped(t);
    labels.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Series::new(metric, labels, &format!("0+{per_minute}x300"))
}

/// `metric{scraped labels, extra}` holding `value`.
fn gauge(t: &Target, metric: &str, extra: &[(&str, &str)], value: f64) -> Series {
    let mut labels = scraped(t);
    labels.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Series::new(metric, labels, &format!("{value}x300"))
}

/// The labels an alert fires with: the result's, then the rule's.
fn fired(result: &[(&str, &str)], rule: &Rule) -> BTreeMap<String, String> {
    let mut labels: BTreeMap<String, String> = result
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    labels.extend(rule.labels.clone());
    labels
}

fn requests(t: &Target, code: &str, per_minute: f64) -> Series {
    counter(
        t,
        &format!("{}_count", m::HTTP_SERVER_REQUEST_DURATION_SECONDS),
        &[
            (l::HTTP_REQUEST_METHOD, "GET"),
            (l::HTTP_ROUTE, "/products"),
            (l::HTTP_RESPONSE_STATUS_CODE, code),
        ],
        per_minute,
    )
}

fn probes(t: &Target, route: &str, per_minute: f64) -> Series {
    counter(
        t,
        &format!("{}_count", m::HTTP_SERVER_REQUEST_DURATION_SECONDS),
        &[
            (l::HTTP_REQUEST_METHOD, "GET"),
            (l::HTTP_ROUTE, route),
            (l::HTTP_RESPONSE_STATUS_CODE, "200"),
        ],
        per_minute,
    )
}

fn bucket(t: &Target, le: &str, per_minute: f64) -> Series {
    counter(
        t,
        &format!("{}_bucket", m::HTTP_SERVER_REQUEST_DURATION_SECONDS),
        &[
            (l::HTTP_REQUEST_METHOD, "GET"),
            (l::HTTP_ROUTE, "/products"),
            (l::HTTP_RESPONSE_STATUS_CODE, "200"),
            ("le", le),
        ],
        per_minute,
    )
}

#[derive(Clone, Copy)]
enum Sli {
    Availability,
    Latency,
}

/// Multi-window multi-burn-rate alerts (SRE workbook, ch. 5): each pair of
/// windows fires when both burn the budget `factor` times too fast.
fn burn_rate(t: &Target, sli: Sli) -> Alert<'_> {
    let (name, ratio, budget, what): (_, fn(&str) -> String, _, _) = match sli {
        Sli::Availability => (
            names::AVAILABILITY_BUDGET_BURN,
            errors_ratio,
            1.0 - t.availability_target,
            "failed (5xx)".to_string(),
        ),
        Sli::Latency => (
            names::LATENCY_BUDGET_BURN,
            slow_ratio,
            1.0 - t.latency_target,
            format!("took longer than {}s", t.latency_threshold),
        ),
    };
    let rules: Vec<Rule> = BURN_RATES
        .iter()
        .map(|(long, short, factor, for_, severity)| {
            let threshold = format!("({factor} * {budget:.5})");
            let mut r = rule(
                t,
                name,
                format!(
                    "{}{{{m}}} > {threshold}\nand\n{}{{{m}}} > {threshold}",
                    ratio(long),
                    ratio(short),
                    m = t.matchers()
                ),
                for_,
                severity,
                &format!("Store {} is burning its error budget {factor}x too fast", t.store_id),
                format!(
                    "{{{{ $value | humanizePercentage }}}} of the requests to store {} in {} {what} over the last {long} \
                     (and the last {short}): {factor}x the rate that spends the whole budget ({:.3}%) in 30 days.",
                    t.store_id,
                    t.namespace,
                    budget * 100.0
                ),
            );
            r.labels.insert("long".into(), long.to_string());
            r.labels.insert("short".into(), short.to_string());
            r
        })
        .collect();
    Alert::new(rules, move |rules| burn_rate_proof(t, sli, budget, rules))
}

/// Half of the requests bad: every window pair of the burn-rate alert burns;
/// half the rate that spends the budget in 30 days: none.
fn burn_rate_proof(t: &Target, sli: Sli, budget: f64, rules: &[Rule]) -> Proof {
    let result = [
        ("namespace", t.namespace.as_str()),
        (l::STORE_ID, t.store_id.as_str()),
    ];
    // 600 requests a minute, a `ratio` of them bad (failed, or slower than
    // the threshold).
    let traffic = |ratio: f64| match sli {
        Sli::Availability => vec![
            requests(t, "200", 600.0 * (1.0 - ratio)),
            requests(t, "500", 600.0 * ratio),
        ],
        Sli::Latency => vec![
            requests(t, "200", 600.0),
            bucket(
                t,
                &format!("{:?}", t.latency_threshold),
                600.0 * (1.0 - ratio),
            ),
        ],
    };
    let (bad, good) = (traffic(0.5), traffic(budget * 0.5));
    // Burning between two factors: the pairs of the lower factors fire, the
    // others not, so each factor is proven to be where the table says.
    let more = [10.0, 4.5, 2.0]
        .into_iter()
        .map(|burn| Case {
            series: traffic(burn * budget),
            eval_time: "4h".into(),
            expected: rules
                .iter()
                .zip(BURN_RATES)
                .filter(|(_, (.., factor, _, _))| *factor < burn)
                .map(|(r, _)| Expected {
                    labels: fired(&result, r),
                    value: burn * budget,
                })
                .collect(),
        })
        .collect();
    Proof {
        more,
        fires: Case {
            series: bad,
            eval_time: "4h".into(),
            expected: rules
                .iter()
                .map(|r| Expected {
                    labels: fired(&result, r),
                    value: 0.5,
                })
                .collect(),
        },
        quiet: Case {
            series: good,
            eval_time: "4h".into(),
            expected: vec![],
        },
    }
}

fn up(t: &Target, value: f64) -> Series {
    // store_id too: the ServiceMonitor relabels it from the Service.
    let mut labels = scraped(t);
    labels.insert("service".into(), t.job.clone());
    labels.insert("endpoint".into(), "http".into());
    Series::new("up", labels, &format!("{value}x30"))
}

fn store_down(t: &Target) -> Alert<'_> {
    let r = rule(
        t,
        names::DOWN,
        format!(r#"up{{namespace="{}",job="{}"}} == 0"#, t.namespace, t.job),
        "2m",
        "critical",
        &format!("Store {} does not answer its scrapes", t.store_id),
        format!(
            "Prometheus cannot scrape pod {{{{ $labels.pod }}}} of store {} in {} for 2 minutes: the store-service is down or unreachable.",
            t.store_id, t.namespace
        ),
    );
    Alert::new(vec![r], move |rules| {
        let down = up(t, 0.0);
        let result: Vec<(&str, &str)> = down
            .labels
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        once(
            &rules[0],
            "10m",
            vec![down.clone()],
            &result,
            0.0,
            vec![up(t, 1.0)],
        )
    })
}

fn target_missing(t: &Target) -> Alert<'_> {
    let r = rule(
        t,
        names::TARGET_MISSING,
        format!(
            r#"absent(up{{namespace="{}",job="{}"}})"#,
            t.namespace, t.job
        ),
        "5m",
        "critical",
        &format!("Prometheus has no target for store {}", t.store_id),
        format!(
            "No scrape target of store {} in {} for 5 minutes: its Service or ServiceMonitor is missing, or Prometheus does not select it.",
            t.store_id, t.namespace
        ),
    );
    Alert::new(vec![r], move |rules| {
        let mut other = up(t, 1.0);
        other
            .labels
            .insert("job".into(), "some-other-service".into());
        let result = [("namespace", t.namespace.as_str()), ("job", t.job.as_str())];
        once(
            &rules[0],
            "10m",
            vec![other],
            &result,
            1.0,
            vec![up(t, 1.0)],
        )
    })
}

fn error_rate_spike(t: &Target) -> Alert<'_> {
    let r = rule(
        t,
        names::ERROR_RATE_SPIKE,
        format!("{}{{{}}} > 0.05", errors_ratio("5m"), t.matchers()),
        "5m",
        "warning",
        &format!("Store {} fails more than 5% of its requests", t.store_id),
        format!(
            "{{{{ $value | humanizePercentage }}}} of the requests to store {} in {} failed (5xx) over the last 5 minutes.",
            t.store_id, t.namespace
        ),
    );
    Alert::new(vec![r], move |rules| {
        let result = [
            ("namespace", t.namespace.as_str()),
            (l::STORE_ID, t.store_id.as_str()),
        ];
        once(
            &rules[0],
            "20m",
            vec![requests(t, "200", 600.0), requests(t, "500", 600.0)],
            &result,
            0.5,
            vec![requests(t, "200", 600.0), requests(t, "500", 6.0)],
        )
    })
}

fn high_latency(t: &Target) -> Alert<'_> {
    let r = rule(
        t,
        names::HIGH_LATENCY_P95,
        format!(
            "histogram_quantile(0.95, sum by (namespace, {}, le) (rate({}_bucket{{{}}}[5m]))) > {}",
            l::STORE_ID,
            m::HTTP_SERVER_REQUEST_DURATION_SECONDS,
            t.api_matchers(),
            t.latency_threshold
        ),
        "10m",
        "warning",
        &format!("Store {} answers slowly", t.store_id),
        format!(
            "The 95th percentile of request latency of store {} in {} is {{{{ $value | humanize }}}}s over the last 5 minutes, above {}s.",
            t.store_id, t.namespace, t.latency_threshold
        ),
    );
    Alert::new(vec![r], move |rules| {
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
            bucket(t, &format!("{:?}", t.latency_threshold), 0.0),
            bucket(t, &format!("{above:?}"), 600.0),
            bucket(t, "+Inf", 600.0),
        ];
        let mut fast = vec![
            bucket(t, &format!("{:?}", t.latency_threshold), 600.0),
            bucket(t, "+Inf", 600.0),
        ];
        if first < t.latency_threshold {
            fast.push(bucket(t, &format!("{first:?}"), 600.0));
        }
        let p95 = t.latency_threshold + (above - t.latency_threshold) * 0.95;
        let result = [
            ("namespace", t.namespace.as_str()),
            (l::STORE_ID, t.store_id.as_str()),
        ];
        once(&rules[0], "30m", slow, &result, p95, fast)
    })
}

fn stock(t: &Target, product: &str, value: f64) -> Series {
    gauge(
        t,
        m::APP_PRODUCT_STOCK,
        &[
            (l::PRODUCT_NAME, product),
            (l::PRODUCT_CATEGORY, "electronics"),
        ],
        value,
    )
}

fn low_stock(t: &Target) -> Alert<'_> {
    let by = format!(
        "namespace, {}, {}, {}",
        l::STORE_ID,
        l::PRODUCT_NAME,
        l::PRODUCT_CATEGORY
    );
    let r = rule(
        t,
        names::LOW_STOCK,
        format!(
            "min by ({by}) ({}{{{}}}) <= {}",
            m::APP_PRODUCT_STOCK,
            t.matchers(),
            t.low_stock_threshold
        ),
        "5m",
        "warning",
        &format!("A product of store {} is running out", t.store_id),
        format!(
            "Product {{{{ $labels.product_name }}}} ({{{{ $labels.product_category }}}}) of store {} in {} has {{{{ $value | humanize }}}} left, at or below the threshold of {}.",
            t.store_id, t.namespace, t.low_stock_threshold
        ),
    );
    Alert::new(vec![r], move |rules| {
        let left = (t.low_stock_threshold as f64 / 2.0).floor();
        let result = [
            ("namespace", t.namespace.as_str()),
            (l::STORE_ID, t.store_id.as_str()),
            (l::PRODUCT_NAME, "laptop"),
            (l::PRODUCT_CATEGORY, "electronics"),
        ];
        let plenty = (t.low_stock_threshold + 10) as f64;
        once(
            &rules[0],
            "10m",
            vec![stock(t, "laptop", left), stock(t, "headphones", plenty)],
            &result,
            left,
            vec![stock(t, "laptop", plenty), stock(t, "headphones", plenty)],
        )
    })
}

fn per_store_rate(t: &Target, metric: &str, window: &str) -> String {
    format!(
        "sum by (namespace, {}) (rate({metric}{{{}}}[{window}]))",
        l::STORE_ID,
        t.matchers()
    )
}

/// `POST /products/{name}/buy` requests: purchase attempts.
fn buy_attempts(t: &Target, window: &str) -> String {
    format!(
        r#"sum by (namespace, {}) (rate({}_count{{{},{}="/products/{{name}}/buy"}}[{window}]))"#,
        l::STORE_ID,
        m::HTTP_SERVER_REQUEST_DURATION_SECONDS,
        t.matchers(),
        l::HTTP_ROUTE
    )
}

fn buys(t: &Target, code: &str, per_minute: f64) -> Series {
    counter(
        t,
        &format!("{}_count", m::HTTP_SERVER_REQUEST_DURATION_SECONDS),
        &[
            (l::HTTP_REQUEST_METHOD, "POST"),
            (l::HTTP_ROUTE, "/products/{name}/buy"),
            (l::HTTP_RESPONSE_STATUS_CODE, code),
        ],
        per_minute,
    )
}

fn insufficient_stock_surge(t: &Target) -> Alert<'_> {
    let r = rule(
        t,
        names::INSUFFICIENT_STOCK_SURGE,
        format!(
            "{}\n/\n{} > 0.25",
            per_store_rate(t, m::APP_STOCK_INSUFFICIENT_EVENTS_TOTAL, "10m"),
            buy_attempts(t, "10m")
        ),
        "10m",
        "warning",
        &format!("Store {} turns buyers away for lack of stock", t.store_id),
        format!(
            "Store {} in {} refused {{{{ $value | humanizePercentage }}}} of its purchase attempts for insufficient stock over the last 10 minutes: restock.",
            t.store_id, t.namespace
        ),
    );
    Alert::new(vec![r], move |rules| {
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
        let result = [
            ("namespace", t.namespace.as_str()),
            (l::STORE_ID, t.store_id.as_str()),
        ];
        // Fires when half of the attempts are refused; quiet at one in ten, the
        // ordinary life of a busy store.
        once(
            &rules[0],
            "30m",
            vec![buys(t, "200", 5.0), buys(t, "409", 5.0), refused(5.0)],
            &result,
            0.5,
            vec![buys(t, "200", 9.0), buys(t, "409", 1.0), refused(1.0)],
        )
    })
}

fn sales_stopped(t: &Target) -> Alert<'_> {
    let count = format!("{}_count", m::HTTP_SERVER_REQUEST_DURATION_SECONDS);
    let r = rule(
        t,
        names::SALES_STOPPED,
        format!(
            "sum by (namespace, {}) (rate({count}{{{}}}[15m])) > 0.1\nand\n{} == 0",
            l::STORE_ID,
            t.api_matchers(),
            per_store_rate(t, m::APP_ITEMS_SOLD_TOTAL, "15m")
        ),
        "15m",
        "warning",
        &format!(
            "Store {} sells nothing while customers keep coming",
            t.store_id
        ),
        format!(
            "Store {} in {} serves {{{{ $value | humanize }}}} requests/s but has sold nothing for 15 minutes: check purchases, stock and payments.",
            t.store_id, t.namespace
        ),
    );
    Alert::new(vec![r], move |rules| {
        let sold = |per_minute| {
            counter(
                t,
                m::APP_ITEMS_SOLD_TOTAL,
                &[(l::PRODUCT_NAME, "apple"), (l::PRODUCT_CATEGORY, "fruit")],
                per_minute,
            )
        };
        let result = [
            ("namespace", t.namespace.as_str()),
            (l::STORE_ID, t.store_id.as_str()),
        ];
        Proof {
            more: vec![],
            fires: Case {
                series: vec![requests(t, "200", 600.0), sold(0.0)],
                eval_time: "40m".into(),
                expected: vec![Expected {
                    labels: fired(&result, &rules[0]),
                    value: 10.0,
                }],
            },
            // A quiet night: no customer, only the kubelet's probes and the scrapes.
            quiet: Case {
                series: vec![
                    probes(t, "/readyz", 12.0),
                    probes(t, "/metrics", 2.0),
                    sold(0.0),
                ],
                eval_time: "40m".into(),
                expected: vec![],
            },
        }
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

fn pod_restarting(t: &Target) -> Alert<'_> {
    let r = rule(
        t,
        names::POD_RESTARTING,
        format!(
            // By owner, not by pod name: Kubernetes cuts a long Store's pod
            // names (Target::example_pod), its ReplicaSet names never.
            r#"increase(kube_pod_container_status_restarts_total{{namespace="{ns}"}}[15m]) * on (namespace, pod) group_left () max by (namespace, pod) (kube_pod_owner{{namespace="{ns}",owner_kind="ReplicaSet",owner_name=~"{}-[a-z0-9]{{5,10}}"}}) > 2"#,
            t.deployment,
            ns = t.namespace
        ),
        "5m",
        "warning",
        &format!("A pod of store {} keeps restarting", t.store_id),
        format!(
            "Pod {{{{ $labels.pod }}}} of store {} in {} restarted {{{{ $value | humanize }}}} times in 15 minutes.",
            t.store_id, t.namespace
        ),
    );
    Alert::new(vec![r], move |rules| {
        let crashing = restarts(t, 1.0);
        let result: Vec<(&str, &str)> = crashing
            .labels
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let mut proof = once(
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
        proof.more.push(Case {
            series: vec![restarts(&other, 1.0), owner(&other)],
            eval_time: "30m".into(),
            expected: vec![],
        });
        proof
    })
}

fn telemetry_dropping(t: &Target) -> Alert<'_> {
    let by = format!("namespace, {}, {}", l::STORE_ID, l::SIGNAL);
    let r = rule(
        t,
        names::TELEMETRY_DROPPING,
        format!(
            "sum by ({by}) (rate({}{{{}}}[10m])) > 0",
            m::APP_TELEMETRY_DROPPED_TOTAL,
            t.matchers()
        ),
        "10m",
        "warning",
        &format!("Store {} loses telemetry", t.store_id),
        format!(
            "Store {} in {} drops {{{{ $value | humanize }}}} {{{{ $labels.signal }}}} records/s: the OTLP backend is down or too slow, so traces or logs are missing.",
            t.store_id, t.namespace
        ),
    );
    Alert::new(vec![r], move |rules| {
        let dropped = |per_minute| {
            counter(
                t,
                m::APP_TELEMETRY_DROPPED_TOTAL,
                &[(l::SIGNAL, "traces")],
                per_minute,
            )
        };
        let result = [
            ("namespace", t.namespace.as_str()),
            (l::STORE_ID, t.store_id.as_str()),
            (l::SIGNAL, "traces"),
        ];
        once(
            &rules[0],
            "30m",
            vec![dropped(60.0)],
            &result,
            1.0,
            vec![dropped(0.0)],
        )
    })
}
