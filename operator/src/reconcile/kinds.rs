//! The managed-kinds table (`storeops_contract::kinds`, shared with the
//! tests and the chart's checks), and what the operator adds to it: the
//! dynamic API resource of each kind. Each [`Object`](super::build::Object)
//! variant names its row (an exhaustive match: a new variant without a row
//! does not compile).

use kube::core::{ApiResource, GroupVersionKind};
pub use storeops_contract::kinds::*;

/// What the dynamic `Api` constructors take for a kind of the table.
pub fn api_resource(kind: &ManagedKind) -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk(kind.group, kind.version, kind.kind),
        kind.plural,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_resource_names_are_the_api_servers() {
        let resource = api_resource(&NETWORK_POLICY);
        assert_eq!(resource.api_version, "networking.k8s.io/v1");
        assert_eq!(resource.plural, "networkpolicies");
        assert_eq!(api_resource(&SERVICE).api_version, "v1");
    }
}
