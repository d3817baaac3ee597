//! The validate step: a Store, as read from the API server or a file, checked
//! once before anything is built from it. Admission enforces the same rules
//! (the CRD's schema and CEL); `operator render` and a Store that skipped
//! admission meet them here. What passes is a [`ValidatedStore`]: the only
//! input the build step takes, with the monitored view its rules and
//! dashboards read.

use kube::ResourceExt;

use super::build::error::Error;
use crate::api::{Store, validation};
use crate::monitoring::rules::Target;

/// A Store that has a name and a namespace and passes every admission rule.
#[derive(Debug, Clone)]
pub struct ValidatedStore<'a> {
    /// The Store itself (its name and namespace are known to be set).
    pub store: &'a Store,
    /// What its PrometheusRule and dashboard are about (namespace, store id,
    /// objectives, thresholds), made once here.
    pub monitored: Target,
}

/// Checks the Store. Errors: [`Error::MissingMetadata`] without a name or
/// namespace, [`Error::InvalidStore`] naming every broken admission rule.
pub fn validate(store: &Store) -> Result<ValidatedStore<'_>, Error> {
    let missing = |field| Error::MissingMetadata {
        name: store.metadata.name.clone().unwrap_or_default(),
        field,
    };
    store
        .metadata
        .name
        .as_ref()
        .ok_or_else(|| missing("name"))?;
    store.namespace().ok_or_else(|| missing("namespace"))?;
    validation::validate(store)?;
    Ok(ValidatedStore {
        store,
        monitored: Target::of(store),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_valid_store_carries_its_monitored_view() {
        let store = Store::test();
        let valid = validate(&store).unwrap();
        assert_eq!(valid.monitored.store_id, store.store_id());
        assert_eq!(valid.monitored.namespace, "shop");
        assert_eq!(valid.monitored.job, store.object_name());
    }
}
