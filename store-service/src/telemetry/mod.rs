//! Telemetry wiring: one `tracing` subscriber feeds three outputs.
//!
//! ```text
//! tracing spans/events ─┬─ JsonLines ──────────── stdout (non-blocking, lossy, counted)
//!                       ├─ OpenTelemetryLayer ─── BoundedProcessor ── OTLP traces
//!                       └─ OTel log bridge ────── BoundedProcessor ── OTLP logs
//! metrics ── prometheus-client registry ── GET /metrics
//! ```

pub mod export;
pub mod exposition;
pub mod logs;
pub mod metrics;
pub mod otlp;
pub mod process;
pub mod semconv;
pub mod trace_context;

use std::time::Duration;

use opentelemetry::propagation::TextMapCompositePropagator;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry::{KeyValue, global};
use opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::propagation::BaggagePropagator;
use opentelemetry_sdk::resource::TelemetryResourceDetector;
use opentelemetry_sdk::trace::{Sampler as SdkSampler, SdkTracerProvider};
use storeops_contract::resource as r;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::{RootSampler, Sampler, TelemetryConfig};
use metrics::{Metrics, Signal};

/// Targets whose own logs must not be exported (they run the export).
const EXPORT_INTERNALS: [&str; 7] = [
    "opentelemetry",
    "opentelemetry_sdk",
    "opentelemetry_otlp",
    "tonic",
    "h2",
    "hyper",
    "storeops::export",
];

/// Handles to flush and stop telemetry at shutdown.
pub struct Telemetry {
    tracer_provider: SdkTracerProvider,
    logger_provider: Option<SdkLoggerProvider>,
    _stdout: tracing_appender::non_blocking::WorkerGuard,
}

#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error(transparent)]
    Exporter(#[from] otlp::ExporterError),
    #[error("a global tracing subscriber is already installed")]
    AlreadyInstalled,
}

/// The propagator the service installs: strict W3C trace context (the SDK's
/// propagator adopts some malformed headers) and W3C baggage, so a caller's
/// `baggage` header reaches the request's context.
pub fn propagator() -> TextMapCompositePropagator {
    TextMapCompositePropagator::new(vec![
        Box::new(trace_context::StrictTraceContext::default()),
        Box::new(BaggagePropagator::new()),
    ])
}

/// Installs the global subscriber and propagator. Call inside the Tokio runtime.
pub fn init(cfg: &TelemetryConfig, metrics: &Metrics) -> Result<Telemetry, TelemetryError> {
    let attributes = resource_attributes(cfg);
    // `telemetry.sdk.name`, `.language` and `.version` (the SDK's detector),
    // then ours; not the environment's detectors: the operator sets every
    // attribute explicitly.
    let resource = Resource::builder_empty()
        .with_detector(Box::new(TelemetryResourceDetector))
        .with_attributes(
            attributes
                .iter()
                .map(|(k, v)| KeyValue::new(k.clone(), v.clone())),
        )
        .build();

    let (stdout, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(true)
        .buffered_lines_limit(16_384)
        .finish(std::io::stdout());
    metrics.dropped.watch_stdout(stdout.error_counter());

    let mut traces = SdkTracerProvider::builder()
        .with_sampler(sdk_sampler(cfg.sampler))
        .with_resource(resource.clone());
    if let Some(x) = &cfg.traces {
        let mut spans = otlp::span_exporter(x)?;
        opentelemetry_sdk::trace::SpanExporter::set_resource(&mut spans, &resource);
        traces = traces.with_span_processor(export::BoundedProcessor::spawn(
            export::Spans(spans),
            metrics.dropped.clone(),
            Signal::Traces,
            x.timeout,
        ));
    }
    let logger_provider = match &cfg.logs {
        Some(x) => {
            let mut logs = otlp::log_exporter(x)?;
            opentelemetry_sdk::logs::LogExporter::set_resource(&mut logs, &resource);
            Some(
                SdkLoggerProvider::builder()
                    .with_resource(resource)
                    .with_log_processor(export::BoundedProcessor::spawn(
                        export::Logs(logs),
                        metrics.dropped.clone(),
                        Signal::Logs,
                        x.timeout,
                    ))
                    .build(),
            )
        }
        None => None,
    };
    // Without an endpoint spans are still made: trace context flows in and out.
    let tracer_provider = traces.build();
    global::set_text_map_propagator(propagator());

    let internals_quiet = EXPORT_INTERNALS
        .iter()
        .fold(Targets::new().with_default(cfg.log_level), |t, target| {
            t.with_target(*target, tracing::Level::ERROR)
        });
    let otel_logs_filter = EXPORT_INTERNALS
        .iter()
        .fold(Targets::new().with_default(cfg.log_level), |t, target| {
            t.with_target(*target, tracing_subscriber::filter::LevelFilter::OFF)
        });
    tracing_subscriber::registry()
        .with(
            tracing_opentelemetry::layer()
                .with_tracer(tracer_provider.tracer(r::STORE_SERVICE_NAME))
                // Per-span extras (busy/idle timing on every poll, thread and
                // source location attributes) cost more than they tell here.
                .with_tracked_inactivity(false)
                .with_threads(false)
                .with_location(false)
                .with_target(false)
                // Spans only: log events reach the backend as OTLP logs already,
                // copying each into its span as an event would double the cost.
                .with_filter(tracing_subscriber::filter::filter_fn(|meta| {
                    meta.is_span() && *meta.level() <= tracing::Level::INFO
                })),
        )
        .with(logs::json_lines(stdout, &cfg.store_id, &attributes).with_filter(internals_quiet))
        .with(
            logger_provider
                .as_ref()
                .map(|p| OpenTelemetryTracingBridge::new(p).with_filter(otel_logs_filter)),
        )
        .try_init()
        .map_err(|_| TelemetryError::AlreadyInstalled)?;
    for warning in &cfg.warnings {
        tracing::warn!(warning = %warning, "telemetry setting read leniently");
    }

    Ok(Telemetry {
        tracer_provider,
        logger_provider,
        _stdout: guard,
    })
}

impl Telemetry {
    /// Flushes and stops exporters, waiting at most `timeout` for each signal.
    /// Blocks: call from a blocking context.
    pub fn shutdown(self, timeout: Duration) {
        if let Err(error) = self.tracer_provider.shutdown_with_timeout(timeout) {
            eprintln!("trace export did not finish: {error}");
        }
        if let Some(p) = self.logger_provider
            && let Err(error) = p.shutdown_with_timeout(timeout)
        {
            eprintln!("log export did not finish: {error}");
        }
    }
}

/// The resource: user attributes, then the ones the service owns.
fn resource_attributes(cfg: &TelemetryConfig) -> Vec<(String, String)> {
    let mut attrs: Vec<(String, String)> = cfg.resource_attributes.clone();
    let mut set = |key: &str, value: String, overwrite: bool| match attrs
        .iter_mut()
        .find(|(k, _)| k == key)
    {
        Some(existing) if overwrite => existing.1 = value,
        Some(_) => {}
        None => attrs.push((key.to_string(), value)),
    };
    set(r::SERVICE_NAME, cfg.service_name.clone(), true);
    set(r::STORE_ID, cfg.store_id.clone(), true);
    set(
        r::SERVICE_VERSION,
        env!("CARGO_PKG_VERSION").to_string(),
        false,
    );
    let instance =
        std::env::var("HOSTNAME").unwrap_or_else(|_| format!("{:016x}", rand::random::<u64>()));
    set(r::SERVICE_INSTANCE_ID, instance, false);
    attrs
}

fn sdk_sampler(s: Sampler) -> SdkSampler {
    let root = match s.root {
        RootSampler::AlwaysOn => SdkSampler::AlwaysOn,
        RootSampler::AlwaysOff => SdkSampler::AlwaysOff,
        RootSampler::TraceIdRatio(ratio) => SdkSampler::TraceIdRatioBased(ratio),
    };
    if s.parent_based {
        SdkSampler::ParentBased(Box::new(root))
    } else {
        root
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use opentelemetry::baggage::BaggageExt;
    use opentelemetry::propagation::TextMapPropagator;
    use opentelemetry::trace::TraceContextExt;

    use super::*;

    #[test]
    fn the_propagator_extracts_baggage_along_with_a_strict_trace_context() {
        let headers = HashMap::from([
            (
                "traceparent".to_string(),
                "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".to_string(),
            ),
            ("baggage".to_string(), "tenant=acme,region=eu".to_string()),
        ]);
        let cx = propagator().extract(&headers);
        assert!(cx.span().span_context().is_remote());
        assert_eq!(
            cx.baggage().get("tenant").map(|v| v.as_str().to_string()),
            Some("acme".to_string())
        );
        assert_eq!(
            cx.baggage().get("region").map(|v| v.as_str().to_string()),
            Some("eu".to_string())
        );
        // Still strict: a malformed traceparent is no parent.
        let bad = HashMap::from([(
            "traceparent".to_string(),
            "00-0af7651916cd43dd8448eb211c8031-b7ad6b7169203331-01".to_string(),
        )]);
        assert!(!propagator().extract(&bad).span().span_context().is_valid());
    }
}
