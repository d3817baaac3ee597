//! The PersistentVolumeClaim of the embedded SQLite database.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    PersistentVolumeClaim, PersistentVolumeClaimSpec, VolumeResourceRequirements,
};

use crate::reconcile::resolve::{Database, ResolvedStore};

/// One ReadWriteOnce volume of `spec.database.embedded.size`; `None` with
/// PostgreSQL.
pub fn data_volume(store: &ResolvedStore) -> Option<PersistentVolumeClaim> {
    let Database::Embedded {
        size,
        storage_class_name,
    } = &store.database
    else {
        return None;
    };
    Some(PersistentVolumeClaim {
        metadata: store.id.object_meta(&store.id.data_claim_name),
        spec: Some(PersistentVolumeClaimSpec {
            access_modes: Some(vec!["ReadWriteOnce".into()]),
            storage_class_name: storage_class_name.clone(),
            resources: Some(VolumeResourceRequirements {
                requests: Some(BTreeMap::from([("storage".into(), size.clone())])),
                ..VolumeResourceRequirements::default()
            }),
            ..PersistentVolumeClaimSpec::default()
        }),
        status: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Store;
    use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

    #[test]
    fn the_embedded_database_gets_a_volume_of_its_size() {
        let mut store = Store::test();
        store
            .spec
            .database
            .embedded
            .as_mut()
            .unwrap()
            .storage_class_name = Some("fast".into());
        let pvc = data_volume(&store.resolved()).unwrap();
        assert_eq!(pvc.metadata.name.as_deref(), Some("store-alpha-data"));
        let spec = pvc.spec.unwrap();
        assert_eq!(spec.access_modes, Some(vec!["ReadWriteOnce".into()]));
        assert_eq!(spec.storage_class_name.as_deref(), Some("fast"));
        let requests = spec.resources.unwrap().requests.unwrap();
        assert_eq!(requests["storage"], Quantity("1Gi".into()));
    }

    #[test]
    fn postgres_needs_no_volume() {
        assert_eq!(data_volume(&Store::test().with_postgres().resolved()), None);
    }
}
