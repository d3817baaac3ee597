//! Who a Store is: the names, labels and owner reference shared by every
//! object of a Store ([`Identity`]), from its metadata and store id alone.

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

/// Who a Store is and what its objects are called: read from its metadata
/// and `spec.storeId` alone, so the dereference step (before validation)
/// and the status use the same names as the build.
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace`.
    pub namespace: String,
    /// `spec.storeId`, else the name.
    pub store_id: String,
    /// `store-<name>`: the Deployment, Service, ServiceAccount, PDB,
    /// NetworkPolicy, ServiceMonitor and PrometheusRule, and so the scrape
    /// job of its series.
    pub object_name: String,
    /// `store-<name>-admin`: the admin-token Secret.
    pub admin_secret_name: String,
    /// `store-<name>-catalog`: the inline catalog's ConfigMap.
    pub catalog_config_map_name: String,
    /// `store-<name>-data`: the embedded database's PersistentVolumeClaim.
    pub data_claim_name: String,
    /// `store-<name>-dashboard`: the dashboard ConfigMap.
    pub dashboard_config_map_name: String,
    /// The Store as the controlling owner (deleting it deletes the object);
    /// `None` for a Store that was never stored (no uid), as in `render`.
    pub owner: Option<OwnerReference>,
}

impl Identity {
    /// The identity of a Store (empty strings where metadata is missing:
    /// the resolve step refuses such a Store before anything is built).
    pub fn of(store: &Store) -> Identity {
        let name = store.name_any();
        let object_name = store.object_name();
        Identity {
            namespace: store.namespace().unwrap_or_default(),
            store_id: store.store_id().to_string(),
            admin_secret_name: format!("{object_name}-admin"),
            catalog_config_map_name: format!("{object_name}-catalog"),
            data_claim_name: format!("{object_name}-data"),
            dashboard_config_map_name: format!("{object_name}-dashboard"),
            object_name,
            owner: store.controller_owner_ref(&()).map(|o| OwnerReference {
                block_owner_deletion: Some(true),
                ..o
            }),
            name,
        }
    }

    /// The labels that select the Store's pods (never change: a
    /// Deployment's selector is immutable).
    pub fn selector_labels(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            ("app.kubernetes.io/name".to_string(), APP_NAME.to_string()),
            ("app.kubernetes.io/instance".to_string(), self.name.clone()),
        ])
    }

    /// The labels of every object of the Store; the orphan sweep of the
    /// apply step lists objects by them.
    pub fn labels(&self) -> BTreeMap<String, String> {
        let mut labels = self.selector_labels();
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
            (STORE_ID_LABEL.to_string(), self.store_id.clone()),
        ]);
        labels
    }

    /// The label selector of the Store's pods.
    pub fn selector(&self) -> LabelSelector {
        LabelSelector {
            match_labels: Some(self.selector_labels()),
            ..LabelSelector::default()
        }
    }

    /// Metadata of an object of the Store: name, namespace, labels, owner.
    pub fn object_meta(&self, name: &str) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.to_string()),
            namespace: Some(self.namespace.clone()),
            labels: Some(self.labels()),
            owner_references: self.owner.clone().map(|o| vec![o]),
            ..ObjectMeta::default()
        }
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
        let labels = Identity::of(&Store::test().with_store_id("alpha_store")).labels();
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
        let id = Identity::of(&Store::test());
        let all = id.labels();
        for (k, v) in id.selector_labels() {
            assert_eq!(all.get(&k), Some(&v));
        }
        assert!(!id.selector_labels().contains_key(STORE_ID_LABEL));
    }

    #[test]
    fn objects_are_named_after_the_store() {
        let id = Identity::of(&Store::test());
        assert_eq!(
            [
                id.object_name.as_str(),
                &id.admin_secret_name,
                &id.catalog_config_map_name,
                &id.data_claim_name,
                &id.dashboard_config_map_name
            ],
            [
                "store-alpha",
                "store-alpha-admin",
                "store-alpha-catalog",
                "store-alpha-data",
                "store-alpha-dashboard"
            ]
        );
    }

    #[test]
    fn the_store_controls_its_objects_once_it_has_a_uid() {
        let meta = Identity::of(&Store::test()).object_meta("x");
        let owner = &meta.owner_references.unwrap()[0];
        assert_eq!(owner.api_version, "storeops.dev/v1alpha1");
        assert_eq!(
            (owner.kind.as_str(), owner.name.as_str()),
            ("Store", "alpha")
        );
        assert_eq!(owner.controller, Some(true));
        assert_eq!(owner.block_owner_deletion, Some(true));
        let rendered = Identity::of(&Store::test().without_uid()).object_meta("x");
        assert_eq!(rendered.owner_references, None);
    }
}
