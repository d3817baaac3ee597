//! The PodDisruptionBudget of a replicated store.

use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::meta;
use crate::api::Store;

/// At most one pod down at a time during drains; `None` with one replica,
/// where a budget would only block node drains.
pub fn disruption_budget(store: &Store) -> Option<PodDisruptionBudget> {
    (store.spec.replicas > 1).then(|| PodDisruptionBudget {
        metadata: meta::object_meta(store, meta::object_name(store)),
        spec: Some(PodDisruptionBudgetSpec {
            max_unavailable: Some(IntOrString::Int(1)),
            selector: Some(meta::selector(store)),
            ..PodDisruptionBudgetSpec::default()
        }),
        status: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_replicated_store_gets_a_budget() {
        assert_eq!(disruption_budget(&Store::test()), None);
        let pdb = disruption_budget(&Store::test().with_replicas(3).with_postgres()).unwrap();
        let spec = pdb.spec.unwrap();
        assert_eq!(spec.max_unavailable, Some(IntOrString::Int(1)));
        assert_eq!(spec.selector, Some(meta::selector(&Store::test())));
    }
}
