//! Names, labels and owner references shared by every object of a Store.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta, OwnerReference};
use kube::{Resource, ResourceExt};

use crate::api::{STORE_ID_LABEL, Store};

/// `app.kubernetes.io/name` of the store-service.
pub const APP_NAME: &str = "store-service";
/// `app.kubernetes.io/component` of a store.
pub const COMPONENT: &str = "store";
/// `app.kubernetes.io/part-of` and `managed-by`.
pub const PART_OF: &str = "storeops";

/// Name of the Deployment, Service, ServiceAccount, PDB and ServiceMonitor.
pub fn object_name(store: &Store) -> String {
    store.object_name()
}

/// Name of the admin-token Secret.
pub fn admin_secret_name(store: &Store) -> String {
    format!("store-{}-admin", store.name_any())
}

/// Name of the inline catalog's ConfigMap.
pub fn catalog_config_map_name(store: &Store) -> String {
    format!("store-{}-catalog", store.name_any())
}

/// Name of the embedded database's PersistentVolumeClaim.
pub fn data_claim_name(store: &Store) -> String {
    format!("store-{}-data", store.name_any())
}

/// The labels that select the Store's pods (never change: a Deployment's
/// selector is immutable).
pub fn selector_labels(store: &Store) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("app.kubernetes.io/name".to_string(), APP_NAME.to_string()),
        ("app.kubernetes.io/instance".to_string(), store.name_any()),
    ])
}

/// The labels of every object of the Store; the orphan sweep of the apply
/// step lists objects by them.
pub fn labels(store: &Store) -> BTreeMap<String, String> {
    let mut labels = selector_labels(store);
    labels.extend([
        (
            "app.kubernetes.io/component".to_string(),
            COMPONENT.to_string(),
        ),
        ("app.kubernetes.io/part-of".to_string(), PART_OF.to_string()),
        (
            "app.kubernetes.io/managed-by".to_string(),
            PART_OF.to_string(),
        ),
        (STORE_ID_LABEL.to_string(), store.store_id().to_string()),
    ]);
    labels
}

/// The label selector of the Store's pods.
pub fn selector(store: &Store) -> LabelSelector {
    LabelSelector {
        match_labels: Some(selector_labels(store)),
        ..LabelSelector::default()
    }
}

/// The Store as the controlling owner, so deleting it deletes the object.
/// `None` for a Store that was never stored (no uid), as in `render`.
pub fn owner(store: &Store) -> Option<OwnerReference> {
    Some(OwnerReference {
        block_owner_deletion: Some(true),
        ..store.controller_owner_ref(&())?
    })
}

/// Metadata of an object of the Store: name, namespace, labels, owner.
pub fn object_meta(store: &Store, name: String) -> ObjectMeta {
    ObjectMeta {
        name: Some(name),
        namespace: store.namespace(),
        labels: Some(labels(store)),
        owner_references: owner(store).map(|o| vec![o]),
        ..ObjectMeta::default()
    }
}

/// Adds the spec's extra labels (how Prometheus or Grafana select an object)
/// without ever replacing ours.
pub fn add_labels(metadata: &mut ObjectMeta, extra: &BTreeMap<String, String>) {
    let labels = metadata.labels.get_or_insert_default();
    for (k, v) in extra {
        labels.entry(k.clone()).or_insert_with(|| v.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_follow_the_recommended_set_and_carry_the_store_id() {
        let labels = labels(&Store::test().with_store_id("alpha_store"));
        let get = |k: &str| labels.get(k).map(String::as_str);
        assert_eq!(get("app.kubernetes.io/name"), Some("store-service"));
        assert_eq!(get("app.kubernetes.io/instance"), Some("alpha"));
        assert_eq!(get("app.kubernetes.io/component"), Some("store"));
        assert_eq!(get("app.kubernetes.io/part-of"), Some("storeops"));
        assert_eq!(get("app.kubernetes.io/managed-by"), Some("storeops"));
        assert_eq!(get("storeops.dev/store-id"), Some("alpha_store"));
    }

    #[test]
    fn the_selector_is_a_stable_subset_of_the_labels() {
        let store = Store::test();
        let all = labels(&store);
        for (k, v) in selector_labels(&store) {
            assert_eq!(all.get(&k), Some(&v));
        }
        assert!(!selector_labels(&store).contains_key(STORE_ID_LABEL));
    }

    #[test]
    fn the_store_controls_its_objects_once_it_has_a_uid() {
        let meta = object_meta(&Store::test(), "x".into());
        let owner = &meta.owner_references.unwrap()[0];
        assert_eq!(owner.api_version, "storeops.dev/v1alpha1");
        assert_eq!(
            (owner.kind.as_str(), owner.name.as_str()),
            ("Store", "alpha")
        );
        assert_eq!(owner.controller, Some(true));
        assert_eq!(owner.block_owner_deletion, Some(true));
        let rendered = object_meta(&Store::test().without_uid(), "x".into());
        assert_eq!(rendered.owner_references, None);
    }
}
