//! The Prometheus registry: every metric of the contract, each series labelled
//! with `store_id`, served as OpenMetrics (with exemplars) or the classic text
//! format, by content negotiation.

use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{
    DescriptorEncoder, EncodeLabelSet, EncodeMetric, MetricEncoder, NoLabelSet,
};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::exemplar::HistogramWithExemplars;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::{MetricType, TypedMetric};
use prometheus_client::registry::Registry;
use storeops_contract::{labels as l, metrics as m};

use super::semconv::{self, RequestMethod};
use crate::domain::{Money, Product};

/// Database latency buckets (seconds).
const DB_BUCKETS: [f64; 11] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
];

type Labels<const N: usize> = [(&'static str, String); N];
/// The duration histogram's labels: `error_type` only on failures, so their
/// number varies.
type HttpDurationLabels = Vec<(&'static str, String)>;
type HttpHistogram = Family<
    HttpDurationLabels,
    HistogramWithExemplars<Labels<1>>,
    fn() -> HistogramWithExemplars<Labels<1>>,
>;
type DbHistogram = Family<Labels<1>, Histogram, fn() -> Histogram>;

/// Every metric of the service; cheap to clone (shared handles).
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    pub http: HttpMetrics,
    pub app: AppMetrics,
    pub db: DbMetrics,
    pub dropped: Arc<DroppedCounters>,
}

/// RED metrics of the HTTP server.
#[derive(Clone)]
pub struct HttpMetrics {
    duration: HttpHistogram,
    active: Family<Labels<2>, Gauge>,
}

/// Business metrics.
#[derive(Clone)]
pub struct AppMetrics {
    currency: String,
    revenue: Family<Labels<3>, MoneyCounter>,
    items_sold: Family<Labels<2>, Counter>,
    stock: Family<Labels<2>, Gauge>,
    stock_versions: Arc<std::sync::Mutex<std::collections::HashMap<String, i64>>>,
    stock_updates: Family<Labels<1>, Counter>,
    insufficient: Family<Labels<2>, Counter>,
    notfound: Counter,
    errors: Family<Labels<1>, Counter>,
    startup_seconds: Gauge<f64, AtomicU64>,
    config_loaded: Gauge,
}

/// Database metrics, handed to the storage layer.
#[derive(Clone)]
pub struct DbMetrics {
    duration: DbHistogram,
    errors: Family<Labels<1>, Counter>,
}

impl Metrics {
    /// A registry whose every series carries `store_id`.
    pub fn new(store_id: &str, currency: &str) -> Self {
        let mut registry = Registry::with_labels(
            [(Cow::Borrowed(l::STORE_ID), Cow::Owned(store_id.to_string()))].into_iter(),
        );
        let http = HttpMetrics {
            duration: Family::new_with_constructor(|| {
                // Shared with the operator: a latency SLO threshold must be a bucket.
                HistogramWithExemplars::new(m::HTTP_SERVER_REQUEST_DURATION_BUCKETS.into_iter())
            }),
            active: Family::default(),
        };
        let app = AppMetrics {
            currency: currency.to_string(),
            revenue: Family::default(),
            items_sold: Family::default(),
            stock: Family::default(),
            stock_versions: Arc::default(),
            stock_updates: Family::default(),
            insufficient: Family::default(),
            notfound: Counter::default(),
            errors: Family::default(),
            startup_seconds: Gauge::default(),
            config_loaded: Gauge::default(),
        };
        let db = DbMetrics {
            duration: Family::new_with_constructor(|| Histogram::new(DB_BUCKETS)),
            errors: Family::default(),
        };
        let dropped = Arc::new(DroppedCounters::default());

        let r = &mut registry;
        reg(
            r,
            m::HTTP_SERVER_REQUEST_DURATION_SECONDS,
            "Duration of HTTP server requests",
            &http.duration,
        );
        reg(
            r,
            m::HTTP_SERVER_ACTIVE_REQUESTS,
            "Number of in-flight HTTP server requests",
            &http.active,
        );
        reg(
            r,
            m::APP_REVENUE_TOTAL,
            "Revenue of completed purchases, in currency units",
            &app.revenue,
        );
        reg(r, m::APP_ITEMS_SOLD_TOTAL, "Units sold", &app.items_sold);
        reg(r, m::APP_PRODUCT_STOCK, "Units in stock", &app.stock);
        reg(
            r,
            m::APP_PRODUCT_STOCK_UPDATES_TOTAL,
            "Stock changes by kind",
            &app.stock_updates,
        );
        reg(
            r,
            m::APP_STOCK_INSUFFICIENT_EVENTS_TOTAL,
            "Purchases refused for insufficient stock",
            &app.insufficient,
        );
        reg(
            r,
            m::APP_PRODUCT_NOTFOUND_TOTAL,
            "Requests for products that do not exist",
            &app.notfound,
        );
        reg(
            r,
            m::APP_ERRORS_TOTAL,
            "Error responses by stable error code",
            &app.errors,
        );
        reg(
            r,
            m::APP_STARTUP_DURATION_SECONDS,
            "Seconds from process start to serving",
            &app.startup_seconds,
        );
        reg(
            r,
            m::APP_CONFIG_LOAD_SUCCESS,
            "1 when the configuration loaded",
            &app.config_loaded,
        );
        reg(
            r,
            m::APP_DB_OPERATION_DURATION_SECONDS,
            "Duration of database operations",
            &db.duration,
        );
        reg(
            r,
            m::APP_DB_ERRORS_TOTAL,
            "Failed database operations",
            &db.errors,
        );
        registry.register_collector(Box::new(dropped.clone()));
        registry.register_collector(Box::new(super::process::ProcessCollector));

        Metrics {
            registry: Arc::new(registry),
            http,
            app,
            db,
            dropped,
        }
    }

    /// Encodes the registry; `openmetrics` keeps exemplars and `# EOF`.
    pub fn encode(&self, openmetrics: bool) -> String {
        let mut text = String::with_capacity(16 * 1024);
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        if openmetrics {
            text
        } else {
            super::exposition::openmetrics_to_classic(&text)
        }
    }
}

fn reg(
    registry: &mut Registry,
    name: &str,
    help: &str,
    metric: &(impl EncodeMetric + Clone + Send + Sync + std::fmt::Debug + 'static),
) {
    registry.register(m::family_name(name), help, metric.clone());
}

fn product_labels(p: &Product) -> Labels<2> {
    [
        (l::PRODUCT_NAME, p.name.clone()),
        (l::PRODUCT_CATEGORY, p.category.clone()),
    ]
}

impl HttpMetrics {
    /// Counts a request in flight until the guard drops. `route` is the
    /// matched route template, or empty when no route matched: never the path.
    pub fn start(&self, method: RequestMethod, route: &str) -> ActiveGuard {
        let gauge = self.active.get_or_create_owned(&[
            (l::HTTP_REQUEST_METHOD, method.as_str().to_string()),
            (l::HTTP_ROUTE, route.to_string()),
        ]);
        gauge.inc();
        ActiveGuard(gauge)
    }

    /// Records a finished request; `trace_id` becomes the exemplar of its
    /// bucket, `error_type` (a failure's `error.type`) the `error_type` label.
    pub fn finish(
        &self,
        method: RequestMethod,
        route: &str,
        status: u16,
        error_type: Option<String>,
        elapsed: Duration,
        trace_id: Option<String>,
    ) {
        let mut labels = vec![
            (l::HTTP_REQUEST_METHOD, method.as_str().to_string()),
            (l::HTTP_ROUTE, route.to_string()),
            (l::HTTP_RESPONSE_STATUS_CODE, status.to_string()),
            (l::URL_SCHEME, semconv::URL_SCHEME_HTTP.to_string()),
        ];
        if let Some(error_type) = error_type {
            labels.push((l::ERROR_TYPE, error_type));
        }
        let exemplar = trace_id.map(|id| [(l::TRACE_ID, id)]);
        self.duration
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64(), exemplar, None);
    }
}

/// Decrements the active-requests gauge when dropped (also on cancellation).
pub struct ActiveGuard(Gauge);

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        self.0.dec();
    }
}

impl AppMetrics {
    /// A completed sale.
    pub fn sale(&self, product: &Product, quantity: i64, total: Money) {
        let labels = product_labels(product);
        self.revenue
            .get_or_create(&[
                labels[0].clone(),
                labels[1].clone(),
                (l::CURRENCY, self.currency.clone()),
            ])
            .add(total);
        self.items_sold
            .get_or_create(&labels)
            .inc_by(quantity as u64);
        self.set_stock(product, &labels);
        self.stock_update("sale", 1);
    }

    /// Sets the stock gauge unless a newer stock change got there first:
    /// concurrent purchases commit in one order and report in another.
    fn set_stock(&self, product: &Product, labels: &Labels<2>) {
        let mut versions = self
            .stock_versions
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let seen = versions.entry(product.name.clone()).or_insert(i64::MIN);
        if product.version >= *seen {
            *seen = product.version;
            self.stock.get_or_create(labels).set(product.stock);
        }
    }

    /// A stock level set by an administrator.
    pub fn restock(&self, product: &Product) {
        self.set_stock(product, &product_labels(product));
        self.stock_update("restock", 1);
    }

    /// The stock gauges loaded from the database at start-up. Every product's
    /// series start at zero so that rates and alerts see them from the first scrape.
    pub fn initial_load(&self, products: &[Product]) {
        for p in products {
            let labels = product_labels(p);
            self.set_stock(p, &labels);
            let _ = self.items_sold.get_or_create(&labels);
            let _ = self.insufficient.get_or_create(&labels);
            let _ = self.revenue.get_or_create(&[
                labels[0].clone(),
                labels[1].clone(),
                (l::CURRENCY, self.currency.clone()),
            ]);
        }
        self.stock_update("initial_load", products.len() as u64);
    }

    fn stock_update(&self, kind: &str, n: u64) {
        self.stock_updates
            .get_or_create(&[(l::UPDATE_TYPE, kind.to_string())])
            .inc_by(n);
    }

    /// A purchase refused for lack of stock.
    pub fn insufficient_stock(&self, product_name: &str, category: &str) {
        self.insufficient
            .get_or_create(&[
                (l::PRODUCT_NAME, product_name.to_string()),
                (l::PRODUCT_CATEGORY, category.to_string()),
            ])
            .inc();
    }

    /// A lookup of a product that does not exist.
    pub fn product_not_found(&self) {
        self.notfound.inc();
    }

    /// Creates the error series of every known code at zero.
    pub fn known_error_codes(&self, codes: &[&str]) {
        for code in codes {
            let _ = self
                .errors
                .get_or_create(&[(l::APP_ERROR_CODE, code.to_string())]);
        }
    }

    /// An error response.
    pub fn error(&self, code: &str) {
        self.errors
            .get_or_create(&[(l::APP_ERROR_CODE, code.to_string())])
            .inc();
    }

    /// Start-up finished.
    pub fn started(&self, elapsed: Duration) {
        self.startup_seconds.set(elapsed.as_secs_f64());
        self.config_loaded.set(1);
    }
}

impl DbMetrics {
    /// Creates the error series of every operation at zero.
    pub fn known_operations(&self, operations: &[&str]) {
        for op in operations {
            let _ = self.errors.get_or_create(&[(l::OPERATION, op.to_string())]);
        }
    }

    /// One database operation.
    pub fn observe(&self, operation: &str, elapsed: Duration, ok: bool) {
        let labels = [(l::OPERATION, operation.to_string())];
        self.duration
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
        if !ok {
            self.errors.get_or_create(&labels).inc();
        }
    }
}

/// A counter of money kept in cents so that sums stay exact; exposed in units.
#[derive(Debug, Default, Clone)]
pub struct MoneyCounter(Arc<AtomicU64>);

impl MoneyCounter {
    fn add(&self, amount: Money) {
        self.0.fetch_add(amount.0.max(0) as u64, Ordering::Relaxed);
    }
}

impl TypedMetric for MoneyCounter {
    const TYPE: MetricType = MetricType::Counter;
}

impl EncodeMetric for MoneyCounter {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        let units = Money(self.0.load(Ordering::Relaxed) as i64).as_decimal();
        encoder.encode_counter::<NoLabelSet, _, f64>(&units, None)
    }

    fn metric_type(&self) -> MetricType {
        Self::TYPE
    }
}

/// Telemetry records lost so that requests never wait for a backend.
#[derive(Debug, Default)]
pub struct DroppedCounters {
    traces: AtomicU64,
    logs: AtomicU64,
    stdout: std::sync::OnceLock<tracing_appender::non_blocking::ErrorCounter>,
}

/// A telemetry signal whose records can be dropped.
#[derive(Debug, Clone, Copy)]
pub enum Signal {
    Traces,
    Logs,
}

impl DroppedCounters {
    /// Counts `n` records of `signal` lost.
    pub fn add(&self, signal: Signal, n: u64) {
        match signal {
            Signal::Traces => &self.traces,
            Signal::Logs => &self.logs,
        }
        .fetch_add(n, Ordering::Relaxed);
    }

    /// Reports the JSON lines the stdout writer could not keep up with.
    pub fn watch_stdout(&self, counter: tracing_appender::non_blocking::ErrorCounter) {
        let _ = self.stdout.set(counter);
    }
}

impl Collector for DroppedCounters {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let mut family = encoder.encode_descriptor(
            m::family_name(m::APP_TELEMETRY_DROPPED_TOTAL),
            "Telemetry records dropped by full queues or failed exports, by signal",
            None,
            MetricType::Counter,
        )?;
        let stdout = self.stdout.get().map_or(0, |c| c.dropped_lines() as u64);
        for (signal, value) in [
            ("traces", self.traces.load(Ordering::Relaxed)),
            ("logs", self.logs.load(Ordering::Relaxed)),
            ("stdout", stdout),
        ] {
            let labels = [(l::SIGNAL, signal)];
            family
                .encode_family(&labels)?
                .encode_counter::<NoLabelSet, _, u64>(&value, None)?;
        }
        Ok(())
    }
}

// Label sets must encode; a compile-time check that the array form is accepted.
const _: fn() = || {
    fn is_label_set<T: EncodeLabelSet>() {}
    is_label_set::<Labels<3>>();
};

#[cfg(test)]
mod tests {
    use super::*;

    fn pear(stock: i64, version: i64) -> Product {
        Product {
            name: "pear".into(),
            category: "fruit".into(),
            price: Money(75),
            stock,
            version,
        }
    }

    #[test]
    fn a_late_report_of_an_older_sale_does_not_rewind_the_stock_gauge() {
        let m = Metrics::new("alpha", "USD");
        m.app.sale(&pear(0, 40), 1, Money(75));
        m.app.sale(&pear(1, 39), 1, Money(75));
        let text = m.encode(false);
        let line = text
            .lines()
            .find(|l| l.starts_with("app_product_stock{"))
            .unwrap();
        assert!(line.ends_with(" 0"), "{line}");
        assert!(text.contains("app_items_sold_total{store_id=\"alpha\",product_name=\"pear\",product_category=\"fruit\"} 2"));
    }

    #[test]
    fn request_durations_carry_url_scheme_and_error_type_on_server_errors_only() {
        let m = Metrics::new("alpha", "USD");
        let get = RequestMethod::of("GET");
        let ms = Duration::from_millis(3);
        m.http.finish(get, "/products", 200, None, ms, None);
        m.http.finish(get, "/products", 404, None, ms, None);
        m.http
            .finish(get, "/products", 503, Some("503".into()), ms, None);
        let text = m.encode(false);
        let count = |status: &str| {
            text.lines()
                .find(|l| {
                    l.starts_with("http_server_request_duration_seconds_count{")
                        && l.contains(&format!("http_response_status_code=\"{status}\""))
                })
                .unwrap_or_else(|| panic!("no {status} series in {text}"))
                .to_string()
        };
        for ok in ["200", "404"] {
            let line = count(ok);
            assert!(line.contains("url_scheme=\"http\""), "{line}");
            assert!(!line.contains("error_type"), "{line}");
        }
        let failed = count("503");
        assert!(failed.contains("url_scheme=\"http\""), "{failed}");
        assert!(failed.contains("error_type=\"503\""), "{failed}");
    }
}
