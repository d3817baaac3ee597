//! JSON lines on stdout: `time`, `level`, `msg`, `trace_id`, `span_id`, the
//! store and resource fields, then the event's own fields.

use std::fmt::Debug;
use std::io::Write;

use opentelemetry::trace::TraceContextExt;
use serde_json::{Map, Value};
use storeops_contract::{log_fields as f, resource as r};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::Context;

/// Formats events as JSON lines into a (non-blocking) writer.
pub struct JsonLines<W> {
    writer: W,
    /// Fields every line carries, fixed at start-up.
    fixed: Map<String, Value>,
}

impl<W> JsonLines<W> {
    pub fn new(writer: W, store_id: &str, resource: &[(String, String)]) -> Self {
        let mut fixed = Map::new();
        fixed.insert(f::STORE_ID.into(), store_id.into());
        for (key, value) in resource {
            if [r::SERVICE_NAME, r::SERVICE_VERSION, r::SERVICE_INSTANCE_ID].contains(&key.as_str())
            {
                fixed.insert(key.clone(), value.clone().into());
            }
        }
        JsonLines { writer, fixed }
    }
}

impl<S, W> Layer<S> for JsonLines<W>
where
    S: Subscriber,
    W: for<'w> MakeWriter<'w> + 'static,
{
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
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
        // The OpenTelemetry layer activates the span's context on entry.
        let cx = opentelemetry::Context::current();
        let span = cx.span();
        let sc = span.span_context();
        if sc.is_valid() {
            line.insert(f::TRACE_ID.into(), sc.trace_id().to_string().into());
            line.insert(f::SPAN_ID.into(), sc.span_id().to_string().into());
        }
        line.extend(self.fixed.clone());
        line.insert("target".into(), meta.target().into());
        for (key, value) in fields.0 {
            line.entry(key).or_insert(value);
        }
        let mut bytes = serde_json::to_vec(&Value::Object(line)).unwrap_or_default();
        bytes.push(b'\n');
        let _ = self.writer.make_writer().write_all(&bytes);
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use tracing_subscriber::layer::SubscriberExt;

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().write(buf)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Buffer {
        type Writer = Buffer;
        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    #[test]
    fn lines_hold_the_contract_fields() {
        let buffer = Buffer::default();
        let resource = vec![
            ("service.name".to_string(), "store-service".to_string()),
            ("k8s.pod.name".to_string(), "p".to_string()),
        ];
        let subscriber =
            tracing_subscriber::registry().with(JsonLines::new(buffer.clone(), "alpha", &resource));
        tracing::subscriber::with_default(subscriber, || {
            tracing::warn!(product = "apple", quantity = 3, "purchase refused");
        });
        let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        let line: Value = serde_json::from_str(text.trim()).unwrap();
        assert_eq!(line["level"], "warn");
        assert_eq!(line["msg"], "purchase refused");
        assert_eq!(line["store_id"], "alpha");
        assert_eq!(line["service.name"], "store-service");
        assert_eq!(line["quantity"], 3);
        assert!(line.get("k8s.pod.name").is_none());
        assert!(line["time"].as_str().unwrap().ends_with('Z'));
    }
}
