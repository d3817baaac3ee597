//! The ServiceAccount of the store's pods: an identity without API access.

use k8s_openapi::api::core::v1::ServiceAccount;

use super::meta;
use crate::api::Store;

/// A ServiceAccount whose token is never mounted.
pub fn service_account(store: &Store) -> ServiceAccount {
    ServiceAccount {
        metadata: meta::object_meta(store, meta::object_name(store)),
        automount_service_account_token: Some(false),
        ..ServiceAccount::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_not_mounted() {
        let sa = service_account(&Store::test());
        assert_eq!(sa.metadata.name.as_deref(), Some("store-alpha"));
        assert_eq!(sa.automount_service_account_token, Some(false));
    }
}
