//! The apply step: server-side apply every desired object with one field
//! manager, then delete the Store's objects that were not applied (orphans of
//! an older spec: alerts turned off, replicas back to one, ...), of the kinds
//! [`kinds::swept`] lists.
//!
//! An object whose live state already holds every field the operator sets,
//! and that was last applied from the same desired object, is not applied
//! again: a converged Store costs reads, never writes, so a restarted operator
//! (or a periodic resync) changes nothing. The second test matters when the
//! spec drops a field (a label, a limit): the live object still "holds" the
//! smaller desired one, but only an apply removes the dropped field.

use std::collections::BTreeSet;

use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams};
use kube::core::{ApiResource, GroupVersionKind};
use kube::{Client, ResourceExt};

use super::Error;
use super::build::{Desired, Object};
use super::kinds::{self, ManagedKind};

/// What the apply step did.
#[derive(Debug, Default)]
pub struct Applied {
    /// Every applied object as the API server returned it.
    pub objects: Vec<DynamicObject>,
    /// `Kind/name` of the objects that were written (the others already held
    /// their desired state).
    pub changed: Vec<String>,
}

impl Applied {
    /// The applied object of a kind, as returned (with its status).
    pub fn get(&self, kind: &ManagedKind) -> Option<&DynamicObject> {
        self.objects.iter().find(|o| {
            o.types
                .as_ref()
                .is_some_and(|t| kinds::of(&t.api_version, &t.kind) == Some(kind))
        })
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
        let mut dynamic: DynamicObject = serde_json::to_value(object)
            .and_then(serde_json::from_value)
            .map_err(|e| fail(kube::Error::SerdeError(e)))?;
        let digest = digest_of(&dynamic);
        dynamic
            .metadata
            .annotations
            .get_or_insert_default()
            .insert(APPLIED_DIGEST.to_string(), digest.clone());
        let resource = api_resource(&dynamic).ok_or(Error::NoType {
            kind: object.kind(),
        })?;
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), namespace, &resource);
        if let Some(live) = api.get_opt(&object.name()).await.map_err(fail)? {
            let (want, have) = (serde_json::to_value(&dynamic), serde_json::to_value(&live));
            if let (Ok(want), Ok(have)) = (want, have)
                && live.annotations().get(APPLIED_DIGEST) == Some(&digest)
                && holds(&have, &want)
            {
                applied.objects.push(live);
                continue;
            }
        }
        let result = api
            .patch(&object.name(), &params, &Patch::Apply(&dynamic))
            .await
            .map_err(fail)?;
        applied
            .changed
            .push(format!("{}/{}", object.kind(), object.name()));
        applied.objects.push(result);
    }
    Ok(applied)
}

/// Annotation holding the digest of the desired object last applied.
pub const APPLIED_DIGEST: &str = "storeops.dev/applied-digest";

/// A stable digest of an object's JSON (the first 8 bytes of its SHA-256,
/// 16 hex digits): the same desired object gives the same digest in every
/// process and release.
pub fn digest_of(object: &DynamicObject) -> String {
    use sha2::{Digest, Sha256};
    let bytes = serde_json::to_vec(object).unwrap_or_default();
    Sha256::digest(&bytes)[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether `live` already holds every field of `desired` with the same value.
/// Fields the API server adds (defaults, status, uid, ...) are ignored; lists
/// must match element by element, as server-side apply would make them.
pub fn holds(live: &serde_json::Value, desired: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (live, desired) {
        (Value::Object(live), Value::Object(desired)) => desired.iter().all(|(k, want)| {
            live.get(k).map_or_else(
                || is_empty(want),
                |have| {
                    holds(have, want)
                        || (QUANTITY_LISTS.contains(&k.as_str()) && same_quantities(have, want))
                },
            )
        }),
        (Value::Array(live), Value::Array(desired)) => {
            live.len() == desired.len() && live.iter().zip(desired).all(|(h, w)| holds(h, w))
        }
        (Value::Number(live), Value::Number(desired)) => live.as_f64() == desired.as_f64(),
        (live, desired) => live == desired,
    }
}

/// Maps of quantities, which the API server stores in canonical form
/// (`0.5` comes back as `500m`).
const QUANTITY_LISTS: &[&str] = &["requests", "limits", "capacity"];

fn same_quantities(live: &serde_json::Value, desired: &serde_json::Value) -> bool {
    use crate::api::resources::quantity_value;
    let (Some(live), Some(desired)) = (live.as_object(), desired.as_object()) else {
        return false;
    };
    desired.iter().all(|(k, want)| {
        let value = |v: Option<&serde_json::Value>| {
            v.and_then(|v| match v {
                serde_json::Value::String(s) => quantity_value(s),
                other => other.as_f64(),
            })
        };
        value(Some(want)).is_some() && value(Some(want)) == value(live.get(k))
    })
}

/// Values the API server drops rather than stores (Go's `omitempty`: empty
/// collections, false, 0, "").
fn is_empty(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::Null => true,
        serde_json::Value::Bool(b) => !b,
        serde_json::Value::Number(n) => n.as_f64() == Some(0.0),
        serde_json::Value::String(s) => s.is_empty(),
        serde_json::Value::Object(o) => o.is_empty(),
        serde_json::Value::Array(a) => a.is_empty(),
    }
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
    for managed in kinds::swept(monitoring) {
        let kind = managed.kind;
        let api: Api<DynamicObject> =
            Api::namespaced_with(client.clone(), namespace, &kinds::api_resource(managed));
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

#[cfg(test)]
mod tests {
    use super::holds;
    use serde_json::json;

    #[test]
    fn a_live_object_with_server_defaults_holds_the_desired_one() {
        let desired = json!({"metadata": {"name": "s", "labels": {"a": "1"}},
            "spec": {"ports": [{"name": "http", "port": 80}], "selector": {}, "readOnly": false}});
        let live = json!({"metadata": {"name": "s", "uid": "u", "labels": {"a": "1", "b": "2"}},
            "spec": {"ports": [{"name": "http", "port": 80, "protocol": "TCP"}], "clusterIP": "10.0.0.1"},
            "status": {}});
        assert!(holds(&live, &desired));
    }

    #[test]
    fn a_changed_value_a_missing_field_or_another_list_length_is_drift() {
        let desired = json!({"spec": {"replicas": 1, "ports": [{"port": 80}]}});
        assert!(!holds(
            &json!({"spec": {"replicas": 3, "ports": [{"port": 80}]}}),
            &desired
        ));
        assert!(!holds(
            &json!({"spec": {"ports": [{"port": 80}]}}),
            &desired
        ));
        assert!(!holds(
            &json!({"spec": {"replicas": 1, "ports": [{"port": 80}, {"port": 81}]}}),
            &desired
        ));
        assert!(!holds(
            &json!({"spec": {"replicas": 1, "ports": []}}),
            &desired
        ));
        assert!(holds(
            &json!({"spec": {"replicas": 1.0, "ports": [{"port": 80}]}}),
            &desired
        ));
    }

    #[test]
    fn quantities_in_canonical_form_hold_their_spelling_in_the_spec() {
        let desired = json!({"resources": {"limits": {"cpu": "0.5", "memory": "1Gi"}}});
        let live = json!({"resources": {"limits": {"cpu": "500m", "memory": "1Gi"}}});
        assert!(holds(&live, &desired));
        let other = json!({"resources": {"limits": {"cpu": "600m", "memory": "1Gi"}}});
        assert!(!holds(&other, &desired));
        // Only in quantity maps: a label "1k" is not "1000".
        assert!(!holds(
            &json!({"labels": {"a": "1000"}}),
            &json!({"labels": {"a": "1k"}})
        ));
    }

    #[test]
    fn the_digest_is_stable_and_changes_with_the_object() {
        use super::digest_of;
        use kube::api::DynamicObject;
        let object = |labels: serde_json::Value| -> DynamicObject {
            serde_json::from_value(json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "c", "labels": labels}}))
            .unwrap()
        };
        let a = object(json!({"a": "1", "b": "2"}));
        assert_eq!(digest_of(&a), digest_of(&a.clone()));
        assert_eq!(digest_of(&a).len(), 16);
        // A dropped label changes the digest, so the apply that removes it is sent.
        assert_ne!(digest_of(&a), digest_of(&object(json!({"a": "1"}))));
    }
}
