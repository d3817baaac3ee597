//! What a collector's file exporter wrote: OTLP JSON, one export request
//! per line, read back as `(resource, item)` pairs.

use std::path::Path;

use serde_json::{Map, Value};

/// A signal's nesting in OTLP JSON: resource list, scope list, items.
#[derive(Debug, Clone, Copy)]
pub enum Signal {
    /// `resourceSpans` → `scopeSpans` → `spans`.
    Traces,
    /// `resourceLogs` → `scopeLogs` → `logRecords`.
    Logs,
}

impl Signal {
    fn keys(self) -> [&'static str; 3] {
        match self {
            Signal::Traces => ["resourceSpans", "scopeSpans", "spans"],
            Signal::Logs => ["resourceLogs", "scopeLogs", "logRecords"],
        }
    }
}

/// The export requests in `path`, one JSON object per line (none before the
/// exporter's first flush; a line cut by a flush in progress is skipped).
pub fn exports(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// `(resource, item)` of every span or log record in `path`: the resource
/// object (`{"attributes": [...]}`) and the item as exported.
pub fn items(path: &Path, signal: Signal) -> Vec<(Value, Value)> {
    let [resources, scopes, items] = signal.keys();
    let list = |v: &Value, key: &str| v[key].as_array().cloned().unwrap_or_default();
    let mut all = Vec::new();
    for export in exports(path) {
        for r in list(&export, resources) {
            for s in list(&r, scopes) {
                all.extend(
                    list(&s, items)
                        .into_iter()
                        .map(|i| (r["resource"].clone(), i)),
                );
            }
        }
    }
    all
}

/// An OTLP attribute list (`[{"key", "value": {"stringValue": ..}}]`) as one
/// flat object: strings, integers (as OTLP JSON writes them, strings),
/// booleans and doubles; other kinds are null.
pub fn attributes(list: &Value) -> Value {
    let mut map = Map::new();
    for kv in list.as_array().into_iter().flatten() {
        let v = &kv["value"];
        let value = ["stringValue", "intValue", "boolValue", "doubleValue"]
            .iter()
            .find_map(|kind| v.get(kind))
            .cloned()
            .unwrap_or(Value::Null);
        map.insert(kv["key"].as_str().unwrap_or_default().to_string(), value);
    }
    Value::Object(map)
}

/// The string value of attribute `key` in an OTLP attribute list.
pub fn attribute<'a>(list: &'a Value, key: &str) -> Option<&'a str> {
    list.as_array()?.iter().find(|a| a["key"] == key)?["value"]["stringValue"].as_str()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn items_pair_each_span_with_its_resource_and_attributes_flatten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("traces.jsonl");
        let export = json!({"resourceSpans": [{
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "store"}}]},
            "scopeSpans": [{"spans": [{"name": "a"}, {"name": "b"}]}],
        }]});
        std::fs::write(&path, format!("{export}\n{{\"cut")).unwrap();
        let spans = items(&path, Signal::Traces);
        assert_eq!(spans.len(), 2);
        assert_eq!(spans[1].1["name"], "b");
        assert_eq!(
            attribute(&spans[0].0["attributes"], "service.name"),
            Some("store")
        );
        let list = json!([{"key": "n", "value": {"intValue": "3"}}, {"key": "x", "value": {"arrayValue": {}}}]);
        assert_eq!(attributes(&list), json!({"n": "3", "x": null}));
        assert!(items(&dir.path().join("none"), Signal::Logs).is_empty());
    }
}
