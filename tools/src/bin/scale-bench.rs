//! `scale-bench --operator BINARY [--stores 10,100,1000] [--quiet-seconds 300]
//! [--kill-at N] [--out FILE]`: the operator at scale on the local control
//! plane (kwok nodes), as `make bench` runs it.
//!
//! For each count N, on a fresh control plane each time:
//! - direct: the objects the operator would make for N Stores (`operator
//!   render`) server-side applied from one client with as many workers as
//!   the operator's reconciles may use, then waited for until every
//!   Deployment is available: the API server's and the cluster's own limit.
//! - operator: N Stores applied at once with the operator running (its
//!   chart's RBAC, leader election), waited for until every Store is
//!   Ready at its generation. Peak memory (VmHWM), reconcile p50/p99 from its
//!   histogram, and every child counted afterwards (nothing missing).
//! - quiet (largest N): the operator's writes in the next `--quiet-seconds`,
//!   from the API server's audit log, by verb and resource (Lease renewals
//!   apart): the target is none.
//! - `--kill-at K` (instead of the above, for the largest N; `make drills`):
//!   kill -9 of the operator once K Stores are Ready, a new replica started
//!   at once (it waits for the Lease to expire, as a new pod would), and
//!   what was lost.
//!
//! Prints Markdown (and writes it to `--out`).

#![forbid(unsafe_code)]

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use kube::ResourceExt;
use kube::api::{Api, DynamicObject};
use kube::runtime::{WatchStreamExt, watcher};
use testenv::manifests;
use testenv::operator::{self as op, Operator};

use tools::bench::{
    DEADLINE, NAMESPACE, Result, WORKERS, apply_all, children, is_ready, operator_writes,
    peak_rss_kib, plane_for, ready_count, store_resource, stores_yaml, wait_until,
};

/// The operator at scale on the local control plane, as `make bench` runs it.
#[derive(clap::Parser)]
#[command(name = "scale-bench")]
struct Args {
    /// The operator's release binary (cargo build --release -p operator).
    #[arg(long, value_parser = tools::bench::existing_file)]
    operator: PathBuf,
    /// Store counts, one fresh control plane each.
    #[arg(long = "stores", value_delimiter = ',', default_value = "10,100,1000")]
    counts: Vec<usize>,
    /// Seconds the operator's writes are counted once the largest count converged.
    #[arg(long = "quiet-seconds", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..))]
    quiet_seconds: u64,
    /// Instead of the rows: kill -9 of the operator once this many Stores are Ready.
    #[arg(long)]
    kill_at: Option<usize>,
    /// Also write the Markdown here.
    #[arg(long)]
    out: Option<PathBuf>,
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("scale-bench: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> Result<()> {
    let args = <Args as clap::Parser>::parse();
    let quiet = Duration::from_secs(args.quiet_seconds);
    let runtime = tokio::runtime::Runtime::new()?;
    let largest = args.counts.iter().copied().max().unwrap_or(0);
    let mut rows = Vec::new();
    // The drill is a run of its own (`make drills`); the rows are `make bench`.
    let drill = match args.kill_at {
        Some(k) => Some(runtime.block_on(with_operator(&args.operator, largest, None, Some(k)))?),
        None => {
            for &n in &args.counts {
                let direct = runtime.block_on(direct(&args.operator, n))?;
                let quiet = (n == largest).then_some(quiet);
                let operator = runtime.block_on(with_operator(&args.operator, n, quiet, None))?;
                rows.push((n, direct, operator));
            }
            None
        }
    };
    let report = markdown(&rows, drill.as_ref().map(|d| (largest, d)), &args);
    print!("{report}");
    if let Some(out) = &args.out {
        std::fs::write(out, &report)?;
    }
    Ok(())
}

struct Direct {
    objects: usize,
    applied: Duration,
    available: Duration,
}

/// The objects of `n` Stores applied straight from one client.
async fn direct(operator: &Path, n: usize) -> Result<Direct> {
    let (plane, client) = plane_for(n).await?;
    let dir = tempfile::tempdir()?;
    let stores = dir.path().join("stores.yaml");
    std::fs::write(&stores, stores_yaml(n))?;
    let out = std::process::Command::new(operator)
        .args(["render", "-f"])
        .arg(&stores)
        .output()?;
    if !out.status.success() {
        return Err(format!("operator render: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    let mut objects = manifests::parse(&String::from_utf8_lossy(&out.stdout))?;
    // The monitoring CRDs are not installed in either run: the operator skips those kinds too.
    objects.retain(|o| {
        o.types
            .as_ref()
            .is_some_and(|t| !t.api_version.starts_with("monitoring.coreos.com"))
    });
    for o in &objects {
        if let Some(ns) = o.namespace().filter(|ns| ns != NAMESPACE) {
            let text = format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n");
            manifests::apply(&client, &text, "scale-bench").await?;
        }
    }
    eprintln!(
        "scale-bench: direct, {n} stores: applying {} objects",
        objects.len()
    );
    let start = Instant::now();
    apply_all(&client, objects.clone()).await?;
    let applied = start.elapsed();
    wait_until(&format!("{n} Deployments available"), || async {
        let list = Api::<Deployment>::namespaced(client.clone(), NAMESPACE)
            .list(&Default::default())
            .await?;
        let ready = list
            .items
            .iter()
            .filter(|d| {
                d.status
                    .as_ref()
                    .and_then(|s| s.available_replicas)
                    .unwrap_or(0)
                    >= 1
            })
            .count();
        Ok((ready >= n, format!("{ready} of {n}")))
    })
    .await?;
    let available = start.elapsed();
    drop(plane);
    Ok(Direct {
        objects: objects.len(),
        applied,
        available,
    })
}

#[derive(Default)]
struct WithOperator {
    ready: Duration,
    peak_rss_mib: f64,
    p50: f64,
    p99: f64,
    reconciles: f64,
    children: BTreeMap<String, usize>,
    not_ready: usize,
    failed_writes: usize,
    quiet_writes: Option<BTreeMap<String, usize>>,
    killed: Option<KillDrill>,
}

struct KillDrill {
    ready_at_kill: usize,
    took_over: Duration,
}

/// `n` Stores with the operator running, until every one is Ready.
async fn with_operator(
    binary: &Path,
    n: usize,
    quiet: Option<Duration>,
    kill_at: Option<usize>,
) -> Result<WithOperator> {
    let (plane, client) = plane_for(n).await?;
    let kubeconfig = op::install(&plane, &client).await?;
    let dir = tempfile::tempdir()?;
    let mut operator = Operator::start(
        binary,
        &kubeconfig,
        dir.path(),
        "operator-0",
        &["--log-level=warn"],
    )?;
    let stores_api =
        Api::<DynamicObject>::namespaced_with(client.clone(), NAMESPACE, &store_resource());
    let mut states: HashMap<String, bool> = HashMap::new();
    let mut events = watcher(stores_api.clone(), watcher::Config::default())
        .default_backoff()
        .applied_objects()
        .boxed();

    eprintln!(
        "scale-bench: operator, {n} stores{}",
        if kill_at.is_some() {
            " (kill drill)"
        } else {
            ""
        }
    );
    let stores = manifests::parse(&stores_yaml(n))?;
    let start = Instant::now();
    let apply = tokio::spawn({
        let client = client.clone();
        async move { apply_all(&client, stores).await.map_err(|e| e.to_string()) }
    });
    let mut figures = WithOperator::default();
    let mut peak_kib = 0u64;
    let mut killed_at: Option<Instant> = None;
    let mut sample = tokio::time::interval(Duration::from_millis(200));
    while ready_count(&states) < n {
        tokio::select! {
            event = events.next() => {
                // A watch error (410 Expired after a compaction) is routine: the watcher relists.
                let store = match event.ok_or("the Store watch ended")? {
                    Ok(store) => store,
                    Err(e) => {
                        eprintln!("scale-bench: Store watch: {e}; resuming");
                        continue;
                    }
                };
                states.insert(store.name_any(), is_ready(&store));
                if let (Some(at), None) = (killed_at, figures.killed.as_ref())
                    && ready_count(&states) > kill_at.unwrap_or(0)
                {
                    figures.killed = Some(KillDrill { ready_at_kill: kill_at.unwrap_or(0), took_over: at.elapsed() });
                }
            }
            _ = sample.tick() => {
                peak_kib = peak_kib.max(peak_rss_kib(operator.pid()));
                if start.elapsed() > DEADLINE {
                    return Err(format!("{} of {n} Stores Ready after {}s", ready_count(&states), DEADLINE.as_secs()).into());
                }
                operator.check_running()?;
            }
        }
        if let Some(k) = kill_at
            && killed_at.is_none()
            && ready_count(&states) >= k
        {
            operator.kill();
            killed_at = Some(Instant::now());
            eprintln!(
                "scale-bench: killed the operator (kill -9) at {} Ready; starting operator-1",
                ready_count(&states)
            );
            operator = Operator::start(
                binary,
                &kubeconfig,
                dir.path(),
                "operator-1",
                &["--log-level=warn"],
            )?;
        }
    }
    figures.ready = start.elapsed();
    apply.await??;
    peak_kib = peak_kib.max(peak_rss_kib(operator.pid()));
    figures.peak_rss_mib = peak_kib as f64 / 1024.0;
    let histogram = scrape_histogram(operator.listen, "storeops_reconcile_duration_seconds")?;
    figures.p50 = quantile(&histogram, 0.5);
    figures.p99 = quantile(&histogram, 0.99);
    figures.reconciles = histogram.last().map(|b| b.1).unwrap_or(0.0);
    figures.children = children(&client).await?;
    figures.not_ready = n - ready_count(&states);
    let writes = operator_writes(&plane)?;
    figures.failed_writes = writes
        .iter()
        .filter(|w| w.code >= 400 && w.code != 409)
        .count();
    if let Some(quiet) = quiet {
        eprintln!(
            "scale-bench: converged; counting the operator's writes for {}s",
            quiet.as_secs()
        );
        let before = writes.len();
        tokio::time::sleep(quiet).await;
        operator.check_running()?;
        let mut by_kind = BTreeMap::new();
        let after = operator_writes(&plane)?;
        let quiet_writes = after.get(before..).ok_or_else(|| {
            format!(
                "the audit log holds {} operator writes after the quiet period, fewer than the {before} before it: was it rotated?",
                after.len()
            )
        })?;
        for w in quiet_writes {
            *by_kind
                .entry(format!("{} {}", w.verb, w.resource))
                .or_insert(0) += 1;
        }
        figures.quiet_writes = Some(by_kind);
    }
    operator.stop();
    drop(plane);
    Ok(figures)
}

/// A histogram's cumulative buckets (le, count), summed over its label sets.
fn scrape_histogram(listen: std::net::SocketAddr, name: &str) -> Result<Vec<(f64, f64)>> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(listen)?;
    write!(stream, "GET /metrics HTTP/1.0\r\nHost: {listen}\r\n\r\n")?;
    let mut text = String::new();
    stream.read_to_string(&mut text)?;
    let mut buckets: BTreeMap<String, f64> = BTreeMap::new();
    let prefix = format!("{name}_bucket{{");
    for line in text.lines().filter(|l| l.starts_with(&prefix)) {
        let le = line
            .split("le=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .ok_or("a bucket without le")?;
        let value: f64 = line
            .rsplit(' ')
            .next()
            .unwrap_or("0")
            .parse()
            .unwrap_or(0.0);
        *buckets.entry(le.to_string()).or_insert(0.0) += value;
    }
    let mut out: Vec<(f64, f64)> = buckets
        .into_iter()
        .map(|(le, v)| {
            (
                if le == "+Inf" {
                    f64::INFINITY
                } else {
                    le.parse().unwrap_or(f64::INFINITY)
                },
                v,
            )
        })
        .collect();
    out.sort_by(|a, b| a.0.total_cmp(&b.0));
    Ok(out)
}

/// `histogram_quantile` of Prometheus: linear within the bucket.
fn quantile(buckets: &[(f64, f64)], q: f64) -> f64 {
    let Some(&(_, total)) = buckets.last() else {
        return f64::NAN;
    };
    let rank = q * total;
    let mut lower = (0.0, 0.0);
    for &(le, count) in buckets {
        if count >= rank {
            if le.is_infinite() {
                return lower.0;
            }
            let share = if count > lower.1 {
                (rank - lower.1) / (count - lower.1)
            } else {
                0.0
            };
            return lower.0 + (le - lower.0) * share;
        }
        lower = (le, count);
    }
    f64::NAN
}

/// "none", or what is missing of each kind, e.g. "Deployment 998/1000".
fn missing(children: &BTreeMap<String, usize>, n: usize) -> String {
    let missing: Vec<String> = children
        .iter()
        .filter(|(_, c)| **c < n)
        .map(|(k, c)| format!("{k} {c}/{n}"))
        .collect();
    if missing.is_empty() {
        "none".into()
    } else {
        missing.join(", ")
    }
}

fn command(args: &Args) -> String {
    let counts: Vec<String> = args.counts.iter().map(|n| n.to_string()).collect();
    match args.kill_at {
        Some(k) => format!("scale-bench --stores {} --kill-at {k}", counts.join(",")),
        None => format!(
            "scale-bench --stores {} --quiet-seconds {}",
            counts.join(","),
            args.quiet_seconds
        ),
    }
}

fn markdown(
    rows: &[(usize, Direct, WithOperator)],
    drill: Option<(usize, &WithOperator)>,
    args: &Args,
) -> String {
    let setup = format!(
        "`{}` (tools/src/bin/scale-bench.rs), {}, {}. A fresh local control plane per run (etcd, kube-apiserver, \
         controller-manager, scheduler, kwok nodes of 250 pods); the operator's release binary under its chart's RBAC \
         with leader election; {WORKERS} concurrent writers for the Stores and for the direct apply.\n\n",
        command(args),
        now(),
        machine()
    );
    match drill {
        Some((n, o)) => drill_markdown(n, o, &setup),
        None => rows_markdown(rows, args, &setup),
    }
}

fn rows_markdown(rows: &[(usize, Direct, WithOperator)], args: &Args, setup: &str) -> String {
    let mut md = format!("## Operator at scale\n\nGenerated by `make bench`: {setup}");
    md += "| Stores | objects | direct apply s | direct: all available s | operator: all Ready s | ratio | peak RSS MiB | reconciles | p50 ms | p99 ms | children missing |\n";
    md += "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n";
    for (n, d, o) in rows {
        md += &format!(
            "| {n} | {} | {:.1} | {:.1} | {:.1} | {:.2} | {:.1} | {:.0} | {:.0} | {:.0} | {} |\n",
            d.objects,
            d.applied.as_secs_f64(),
            d.available.as_secs_f64(),
            o.ready.as_secs_f64(),
            o.ready.as_secs_f64() / d.available.as_secs_f64(),
            o.peak_rss_mib,
            o.reconciles,
            o.p50 * 1000.0,
            o.p99 * 1000.0,
            missing(&o.children, *n)
        );
    }
    md += "\nratio: the operator's time until every Store is Ready over the direct time until every Deployment is available (target: at most 1.5). \
           peak RSS: the operator's VmHWM (target: under 64 MiB at 1,000 Stores). p50/p99: `storeops_reconcile_duration_seconds`.\n";
    if let Some((n, _, o)) = rows.last()
        && let Some(quiet) = &o.quiet_writes
    {
        let total: usize = quiet.values().sum();
        md += &format!(
            "\nAfter the convergence of {n} Stores, the operator's writes in the next {} s (audit log, by verb and resource, Lease renewals apart): **{total}**{}.\n",
            args.quiet_seconds,
            if total == 0 {
                String::new()
            } else {
                format!(" ({quiet:?})")
            }
        );
    }
    md
}

fn drill_markdown(n: usize, o: &WithOperator, setup: &str) -> String {
    let killed = o.killed.as_ref();
    format!(
        "### Operator killed (kill -9) during the convergence of {n} Stores\n\nGenerated by `make drills`: {setup}\
         | killed at Ready | next Store Ready after the kill s | all Ready s | Stores not Ready | children missing | refused writes |\n\
         |---:|---:|---:|---:|---|---:|\n| {} | {:.1} | {:.1} | {} | {} | {} |\n\n\
         The new replica waits for the dead one's Lease to expire (15 s), as a new pod would.\n",
        killed.map(|k| k.ready_at_kill).unwrap_or(0),
        killed
            .map(|k| k.took_over.as_secs_f64())
            .unwrap_or(f64::NAN),
        o.ready.as_secs_f64(),
        o.not_ready,
        missing(&o.children, n),
        o.failed_writes
    )
}

/// The wall clock in UTC to the second (RFC 3339), for the report's header.
fn now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

fn machine() -> String {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    format!("machine: {cores} cores, {}", std::env::consts::ARCH)
}
