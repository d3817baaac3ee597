//! Why the Store's pods do not start, read from the pods themselves; pure.
//!
//! The Deployment's status only counts ready replicas: a pod that cannot pull
//! its image, crash-loops or fits on no node looks the same there as one that
//! is still starting. The kubelet and the scheduler say which it is, in the
//! pod's status; [`not_starting`] turns the first such answer into a
//! [`Problem`] for the Store's conditions.
//!
//! The reason is always [`REASON`] (`PodNotStarting`), never the kubelet's
//! own: the Store's reasons stay a small documented set (the Kubernetes
//! conventions make a condition's reasons its producer's API), and the
//! condition does not flip between `ErrImagePull` and `ImagePullBackOff` at
//! every pull retry. The kubelet's reason comes first in the message, after
//! the pod and container it concerns:
//!
//! ```text
//! pod store-alpha-5d9c7-x2x4k: container store-service: ImagePullBackOff: Back-off pulling image "store:nope"
//! pod store-alpha-5d9c7-x2x4k: Unschedulable: 0/3 nodes are available: 3 Insufficient memory.
//! pod store-alpha-5d9c7-x2x4k: container store-service: Error (exit code 2): ...
//! ```

use k8s_openapi::api::core::v1::{ContainerStatus, Pod};

use super::status::{Problem, Reason};

/// The reason of the Ready and Degraded conditions when a pod cannot start.
pub const REASON: Reason = Reason::PodNotStarting;

/// The kubelet's or scheduler's message is cut to this many characters (an
/// ellipsis marks the cut), so the condition stays readable.
pub const MAX_MESSAGE_CHARS: usize = 256;

/// Waiting reasons of the kubelet that are failures and not steps of a normal
/// start (`ContainerCreating`, `PodInitializing`): its failure reasons are
/// named `Err...`, `...Error` or `...BackOff` (`ErrImagePull`,
/// `ImagePullBackOff`, `CrashLoopBackOff`, `CreateContainerConfigError`,
/// `CreateContainerError`, `RunContainerError`, `ImageInspectError`,
/// `PreStartHookError`, ...), besides these.
const OTHER_FAILED_WAITING: [&str; 3] = [
    "InvalidImageName",
    "SignatureValidationFailed",
    "RegistryUnavailable",
];

/// Whether a container's waiting reason means it cannot start.
pub fn is_failure_waiting_reason(reason: &str) -> bool {
    reason.starts_with("Err")
        || reason.ends_with("Error")
        || reason.ends_with("BackOff")
        || OTHER_FAILED_WAITING.contains(&reason)
}

/// The first problem of the pods that keeps one from starting, or `None`.
///
/// Pods are taken by name, so the answer does not depend on the list's order;
/// within a pod: not schedulable (`PodScheduled=False`, reason
/// `Unschedulable`), then its init containers, then its containers, each
/// either waiting for a failure reason (see [`is_failure_waiting_reason`]) or,
/// not ready, terminated with a non-zero exit code now or before its last
/// restart. Pods being deleted and pods that finished are left out: the
/// Deployment replaces them. When more pods have a problem, the message
/// counts them.
pub fn not_starting(pods: &[Pod]) -> Option<Problem> {
    let mut pods: Vec<&Pod> = pods
        .iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .filter(|p| {
            let phase = p.status.as_ref().and_then(|s| s.phase.as_deref());
            !matches!(phase, Some("Succeeded" | "Failed"))
        })
        .collect();
    pods.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    let mut found = pods.into_iter().filter_map(pod_problem);
    let first = found.next()?;
    let more = found.count();
    let message = match more {
        0 => first,
        1 => format!("{first} (and 1 more pod not starting)"),
        n => format!("{first} (and {n} more pods not starting)"),
    };
    Some(Problem {
        reason: REASON,
        message,
    })
}

/// The first problem of one pod, as a message.
fn pod_problem(pod: &Pod) -> Option<String> {
    let name = pod.metadata.name.as_deref().unwrap_or("(unnamed)");
    let status = pod.status.as_ref()?;
    let unschedulable = status.conditions.iter().flatten().find(|c| {
        c.type_ == "PodScheduled"
            && c.status == "False"
            && c.reason.as_deref() == Some("Unschedulable")
    });
    if let Some(c) = unschedulable {
        return Some(format!(
            "pod {name}: Unschedulable{}",
            detail(c.message.as_deref())
        ));
    }
    let containers = status
        .init_container_statuses
        .iter()
        .flatten()
        .chain(status.container_statuses.iter().flatten());
    containers
        .filter_map(container_problem)
        .next()
        .map(|p| format!("pod {name}: {p}"))
}

/// Why a container does not start, as `container <name>: <Reason>: <message>`.
fn container_problem(c: &ContainerStatus) -> Option<String> {
    let state = c.state.as_ref();
    if let Some(waiting) = state.and_then(|s| s.waiting.as_ref())
        && let Some(reason) = waiting.reason.as_deref()
        && is_failure_waiting_reason(reason)
    {
        return Some(format!(
            "container {}: {reason}{}",
            c.name,
            detail(waiting.message.as_deref())
        ));
    }
    if c.ready {
        return None;
    }
    let terminated = state
        .and_then(|s| s.terminated.as_ref())
        .filter(|t| t.exit_code != 0)
        .or_else(|| {
            (c.restart_count > 0)
                .then(|| c.last_state.as_ref()?.terminated.as_ref())
                .flatten()
                .filter(|t| t.exit_code != 0)
        })?;
    Some(format!(
        "container {}: {} (exit code {}){}",
        c.name,
        terminated.reason.as_deref().unwrap_or("Terminated"),
        terminated.exit_code,
        detail(terminated.message.as_deref())
    ))
}

/// `": <message>"`, cut to [`MAX_MESSAGE_CHARS`]; empty without a message.
fn detail(message: Option<&str>) -> String {
    let message = message.map(str::trim).unwrap_or_default();
    if message.is_empty() {
        return String::new();
    }
    match message.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((cut, _)) => format!(": {}…", message[..cut].trim_end()),
        None => format!(": {message}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn pod(name: &str, status: Value) -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": name, "namespace": "shop"},
            "status": status,
        }))
        .unwrap()
    }

    fn waiting(name: &str, reason: &str, message: &str) -> Pod {
        pod(
            name,
            json!({"phase": "Pending", "containerStatuses": [{
                "name": "store-service", "image": "store:1", "imageID": "", "ready": false,
                "restartCount": 0,
                "state": {"waiting": {"reason": reason, "message": message}}
            }]}),
        )
    }

    fn running(name: &str) -> Pod {
        pod(
            name,
            json!({"phase": "Running",
                "conditions": [{"type": "PodScheduled", "status": "True"}, {"type": "Ready", "status": "True"}],
                "containerStatuses": [{
                "name": "store-service", "image": "store:1", "imageID": "", "ready": true,
                "restartCount": 0,
                "state": {"running": {"startedAt": "2026-01-01T00:00:00Z"}}
            }]}),
        )
    }

    #[test]
    fn healthy_pods_are_no_problem() {
        assert_eq!(not_starting(&[]), None);
        assert_eq!(not_starting(&[running("a"), running("b")]), None);
    }

    #[test]
    fn an_image_that_cannot_be_pulled_names_the_pod_the_container_and_the_kubelet() {
        let p = not_starting(&[
            running("store-alpha-1"),
            waiting(
                "store-alpha-2",
                "ImagePullBackOff",
                "Back-off pulling image \"store:nope\"",
            ),
        ])
        .unwrap();
        assert_eq!(p.reason.as_str(), "PodNotStarting");
        assert_eq!(
            p.message,
            "pod store-alpha-2: container store-service: ImagePullBackOff: Back-off pulling image \"store:nope\""
        );
        let pull = not_starting(&[waiting("a", "ErrImagePull", "not found")]).unwrap();
        assert_eq!(
            pull.reason, REASON,
            "the reason does not flip with each retry"
        );
        assert!(pull.message.contains("ErrImagePull: not found"));
    }

    #[test]
    fn a_crash_loop_is_a_problem() {
        let p = not_starting(&[pod(
            "store-alpha-1",
            json!({"phase": "Running", "containerStatuses": [{
                "name": "store-service", "image": "store:1", "imageID": "", "ready": false,
                "restartCount": 4,
                "state": {"waiting": {"reason": "CrashLoopBackOff",
                    "message": "back-off 1m20s restarting failed container=store-service"}},
                "lastState": {"terminated": {"exitCode": 2, "reason": "Error"}}
            }]}),
        )])
        .unwrap();
        assert_eq!(
            p.message,
            "pod store-alpha-1: container store-service: CrashLoopBackOff: back-off 1m20s restarting failed container=store-service"
        );
    }

    #[test]
    fn a_container_that_exited_with_an_error_between_restarts_is_a_problem() {
        let p = not_starting(&[pod(
            "store-alpha-1",
            json!({"phase": "Running", "containerStatuses": [{
                "name": "store-service", "image": "store:1", "imageID": "", "ready": false,
                "restartCount": 1,
                "state": {"running": {"startedAt": "2026-01-01T00:00:00Z"}},
                "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}
            }]}),
        )])
        .unwrap();
        assert_eq!(
            p.message,
            "pod store-alpha-1: container store-service: OOMKilled (exit code 137)"
        );
        // Ready again after the restart: not a problem any more.
        let recovered = pod(
            "store-alpha-1",
            json!({"phase": "Running", "containerStatuses": [{
                "name": "store-service", "image": "store:1", "imageID": "", "ready": true,
                "restartCount": 1,
                "state": {"running": {"startedAt": "2026-01-01T00:00:00Z"}},
                "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}
            }]}),
        );
        assert_eq!(not_starting(&[recovered]), None);
    }

    #[test]
    fn bad_container_configuration_is_a_problem() {
        let p = not_starting(&[waiting(
            "a",
            "CreateContainerConfigError",
            "secret \"pg\" not found",
        )])
        .unwrap();
        assert!(
            p.message
                .ends_with("CreateContainerConfigError: secret \"pg\" not found")
        );
    }

    #[test]
    fn an_unschedulable_pod_is_a_problem() {
        let p = not_starting(&[pod(
            "store-alpha-1",
            json!({"phase": "Pending", "conditions": [{
                "type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                "message": "0/3 nodes are available: 3 Insufficient memory."
            }]}),
        )])
        .unwrap();
        assert_eq!(
            p.message,
            "pod store-alpha-1: Unschedulable: 0/3 nodes are available: 3 Insufficient memory."
        );
    }

    #[test]
    fn a_pod_on_its_way_up_is_no_problem() {
        for reason in ["ContainerCreating", "PodInitializing"] {
            assert_eq!(not_starting(&[waiting("a", reason, "")]), None, "{reason}");
        }
        // Not scheduled yet, for no failure: no problem either.
        let pending = pod(
            "a",
            json!({"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False"}]}),
        );
        assert_eq!(not_starting(&[pending]), None);
        assert_eq!(not_starting(&[pod("a", json!({}))]), None);
    }

    #[test]
    fn the_first_pod_by_name_is_reported_and_the_others_counted() {
        let pods = [
            waiting("store-alpha-c", "ErrImagePull", "c"),
            running("store-alpha-a"),
            waiting("store-alpha-b", "CrashLoopBackOff", "b"),
            waiting("store-alpha-d", "ImagePullBackOff", "d"),
        ];
        let p = not_starting(&pods).unwrap();
        assert!(
            p.message
                .starts_with("pod store-alpha-b: container store-service: CrashLoopBackOff: b"),
            "{}",
            p.message
        );
        assert!(
            p.message.ends_with("(and 2 more pods not starting)"),
            "{}",
            p.message
        );
        let mut reversed = pods.clone();
        reversed.reverse();
        assert_eq!(not_starting(&reversed), Some(p));
    }

    #[test]
    fn init_containers_come_before_the_containers() {
        let p = not_starting(&[pod(
            "a",
            json!({"phase": "Pending",
            "initContainerStatuses": [{
                "name": "migrate", "image": "store:1", "imageID": "", "ready": false,
                "restartCount": 0,
                "state": {"waiting": {"reason": "CrashLoopBackOff"}}
            }],
            "containerStatuses": [{
                "name": "store-service", "image": "store:1", "imageID": "", "ready": false,
                "restartCount": 0,
                "state": {"waiting": {"reason": "PodInitializing"}}
            }]}),
        )])
        .unwrap();
        assert_eq!(p.message, "pod a: container migrate: CrashLoopBackOff");
    }

    #[test]
    fn pods_being_deleted_or_finished_are_left_out() {
        let mut deleting = waiting("a", "CrashLoopBackOff", "");
        deleting.metadata.deletion_timestamp =
            Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
                k8s_openapi::jiff::Timestamp::from_second(1).unwrap(),
            ));
        let evicted = pod(
            "b",
            json!({"phase": "Failed", "reason": "Evicted", "containerStatuses": [{
                "name": "store-service", "image": "store:1", "imageID": "", "ready": false,
                "restartCount": 0,
                "state": {"terminated": {"exitCode": 137, "reason": "Error"}}
            }]}),
        );
        assert_eq!(not_starting(&[deleting, evicted]), None);
    }

    #[test]
    fn long_messages_are_cut() {
        let long = "é".repeat(1000);
        let p = not_starting(&[waiting("a", "ErrImagePull", &long)]).unwrap();
        let (_, kubelet) = p.message.split_once("ErrImagePull: ").unwrap();
        assert_eq!(kubelet.chars().count(), MAX_MESSAGE_CHARS + 1);
        assert!(kubelet.ends_with('…'));
        let exact = "x".repeat(MAX_MESSAGE_CHARS);
        let p = not_starting(&[waiting("a", "ErrImagePull", &exact)]).unwrap();
        assert!(p.message.ends_with(&exact), "not cut at the limit");
    }
}
