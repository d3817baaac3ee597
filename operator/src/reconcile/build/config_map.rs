//! The catalog ConfigMap of an inline catalog, and the catalog hash that rolls
//! the pods when the catalog changes.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::ResourceExt;
use sha2::{Digest, Sha256};

use super::{Dereferenced, Error, meta};
use crate::api::Store;

/// Key of the inline catalog in its ConfigMap, and its file name in the pod.
pub const INLINE_CATALOG_KEY: &str = "catalog.json";

/// Where the pods read the catalog from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogSource {
    /// The ConfigMap.
    pub config_map: String,
    /// Its key, also the file name under the catalog mount.
    pub key: String,
}

/// The ConfigMap and key holding the Store's catalog: ours for an inline
/// catalog, the user's for `configMapRef`; `None` without a catalog.
pub fn catalog_source(store: &Store) -> Option<CatalogSource> {
    let catalog = store.spec.catalog.as_ref()?;
    Some(match &catalog.config_map_ref {
        Some(r) => CatalogSource {
            config_map: r.name.clone(),
            key: r.key.clone(),
        },
        None => CatalogSource {
            config_map: meta::catalog_config_map_name(store),
            key: INLINE_CATALOG_KEY.to_string(),
        },
    })
}

/// The ConfigMap of an inline catalog: the products as a JSON list, the
/// format the store-service's `CATALOG_FILE` reads.
pub fn catalog(store: &Store) -> Result<Option<ConfigMap>, Error> {
    let Some(products) = store
        .spec
        .catalog
        .as_ref()
        .and_then(|c| c.products.as_ref())
    else {
        return Ok(None);
    };
    let json =
        serde_json::to_string_pretty(products).map_err(|source| Error::SerializeCatalog {
            store: store.name_any(),
            source,
        })?;
    Ok(Some(ConfigMap {
        metadata: meta::object_meta(store, meta::catalog_config_map_name(store)),
        data: Some(BTreeMap::from([(INLINE_CATALOG_KEY.to_string(), json)])),
        ..ConfigMap::default()
    }))
}

/// A short digest of the catalog the pods will read: the inline ConfigMap,
/// else the referenced content found by dereference, else the reference
/// itself (`render` without a cluster). Empty without a catalog.
pub fn catalog_hash(store: &Store, inline: Option<&ConfigMap>, found: &Dereferenced) -> String {
    let content = match (inline, &found.catalog, catalog_source(store)) {
        (Some(cm), _, _) => cm
            .data
            .as_ref()
            .and_then(|d| d.get(INLINE_CATALOG_KEY))
            .cloned(),
        (None, Some(text), _) => Some(text.clone()),
        (None, None, Some(src)) => Some(format!("configMapRef:{}/{}", src.config_map, src.key)),
        (None, None, None) => None,
    };
    content.map_or_else(String::new, |c| {
        Sha256::digest(c.as_bytes())[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_inline_catalog_becomes_a_json_list_the_store_service_reads() {
        let cm = catalog(&Store::test().with_inline_catalog())
            .unwrap()
            .unwrap();
        assert_eq!(cm.metadata.name.as_deref(), Some("store-alpha-catalog"));
        let json = &cm.data.unwrap()[INLINE_CATALOG_KEY];
        let products: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(
            products[0],
            serde_json::json!({"name": "apple", "category": "fruit", "price": 0.5, "stock": 500})
        );
    }

    #[test]
    fn a_referenced_or_missing_catalog_makes_no_config_map() {
        assert_eq!(catalog(&Store::test()).unwrap(), None);
        assert_eq!(catalog(&Store::test().with_catalog_ref()).unwrap(), None);
        let src = catalog_source(&Store::test().with_catalog_ref()).unwrap();
        assert_eq!(
            (src.config_map.as_str(), src.key.as_str()),
            ("beta-products", "products.yaml")
        );
    }

    #[test]
    fn the_hash_follows_the_catalog_content() {
        let hash = |store: &Store, found: &Dereferenced| {
            catalog_hash(store, catalog(store).unwrap().as_ref(), found)
        };
        let none = Dereferenced::default();
        assert_eq!(hash(&Store::test(), &none), "");
        let inline = Store::test().with_inline_catalog();
        assert_eq!(hash(&inline, &none).len(), 16);
        let mut changed = inline.clone();
        changed
            .spec
            .catalog
            .as_mut()
            .unwrap()
            .products
            .as_mut()
            .unwrap()[0]
            .stock = 1;
        assert_ne!(hash(&inline, &none), hash(&changed, &none));

        let referenced = Store::test().with_catalog_ref();
        let v1 = Dereferenced {
            catalog: Some("- a".into()),
            ..none.clone()
        };
        let v2 = Dereferenced {
            catalog: Some("- b".into()),
            ..none.clone()
        };
        assert_ne!(hash(&referenced, &v1), hash(&referenced, &v2));
        assert_ne!(hash(&referenced, &none), "");
    }
}
