//! `spec.telemetry`: where the store-service sends traces and logs.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::syntax::URL_PATTERN;

/// Traces and logs of the store-service, exported over OTLP (gRPC).
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Telemetry {
    /// OTLP gRPC endpoint, e.g. `http://otel-collector.monitoring:4317`.
    /// Unset: the operator's default; when that is unset too, nothing is
    /// exported (trace context still propagates).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = URL_PATTERN))]
    pub otlp_endpoint: Option<String>,

    /// Share of root traces sampled, from 0 to 1; a sampled parent is always
    /// followed (parentbased_traceidratio).
    #[serde(default = "default_ratio")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub trace_sample_ratio: f64,

    /// Least severe level of the store-service's logs.
    #[serde(default)]
    pub log_level: LogLevel,
}

impl Default for Telemetry {
    fn default() -> Self {
        Telemetry {
            otlp_endpoint: None,
            trace_sample_ratio: default_ratio(),
            log_level: LogLevel::default(),
        }
    }
}

fn default_ratio() -> f64 {
    1.0
}

/// A log level of the store-service.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// Errors only.
    Error,
    /// Warnings and errors.
    Warn,
    /// Lifecycle events, warnings and errors.
    #[default]
    Info,
    /// Every request.
    Debug,
    /// Everything.
    Trace,
}

impl LogLevel {
    /// The value of `LOG_LEVEL`.
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
            LogLevel::Trace => "trace",
        }
    }
}
