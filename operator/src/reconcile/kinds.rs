//! Every kind of object the operator makes for a Store, and how each one is
//! treated, in one table: the apply step, the orphan sweep and the watches
//! are derived from it, and each [`Object`](super::build::Object) variant
//! names its row (an exhaustive match: a new variant without a row does not
//! compile).
//!
//! The deliberate differences:
//! - the PersistentVolumeClaim is never swept: it holds the store's sales
//!   and goes only with the Store (its owner reference);
//! - the monitoring.coreos.com kinds are applied and swept only while their
//!   CRDs are served, and watched for drift apart (`crate::drift`), not by
//!   `Controller::owns`, whose trigger streams back off as one.

use kube::core::{ApiResource, GroupVersionKind};

/// How the operator treats one kind of object it makes.
#[derive(Debug, PartialEq, Eq)]
pub struct ManagedKind {
    /// API group, `""` for the core group.
    pub group: &'static str,
    /// API version, e.g. `v1`.
    pub version: &'static str,
    /// Kind, e.g. `Deployment`.
    pub kind: &'static str,
    /// Resource name in URLs and RBAC rules, e.g. `deployments`.
    pub plural: &'static str,
    /// Deleted when the spec no longer wants it.
    pub swept: bool,
    /// Served only where the monitoring.coreos.com CRDs are installed.
    pub needs_monitoring_crds: bool,
}

impl ManagedKind {
    /// What the dynamic `Api` constructors take.
    pub fn api_resource(&self) -> ApiResource {
        ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk(self.group, self.version, self.kind),
            self.plural,
        )
    }

    /// Watched by the Store controller (`Controller::owns`): every kind that
    /// is always served.
    pub fn owned_by_controller(&self) -> bool {
        !self.needs_monitoring_crds
    }
}

const fn core(kind: &'static str, plural: &'static str, swept: bool) -> ManagedKind {
    ManagedKind {
        group: "",
        version: "v1",
        kind,
        plural,
        swept,
        needs_monitoring_crds: false,
    }
}

const fn monitoring(kind: &'static str, plural: &'static str) -> ManagedKind {
    ManagedKind {
        group: "monitoring.coreos.com",
        version: "v1",
        kind,
        plural,
        swept: true,
        needs_monitoring_crds: true,
    }
}

/// Identity of the pods.
pub const SERVICE_ACCOUNT: ManagedKind = core("ServiceAccount", "serviceaccounts", true);
/// The admin token.
pub const SECRET: ManagedKind = core("Secret", "secrets", true);
/// The inline catalog and the dashboards.
pub const CONFIG_MAP: ManagedKind = core("ConfigMap", "configmaps", true);
/// The embedded database's volume: never swept.
pub const PERSISTENT_VOLUME_CLAIM: ManagedKind =
    core("PersistentVolumeClaim", "persistentvolumeclaims", false);
/// The store's address.
pub const SERVICE: ManagedKind = core("Service", "services", true);
/// The pods.
pub const DEPLOYMENT: ManagedKind = ManagedKind {
    group: "apps",
    version: "v1",
    kind: "Deployment",
    plural: "deployments",
    swept: true,
    needs_monitoring_crds: false,
};
/// The replicated store's disruption budget.
pub const POD_DISRUPTION_BUDGET: ManagedKind = ManagedKind {
    group: "policy",
    version: "v1",
    kind: "PodDisruptionBudget",
    plural: "poddisruptionbudgets",
    swept: true,
    needs_monitoring_crds: false,
};
/// Who may reach the pods.
pub const NETWORK_POLICY: ManagedKind = ManagedKind {
    group: "networking.k8s.io",
    version: "v1",
    kind: "NetworkPolicy",
    plural: "networkpolicies",
    swept: true,
    needs_monitoring_crds: false,
};
/// How Prometheus scrapes the store.
pub const SERVICE_MONITOR: ManagedKind = monitoring("ServiceMonitor", "servicemonitors");
/// The store's recording rules and alerts.
pub const PROMETHEUS_RULE: ManagedKind = monitoring("PrometheusRule", "prometheusrules");

/// Every managed kind.
pub const ALL: [&ManagedKind; 10] = [
    &SERVICE_ACCOUNT,
    &SECRET,
    &CONFIG_MAP,
    &PERSISTENT_VOLUME_CLAIM,
    &DEPLOYMENT,
    &SERVICE,
    &POD_DISRUPTION_BUDGET,
    &NETWORK_POLICY,
    &SERVICE_MONITOR,
    &PROMETHEUS_RULE,
];

/// The kinds the orphan sweep lists; the monitoring ones only when their
/// CRDs are served (`monitoring`).
pub fn swept(monitoring: bool) -> impl Iterator<Item = &'static ManagedKind> {
    ALL.into_iter()
        .filter(move |k| k.swept && (monitoring || !k.needs_monitoring_crds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_volume_is_kept_and_only_monitoring_kinds_wait_for_their_crds() {
        let kept: Vec<_> = ALL.iter().filter(|k| !k.swept).map(|k| k.kind).collect();
        assert_eq!(kept, ["PersistentVolumeClaim"]);
        let without: Vec<_> = swept(false).map(|k| k.kind).collect();
        assert!(!without.contains(&"ServiceMonitor") && without.contains(&"Deployment"));
        assert_eq!(swept(true).count(), 9);
        let apart: Vec<_> = ALL
            .iter()
            .filter(|k| !k.owned_by_controller())
            .map(|k| k.kind)
            .collect();
        assert_eq!(apart, ["ServiceMonitor", "PrometheusRule"]);
    }

    #[test]
    fn the_resource_names_are_the_api_servers() {
        let resource = NETWORK_POLICY.api_resource();
        assert_eq!(resource.api_version, "networking.k8s.io/v1");
        assert_eq!(resource.plural, "networkpolicies");
        assert_eq!(SERVICE.api_resource().api_version, "v1");
    }
}
