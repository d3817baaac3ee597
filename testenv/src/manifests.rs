//! Applying YAML manifests (several documents, any kind) by server-side
//! apply, like `kubectl apply --server-side -f`.

use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::core::GroupVersionKind;
use kube::discovery::{self, Scope};
use kube::{Client, ResourceExt};
use serde::Deserialize;

use crate::Error;

/// Parses every non-empty YAML document of `text` into objects.
pub fn parse(text: &str) -> Result<Vec<DynamicObject>, Error> {
    let mut objects = Vec::new();
    for (i, doc) in serde_yaml_ng::Deserializer::from_str(text).enumerate() {
        let value = serde_json::Value::deserialize(doc).map_err(|e| Error::Manifest {
            what: format!("document {}", i + 1),
            reason: e.to_string(),
        })?;
        if value.is_null() {
            continue;
        }
        let object: DynamicObject = serde_json::from_value(value).map_err(|e| Error::Manifest {
            what: format!("document {}", i + 1),
            reason: e.to_string(),
        })?;
        objects.push(object);
    }
    Ok(objects)
}

/// Server-side applies every document of `text` with `field_manager`;
/// namespaced objects without a namespace go to `default`.
pub async fn apply(
    client: &Client,
    text: &str,
    field_manager: &str,
) -> Result<Vec<DynamicObject>, Error> {
    let mut applied = Vec::new();
    for object in parse(text)? {
        applied.push(apply_object(client, &object, field_manager).await?);
    }
    Ok(applied)
}

/// The API of an object's kind, found by discovery.
pub async fn api_for(client: &Client, object: &DynamicObject) -> Result<Api<DynamicObject>, Error> {
    let types = object.types.as_ref().ok_or_else(|| Error::Manifest {
        what: object.name_any(),
        reason: "no apiVersion/kind".into(),
    })?;
    let gvk = GroupVersionKind::try_from(types).map_err(|e| Error::Manifest {
        what: object.name_any(),
        reason: e.to_string(),
    })?;
    let (resource, caps) = discovery::pinned_kind(client, &gvk)
        .await
        .map_err(|e| Error::kube(format!("discovering {}", types.kind), e))?;
    Ok(match caps.scope {
        Scope::Cluster => Api::all_with(client.clone(), &resource),
        Scope::Namespaced => Api::namespaced_with(
            client.clone(),
            object.namespace().as_deref().unwrap_or("default"),
            &resource,
        ),
    })
}

async fn apply_object(
    client: &Client,
    object: &DynamicObject,
    field_manager: &str,
) -> Result<DynamicObject, Error> {
    let api = api_for(client, object).await?;
    let what = format!(
        "applying {} {}",
        object
            .types
            .as_ref()
            .map(|t| t.kind.as_str())
            .unwrap_or("?"),
        object.name_any()
    );
    api.patch(
        &object.name_any(),
        &PatchParams::apply(field_manager).force(),
        &Patch::Apply(object),
    )
    .await
    .map_err(|e| Error::kube(what, e))
}
