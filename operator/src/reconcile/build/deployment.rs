//! The Deployment of the store-service: restricted pods with probes, limits
//! and the volumes their environment points at.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{
    Deployment, DeploymentSpec, DeploymentStrategy, RollingUpdateDeployment,
};
use k8s_openapi::api::core::v1::{
    Capabilities, ConfigMapVolumeSource, Container, ContainerPort, EmptyDirVolumeSource,
    HTTPGetAction, KeyToPath, Lifecycle, LifecycleHandler, PersistentVolumeClaimVolumeSource,
    PodSecurityContext, PodSpec, PodTemplateSpec, Probe, SeccompProfile, SecretVolumeSource,
    SecurityContext, SleepAction, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::env::{ADMIN_DIR, CATALOG_DIR, CONTAINER_PORT, DATA_DIR, environment};
use super::secret;
use super::service::HTTP_PORT_NAME;
use crate::reconcile::resolve::{Database, ResolvedStore};

/// Name of the store-service container.
pub const CONTAINER_NAME: &str = "store-service";
/// Pod annotation with the catalog's digest: a new catalog rolls the pods.
pub const CATALOG_HASH_ANNOTATION: &str = "storeops.dev/catalog-hash";
/// The non-root user of the store-service image (distroless `nonroot`).
pub const RUN_AS_USER: i64 = 65532;

/// The store-service Deployment. Embedded SQLite is replaced with the
/// Recreate strategy (two pods never share the file); PostgreSQL rolls.
pub fn deployment(store: &ResolvedStore, catalog_hash: &str) -> Deployment {
    let embedded = matches!(store.database, Database::Embedded { .. });
    let strategy = if embedded {
        DeploymentStrategy {
            type_: Some("Recreate".into()),
            rolling_update: None,
        }
    } else {
        DeploymentStrategy {
            type_: Some("RollingUpdate".into()),
            rolling_update: Some(RollingUpdateDeployment {
                max_surge: Some(IntOrString::Int(1)),
                max_unavailable: Some(IntOrString::Int(0)),
            }),
        }
    };
    let mut annotations = BTreeMap::from([(
        "kubectl.kubernetes.io/default-container".into(),
        CONTAINER_NAME.into(),
    )]);
    if !catalog_hash.is_empty() {
        annotations.insert(CATALOG_HASH_ANNOTATION.into(), catalog_hash.into());
    }
    Deployment {
        metadata: store.id.object_meta(&store.id.object_name),
        spec: Some(DeploymentSpec {
            replicas: Some(store.replicas),
            revision_history_limit: Some(3),
            selector: store.id.selector(),
            strategy: Some(strategy),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(store.id.labels()),
                    annotations: Some(annotations),
                    ..ObjectMeta::default()
                }),
                spec: Some(pod_spec(store)),
            },
            ..DeploymentSpec::default()
        }),
        status: None,
    }
}

fn pod_spec(store: &ResolvedStore) -> PodSpec {
    let (volumes, mounts) = volumes(store);
    PodSpec {
        service_account_name: Some(store.id.object_name.clone()),
        automount_service_account_token: Some(false),
        enable_service_links: Some(false),
        security_context: Some(PodSecurityContext {
            run_as_non_root: Some(true),
            run_as_user: Some(RUN_AS_USER),
            run_as_group: Some(RUN_AS_USER),
            fs_group: Some(RUN_AS_USER),
            fs_group_change_policy: Some("OnRootMismatch".into()),
            seccomp_profile: Some(runtime_default()),
            ..PodSecurityContext::default()
        }),
        containers: vec![Container {
            name: CONTAINER_NAME.into(),
            image: Some(store.image.clone()),
            image_pull_policy: Some("IfNotPresent".into()),
            args: Some(vec!["serve".into()]),
            ports: Some(vec![ContainerPort {
                name: Some(HTTP_PORT_NAME.into()),
                container_port: CONTAINER_PORT,
                protocol: Some("TCP".into()),
                ..ContainerPort::default()
            }]),
            env: Some(environment(store)),
            resources: Some(store.resources.clone()),
            startup_probe: Some(probe("/livez", 2, 30)),
            liveness_probe: Some(probe("/livez", 10, 3)),
            readiness_probe: Some(probe("/readyz", 5, 2)),
            // Endpoints drop a terminating pod while SIGTERM is already on its
            // way: serve on for a while so requests routed meanwhile still land.
            lifecycle: Some(Lifecycle {
                pre_stop: Some(LifecycleHandler {
                    sleep: Some(SleepAction {
                        seconds: PRE_STOP_SLEEP_SECONDS,
                    }),
                    ..LifecycleHandler::default()
                }),
                ..Lifecycle::default()
            }),
            security_context: Some(SecurityContext {
                allow_privilege_escalation: Some(false),
                read_only_root_filesystem: Some(true),
                run_as_non_root: Some(true),
                capabilities: Some(Capabilities {
                    drop: Some(vec!["ALL".into()]),
                    add: None,
                }),
                seccomp_profile: Some(runtime_default()),
                ..SecurityContext::default()
            }),
            volume_mounts: Some(mounts),
            ..Container::default()
        }],
        volumes: Some(volumes),
        // The pre-stop sleep, then the service's own drain and telemetry
        // flush (SHUTDOWN_TIMEOUT_SECONDS, 10 s), with room to spare.
        termination_grace_period_seconds: Some(PRE_STOP_SLEEP_SECONDS + 20),
        ..PodSpec::default()
    }
}

/// How long a terminating store pod keeps serving before SIGTERM.
pub const PRE_STOP_SLEEP_SECONDS: i64 = 5;

fn runtime_default() -> SeccompProfile {
    SeccompProfile {
        type_: "RuntimeDefault".into(),
        localhost_profile: None,
    }
}

fn probe(path: &str, period_seconds: i32, failure_threshold: i32) -> Probe {
    Probe {
        http_get: Some(HTTPGetAction {
            path: Some(path.into()),
            port: IntOrString::String(HTTP_PORT_NAME.into()),
            ..HTTPGetAction::default()
        }),
        period_seconds: Some(period_seconds),
        timeout_seconds: Some(2),
        failure_threshold: Some(failure_threshold),
        ..Probe::default()
    }
}

/// A writable /tmp, the admin token, the catalog and the database volume.
fn volumes(store: &ResolvedStore) -> (Vec<Volume>, Vec<VolumeMount>) {
    let mount = |name: &str, path: &str, read_only: bool| VolumeMount {
        name: name.into(),
        mount_path: path.into(),
        read_only: Some(read_only),
        ..VolumeMount::default()
    };
    let mut volumes = vec![
        Volume {
            name: "tmp".into(),
            empty_dir: Some(EmptyDirVolumeSource {
                size_limit: Some(Quantity("64Mi".into())),
                medium: None,
            }),
            ..Volume::default()
        },
        Volume {
            name: "admin-token".into(),
            secret: Some(SecretVolumeSource {
                secret_name: Some(store.id.admin_secret_name.clone()),
                items: Some(vec![key_to_path(secret::TOKEN_KEY)]),
                default_mode: Some(0o440),
                optional: Some(false),
            }),
            ..Volume::default()
        },
    ];
    let mut mounts = vec![
        mount("tmp", "/tmp", false),
        mount("admin-token", ADMIN_DIR, true),
    ];
    if let Some(src) = &store.catalog {
        volumes.push(Volume {
            name: "catalog".into(),
            config_map: Some(ConfigMapVolumeSource {
                name: src.config_map.clone(),
                items: Some(vec![key_to_path(&src.key)]),
                default_mode: Some(0o444),
                optional: Some(false),
            }),
            ..Volume::default()
        });
        mounts.push(mount("catalog", CATALOG_DIR, true));
    }
    if matches!(store.database, Database::Embedded { .. }) {
        volumes.push(Volume {
            name: "data".into(),
            persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                claim_name: store.id.data_claim_name.clone(),
                read_only: Some(false),
            }),
            ..Volume::default()
        });
        mounts.push(mount("data", DATA_DIR, false));
    }
    (volumes, mounts)
}

fn key_to_path(key: &str) -> KeyToPath {
    KeyToPath {
        key: key.into(),
        path: key.into(),
        mode: None,
    }
}

#[cfg(test)]
#[path = "deployment_tests.rs"]
mod tests;
