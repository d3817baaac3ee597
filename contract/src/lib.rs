//! The contract between the store-service and the operator.
//!
//! The store-service emits metrics, spans and log fields; the operator's alerts
//! and dashboards query them; the operator hands the service its environment.
//! Every such name is defined here once, so renaming one breaks the build of
//! both sides instead of silently emptying a dashboard.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod catalog;
pub mod kinds;

/// Prometheus metric names as they appear in PromQL (counters end in `_total`).
pub mod metrics {
    /// Histogram of server request durations, with `trace_id` exemplars.
    pub const HTTP_SERVER_REQUEST_DURATION_SECONDS: &str = "http_server_request_duration_seconds";
    /// Gauge of in-flight requests.
    pub const HTTP_SERVER_ACTIVE_REQUESTS: &str = "http_server_active_requests";
    /// Revenue of completed purchases, in currency units.
    pub const APP_REVENUE_TOTAL: &str = "app_revenue_total";
    /// Units sold.
    pub const APP_ITEMS_SOLD_TOTAL: &str = "app_items_sold_total";
    /// Current stock of each product.
    pub const APP_PRODUCT_STOCK: &str = "app_product_stock";
    /// Stock changes by kind (see [`super::labels::UPDATE_TYPE`]).
    pub const APP_PRODUCT_STOCK_UPDATES_TOTAL: &str = "app_product_stock_updates_total";
    /// Purchases refused for lack of stock.
    pub const APP_STOCK_INSUFFICIENT_EVENTS_TOTAL: &str = "app_stock_insufficient_events_total";
    /// Lookups of products that do not exist (the name goes to spans and logs only).
    pub const APP_PRODUCT_NOTFOUND_TOTAL: &str = "app_product_notfound_total";
    /// Error responses by stable error code.
    pub const APP_ERRORS_TOTAL: &str = "app_errors_total";
    /// Seconds from process start to serving.
    pub const APP_STARTUP_DURATION_SECONDS: &str = "app_startup_duration_seconds";
    /// 1 when configuration loaded and the service started.
    pub const APP_CONFIG_LOAD_SUCCESS: &str = "app_config_load_success";
    /// Histogram of database operation durations.
    pub const APP_DB_OPERATION_DURATION_SECONDS: &str = "app_db_operation_duration_seconds";
    /// Failed database operations.
    pub const APP_DB_ERRORS_TOTAL: &str = "app_db_errors_total";
    /// Telemetry records dropped (full queue or failed export), by signal.
    pub const APP_TELEMETRY_DROPPED_TOTAL: &str = "app_telemetry_dropped_total";
    /// Process CPU time.
    pub const PROCESS_CPU_SECONDS_TOTAL: &str = "process_cpu_seconds_total";
    /// Process resident memory.
    pub const PROCESS_RESIDENT_MEMORY_BYTES: &str = "process_resident_memory_bytes";
    /// Process start time since the epoch.
    pub const PROCESS_START_TIME_SECONDS: &str = "process_start_time_seconds";

    /// Every metric the store-service exposes (the `process_*` family included).
    pub const ALL: &[&str] = &[
        HTTP_SERVER_REQUEST_DURATION_SECONDS,
        HTTP_SERVER_ACTIVE_REQUESTS,
        APP_REVENUE_TOTAL,
        APP_ITEMS_SOLD_TOTAL,
        APP_PRODUCT_STOCK,
        APP_PRODUCT_STOCK_UPDATES_TOTAL,
        APP_STOCK_INSUFFICIENT_EVENTS_TOTAL,
        APP_PRODUCT_NOTFOUND_TOTAL,
        APP_ERRORS_TOTAL,
        APP_STARTUP_DURATION_SECONDS,
        APP_CONFIG_LOAD_SUCCESS,
        APP_DB_OPERATION_DURATION_SECONDS,
        APP_DB_ERRORS_TOTAL,
        APP_TELEMETRY_DROPPED_TOTAL,
        PROCESS_CPU_SECONDS_TOTAL,
        PROCESS_RESIDENT_MEMORY_BYTES,
        PROCESS_START_TIME_SECONDS,
    ];

    /// Bucket boundaries (seconds) of [`HTTP_SERVER_REQUEST_DURATION_SECONDS`]:
    /// a latency SLO threshold must be one of them, or its `le` series does
    /// not exist.
    pub const HTTP_SERVER_REQUEST_DURATION_BUCKETS: [f64; 14] = [
        0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
    ];

    /// The name a metric family is registered under: OpenMetrics appends
    /// `_total` to counters itself.
    pub fn family_name(name: &str) -> &str {
        name.strip_suffix("_total").unwrap_or(name)
    }
}

/// Prometheus label names.
pub mod labels {
    /// Carried by every series of a store.
    pub const STORE_ID: &str = "store_id";
    /// HTTP method.
    pub const HTTP_REQUEST_METHOD: &str = "http_request_method";
    /// Route template, e.g. `/products/{name}`.
    pub const HTTP_ROUTE: &str = "http_route";
    /// HTTP status code.
    pub const HTTP_RESPONSE_STATUS_CODE: &str = "http_response_status_code";
    /// URI scheme of the request (`http`): `url.scheme` of the HTTP semantic
    /// conventions, a bounded set.
    pub const URL_SCHEME: &str = "url_scheme";
    /// Why a request failed, only on failures (server: 5xx): the status code
    /// as a string, so a bounded set (`error.type` of the conventions).
    pub const ERROR_TYPE: &str = "error_type";
    /// Product name.
    pub const PRODUCT_NAME: &str = "product_name";
    /// Product category.
    pub const PRODUCT_CATEGORY: &str = "product_category";
    /// ISO 4217 currency code.
    pub const CURRENCY: &str = "currency";
    /// `sale`, `restock` or `initial_load`.
    pub const UPDATE_TYPE: &str = "update_type";
    /// Stable error code of an error response.
    pub const APP_ERROR_CODE: &str = "app_error_code";
    /// Database operation.
    pub const OPERATION: &str = "operation";
    /// Telemetry signal: `traces` or `logs`.
    pub const SIGNAL: &str = "signal";
    /// Exemplar label linking a histogram sample to its trace.
    pub const TRACE_ID: &str = "trace_id";
}

/// Span names, span event names and span attribute keys.
pub mod spans {
    /// The purchase span.
    pub const BUY_PRODUCT: &str = "productService.BuyProduct";
    /// Event: stock check begins.
    pub const EVENT_STOCK_CHECK_START: &str = "stock.check.start";
    /// Event: stock check done.
    pub const EVENT_STOCK_CHECK_END: &str = "stock.check.end";
    /// Event: stock written.
    pub const EVENT_INVENTORY_UPDATE_END: &str = "inventory.update.end";
    /// Attribute: stable error code of a failed operation.
    pub const ATTR_APP_ERROR_CODE: &str = "app.error.code";
    /// Attribute of the server span: the request's URI scheme (`http`).
    pub const ATTR_URL_SCHEME: &str = "url.scheme";
    /// Attribute of a failed span: the error's class; on an HTTP server span
    /// the status code of a 5xx response (4xx are not server errors).
    pub const ATTR_ERROR_TYPE: &str = "error.type";
    /// Attribute: database system (`sqlite`, `postgresql`); the stable
    /// semantic conventions' name (the deprecated one was `db.system`).
    pub const ATTR_DB_SYSTEM_NAME: &str = "db.system.name";
    /// Attribute: database operation (`SELECT`, `UPDATE`, ...); the stable
    /// semantic conventions' name (the deprecated one was `db.operation`).
    pub const ATTR_DB_OPERATION_NAME: &str = "db.operation.name";
    /// Attribute: the table a statement works on (`products`), when there is one.
    pub const ATTR_DB_COLLECTION_NAME: &str = "db.collection.name";
}

/// OpenTelemetry resource attribute keys.
pub mod resource {
    /// The store a process serves.
    pub const STORE_ID: &str = "store.id";
    /// `store-service`.
    pub const SERVICE_NAME: &str = "service.name";
    /// Version of the service.
    pub const SERVICE_VERSION: &str = "service.version";
    /// Pod name, unique per process.
    pub const SERVICE_INSTANCE_ID: &str = "service.instance.id";
    /// Kubernetes namespace.
    pub const K8S_NAMESPACE_NAME: &str = "k8s.namespace.name";
    /// Kubernetes pod.
    pub const K8S_POD_NAME: &str = "k8s.pod.name";
    /// The `service.name` every store-service reports.
    pub const STORE_SERVICE_NAME: &str = "store-service";
}

/// Structured log field names (JSON lines on stdout).
pub mod log_fields {
    /// RFC 3339 UTC timestamp.
    pub const TIME: &str = "time";
    /// `debug`, `info`, `warn`, `error`.
    pub const LEVEL: &str = "level";
    /// The message.
    pub const MSG: &str = "msg";
    /// W3C trace id (32 hex digits).
    pub const TRACE_ID: &str = "trace_id";
    /// W3C span id (16 hex digits).
    pub const SPAN_ID: &str = "span_id";
    /// The store.
    pub const STORE_ID: &str = "store_id";
    /// The Rust module that logged.
    pub const TARGET: &str = "target";
}

/// Environment variables of the store-service, set by the operator.
pub mod env {
    /// Store identifier (required).
    pub const STORE_ID: &str = "STORE_ID";
    /// Listen port.
    pub const PORT: &str = "PORT";
    /// `sqlite://PATH` or `postgres://...`.
    pub const DATABASE_URL: &str = "DATABASE_URL";
    /// JSON or YAML product list that seeds an empty database.
    pub const CATALOG_FILE: &str = "CATALOG_FILE";
    /// File holding the admin bearer token.
    pub const ADMIN_TOKEN_FILE: &str = "ADMIN_TOKEN_FILE";
    /// The admin bearer token itself (prefer the file).
    pub const ADMIN_TOKEN: &str = "ADMIN_TOKEN";
    /// ISO 4217 currency of prices.
    pub const CURRENCY: &str = "CURRENCY";
    /// `error`, `warn`, `info`, `debug` or `trace`.
    pub const LOG_LEVEL: &str = "LOG_LEVEL";
    /// OpenTelemetry service name.
    pub const OTEL_SERVICE_NAME: &str = "OTEL_SERVICE_NAME";
    /// Comma-separated `key=value` resource attributes.
    pub const OTEL_RESOURCE_ATTRIBUTES: &str = "OTEL_RESOURCE_ATTRIBUTES";
    /// OTLP endpoint; unset disables export.
    pub const OTEL_EXPORTER_OTLP_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";
    /// `grpc` or `http/protobuf`.
    pub const OTEL_EXPORTER_OTLP_PROTOCOL: &str = "OTEL_EXPORTER_OTLP_PROTOCOL";
    /// Sampler name, e.g. `parentbased_traceidratio`.
    pub const OTEL_TRACES_SAMPLER: &str = "OTEL_TRACES_SAMPLER";
    /// Sampler argument, e.g. `0.25`.
    pub const OTEL_TRACES_SAMPLER_ARG: &str = "OTEL_TRACES_SAMPLER_ARG";
    /// OTLP traces endpoint, used as is (beats `OTEL_EXPORTER_OTLP_ENDPOINT`).
    pub const OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";
    /// OTLP logs endpoint, used as is (beats `OTEL_EXPORTER_OTLP_ENDPOINT`).
    pub const OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT";
    /// Protocol of the traces exporter.
    pub const OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: &str = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL";
    /// Protocol of the logs exporter.
    pub const OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: &str = "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL";
    /// Comma-separated `key=value` headers of every OTLP request.
    pub const OTEL_EXPORTER_OTLP_HEADERS: &str = "OTEL_EXPORTER_OTLP_HEADERS";
    /// Headers of OTLP trace requests.
    pub const OTEL_EXPORTER_OTLP_TRACES_HEADERS: &str = "OTEL_EXPORTER_OTLP_TRACES_HEADERS";
    /// Headers of OTLP log requests.
    pub const OTEL_EXPORTER_OTLP_LOGS_HEADERS: &str = "OTEL_EXPORTER_OTLP_LOGS_HEADERS";
    /// Export timeout, milliseconds.
    pub const OTEL_EXPORTER_OTLP_TIMEOUT: &str = "OTEL_EXPORTER_OTLP_TIMEOUT";
    /// Trace export timeout, milliseconds.
    pub const OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: &str = "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT";
    /// Log export timeout, milliseconds.
    pub const OTEL_EXPORTER_OTLP_LOGS_TIMEOUT: &str = "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT";
    /// PEM file of the CA certificates that verify the collector.
    pub const OTEL_EXPORTER_OTLP_CERTIFICATE: &str = "OTEL_EXPORTER_OTLP_CERTIFICATE";
    /// CA file of the traces exporter.
    pub const OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE: &str = "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE";
    /// CA file of the logs exporter.
    pub const OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE: &str = "OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE";
    /// PEM file of the client certificate chain (mutual TLS).
    pub const OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: &str = "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE";
    /// Client certificate of the traces exporter.
    pub const OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE: &str =
        "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE";
    /// Client certificate of the logs exporter.
    pub const OTEL_EXPORTER_OTLP_LOGS_CLIENT_CERTIFICATE: &str =
        "OTEL_EXPORTER_OTLP_LOGS_CLIENT_CERTIFICATE";
    /// PEM file of the client private key (mutual TLS).
    pub const OTEL_EXPORTER_OTLP_CLIENT_KEY: &str = "OTEL_EXPORTER_OTLP_CLIENT_KEY";
    /// Client key of the traces exporter.
    pub const OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY: &str = "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY";
    /// Client key of the logs exporter.
    pub const OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY: &str = "OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY";
    /// `gzip` or `none`.
    pub const OTEL_EXPORTER_OTLP_COMPRESSION: &str = "OTEL_EXPORTER_OTLP_COMPRESSION";
    /// Compression of trace requests.
    pub const OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: &str = "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION";
    /// Compression of log requests.
    pub const OTEL_EXPORTER_OTLP_LOGS_COMPRESSION: &str = "OTEL_EXPORTER_OTLP_LOGS_COMPRESSION";
    /// `true` turns every OTLP export off.
    pub const OTEL_SDK_DISABLED: &str = "OTEL_SDK_DISABLED";
    /// Trace exporters: `otlp` or `none`.
    pub const OTEL_TRACES_EXPORTER: &str = "OTEL_TRACES_EXPORTER";
    /// Log exporters: `otlp` or `none`.
    pub const OTEL_LOGS_EXPORTER: &str = "OTEL_LOGS_EXPORTER";
}

#[cfg(test)]
mod tests {
    use super::metrics;

    #[test]
    fn family_name_strips_only_the_counter_suffix() {
        assert_eq!(metrics::family_name("app_revenue_total"), "app_revenue");
        assert_eq!(
            metrics::family_name("app_product_stock"),
            "app_product_stock"
        );
    }

    #[test]
    fn metric_names_are_unique_and_prometheus_safe() {
        let mut seen = std::collections::HashSet::new();
        for name in metrics::ALL {
            assert!(seen.insert(name), "{name} listed twice");
            assert!(
                name.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "{name} is not snake_case"
            );
        }
    }
}
