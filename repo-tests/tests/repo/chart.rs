//! The Helm chart without a cluster, through the real helm: `helm lint
//! --strict` is clean, and bad values fail at install time, naming the value
//! (values.schema.json). That the rendered chart is admitted by a real API
//! server, and runs the operator, is proven in operator/tests/operator/cluster.rs.

use testenv::operator::{repo_root, run_helm};

fn chart() -> String {
    repo_root().join("charts/storeops").display().to_string()
}

fn helm(args: &[&str]) -> Result<String, String> {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    run_helm(&args).map_err(|e| e.to_string())
}

/// `helm template` of the chart in storeops-system with `extra` arguments.
fn template(extra: &[&str]) -> String {
    let chart = chart();
    let mut args = vec![
        "template",
        "storeops",
        chart.as_str(),
        "--namespace",
        "storeops-system",
    ];
    args.extend_from_slice(extra);
    helm(&args).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn helm_lint_is_clean() {
    let out = helm(&["lint", "--strict", &chart()]).unwrap_or_else(|e| panic!("{e}"));
    assert!(out.contains("0 chart(s) failed"), "{out}");
    assert!(!out.contains("[WARNING]"), "{out}");
}

#[test]
fn the_default_values_render_the_whole_chart() {
    let out = template(&[]);
    for kind in [
        "kind: ServiceAccount",
        "kind: ClusterRole",
        "kind: ClusterRoleBinding",
        "kind: Role",
        "kind: RoleBinding",
        "kind: Service",
        "kind: Deployment",
        "kind: PodDisruptionBudget",
    ] {
        assert!(out.contains(kind), "no {kind} in:\n{out}");
    }
    // The ServiceMonitor waits for its CRD (helm template knows no CRDs).
    assert!(!out.contains("kind: ServiceMonitor"), "{out}");
    let with_crd = template(&["--api-versions", "monitoring.coreos.com/v1/ServiceMonitor"]);
    assert!(with_crd.contains("kind: ServiceMonitor"), "{with_crd}");
}

#[test]
fn bad_values_fail_naming_the_value() {
    let cases = [
        ("replicaCount=0", "replicaCount"),
        ("replicaCount=two", "replicaCount"),
        ("logLevel=loud", "logLevel"),
        ("image.pullPolicy=Sometimes", "pullPolicy"),
        ("otlpEndpoint=collector:4317", "otlpEndpoint"),
        ("watchNamespaces={Shop_1}", "watchNamespaces"),
        ("serviceMonitor.interval=often", "interval"),
        ("resources.limits.memory=lots", "memory"),
        ("replicas=2", "replicas"),
        ("maxConcurrentReconciles=0", "maxConcurrentReconciles"),
    ];
    for (set, named) in cases {
        match helm(&["template", "storeops", &chart(), "--set", set]) {
            Ok(_) => panic!("--set {set} was accepted"),
            Err(e) => assert!(
                e.contains("values don't meet the specifications of the schema")
                    && e.contains(named),
                "--set {set}: the error does not name {named}: {e}"
            ),
        }
    }
    // A PodDisruptionBudget only with a standby to fall back on.
    let single = template(&["--set", "replicaCount=1"]);
    assert!(!single.contains("kind: PodDisruptionBudget"), "{single}");
}

/// The ClusterRole grants every kind the operator manages
/// (`operator::reconcile::kinds::ALL`) exactly what the apply, the sweep and
/// the watches need: a kind added to the table without its rule fails here.
#[test]
fn the_cluster_role_covers_every_managed_kind() {
    use serde::Deserialize;
    let out = template(&[]);
    let role = serde_yaml_ng::Deserializer::from_str(&out)
        .filter_map(|doc| serde_json::Value::deserialize(doc).ok())
        .find(|doc| doc["kind"] == "ClusterRole" && doc["metadata"]["name"] == "storeops-operator")
        .expect("the operator's ClusterRole");
    let strings = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect()
    };
    for kind in operator::reconcile::kinds::ALL {
        let verbs: Vec<String> = role["rules"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| {
                strings(&r["apiGroups"]).contains(&kind.group.to_string())
                    && strings(&r["resources"]).contains(&kind.plural.to_string())
            })
            .flat_map(|r| strings(&r["verbs"]))
            .collect();
        for verb in ["get", "list", "watch", "create", "patch", "delete"] {
            assert!(
                verbs.iter().any(|v| v == verb),
                "{} ({}): no {verb} in {verbs:?}",
                kind.kind,
                kind.plural
            );
        }
    }
}

/// `networkPolicy`: none by default; enabled, one around the operator's pods
/// that lets in the configured Prometheus on `http` and out DNS and the API
/// server, plus the extra rules; the operator is told the same Prometheus
/// for the Stores' policies.
#[test]
fn the_network_policy_is_optional_and_follows_its_values() {
    use serde::Deserialize;
    let policy = |out: &str| {
        serde_yaml_ng::Deserializer::from_str(out)
            .filter_map(|doc| serde_json::Value::deserialize(doc).ok())
            .find(|doc| doc["kind"] == "NetworkPolicy")
    };
    // The operator's env var `name`, from the Deployment (parsed, not grepped).
    let env = |out: &str, name: &str| {
        serde_yaml_ng::Deserializer::from_str(out)
            .filter_map(|doc| serde_json::Value::deserialize(doc).ok())
            .find(|doc| doc["kind"] == "Deployment")
            .expect("a Deployment")["spec"]["template"]["spec"]["containers"][0]["env"]
            .as_array()
            .expect("env")
            .iter()
            .find(|var| var["name"] == name)
            .map(|var| var["value"].clone())
    };
    let default = template(&[]);
    assert_eq!(policy(&default), None);
    // The Prometheus is given to the operator even without the chart's
    // policy: a Store's own spec.networkPolicy needs it.
    assert_eq!(
        env(&default, "STOREOPS_PROMETHEUS_NAMESPACE"),
        Some("monitoring".into())
    );
    assert_eq!(
        env(&default, "STOREOPS_PROMETHEUS_POD_LABELS"),
        Some("app.kubernetes.io/name=prometheus".into())
    );
    let out = template(&[
        "--set",
        "networkPolicy.enabled=true",
        "--set",
        "networkPolicy.prometheus.namespace=obs",
        "--set",
        "networkPolicy.prometheus.podLabels.app=prom",
        "--set",
        "networkPolicy.extraEgress[0].ports[0].port=4317",
    ]);
    let spec = policy(&out).expect("a NetworkPolicy")["spec"].clone();
    assert_eq!(
        spec["podSelector"]["matchLabels"],
        serde_json::json!({"app.kubernetes.io/name": "storeops-operator", "app.kubernetes.io/instance": "storeops"})
    );
    let from = &spec["ingress"][0]["from"][0];
    assert_eq!(
        from["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"],
        "obs"
    );
    assert_eq!(
        from["podSelector"]["matchLabels"],
        serde_json::json!({"app": "prom", "app.kubernetes.io/name": "prometheus"})
    );
    assert_eq!(spec["ingress"][0]["ports"][0]["port"], "http");
    let egress = spec["egress"].as_array().unwrap();
    assert_eq!(
        egress.len(),
        3,
        "DNS, the API server, the extra rule: {spec}"
    );
    assert_eq!(
        egress[0]["to"][0]["podSelector"]["matchLabels"]["k8s-app"],
        "kube-dns"
    );
    assert_eq!(egress[2]["ports"][0]["port"], 4317);
    assert_eq!(
        spec["policyTypes"],
        serde_json::json!(["Ingress", "Egress"])
    );
    assert_eq!(
        egress[0]["to"][0]["namespaceSelector"]["matchLabels"],
        serde_json::json!({"kubernetes.io/metadata.name": "kube-system"})
    );
    assert_eq!(
        egress[0]["ports"],
        serde_json::json!([{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}])
    );
    assert_eq!(
        egress[1],
        serde_json::json!({"ports": [{"protocol": "TCP", "port": 443}, {"protocol": "TCP", "port": 6443}]}),
        "the API server's ports, to any address"
    );
    assert_eq!(
        env(&out, "STOREOPS_PROMETHEUS_NAMESPACE"),
        Some("obs".into())
    );
    // k=v joined by commas, sorted by key (helm ranges a map in key order).
    assert_eq!(
        env(&out, "STOREOPS_PROMETHEUS_POD_LABELS"),
        Some("app=prom,app.kubernetes.io/name=prometheus".into())
    );
    // A namespace that cannot be one, and no port, are refused by the schema.
    for set in [
        "networkPolicy.prometheus.namespace=Obs",
        "networkPolicy.apiServerPorts={0}",
    ] {
        let err = helm(&["template", "storeops", &chart(), "--set", set]).unwrap_err();
        assert!(err.contains("networkPolicy"), "--set {set}: {err}");
    }
}

/// Watching some namespaces grants the rights there only: a RoleBinding per
/// namespace to the ClusterRole, a Role for the fleet dashboards, no
/// ClusterRoleBinding; the operator is told the same namespaces.
#[test]
fn watched_namespaces_are_granted_namespace_by_namespace() {
    let out = template(&["--set", "watchNamespaces={shop-a,shop-b}"]);
    assert!(!out.contains("kind: ClusterRoleBinding"), "{out}");
    for ns in ["shop-a", "shop-b"] {
        assert!(
            out.contains(&format!(
                "kind: RoleBinding\nmetadata:\n  name: storeops-operator\n  namespace: {ns}"
            )),
            "no RoleBinding in {ns}:\n{out}"
        );
    }
    assert!(
        out.contains("name: storeops-operator-dashboards\n  namespace: storeops-system"),
        "{out}"
    );
    assert!(
        out.contains(r#"{name: STOREOPS_WATCH_NAMESPACES, value: "shop-a,shop-b"}"#),
        "{out}"
    );
}

/// The operator reads the Stores' pods (to say why they do not start) and
/// nothing more: `get` and `list`, no watch, no write, no subresource.
#[test]
fn pods_are_read_only() {
    use serde::Deserialize;
    let out = template(&[]);
    let role = serde_yaml_ng::Deserializer::from_str(&out)
        .filter_map(|doc| serde_json::Value::deserialize(doc).ok())
        .find(|doc| doc["kind"] == "ClusterRole")
        .expect("a ClusterRole");
    let grants: Vec<(&str, Vec<&str>)> = role["rules"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|rule| {
            let verbs: Vec<&str> = rule["verbs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect();
            rule["resources"]
                .as_array()
                .unwrap()
                .iter()
                .map(move |r| (r.as_str().unwrap(), verbs.clone()))
        })
        .filter(|(resource, _)| *resource == "pods" || resource.starts_with("pods/"))
        .collect();
    assert_eq!(grants, [("pods", vec!["get", "list"])], "{role:#}");
}

/// The rendered documents of `helm template <release>` in `namespace`.
fn documents(release: &str, namespace: &str, extra: &[&str]) -> Vec<serde_yaml_ng::Value> {
    let chart = chart();
    let mut args = vec![
        "template",
        release,
        chart.as_str(),
        "--namespace",
        namespace,
    ];
    args.extend_from_slice(extra);
    let out = helm(&args).unwrap_or_else(|e| panic!("{e}"));
    serde_yaml_ng::Deserializer::from_str(&out)
        .map(|d| <serde_yaml_ng::Value as serde::Deserialize>::deserialize(d).unwrap())
        .filter(|v| !v.is_null())
        .collect()
}

/// (kind, namespace, name) of every rendered object.
fn identities(docs: &[serde_yaml_ng::Value]) -> Vec<(String, String, String)> {
    docs.iter()
        .map(|d| {
            let field = |v: &serde_yaml_ng::Value| v.as_str().unwrap_or_default().to_string();
            (
                field(&d["kind"]),
                field(&d["metadata"]["namespace"]),
                field(&d["metadata"]["name"]),
            )
        })
        .collect()
}

#[test]
fn two_releases_name_every_object_apart() {
    let a = identities(&documents(
        "storeops",
        "storeops-system",
        &["--set", "watchNamespaces={shop-a}"],
    ));
    let b = identities(&documents(
        "team-b",
        "team-b-system",
        &["--set", "watchNamespaces={shop-b}"],
    ));
    // The default release keeps the names the docs and scripts use.
    assert!(a.contains(&(
        "Deployment".into(),
        "storeops-system".into(),
        "storeops-operator".into()
    )));
    assert!(b.contains(&(
        "Deployment".into(),
        "team-b-system".into(),
        "team-b-operator".into()
    )));
    for object in &b {
        assert!(!a.contains(object), "both releases render {object:?}");
    }
    // Cluster-scoped objects (no namespace) were the collision.
    assert!(
        b.iter().filter(|(_, ns, _)| ns.is_empty()).count() >= 3,
        "{b:?}"
    );
    let deployment = documents("team-b", "team-b-system", &[])
        .into_iter()
        .find(|d| d["kind"] == "Deployment")
        .unwrap();
    let env = &deployment["spec"]["template"]["spec"]["containers"][0]["env"];
    let lease = env
        .as_sequence()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "STOREOPS_LEASE_NAME")
        .unwrap();
    assert_eq!(lease["value"], "team-b-operator");
}

#[test]
fn pod_values_every_chart_takes_are_rendered() {
    let docs = documents(
        "storeops",
        "storeops-system",
        &[
            "--set",
            "imagePullSecrets[0].name=regcred",
            "--set",
            "nodeSelector.disktype=ssd",
            "--set",
            "tolerations[0].key=dedicated",
            "--set",
            "tolerations[0].operator=Exists",
            "--set",
            "affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].key=zone",
            "--set",
            "affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].operator=Exists",
            "--set",
            "topologySpreadConstraints[0].maxSkew=1",
            "--set",
            "topologySpreadConstraints[0].topologyKey=kubernetes.io/hostname",
            "--set",
            "topologySpreadConstraints[0].whenUnsatisfiable=ScheduleAnyway",
            "--set",
            "podAnnotations.team=shop",
            "--set",
            "podLabels.tier=control",
            "--set",
            "priorityClassName=platform",
        ],
    );
    let deployment = docs.iter().find(|d| d["kind"] == "Deployment").unwrap();
    let pod = &deployment["spec"]["template"];
    let spec = &pod["spec"];
    assert_eq!(spec["imagePullSecrets"][0]["name"], "regcred");
    assert_eq!(spec["nodeSelector"]["disktype"], "ssd");
    assert_eq!(spec["tolerations"][0]["key"], "dedicated");
    assert!(spec["affinity"]["nodeAffinity"].is_mapping());
    assert_eq!(spec["topologySpreadConstraints"][0]["maxSkew"], 1);
    assert_eq!(spec["priorityClassName"], "platform");
    assert_eq!(pod["metadata"]["annotations"]["team"], "shop");
    assert_eq!(pod["metadata"]["labels"]["tier"], "control");
    // The selector is untouched by extra pod labels.
    assert!(deployment["spec"]["selector"]["matchLabels"]["tier"].is_null());
}

#[test]
fn chart_metadata_users_expect_is_set() {
    let text = std::fs::read_to_string(repo_root().join("charts/storeops/Chart.yaml")).unwrap();
    let chart: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).unwrap();
    for field in ["home", "icon", "kubeVersion", "description", "appVersion"] {
        assert!(
            chart[field].as_str().is_some_and(|v| !v.is_empty()),
            "Chart.yaml has no {field}"
        );
    }
    assert!(
        chart["sources"][0].as_str().is_some(),
        "Chart.yaml has no sources"
    );
    assert!(
        chart["maintainers"][0]["name"].as_str().is_some(),
        "Chart.yaml has no maintainers"
    );
}
