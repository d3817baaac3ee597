//! Drift of a Store's monitoring objects (ServiceMonitor, PrometheusRule), as
//! reconcile requests for the Store that owns them.
//!
//! Not `Controller::owns`: the Controller backs off its trigger streams as
//! one, so a watch failing because the monitoring.coreos.com CRDs are absent
//! (or were removed) would delay every Store's reconciles. Here each kind is
//! watched only while its CRD is served, and a failed watch waits on its own.

use std::time::Duration;

use futures::{SinkExt, Stream, StreamExt};
use kube::core::PartialObjectMeta;
use kube::core::{ApiResource, DynamicObject};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client, Resource, ResourceExt};

use crate::api::Store;
use crate::discovery::MonitoringCrds;
use crate::reconcile::kinds;

/// How long to wait after a failed watch.
const RETRY: Duration = Duration::from_secs(5);

/// Stores whose monitoring objects (the kinds of
/// [`kinds::ALL`](crate::reconcile::kinds::ALL) that need the monitoring
/// CRDs; selected by `labels`, in `namespace` or everywhere) changed, as
/// long as the stream is polled.
pub fn monitoring_drift(
    client: Client,
    crds: MonitoringCrds,
    namespace: Option<String>,
    labels: String,
) -> impl Stream<Item = ObjectRef<Store>> + Send + 'static {
    let (tx, rx) = futures::channel::mpsc::channel(256);
    for kind in kinds::ALL.into_iter().filter(|k| k.needs_monitoring_crds) {
        let resource = kinds::api_resource(kind);
        let api: Api<PartialObjectMeta<DynamicObject>> = match namespace.as_deref() {
            Some(ns) => Api::namespaced_with(client.clone(), ns, &resource),
            None => Api::all_with(client.clone(), &resource),
        };
        tokio::spawn(follow(
            api,
            kind.kind,
            crds.clone(),
            labels.clone(),
            tx.clone(),
        ));
    }
    rx
}

/// An Api of `namespace`, or of every namespace.
pub fn scoped<K>(client: &Client, namespace: Option<&str>) -> Api<K>
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>,
{
    match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    }
}

/// A dynamic Api of one resource in `namespace`, or in every namespace.
pub fn scoped_dynamic(
    client: &Client,
    namespace: Option<&str>,
    resource: &ApiResource,
) -> Api<DynamicObject> {
    match namespace {
        Some(ns) => Api::namespaced_with(client.clone(), ns, resource),
        None => Api::all_with(client.clone(), resource),
    }
}

/// Watches one kind (metadata only) while its CRD is served; sends the
/// owning Store of every object seen. Returns when nobody listens any more
/// or the poller ended.
async fn follow(
    api: Api<PartialObjectMeta<DynamicObject>>,
    kind: &'static str,
    mut crds: MonitoringCrds,
    labels: String,
    mut tx: futures::channel::mpsc::Sender<ObjectRef<Store>>,
) {
    loop {
        if !crds.served().await {
            return; // the poller ended: the process is stopping
        }
        let config = watcher::Config::default().labels(&labels);
        let mut objects = watcher(api.clone(), config).touched_objects().boxed();
        while let Some(event) = objects.next().await {
            match event {
                Ok(object) => {
                    for store in owners(&object) {
                        if tx.send(store).await.is_err() {
                            return;
                        }
                    }
                }
                Err(error) => {
                    tracing::debug!(%error, kind, "monitoring watch ended");
                    break;
                }
            }
        }
        if tx.is_closed() {
            return;
        }
        tokio::time::sleep(RETRY).await;
    }
}

/// The Stores that own `object` as their controller.
fn owners(object: &impl Resource) -> Vec<ObjectRef<Store>> {
    let namespace = object.namespace().unwrap_or_default();
    object
        .owner_references()
        .iter()
        .filter(|o| o.kind == "Store" && o.controller == Some(true))
        .map(|o| ObjectRef::new(&o.name).within(&namespace))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::owners;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
    use kube::api::ObjectMeta;

    #[test]
    fn a_monitoring_object_leads_to_the_store_that_controls_it() {
        let owner = |kind: &str, name: &str, controller: bool| OwnerReference {
            api_version: "storeops.dev/v1alpha1".into(),
            kind: kind.into(),
            name: name.into(),
            uid: "u".into(),
            controller: Some(controller),
            ..OwnerReference::default()
        };
        let object = k8s_openapi::api::core::v1::ConfigMap {
            metadata: ObjectMeta {
                namespace: Some("shop".into()),
                owner_references: Some(vec![
                    owner("Store", "alpha", true),
                    owner("Store", "other", false),
                    owner("Deployment", "x", true),
                ]),
                ..ObjectMeta::default()
            },
            ..Default::default()
        };
        let refs = owners(&object);
        assert_eq!(refs.len(), 1);
        assert_eq!(
            (refs[0].name.as_str(), refs[0].namespace.as_deref()),
            ("alpha", Some("shop"))
        );
    }
}
