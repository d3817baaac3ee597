//! The ServiceMonitor (monitoring.coreos.com/v1) through which Prometheus
//! scrapes the store.
//!
//! No typed crate of the prometheus-operator API fits kube 5, so this is the
//! small part of it we write: the root type comes from kube's derive with no
//! schema (we never install that CRD), which gives `Api<ServiceMonitor>`.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::CustomResource;
use serde::{Deserialize, Serialize};

use super::service::HTTP_PORT_NAME;
use crate::reconcile::identity::add_labels;
use crate::reconcile::resolve::ResolvedStore;

/// `spec` of a ServiceMonitor: the fields we set.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "monitoring.coreos.com",
    version = "v1",
    kind = "ServiceMonitor",
    namespaced,
    schema = "disabled",
    derive = "PartialEq"
)]
#[serde(rename_all = "camelCase")]
pub struct ServiceMonitorSpec {
    /// Services to scrape.
    pub selector: LabelSelector,
    /// How to scrape them.
    pub endpoints: Vec<Endpoint>,
}

/// A scrape endpoint of a ServiceMonitor.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Endpoint {
    /// Name of the Service port.
    pub port: String,
    /// HTTP path of the metrics.
    pub path: String,
    /// Scrape interval.
    pub interval: String,
    /// Whether the scraped series' own labels win over the target's: the
    /// store-service labels every series with `store_id` itself, and without
    /// this Prometheus would rename it to `exported_store_id`.
    pub honor_labels: bool,
    /// Relabelings of the target: `store_id` from the Service's
    /// `storeops.dev/store-id` label, so that `up` and the `scrape_*`
    /// series name the store too.
    pub relabelings: Vec<RelabelConfig>,
}

/// A relabeling of a ServiceMonitor endpoint (action `replace`, the default).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RelabelConfig {
    /// Labels whose values (joined by `;`) are the source.
    pub source_labels: Vec<String>,
    /// Label that gets the value.
    pub target_label: String,
}

/// The discovery label that holds the Service's `storeops.dev/store-id`
/// (Prometheus replaces the characters a label name cannot hold by `_`).
const STORE_ID_META_LABEL: &str = "__meta_kubernetes_service_label_storeops_dev_store_id";

/// The target label `store_id` from the Service's store-id label.
fn store_id_relabeling() -> RelabelConfig {
    RelabelConfig {
        source_labels: vec![STORE_ID_META_LABEL.into()],
        target_label: storeops_contract::labels::STORE_ID.into(),
    }
}

/// The store's ServiceMonitor; `None` when `spec.monitoring.serviceMonitor`
/// is disabled. Its labels are the Store's, plus the ones the spec adds.
pub fn service_monitor(store: &ResolvedStore) -> Option<ServiceMonitor> {
    let settings = store.service_monitor.as_ref()?;
    let mut metadata = store.id.object_meta(&store.id.object_name);
    add_labels(&mut metadata, &settings.labels);
    Some(ServiceMonitor {
        metadata,
        spec: ServiceMonitorSpec {
            selector: store.id.selector(),
            endpoints: vec![Endpoint {
                port: HTTP_PORT_NAME.into(),
                path: "/metrics".into(),
                interval: settings.interval.clone(),
                honor_labels: true,
                relabelings: vec![store_id_relabeling()],
            }],
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Store;

    #[test]
    fn prometheus_scrapes_metrics_on_the_http_port_at_the_spec_interval() {
        let mut store = Store::test();
        store.spec.monitoring.service_monitor.interval = "15s".into();
        let store = store.resolved();
        let sm = service_monitor(&store).unwrap();
        assert_eq!(sm.spec.selector, store.id.selector());
        assert_eq!(
            sm.spec.endpoints,
            [Endpoint {
                port: "http".into(),
                path: "/metrics".into(),
                interval: "15s".into(),
                honor_labels: true,
                relabelings: vec![RelabelConfig {
                    source_labels: vec![
                        "__meta_kubernetes_service_label_storeops_dev_store_id".into()
                    ],
                    target_label: "store_id".into(),
                }],
            }]
        );
        // The label the relabeling reads is the one the Service carries.
        assert_eq!(
            STORE_ID_META_LABEL.trim_start_matches("__meta_kubernetes_service_label_"),
            crate::api::STORE_ID_LABEL.replace(['.', '/', '-'], "_")
        );
        let value = serde_json::to_value(&sm).unwrap();
        assert_eq!(value["apiVersion"], "monitoring.coreos.com/v1");
        assert_eq!(value["kind"], "ServiceMonitor");
    }

    #[test]
    fn spec_labels_are_added_but_never_replace_ours() {
        let store = Store::test().with_service_monitor_labels(&[
            ("release", "kube-prometheus-stack"),
            ("app.kubernetes.io/name", "hijack"),
        ]);
        let labels = service_monitor(&store.resolved())
            .unwrap()
            .metadata
            .labels
            .unwrap();
        assert_eq!(labels["release"], "kube-prometheus-stack");
        assert_eq!(labels["app.kubernetes.io/name"], "store-service");
        assert_eq!(labels["storeops.dev/store-id"], "alpha");
    }

    #[test]
    fn a_disabled_service_monitor_is_not_built() {
        assert_eq!(
            service_monitor(&Store::test().without_service_monitor().resolved()),
            None
        );
    }
}
