//! The apply step: server-side apply every desired object with one field
//! manager, then delete the Store's objects that were not applied (orphans of
//! an older spec: alerts turned off, replicas back to one, ...).

use std::collections::BTreeSet;

use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams};
use kube::core::{ApiResource, GroupVersionKind};
use kube::{Client, ResourceExt};

use super::Error;
use super::build::{Desired, Object};

/// Kinds the operator may leave behind when the spec changes. The PVC is not
/// among them: a volume holds the store's sales and goes only with the Store.
pub const SWEPT_KINDS: &[(&str, &str, &str)] = &[
    ("", "v1", "ConfigMap"),
    ("", "v1", "Service"),
    ("", "v1", "ServiceAccount"),
    ("", "v1", "Secret"),
    ("apps", "v1", "Deployment"),
    ("policy", "v1", "PodDisruptionBudget"),
    ("monitoring.coreos.com", "v1", "ServiceMonitor"),
    ("monitoring.coreos.com", "v1", "PrometheusRule"),
];

/// What the apply step did.
#[derive(Debug, Default)]
pub struct Applied {
    /// Every applied object as the API server returned it.
    pub objects: Vec<DynamicObject>,
    /// `Kind/name` of deleted orphans.
    pub deleted: Vec<String>,
}

impl Applied {
    /// The applied object of a kind, as returned (with its status).
    pub fn get(&self, kind: &str) -> Option<&DynamicObject> {
        self.objects
            .iter()
            .find(|o| o.types.as_ref().is_some_and(|t| t.kind == kind))
    }
}

fn api_resource(object: &DynamicObject) -> Option<ApiResource> {
    let types = object.types.as_ref()?;
    let (group, version) = types
        .api_version
        .split_once('/')
        .unwrap_or(("", &types.api_version));
    Some(ApiResource::from_gvk(&GroupVersionKind::gvk(
        group,
        version,
        &types.kind,
    )))
}

/// Applies every object in `namespace`.
pub async fn apply(
    client: &Client,
    namespace: &str,
    desired: &Desired,
    field_manager: &str,
) -> Result<Applied, Error> {
    let params = PatchParams::apply(field_manager).force();
    let mut applied = Applied::default();
    for object in &desired.objects {
        let fail = |source| Error::Apply {
            kind: object.kind(),
            name: object.name(),
            source,
        };
        let dynamic: DynamicObject = serde_json::to_value(object)
            .and_then(serde_json::from_value)
            .map_err(|e| fail(kube::Error::SerdeError(e)))?;
        let resource = api_resource(&dynamic).ok_or(Error::NoType {
            kind: object.kind(),
        })?;
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), namespace, &resource);
        let result = api
            .patch(&object.name(), &params, &Patch::Apply(&dynamic))
            .await
            .map_err(fail)?;
        applied.objects.push(result);
    }
    Ok(applied)
}

/// Deletes objects carrying the Store's labels that `desired` does not hold.
/// `monitoring` says whether the monitoring.coreos.com kinds exist to list.
pub async fn delete_orphans(
    client: &Client,
    namespace: &str,
    selector: &str,
    desired: &Desired,
    monitoring: bool,
) -> Result<Vec<String>, Error> {
    let wanted: BTreeSet<(String, String)> = desired
        .objects
        .iter()
        .map(|o: &Object| (o.kind().to_string(), o.name()))
        .collect();
    let mut deleted = Vec::new();
    for (group, version, kind) in SWEPT_KINDS {
        if *group == "monitoring.coreos.com" && !monitoring {
            continue;
        }
        let resource = ApiResource::from_gvk(&GroupVersionKind::gvk(group, version, kind));
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), namespace, &resource);
        let fail = |name: String, source| Error::DeleteOrphan { kind, name, source };
        let existing = api
            .list_metadata(&ListParams::default().labels(selector))
            .await
            .map_err(|e| fail(String::new(), e))?;
        for item in existing.items {
            let name = item.name_any();
            if !wanted.contains(&(kind.to_string(), name.clone())) {
                api.delete(&name, &DeleteParams::background())
                    .await
                    .map_err(|e| fail(name.clone(), e))?;
                deleted.push(format!("{kind}/{name}"));
            }
        }
    }
    Ok(deleted)
}
