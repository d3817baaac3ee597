//! storeops end to end: admission, the objects of a Store, drift, rollout,
//! deletion, Pod Security, missing references and pause, against the cluster
//! of the current kubeconfig (the CRD installed and the operator running).

use std::time::Duration;

use e2e::{CONVERGE, Env, condition, eventually, exists, manifest, ready_at};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Pod, Service};
use kube::ResourceExt;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use storeops_contract::kinds;
use testenv::fixtures::{bound_probes, invalid_stores, merged, store};

/// Every numeric bound of the installed CRD, at its edges (0, -0, the
/// bound, just past it), sent to the real API server: admitted exactly when
/// within the bounds, and a refusal names the field (Kubernetes 1.37 cut a
/// fractional bound to an integer for an integer-valued number: `0` passed
/// `minimum: 0.9`).
#[tokio::test]
async fn every_numeric_bound_of_the_schema_holds_at_its_edges() {
    let env = Env::new("edges").await;
    let crd: serde_json::Value =
        serde_yaml_ng::from_str(include_str!("../../../crds/storeops.dev_stores.yaml")).unwrap();
    let spec = &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"];
    let probes = bound_probes(spec);
    assert!(probes.len() >= 40, "{} probes", probes.len());
    let mut failures = Vec::new();
    for probe in &probes {
        let candidate = merged(store("edge"), &probe.patch);
        match (env.dry_run_store(&candidate).await, probe.admitted) {
            (Ok(_), true) => {}
            (Err(kube::Error::Api(s)), false)
                if s.code == 422 && s.message.contains(&probe.field) => {}
            (Ok(_), false) => failures.push(format!("{}: admitted", probe.what)),
            (Err(e), _) => failures.push(format!("{}: {e}", probe.what)),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} probes:\n{}",
        failures.len(),
        probes.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn invalid_stores_are_refused_at_admission_naming_the_field() {
    let env = Env::new("admission").await;
    let cases = invalid_stores();
    assert!(cases.len() >= 30);
    let mut failures = Vec::new();
    for (what, patch, field) in &cases {
        let candidate = merged(store("bad"), patch);
        match env.dry_run_store(&candidate).await {
            Err(kube::Error::Api(s)) if s.code == 422 && s.message.contains(field) => {}
            Err(kube::Error::Api(s)) => failures.push(format!(
                "{what}: {} {:?} does not name {field}",
                s.code, s.message
            )),
            Err(e) => failures.push(format!("{what}: {e}")),
            Ok(_) => failures.push(format!("{what}: accepted")),
        }
    }
    // The valid base is accepted, so the refusals above are the patches' doing.
    env.dry_run_store(&store("good"))
        .await
        .expect("the base Store is valid");
    assert!(
        failures.is_empty(),
        "{} of {}:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );

    // storeId is immutable once set.
    env.apply_store(&merged(
        store("fixed"),
        &json!({"spec": {"storeId": "fixed_one"}}),
    ))
    .await
    .unwrap();
    let err = env
        .apply_store(&merged(
            store("fixed"),
            &json!({"spec": {"storeId": "fixed_two"}}),
        ))
        .await
        .expect_err("changing storeId must be refused");
    assert!(err.to_string().contains("spec.storeId"), "{err}");
    env.cleanup().await;
}

async fn running_pods(env: &Env, name: &str) -> Result<Vec<Pod>, String> {
    let pods: Api<Pod> = env.api();
    let list = pods
        .list(&ListParams::default().labels(&format!("app.kubernetes.io/instance={name}")))
        .await
        .map_err(|e| e.to_string())?;
    let phases: Vec<String> = list
        .items
        .iter()
        .map(|p| {
            p.status
                .as_ref()
                .and_then(|s| s.phase.clone())
                .unwrap_or_default()
        })
        .collect();
    if !list.items.is_empty() && phases.iter().all(|p| p == "Running") {
        Ok(list.items)
    } else {
        Err(format!("pod phases {phases:?}"))
    }
}

#[tokio::test]
async fn a_store_gets_every_object_and_its_pods_run() {
    let env = Env::new("objects").await;
    let created = env.apply_store(&store("alpha")).await.unwrap();
    let uid = created.uid().unwrap();
    let store = ready_at(&env, "alpha", 1).await;
    assert_eq!(store.data["status"]["readyReplicas"], json!(1));
    assert!(
        store.data["status"]["serviceUrl"]
            .as_str()
            .unwrap()
            .contains("store-alpha")
    );

    let owned_by_store = |meta: &kube::api::ObjectMeta, what: &str| {
        let refs = meta.owner_references.clone().unwrap_or_default();
        assert!(
            refs.iter()
                .any(|r| r.uid == uid && r.kind == "Store" && r.controller == Some(true)),
            "{what} is not controlled by the Store: {refs:?}"
        );
        let labels = meta.labels.clone().unwrap_or_default();
        assert_eq!(
            labels.get("storeops.dev/store-id").map(String::as_str),
            Some("alpha"),
            "{what}"
        );
        assert_eq!(
            labels
                .get("app.kubernetes.io/managed-by")
                .map(String::as_str),
            Some("storeops"),
            "{what}"
        );
    };
    let children = [
        ("apps", "Deployment", "store-alpha"),
        ("", "Service", "store-alpha"),
        ("", "ServiceAccount", "store-alpha"),
        ("", "Secret", "store-alpha-admin"),
        ("", "ConfigMap", "store-alpha-catalog"),
        ("", "PersistentVolumeClaim", "store-alpha-data"),
        ("", "ConfigMap", "store-alpha-dashboard"),
    ];
    for (group, kind, name) in children {
        let child = env.dynamic(group, "v1", kind).get(name).await.unwrap();
        owned_by_store(&child.metadata, kind);
    }
    let d = env.api::<Deployment>().get("store-alpha").await.unwrap();
    // The dashboard is labelled for Grafana's sidecar and named in the status.
    let dashboard = env
        .api::<ConfigMap>()
        .get("store-alpha-dashboard")
        .await
        .unwrap();
    assert_eq!(
        dashboard
            .labels()
            .get("grafana_dashboard")
            .map(String::as_str),
        Some("1")
    );
    let uid = format!("store-{}-alpha", env.namespace);
    let uid = if uid.len() <= 40 {
        uid
    } else {
        store.data["status"]["dashboardUids"][0]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(store.data["status"]["dashboardUids"], json!([uid]));
    let model: Value =
        serde_json::from_str(&dashboard.data.unwrap()[&format!("{uid}.json")]).unwrap();
    assert_eq!(model["uid"], json!(uid));

    // The pods run under the restricted Pod Security Standard the namespace enforces.
    let pods = eventually("store pods Running", CONVERGE, || {
        running_pods(&env, "alpha")
    })
    .await;
    assert_eq!(pods.len(), 1);
    let template = d.spec.unwrap().template.spec.unwrap();
    assert_eq!(template.automount_service_account_token, Some(false));
    let security = template.containers[0].security_context.clone().unwrap();
    assert_eq!(security.read_only_root_filesystem, Some(true));
    assert_eq!(security.allow_privilege_escalation, Some(false));

    // The operator told the Store's story in Events.
    let created = event(&env, "alpha", "Created").await;
    assert_eq!(created.reporting_controller.as_deref(), Some("storeops"));

    let monitoring = condition(&store, "MonitoringReady").unwrap();
    if env.serves_monitoring().await {
        assert_eq!(monitoring.0, "True", "{monitoring:?}");
        let sm = env.dynamic("monitoring.coreos.com", "v1", "ServiceMonitor");
        owned_by_store(
            &sm.get("store-alpha").await.unwrap().metadata,
            "ServiceMonitor",
        );
    } else {
        assert_eq!(
            (monitoring.0.as_str(), monitoring.1.as_str()),
            ("False", "MonitoringCRDsMissing")
        );
    }
    env.cleanup().await;
}

#[tokio::test]
async fn the_namespace_enforces_restricted_pod_security() {
    let env = Env::new("psa").await;
    // A pod with no security context (root allowed, capabilities kept, no
    // seccomp) is refused here; the store pods, in namespaces like this one,
    // are admitted.
    let pod: Pod = serde_json::from_value(json!({
        "metadata": {"name": "plain"},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]}
    }))
    .unwrap();
    let err = env
        .api::<Pod>()
        .create(
            &PostParams {
                dry_run: true,
                field_manager: None,
            },
            &pod,
        )
        .await
        .expect_err("a pod breaking the restricted standard must be refused");
    assert!(
        err.to_string()
            .contains("violates PodSecurity \"restricted"),
        "{err}"
    );

    env.apply_store(&store("psa")).await.unwrap();
    ready_at(&env, "psa", 1).await;
    eventually("store pods Running", CONVERGE, || running_pods(&env, "psa")).await;
    env.cleanup().await;
}

#[tokio::test]
async fn drift_is_undone_and_a_spec_change_rolls_out() {
    let env = Env::new("drift").await;
    env.apply_store(&store("beta")).await.unwrap();
    ready_at(&env, "beta", 1).await;

    // A child deleted by hand comes back.
    let services: Api<Service> = env.api();
    let old = services.get("store-beta").await.unwrap().uid();
    services
        .delete("store-beta", &DeleteParams::default())
        .await
        .unwrap();
    eventually("the deleted Service restored", CONVERGE, || async {
        let s = exists(&services, "store-beta").await?;
        if s.uid() != old {
            Ok(())
        } else {
            Err("still the old one".into())
        }
    })
    .await;

    // A field edited by hand is set back.
    let deployments: Api<Deployment> = env.api();
    deployments
        .patch(
            "store-beta",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 3}})),
        )
        .await
        .unwrap();
    eventually(
        "the edited Deployment back at 1 replica",
        CONVERGE,
        || async {
            let d = exists(&deployments, "store-beta").await?;
            let replicas = d.spec.and_then(|s| s.replicas);
            if replicas == Some(1) {
                Ok(())
            } else {
                Err(format!("replicas {replicas:?}"))
            }
        },
    )
    .await;

    // A spec change rolls out: new template, pods replaced, Ready at the new generation.
    let changed = merged(
        store("beta"),
        &json!({"spec": {"telemetry": {"logLevel": "debug"}}}),
    );
    let applied = env.apply_store(&changed).await.unwrap();
    assert_eq!(applied.metadata.generation, Some(2));
    eventually("LOG_LEVEL=debug in the pod template", CONVERGE, || async {
        let d = exists(&deployments, "store-beta").await?;
        let env_vars = d.spec.unwrap().template.spec.unwrap().containers[0]
            .env
            .clone()
            .unwrap_or_default();
        let level = env_vars
            .iter()
            .find(|e| e.name == "LOG_LEVEL")
            .and_then(|e| e.value.clone());
        if level.as_deref() == Some("debug") {
            Ok(())
        } else {
            Err(format!("LOG_LEVEL {level:?}"))
        }
    })
    .await;
    let store = ready_at(&env, "beta", 2).await;
    assert_eq!(condition(&store, "Progressing").unwrap().0, "False");
    let updated = event(&env, "beta", "Updated").await;
    assert_eq!(updated.type_.as_deref(), Some("Normal"));
    let pods = eventually("one pod of the new template", CONVERGE, || async {
        let pods = running_pods(&env, "beta").await?;
        if pods.len() == 1 {
            Ok(pods)
        } else {
            Err(format!("{} pods", pods.len()))
        }
    })
    .await;
    let pod_env = pods[0].spec.clone().unwrap().containers[0]
        .env
        .clone()
        .unwrap_or_default();
    assert!(
        pod_env
            .iter()
            .any(|e| e.name == "LOG_LEVEL" && e.value.as_deref() == Some("debug"))
    );

    // A field the spec drops goes from the object too: a label added, then removed.
    let maps: Api<ConfigMap> = env.api();
    let team = |want: Option<&'static str>| {
        let maps = maps.clone();
        async move {
            let what = format!("team label {want:?} on the dashboard ConfigMap");
            eventually(&what, CONVERGE, || async {
                let map = exists(&maps, "store-beta-dashboard").await?;
                let have = map.labels().get("team").cloned();
                if have.as_deref() == want {
                    Ok(())
                } else {
                    Err(format!("team label {have:?}"))
                }
            })
            .await
        }
    };
    let labelled = merged(
        changed.clone(),
        &json!({"spec": {"monitoring": {"dashboards": {"labels": {"team": "shop"}}}}}),
    );
    env.apply_store(&labelled).await.unwrap();
    team(Some("shop")).await;
    env.apply_store(&changed).await.unwrap();
    team(None).await;
    env.cleanup().await;
}

/// Waits for an Event with `reason` regarding Store `name`.
async fn event(env: &Env, name: &str, reason: &str) -> k8s_openapi::api::events::v1::Event {
    let events: Api<k8s_openapi::api::events::v1::Event> = env.api();
    eventually(
        &format!("a {reason} event on Store {name}"),
        CONVERGE,
        || async {
            let list = events
                .list(&ListParams::default())
                .await
                .map_err(|e| e.to_string())?;
            list.items
                .into_iter()
                .find(|e| {
                    e.reason.as_deref() == Some(reason)
                        && e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(name)
                })
                .ok_or_else(|| format!("no {reason} event yet"))
        },
    )
    .await
}

/// `Kind/name` and owner uids of every object labelled as the Store's.
async fn children(env: &Env, name: &str) -> Result<Vec<(String, Vec<String>)>, String> {
    let selector = ListParams::default().labels(&format!("app.kubernetes.io/instance={name}"));
    let monitoring = env.serves_monitoring().await;
    let mut found = Vec::new();
    // Every kind a Store may own (the operator's managed-kinds table).
    for managed in kinds::ALL {
        if managed.needs_monitoring_crds && !monitoring {
            continue;
        }
        let kind = managed.kind;
        let api = env.managed(managed);
        for o in api.list(&selector).await.map_err(|e| e.to_string())?.items {
            let owners = o
                .owner_references()
                .iter()
                .filter(|r| r.kind == "Store" && r.controller == Some(true))
                .map(|r| r.uid.clone())
                .collect();
            found.push((format!("{kind}/{}", o.name_any()), owners));
        }
    }
    Ok(found)
}

/// Every child is owned by the Store (controller owner reference to its
/// uid), so garbage collection removes them all with it; the Store goes too.
#[tokio::test]
async fn deleting_a_store_removes_every_child() {
    let env = Env::new("delete").await;
    env.apply_store(&store("gamma")).await.unwrap();
    let live = ready_at(&env, "gamma", 1).await;
    let uid = live.uid().unwrap();
    let before = children(&env, "gamma").await.unwrap();
    let found: Vec<&str> = before
        .iter()
        .map(|(k, _)| k.split('/').next().unwrap())
        .collect();
    // A default Store: every kind but those of replicas, a NetworkPolicy
    // or the monitoring CRDs.
    for kind in kinds::ALL.into_iter().filter(|k| {
        !k.needs_monitoring_crds
            && ![&kinds::POD_DISRUPTION_BUDGET, &kinds::NETWORK_POLICY].contains(k)
    }) {
        assert!(
            found.contains(&kind.kind),
            "no {} among {before:?}",
            kind.kind
        );
    }
    for (child, owners) in &before {
        assert_eq!(
            owners,
            &vec![uid.clone()],
            "{child} is not owned by Store gamma ({uid})"
        );
    }
    env.stores()
        .delete("gamma", &DeleteParams::default())
        .await
        .unwrap();

    let pods: Api<Pod> = env.api();
    eventually(
        "the Store and every child gone",
        Duration::from_secs(90),
        || async {
            let mut left: Vec<String> = children(&env, "gamma")
                .await?
                .into_iter()
                .map(|(k, _)| k)
                .collect();
            let selector = ListParams::default().labels("app.kubernetes.io/instance=gamma");
            left.extend(
                pods.list(&selector)
                    .await
                    .map_err(|e| e.to_string())?
                    .items
                    .iter()
                    .map(|p| format!("Pod/{}", p.name_any())),
            );
            if env
                .stores()
                .get_opt("gamma")
                .await
                .map_err(|e| e.to_string())?
                .is_some()
            {
                left.push("Store/gamma".into());
            }
            if left.is_empty() {
                Ok(())
            } else {
                Err(format!("left: {left:?}"))
            }
        },
    )
    .await;
    env.cleanup().await;
}

/// Waits until Store `name` is `Degraded=True` for `reason` with a message naming `missing`.
async fn degraded_naming(env: &Env, name: &str, reason: &str, missing: &str) {
    let stores = env.stores();
    let what = format!("Store {name} Degraded={reason} naming {missing}");
    eventually(&what, CONVERGE, || async {
        let s = exists(&stores, name).await?;
        let message = s.data["status"]["conditions"].to_string();
        match condition(&s, "Degraded") {
            Some((status, r, _))
                if status == "True" && r == reason && message.contains(missing) =>
            {
                Ok(())
            }
            other => Err(format!("{other:?}")),
        }
    })
    .await;
}

/// What admission cannot know: a ResourceQuota that allows no volume makes
/// the PVC's apply fail. The Store says so in its status and a Warning
/// event, retries with backoff, and heals once the quota allows it.
#[tokio::test]
async fn a_refused_write_is_a_condition_and_an_event_and_heals() {
    use k8s_openapi::api::core::v1::ResourceQuota;
    let env = Env::new("quota").await;
    let quota: ResourceQuota = serde_json::from_value(json!({
        "metadata": {"name": "no-volumes"},
        "spec": {"hard": {"persistentvolumeclaims": "0"}}
    }))
    .unwrap();
    let quotas: Api<ResourceQuota> = env.api();
    quotas.create(&PostParams::default(), &quota).await.unwrap();
    env.apply_store(&store("theta")).await.unwrap();
    degraded_naming(&env, "theta", "ApplyFailed", "PersistentVolumeClaim").await;
    // The volume is applied before the monitoring objects: while its apply
    // fails they are not claimed applied (MonitoringCRDsMissing where the
    // cluster has no monitoring CRDs).
    let theta = exists(&env.stores(), "theta").await.unwrap();
    let monitoring = condition(&theta, "MonitoringReady");
    assert!(
        matches!(&monitoring, Some((status, reason, _))
            if status == "False" && ["NotApplied", "MonitoringCRDsMissing"].contains(&reason.as_str())),
        "MonitoringReady while the apply fails: {monitoring:?}"
    );
    let failed = event(&env, "theta", "ReconcileFailed").await;
    assert_eq!(failed.type_.as_deref(), Some("Warning"));
    assert!(failed.note.unwrap_or_default().contains("store-theta-data"));
    quotas
        .delete("no-volumes", &DeleteParams::default())
        .await
        .unwrap();
    // The next retry (backoff at most 40 s by then) applies the volume.
    eventually(
        "Store theta healed after the quota went",
        Duration::from_secs(120),
        || async {
            let s = exists(&env.stores(), "theta").await?;
            match condition(&s, "Degraded") {
                Some((status, _, _)) if status == "False" => Ok(()),
                other => Err(format!("Degraded {other:?}")),
            }
        },
    )
    .await;
    ready_at(&env, "theta", 1).await;
    env.cleanup().await;
}

#[tokio::test]
async fn a_missing_reference_is_a_condition_and_its_arrival_heals_the_store() {
    let env = Env::new("refs").await;
    let referenced = merged(
        store("delta"),
        &json!({"spec": {"catalog": {"products": null, "configMapRef": {"name": "delta-catalog", "key": "catalog.yaml"}}}}),
    );
    env.apply_store(&referenced).await.unwrap();
    degraded_naming(&env, "delta", "CatalogConfigMapMissing", "delta-catalog").await;
    let warning = event(&env, "delta", "CatalogConfigMapMissing").await;
    assert_eq!(warning.type_.as_deref(), Some("Warning"));
    assert!(warning.note.unwrap_or_default().contains("delta-catalog"));
    // A missing database Secret is named too.
    let on_postgres = merged(
        store("zeta"),
        &json!({"spec": {"database": {"embedded": null, "postgres": {"secretRef": {"name": "zeta-db"}}}}}),
    );
    env.apply_store(&on_postgres).await.unwrap();
    degraded_naming(&env, "zeta", "DatabaseSecretMissing", "zeta-db").await;

    let catalog: ConfigMap = serde_json::from_value(json!({
        "metadata": {"name": "delta-catalog"},
        "data": {"catalog.yaml": "- {name: pear, category: fruit, price: 1.2, stock: 10}\n"}
    }))
    .unwrap();
    env.api::<ConfigMap>()
        .create(&PostParams::default(), &catalog)
        .await
        .unwrap();
    let healed = ready_at(&env, "delta", 1).await;
    assert_eq!(condition(&healed, "Degraded").unwrap().0, "False");
    env.cleanup().await;
}

/// `spec.networkPolicy.enabled` makes a NetworkPolicy the API server
/// accepts: in from the namespace and Prometheus, out to DNS and to the
/// database the Secret's URL names (by its namespace); turned off, it goes.
/// (Whether traffic is stopped is the network plugin's job: the local
/// control plane has none, kind's airgap ptp plugin does not enforce.)
#[tokio::test]
async fn a_network_policy_is_made_from_the_store_and_removed_with_the_setting() {
    use k8s_openapi::api::core::v1::Secret;
    use k8s_openapi::api::networking::v1::NetworkPolicy;
    let env = Env::new("netpol").await;
    let secret: Secret = serde_json::from_value(json!({
        "metadata": {"name": "eta-db"},
        "stringData": {"url": "postgres://shop:s3cret@postgres.data.svc:5432/shop"}
    }))
    .unwrap();
    env.api::<Secret>()
        .create(&PostParams::default(), &secret)
        .await
        .unwrap();
    let with = |enabled: bool| {
        merged(
            store("eta"),
            &json!({"spec": {
                "networkPolicy": {"enabled": enabled},
                "database": {"embedded": null, "postgres": {"secretRef": {"name": "eta-db"}}}
            }}),
        )
    };
    env.apply_store(&with(true)).await.unwrap();
    let policies = env.api::<NetworkPolicy>();
    let policy = eventually("NetworkPolicy store-eta", CONVERGE, || async {
        policies
            .get_opt("store-eta")
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| "not yet".to_string())
    })
    .await;
    let spec = serde_json::to_value(policy.spec.unwrap()).unwrap();
    assert_eq!(spec["policyTypes"], json!(["Ingress", "Egress"]), "{spec}");
    assert_eq!(
        spec["podSelector"]["matchLabels"]["app.kubernetes.io/instance"], "eta",
        "{spec}"
    );
    let from = &spec["ingress"][0]["from"];
    assert_eq!(from[0], json!({"podSelector": {}}), "{spec}");
    assert!(from[1]["namespaceSelector"].is_object(), "{spec}");
    assert_eq!(spec["egress"][0]["ports"][0]["port"], 53, "{spec}");
    assert_eq!(
        spec["egress"][1]["to"][0]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"],
        "data",
        "{spec}"
    );
    assert!(!spec.to_string().contains("s3cret"), "{spec}");

    env.apply_store(&with(false)).await.unwrap();
    eventually("NetworkPolicy store-eta deleted", CONVERGE, || async {
        match policies.get_opt("store-eta").await {
            Ok(None) => Ok(()),
            Ok(Some(_)) => Err("still there".to_string()),
            Err(e) => Err(e.to_string()),
        }
    })
    .await;
    env.cleanup().await;
}

/// The shared catalog table on the real API server: every product the
/// store-service seeds is admitted (the refused ones are rows of the
/// invalid-Store table above), and a catalog too long to inline says where
/// it belongs.
#[tokio::test]
async fn the_api_server_admits_exactly_the_products_the_service_accepts() {
    let env = Env::new("products").await;
    for (what, product, refused) in storeops_contract::catalog::cases() {
        if refused.is_some() {
            continue;
        }
        let candidate = merged(
            store("good"),
            &json!({"spec": {"catalog": {"products": [product]}}}),
        );
        if let Err(e) = env.dry_run_store(&candidate).await {
            panic!("{what}: a product the service accepts was refused: {e}");
        }
    }
    let too_many = merged(
        store("big"),
        &json!({"spec": {"catalog": {"products": (0..101)
            .map(|i| json!({"name": format!("p{i}"), "category": "c", "price": 1.0, "stock": 1}))
            .collect::<Vec<_>>()}}}),
    );
    let e = env.dry_run_store(&too_many).await.unwrap_err().to_string();
    assert!(e.contains("spec.catalog.configMapRef"), "{e}");
    env.cleanup().await;
}

/// `kubectl apply -f` (client-side) stores the whole object in the
/// last-applied-configuration annotation, and annotations may hold 262,144
/// bytes. The largest inline catalog (100 products, names and categories of
/// 128 characters that Go's JSON encoder writes as six bytes each) must fit:
/// the annotation is built as kubectl builds it and the API server judges.
#[tokio::test]
async fn the_largest_inline_catalog_fits_kubectl_apply() {
    let env = Env::new("kubectl").await;
    let longest = |i: usize| format!("{i:03}{}", "<".repeat(125));
    let products: Vec<Value> = (0..100)
        .map(|i| json!({"name": longest(i), "category": "<".repeat(128), "price": 999999999.99, "stock": 1000000000}))
        .collect();
    let mut object = merged(
        store("largest"),
        &json!({"spec": {"catalog": {"products": products}}}),
    );
    object["apiVersion"] = json!("storeops.dev/v1alpha1");
    object["kind"] = json!("Store");
    // Go's encoding/json escapes <, > and & as \u003c: the worst case.
    let last_applied = serde_json::to_string(&object)
        .unwrap()
        .replace('<', "\\u003c");
    assert!(last_applied.len() > 150_000, "{}", last_applied.len());
    object["metadata"]["annotations"] =
        json!({"kubectl.kubernetes.io/last-applied-configuration": last_applied});
    let object: kube::api::DynamicObject = serde_json::from_value(object).unwrap();
    env.stores()
        .create(&PostParams::default(), &object)
        .await
        .expect("the largest inline catalog, applied as kubectl apply does");
    env.cleanup().await;
}

/// A referenced catalog the service would refuse is named on the Store, and
/// the pods are not rolled onto it: a new Store gets no Deployment until the
/// catalog is fixed; a running one keeps its pod template.
#[tokio::test]
async fn an_invalid_referenced_catalog_holds_the_pods_and_names_the_product() {
    let env = Env::new("badcat").await;
    let config_map = |text: &str| {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "iota-catalog"},
               "data": {"catalog.yaml": text}})
    };
    let tab = "- {name: pear, category: fruit, price: 1.2, stock: 10}\n- {name: \"green\\ttea\", category: drink, price: 2, stock: 5}\n";
    env.apply(&config_map(tab)).await.unwrap();
    let referenced = merged(
        store("iota"),
        &json!({"spec": {"catalog": {"products": null, "configMapRef": {"name": "iota-catalog"}}}}),
    );
    env.apply_store(&referenced).await.unwrap();
    degraded_naming(&env, "iota", "CatalogInvalid", "product [1]").await;
    let warning = event(&env, "iota", "CatalogInvalid").await;
    let note = warning.note.unwrap_or_default();
    assert!(note.contains("green") && note.contains("name"), "{note}");
    let deployments: Api<Deployment> = env.api();
    assert!(
        deployments.get_opt("store-iota").await.unwrap().is_none(),
        "a Deployment was made for a catalog the service refuses"
    );

    env.apply(&config_map(
        "- {name: pear, category: fruit, price: 1.2, stock: 10}\n",
    ))
    .await
    .unwrap();
    ready_at(&env, "iota", 1).await;
    let template = |d: Deployment| d.spec.unwrap().template;
    let before = template(deployments.get("store-iota").await.unwrap());

    env.apply(&config_map(
        "- {name: pear, category: fruit, price: 1.234, stock: 10}\n",
    ))
    .await
    .unwrap();
    degraded_naming(&env, "iota", "CatalogInvalid", "price").await;
    let after = template(deployments.get("store-iota").await.unwrap());
    assert_eq!(
        before, after,
        "the pods were rolled onto an invalid catalog"
    );
    env.cleanup().await;
}

/// An event note may hold 1,024 bytes and the API server refuses a longer
/// one whole. A CatalogInvalid message naming a 253-character ConfigMap and
/// a 205-character key and a 128-emoji product (512 bytes) is longer: the Warning still arrives, cut
/// to the limit with the reason and the ConfigMap first; the condition
/// carries the whole message.
#[tokio::test]
async fn a_long_warning_reaches_the_user_cut_to_the_event_limit() {
    let env = Env::new("longnote").await;
    let config_map = format!("c{}", "a".repeat(252));
    let product = "😀".repeat(128);
    let key = format!("{}.json", "k".repeat(200));
    let text = format!(
        "[{{\"name\": \"{product}\", \"category\": \"c\", \"price\": 1.234, \"stock\": 1}}]"
    );
    env.apply(
        &json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": config_map},
                      "data": {(key.as_str()): text}}),
    )
    .await
    .unwrap();
    let referenced = merged(
        store("kappa"),
        &json!({"spec": {"catalog": {"products": null, "configMapRef": {"name": config_map, "key": key}}}}),
    );
    env.apply_store(&referenced).await.unwrap();
    degraded_naming(&env, "kappa", "CatalogInvalid", &product).await;
    let note = event(&env, "kappa", "CatalogInvalid")
        .await
        .note
        .unwrap_or_default();
    assert!(
        note.len() <= 1024 && note.len() > 1000,
        "{} bytes",
        note.len()
    );
    assert!(
        note.starts_with("catalog ConfigMap") && note.ends_with('…'),
        "{note}"
    );
    assert!(note.contains(&config_map), "{note}");
    env.cleanup().await;
}

#[tokio::test]
async fn a_paused_store_is_left_alone() {
    let env = Env::new("paused").await;
    env.apply_store(&merged(store("eps"), &json!({"spec": {"paused": true}})))
        .await
        .unwrap();
    let stores = env.stores();
    eventually("Progressing=False reason Paused", CONVERGE, || async {
        let s = exists(&stores, "eps").await?;
        match condition(&s, "Progressing") {
            Some((status, reason, _)) if status == "False" && reason == "Paused" => Ok(()),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
    let deployments: Api<Deployment> = env.api();
    assert!(
        deployments.get_opt("store-eps").await.unwrap().is_none(),
        "a paused Store got a Deployment"
    );
    env.apply_store(&store("eps")).await.unwrap();
    ready_at(&env, "eps", 2).await;
    env.cleanup().await;
}

/// What `make demo` does, in a namespace of the test's own: the three sample
/// Stores (`manifests/stores/`, beta's catalog ConfigMap included) and the
/// load generator (`manifests/loadgen.yaml`) are admitted under restricted
/// Pod Security, every Store becomes Ready and the load generator's pod runs
/// with the stores' admin tokens.
#[tokio::test]
async fn the_sample_stores_and_their_load_generator_come_up() {
    let env = Env::new("demo").await;
    let mut names = Vec::new();
    for file in ["alpha", "beta", "gamma"] {
        for doc in manifest(&format!("manifests/stores/{file}.yaml")) {
            let (kind, name) = (
                doc["kind"].as_str().unwrap(),
                doc["metadata"]["name"].as_str().unwrap().to_string(),
            );
            env.apply(&doc)
                .await
                .unwrap_or_else(|e| panic!("applying {kind} {name} of {file}.yaml: {e}"));
            if kind == "Store" {
                names.push(name);
            }
        }
    }
    assert_eq!(names, ["alpha", "beta", "gamma"]);
    for name in &names {
        ready_at(&env, name, 1).await;
    }
    for doc in manifest("manifests/loadgen.yaml") {
        env.apply(&doc)
            .await
            .unwrap_or_else(|e| panic!("applying the load generator: {e}"));
    }
    let pods: Api<Pod> = env.api();
    eventually("the load generator's pod Running", CONVERGE, || async {
        let list = pods
            .list(&ListParams::default().labels("app.kubernetes.io/name=loadgen"))
            .await
            .map_err(|e| e.to_string())?;
        let phases: Vec<_> = list
            .items
            .iter()
            .filter_map(|p| p.status.as_ref()?.phase.clone())
            .collect();
        if phases == ["Running"] {
            Ok(())
        } else {
            Err(format!("phases {phases:?}"))
        }
    })
    .await;
    env.cleanup().await;
}
