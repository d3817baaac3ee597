//! The store-service's JSON lines ([`storeops_logs::JsonLines`], the shape
//! the operator writes too): `time`, `level`, `msg`, `trace_id`, `span_id`,
//! `store_id` and the resource's service fields, then the event's own fields.

use storeops_contract::{log_fields as f, resource as r};
use storeops_logs::JsonLines;

/// The stdout layer: every line carries `store_id` and the resource's
/// `service.name`, `service.version` and `service.instance.id` (not its
/// other attributes: the pod and namespace come with the log's stream).
pub fn json_lines<W>(writer: W, store_id: &str, resource: &[(String, String)]) -> JsonLines<W> {
    let service = [r::SERVICE_NAME, r::SERVICE_VERSION, r::SERVICE_INSTANCE_ID];
    let fixed = std::iter::once((f::STORE_ID.to_string(), store_id.to_string())).chain(
        resource
            .iter()
            .filter(|(key, _)| service.contains(&key.as_str()))
            .cloned(),
    );
    JsonLines::new(writer, fixed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use storeops_logs::Captured;
    use tracing_subscriber::layer::SubscriberExt;

    #[test]
    fn lines_carry_the_store_id_and_the_service_but_not_the_pod() {
        let buffer = Captured::default();
        let resource = vec![
            ("service.name".to_string(), "store-service".to_string()),
            ("k8s.pod.name".to_string(), "p".to_string()),
        ];
        let subscriber =
            tracing_subscriber::registry().with(json_lines(buffer.clone(), "alpha", &resource));
        tracing::subscriber::with_default(subscriber, || tracing::info!("catalog loaded"));
        let line = &buffer.lines()[0];
        assert_eq!(line["store_id"], "alpha");
        assert_eq!(line["service.name"], "store-service");
        assert!(line.get("k8s.pod.name").is_none(), "{line}");
    }
}
