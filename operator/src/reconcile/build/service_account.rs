//! The ServiceAccount of the store's pods: an identity without API access.

use k8s_openapi::api::core::v1::ServiceAccount;

use crate::reconcile::resolve::ResolvedStore;

/// A ServiceAccount whose token is never mounted.
pub fn service_account(store: &ResolvedStore) -> ServiceAccount {
    ServiceAccount {
        metadata: store.id.object_meta(&store.id.object_name),
        automount_service_account_token: Some(false),
        ..ServiceAccount::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Store;

    #[test]
    fn the_token_is_not_mounted() {
        let sa = service_account(&Store::test().resolved());
        assert_eq!(sa.metadata.name.as_deref(), Some("store-alpha"));
        assert_eq!(sa.automount_service_account_token, Some(false));
    }
}
