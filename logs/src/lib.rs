//! JSON lines on a writer (stdout in both programs), one shape for the
//! store-service and the operator so that one Loki query and one parser
//! read both:
//!
//! ```text
//! {"time":"2026-12-05T08:00:00.123Z","level":"info","msg":"...",
//!  "trace_id":"<32 hex>","span_id":"<16 hex>",      (inside a traced span)
//!  <fixed fields: store_id, service.name, service.version, ...>,
//!  "target":"<Rust module>", <span fields, if enabled>, <event fields>}
//! ```
//!
//! Field names are `storeops_contract::log_fields`. The trace and span ids
//! come from the OpenTelemetry context the tracing-opentelemetry layer
//! activates on span entry, so they are the exported span's ids.
#![forbid(unsafe_code)]

use std::fmt::Debug;
use std::io::Write;

use opentelemetry::trace::TraceContextExt;
use serde_json::{Map, Value};
use storeops_contract::log_fields as f;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

/// A [`Layer`] that writes each event as one JSON line into `W`.
pub struct JsonLines<W> {
    writer: W,
    /// Fields every line carries, fixed at start-up (e.g. `service.name`).
    fixed: Map<String, Value>,
    /// Whether the fields of the enclosing spans are added to each line.
    span_fields: bool,
}

impl<W> JsonLines<W> {
    /// Lines into `writer`, each with the `fixed` fields (name, value) after
    /// the trace ids; later duplicates of a name replace earlier ones.
    pub fn new<K: Into<String>, V: Into<Value>>(
        writer: W,
        fixed: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        JsonLines {
            writer,
            fixed: fixed
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            span_fields: false,
        }
    }

    /// Adds the fields of the spans an event happens in (innermost first
    /// wins; the event's own fields win over them), e.g. the operator's
    /// `store.namespace` and `store.name` of a reconcile. Span fields are
    /// kept in the span's extensions while it lives.
    pub fn with_span_fields(mut self) -> Self {
        self.span_fields = true;
        self
    }
}

/// The recorded fields of a span, in its extensions.
struct SpanFields(Map<String, Value>);

impl<S, W> Layer<S> for JsonLines<W>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + 'static,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if !self.span_fields {
            return;
        }
        let Some(span) = ctx.span(id) else { return };
        let mut fields = FieldMap(Map::new());
        attrs.record(&mut fields);
        span.extensions_mut().insert(SpanFields(fields.0));
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if !self.span_fields {
            return;
        }
        let Some(span) = ctx.span(id) else { return };
        let mut extensions = span.extensions_mut();
        if let Some(SpanFields(map)) = extensions.get_mut::<SpanFields>() {
            let mut fields = FieldMap(std::mem::take(map));
            values.record(&mut fields);
            *map = fields.0;
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut line = self.line(event);
        if self.span_fields
            && let Some(scope) = ctx.event_scope(event)
        {
            for span in scope {
                if let Some(SpanFields(map)) = span.extensions().get::<SpanFields>() {
                    for (key, value) in map {
                        line.entry(key.clone()).or_insert_with(|| value.clone());
                    }
                }
            }
        }
        let mut bytes = serde_json::to_vec(&Value::Object(line)).unwrap_or_default();
        bytes.push(b'\n');
        let _ = self.writer.make_writer().write_all(&bytes);
    }
}

impl<W> JsonLines<W> {
    /// The line of an event: the fixed part, then the event's fields.
    fn line(&self, event: &Event<'_>) -> Map<String, Value> {
        let meta = event.metadata();
        let mut fields = FieldMap(Map::new());
        event.record(&mut fields);
        let mut line = Map::new();
        line.insert(
            f::TIME.into(),
            humantime::format_rfc3339_millis(std::time::SystemTime::now())
                .to_string()
                .into(),
        );
        line.insert(
            f::LEVEL.into(),
            meta.level().as_str().to_ascii_lowercase().into(),
        );
        line.insert(
            f::MSG.into(),
            fields.0.remove("message").unwrap_or(Value::Null),
        );
        let cx = opentelemetry::Context::current();
        let span = cx.span();
        let sc = span.span_context();
        if sc.is_valid() {
            line.insert(f::TRACE_ID.into(), sc.trace_id().to_string().into());
            line.insert(f::SPAN_ID.into(), sc.span_id().to_string().into());
        }
        line.extend(self.fixed.clone());
        line.insert(f::TARGET.into(), meta.target().into());
        for (key, value) in fields.0 {
            line.entry(key).or_insert(value);
        }
        line
    }
}

struct FieldMap(Map<String, Value>);

impl Visit for FieldMap {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.0
            .insert(field.name().into(), format!("{value:?}").into());
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().into(), value.into());
    }
}

/// An in-memory writer whose lines can be read back parsed: for the tests
/// of programs that log through [`JsonLines`].
#[derive(Clone, Default)]
pub struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl Captured {
    /// Each line written so far, parsed. Panics on a line that is not JSON
    /// (it is for tests).
    pub fn lines(&self) -> Vec<Value> {
        let bytes = self.0.lock().expect("not poisoned").clone();
        String::from_utf8_lossy(&bytes)
            .lines()
            .map(|l| serde_json::from_str(l).expect("each line is JSON"))
            .collect()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("not poisoned").write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing_subscriber::layer::SubscriberExt;

    #[test]
    fn lines_hold_the_contract_fields() {
        let buffer = Captured::default();
        let layer = JsonLines::new(
            buffer.clone(),
            [("store_id", "alpha"), ("service.name", "store-service")],
        );
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, || {
            let _span = tracing::info_span!("request", url.path = "/x").entered();
            tracing::warn!(product = "apple", quantity = 3, "purchase refused");
        });
        let line = &buffer.lines()[0];
        assert_eq!(line["level"], "warn");
        assert_eq!(line["msg"], "purchase refused");
        assert_eq!(line["store_id"], "alpha");
        assert_eq!(line["service.name"], "store-service");
        assert_eq!(line["quantity"], 3);
        assert_eq!(line["target"], module_path!());
        assert!(line.get("url.path").is_none(), "span fields are opt-in");
        assert!(line["time"].as_str().unwrap().ends_with('Z'));
    }

    #[test]
    fn span_fields_are_added_innermost_first_and_events_win() {
        let buffer = Captured::default();
        let layer = JsonLines::new(buffer.clone(), [("service.name", "op")]).with_span_fields();
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, || {
            let outer = tracing::info_span!("reconcile", store.name = "alpha", step = "outer");
            let _o = outer.enter();
            let inner = tracing::info_span!("apply", step = "inner", kind = tracing::field::Empty);
            inner.record("kind", "Service");
            let _i = inner.enter();
            tracing::info!(kind = "Deployment", "applied");
        });
        let line = &buffer.lines()[0];
        assert_eq!(line["store.name"], "alpha");
        assert_eq!(line["step"], "inner");
        assert_eq!(line["kind"], "Deployment");
        assert_eq!(line["msg"], "applied");
    }
}
