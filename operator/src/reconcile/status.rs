//! The status step's logic, pure: what was observed in, the Store's status out.
//! Conditions follow the Kubernetes conventions: `True` is the named state,
//! `lastTransitionTime` moves only when the status flips, every condition
//! carries the generation it describes.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};

use crate::api::{StoreStatus, condition_types as types};

/// Every reason a Store's conditions give, each with its CamelCase text
/// ([`Reason::as_str`]). docs/troubleshooting.md lists each one (a test
/// keeps the two lists equal).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// Ready: every replica is ready and the spec applied.
    StoreReady,
    /// Ready=False: the rollout is under way or pods are not ready.
    ReplicasNotReady,
    /// Progressing: a rollout is under way.
    RollingOut,
    /// Progressing=False: the pods run the current spec.
    RolloutComplete,
    /// Progressing=False: `spec.paused` is true.
    Paused,
    /// Degraded=False: nothing is missing or failing.
    AsExpected,
    /// MonitoringReady: the monitoring objects are applied.
    Applied,
    /// MonitoringReady: the Store turned monitoring off.
    Disabled,
    /// MonitoringReady=False: this generation's monitoring objects are not applied.
    NotApplied,
    /// MonitoringReady=False: the monitoring.coreos.com CRDs are missing.
    MonitoringCrdsMissing,
    /// A problem: the catalog ConfigMap is missing.
    CatalogConfigMapMissing,
    /// A problem: the catalog ConfigMap lacks its key.
    CatalogKeyMissing,
    /// A problem: the referenced catalog would be refused by the store-service.
    CatalogInvalid,
    /// A problem: the database Secret is missing.
    DatabaseSecretMissing,
    /// A problem: the database Secret lacks its key.
    DatabaseSecretKeyMissing,
    /// A problem: the API server refused an apply.
    ApplyFailed,
    /// A problem: the API server refused a delete of an orphan.
    DeleteFailed,
    /// A problem: a pod of the Store cannot start.
    PodNotStarting,
    /// A problem: the Store breaks an admission rule (it skipped admission).
    InvalidSpec,
}

impl Reason {
    /// Every reason.
    pub const ALL: [Reason; 19] = [
        Reason::StoreReady,
        Reason::ReplicasNotReady,
        Reason::RollingOut,
        Reason::RolloutComplete,
        Reason::Paused,
        Reason::AsExpected,
        Reason::Applied,
        Reason::Disabled,
        Reason::NotApplied,
        Reason::MonitoringCrdsMissing,
        Reason::CatalogConfigMapMissing,
        Reason::CatalogKeyMissing,
        Reason::CatalogInvalid,
        Reason::DatabaseSecretMissing,
        Reason::DatabaseSecretKeyMissing,
        Reason::ApplyFailed,
        Reason::DeleteFailed,
        Reason::PodNotStarting,
        Reason::InvalidSpec,
    ];

    /// The reason as the condition (and the Warning event) carries it.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::StoreReady => "StoreReady",
            Reason::ReplicasNotReady => "ReplicasNotReady",
            Reason::RollingOut => "RollingOut",
            Reason::RolloutComplete => "RolloutComplete",
            Reason::Paused => "Paused",
            Reason::AsExpected => "AsExpected",
            Reason::Applied => "Applied",
            Reason::Disabled => "Disabled",
            Reason::NotApplied => "NotApplied",
            Reason::MonitoringCrdsMissing => "MonitoringCRDsMissing",
            Reason::CatalogConfigMapMissing => "CatalogConfigMapMissing",
            Reason::CatalogKeyMissing => "CatalogKeyMissing",
            Reason::CatalogInvalid => "CatalogInvalid",
            Reason::DatabaseSecretMissing => "DatabaseSecretMissing",
            Reason::DatabaseSecretKeyMissing => "DatabaseSecretKeyMissing",
            Reason::ApplyFailed => "ApplyFailed",
            Reason::DeleteFailed => "DeleteFailed",
            Reason::PodNotStarting => "PodNotStarting",
            Reason::InvalidSpec => "InvalidSpec",
        }
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something the Store needs that is missing or failing; it degrades the Store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Why, e.g. [`Reason::CatalogConfigMapMissing`].
    pub reason: Reason,
    /// A sentence naming the object and what to do.
    pub message: String,
}

/// The Deployment's rollout, as its status reports it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rollout {
    /// Replicas the Deployment asks for.
    pub desired: i32,
    /// Pods that exist, of any template.
    pub replicas: i32,
    /// Pods running the latest template.
    pub updated: i32,
    /// Pods that are ready.
    pub ready: i32,
    /// The Deployment controller has seen the latest template.
    pub observed: bool,
}

impl Rollout {
    /// Every replica runs the latest template and is ready, and no old one is left.
    pub fn complete(&self) -> bool {
        self.observed
            && self.updated >= self.desired
            && self.ready >= self.desired
            && self.replicas <= self.desired
    }
}

/// Whether Prometheus can be told to watch the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Monitoring {
    /// The ServiceMonitor (and what else monitoring asks for) is applied.
    Applied,
    /// The Store turned monitoring off.
    Disabled,
    /// monitoring.coreos.com is not installed in the cluster.
    CrdsMissing,
    /// The reconcile stopped before this generation's monitoring objects
    /// were applied (an invalid spec, a refused write): not known to be in
    /// place, whatever an earlier generation left.
    NotApplied,
}

impl Monitoring {
    /// What is known after a failed apply: objects that were to be applied
    /// are not known to be; a state that applies nothing stays as it is.
    pub fn after_failed_apply(self) -> Monitoring {
        match self {
            Monitoring::Applied => Monitoring::NotApplied,
            other => other,
        }
    }
}

/// Everything the status step needs to know.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    /// The store id in effect.
    pub store_id: String,
    /// The Store's metadata.generation that was reconciled.
    pub generation: Option<i64>,
    /// What is missing or failing; empty when all is in place.
    pub problems: Vec<Problem>,
    /// The Deployment's rollout; `None` when it was not applied.
    pub rollout: Option<Rollout>,
    /// Why the Store's pods do not start ([`super::pods::not_starting`],
    /// reason `PodNotStarting`); `None` when they start or were not looked at
    /// (they are listed only while the rollout is incomplete).
    pub pods: Option<Problem>,
    /// Whether monitoring is applied, off or impossible.
    pub monitoring: Monitoring,
    /// In-cluster URL of the store's API.
    pub service_url: Option<String>,
    /// Uids of the store's Grafana dashboards.
    pub dashboard_uids: Vec<String>,
}

impl Observed {
    /// What degrades the Store, first what the operator found missing or
    /// failing, then why the pods do not start (often a consequence: a
    /// missing Secret also fails the container's configuration).
    pub fn degrading(&self) -> Vec<&Problem> {
        self.problems.iter().chain(self.pods.as_ref()).collect()
    }
}

/// One condition's value: its status, reason and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    /// `True` (the named state holds) or `False`.
    pub status: bool,
    /// Why.
    pub reason: Reason,
    /// A sentence for people.
    pub message: String,
}

fn state(status: bool, reason: Reason, message: impl Into<String>) -> State {
    State {
        status,
        reason,
        message: message.into(),
    }
}

/// Ready: the rollout complete with a ready replica and nothing degrading;
/// else the first problem, else `ReplicasNotReady`.
pub fn ready(observed: &Observed) -> State {
    let rollout = observed.rollout.unwrap_or_default();
    match (&observed.degrading()[..], observed.rollout) {
        ([], Some(r)) if r.complete() && r.ready > 0 => state(
            true,
            Reason::StoreReady,
            format!("{} of {} replicas ready", r.ready, r.desired),
        ),
        ([first, ..], _) => state(false, first.reason, first.message.clone()),
        (_, _) => state(
            false,
            Reason::ReplicasNotReady,
            format!("{} of {} replicas ready", rollout.ready, rollout.desired),
        ),
    }
}

/// Progressing: while the Deployment's rollout is incomplete. It does not
/// change with the pods: a rollout stuck on a pod is still not done.
pub fn progressing(observed: &Observed) -> State {
    match observed.rollout {
        Some(r) if !r.complete() => state(
            true,
            Reason::RollingOut,
            format!(
                "{} of {} replicas updated, {} ready",
                r.updated, r.desired, r.ready
            ),
        ),
        _ => state(
            false,
            Reason::RolloutComplete,
            "the store-service runs the current spec",
        ),
    }
}

/// Degraded: the first problem's reason, every problem's message.
pub fn degraded(observed: &Observed) -> State {
    let problems = observed.degrading();
    match problems.first() {
        Some(first) => {
            let messages: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
            state(true, first.reason, messages.join("; "))
        }
        None => state(
            false,
            Reason::AsExpected,
            "everything the Store needs is in place",
        ),
    }
}

/// MonitoringReady: applied, off, not applied, or impossible.
pub fn monitoring_ready(observed: &Observed) -> State {
    match observed.monitoring {
        Monitoring::Applied => state(
            true,
            Reason::Applied,
            "the ServiceMonitor the spec asks for is applied (the objectives are served by the operator)",
        ),
        Monitoring::Disabled => state(
            true,
            Reason::Disabled,
            "monitoring is turned off in spec.monitoring",
        ),
        Monitoring::NotApplied => state(
            false,
            Reason::NotApplied,
            "this generation's ServiceMonitor is not applied; \
             the Degraded condition says why",
        ),
        Monitoring::CrdsMissing => state(
            false,
            Reason::MonitoringCrdsMissing,
            "the monitoring.coreos.com/v1 CRDs ServiceMonitor and PrometheusRule are not both \
             installed; the store runs unmonitored until they are (install kube-prometheus-stack)",
        ),
    }
}

/// Decides one condition from what was observed.
pub type Decide = fn(&Observed) -> State;

/// Each condition type with the function that decides it, in the order the
/// status lists them.
pub const CONDITIONS: [(&str, Decide); 4] = [
    (types::READY, ready),
    (types::PROGRESSING, progressing),
    (types::DEGRADED, degraded),
    (types::MONITORING_READY, monitoring_ready),
];

/// The next status: conditions recomputed ([`CONDITIONS`]), transition
/// times kept where the condition did not flip.
///
/// A pod that cannot start ([`Observed::pods`]) makes Ready=False and
/// Degraded=True with reason `PodNotStarting`: it needs someone to act (an
/// image to fix, a crash to read, room on the nodes), as the other problems
/// do. A rollout that is merely under way (pods being created or not ready
/// yet) is Ready=False `ReplicasNotReady` and Progressing=True, not Degraded.
pub fn next_status(previous: Option<&StoreStatus>, observed: &Observed, now: &Time) -> StoreStatus {
    let old = previous
        .map(|s| s.conditions.as_slice())
        .unwrap_or_default();
    let conditions = CONDITIONS
        .iter()
        .map(|(type_, decide)| condition(old, type_, decide(observed), observed.generation, now))
        .collect();
    StoreStatus {
        store_id: Some(observed.store_id.clone()),
        observed_generation: observed.generation,
        conditions,
        replicas: observed.rollout.map(|r| r.replicas),
        ready_replicas: observed.rollout.map(|r| r.ready),
        service_url: observed.service_url.clone(),
        dashboard_uids: observed.dashboard_uids.clone(),
    }
}

fn condition(
    old: &[Condition],
    type_: &str,
    state: State,
    generation: Option<i64>,
    now: &Time,
) -> Condition {
    let status = if state.status { "True" } else { "False" }.to_string();
    let last_transition_time = old
        .iter()
        .find(|c| c.type_ == type_ && c.status == status)
        .map_or_else(|| now.clone(), |c| c.last_transition_time.clone());
    Condition {
        type_: type_.to_string(),
        status,
        reason: state.reason.as_str().to_string(),
        message: super::limits::fit(&state.message, super::limits::CONDITION_MESSAGE_MAX_BYTES)
            .into_owned(),
        observed_generation: generation,
        last_transition_time,
    }
}

/// The status of a paused Store: what it was, with Progressing saying why
/// nothing moves.
pub fn paused_status(
    previous: Option<&StoreStatus>,
    generation: Option<i64>,
    now: &Time,
) -> StoreStatus {
    let mut status = previous.cloned().unwrap_or_default();
    let paused = condition(
        &status.conditions,
        types::PROGRESSING,
        state(
            false,
            Reason::Paused,
            "spec.paused is true: the operator changes nothing until it is false",
        ),
        generation,
        now,
    );
    status.conditions.retain(|c| c.type_ != types::PROGRESSING);
    status.conditions.push(paused);
    status.observed_generation = generation;
    status
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/troubleshooting.md's condition and reason tables name exactly
    /// the condition types and reasons the code gives.
    #[test]
    fn the_troubleshooting_tables_list_every_condition_and_reason() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/troubleshooting.md");
        let doc = std::fs::read_to_string(path).unwrap();
        let rows: Vec<&str> = doc.lines().filter(|l| l.starts_with("| `")).collect();
        // Backticked CamelCase words of the tables' rows.
        let named: std::collections::BTreeSet<&str> = rows
            .iter()
            .flat_map(|row| row.split('`').skip(1).step_by(2))
            .filter(|w| w.chars().next().is_some_and(|c| c.is_ascii_uppercase()))
            .filter(|w| w.chars().all(|c| c.is_ascii_alphanumeric()))
            .collect();
        for reason in Reason::ALL {
            assert!(named.contains(reason.as_str()), "{reason} is not in {path}");
        }
        for (type_, _) in CONDITIONS {
            assert!(named.contains(type_), "condition {type_} is not in {path}");
        }
        // The reason column of the problems table holds reasons only.
        for row in rows.iter().filter(|r| {
            !CONDITIONS
                .iter()
                .any(|(t, _)| r.starts_with(&format!("| `{t}`")))
        }) {
            let first = row.split('|').nth(1).unwrap_or_default();
            for word in first.split('`').skip(1).step_by(2) {
                assert!(
                    Reason::ALL.iter().any(|r| r.as_str() == word),
                    "{path} lists {word}, which no condition gives"
                );
            }
        }
    }
    use k8s_openapi::jiff::Timestamp;

    fn at(seconds: i64) -> Time {
        Time(Timestamp::from_second(seconds).unwrap())
    }

    fn healthy() -> Observed {
        Observed {
            store_id: "alpha".into(),
            generation: Some(3),
            problems: vec![],
            rollout: Some(Rollout {
                desired: 2,
                replicas: 2,
                updated: 2,
                ready: 2,
                observed: true,
            }),
            pods: None,
            monitoring: Monitoring::Applied,
            service_url: Some("http://store-alpha.shop.svc:80".into()),
            dashboard_uids: vec![],
        }
    }

    fn get<'a>(s: &'a StoreStatus, type_: &str) -> &'a Condition {
        s.conditions.iter().find(|c| c.type_ == type_).unwrap()
    }

    #[test]
    fn a_rolled_out_store_is_ready_and_nothing_else() {
        let s = next_status(None, &healthy(), &at(100));
        let flags: Vec<(&str, &str)> = s
            .conditions
            .iter()
            .map(|c| (c.type_.as_str(), c.status.as_str()))
            .collect();
        assert_eq!(
            flags,
            [
                ("Ready", "True"),
                ("Progressing", "False"),
                ("Degraded", "False"),
                ("MonitoringReady", "True")
            ]
        );
        assert!(
            s.conditions
                .iter()
                .all(|c| c.observed_generation == Some(3))
        );
        assert_eq!(
            (s.replicas, s.ready_replicas, s.observed_generation),
            (Some(2), Some(2), Some(3))
        );
    }

    #[test]
    fn a_missing_reference_degrades_and_unreadies_with_its_reason() {
        let mut o = healthy();
        o.problems.push(Problem {
            reason: Reason::DatabaseSecretMissing,
            message: "Secret shop/pg not found".into(),
        });
        let s = next_status(None, &o, &at(100));
        assert_eq!(get(&s, "Degraded").status, "True");
        assert_eq!(get(&s, "Degraded").reason, "DatabaseSecretMissing");
        assert_eq!(get(&s, "Ready").reason, "DatabaseSecretMissing");
        assert!(get(&s, "Ready").message.contains("shop/pg"));
    }

    #[test]
    fn a_rollout_in_flight_is_progressing_not_ready() {
        let mut o = healthy();
        o.rollout = Some(Rollout {
            desired: 2,
            replicas: 3,
            updated: 1,
            ready: 2,
            observed: true,
        });
        let s = next_status(None, &o, &at(100));
        assert_eq!(
            (
                get(&s, "Progressing").status.as_str(),
                get(&s, "Ready").status.as_str()
            ),
            ("True", "False")
        );
    }

    #[test]
    fn a_pod_that_cannot_start_unreadies_and_degrades_while_progressing() {
        let mut o = healthy();
        o.rollout = Some(Rollout {
            desired: 1,
            replicas: 1,
            updated: 1,
            ready: 0,
            observed: true,
        });
        let waiting = next_status(None, &o, &at(100));
        assert_eq!(get(&waiting, "Ready").reason, "ReplicasNotReady");
        assert_eq!(
            get(&waiting, "Degraded").status,
            "False",
            "starting is not failing"
        );
        o.pods = Some(Problem {
            reason: Reason::PodNotStarting,
            message: "pod store-alpha-1: container store-service: ImagePullBackOff: no".into(),
        });
        let s = next_status(Some(&waiting), &o, &at(200));
        let ready = get(&s, "Ready");
        assert_eq!(
            (ready.status.as_str(), ready.reason.as_str()),
            ("False", "PodNotStarting")
        );
        assert!(
            ready.message.contains("ImagePullBackOff"),
            "{}",
            ready.message
        );
        assert_eq!(
            ready.last_transition_time,
            at(100),
            "Ready was False already"
        );
        let degraded = get(&s, "Degraded");
        assert_eq!(
            (degraded.status.as_str(), degraded.reason.as_str()),
            ("True", "PodNotStarting")
        );
        assert_eq!(degraded.last_transition_time, at(200));
        assert_eq!(get(&s, "Progressing"), get(&waiting, "Progressing"));
        // A missing reference comes first: the pods fail because of it.
        o.problems.push(Problem {
            reason: Reason::DatabaseSecretMissing,
            message: "Secret shop/pg not found".into(),
        });
        let s = next_status(Some(&s), &o, &at(300));
        assert_eq!(get(&s, "Ready").reason, "DatabaseSecretMissing");
        assert_eq!(get(&s, "Degraded").reason, "DatabaseSecretMissing");
        assert!(get(&s, "Degraded").message.contains("ImagePullBackOff"));
    }

    #[test]
    fn monitoring_not_applied_is_not_ready() {
        let mut o = healthy();
        o.problems = vec![Problem {
            reason: Reason::ApplyFailed,
            message: "admission webhook denied the request".into(),
        }];
        o.monitoring = Monitoring::Applied.after_failed_apply();
        let s = next_status(None, &o, &at(100));
        assert_eq!(get(&s, "MonitoringReady").status, "False");
        assert_eq!(get(&s, "MonitoringReady").reason, "NotApplied");
        assert_eq!(get(&s, "Degraded").reason, "ApplyFailed");
        assert_eq!(
            Monitoring::Disabled.after_failed_apply(),
            Monitoring::Disabled
        );
        assert_eq!(
            Monitoring::CrdsMissing.after_failed_apply(),
            Monitoring::CrdsMissing
        );
    }

    #[test]
    fn missing_monitoring_crds_are_a_state_not_a_failure() {
        let mut o = healthy();
        o.monitoring = Monitoring::CrdsMissing;
        let s = next_status(None, &o, &at(100));
        assert_eq!(get(&s, "MonitoringReady").reason, "MonitoringCRDsMissing");
        assert_eq!(get(&s, "Ready").status, "True", "the store still runs");
        assert_eq!(get(&s, "Degraded").status, "False");
    }

    #[test]
    fn transition_times_move_only_when_a_condition_flips() {
        let first = next_status(None, &healthy(), &at(100));
        let same = next_status(Some(&first), &healthy(), &at(200));
        assert_eq!(first, same, "nothing changed, so nothing to write");
        let mut o = healthy();
        o.rollout = Some(Rollout {
            desired: 2,
            replicas: 2,
            updated: 2,
            ready: 1,
            observed: true,
        });
        let flipped = next_status(Some(&same), &o, &at(300));
        assert_eq!(get(&flipped, "Ready").last_transition_time, at(300));
        assert_eq!(get(&flipped, "Degraded").last_transition_time, at(100));
    }

    #[test]
    fn pausing_keeps_the_status_and_says_so() {
        let before = next_status(None, &healthy(), &at(100));
        let paused = paused_status(Some(&before), Some(4), &at(200));
        assert_eq!(get(&paused, "Progressing").reason, "Paused");
        assert_eq!(get(&paused, "Ready"), get(&before, "Ready"));
        assert_eq!(paused.observed_generation, Some(4));
    }
}
