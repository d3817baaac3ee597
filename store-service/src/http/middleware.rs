//! Middleware: the server span and RED metrics, admin authentication, faults.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use opentelemetry::global;
use opentelemetry::propagation::Extractor;
use opentelemetry::trace::TraceContextExt;
use opentelemetry_http::HeaderInjector;
use serde::{Deserialize, Serialize};
use storeops_contract::spans;
use tracing::{Instrument, field::Empty};
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::AppState;
use super::error::{ApiError, ErrorCode, into_contract};
use crate::telemetry::semconv::{self, RequestMethod};

/// Longest `http.request.method_original` kept: a made-up method is client
/// input, and an 8 KiB one should not travel to every trace backend.
const MAX_METHOD_ORIGINAL: usize = 64;

/// One server span per request (W3C trace context in and out), the
/// request-duration histogram with a `trace_id` exemplar, in-flight gauge,
/// error counts by code, and one access log line.
///
/// Labels and the span name are bounded: the method is one of the known nine
/// or `_OTHER`, the route is the matched template or empty (no route matched),
/// never the path. Every error response leaves here in the JSON contract.
pub async fn observe(
    State(s): State<AppState>,
    matched: Option<MatchedPath>,
    req: Request,
    next: Next,
) -> Response {
    let method = RequestMethod::of(req.method().as_str());
    let route = matched
        .as_ref()
        .map(MatchedPath::as_str)
        .unwrap_or("")
        .to_string();
    let parent = global::get_text_map_propagator(|p| p.extract(&HeaderFields(req.headers())));
    let span = tracing::info_span!(
        "http",
        otel.name = method.span_name(&route),
        otel.kind = "server",
        http.request.method = method.as_str(),
        { semconv::ATTR_HTTP_REQUEST_METHOD_ORIGINAL } = Empty,
        http.route = %route,
        url.path = %req.uri().path(),
        { spans::ATTR_URL_SCHEME } = semconv::URL_SCHEME_HTTP,
        http.response.status_code = Empty,
        { spans::ATTR_ERROR_TYPE } = Empty,
        otel.status_code = Empty,
        { spans::ATTR_APP_ERROR_CODE } = Empty,
    );
    if method.is_other() {
        let original: String = req
            .method()
            .as_str()
            .chars()
            .take(MAX_METHOD_ORIGINAL)
            .collect();
        span.record(semconv::ATTR_HTTP_REQUEST_METHOD_ORIGINAL, original);
    }
    let _ = span.set_parent(parent);
    let _active = s.metrics.http.start(method, &route);
    let started = Instant::now();

    let response = next.run(req).instrument(span.clone()).await;
    let mut response = into_contract(response);

    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    span.record("http.response.status_code", status);
    if let Some(ErrorCode(code)) = response.extensions().get::<ErrorCode>().copied() {
        span.record(spans::ATTR_APP_ERROR_CODE, code);
        s.metrics.app.error(code);
    }
    let error_type = semconv::server_error_type(status);
    if let Some(error_type) = &error_type {
        span.record("otel.status_code", "ERROR");
        span.record(spans::ATTR_ERROR_TYPE, error_type.as_str());
    }
    let cx = span.context();
    // Only the trace context goes back to the client: the request's baggage
    // is the callee's to use, not to echo.
    use opentelemetry::propagation::TextMapPropagator;
    crate::telemetry::trace_context::StrictTraceContext::default()
        .inject_context(&cx, &mut HeaderInjector(response.headers_mut()));
    if response
        .headers()
        .get("tracestate")
        .is_some_and(|v| v.is_empty())
    {
        response.headers_mut().remove("tracestate");
    }
    let sc = cx.span().span_context().clone();
    let exemplar = sc.is_sampled().then(|| sc.trace_id().to_string());
    s.metrics
        .http
        .finish(method, &route, status, error_type, elapsed, exemplar);
    let duration_ms = (elapsed.as_secs_f64() * 1e6).round() / 1e3;
    // Successes live in traces and metrics; logging each one would cost more
    // than it tells. Failures are logged, with their trace.
    span.in_scope(|| match status {
        500.. => tracing::warn!(http.request.method = method.as_str(), http.route = %route, http.response.status_code = status, duration_ms, "request failed"),
        400.. => tracing::info!(http.request.method = method.as_str(), http.route = %route, http.response.status_code = status, duration_ms, "request refused"),
        _ => tracing::debug!(http.request.method = method.as_str(), http.route = %route, http.response.status_code = status, duration_ms, "request served"),
    });
    response
}

/// Request headers for trace context extraction. Unlike
/// `opentelemetry_http::HeaderExtractor`, a field that is not ASCII is not
/// skipped silently (which would keep the other `tracestate` fields of an
/// invalid list): it reads as a character no trace context grammar allows.
struct HeaderFields<'a>(&'a axum::http::HeaderMap);

/// What a non-ASCII header field reads as: invalid in every trace context field.
const NOT_ASCII: &str = "\u{7f}";

impl Extractor for HeaderFields<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(|v| v.to_str().unwrap_or(NOT_ASCII))
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }

    fn get_all(&self, key: &str) -> Option<Vec<&str>> {
        let values: Vec<&str> = self
            .0
            .get_all(key)
            .iter()
            .map(|v| v.to_str().unwrap_or(NOT_ASCII))
            .collect();
        (!values.is_empty()).then_some(values)
    }
}

/// Admin routes need `Authorization: Bearer <token>`.
pub async fn require_admin(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let Some(expected) = s.admin_token.as_deref() else {
        return ApiError::new(
            StatusCode::UNAUTHORIZED,
            "admin_disabled",
            "no admin token is configured",
        )
        .into_response();
    };
    // Bytes, not `to_str`: a header with non-ASCII bytes is a wrong token, not a missing one.
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .map(|v| v.as_bytes().strip_prefix(b"Bearer "));
    match presented {
        Some(Some(token)) if constant_time_eq(token, expected.as_bytes()) => next.run(req).await,
        Some(Some(_)) => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "the bearer token is wrong",
        )
        .into_response(),
        Some(None) => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "the Authorization header is not a Bearer token",
        )
        .into_response(),
        None => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "missing_token",
            "an admin bearer token is required",
        )
        .into_response(),
    }
}

/// Compares without an early exit, so timing does not reveal a prefix.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Demo faults on the product routes: added latency and a ratio of 500s.
#[derive(Debug, Default)]
pub struct Faults(Mutex<FaultSettings>);

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSettings {
    /// Added to every product request, in milliseconds (at most 30000).
    #[serde(default)]
    pub latency_ms: u64,
    /// Share of product requests answered with 500, from 0 to 1.
    #[serde(default)]
    pub error_ratio: f64,
}

impl Faults {
    pub fn get(&self) -> FaultSettings {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn set(&self, settings: FaultSettings) -> Result<(), String> {
        if settings.latency_ms > 30_000 {
            return Err(format!(
                "latency_ms must be at most 30000, got {}",
                settings.latency_ms
            ));
        }
        if !(0.0..=1.0).contains(&settings.error_ratio) {
            return Err(format!(
                "error_ratio must be from 0 to 1, got {}",
                settings.error_ratio
            ));
        }
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = settings;
        Ok(())
    }

    pub fn clear(&self) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = FaultSettings::default();
    }
}

pub async fn inject_faults(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let f = s.faults.get();
    if f.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(f.latency_ms)).await;
    }
    if f.error_ratio > 0.0 && rand::random::<f64>() < f.error_ratio {
        return ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "injected_fault",
            "fault injected for a demo",
        )
        .into_response();
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_ascii_trace_context_fields_are_not_skipped() {
        let mut headers = axum::http::HeaderMap::new();
        headers.append("tracestate", "congo=a".parse().unwrap());
        headers.append(
            "tracestate",
            axum::http::HeaderValue::from_bytes(b"rojo=caf\xe9").unwrap(),
        );
        let fields = HeaderFields(&headers);
        assert_eq!(
            fields.get_all("tracestate").unwrap(),
            ["congo=a", NOT_ASCII]
        );
        assert_eq!(fields.get_all("traceparent"), None);
        let fields = crate::telemetry::trace_context::parse_tracestate(
            &fields.get_all("tracestate").unwrap(),
        );
        assert!(fields.is_err());
    }

    #[test]
    fn token_comparison() {
        assert!(constant_time_eq(b"secret-token", b"secret-token"));
        assert!(!constant_time_eq(b"secret-token", b"secret-tokem"));
        assert!(!constant_time_eq(b"secret", b"secret-token"));
    }

    #[test]
    fn faults_are_bounded() {
        let f = Faults::default();
        assert!(
            f.set(FaultSettings {
                latency_ms: 10,
                error_ratio: 0.5
            })
            .is_ok()
        );
        assert!(
            f.set(FaultSettings {
                latency_ms: 10,
                error_ratio: 1.5
            })
            .is_err()
        );
        assert!(
            f.set(FaultSettings {
                latency_ms: 60_000,
                error_ratio: 0.0
            })
            .is_err()
        );
        assert_eq!(
            f.get(),
            FaultSettings {
                latency_ms: 10,
                error_ratio: 0.5
            }
        );
    }
}
