//! The NetworkPolicy around a Store's pods (`spec.networkPolicy.enabled`).
//!
//! In: the store's own namespace (the load generator and other clients) and
//! the Prometheus pods of the monitoring namespace, on the `http` port only.
//! Out: DNS, the database (from the URL in its Secret) and the OTLP
//! endpoint. A destination that is a Service of the cluster (`name`,
//! `name.namespace`, `name.namespace.svc[.<domain>]`) is allowed by its
//! namespace on every port: a policy sees the pod's port after the Service
//! has translated it, and the URL only names the Service's. An IP address is
//! allowed as itself on its port; any other host name on its port to any
//! address (a policy cannot name a host).

use std::collections::BTreeMap;
use std::net::IpAddr;

use k8s_openapi::api::networking::v1::{
    IPBlock, NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyIngressRule, NetworkPolicyPeer,
    NetworkPolicyPort, NetworkPolicySpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::{Dereferenced, service};
use crate::config::OperatorConfig;
use crate::reconcile::resolve::{Database, ResolvedStore};

/// The label every namespace carries with its own name.
pub const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";
/// Port of PostgreSQL when its URL names none.
pub const POSTGRES_PORT: u16 = 5432;

/// A network destination named by a URL: its host and port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Host name or IP address, lowercase, without brackets or trailing dot.
    pub host: String,
    /// Port: the URL's, else its scheme's known default, else `default_port`.
    pub port: u16,
}

impl Endpoint {
    /// The host and port of `url`; `None` when it has no host.
    pub fn from_url(url: &str, default_port: u16) -> Option<Endpoint> {
        let url = url::Url::parse(url).ok()?;
        let host = match url.host()? {
            url::Host::Domain(d) => d.trim_end_matches('.').to_ascii_lowercase(),
            url::Host::Ipv4(ip) => ip.to_string(),
            url::Host::Ipv6(ip) => ip.to_string(),
        };
        let port = url.port_or_known_default().unwrap_or(default_port);
        Some(Endpoint { host, port })
    }

    /// Who may be reached, seen from a pod in `namespace`.
    fn egress(&self, namespace: &str) -> NetworkPolicyEgressRule {
        if let Ok(ip) = self.host.parse::<IpAddr>() {
            let bits = if ip.is_ipv4() { 32 } else { 128 };
            return NetworkPolicyEgressRule {
                to: Some(vec![NetworkPolicyPeer {
                    ip_block: Some(IPBlock {
                        cidr: format!("{ip}/{bits}"),
                        except: None,
                    }),
                    ..NetworkPolicyPeer::default()
                }]),
                ports: Some(vec![tcp(self.port)]),
            };
        }
        match service_namespace(&self.host) {
            Some(ns) => NetworkPolicyEgressRule {
                to: Some(vec![namespace_peer(ns.unwrap_or(namespace), None)]),
                ports: None,
            },
            None => NetworkPolicyEgressRule {
                to: None,
                ports: Some(vec![tcp(self.port)]),
            },
        }
    }
}

/// For a host name that is a Service of the cluster, its namespace
/// (`Some(None)`: the pod's own); `None`: a name outside the cluster.
fn service_namespace(host: &str) -> Option<Option<&str>> {
    let labels: Vec<&str> = host.split('.').collect();
    match labels.as_slice() {
        [_] => Some(None),
        [_, ns] => Some(Some(ns)),
        [_, ns, "svc", ..] => Some(Some(ns)),
        _ => None,
    }
}

fn tcp(port: u16) -> NetworkPolicyPort {
    NetworkPolicyPort {
        protocol: Some("TCP".into()),
        port: Some(IntOrString::Int(port.into())),
        end_port: None,
    }
}

fn match_labels(labels: BTreeMap<String, String>) -> LabelSelector {
    LabelSelector {
        match_labels: Some(labels),
        match_expressions: None,
    }
}

/// Pods matching `pods` (every pod when `None`) in namespace `ns`.
fn namespace_peer(ns: &str, pods: Option<BTreeMap<String, String>>) -> NetworkPolicyPeer {
    NetworkPolicyPeer {
        namespace_selector: Some(match_labels(BTreeMap::from([(
            NAMESPACE_NAME_LABEL.to_string(),
            ns.to_string(),
        )]))),
        pod_selector: pods.map(match_labels),
        ip_block: None,
    }
}

fn dns() -> NetworkPolicyEgressRule {
    let port = |protocol: &str| NetworkPolicyPort {
        protocol: Some(protocol.into()),
        port: Some(IntOrString::Int(53)),
        end_port: None,
    };
    NetworkPolicyEgressRule {
        to: Some(vec![namespace_peer(
            "kube-system",
            Some(BTreeMap::from([("k8s-app".into(), "kube-dns".into())])),
        )]),
        ports: Some(vec![port("UDP"), port("TCP")]),
    }
}

/// The Store's NetworkPolicy, named like its other objects; `None` unless
/// `spec.networkPolicy.enabled`. The database rule needs the URL's host
/// (`found.database_endpoint`); without it (Secret unread or unparsable)
/// the policy allows no database traffic, and the store says so by failing
/// its readiness.
pub fn network_policy(
    store: &ResolvedStore,
    config: &OperatorConfig,
    found: &Dereferenced,
) -> Option<NetworkPolicy> {
    if !store.network_policy {
        return None;
    }
    let namespace = store.id.namespace.as_str();
    let http = NetworkPolicyPort {
        protocol: Some("TCP".into()),
        port: Some(IntOrString::String(service::HTTP_PORT_NAME.into())),
        end_port: None,
    };
    let own_namespace = NetworkPolicyPeer {
        pod_selector: Some(LabelSelector::default()),
        ..NetworkPolicyPeer::default()
    };
    let prometheus = namespace_peer(
        &config.prometheus_namespace,
        Some(config.prometheus_pod_labels.clone()),
    );
    let mut egress = vec![dns()];
    if matches!(store.database, Database::Postgres(_)) {
        egress.extend(
            found
                .database_endpoint
                .as_ref()
                .map(|e| e.egress(namespace)),
        );
    }
    egress.extend(
        (store.telemetry.otlp_endpoint.as_deref())
            .and_then(|url| Endpoint::from_url(url, 4317))
            .map(|e| e.egress(namespace)),
    );
    Some(NetworkPolicy {
        metadata: store.id.object_meta(&store.id.object_name),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(store.id.selector()),
            policy_types: Some(vec!["Ingress".into(), "Egress".into()]),
            ingress: Some(vec![NetworkPolicyIngressRule {
                from: Some(vec![own_namespace, prometheus]),
                ports: Some(vec![http]),
            }]),
            egress: Some(egress),
        }),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::api::{NetworkPolicySettings, Store};
    use crate::reconcile::identity::Identity;
    use crate::reconcile::resolve::resolve;

    fn enabled(mut store: Store) -> Store {
        store.spec.network_policy = Some(NetworkPolicySettings { enabled: true });
        store
    }

    fn spec_of(store: &Store, config: &OperatorConfig, found: &Dereferenced) -> Value {
        let policy =
            network_policy(&resolve(store, config).unwrap(), config, found).expect("a policy");
        serde_json::to_value(policy.spec).unwrap()
    }

    fn in_namespace(ns: &str) -> Value {
        json!([{"namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: ns}}}])
    }

    #[test]
    fn none_unless_enabled() {
        let found = Dereferenced::default();
        let config = OperatorConfig::default();
        assert_eq!(
            network_policy(&Store::test().resolved(), &config, &found),
            None
        );
        let mut off = Store::test();
        off.spec.network_policy = Some(NetworkPolicySettings { enabled: false });
        assert_eq!(network_policy(&off.resolved(), &config, &found), None);
    }

    #[test]
    fn only_the_namespace_and_prometheus_get_in_and_only_dns_gets_out_of_an_embedded_store() {
        let store = enabled(Store::test());
        let spec = spec_of(&store, &OperatorConfig::default(), &Dereferenced::default());
        assert_eq!(
            spec["podSelector"],
            serde_json::to_value(Identity::of(&store).selector()).unwrap()
        );
        assert_eq!(spec["policyTypes"], json!(["Ingress", "Egress"]));
        assert_eq!(
            spec["ingress"],
            json!([{
                "from": [
                    {"podSelector": {}},
                    {"namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: "monitoring"}},
                     "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}}}
                ],
                "ports": [{"port": "http", "protocol": "TCP"}]
            }])
        );
        assert_eq!(
            spec["egress"],
            json!([{
                "to": [{"namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: "kube-system"}},
                        "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
                "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]
            }])
        );
    }

    #[test]
    fn prometheus_is_the_one_the_operator_is_configured_with() {
        let config = OperatorConfig {
            prometheus_namespace: "obs".into(),
            prometheus_pod_labels: BTreeMap::from([("app".into(), "prom".into())]),
            ..OperatorConfig::default()
        };
        let spec = spec_of(&enabled(Store::test()), &config, &Dereferenced::default());
        assert_eq!(
            spec["ingress"][0]["from"][1],
            json!({"namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: "obs"}},
                   "podSelector": {"matchLabels": {"app": "prom"}}})
        );
    }

    #[test]
    fn the_database_and_the_otlp_endpoint_are_let_out_by_where_they_are() {
        let cases = [
            // A Service in the store's namespace, in another, by its full name.
            ("postgres://u:p@pg/db", in_namespace("shop"), Value::Null),
            (
                "postgres://u:p@pg.data:6432/db",
                in_namespace("data"),
                Value::Null,
            ),
            (
                "postgres://u:p@pg.data.svc.cluster.local./db",
                in_namespace("data"),
                Value::Null,
            ),
            // An address: itself, on its port (5432 when the URL names none).
            (
                "postgres://u:p@10.1.2.3/db",
                json!([{"ipBlock": {"cidr": "10.1.2.3/32"}}]),
                json!([{"port": 5432, "protocol": "TCP"}]),
            ),
            (
                "postgres://u:p@[fd00::1]:5433/db",
                json!([{"ipBlock": {"cidr": "fd00::1/128"}}]),
                json!([{"port": 5433, "protocol": "TCP"}]),
            ),
            // A name outside the cluster: its port, anywhere.
            (
                "postgres://u:p@db.example.com/db",
                Value::Null,
                json!([{"port": 5432, "protocol": "TCP"}]),
            ),
        ];
        for (url, to, ports) in cases {
            let found = Dereferenced {
                database_endpoint: Endpoint::from_url(url, POSTGRES_PORT),
                ..Dereferenced::default()
            };
            let spec = spec_of(
                &enabled(Store::test().with_postgres()),
                &OperatorConfig::default(),
                &found,
            );
            let rule = &spec["egress"][1];
            assert_eq!((&rule["to"], &rule["ports"]), (&to, &ports), "{url}");
        }

        let config = OperatorConfig {
            default_otlp_endpoint: Some("http://otel-collector.monitoring:4317".into()),
            ..OperatorConfig::default()
        };
        let spec = spec_of(&enabled(Store::test()), &config, &Dereferenced::default());
        assert_eq!(spec["egress"][1]["to"], in_namespace("monitoring"));
        let own = enabled(Store::test().with_otlp_endpoint("https://otlp.vendor.example"));
        let spec = spec_of(&own, &config, &Dereferenced::default());
        assert_eq!(
            spec["egress"][1]["ports"],
            json!([{"port": 443, "protocol": "TCP"}])
        );
    }

    #[test]
    fn an_embedded_store_gets_no_database_rule_even_with_a_stale_endpoint() {
        let found = Dereferenced {
            database_endpoint: Endpoint::from_url("postgres://pg/db", POSTGRES_PORT),
            ..Dereferenced::default()
        };
        let spec = spec_of(&enabled(Store::test()), &OperatorConfig::default(), &found);
        assert_eq!(spec["egress"].as_array().unwrap().len(), 1, "{spec}");
    }
}
