//! The operator's own metrics, served at `/metrics`.
//!
//! - `storeops_reconciliations_total{result}`
//! - `storeops_reconcile_errors_total{reason}`
//! - `storeops_reconcile_duration_seconds` (histogram, `trace_id` exemplars)
//! - `storeops_stores{condition,status}` (from the watch cache, at scrape time)
//! - each Store's objectives and facts, the series the fleet's rules read
//!   (`storeops_store_objective`, `storeops_store_info`,
//!   `storeops_objective_stores`: [`crate::monitoring::rules::exposition`]),
//!   from the watch cache once it is synced, so only the leader serves them

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::exemplar::HistogramWithExemplars;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;

use crate::api::Store;
use crate::monitoring::rules::{self, Target};

type Label = [(&'static str, String); 1];

/// The operator's metrics registry and the metrics the reconciler updates.
pub struct Metrics {
    registry: Registry,
    reconciliations: Family<Label, Counter>,
    errors: Family<Label, Counter>,
    duration: HistogramWithExemplars<Label>,
    synced: Arc<AtomicBool>,
}

impl Metrics {
    /// `stores` are the controllers' watch caches, read at each scrape.
    pub fn new(stores: Vec<kube::runtime::reflector::Store<Store>>) -> Self {
        let mut registry = Registry::default();
        let reconciliations = Family::<Label, Counter>::default();
        let errors = Family::<Label, Counter>::default();
        let duration = HistogramWithExemplars::new(
            [0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0].into_iter(),
        );
        registry.register(
            "storeops_reconciliations",
            "Reconciles of Stores, by result",
            reconciliations.clone(),
        );
        registry.register(
            "storeops_reconcile_errors",
            "Failed reconciles, by reason",
            errors.clone(),
        );
        registry.register(
            "storeops_reconcile_duration_seconds",
            "Duration of a reconcile",
            duration.clone(),
        );
        let synced = Arc::new(AtomicBool::new(false));
        if !stores.is_empty() {
            registry.register_collector(Box::new(StoresByCondition(stores.clone())));
            registry.register_collector(Box::new(Objectives {
                stores,
                synced: synced.clone(),
            }));
        }
        Metrics {
            registry,
            reconciliations,
            errors,
            duration,
            synced,
        }
    }

    /// Serves the Stores' objectives from now on: call once every watch
    /// cache is synced (a follower's stay empty: it serves none, and the
    /// fleet's rules keep the leader's).
    pub fn caches_synced(&self) {
        self.synced.store(true, Ordering::Relaxed);
    }

    /// Counts a finished reconcile by result and records its duration.
    pub fn reconciled(&self, elapsed: Duration, ok: bool, trace_id: Option<String>) {
        let result = if ok { "success" } else { "error" };
        self.reconciliations
            .get_or_create(&[("result", result.to_string())])
            .inc();
        self.duration.observe(
            elapsed.as_secs_f64(),
            trace_id.map(|id| [("trace_id", id)]),
            None,
        );
    }

    /// Counts a failed reconcile under a bounded `reason` label.
    pub fn failed(&self, reason: &str) {
        self.errors
            .get_or_create(&[("reason", reason.to_string())])
            .inc();
    }

    /// Every metric in the Prometheus text format, for `/metrics`.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

#[derive(Debug)]
struct StoresByCondition(Vec<kube::runtime::reflector::Store<Store>>);

impl Collector for StoresByCondition {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let mut counts = std::collections::BTreeMap::<(String, String), i64>::new();
        for store in self.0.iter().flat_map(|s| s.state()) {
            for c in store.status.iter().flat_map(|s| &s.conditions) {
                *counts
                    .entry((c.type_.clone(), c.status.clone()))
                    .or_default() += 1;
            }
        }
        let mut family = encoder.encode_descriptor(
            "storeops_stores",
            "Stores by condition and status",
            None,
            prometheus_client::metrics::MetricType::Gauge,
        )?;
        for ((condition, status), n) in counts {
            let labels = [("condition", condition), ("status", status)];
            ConstGauge::new(n).encode(family.encode_family(&labels)?)?;
        }
        Ok(())
    }
}

/// Each Store's objectives and facts ([`Target::exported`]) and how many
/// Stores have them ([`rules::EXPORTED_STORES`]), once the caches are
/// synced: before that an empty cache would end every Store's objectives.
#[derive(Debug)]
struct Objectives {
    stores: Vec<kube::runtime::reflector::Store<Store>>,
    synced: Arc<AtomicBool>,
}

impl Collector for Objectives {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        if !self.synced.load(Ordering::Relaxed) {
            return Ok(());
        }
        let targets: Vec<Target> = self
            .stores
            .iter()
            .flat_map(|s| s.state())
            .filter_map(|store| crate::reconcile::resolve::monitored_target(&store))
            .collect();
        let series: Vec<_> = targets
            .iter()
            .flat_map(Target::exported)
            .chain([rules::exported_stores(targets.len())])
            .collect();
        for (metric, help) in [
            (
                rules::EXPORTED_OBJECTIVE,
                "A Store's objective, by objective",
            ),
            (rules::EXPORTED_INFO, "A Store's facts, as labels"),
            (
                rules::EXPORTED_STORES,
                "Stores whose objectives this operator serves (the leader's, once synced)",
            ),
        ] {
            let mut family = encoder.encode_descriptor(
                metric,
                help,
                None,
                prometheus_client::metrics::MetricType::Gauge,
            )?;
            for e in series.iter().filter(|e| e.metric == metric) {
                let labels: Vec<(&str, &str)> =
                    e.labels.iter().map(|(k, v)| (*k, v.as_str())).collect();
                ConstGauge::new(e.value).encode(family.encode_family(&labels)?)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::runtime::watcher::Event;

    /// The text `/metrics` serves with these Stores in the watch cache.
    fn served(stores: &[Store], synced: bool) -> String {
        let (reader, mut writer) = kube::runtime::reflector::store();
        for s in stores {
            writer.apply_watcher_event(&Event::Apply(s.clone()));
        }
        let metrics = Metrics::new(vec![reader]);
        if synced {
            metrics.caches_synced();
        }
        metrics.encode()
    }

    #[test]
    fn the_leader_serves_each_stores_objectives_and_a_follower_none() {
        let mut off = Store::test();
        off.metadata.name = Some("quiet".into());
        off.spec.store_id = Some("quiet".into());
        off.spec.monitoring.alerts.enabled = false;
        let text = served(&[Store::test(), off], true);
        let expected = rules::exposition(&[Store::test().resolved().monitored]);
        for line in expected.lines().filter(|l| !l.starts_with('#')) {
            // The same series, as prometheus_client writes numbers.
            let (series, value) = line.rsplit_once(' ').unwrap();
            let found = text
                .lines()
                .find(|l| l.starts_with(series))
                .unwrap_or_else(|| panic!("{series} not served:\n{text}"));
            let served: f64 = found.rsplit_once(' ').unwrap().1.parse().unwrap();
            assert_eq!(served, value.parse::<f64>().unwrap(), "{found}");
        }
        assert!(!text.contains(r#"store_id="quiet""#), "{text}");
        let unsynced = served(&[Store::test()], false);
        assert!(!unsynced.contains("storeops_store_objective"), "{unsynced}");
        assert!(!unsynced.contains(rules::EXPORTED_STORES), "{unsynced}");
    }
}
