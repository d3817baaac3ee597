//! The catalog ConfigMap of an inline catalog, and the catalog hash that rolls
//! the pods when the catalog changes.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;
use sha2::{Digest, Sha256};

use super::{Dereferenced, Error};
pub use crate::reconcile::resolve::INLINE_CATALOG_KEY;
use crate::reconcile::resolve::ResolvedStore;

/// The ConfigMap of an inline catalog: the products as a JSON list, the
/// format the store-service's `CATALOG_FILE` reads.
pub fn catalog(store: &ResolvedStore) -> Result<Option<ConfigMap>, Error> {
    let Some((catalog, products)) = store
        .catalog
        .as_ref()
        .and_then(|c| Some((c, c.inline.as_ref()?)))
    else {
        return Ok(None);
    };
    let json =
        serde_json::to_string_pretty(products).map_err(|source| Error::SerializeCatalog {
            store: store.id.name.clone(),
            source,
        })?;
    Ok(Some(ConfigMap {
        metadata: store.id.object_meta(&catalog.config_map),
        data: Some(BTreeMap::from([(catalog.key.clone(), json)])),
        ..ConfigMap::default()
    }))
}

/// A short digest of the catalog the pods will read: the inline ConfigMap,
/// else the referenced content found by dereference, else the reference
/// itself (`render` without a cluster). Empty without a catalog.
pub fn catalog_hash(
    store: &ResolvedStore,
    inline: Option<&ConfigMap>,
    found: &Dereferenced,
) -> String {
    let content = match (inline, &found.catalog, &store.catalog) {
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
    use crate::api::Store;

    #[test]
    fn an_inline_catalog_becomes_a_json_list_the_store_service_reads() {
        let cm = catalog(&Store::test().with_inline_catalog().resolved())
            .unwrap()
            .unwrap();
        assert_eq!(cm.metadata.name.as_deref(), Some("store-alpha-catalog"));
        let json = &cm.data.unwrap()[INLINE_CATALOG_KEY];
        let products: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(products, testenv::fixtures::products());
    }

    #[test]
    fn a_referenced_or_missing_catalog_makes_no_config_map() {
        assert_eq!(catalog(&Store::test().resolved()).unwrap(), None);
        assert_eq!(
            catalog(&Store::test().with_catalog_ref().resolved()).unwrap(),
            None
        );
    }

    #[test]
    fn the_hash_follows_the_catalog_content() {
        let hash = |store: &Store, found: &Dereferenced| {
            let store = store.resolved();
            catalog_hash(&store, catalog(&store).unwrap().as_ref(), found)
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
