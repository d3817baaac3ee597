//! The operator's own metrics, served at `/metrics`.
//!
//! - `storeops_reconciliations_total{result}`
//! - `storeops_reconcile_errors_total{reason}`
//! - `storeops_reconcile_duration_seconds` (histogram, `trace_id` exemplars)
//! - `storeops_stores{condition,status}` (from the watch cache, at scrape time)

use std::time::Duration;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::exemplar::HistogramWithExemplars;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;

use crate::api::Store;

type Label = [(&'static str, String); 1];

/// The operator's metrics registry and the metrics the reconciler updates.
pub struct Metrics {
    registry: Registry,
    reconciliations: Family<Label, Counter>,
    errors: Family<Label, Counter>,
    duration: HistogramWithExemplars<Label>,
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
        if !stores.is_empty() {
            registry.register_collector(Box::new(StoresByCondition(stores)));
        }
        Metrics {
            registry,
            reconciliations,
            errors,
            duration,
        }
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
