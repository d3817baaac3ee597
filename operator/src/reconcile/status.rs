//! The status step's logic, pure: what was observed in, the Store's status out.
//! Conditions follow the Kubernetes conventions: `True` is the named state,
//! `lastTransitionTime` moves only when the status flips, every condition
//! carries the generation it describes.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};

use crate::api::{StoreStatus, condition_types as types};

/// Something the Store needs that is missing or failing; it degrades the Store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// CamelCase reason, e.g. `CatalogConfigMapMissing`.
    pub reason: &'static str,
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

/// The next status: conditions recomputed, transition times kept where the
/// condition did not flip.
///
/// A pod that cannot start ([`Observed::pods`]) makes Ready=False and
/// Degraded=True with reason `PodNotStarting`: it needs someone to act (an
/// image to fix, a crash to read, room on the nodes), as the other problems
/// do. A rollout that is merely under way (pods being created or not ready
/// yet) is Ready=False `ReplicasNotReady` and Progressing=True, not Degraded.
/// Progressing does not change with the pods: the rollout is still not done.
pub fn next_status(previous: Option<&StoreStatus>, observed: &Observed, now: &Time) -> StoreStatus {
    let old = previous
        .map(|s| s.conditions.as_slice())
        .unwrap_or_default();
    let make = |type_: &str, status: bool, reason: &str, message: String| {
        condition(
            old,
            type_,
            status,
            reason,
            message,
            observed.generation,
            now,
        )
    };
    let rollout = observed.rollout.unwrap_or_default();
    let problems = observed.degrading();
    let conditions = vec![
        match (&problems[..], observed.rollout) {
            ([], Some(r)) if r.complete() && r.ready > 0 => {
                make(types::READY, true, "StoreReady", format!("{} of {} replicas ready", r.ready, r.desired))
            }
            ([first, ..], _) => make(types::READY, false, first.reason, first.message.clone()),
            (_, _) => make(
                types::READY,
                false,
                "ReplicasNotReady",
                format!("{} of {} replicas ready", rollout.ready, rollout.desired),
            ),
        },
        if observed.rollout.is_some_and(|r| !r.complete()) {
            make(
                types::PROGRESSING,
                true,
                "RollingOut",
                format!("{} of {} replicas updated, {} ready", rollout.updated, rollout.desired, rollout.ready),
            )
        } else {
            make(types::PROGRESSING, false, "RolloutComplete", "the store-service runs the current spec".into())
        },
        if let [first, ..] = &problems[..] {
            let messages: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
            make(types::DEGRADED, true, first.reason, messages.join("; "))
        } else {
            make(types::DEGRADED, false, "AsExpected", "everything the Store needs is in place".into())
        },
        match observed.monitoring {
            Monitoring::Applied => make(
                types::MONITORING_READY,
                true,
                "Applied",
                "the ServiceMonitor and PrometheusRule the spec asks for are applied".into(),
            ),
            Monitoring::Disabled => {
                make(types::MONITORING_READY, true, "Disabled", "monitoring is turned off in spec.monitoring".into())
            }
            Monitoring::NotApplied => make(
                types::MONITORING_READY,
                false,
                "NotApplied",
                "this generation's ServiceMonitor and PrometheusRule are not applied; the Degraded condition says why".into(),
            ),
            Monitoring::CrdsMissing => make(
                types::MONITORING_READY,
                false,
                "MonitoringCRDsMissing",
                "the monitoring.coreos.com/v1 CRDs ServiceMonitor and PrometheusRule are not both installed; \
                 the store runs unmonitored until they are (install kube-prometheus-stack)"
                    .into(),
            ),
        },
    ];
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
    status: bool,
    reason: &str,
    message: String,
    generation: Option<i64>,
    now: &Time,
) -> Condition {
    let status = if status { "True" } else { "False" }.to_string();
    let last_transition_time = old
        .iter()
        .find(|c| c.type_ == type_ && c.status == status)
        .map_or_else(|| now.clone(), |c| c.last_transition_time.clone());
    Condition {
        type_: type_.to_string(),
        status,
        reason: reason.to_string(),
        message: super::limits::fit(&message, super::limits::CONDITION_MESSAGE_MAX_BYTES)
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
        false,
        "Paused",
        "spec.paused is true: the operator changes nothing until it is false".into(),
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
            reason: "DatabaseSecretMissing",
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
            reason: "PodNotStarting",
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
            reason: "DatabaseSecretMissing",
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
            reason: "ApplyFailed",
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
