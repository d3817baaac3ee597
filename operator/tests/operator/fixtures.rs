//! What several modules test: the Store `alpha` (store id `alpha_store`, in
//! `shop`) and every dashboard the operator makes for it and the fleet.

use operator::api::Store;
use operator::monitoring::dashboards::{self, Dashboard};
use operator::monitoring::rules::Target;

/// The Store the rules and dashboards are built for.
pub fn store() -> Store {
    serde_yaml_ng::from_str(
        "apiVersion: storeops.dev/v1alpha1\nkind: Store\nmetadata: {name: alpha, namespace: shop}\n\
         spec: {storeId: alpha_store, displayName: Alpha}\n",
    )
    .unwrap()
}

/// The Store's dashboard, then the fleet's.
pub fn all_dashboards() -> Vec<Dashboard> {
    let store = store();
    let mut all = vec![operator::reconcile::build::dashboard::store_dashboard(
        &store,
        &Target::of(&store),
    )];
    all.extend(dashboards::fleet());
    all
}
