//! `store-service loadgen`: weighted scenarios at a rate, with W3C
//! `traceparent` on every request, a progress line on stderr at a fixed
//! interval (as Locust and k6 print), and the summary at the end or on
//! SIGTERM/SIGINT.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Args;
use rand::RngExt;
use serde::Serialize;
use serde_json::{Value, json};

use crate::serve::RunError;

#[derive(Debug, Clone, Args)]
pub struct LoadgenArgs {
    /// Base URL of the store-service, e.g. http://127.0.0.1:8080.
    #[arg(long, env = "LOADGEN_TARGET")]
    pub target: String,
    /// Requests per second in total; 0 sends as fast as the workers can.
    #[arg(long, default_value_t = 20.0)]
    pub rate: f64,
    /// Concurrent workers.
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
    /// How long to run, e.g. 30s, 5m.
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    pub duration: Duration,
    /// Scenario weights: browse, filter, search_miss, buy, buy_beyond_stock, restock.
    #[arg(
        long,
        default_value = "browse=40,filter=15,search_miss=5,buy=30,buy_beyond_stock=5,restock=5"
    )]
    pub weights: String,
    /// Admin token for the restock scenario (without it, restock is skipped).
    #[arg(long, env = "ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// Stock that the restock scenario sets.
    #[arg(long, default_value_t = 1000)]
    pub restock_to: i64,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
    /// Keep trying to reach the target this long before giving up, e.g. 5m
    /// (a load generator deployed beside a store that is still starting).
    #[arg(long, default_value = "0s", value_parser = humantime::parse_duration)]
    pub wait_for_target: Duration,
    /// Print a progress line (requests/s, errors by code, p50/p99 of the
    /// interval) on stderr this often, e.g. 10s; 0s prints none.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub report_interval: Duration,
}

/// What the workers, the reporter and the signal handler share: the
/// requests since the last progress line, all the earlier ones, and
/// whether to stop (SIGTERM or SIGINT).
#[derive(Default)]
struct Shared {
    window: Mutex<Stats>,
    total: Mutex<Stats>,
    stop: AtomicBool,
}

impl Shared {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// The requests since the last call, moved into the total.
    fn take_window(&self) -> Stats {
        let window = std::mem::take(&mut *self.window.lock().unwrap_or_else(|e| e.into_inner()));
        let copy = window.clone();
        self.total
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .merge(window);
        copy
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scenario {
    Browse,
    Filter,
    SearchMiss,
    Buy,
    BuyBeyondStock,
    Restock,
}

impl Scenario {
    const ALL: [Scenario; 6] = [
        Scenario::Browse,
        Scenario::Filter,
        Scenario::SearchMiss,
        Scenario::Buy,
        Scenario::BuyBeyondStock,
        Scenario::Restock,
    ];

    fn name(self) -> &'static str {
        match self {
            Scenario::Browse => "browse",
            Scenario::Filter => "filter",
            Scenario::SearchMiss => "search_miss",
            Scenario::Buy => "buy",
            Scenario::BuyBeyondStock => "buy_beyond_stock",
            Scenario::Restock => "restock",
        }
    }
}

/// Parses `name=weight,...`; unknown names and all-zero weights are errors.
pub fn parse_weights(text: &str) -> Result<Vec<(Scenario, u32)>, String> {
    let mut weights = Vec::new();
    for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, w) = pair
            .split_once('=')
            .ok_or_else(|| format!("--weights: expected name=weight, got {pair:?}"))?;
        let scenario = Scenario::ALL
            .into_iter()
            .find(|s| s.name() == name.trim())
            .ok_or_else(|| format!("--weights: unknown scenario {name:?}"))?;
        let w: u32 = w
            .trim()
            .parse()
            .map_err(|_| format!("--weights: bad weight in {pair:?}"))?;
        weights.push((scenario, w));
    }
    if weights.iter().all(|(_, w)| *w == 0) {
        return Err("--weights: at least one scenario needs a positive weight".into());
    }
    Ok(weights)
}

struct Catalog {
    names: Vec<String>,
    categories: Vec<String>,
}

#[derive(Default, Clone)]
struct Stats {
    latencies: BTreeMap<Scenario, Vec<Duration>>,
    statuses: BTreeMap<u16, u64>,
    error_codes: BTreeMap<String, u64>,
    transport_errors: u64,
    /// Purchases beyond stock not sent: the stock was at the largest quantity.
    skipped: u64,
    /// Purchases beyond stock not sent: the stock could not be read first.
    stock_read_errors: u64,
}

impl Stats {
    fn merge(&mut self, other: Stats) {
        for (s, mut v) in other.latencies {
            self.latencies.entry(s).or_default().append(&mut v);
        }
        for (k, v) in other.statuses {
            *self.statuses.entry(k).or_default() += v;
        }
        for (k, v) in other.error_codes {
            *self.error_codes.entry(k).or_default() += v;
        }
        self.transport_errors += other.transport_errors;
        self.skipped += other.skipped;
        self.stock_read_errors += other.stock_read_errors;
    }
}

pub async fn run(args: LoadgenArgs) -> Result<(), RunError> {
    let fail = |m: String| RunError::Loadgen(m);
    let mut weights = parse_weights(&args.weights).map_err(fail)?;
    if args.admin_token.is_none() {
        weights.retain(|(s, _)| *s != Scenario::Restock);
    }
    if args.concurrency == 0 || args.concurrency > 1024 || args.rate.is_nan() || args.rate < 0.0 {
        return Err(fail("--concurrency must be 1..1024 and --rate >= 0".into()));
    }
    let base = args.target.trim_end_matches('/').to_string();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .pool_max_idle_per_host(args.concurrency)
        .build()
        .map_err(|e| fail(e.to_string()))?;
    let catalog = Arc::new(
        wait_for_catalog(&client, &base, args.wait_for_target)
            .await
            .map_err(fail)?,
    );
    let started = Instant::now();
    let deadline = started + args.duration;

    // Tickets pace the workers when a rate is set.
    let shared = Arc::new(Shared::default());
    tokio::spawn(stop_on_signal(shared.clone()));
    let reporter = tokio::spawn(report(shared.clone(), args.report_interval));
    let (ticket_tx, ticket_rx) = async_channel(args.concurrency);
    if args.rate > 0.0 {
        let period = Duration::from_secs_f64(1.0 / args.rate);
        let shared = shared.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(period);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            while Instant::now() < deadline && !shared.stopped() {
                tick.tick().await;
                if ticket_tx.send(()).await.is_err() {
                    break;
                }
            }
        });
    } else {
        drop(ticket_tx);
    }
    let paced = args.rate > 0.0;
    let mut workers = Vec::new();
    for _ in 0..args.concurrency {
        let (client, base, catalog, weights, rx) = (
            client.clone(),
            base.clone(),
            catalog.clone(),
            weights.clone(),
            ticket_rx.clone(),
        );
        let (token, restock_to) = (args.admin_token.clone(), args.restock_to);
        let shared = shared.clone();
        workers.push(tokio::spawn(async move {
            let mut stats = Stats::default();
            while Instant::now() < deadline && !shared.stopped() {
                // What the last request did, for the next progress line.
                shared
                    .window
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .merge(std::mem::take(&mut stats));
                if paced && rx.lock().await.recv().await.is_none() {
                    break;
                }
                let scenario = pick(&weights);
                let product =
                    catalog.names[rand::rng().random_range(0..catalog.names.len())].clone();
                // A purchase beyond stock asks for one more than the stock
                // just read, so it is refused and sells nothing; where the
                // stock is at the largest quantity a purchase may ask for,
                // it cannot be made and is counted as skipped.
                let beyond = if scenario == Scenario::BuyBeyondStock {
                    match current_stock(&client, &base, &product).await {
                        Some(stock) => match beyond_stock(stock) {
                            Some(quantity) => quantity,
                            None => {
                                stats.skipped += 1;
                                continue;
                            }
                        },
                        None => {
                            stats.stock_read_errors += 1;
                            continue;
                        }
                    }
                } else {
                    0
                };
                let req = build(
                    &client,
                    &base,
                    &catalog,
                    &product,
                    scenario,
                    token.as_deref(),
                    restock_to,
                    beyond,
                );
                let t0 = Instant::now();
                match req.header("traceparent", traceparent()).send().await {
                    Ok(resp) => {
                        let status = resp.status().as_u16();
                        let body = resp.bytes().await.unwrap_or_default();
                        stats
                            .latencies
                            .entry(scenario)
                            .or_default()
                            .push(t0.elapsed());
                        *stats.statuses.entry(status).or_default() += 1;
                        if status >= 400 {
                            let code = serde_json::from_slice::<Value>(&body)
                                .ok()
                                .and_then(|v| v["error"]["code"].as_str().map(str::to_string))
                                .unwrap_or_else(|| format!("http_{status}"));
                            *stats.error_codes.entry(code).or_default() += 1;
                        }
                    }
                    Err(_) => stats.transport_errors += 1,
                }
            }
            shared
                .window
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .merge(stats);
        }));
    }
    for w in workers {
        w.await.map_err(|e| fail(e.to_string()))?;
    }
    reporter.abort();
    shared.take_window();
    let total = std::mem::take(&mut *shared.total.lock().unwrap_or_else(|e| e.into_inner()));
    let summary = summarize(&total, started.elapsed());
    if args.json {
        println!("{summary}");
    } else {
        print_summary(&summary);
    }
    Ok(())
}

/// Sets the stop flag on SIGTERM (a pod deleted, a Job's deadline) or
/// SIGINT (Ctrl-C): the workers finish their request and the summary prints.
async fn stop_on_signal(shared: Arc<Shared>) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        return;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    shared.stop.store(true, Ordering::Relaxed);
    progress("loadgen: stopping on a signal; the summary follows");
}

/// Every `interval` (none when zero), one line on stderr about the
/// requests of that interval.
async fn report(shared: Arc<Shared>, interval: Duration) {
    if interval.is_zero() {
        return;
    }
    let started = Instant::now();
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
    let mut last = Instant::now();
    loop {
        tick.tick().await;
        let window = shared.take_window();
        eprintln!(
            "{}",
            progress_line(&window, started.elapsed(), last.elapsed())
        );
        last = Instant::now();
    }
}

/// A line on stderr; a closed stderr (a reader gone) is not worth a panic,
/// as `eprintln!` would.
fn progress(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// `loadgen 30s: 19.8 req/s, p50 2.1 ms, p99 8.4 ms, errors insufficient_stock=3 product_not_found=12, transport errors 0`
fn progress_line(window: &Stats, elapsed: Duration, span: Duration) -> String {
    let mut all: Vec<Duration> = window.latencies.values().flatten().copied().collect();
    all.sort();
    let errors = if window.error_codes.is_empty() {
        "none".to_string()
    } else {
        let pairs: Vec<String> = window
            .error_codes
            .iter()
            .map(|(c, n)| format!("{c}={n}"))
            .collect();
        pairs.join(" ")
    };
    format!(
        "loadgen {}s: {:.1} req/s, p50 {:.1} ms, p99 {:.1} ms, errors {errors}, transport errors {}",
        elapsed.as_secs(),
        all.len() as f64 / span.as_secs_f64().max(1e-9),
        percentile(&all, 50.0),
        percentile(&all, 99.0),
        window.transport_errors,
    )
}

type TicketRx = Arc<tokio::sync::Mutex<tokio::sync::mpsc::Receiver<()>>>;

fn async_channel(capacity: usize) -> (tokio::sync::mpsc::Sender<()>, TicketRx) {
    let (tx, rx) = tokio::sync::mpsc::channel(capacity);
    (tx, Arc::new(tokio::sync::Mutex::new(rx)))
}

/// The catalog, retried every 2 s for up to `wait` while the target is
/// unreachable or not serving yet. Each try is a new connection (and a new
/// name lookup): a connection that reached the wrong server (a Service
/// address the node did not translate yet goes out to whatever answers
/// there) is not kept for the next try.
async fn wait_for_catalog(
    client: &reqwest::Client,
    base: &str,
    wait: Duration,
) -> Result<Catalog, String> {
    let give_up = Instant::now() + wait;
    loop {
        match fetch_catalog(client, base).await {
            Ok(catalog) => return Ok(catalog),
            Err(e) if Instant::now() >= give_up => return Err(e),
            Err(e) => {
                eprintln!("{e}; retrying");
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        }
    }
}

async fn fetch_catalog(client: &reqwest::Client, base: &str) -> Result<Catalog, String> {
    let response = client
        .get(format!("{base}/products"))
        .header(reqwest::header::CONNECTION, "close")
        .send()
        .await
        .map_err(|e| format!("cannot list products at {base}: {e}"))?;
    if !response.status().is_success() {
        return Err(refusal(response, base).await);
    }
    let products: Vec<Value> = response
        .json()
        .await
        .map_err(|e| format!("bad product list from {base}: {e}"))?;
    let field = |key: &str| -> Vec<String> {
        let mut v: Vec<String> = products
            .iter()
            .filter_map(|p| p[key].as_str().map(str::to_string))
            .collect();
        v.sort();
        v.dedup();
        v
    };
    let catalog = Catalog {
        names: field("name"),
        categories: field("category"),
    };
    if catalog.names.is_empty() {
        return Err(format!("{base} has no products to load"));
    }
    Ok(catalog)
}

/// A refused catalog request, saying who answered (the peer's address: a
/// name may resolve to another server than meant) and the start of its body.
async fn refusal(response: reqwest::Response, base: &str) -> String {
    const BODY_CHARS: usize = 200;
    let status = response.status();
    let peer = response
        .remote_addr()
        .map_or_else(|| "an unknown address".to_string(), |a| a.to_string());
    let body = response.text().await.unwrap_or_default();
    let body: String = body.chars().take(BODY_CHARS).collect();
    format!("cannot list products at {base}: {peer} answered HTTP {status}: {body:?}")
}

fn pick(weights: &[(Scenario, u32)]) -> Scenario {
    let total: u32 = weights.iter().map(|(_, w)| w).sum();
    let mut roll = rand::rng().random_range(0..total);
    for (s, w) in weights {
        if roll < *w {
            return *s;
        }
        roll -= w;
    }
    weights[0].0
}

/// The quantity a purchase beyond `stock` asks for: one more than the
/// stock, or `None` where that exceeds the largest quantity a purchase may
/// ask for (the request would be invalid, not beyond stock).
pub fn beyond_stock(stock: i64) -> Option<i64> {
    let quantity = stock.checked_add(1)?;
    (quantity <= crate::domain::MAX_PURCHASE_QUANTITY).then_some(quantity)
}

/// The stock of `product` as the store reports it now; `None` if it cannot
/// be read.
async fn current_stock(client: &reqwest::Client, base: &str, product: &str) -> Option<i64> {
    let url = format!("{base}/products/{}", urlencode(product));
    let body: Value = client
        .get(url)
        .send()
        .await
        .ok()?
        .error_for_status()
        .ok()?
        .json()
        .await
        .ok()?;
    body["stock"].as_i64()
}

#[allow(clippy::too_many_arguments)]
fn build(
    client: &reqwest::Client,
    base: &str,
    catalog: &Catalog,
    product: &str,
    scenario: Scenario,
    token: Option<&str>,
    restock_to: i64,
    beyond: i64,
) -> reqwest::RequestBuilder {
    let mut rng = rand::rng();
    let path = |suffix: &str| format!("{base}/products/{}{suffix}", urlencode(product));
    match scenario {
        Scenario::Browse => client.get(format!("{base}/products")),
        Scenario::Filter => {
            let c = &catalog.categories[rng.random_range(0..catalog.categories.len())];
            client.get(format!("{base}/products?category={}", urlencode(c)))
        }
        Scenario::SearchMiss => client.get(format!(
            "{base}/products/no-such-product-{}",
            rng.random_range(0..1000)
        )),
        Scenario::Buy => client
            .post(path("/buy"))
            .json(&json!({"quantity": rng.random_range(1..=3)})),
        Scenario::BuyBeyondStock => client.post(path("/buy")).json(&json!({"quantity": beyond})),
        Scenario::Restock => client
            .put(path("/stock"))
            .bearer_auth(token.unwrap_or_default())
            .json(&json!({"stock": restock_to})),
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A fresh sampled W3C trace context, so every request starts its own trace.
fn traceparent() -> String {
    let mut rng = rand::rng();
    let trace: u128 = rng.random_range(1..=u128::MAX);
    let span: u64 = rng.random_range(1..=u64::MAX);
    format!("00-{trace:032x}-{span:016x}-01")
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1].as_secs_f64() * 1000.0
}

fn summarize(stats: &Stats, elapsed: Duration) -> Value {
    let secs = elapsed.as_secs_f64().max(1e-9);
    let mut all = Vec::new();
    let mut scenarios = serde_json::Map::new();
    for (s, lat) in &stats.latencies {
        let mut sorted = lat.clone();
        sorted.sort();
        all.extend_from_slice(&sorted);
        scenarios.insert(
            s.name().into(),
            json!({"requests": sorted.len(), "rps": sorted.len() as f64 / secs,
                   "p50_ms": percentile(&sorted, 50.0), "p95_ms": percentile(&sorted, 95.0), "p99_ms": percentile(&sorted, 99.0)}),
        );
    }
    all.sort();
    json!({
        "duration_s": secs,
        "requests": all.len(),
        "rps": all.len() as f64 / secs,
        "p50_ms": percentile(&all, 50.0),
        "p95_ms": percentile(&all, 95.0),
        "p99_ms": percentile(&all, 99.0),
        "transport_errors": stats.transport_errors,
        "skipped_beyond_stock": stats.skipped,
        "stock_read_errors": stats.stock_read_errors,
        "statuses": stats.statuses,
        "errors_by_code": stats.error_codes,
        "scenarios": scenarios,
    })
}

fn print_summary(s: &Value) {
    println!(
        "{} requests in {:.1}s: {:.1} req/s, p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms, {} transport errors",
        s["requests"],
        s["duration_s"].as_f64().unwrap_or(0.0),
        s["rps"].as_f64().unwrap_or(0.0),
        s["p50_ms"].as_f64().unwrap_or(0.0),
        s["p95_ms"].as_f64().unwrap_or(0.0),
        s["p99_ms"].as_f64().unwrap_or(0.0),
        s["transport_errors"]
    );
    println!(
        "{:<18} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "scenario", "requests", "req/s", "p50 ms", "p95 ms", "p99 ms"
    );
    if let Some(map) = s["scenarios"].as_object() {
        for (name, v) in map {
            let f = |k: &str| v[k].as_f64().unwrap_or(0.0);
            println!(
                "{name:<18} {:>9} {:>9.1} {:>9.2} {:>9.2} {:>9.2}",
                v["requests"],
                f("rps"),
                f("p50_ms"),
                f("p95_ms"),
                f("p99_ms")
            );
        }
    }
    println!("statuses: {}", s["statuses"]);
    println!("errors by code: {}", s["errors_by_code"]);
    println!(
        "purchases beyond stock not sent: {} at stock 1000, {} on a failed stock read",
        s["skipped_beyond_stock"], s["stock_read_errors"]
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_purchase_beyond_stock_asks_one_more_than_the_stock_or_is_skipped() {
        assert_eq!(beyond_stock(0), Some(1));
        assert_eq!(beyond_stock(998), Some(999));
        assert_eq!(beyond_stock(999), Some(1000));
        // Restocked to the largest quantity: no valid purchase exceeds it.
        assert_eq!(beyond_stock(1000), None);
        assert_eq!(beyond_stock(i64::MAX), None);
    }

    #[test]
    fn weights_parse_and_reject_nonsense() {
        assert_eq!(
            parse_weights("browse=3,buy=1").unwrap(),
            vec![(Scenario::Browse, 3), (Scenario::Buy, 1)]
        );
        assert!(parse_weights("browse=0").is_err());
        assert!(parse_weights("dance=1").unwrap_err().contains("dance"));
        assert!(parse_weights("browse").is_err());
    }

    #[test]
    fn picks_follow_weights() {
        let w = [(Scenario::Browse, 0), (Scenario::Buy, 5)];
        assert!((0..100).all(|_| pick(&w) == Scenario::Buy));
    }

    #[test]
    fn a_progress_line_gives_rate_percentiles_and_errors_by_code() {
        let mut window = Stats::default();
        window.latencies.insert(
            Scenario::Browse,
            (1..=100).map(Duration::from_millis).collect(),
        );
        window.error_codes.insert("insufficient_stock".into(), 3);
        window.error_codes.insert("product_not_found".into(), 12);
        let line = progress_line(&window, Duration::from_secs(30), Duration::from_secs(10));
        assert_eq!(
            line,
            "loadgen 30s: 10.0 req/s, p50 50.0 ms, p99 99.0 ms, errors insufficient_stock=3 product_not_found=12, transport errors 0"
        );
        assert!(
            progress_line(&Stats::default(), Duration::ZERO, Duration::ZERO)
                .contains("errors none")
        );
    }

    #[test]
    fn traceparent_is_w3c() {
        let t = traceparent();
        let parts: Vec<&str> = t.split('-').collect();
        assert_eq!(
            (parts[0], parts[1].len(), parts[2].len(), parts[3]),
            ("00", 32, 16, "01")
        );
    }

    #[test]
    fn percentiles_use_nearest_rank() {
        let v: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&v, 50.0), 50.0);
        assert_eq!(percentile(&v, 99.0), 99.0);
        assert_eq!(percentile(&[], 99.0), 0.0);
    }
}
