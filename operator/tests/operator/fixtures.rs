//! What several modules test: the Store `alpha` (store id `alpha_store`, in
//! `shop`) and every dashboard the operator makes for it and the fleet.

use operator::api::Store;
use operator::config::OperatorConfig;
use operator::monitoring::dashboards::{self, Dashboard};
use operator::reconcile::resolve::{ResolvedStore, resolve};

/// The Store the rules and dashboards are built for.
pub fn store() -> Store {
    serde_yaml_ng::from_str(
        "apiVersion: storeops.dev/v1alpha1\nkind: Store\nmetadata: {name: alpha, namespace: shop}\n\
         spec: {storeId: alpha_store, displayName: Alpha}\n",
    )
    .unwrap()
}

/// A Store resolved as the reconcile resolves it (default operator
/// configuration); panics on a Store admission would refuse.
pub fn resolved(store: &Store) -> ResolvedStore {
    resolve(store, &OperatorConfig::default()).unwrap_or_else(|e| panic!("{e}"))
}

/// The Store's dashboard, then the fleet's.
pub fn all_dashboards() -> Vec<Dashboard> {
    let mut all = vec![operator::reconcile::build::dashboard::store_dashboard(
        &resolved(&store()),
    )];
    all.extend(dashboards::fleet());
    all
}
