//! The PodDisruptionBudget of a replicated store.

use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::reconcile::resolve::ResolvedStore;

/// At most one pod down at a time during drains; `None` with one replica,
/// where a budget would only block node drains.
pub fn disruption_budget(store: &ResolvedStore) -> Option<PodDisruptionBudget> {
    store.disruption_budget.then(|| PodDisruptionBudget {
        metadata: store.id.object_meta(&store.id.object_name),
        spec: Some(PodDisruptionBudgetSpec {
            max_unavailable: Some(IntOrString::Int(1)),
            selector: Some(store.id.selector()),
            ..PodDisruptionBudgetSpec::default()
        }),
        status: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Store;

    #[test]
    fn only_a_replicated_store_gets_a_budget() {
        assert_eq!(disruption_budget(&Store::test().resolved()), None);
        let store = Store::test().with_replicas(3).with_postgres().resolved();
        let pdb = disruption_budget(&store).unwrap();
        let spec = pdb.spec.unwrap();
        assert_eq!(spec.max_unavailable, Some(IntOrString::Int(1)));
        assert_eq!(spec.selector, Some(store.id.selector()));
    }
}
