//! The admin-token Secret: generated once, then kept.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;

use crate::reconcile::resolve::ResolvedStore;

/// Key of the token in the Secret, and its file name in the pod.
pub const TOKEN_KEY: &str = "token";

/// The admin Secret holding `existing` (read back from the cluster by the
/// dereference step), or a new random token when there is none yet.
pub fn admin_secret(store: &ResolvedStore, existing: Option<&str>) -> Secret {
    let token = existing.map_or_else(new_token, str::to_string);
    Secret {
        metadata: store.id.object_meta(&store.id.admin_secret_name),
        type_: Some("Opaque".into()),
        data: Some(BTreeMap::from([(
            TOKEN_KEY.to_string(),
            ByteString(token.into_bytes()),
        )])),
        ..Secret::default()
    }
}

/// 256 random bits as 64 hex digits.
fn new_token() -> String {
    format!(
        "{:032x}{:032x}",
        rand::random::<u128>(),
        rand::random::<u128>()
    )
}

/// The token held by an admin Secret, if it has a usable one.
pub fn token_of(secret: &Secret) -> Option<String> {
    let bytes = &secret.data.as_ref()?.get(TOKEN_KEY)?.0;
    let token = String::from_utf8(bytes.clone()).ok()?;
    (token.len() >= 16).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Store;

    #[test]
    fn a_new_store_gets_a_random_token_of_256_bits() {
        let a = token_of(&admin_secret(&Store::test().resolved(), None)).unwrap();
        let b = token_of(&admin_secret(&Store::test().resolved(), None)).unwrap();
        assert_eq!(a.len(), 64);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[test]
    fn an_existing_token_is_kept() {
        let secret = admin_secret(&Store::test().resolved(), Some("kept-token-0123456789"));
        assert_eq!(secret.metadata.name.as_deref(), Some("store-alpha-admin"));
        assert_eq!(token_of(&secret).as_deref(), Some("kept-token-0123456789"));
    }
}
