//! The operator's logs and traces: JSON lines on stdout that carry the
//! reconcile's `trace_id`, and an OTLP span per reconcile when an endpoint is
//! set (exported from a bounded batch queue on the Tokio runtime).

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{WithExportConfig, WithTonicConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::trace::span_processor_with_async_runtime::BatchSpanProcessor;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Why telemetry could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The OTLP exporter could not be built.
    #[error("OTLP exporter for {endpoint}: {source}")]
    Exporter {
        /// The endpoint.
        endpoint: String,
        /// Why.
        source: opentelemetry_otlp::ExporterBuildError,
    },
    /// Called twice.
    #[error("a global tracing subscriber is already installed")]
    AlreadyInstalled,
}

/// The OTLP/gRPC span exporter for `endpoint` (`http://` or `https://`;
/// an https endpoint is verified against the system's trust roots).
pub fn exporter(endpoint: &str) -> Result<opentelemetry_otlp::SpanExporter, Error> {
    let mut builder = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(endpoint);
    // tonic trusts nothing by default: an https endpoint would fail every
    // handshake without a word. The system's roots, as the image has them.
    if endpoint.starts_with("https://") {
        use opentelemetry_otlp::tonic_types::transport::ClientTlsConfig;
        builder = builder.with_tls_config(ClientTlsConfig::new().with_native_roots());
    }
    builder.build().map_err(|source| Error::Exporter {
        endpoint: endpoint.to_string(),
        source,
    })
}

/// The operator's JSON lines, the store-service's shape
/// ([`storeops_logs::JsonLines`]): `time`, `level`, `msg`, `trace_id`,
/// `span_id`, `service.name` (`storeops-operator`), `service.version`,
/// `service.instance.id` (`instance`, the pod name), `target`, then the
/// fields of the enclosing spans (a reconcile's `store.namespace` and
/// `store.name`) and the event's own.
pub fn json_lines<W>(writer: W, instance: &str) -> storeops_logs::JsonLines<W> {
    use storeops_contract::resource as r;
    storeops_logs::JsonLines::new(
        writer,
        [
            (r::SERVICE_NAME, SERVICE_NAME),
            (r::SERVICE_VERSION, env!("CARGO_PKG_VERSION")),
            (r::SERVICE_INSTANCE_ID, instance),
        ],
    )
    .with_span_fields()
}

/// The operator's `service.name`, in its spans and log lines.
pub const SERVICE_NAME: &str = "storeops-operator";

/// Installs logging and tracing; keep the provider to flush it at shutdown.
pub fn init(
    level: LevelFilter,
    otlp_endpoint: Option<&str>,
    instance: &str,
) -> Result<SdkTracerProvider, Error> {
    let resource = Resource::builder()
        .with_service_name(SERVICE_NAME)
        .with_attribute(opentelemetry::KeyValue::new(
            storeops_contract::resource::SERVICE_INSTANCE_ID,
            instance.to_string(),
        ))
        .with_attribute(opentelemetry::KeyValue::new(
            "service.version",
            env!("CARGO_PKG_VERSION"),
        ))
        .build();
    let mut provider = SdkTracerProvider::builder().with_resource(resource);
    if let Some(endpoint) = otlp_endpoint {
        let exporter = exporter(endpoint)?;
        provider = provider.with_span_processor(
            BatchSpanProcessor::builder(exporter, opentelemetry_sdk::runtime::Tokio).build(),
        );
    }
    let provider = provider.build();
    let quiet = Targets::new()
        .with_default(level)
        .with_target("h2", LevelFilter::WARN)
        .with_target("tonic", LevelFilter::WARN)
        .with_target("hyper", LevelFilter::WARN)
        .with_target("tower", LevelFilter::WARN);
    tracing_subscriber::registry()
        .with(
            tracing_opentelemetry::layer()
                .with_tracer(provider.tracer("storeops-operator"))
                .with_filter(LevelFilter::INFO),
        )
        .with(json_lines(std::io::stdout, instance).with_filter(quiet))
        .try_init()
        .map_err(|_| Error::AlreadyInstalled)?;
    Ok(provider)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn http_and_https_endpoints_make_an_exporter() {
        // Before the TLS settings, an https endpoint failed to build
        // ("no TLS feature") or built a channel that trusted nothing.
        exporter("http://collector:4317").unwrap();
        exporter("https://collector.example.com:4317").unwrap();
    }

    /// The store-service's shape (storeops-logs), with the reconcile's
    /// trace ids and Store: what one Loki query reads for both programs.
    #[test]
    fn log_lines_carry_the_shared_fields_and_the_reconciles_store() {
        let buffer = storeops_logs::Captured::default();
        let tracer = SdkTracerProvider::builder().build().tracer("test");
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(tracer))
            .with(json_lines(buffer.clone(), "storeops-0"));
        tracing::subscriber::with_default(subscriber, || {
            let span =
                tracing::info_span!("reconcile", store.namespace = "shop", store.name = "alpha");
            span.in_scope(|| tracing::warn!(error = "conflict", "reconcile failed"));
        });
        let line = &buffer.lines()[0];
        for field in ["time", "level", "msg", "trace_id", "span_id", "target"] {
            assert!(line.get(field).is_some(), "no {field} in {line}");
        }
        assert_eq!(line["level"], "warn");
        assert_eq!(line["msg"], "reconcile failed");
        assert_eq!(line["trace_id"].as_str().unwrap().len(), 32, "{line}");
        assert_eq!(line["span_id"].as_str().unwrap().len(), 16, "{line}");
        assert_eq!(line["service.name"], "storeops-operator");
        assert_eq!(line["service.instance.id"], "storeops-0");
        assert_eq!(line["store.namespace"], "shop");
        assert_eq!(line["store.name"], "alpha");
        assert_eq!(line["error"], "conflict");
    }
}
