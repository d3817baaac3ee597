//! `rule-bench --prometheus BIN --promtool BIN --sloth BIN [--stores
//! 10,100,1000] [--seconds 120] [--out FILE]`: what the alert rules of N
//! Stores cost a real Prometheus, and how fast they page, as `make bench`
//! runs it.
//!
//! Three rule sets over the same synthetic series:
//! - today: the per-Store rules of the old design (commit ec86d53, frozen in
//!   `tools/bench/per-store-rules-ec86d53.json`), once per Store;
//! - fleet: [`operator::monitoring::fleet_groups`] (the fleet's rules once,
//!   none per Store), the Stores' objectives served as the operator serves
//!   them ([`operator::monitoring::rules::exposition`]) beside their series;
//! - sloth: what Sloth generates for the same objectives (2 SLOs per Store).
//!
//! Cost: for each N and rule set, a fresh Prometheus scrapes one in-process
//! exporter of N stores' series for `--seconds`, then its own `/metrics` is
//! read `--samples` times 15 s apart: rules loaded, the summed last
//! evaluation duration and samples of every group, missed iterations, RSS.
//!
//! Time to page: promtool runs storeops' rules and Sloth's for one Store
//! through an error rate of 100 %, 10 % and 1 % for 48 hours after 3 healthy
//! days; the first critical and warning `StoreAvailabilityBudgetBurn`, and
//! how long after the errors stop each is resolved.
//!
//! Prints Markdown (and writes it to `--out`).

#![forbid(unsafe_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use operator::monitoring::{self, alerts::names, rules::Target};
use serde_json::{Value, json};
use storeops_contract::{labels as l, metrics as m};
use testenv::prometheus::Prometheus;
use testenv::wait::free_port;
use tools::bench::Result;

/// The per-Store rule groups of the old design (`spec.groups` of a Store's
/// PrometheusRule at ec86d53) with `@NAMESPACE@`, `@STORE_ID@` and `@NAME@`
/// for its namespace, store id and object name: tools/bench/README.md.
const TODAY_FIXTURE: &str = include_str!("../../bench/per-store-rules-ec86d53.json");

/// The namespace of every synthetic store.
const NAMESPACE: &str = "bench";
/// The scrape job of the exporter, and the job every Store's rules expect.
const JOB: &str = "bench";
/// Scrape and rule evaluation interval, in seconds.
const INTERVAL_SECONDS: u64 = 15;

/// The API requests per second of one synthetic store, by (method, route,
/// status code): 10 per second, 0.1 % of them 5xx, and the readiness probe.
const REQUESTS: [(&str, &str, &str, f64); 4] = [
    ("GET", "/products", "200", 6.99),
    ("GET", "/products", "500", 0.01),
    ("POST", "/products/{name}/buy", "200", 3.0),
    ("GET", "/readyz", "200", 0.1),
];

/// The share of requests at or under each bucket boundary of
/// [`m::HTTP_SERVER_REQUEST_DURATION_BUCKETS`]: 99.5 % under 0.25 s, 96 %
/// (p95) under 0.1 s.
const LATENCY_SHARES: [f64; 14] = [
    0.30, 0.50, 0.70, 0.85, 0.92, 0.96, 0.995, 0.998, 0.999, 0.9995, 1.0, 1.0, 1.0, 1.0,
];

/// The mean request duration in seconds, for `_sum`.
const MEAN_SECONDS: f64 = 0.03;

/// Items sold per second (one per purchase).
const SOLD_PER_SECOND: f64 = 3.0;

/// Each store's products: (name, category, stock), above the low-stock threshold.
const PRODUCTS: [(&str, &str, u32); 2] = [("apple", "fruit", 100), ("laptop", "electronics", 15)];

/// What Prometheus' own `/metrics` says of a rule set, averaged over the reads.
#[derive(Debug, Clone, Default)]
struct Cost {
    /// Rules loaded (`prometheus_rule_group_rules`, summed).
    rules: f64,
    /// Rule groups.
    groups: usize,
    /// `prometheus_rule_group_last_duration_seconds`, summed, in ms.
    eval_ms: f64,
    /// The largest `prometheus_rule_group_last_duration_seconds`, in ms: a
    /// group must finish within the interval.
    slowest_ms: f64,
    /// `prometheus_rule_group_last_evaluation_samples`, summed.
    samples: f64,
    /// `process_resident_memory_bytes`, in MiB.
    rss_mib: f64,
    /// `process_cpu_seconds_total` per second while it was read.
    cpu_cores: f64,
    /// `prometheus_rule_group_iterations_missed_total`, summed, at the end.
    missed: f64,
    /// `prometheus_rule_group_iterations_total`, summed, at the end.
    iterations: f64,
    /// `prometheus_rule_evaluation_failures_total`, summed, at the end.
    failures: f64,
    /// Series of the recording rules (`storeops:*`, `slo:*`) at the end.
    recorded: f64,
    /// Firing alerts at the end (the series are healthy: none expected).
    firing: f64,
    /// `scrape_duration_seconds` of the exporter at the end.
    scrape_s: f64,
    /// `scrape_samples_scraped` of the exporter at the end.
    scraped: f64,
    /// Seconds from start until Prometheus was ready (rules loaded).
    ready_s: f64,
}

/// The rule sets compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Variant {
    /// No rules: what scraping the series costs, the baseline of the others.
    None,
    /// The per-Store rules of ec86d53.
    Today,
    /// The fleet's rules, the objectives served as series.
    Fleet,
    /// Sloth's rules for the same objectives.
    Sloth,
}

impl Variant {
    const ALL: [Variant; 4] = [
        Variant::None,
        Variant::Today,
        Variant::Fleet,
        Variant::Sloth,
    ];

    fn name(self) -> &'static str {
        match self {
            Variant::None => "none (scrapes only)",
            Variant::Today => "today (ec86d53)",
            Variant::Fleet => "fleet",
            Variant::Sloth => "Sloth v0.16.0",
        }
    }
}

/// The alert rules of N Stores on a real Prometheus, and their time to page
/// under promtool, as `make bench` runs it.
#[derive(clap::Parser)]
#[command(name = "rule-bench")]
struct Args {
    /// Prometheus, the server (`bash testbin/backends.sh prometheus`).
    #[arg(long, value_parser = tools::bench::existing_file)]
    prometheus: PathBuf,
    /// promtool (`bash testbin/backends.sh promtool`).
    #[arg(long, value_parser = tools::bench::existing_file)]
    promtool: PathBuf,
    /// Sloth (`bash testbin/backends.sh sloth`).
    #[arg(long, value_parser = tools::bench::existing_file)]
    sloth: PathBuf,
    /// Store counts, one fresh Prometheus per count and rule set.
    #[arg(long = "stores", value_delimiter = ',', default_value = "10,100,1000")]
    counts: Vec<usize>,
    /// Seconds each Prometheus runs before it is read.
    #[arg(long, default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..))]
    seconds: u64,
    /// Reads of Prometheus' /metrics, 15 s apart, averaged.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u64).range(2..))]
    samples: u64,
    /// Also write the Markdown here.
    #[arg(long)]
    out: Option<PathBuf>,
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rule-bench: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> Result<()> {
    let args = <Args as clap::Parser>::parse();
    let started = Instant::now();
    let work = tempfile::tempdir()?;
    // The six promtool runs at once: CPU-bound, minutes each, before the
    // Prometheus runs that measure CPU time.
    let mut runs = Vec::new();
    for variant in [Variant::Fleet, Variant::Sloth] {
        let rules = rules_file(variant, 1, work.path(), &args.sloth)?;
        runs.extend(ERROR_RATES.map(|rate| (variant, rate, rules.clone())));
    }
    eprintln!(
        "rule-bench: promtool, {} runs of {} simulated minutes each",
        runs.len(),
        END
    );
    let results: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = runs
            .iter()
            .map(|(variant, rate, rules)| {
                let (promtool, dir) = (&args.promtool, work.path());
                scope.spawn(move || {
                    let firing = promtool_firing(promtool, rules, *rate, dir);
                    ((*variant, *rate), firing)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().map_err(|_| "a promtool run panicked"))
            .collect()
    });
    let mut paging = BTreeMap::new();
    for result in results {
        let (key, firing) = result?;
        paging.insert(key, Paging::from_firing(&firing?));
    }
    eprintln!(
        "rule-bench: promtool done after {:.0} s",
        started.elapsed().as_secs_f64()
    );
    let mut costs = BTreeMap::new();
    for &n in &args.counts {
        for variant in Variant::ALL {
            eprintln!("rule-bench: {} at {n} stores", variant.name());
            let cost = measure(&args, variant, n)?;
            eprintln!("rule-bench:   {cost:?}");
            costs.insert((n, variant), cost);
        }
    }
    let report = markdown(&args, &costs, &paging, started.elapsed());
    print!("{report}");
    if let Some(out) = &args.out {
        std::fs::write(out, &report)?;
    }
    Ok(())
}

// --- The synthetic series -------------------------------------------------

/// The store id of the `i`-th store (from 1): `s-0001`.
fn store_id(i: usize) -> String {
    format!("s-{i:04}")
}

/// The one pod of store `i`, named as Kubernetes names a Deployment's pods.
fn pod(i: usize) -> String {
    format!("store-{}-7d9c5b6f4-abcde", store_id(i))
}

/// The labels every series of store `i` carries.
fn store_labels(i: usize) -> String {
    format!(
        r#"namespace="{NAMESPACE}",{}="{}",pod="{}""#,
        l::STORE_ID,
        store_id(i),
        pod(i)
    )
}

/// The metrics page of `stores` stores `seconds` after they started, in
/// Prometheus' text format: per store one pod with the request duration
/// histogram (4 label sets), stock gauges, and the sales, insufficient-stock
/// and dropped-telemetry counters. Counters grow linearly with `seconds`.
fn exposition(stores: usize, seconds: f64) -> String {
    let mut out = String::with_capacity(stores * 16_000);
    let h = m::HTTP_SERVER_REQUEST_DURATION_SECONDS;
    let request = |method: &str, route: &str, code: &str| {
        format!(
            r#"{}="{method}",{}="{route}",{}="{code}""#,
            l::HTTP_REQUEST_METHOD,
            l::HTTP_ROUTE,
            l::HTTP_RESPONSE_STATUS_CODE
        )
    };
    let _ = writeln!(out, "# TYPE {h} histogram");
    for i in 1..=stores {
        let store = store_labels(i);
        for (method, route, code, per_second) in REQUESTS {
            let labels = format!("{store},{}", request(method, route, code));
            let count = per_second * seconds;
            for (le, share) in m::HTTP_SERVER_REQUEST_DURATION_BUCKETS
                .iter()
                .zip(LATENCY_SHARES)
            {
                let _ = writeln!(
                    out,
                    r#"{h}_bucket{{{labels},le="{le:?}"}} {}"#,
                    count * share
                );
            }
            let _ = writeln!(out, r#"{h}_bucket{{{labels},le="+Inf"}} {count}"#);
            let _ = writeln!(out, "{h}_sum{{{labels}}} {}", count * MEAN_SECONDS);
            let _ = writeln!(out, "{h}_count{{{labels}}} {count}");
        }
    }
    let product = |name: &str, category: &str| {
        format!(
            r#"{}="{name}",{}="{category}""#,
            l::PRODUCT_NAME,
            l::PRODUCT_CATEGORY
        )
    };
    let _ = writeln!(out, "# TYPE {} gauge", m::APP_PRODUCT_STOCK);
    for i in 1..=stores {
        for (name, category, stock) in PRODUCTS {
            let _ = writeln!(
                out,
                "{}{{{},{}}} {stock}",
                m::APP_PRODUCT_STOCK,
                store_labels(i),
                product(name, category)
            );
        }
    }
    let _ = writeln!(out, "# TYPE {} counter", m::APP_ITEMS_SOLD_TOTAL);
    for i in 1..=stores {
        let _ = writeln!(
            out,
            "{}{{{}}} {}",
            m::APP_ITEMS_SOLD_TOTAL,
            store_labels(i),
            SOLD_PER_SECOND * seconds
        );
    }
    let _ = writeln!(
        out,
        "# TYPE {} counter",
        m::APP_STOCK_INSUFFICIENT_EVENTS_TOTAL
    );
    for i in 1..=stores {
        for (name, category, _) in PRODUCTS {
            let _ = writeln!(
                out,
                "{}{{{},{}}} {}",
                m::APP_STOCK_INSUFFICIENT_EVENTS_TOTAL,
                store_labels(i),
                product(name, category),
                0.001 * seconds
            );
        }
    }
    let _ = writeln!(out, "# TYPE {} counter", m::APP_TELEMETRY_DROPPED_TOTAL);
    for i in 1..=stores {
        let _ = writeln!(
            out,
            r#"{}{{{},{}="traces"}} 0"#,
            m::APP_TELEMETRY_DROPPED_TOTAL,
            store_labels(i),
            l::SIGNAL
        );
    }
    out
}

// --- The rule sets --------------------------------------------------------

/// Store `i` as the fleet's rules see it: the Store defaults.
fn target(i: usize) -> Target {
    Target {
        namespace: NAMESPACE.into(),
        store_id: store_id(i),
        job: JOB.into(),
        deployment: format!("store-{}", store_id(i)),
        availability_target: 0.995,
        latency_threshold: 0.25,
        latency_target: 0.99,
        window_days: 30,
        min_events: 20,
        low_stock_threshold: 5,
        runbook_base: monitoring::rules::DEFAULT_RUNBOOK_BASE.into(),
        scraped: true,
    }
}

/// The old design's rule groups of store `i`: the fixture with its
/// placeholders filled. Its job (the Service's name) is `@NAME@`: [`JOB`],
/// the exporter's, so that its target alerts see the scrape.
fn today_groups(i: usize) -> Result<Vec<Value>> {
    let text = TODAY_FIXTURE
        .replace("@NAMESPACE@", NAMESPACE)
        .replace("@STORE_ID@", &store_id(i))
        .replace("@NAME@", JOB);
    match serde_json::from_str(&text)? {
        Value::Array(groups) => Ok(groups),
        _ => Err("the fixture is not a list of rule groups".into()),
    }
}

/// Sloth's spec for stores `1..=n`: per store an availability SLO (5xx of
/// the API routes, 99.5 %) and a latency SLO (requests over 0.25 s, 99 %),
/// labelled with the store's namespace and store id; the availability alert
/// named as storeops', severities `critical` (page) and `warning` (ticket).
fn sloth_spec(n: usize) -> String {
    let count = format!("{}_count", m::HTTP_SERVER_REQUEST_DURATION_SECONDS);
    let bucket = format!("{}_bucket", m::HTTP_SERVER_REQUEST_DURATION_SECONDS);
    let api = monitoring::rules::api_matcher();
    let q = |s: &str| serde_json::to_string(s).unwrap_or_default();
    // Sloth tells its spec kinds apart by YAML, not JSON: YAML with JSON strings.
    let mut out = String::from("version: \"prometheus/v1\"\nservice: \"store\"\nslos:\n");
    for i in 1..=n {
        let id = store_id(i);
        let selector = format!(r#"namespace="{NAMESPACE}",{}="{id}",{api}"#, l::STORE_ID);
        let total = format!("sum(rate({count}{{{selector}}}[{{{{.window}}}}]))");
        let errors = format!(
            r#"sum(rate({count}{{{selector},{}=~"5.."}}[{{{{.window}}}}]))"#,
            l::HTTP_RESPONSE_STATUS_CODE
        );
        let slow =
            format!(r#"({total} - sum(rate({bucket}{{{selector},le="0.25"}}[{{{{.window}}}}])))"#);
        for (slo, objective, error_query, alert) in [
            (
                "availability",
                99.5,
                &errors,
                names::AVAILABILITY_BUDGET_BURN,
            ),
            ("latency", 99.0, &slow, names::LATENCY_BUDGET_BURN),
        ] {
            let _ = write!(
                out,
                "  - name: {}\n    objective: {objective}\n    labels: {{namespace: {}, {}: {}}}\n    sli:\n      events:\n        error_query: {}\n        total_query: {}\n    alerting:\n      name: {alert}\n      page_alert: {{labels: {{severity: critical}}}}\n      ticket_alert: {{labels: {{severity: warning}}}}\n",
                q(&format!("{id}-{slo}")),
                q(NAMESPACE),
                l::STORE_ID,
                q(&id),
                q(error_query),
                q(&total),
            );
        }
    }
    out
}

/// Writes the rules file of `variant` for stores `1..=n` into `dir` and
/// returns its path (Prometheus reads JSON as YAML; Sloth writes YAML).
fn rules_file(variant: Variant, n: usize, dir: &Path, sloth: &Path) -> Result<PathBuf> {
    let file = dir.join(format!("rules-{variant:?}-{n}.yaml").to_lowercase());
    match variant {
        Variant::None => {
            std::fs::write(&file, r#"{"groups": []}"#)?;
        }
        Variant::Today => {
            let mut groups = Vec::new();
            for i in 1..=n {
                groups.extend(today_groups(i)?);
            }
            std::fs::write(&file, serde_json::to_vec(&json!({ "groups": groups }))?)?;
        }
        Variant::Fleet => {
            let groups = monitoring::fleet_groups();
            std::fs::write(&file, serde_json::to_vec(&json!({ "groups": groups }))?)?;
        }
        Variant::Sloth => {
            let spec = dir.join(format!("sloth-spec-{n}.yaml"));
            std::fs::write(&spec, sloth_spec(n))?;
            let out = std::process::Command::new(sloth)
                .arg("generate")
                .arg("-i")
                .arg(&spec)
                .arg(format!("--out={}", file.display()))
                .arg("--no-log")
                .output()?;
            if !out.status.success() {
                return Err(format!(
                    "sloth generate -i {}: {}",
                    spec.display(),
                    String::from_utf8_lossy(&out.stderr)
                )
                .into());
            }
        }
    }
    Ok(file)
}

// --- Cost on a real Prometheus --------------------------------------------

/// What the exporter serves beside the stores' series: for the fleet, the
/// Stores' objectives as the operator serves them (its rules read them
/// there); nothing for the others.
fn objectives_page(variant: Variant, n: usize) -> String {
    if variant == Variant::Fleet {
        monitoring::rules::exposition(&(1..=n).map(target).collect::<Vec<_>>())
    } else {
        String::new()
    }
}

/// The samples of one scrape of the exporter for `variant` at `n` stores.
fn page_samples(variant: Variant, n: usize) -> f64 {
    (exposition(n, 0.0) + &objectives_page(variant, n))
        .lines()
        .filter(|l| !l.starts_with('#'))
        .count() as f64
}

/// One fresh Prometheus with `variant`'s rules for `n` stores, scraping the
/// exporter for `--seconds`, then read `--samples` times.
fn measure(args: &Args, variant: Variant, n: usize) -> Result<Cost> {
    let dir = tempfile::tempdir()?;
    let rules = rules_file(variant, n, dir.path(), &args.sloth)?;
    let objectives = objectives_page(variant, n);
    let exporter = testenv::exporter::Exporter::start(Box::new(move |seconds| {
        exposition(n, seconds) + &objectives
    }))?;
    let interval = format!("{INTERVAL_SECONDS}s");
    let config = json!({
        "global": {"scrape_interval": interval, "evaluation_interval": interval},
        "rule_files": [rules],
        "scrape_configs": [{
            "job_name": JOB,
            "honor_labels": true,
            "static_configs": [{
                "targets": [exporter.target()],
                "labels": {"namespace": NAMESPACE},
            }],
        }],
    });
    let started = Instant::now();
    let mut prometheus = Prometheus::start(&args.prometheus, dir.path(), &config, free_port()?)?;
    let ready_s = started.elapsed().as_secs_f64();
    std::thread::sleep(Duration::from_secs(args.seconds));
    let mut reads = Vec::new();
    for k in 0..args.samples {
        if k > 0 {
            std::thread::sleep(Duration::from_secs(INTERVAL_SECONDS));
        }
        prometheus.check_running()?;
        reads.push((Instant::now(), http_get(prometheus.port, "/metrics")?));
    }
    let recorded = query_scalar(
        prometheus.port,
        r#"count({__name__=~"storeops:.*|slo:.*"})"#,
    )?;
    let firing = query_scalar(prometheus.port, r#"count(ALERTS{alertstate="firing"})"#)?;
    let scrape_s = query_scalar(
        prometheus.port,
        &format!(r#"scrape_duration_seconds{{job="{JOB}"}}"#),
    )?;
    let scraped = query_scalar(
        prometheus.port,
        &format!(r#"scrape_samples_scraped{{job="{JOB}"}}"#),
    )?;
    drop(prometheus);
    drop(exporter);
    for (k, (_, text)) in reads.iter().enumerate() {
        eprintln!(
            "rule-bench:   read {k}: eval {:.1} ms, samples {:.0}, RSS {:.0} MiB",
            metric_sum(text, "prometheus_rule_group_last_duration_seconds") * 1000.0,
            metric_sum(text, "prometheus_rule_group_last_evaluation_samples"),
            metric_sum(text, "process_resident_memory_bytes") / (1024.0 * 1024.0)
        );
    }
    let mut cost = cost_of(&reads)?;
    cost.recorded = recorded;
    cost.firing = firing;
    cost.scrape_s = scrape_s;
    cost.scraped = scraped;
    cost.ready_s = ready_s;
    Ok(cost)
}

/// The figures of several reads of Prometheus' `/metrics` (when, text).
fn cost_of(reads: &[(Instant, String)]) -> Result<Cost> {
    let (Some(first), Some(last)) = (reads.first(), reads.last()) else {
        return Err("no reads of /metrics".into());
    };
    let mean =
        |name: &str| reads.iter().map(|r| metric_sum(&r.1, name)).sum::<f64>() / reads.len() as f64;
    let seconds = last.0.duration_since(first.0).as_secs_f64();
    let cpu = metric_sum(&last.1, "process_cpu_seconds_total")
        - metric_sum(&first.1, "process_cpu_seconds_total");
    Ok(Cost {
        rules: metric_sum(&last.1, "prometheus_rule_group_rules"),
        groups: metric_lines(&last.1, "prometheus_rule_group_rules").count(),
        eval_ms: mean("prometheus_rule_group_last_duration_seconds") * 1000.0,
        slowest_ms: reads
            .iter()
            .map(|r| {
                metric_lines(&r.1, "prometheus_rule_group_last_duration_seconds")
                    .fold(0.0, f64::max)
            })
            .sum::<f64>()
            / reads.len() as f64
            * 1000.0,
        samples: mean("prometheus_rule_group_last_evaluation_samples"),
        rss_mib: mean("process_resident_memory_bytes") / (1024.0 * 1024.0),
        cpu_cores: if seconds > 0.0 {
            cpu / seconds
        } else {
            f64::NAN
        },
        missed: metric_sum(&last.1, "prometheus_rule_group_iterations_missed_total"),
        iterations: metric_sum(&last.1, "prometheus_rule_group_iterations_total"),
        failures: metric_sum(&last.1, "prometheus_rule_evaluation_failures_total"),
        ..Cost::default()
    })
}

/// The values of metric `name`'s samples in a text-format page.
fn metric_lines<'a>(text: &'a str, name: &'a str) -> impl Iterator<Item = f64> + 'a {
    text.lines().filter_map(move |line| {
        let rest = line.strip_prefix(name)?;
        if !(rest.starts_with('{') || rest.starts_with(' ')) {
            return None;
        }
        line.rsplit(' ').next()?.parse::<f64>().ok()
    })
}

/// The sum of metric `name`'s samples in a text-format page (0 when absent).
fn metric_sum(text: &str, name: &str) -> f64 {
    // An empty f64 sum is -0.0, which the report would print as "-0".
    metric_lines(text, name).fold(0.0, |a, b| a + b)
}

/// The body of `GET path` on loopback `port` (HTTP/1.0: no chunks), which
/// must answer 200.
fn http_get(port: u16, path: &str) -> Result<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(120)))?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")?;
    let mut text = String::new();
    stream.read_to_string(&mut text)?;
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("GET {path}: no HTTP answer"))?;
    if head.split(' ').nth(1).is_none_or(|code| code != "200") {
        return Err(format!("GET {path}: {head}: {body}").into());
    }
    Ok(body.to_string())
}

/// `%XX` of every byte but unreserved ones, for a query string.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The value of an instant query of one result (0 when it has none).
fn query_scalar(port: u16, promql: &str) -> Result<f64> {
    let body = http_get(port, &format!("/api/v1/query?query={}", encode(promql)))?;
    let answer: Value = serde_json::from_str(&body)?;
    if answer["status"] != "success" {
        return Err(format!("{promql}: {answer}").into());
    }
    Ok(answer["data"]["result"][0]["value"][1]
        .as_str()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0))
}

// --- Time to page under promtool ------------------------------------------

/// The error rates of the time-to-page runs, in percent of the requests.
const ERROR_RATES: [u32; 3] = [100, 10, 1];
/// Requests per minute of the store in the time-to-page runs.
const PAGE_REQUESTS_PER_MINUTE: u32 = 600;
/// The minute after which the errors start: after 3 healthy days. They
/// start (and stop) 30 s after an evaluation, as they would at any moment:
/// the minute of the start counts half the errors. Started on an
/// evaluation, a window's error ratio would reach a threshold exactly on an
/// evaluation (0.1 × 216/1440 = 3 × 0.005), where `>` is decided by float
/// rounding and rate()'s extrapolation, not by the rules.
const ERRORS_START: u64 = 3 * 24 * 60;
/// Seconds from the evaluation at [`ERRORS_START`] (and [`ERRORS_STOP`]) to
/// the start (stop) of the errors.
const OFFSET_SECONDS: i64 = 30;
/// How long they last (minutes).
const ERRORS_MINUTES: u64 = 48 * 60;
/// How long the series go on after (minutes): every alert's short window
/// (6h at most) is healthy again well before.
const AFTER_MINUTES: u64 = 12 * 60;
/// When the errors stop.
const ERRORS_STOP: u64 = ERRORS_START + ERRORS_MINUTES;
/// The end of the series.
const END: u64 = ERRORS_STOP + AFTER_MINUTES;
/// Minutes after the stop scanned each minute.
const FINE_AFTER_STOP: u64 = 8 * 60;

/// The eval times looked at (minutes): hourly in the healthy days, each
/// minute from the start of the errors to 8 hours after they stop, every 10
/// minutes after that.
fn scan_times() -> Vec<u64> {
    (60..ERRORS_START)
        .step_by(60)
        .chain(ERRORS_START..=ERRORS_STOP + FINE_AFTER_STOP)
        .chain((ERRORS_STOP + FINE_AFTER_STOP + 10..=END).step_by(10))
        .collect()
}

/// promtool's series notation of a counter rising by `per_minute` for
/// `minutes` each, one phase after the other, from 0 (one value a minute).
fn counter_values(phases: &[(u32, u64)]) -> String {
    let mut parts = Vec::new();
    let mut value: u64 = 0;
    for (k, &(per_minute, minutes)) in phases.iter().enumerate() {
        let per_minute = u64::from(per_minute);
        // `a+bxn` is n+1 values from a; a later phase starts a minute on.
        if k == 0 {
            parts.push(format!("{value}+{per_minute}x{minutes}"));
        } else {
            parts.push(format!(
                "{}+{per_minute}x{}",
                value + per_minute,
                minutes - 1
            ));
        }
        value += per_minute * minutes;
    }
    parts.join(" ")
}

/// The names of the groups of a rules file (storeops' JSON, Sloth's YAML),
/// groups of recording rules only first, then those with alerts (storeops':
/// any `alert` rule; Sloth's: `sloth-slo-alerts-*`): promtool's evaluation
/// order at each step. Without one it evaluates a test's groups in an order
/// that varies from run to run, and an alert group evaluated before the
/// recording rules it reads sees their values of one step earlier. For
/// Sloth this is its best case: in Prometheus its alert groups run apart
/// from its recording groups and read them up to an interval late.
fn group_order(rules_text: &str) -> Vec<String> {
    let groups: Vec<(String, bool)> = match serde_json::from_str::<Value>(rules_text) {
        Ok(file) => file["groups"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|g| {
                let alerts = g["rules"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|r| r.get("alert").is_some());
                Some((g["name"].as_str()?.to_string(), alerts))
            })
            .collect(),
        Err(_) => rules_text
            .lines()
            .filter_map(|l| l.strip_prefix("- name: "))
            .map(|n| n.trim().trim_matches('"').to_string())
            .map(|n| {
                let alerts = n.starts_with("sloth-slo-alerts-");
                (n, alerts)
            })
            .collect(),
    };
    let (mut order, last): (Vec<_>, Vec<_>) = groups.into_iter().partition(|g| !g.1);
    order.extend(last);
    order.into_iter().map(|g| g.0).collect()
}

/// A promtool test file for one store at `rate` % errors: `rules` (its
/// groups evaluated in `order`), the series, and at every [`scan_times`] a
/// test that expects no `StoreAvailabilityBudgetBurn`, so that promtool
/// reports every one firing.
fn page_test(rules: &Path, order: &[String], rate: u32) -> Value {
    let all = PAGE_REQUESTS_PER_MINUTE;
    let bad = all * rate / 100;
    let count = format!("{}_count", m::HTTP_SERVER_REQUEST_DURATION_SECONDS);
    let series = |code: &str| {
        format!(
            r#"{count}{{{},job="{JOB}",instance="10.244.0.7:8080",{}="GET",{}="/products",{}="{code}"}}"#,
            store_labels(1),
            l::HTTP_REQUEST_METHOD,
            l::HTTP_ROUTE,
            l::HTTP_RESPONSE_STATUS_CODE
        )
    };
    // Half a minute of errors in the minutes where they start and stop.
    let half = bad / 2;
    let ok = counter_values(&[
        (all, ERRORS_START),
        (all - half, 1),
        (all - bad, ERRORS_MINUTES - 1),
        (all - half, 1),
        (all, AFTER_MINUTES - 1),
    ]);
    let failed = counter_values(&[
        (0, ERRORS_START),
        (half, 1),
        (bad, ERRORS_MINUTES - 1),
        (half, 1),
        (0, AFTER_MINUTES - 1),
    ]);
    // The Store's objectives as the operator serves them, for the fleet's
    // rules (Sloth's read none of them).
    let minutes = ERRORS_START + ERRORS_MINUTES + AFTER_MINUTES + 1;
    let mut input = vec![
        json!({"series": series("200"), "values": ok}),
        json!({"series": series("500"), "values": failed}),
    ];
    let scrape = [
        ("namespace", "storeops-system"),
        ("job", "storeops-operator"),
    ];
    let served = target(1).exported();
    let stores = monitoring::rules::exported_stores(1);
    input.extend(served.iter().chain([&stores]).map(
        |e| json!({"series": e.selector(&scrape), "values": format!("{:?}x{minutes}", e.value)}),
    ));
    let tests: Vec<Value> = scan_times()
        .into_iter()
        .map(|t| {
            json!({"eval_time": format!("{t}m"), "alertname": names::AVAILABILITY_BUDGET_BURN, "exp_alerts": []})
        })
        .collect();
    json!({
        "rule_files": [rules],
        "evaluation_interval": "1m",
        "group_eval_order": order,
        "tests": [{
            "interval": "1m",
            "input_series": input,
            "alert_rule_test": tests,
        }],
    })
}

/// Runs promtool over `rules` at `rate` % errors: the severities of
/// `StoreAvailabilityBudgetBurn` firing at each scanned minute where any does.
fn promtool_firing(
    promtool: &Path,
    rules: &Path,
    rate: u32,
    dir: &Path,
) -> Result<BTreeMap<u64, BTreeSet<String>>> {
    let stem = rules
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("rules");
    let file = dir.join(format!("page-{stem}-{rate}.json"));
    let order = group_order(&std::fs::read_to_string(rules)?);
    std::fs::write(&file, serde_json::to_vec(&page_test(rules, &order, rate))?)?;
    // Killed with this thread (setpriv --pdeathsig): a rule-bench stopped
    // midway leaves no promtool running for minutes.
    let out = std::process::Command::new("setpriv")
        .args(["--pdeathsig", "KILL", "--"])
        .arg(promtool)
        .args(["test", "rules"])
        .arg(&file)
        .output()?;
    // The failures go to stderr, the summary to stdout.
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let firing = parse_promtool(&text, names::AVAILABILITY_BUDGET_BURN)?;
    if !out.status.success() && firing.is_empty() {
        return Err(format!("promtool test rules {}: {text}", file.display()).into());
    }
    Ok(firing)
}

/// From promtool's report of failed alert tests (`alertname: A, time:
/// 3d4m,` then `got:[` with `Labels:{... severity="critical" ...}` lines):
/// the severities of `alertname` firing, by eval time in minutes.
fn parse_promtool(output: &str, alertname: &str) -> Result<BTreeMap<u64, BTreeSet<String>>> {
    let mut firing: BTreeMap<u64, BTreeSet<String>> = BTreeMap::new();
    let mut current: Option<u64> = None;
    let head = format!("alertname: {alertname}, time: ");
    for line in output.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix(&head) {
            let time = rest.split(',').next().unwrap_or_default().trim();
            let minutes = minutes(time).ok_or_else(|| format!("promtool's time {time:?}"))?;
            firing.entry(minutes).or_default();
            current = Some(minutes);
        } else if line.starts_with("alertname: ") {
            current = None;
        } else if let (Some(t), Some(labels)) = (current, line.strip_prefix("Labels:{"))
            && let Some(severity) = labels
                .split("severity=\"")
                .nth(1)
                .and_then(|s| s.split('"').next())
        {
            firing.entry(t).or_default().insert(severity.to_string());
        }
    }
    Ok(firing)
}

/// A Prometheus duration (`3d4m`, `1h`, `0s`) in whole minutes.
fn minutes(text: &str) -> Option<u64> {
    let mut total_ms: u64 = 0;
    let mut number = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = if c == 'm' && chars.peek() == Some(&'s') {
            chars.next();
            "ms"
        } else {
            match c {
                'y' => "y",
                'w' => "w",
                'd' => "d",
                'h' => "h",
                'm' => "m",
                's' => "s",
                _ => return None,
            }
        };
        let n: u64 = number.parse().ok()?;
        number.clear();
        total_ms += n * match unit {
            "y" => 365 * 86_400_000,
            "w" => 7 * 86_400_000,
            "d" => 86_400_000,
            "h" => 3_600_000,
            "m" => 60_000,
            "s" => 1000,
            _ => 1,
        };
    }
    number.is_empty().then_some(total_ms / 60_000)
}

/// When one rule set paged and let go, per severity (seconds).
#[derive(Debug, Clone, Default, PartialEq)]
struct Paging {
    /// From the start of the errors to the first evaluation firing, by severity.
    first: BTreeMap<String, i64>,
    /// From the end of the errors to the first evaluation from which it
    /// never fires again (0 or less: it stopped while the errors went on).
    resolved: BTreeMap<String, i64>,
    /// Severities still firing at the end of the series.
    unresolved: BTreeSet<String>,
    /// Scanned minutes before the errors at which something fired (minutes).
    early: Vec<u64>,
}

impl Paging {
    /// From the firing severities by scanned minute ([`scan_times`]).
    fn from_firing(firing: &BTreeMap<u64, BTreeSet<String>>) -> Paging {
        let fires = |t: u64, severity: &str| firing.get(&t).is_some_and(|s| s.contains(severity));
        let times = scan_times();
        let mut paging = Paging {
            early: firing
                .iter()
                .filter(|(t, s)| **t <= ERRORS_START && !s.is_empty())
                .map(|(t, _)| *t)
                .collect(),
            ..Paging::default()
        };
        for severity in ["critical", "warning"] {
            let Some(first) = times
                .iter()
                .find(|&&t| t > ERRORS_START && fires(t, severity))
            else {
                continue;
            };
            paging.first.insert(
                severity.into(),
                (first - ERRORS_START) as i64 * 60 - OFFSET_SECONDS,
            );
            // The first scanned minute after the stop from which it never fires again.
            let last_firing = times.iter().rev().find(|&&t| fires(t, severity));
            match last_firing {
                Some(&t) if t >= END => {
                    paging.unresolved.insert(severity.into());
                }
                Some(&t) => {
                    let after = times.iter().find(|&&s| s > t).copied().unwrap_or(END);
                    paging.resolved.insert(
                        severity.into(),
                        (after as i64 - ERRORS_STOP as i64) * 60 - OFFSET_SECONDS,
                    );
                }
                None => {}
            }
        }
        paging
    }
}

// --- The report -----------------------------------------------------------

/// The windows of the rule sets (storeops' and Sloth's) longer than a run
/// of `seconds`, for the report: `1h to 30d`.
fn longer_windows(seconds: u64) -> String {
    let windows = [
        ("5m", 300),
        ("30m", 1800),
        ("1h", 3600),
        ("2h", 7200),
        ("6h", 21_600),
        ("1d", 86_400),
        ("3d", 259_200),
        ("30d", 2_592_000),
    ];
    let longer: Vec<&str> = windows
        .iter()
        .filter(|(_, s)| *s > seconds)
        .map(|(w, _)| *w)
        .collect();
    match longer.as_slice() {
        [] => "none".into(),
        [one] => (*one).into(),
        [first, .., last] => format!("{first} to {last}"),
    }
}

/// `2h05m`, `7m`, for minutes.
fn hm(minutes: u64) -> String {
    if minutes < 60 {
        format!("{minutes}m")
    } else {
        format!("{}h{:02}m", minutes / 60, minutes % 60)
    }
}

/// `4m30s`, `36h00m30s`, for seconds.
fn hms(seconds: i64) -> String {
    let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    if h == 0 {
        format!("{m}m{s:02}s")
    } else {
        format!("{h}h{m:02}m{s:02}s")
    }
}

fn markdown(
    args: &Args,
    costs: &BTreeMap<(usize, Variant), Cost>,
    paging: &BTreeMap<(Variant, u32), Paging>,
    took: Duration,
) -> String {
    let mut out = String::new();
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let counts: Vec<String> = args.counts.iter().map(usize::to_string).collect();
    let _ = writeln!(
        out,
        "## Alert rules at scale: today's, the fleet's and Sloth's\n"
    );
    let _ = writeln!(
        out,
        "Generated by `make bench`: `rule-bench --stores {} --seconds {}` (tools/src/bin/rule-bench.rs), {}, machine: {cores} cores, {}; the whole run took {:.0} s.\n",
        counts.join(","),
        args.seconds,
        humantime::format_rfc3339_seconds(std::time::SystemTime::now()),
        std::env::consts::ARCH,
        took.as_secs_f64()
    );
    let _ = writeln!(
        out,
        "- Rule sets: **today**: the per-Store rules of the old design (commit ec86d53, frozen in tools/bench/per-store-rules-ec86d53.json), once per Store; **fleet**: `operator::monitoring::fleet_groups` (the fleet's rules once, none per Store; the Stores' objectives served as the operator serves them, on the exporter's page); **Sloth v0.16.0**: `sloth generate` for the same objectives, 2 SLOs per Store (availability 99.5 % over the API's 5xx, latency 99 % under 0.25 s).\n\
         - Series: one in-process exporter of N stores, one pod each, scraped every {INTERVAL_SECONDS} s (`honor_labels`), rules evaluated every {INTERVAL_SECONDS} s. Per store 10 API requests/s (GET /products 6.99/s, of which 0.01/s answer 500: 0.1 %; POST /products/{{name}}/buy 3/s) and a readiness probe 0.1/s; 99.5 % of the requests under 0.25 s, 96 % under 0.1 s (the request histogram's 15 buckets per label set); 2 stock gauges, sales, insufficient-stock and dropped-telemetry counters: {} series per store; for the fleet the same page also serves the Stores' objectives as the operator does (11 series per store and 1). Healthy: no alert should fire.\n\
         - Each count and rule set: a fresh Prometheus (fresh TSDB) run {} s, then its own /metrics read {} times {INTERVAL_SECONDS} s apart and averaged. The counters start with the run: windows longer than the run ({}) hold only the run's data, so these figures are the cost of a young TSDB; a long window over days of samples reads more samples per evaluation, for every rule set.\n\
         - eval ms: `prometheus_rule_group_last_duration_seconds` summed over the groups (the rule evaluation time of one round). Each group is evaluated on its own, at its own offset in the interval, and its duration is wall time: with many groups some run at once and wait for each other (for the CPU and for the query engine's 20 concurrent queries), and the sum counts that waiting, so it can exceed the interval without a missed round. CPU cores: Prometheus' CPU seconds per second while read, its scrapes included; rules' CPU cores: that less the scrape-only run's of the same count, the rules' cost in CPU. samples: `prometheus_rule_group_last_evaluation_samples` summed; rounds: `prometheus_rule_group_iterations_total` over all groups; missed: `prometheus_rule_group_iterations_missed_total` over all groups; recorded: series of `storeops:*` and `slo:*` at the end (0 would be a rule set evaluating nothing); firing: alerts firing at the end; ready s: start until /-/ready (rules loaded); scrape s: the exporter's last `scrape_duration_seconds`.\n",
        exposition(1, 0.0)
            .lines()
            .filter(|l| !l.starts_with('#'))
            .count(),
        args.seconds,
        args.samples,
        longer_windows(args.seconds)
    );
    let _ = writeln!(
        out,
        "| Stores | rule set | groups | rules | eval ms | slowest group ms | samples | recorded | firing | RSS MiB | CPU cores | rules' CPU cores | rounds | missed | failures | ready s | scrape s |"
    );
    let _ = writeln!(
        out,
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    // CPU over the scrape-only run of the same count: what the rules cost.
    let rule_cpu = |n: usize, v: Variant| -> Option<f64> {
        let base = costs.get(&(n, Variant::None))?;
        (v != Variant::None).then(|| costs.get(&(n, v)).map(|c| c.cpu_cores - base.cpu_cores))?
    };
    for ((n, variant), c) in costs {
        let _ = writeln!(
            out,
            "| {n} | {} | {} | {:.0} | {:.1} | {:.1} | {:.0} | {:.0} | {:.0} | {:.0} | {:.2} | {} | {:.0} | {:.0} | {:.0} | {:.1} | {:.2} |",
            variant.name(),
            c.groups,
            c.rules,
            c.eval_ms,
            c.slowest_ms,
            c.samples,
            c.recorded,
            c.firing,
            c.rss_mib,
            c.cpu_cores,
            match rule_cpu(*n, *variant) {
                Some(cpu) => format!("{cpu:.2}"),
                None => "-".into(),
            },
            c.iterations,
            c.missed,
            c.failures,
            c.ready_s,
            c.scrape_s
        );
    }
    let short: Vec<String> = costs
        .iter()
        .filter(|((n, v), c)| c.scraped != page_samples(*v, *n))
        .map(|((n, v), c)| {
            format!(
                "{} at {n}: {:.0} of {:.0}",
                v.name(),
                c.scraped,
                page_samples(*v, *n)
            )
        })
        .collect();
    if !short.is_empty() {
        let _ = writeln!(
            out,
            "
**Scrapes other than the exporter's page**: {}.",
            short.join(", ")
        );
    }
    let _ = writeln!(
        out,
        "\n| Stores | rules fleet/today | eval fleet/today | rules' CPU fleet/today | samples fleet/today | RSS fleet/today | rules fleet/Sloth | eval fleet/Sloth | rules' CPU fleet/Sloth | samples fleet/Sloth | RSS fleet/Sloth |"
    );
    let _ = writeln!(
        out,
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    let ratio = |a: f64, b: f64| {
        if b > 0.0 {
            format!("{:.3}", a / b)
        } else {
            "n/a".into()
        }
    };
    let cpu_ratio = |n: usize, v: Variant| match (rule_cpu(n, Variant::Fleet), rule_cpu(n, v)) {
        (Some(f), Some(o)) => ratio(f, o),
        _ => "n/a".into(),
    };
    for &n in &args.counts {
        let (Some(f), Some(t), Some(s)) = (
            costs.get(&(n, Variant::Fleet)),
            costs.get(&(n, Variant::Today)),
            costs.get(&(n, Variant::Sloth)),
        ) else {
            continue;
        };
        let _ = writeln!(
            out,
            "| {n} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            ratio(f.rules, t.rules),
            ratio(f.eval_ms, t.eval_ms),
            cpu_ratio(n, Variant::Today),
            ratio(f.samples, t.samples),
            ratio(f.rss_mib, t.rss_mib),
            ratio(f.rules, s.rules),
            ratio(f.eval_ms, s.eval_ms),
            cpu_ratio(n, Variant::Sloth),
            ratio(f.samples, s.samples),
            ratio(f.rss_mib, s.rss_mib)
        );
    }
    let met = |ok: bool| if ok { "met" } else { "**not met**" };
    let _ = writeln!(out, "\n| target | measured | |\n|---|---|---|");
    if let Some(&largest) = args.counts.iter().max() {
        let get = |v| costs.get(&(largest, v));
        if let (Some(f), Some(t)) = (get(Variant::Fleet), get(Variant::Today)) {
            let limit = 40.0 + 2.0 * largest as f64;
            let _ = writeln!(
                out,
                "| at {largest} Stores at most 40 rules plus 2 per Store ({limit:.0}) | {:.0} rules | {} |",
                f.rules,
                met(f.rules <= limit)
            );
            let _ = writeln!(
                out,
                "| at {largest} Stores evaluation at most 1/20 of today's ({:.1} ms) | {:.1} ms ({}) | {} |",
                t.eval_ms / 20.0,
                f.eval_ms,
                ratio(f.eval_ms, t.eval_ms),
                met(f.eval_ms <= t.eval_ms / 20.0)
            );
            if let (Some(fc), Some(tc)) = (
                rule_cpu(largest, Variant::Fleet),
                rule_cpu(largest, Variant::Today),
            ) {
                let _ = writeln!(
                    out,
                    "| the same in CPU: the rules' CPU (over the scrape-only run) at most 1/20 of today's ({:.3} cores) | {fc:.3} cores ({}) | {} |",
                    tc / 20.0,
                    ratio(fc, tc),
                    met(fc <= tc / 20.0)
                );
            }
        }
    }
    let cheaper: Vec<String> = args
        .counts
        .iter()
        .filter_map(|&n| {
            let (f, s) = (
                costs.get(&(n, Variant::Fleet))?,
                costs.get(&(n, Variant::Sloth))?,
            );
            Some(format!(
                "{n}: {:.1} against {:.1} ms, {:.0} against {:.0} rules",
                f.eval_ms, s.eval_ms, f.rules, s.rules
            ))
        })
        .collect();
    let all_cheaper = args.counts.iter().all(|&n| {
        match (
            costs.get(&(n, Variant::Fleet)),
            costs.get(&(n, Variant::Sloth)),
        ) {
            (Some(f), Some(s)) => f.eval_ms < s.eval_ms && f.rules < s.rules,
            _ => false,
        }
    });
    let _ = writeln!(
        out,
        "| fleet costs less than Sloth at every count (eval time and rules) | {} | {} |",
        cheaper.join("; "),
        met(all_cheaper)
    );
    let faster = ERROR_RATES.iter().all(|&rate| {
        let (Some(f), Some(s)) = (
            paging.get(&(Variant::Fleet, rate)),
            paging.get(&(Variant::Sloth, rate)),
        ) else {
            return false;
        };
        ["critical", "warning"]
            .iter()
            .all(|sev| match (f.first.get(*sev), s.first.get(*sev)) {
                (_, None) => true,
                (Some(a), Some(b)) => a <= b,
                (None, Some(_)) => false,
            })
    });
    let _ = writeln!(
        out,
        "| storeops pages at least as fast as Sloth at every error rate (first critical and first warning) | below | {} |",
        met(faster)
    );

    let coarse = paging
        .values()
        .flat_map(|p| p.resolved.values())
        .any(|&r| r > (FINE_AFTER_STOP * 60) as i64);
    let _ = writeln!(
        out,
        "\n### Time to page and to resolve (promtool)\n\n\
         One store, 600 requests a minute on GET /products, objective 99.5 % over 30 days, under `promtool test rules` (one sample a minute, rules evaluated every minute; `group_eval_order`: groups of recording rules only before those with alerts, Sloth's best case, as in Prometheus its alert groups run apart from its recording groups and read them up to an interval late): 3 healthy days (no 5xx), then the error rate below for 48 hours from t0 = 3d + 30 s, then healthy again for 12 hours. The errors start and stop 30 s after an evaluation (the minute of each counts half of them), as they would at any moment: started on an evaluation, a ratio would reach a threshold exactly on one (0.1 × 216 min / 1440 min = 3 × 0.005), where `>` is decided by float rounding. storeops: `operator::monitoring::fleet_groups`, the Store's objectives as input series as the operator serves them; Sloth: its rules for the same SLO; both alerts are `StoreAvailabilityBudgetBurn`, Sloth's page alert labelled `severity=critical`, its ticket alert `warning`. Looked at every minute from t0 to 8 hours after the errors stop, hourly before t0 and every 10 minutes from then on{}; first: from t0 to the first evaluation with an alert of that severity firing; resolved: from the end of the errors to the first evaluation from which none of that severity fires again. Both rule sets read the same 500 series, present (at 0) from the start.\n",
        if coarse {
            " (so the resolutions after that are to 10 minutes)"
        } else {
            " (every resolution below is earlier, to the minute)"
        }
    );
    let _ = writeln!(
        out,
        "| error rate | first critical: storeops | Sloth | first warning: storeops | Sloth | critical resolved: storeops | Sloth | warning resolved: storeops | Sloth |"
    );
    let _ = writeln!(out, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let first = |p: Option<&Paging>, sev: &str| match p.and_then(|p| p.first.get(sev)) {
        Some(&s) => hms(s),
        None => "never (48h)".into(),
    };
    let resolved = |p: Option<&Paging>, sev: &str| {
        let Some(p) = p else {
            return "n/a".to_string();
        };
        match p.resolved.get(sev) {
            Some(&s) if s <= 0 => "before the stop".into(),
            Some(&s) => hms(s),
            None if p.unresolved.contains(sev) => "not in 12h".into(),
            None => "-".into(),
        }
    };
    let mut early = Vec::new();
    for rate in ERROR_RATES {
        let f = paging.get(&(Variant::Fleet, rate));
        let s = paging.get(&(Variant::Sloth, rate));
        let _ = writeln!(
            out,
            "| {rate} % | {} | {} | {} | {} | {} | {} | {} | {} |",
            first(f, "critical"),
            first(s, "critical"),
            first(f, "warning"),
            first(s, "warning"),
            resolved(f, "critical"),
            resolved(s, "critical"),
            resolved(f, "warning"),
            resolved(s, "warning")
        );
        for (variant, p) in [(Variant::Fleet, f), (Variant::Sloth, s)] {
            if let Some(p) = p.filter(|p| !p.early.is_empty()) {
                early.push(format!(
                    "{} at {rate} %: fired before the errors, at {}",
                    variant.name(),
                    p.early
                        .iter()
                        .map(|&m| hm(m))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
    }
    if early.is_empty() {
        let _ = writeln!(out, "\nNeither fired during the healthy days.");
    } else {
        let _ = writeln!(out, "\n{}.", early.join("; "));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exporter_serves_what_the_rules_read() {
        let text = exposition(1, 100.0);
        let store = r#"namespace="bench",store_id="s-0001",pod="store-s-0001-7d9c5b6f4-abcde""#;
        for line in [
            format!(
                r#"http_server_request_duration_seconds_count{{{store},http_request_method="GET",http_route="/products",http_response_status_code="500"}} 1"#
            ),
            format!(
                r#"http_server_request_duration_seconds_count{{{store},http_request_method="GET",http_route="/products",http_response_status_code="200"}} 699"#
            ),
            format!(
                r#"http_server_request_duration_seconds_bucket{{{store},http_request_method="POST",http_route="/products/{{name}}/buy",http_response_status_code="200",le="0.25"}} 298.5"#
            ),
            format!(
                r#"http_server_request_duration_seconds_bucket{{{store},http_request_method="GET",http_route="/readyz",http_response_status_code="200",le="+Inf"}} 10"#
            ),
            format!(
                r#"app_product_stock{{{store},product_name="laptop",product_category="electronics"}} 15"#
            ),
            format!(r#"app_items_sold_total{{{store}}} 300"#),
            format!(r#"app_telemetry_dropped_total{{{store},signal="traces"}} 0"#),
        ] {
            assert!(text.lines().any(|l| l == line), "{line} not in\n{text}");
        }
        // The le values as the rules select them, `{:?}` of f64.
        for le in ["0.005", "1.0", "10.0"] {
            assert!(text.contains(&format!(r#"le="{le}"}}"#)), "le={le}");
        }
        assert!(text.contains("app_stock_insufficient_events_total{"));
        // 4 label sets of 15 buckets, _sum and _count; 2 + 1 + 2 + 1 more.
        assert_eq!(
            text.lines().filter(|l| !l.starts_with('#')).count(),
            4 * 17 + 6
        );
    }

    #[test]
    fn every_rule_set_selects_the_exporters_series() {
        let fixture = TODAY_FIXTURE;
        for placeholder in ["@NAMESPACE@", "@STORE_ID@", "@NAME@"] {
            assert!(fixture.contains(placeholder), "{placeholder}");
        }
        let today = serde_json::to_string(&today_groups(7).unwrap()).unwrap();
        for placeholder in ["@NAMESPACE@", "@STORE_ID@", "@NAME@"] {
            assert!(!today.contains(placeholder), "{placeholder}");
        }
        assert!(today.contains(r#"store_id=\"s-0007\""#), "{today}");
        let spec = sloth_spec(2);
        assert!(spec.contains(r#"store_id=\"s-0002\""#), "{spec}");
        assert!(spec.contains(r#"le=\"0.25\""#), "{spec}");
    }

    #[test]
    fn the_fleets_page_serves_the_objectives_too() {
        assert_eq!(page_samples(Variant::Today, 2), 2.0 * 74.0);
        assert_eq!(
            page_samples(Variant::Fleet, 2),
            page_samples(Variant::Today, 2) + 2.0 * 11.0 + 1.0
        );
    }

    #[test]
    fn recording_groups_are_evaluated_before_alerting_groups() {
        let fleet = json!({ "groups": monitoring::fleet_groups() }).to_string();
        assert_eq!(group_order(&fleet), ["storeops.fleet"]);
        let sloth = "groups:\n- name: sloth-slo-sli-recordings-store-s-0001-availability\n  rules: []\n- name: sloth-slo-meta-recordings-store-s-0001-availability\n- name: sloth-slo-alerts-store-s-0001-availability\n- name: sloth-slo-sli-recordings-store-s-0001-latency\n";
        assert_eq!(
            group_order(sloth),
            [
                "sloth-slo-sli-recordings-store-s-0001-availability",
                "sloth-slo-meta-recordings-store-s-0001-availability",
                "sloth-slo-sli-recordings-store-s-0001-latency",
                "sloth-slo-alerts-store-s-0001-availability"
            ]
        );
    }

    #[test]
    fn counter_values_rise_by_phase_without_a_gap() {
        assert_eq!(
            counter_values(&[(10, 3), (0, 2), (5, 2)]),
            "0+10x3 30+0x1 35+5x1"
        );
    }

    #[test]
    fn durations_read_as_minutes() {
        assert_eq!(minutes("3d4m"), Some(4324));
        assert_eq!(minutes("1h5m"), Some(65));
        assert_eq!(minutes("2d23h59m30s"), Some(4319));
        assert_eq!(minutes("0s"), Some(0));
        assert_eq!(minutes("3x"), None);
        assert_eq!(longer_windows(120), "5m to 30d");
        assert_eq!(longer_windows(600), "30m to 30d");
    }

    #[test]
    fn promtools_failures_give_the_severities_firing() {
        let output = r#"Unit Testing:  /tmp/page.json
  FAILED:
    alertname: StoreAvailabilityBudgetBurn, time: 3d4m, 
        exp:[], 
        got:[
            0:
              Labels:{alertname="StoreAvailabilityBudgetBurn", long="1h", namespace="bench", severity="critical", short="5m", store_id="s-0001"}
              Annotations:{description="0.5 of the requests", summary="burning"},
            1:
              Labels:{alertname="StoreAvailabilityBudgetBurn", namespace="bench", severity="warning", sloth_severity="ticket"}
              Annotations:{summary="store s-0001 SLO error budget burn rate is over expected."}
            ]
    alertname: StoreAvailabilityBudgetBurn, time: 5d2h, 
        exp:[], 
        got:[
            0:
              Labels:{alertname="StoreAvailabilityBudgetBurn", severity="warning"}
              Annotations:{}
            ]
"#;
        let firing = parse_promtool(output, "StoreAvailabilityBudgetBurn").unwrap();
        let severities = |t: u64| firing[&t].iter().map(String::as_str).collect::<Vec<_>>();
        assert_eq!(firing.len(), 2);
        assert_eq!(severities(4324), ["critical", "warning"]);
        assert_eq!(severities(7320), ["warning"]);
        let paging = Paging::from_firing(&firing);
        // The errors start 30 s after the evaluation at 3d.
        assert_eq!(paging.first["critical"], 4 * 60 - 30);
        assert_eq!(paging.first["warning"], 4 * 60 - 30);
        assert_eq!(hms(paging.first["warning"]), "3m30s");
        // Critical last fired at 3d4m: resolved by the next scanned minute.
        assert_eq!(
            paging.resolved["warning"],
            (7321 - ERRORS_STOP as i64) * 60 - 30
        );
        assert_eq!(hms(paging.resolved["warning"]), "2h00m30s");
        assert!(paging.resolved["critical"] < 0);
        assert!(paging.early.is_empty());
    }
}
