//! Dashboard ConfigMaps for the Grafana sidecar of kube-prometheus-stack:
//! labelled `grafana_dashboard: "1"`, folder in the `grafana_folder`
//! annotation (the sidecar's `folderAnnotation`). One per Store next to it;
//! the fleet's once in the operator's namespace.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::ObjectMeta;

use crate::monitoring::dashboards::{self, Dashboard, store::StoreView};
use crate::reconcile::identity::{PART_OF, add_labels};
use crate::reconcile::resolve::ResolvedStore;

/// The label the Grafana sidecar looks for.
pub const SIDECAR_LABEL: &str = "grafana_dashboard";
/// The annotation naming the Grafana folder.
pub const FOLDER_ANNOTATION: &str = "grafana_folder";

/// The Store's dashboard model, about its monitored view.
pub fn store_dashboard(store: &ResolvedStore) -> Dashboard {
    dashboards::store::dashboard(&StoreView {
        target: store.monitored.clone(),
        display_name: store.display_name.clone(),
        currency: store.currency.clone(),
        name: store.id.name.clone(),
    })
}

/// The Store's dashboard ConfigMap; `None` when dashboards are disabled.
pub fn store_config_map(store: &ResolvedStore) -> Option<ConfigMap> {
    let settings = store.dashboards.as_ref()?;
    let mut metadata = store.id.object_meta(&store.id.dashboard_config_map_name);
    sidecar_labels(&mut metadata, &settings.folder, &settings.labels);
    Some(config_map(metadata, &store_dashboard(store)))
}

/// The fleet dashboards' ConfigMaps in `namespace`.
pub fn fleet_config_maps(namespace: &str) -> Vec<ConfigMap> {
    dashboards::fleet()
        .iter()
        .map(|d| {
            let mut metadata = ObjectMeta {
                name: Some(d.uid.clone()),
                namespace: Some(namespace.to_string()),
                labels: Some(fleet_labels()),
                ..ObjectMeta::default()
            };
            sidecar_labels(&mut metadata, dashboards::FLEET_FOLDER, &BTreeMap::new());
            config_map(metadata, d)
        })
        .collect()
}

/// Labels of the fleet dashboards (selects them for the orphan sweep).
pub fn fleet_labels() -> BTreeMap<String, String> {
    BTreeMap::from([
        (
            "app.kubernetes.io/name".to_string(),
            "storeops-dashboards".to_string(),
        ),
        (
            "app.kubernetes.io/component".to_string(),
            "dashboards".to_string(),
        ),
        ("app.kubernetes.io/part-of".to_string(), PART_OF.to_string()),
        (
            "app.kubernetes.io/managed-by".to_string(),
            PART_OF.to_string(),
        ),
    ])
}

fn sidecar_labels(metadata: &mut ObjectMeta, folder: &str, extra: &BTreeMap<String, String>) {
    metadata
        .labels
        .get_or_insert_default()
        .insert(SIDECAR_LABEL.to_string(), "1".to_string());
    add_labels(metadata, extra);
    metadata
        .annotations
        .get_or_insert_default()
        .insert(FOLDER_ANNOTATION.to_string(), folder.to_string());
}

fn config_map(metadata: ObjectMeta, dashboard: &Dashboard) -> ConfigMap {
    let json = serde_json::to_string_pretty(&dashboard.json()).expect("JSON values serialize");
    ConfigMap {
        metadata,
        data: Some(BTreeMap::from([(format!("{}.json", dashboard.uid), json)])),
        ..ConfigMap::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Store;
    use kube::ResourceExt;

    #[test]
    fn the_store_dashboard_is_labelled_for_the_sidecar_in_its_folder() {
        let cm = store_config_map(&Store::test().resolved()).unwrap();
        assert_eq!(cm.metadata.name.as_deref(), Some("store-alpha-dashboard"));
        assert_eq!(cm.labels()[SIDECAR_LABEL], "1");
        assert_eq!(cm.annotations()[FOLDER_ANNOTATION], "Stores");
        let (key, json) = cm.data.unwrap().into_iter().next().unwrap();
        assert_eq!(key, "store-shop-alpha.json");
        let model: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(model["uid"], "store-shop-alpha");
    }

    #[test]
    fn disabled_dashboards_build_nothing() {
        let mut store = Store::test();
        store.spec.monitoring.dashboards.enabled = false;
        assert!(store_config_map(&store.resolved()).is_none());
    }

    #[test]
    fn the_fleet_has_four_dashboards_in_the_operator_namespace() {
        let maps = fleet_config_maps("storeops-system");
        let names: Vec<_> = maps.iter().map(|m| m.name_any()).collect();
        assert_eq!(
            names,
            [
                "storeops-overview",
                "storeops-apm",
                "storeops-business",
                "storeops-workbench"
            ]
        );
        assert!(
            maps.iter()
                .all(|m| m.namespace().as_deref() == Some("storeops-system"))
        );
    }
}
