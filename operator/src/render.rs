//! `operator render`: the build step printed as YAML, without a cluster.
//!
//! Reads a YAML stream, builds every `Store` in it with the same builders the
//! reconciler uses, and prints the objects as one multi-document stream, like
//! `helm template`. Other documents are not printed; a ConfigMap among them
//! that a Store's `configMapRef` names feeds its catalog hash, as the
//! dereference step would; so does a database Secret for the
//! NetworkPolicy's egress rule (only its host and port are used).

use std::io::Read;

use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use serde::Deserialize;

use crate::api::Store;
use crate::config::OperatorConfig;
use crate::reconcile::build::network_policy::{Endpoint, POSTGRES_PORT};
use crate::reconcile::build::{self, Dereferenced};

/// What can stop `render`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input could not be read.
    #[error("reading {input}: {source}")]
    Read {
        /// The file, or `-` for stdin.
        input: String,
        /// Why.
        source: std::io::Error,
    },
    /// A document is not YAML, or not a valid Store.
    #[error("parsing document {index} of {input}: {source}")]
    Parse {
        /// The file, or `-`.
        input: String,
        /// 1-based position in the stream.
        index: usize,
        /// Why.
        source: serde_yaml_ng::Error,
    },
    /// No document is a Store.
    #[error("{input} holds no Store (apiVersion storeops.dev/v1alpha1, kind Store)")]
    NoStore {
        /// The file, or `-`.
        input: String,
    },
    /// A Store could not be built.
    #[error("building Store {store:?}: {source}")]
    Build {
        /// The Store's name.
        store: String,
        /// Why.
        source: build::Error,
    },
    /// The ConfigMap a Store's `configMapRef` names (in the same stream)
    /// holds a catalog the store-service would refuse.
    #[error("Store {store:?}: catalog ConfigMap {config_map:?}: {source}")]
    Catalog {
        /// The Store's name.
        store: String,
        /// The ConfigMap's name.
        config_map: String,
        /// The product, field and rule.
        source: storeops_contract::catalog::CatalogError,
    },
    /// An object could not be written as YAML.
    #[error("writing {kind} {name} as YAML: {source}")]
    Write {
        /// Its kind.
        kind: &'static str,
        /// Its name.
        name: String,
        /// Why.
        source: serde_yaml_ng::Error,
    },
}

/// Reads a file, or stdin for `-`.
pub fn read_input(input: &str) -> Result<String, Error> {
    let read = |e| Error::Read {
        input: input.to_string(),
        source: e,
    };
    if input == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).map_err(read)?;
        Ok(text)
    } else {
        std::fs::read_to_string(input).map_err(read)
    }
}

/// Renders every Store of a YAML stream. `input` names the stream in errors;
/// `namespace` is used for Stores that name none.
pub fn render(
    text: &str,
    input: &str,
    config: &OperatorConfig,
    namespace: &str,
) -> Result<String, Error> {
    let mut stores = Vec::new();
    let mut config_maps = Vec::new();
    let mut secrets = Vec::new();
    for (i, document) in serde_yaml_ng::Deserializer::from_str(text).enumerate() {
        let parse = |source| Error::Parse {
            input: input.to_string(),
            index: i + 1,
            source,
        };
        let value = serde_yaml_ng::Value::deserialize(document).map_err(parse)?;
        let field = |k: &str| value.get(k).and_then(|v| v.as_str()).unwrap_or_default();
        match (field("apiVersion"), field("kind")) {
            ("storeops.dev/v1alpha1", "Store") => {
                stores.push(serde_yaml_ng::from_value::<Store>(value).map_err(parse)?)
            }
            ("v1", "ConfigMap") => {
                config_maps.push(serde_yaml_ng::from_value(value).map_err(parse)?)
            }
            ("v1", "Secret") => secrets.push(serde_yaml_ng::from_value(value).map_err(parse)?),
            _ => {}
        }
    }
    if stores.is_empty() {
        return Err(Error::NoStore {
            input: input.to_string(),
        });
    }
    let mut out = String::new();
    for mut store in stores {
        let name = store.metadata.name.clone().unwrap_or_default();
        store
            .metadata
            .namespace
            .get_or_insert_with(|| namespace.to_string());
        let catalog = referenced_catalog(&store, &config_maps);
        if let (Some(text), Some(r)) = (&catalog, catalog_ref(&store)) {
            // What the operator checks in the cluster (CatalogInvalid).
            storeops_contract::catalog::parse(text).map_err(|source| Error::Catalog {
                store: name.clone(),
                config_map: r.name.clone(),
                source,
            })?;
        }
        let found = Dereferenced {
            admin_token: None,
            catalog,
            database_endpoint: database_endpoint(&store, &secrets),
        };
        let resolved =
            crate::reconcile::resolve::resolve(&store, config).map_err(|source| Error::Build {
                store: name.clone(),
                source,
            })?;
        let desired = build::build(&resolved, config, &found).map_err(|source| Error::Build {
            store: name.clone(),
            source,
        })?;
        for object in &desired.objects {
            let yaml = serde_yaml_ng::to_string(object).map_err(|source| Error::Write {
                kind: object.kind(),
                name: object.name(),
                source,
            })?;
            out.push_str(&format!(
                "---\n# Source: Store {name}, {}\n{yaml}",
                object.kind()
            ));
        }
        if resolved.alerts {
            out.push_str(&objectives_comment(&name, &resolved.monitored));
        }
    }
    Ok(out)
}

/// The series the operator serves for the Store at its `/metrics` (no
/// object: the fleet's rules read them), as YAML comments.
fn objectives_comment(name: &str, t: &crate::monitoring::rules::Target) -> String {
    let mut out =
        format!("# Store {name}'s objectives, served at the operator's /metrics (no object):\n");
    for e in t.exported() {
        let labels: Vec<String> = e.labels.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
        out.push_str(&format!(
            "#   {}{{{}}} {}\n",
            e.metric,
            labels.join(","),
            e.value
        ));
    }
    out
}

fn catalog_ref(store: &Store) -> Option<&crate::api::ConfigMapKeyRef> {
    store.spec.catalog.as_ref()?.config_map_ref.as_ref()
}

/// The content of the key a Store's `configMapRef` names, when that
/// ConfigMap is in the stream too.
fn referenced_catalog(store: &Store, config_maps: &[ConfigMap]) -> Option<String> {
    let r = catalog_ref(store)?;
    config_maps
        .iter()
        .filter(|cm| cm.metadata.name.as_deref() == Some(r.name.as_str()))
        .find_map(|cm| cm.data.as_ref()?.get(&r.key).cloned())
}

/// Host and port of the database URL, when its Secret is in the stream too
/// (`data` or `stringData`).
fn database_endpoint(store: &Store, secrets: &[Secret]) -> Option<Endpoint> {
    let r = &store.spec.database.postgres.as_ref()?.secret_ref;
    let secret = secrets
        .iter()
        .find(|s| s.metadata.name.as_deref() == Some(r.name.as_str()))?;
    let url = match secret.string_data.as_ref().and_then(|d| d.get(&r.key)) {
        Some(text) => text.clone(),
        None => String::from_utf8(secret.data.as_ref()?.get(&r.key)?.0.clone()).ok()?,
    };
    Endpoint::from_url(url.trim(), POSTGRES_PORT)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconcile::kinds::{self, *};

    const STORE: &str =
        "apiVersion: storeops.dev/v1alpha1\nkind: Store\nmetadata:\n  name: gamma\n";
    const EMPTY_SPEC: &str = "spec: {}\n";

    /// The managed-kinds rows of the rendered objects, in the table's order
    /// (the build's own order is tested in `reconcile::build`).
    fn kinds(out: &str) -> Vec<&'static ManagedKind> {
        kinds::in_table_order(serde_yaml_ng::Deserializer::from_str(out).map(|d| {
            let v = serde_yaml_ng::Value::deserialize(d).unwrap();
            let (version, kind) = (v["apiVersion"].as_str(), v["kind"].as_str());
            kinds::of(version.unwrap(), kind.unwrap()).expect("a managed kind")
        }))
    }

    #[test]
    fn a_minimal_store_renders_with_defaults_in_the_given_namespace() {
        let text = format!("{STORE}{EMPTY_SPEC}");
        let out = render(&text, "test", &OperatorConfig::default(), "shop").unwrap();
        assert_eq!(
            kinds(&out),
            [
                &SERVICE_ACCOUNT,
                &SECRET,
                &CONFIG_MAP,
                &PERSISTENT_VOLUME_CLAIM,
                &DEPLOYMENT,
                &SERVICE,
                &SERVICE_MONITOR,
            ]
        );
        assert!(out.contains("namespace: shop"));
        assert!(
            !out.contains("ownerReferences"),
            "a rendered Store has no uid"
        );
        assert!(
            out.contains(r#"#   storeops_store_objective{store_namespace="shop",store_id="gamma",objective="availability_target"} 0.995"#),
            "{out}"
        );
    }

    #[test]
    fn a_database_secret_in_the_stream_gives_the_network_policy_its_database() {
        let store = "apiVersion: storeops.dev/v1alpha1\nkind: Store\nmetadata: {name: gamma}\n\
            spec: {networkPolicy: {enabled: true}, database: {postgres: {secretRef: {name: pg}}}}\n";
        let secret = "---\napiVersion: v1\nkind: Secret\nmetadata: {name: pg}\n\
            stringData: {url: 'postgres://u:p@postgres.data:5432/shop'}\n";
        let policy = |text: &str| {
            let out = render(text, "test", &OperatorConfig::default(), "shop").unwrap();
            serde_yaml_ng::Deserializer::from_str(&out)
                .map(|d| serde_yaml_ng::Value::deserialize(d).unwrap())
                .find(|v| v["kind"] == NETWORK_POLICY.kind)
                .expect("a NetworkPolicy")
        };
        let with = policy(&format!("{store}{secret}"));
        let egress = with["spec"]["egress"].as_sequence().unwrap();
        assert_eq!(egress.len(), 2, "DNS and the database: {with:?}");
        assert_eq!(
            egress[1]["to"][0]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"],
            "data"
        );
        assert!(!format!("{with:?}").contains("u:p"), "no credentials");
        // Without the Secret: DNS only.
        let without = policy(store);
        assert_eq!(without["spec"]["egress"].as_sequence().unwrap().len(), 1);
    }

    #[test]
    fn a_config_map_in_the_stream_feeds_the_catalog_hash() {
        let with_ref = |content: &str| {
            format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: p}}\ndata: {{k: '{content}'}}\n---\n\
                 {STORE}spec:\n  catalog:\n    configMapRef: {{name: p, key: k}}\n"
            )
        };
        let hash = |text: &str| {
            let out = render(text, "t", &OperatorConfig::default(), "default").unwrap();
            let line = out
                .lines()
                .find(|l| l.contains("storeops.dev/catalog-hash"))
                .unwrap();
            line.to_string()
        };
        let product = |name: &str| format!("[{{name: {name}, category: c, price: 1, stock: 1}}]");
        assert_ne!(
            hash(&with_ref(&product("a"))),
            hash(&with_ref(&product("b")))
        );
        // A catalog the store-service would refuse is refused here too.
        let err = render(
            &with_ref("[{name: a, category: c, price: 1.234, stock: 1}]"),
            "t",
            &OperatorConfig::default(),
            "default",
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Store \"gamma\": catalog ConfigMap \"p\": product [0] \"a\": price must be from 0 to 1000000000 with at most two decimals"
        );
    }

    #[test]
    fn errors_name_the_input_and_what_is_wrong() {
        let config = OperatorConfig::default();
        let err = render("kind: ConfigMap\n", "x.yaml", &config, "default").unwrap_err();
        assert_eq!(
            err.to_string(),
            "x.yaml holds no Store (apiVersion storeops.dev/v1alpha1, kind Store)"
        );
        let bad = format!("{STORE}spec:\n  replicas: 2\n");
        let err = render(&bad, "x.yaml", &config, "default").unwrap_err();
        assert!(
            err.to_string().starts_with("building Store \"gamma\": "),
            "{err}"
        );
        assert!(err.to_string().contains("spec.database.postgres"), "{err}");
        let err = render(
            &format!("{STORE}spec: {{replicas: many}}\n"),
            "x.yaml",
            &config,
            "d",
        )
        .unwrap_err();
        assert!(
            err.to_string().starts_with("parsing document 1 of x.yaml"),
            "{err}"
        );
    }
}
