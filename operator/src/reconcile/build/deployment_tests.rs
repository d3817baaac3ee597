use super::*;
use crate::api::Store;
use crate::config::OperatorConfig;
use crate::reconcile::identity::Identity;

fn build(store: &Store) -> Deployment {
    deployment(&store.resolved(), "")
}

fn pod(store: &Store) -> PodSpec {
    build(store).spec.unwrap().template.spec.unwrap()
}

fn container(store: &Store) -> Container {
    pod(store).containers.remove(0)
}

fn mounts(store: &Store) -> Vec<(String, String)> {
    container(store)
        .volume_mounts
        .unwrap()
        .into_iter()
        .map(|m| (m.name, m.mount_path))
        .collect()
}

#[test]
fn pods_meet_the_restricted_pod_security_standard() {
    let pod = pod(&Store::test());
    let psc = pod.security_context.unwrap();
    assert_eq!(psc.run_as_non_root, Some(true));
    assert_eq!(psc.run_as_user, Some(65532));
    assert_eq!(psc.seccomp_profile.unwrap().type_, "RuntimeDefault");
    assert_eq!(pod.automount_service_account_token, Some(false));
    assert_eq!(pod.service_account_name.as_deref(), Some("store-alpha"));
    let sc = pod.containers[0].security_context.clone().unwrap();
    assert_eq!(sc.allow_privilege_escalation, Some(false));
    assert_eq!(sc.read_only_root_filesystem, Some(true));
    assert_eq!(sc.capabilities.unwrap().drop, Some(vec!["ALL".to_string()]));
    assert_eq!(sc.privileged, None);
}

#[test]
fn probes_hit_livez_and_readyz_on_the_named_http_port() {
    let c = container(&Store::test());
    let get = |p: Option<Probe>| {
        let http = p.unwrap().http_get.unwrap();
        (http.path.unwrap(), http.port)
    };
    let http = IntOrString::String("http".into());
    assert_eq!(get(c.liveness_probe), ("/livez".into(), http.clone()));
    assert_eq!(get(c.readiness_probe), ("/readyz".into(), http.clone()));
    assert_eq!(get(c.startup_probe), ("/livez".into(), http));
    let port = &c.ports.unwrap()[0];
    assert_eq!(
        (port.name.as_deref(), port.container_port),
        (Some("http"), 8080)
    );
}

#[test]
fn resources_default_to_small_requests_and_limits_unless_the_spec_sets_them() {
    let c = container(&Store::test());
    let r = c.resources.unwrap();
    assert_eq!(r.requests.as_ref().unwrap()["cpu"], Quantity("50m".into()));
    assert_eq!(r.requests.unwrap()["memory"], Quantity("64Mi".into()));
    assert_eq!(r.limits.as_ref().unwrap()["cpu"], Quantity("500m".into()));
    assert_eq!(r.limits.unwrap()["memory"], Quantity("256Mi".into()));
    let big = container(&Store::test().with_big_resources())
        .resources
        .unwrap();
    assert_eq!(big.limits.unwrap()["memory"], Quantity("1Gi".into()));
}

#[test]
fn the_embedded_database_is_recreated_and_postgres_rolls() {
    let strategy = |s: &Store| build(s).spec.unwrap().strategy.unwrap();
    let embedded = strategy(&Store::test());
    assert_eq!(embedded.type_.as_deref(), Some("Recreate"));
    assert_eq!(embedded.rolling_update, None);
    let pg = strategy(&Store::test().with_replicas(3).with_postgres());
    assert_eq!(pg.type_.as_deref(), Some("RollingUpdate"));
    assert_eq!(
        pg.rolling_update.unwrap().max_unavailable,
        Some(IntOrString::Int(0))
    );
}

#[test]
fn the_volume_of_the_embedded_database_is_mounted_at_data() {
    let m = mounts(&Store::test());
    assert!(m.contains(&("data".into(), "/data".into())), "{m:?}");
    assert!(m.contains(&("tmp".into(), "/tmp".into())), "{m:?}");
    assert!(
        m.contains(&("admin-token".into(), "/etc/store-admin".into())),
        "{m:?}"
    );
    let claim = pod(&Store::test())
        .volumes
        .unwrap()
        .into_iter()
        .find(|v| v.name == "data");
    assert_eq!(
        claim.unwrap().persistent_volume_claim.unwrap().claim_name,
        "store-alpha-data"
    );
    assert!(
        !mounts(&Store::test().with_postgres())
            .iter()
            .any(|(n, _)| n == "data")
    );
}

#[test]
fn the_catalog_is_mounted_from_our_config_map_or_the_users() {
    let source = |s: &Store| {
        let volumes = pod(s).volumes.unwrap();
        let cm = volumes
            .into_iter()
            .find(|v| v.name == "catalog")
            .unwrap()
            .config_map
            .unwrap();
        (cm.name, cm.items.unwrap()[0].key.clone())
    };
    let inline = Store::test().with_inline_catalog();
    assert_eq!(
        source(&inline),
        ("store-alpha-catalog".into(), "catalog.json".into())
    );
    let referenced = Store::test().with_catalog_ref();
    let (name, key) = testenv::fixtures::CATALOG_CONFIG_MAP;
    assert_eq!(source(&referenced), (name.into(), key.into()));
    assert!(mounts(&inline).contains(&("catalog".into(), "/etc/store".into())));
    assert!(!mounts(&Store::test()).iter().any(|(n, _)| n == "catalog"));
}

#[test]
fn a_new_catalog_hash_changes_the_pod_template() {
    let store = Store::test().with_inline_catalog();
    let annotations = |hash: &str| {
        let d = deployment(&store.resolved(), hash);
        d.spec
            .unwrap()
            .template
            .metadata
            .unwrap()
            .annotations
            .unwrap()
    };
    assert_eq!(annotations("abc")[CATALOG_HASH_ANNOTATION], "abc");
    assert!(!annotations("").contains_key(CATALOG_HASH_ANNOTATION));
}

#[test]
fn replicas_image_and_selector_follow_the_store() {
    let config = OperatorConfig::default();
    let d = deployment(
        &Store::test().with_replicas(4).with_postgres().resolved(),
        "",
    );
    let spec = d.spec.unwrap();
    assert_eq!(spec.replicas, Some(4));
    assert_eq!(spec.selector, Identity::of(&Store::test()).selector());
    let labels = spec.template.metadata.unwrap().labels.unwrap();
    assert_eq!(labels, Identity::of(&Store::test()).labels());
    assert_eq!(
        container(&Store::test()).image.as_deref(),
        Some(config.default_image.as_str())
    );
    let own = container(&Store::test().with_image("store:2"));
    assert_eq!(own.image.as_deref(), Some("store:2"));
}

#[test]
fn a_terminating_pod_serves_through_a_pre_stop_sleep_within_its_grace_period() {
    let pod = pod(&Store::test());
    let sleep = pod.containers[0]
        .lifecycle
        .clone()
        .and_then(|l| l.pre_stop)
        .and_then(|h| h.sleep)
        .expect("a preStop sleep");
    assert_eq!(sleep.seconds, PRE_STOP_SLEEP_SECONDS);
    // The sleep, then the service's drain and flush (10 s by default), fit the grace period.
    let grace = pod.termination_grace_period_seconds.unwrap();
    assert!(grace >= PRE_STOP_SLEEP_SECONDS + 10, "{grace}");
}
