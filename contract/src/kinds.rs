//! Every kind of object the operator makes for a Store, and how each one is
//! treated, in one table. The operator's apply step, orphan sweep and
//! watches are derived from it (`operator::reconcile::kinds`), the chart's
//! RBAC is checked against it, and the tests list a Store's children from it,
//! so a kind added here is applied, swept, watched, granted and checked
//! everywhere at once.
//!
//! The deliberate differences:
//! - the PersistentVolumeClaim is never swept: it holds the store's sales
//!   and goes only with the Store (its owner reference);
//! - the monitoring.coreos.com kinds are applied and swept only while their
//!   CRDs are served, and watched for drift apart (`operator::drift`), not by
//!   `Controller::owns`, whose trigger streams back off as one.

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
    /// Watched by the Store controller (`Controller::owns`): every kind that
    /// is always served.
    pub fn owned_by_controller(&self) -> bool {
        !self.needs_monitoring_crds
    }

    /// `apiVersion` of its objects: `v1`, `apps/v1`, ...
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

const fn kind(
    group: &'static str,
    kind: &'static str,
    plural: &'static str,
    swept: bool,
) -> ManagedKind {
    ManagedKind {
        group,
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
pub const SERVICE_ACCOUNT: ManagedKind = kind("", "ServiceAccount", "serviceaccounts", true);
/// The admin token.
pub const SECRET: ManagedKind = kind("", "Secret", "secrets", true);
/// The inline catalog and the dashboards.
pub const CONFIG_MAP: ManagedKind = kind("", "ConfigMap", "configmaps", true);
/// The embedded database's volume: never swept.
pub const PERSISTENT_VOLUME_CLAIM: ManagedKind =
    kind("", "PersistentVolumeClaim", "persistentvolumeclaims", false);
/// The pods.
pub const DEPLOYMENT: ManagedKind = kind("apps", "Deployment", "deployments", true);
/// The store's address.
pub const SERVICE: ManagedKind = kind("", "Service", "services", true);
/// The replicated store's disruption budget.
pub const POD_DISRUPTION_BUDGET: ManagedKind = kind(
    "policy",
    "PodDisruptionBudget",
    "poddisruptionbudgets",
    true,
);
/// Who may reach the pods.
pub const NETWORK_POLICY: ManagedKind = kind(
    "networking.k8s.io",
    "NetworkPolicy",
    "networkpolicies",
    true,
);
/// How Prometheus scrapes the store.
pub const SERVICE_MONITOR: ManagedKind = monitoring("ServiceMonitor", "servicemonitors");
/// A Store's own rules, as earlier versions applied them (its objectives
/// as recording rules): never built now, swept where found. A Store's
/// objectives are series of the operator's `/metrics`, read by the
/// fleet's PrometheusRule, which the operator applies apart.
pub const PROMETHEUS_RULE: ManagedKind = monitoring("PrometheusRule", "prometheusrules");

/// Every managed kind, in the order a Store's objects are applied (but the
/// dashboards' ConfigMap, applied last: `operator::reconcile::build`).
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

/// Where a kind stands in [`ALL`]; `None` for a row not in it.
pub fn position(kind: &ManagedKind) -> Option<usize> {
    ALL.iter().position(|k| *k == kind)
}

/// The kinds sorted into [`ALL`]'s order, repeats kept side by side: what a
/// test compares when which kinds (and how many of each) a Store gets is the
/// point, not the order the build emits them in.
pub fn in_table_order(
    kinds: impl IntoIterator<Item = &'static ManagedKind>,
) -> Vec<&'static ManagedKind> {
    let mut kinds: Vec<_> = kinds.into_iter().collect();
    kinds.sort_by_key(|k| position(k));
    kinds
}

/// The row of a kind named in an object (`kind` and `apiVersion`, as in its
/// JSON); `None` for a kind the operator does not make.
pub fn of(api_version: &str, kind: &str) -> Option<&'static ManagedKind> {
    ALL.into_iter()
        .find(|k| k.kind == kind && k.api_version() == api_version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_volume_is_kept_and_only_monitoring_kinds_wait_for_their_crds() {
        let kept: Vec<_> = ALL.iter().filter(|k| !k.swept).collect();
        assert_eq!(kept, [&&PERSISTENT_VOLUME_CLAIM]);
        assert!(!swept(false).any(|k| k.needs_monitoring_crds));
        assert_eq!(swept(true).count(), ALL.len() - 1);
        let apart: Vec<_> = ALL.iter().filter(|k| !k.owned_by_controller()).collect();
        assert_eq!(apart, [&&SERVICE_MONITOR, &&PROMETHEUS_RULE]);
    }

    #[test]
    fn objects_find_their_row_by_api_version_and_kind() {
        assert_eq!(DEPLOYMENT.api_version(), "apps/v1");
        assert_eq!(SECRET.api_version(), "v1");
        assert_eq!(of("apps/v1", "Deployment"), Some(&DEPLOYMENT));
        assert_eq!(of("v1", "Deployment"), None);
        for k in ALL {
            assert_eq!(of(&k.api_version(), k.kind), Some(k));
        }
    }

    #[test]
    fn kinds_sort_into_the_tables_order_with_repeats_together() {
        assert_eq!(position(&SERVICE_ACCOUNT), Some(0));
        assert_eq!(
            in_table_order([&PROMETHEUS_RULE, &CONFIG_MAP, &SECRET, &CONFIG_MAP]),
            [&SECRET, &CONFIG_MAP, &CONFIG_MAP, &PROMETHEUS_RULE]
        );
    }
}
