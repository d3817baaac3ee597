//! The environment of the store-service container: the contract of
//! `storeops_contract::env`, filled from the resolved Store (the operator's
//! defaults already applied).

use k8s_openapi::api::core::v1::{EnvVar, EnvVarSource, ObjectFieldSelector, SecretKeySelector};
use storeops_contract::{env, resource};

use crate::reconcile::resolve::{Database, ResolvedStore};

/// Downward-API variable with the pod's name (referenced as `$(POD_NAME)`).
pub const POD_NAME: &str = "POD_NAME";
/// Downward-API variable with the pod's namespace.
pub const POD_NAMESPACE: &str = "POD_NAMESPACE";
/// Port the store-service listens on.
pub const CONTAINER_PORT: i32 = 8080;
/// Mount of the embedded database's volume.
pub const DATA_DIR: &str = "/data";
/// Mount of the catalog.
pub const CATALOG_DIR: &str = "/etc/store";
/// Mount of the admin token.
pub const ADMIN_DIR: &str = "/etc/store-admin";

/// `service.version`: the image's tag, `latest` without one.
pub fn image_version(image: &str) -> &str {
    let name = image.split('@').next().unwrap_or(image);
    let last = name.rsplit('/').next().unwrap_or(name);
    match last.split_once(':') {
        Some((_, tag)) if !tag.is_empty() => tag,
        _ => "latest",
    }
}

fn value(name: &str, value: impl Into<String>) -> EnvVar {
    EnvVar {
        name: name.into(),
        value: Some(value.into()),
        value_from: None,
    }
}

fn field(name: &str, path: &str) -> EnvVar {
    EnvVar {
        name: name.into(),
        value: None,
        value_from: Some(EnvVarSource {
            field_ref: Some(ObjectFieldSelector {
                field_path: path.into(),
                api_version: None,
            }),
            ..EnvVarSource::default()
        }),
    }
}

/// The container's environment. The downward-API variables come first so
/// later values can reference them.
pub fn environment(store: &ResolvedStore) -> Vec<EnvVar> {
    let id = store.id.store_id.as_str();
    let attributes = [
        (resource::STORE_ID, id),
        (resource::SERVICE_VERSION, image_version(&store.image)),
        (resource::SERVICE_INSTANCE_ID, "$(POD_NAME)"),
        (resource::K8S_NAMESPACE_NAME, "$(POD_NAMESPACE)"),
        (resource::K8S_POD_NAME, "$(POD_NAME)"),
    ]
    .map(|(k, v)| format!("{k}={v}"))
    .join(",");

    let mut vars = vec![
        field(POD_NAME, "metadata.name"),
        field(POD_NAMESPACE, "metadata.namespace"),
        value(env::STORE_ID, id),
        value(env::PORT, CONTAINER_PORT.to_string()),
        value(env::CURRENCY, &store.currency),
        value(env::LOG_LEVEL, store.telemetry.log_level.as_str()),
        database_url(store),
    ];
    if let Some(src) = &store.catalog {
        vars.push(value(
            env::CATALOG_FILE,
            format!("{CATALOG_DIR}/{}", src.key),
        ));
    }
    vars.push(value(
        env::ADMIN_TOKEN_FILE,
        format!("{ADMIN_DIR}/{}", super::secret::TOKEN_KEY),
    ));
    vars.push(value(env::OTEL_SERVICE_NAME, resource::STORE_SERVICE_NAME));
    vars.push(value(env::OTEL_RESOURCE_ATTRIBUTES, attributes));
    if let Some(endpoint) = &store.telemetry.otlp_endpoint {
        vars.push(value(env::OTEL_EXPORTER_OTLP_ENDPOINT, endpoint));
    }
    vars.push(value(env::OTEL_EXPORTER_OTLP_PROTOCOL, "grpc"));
    vars.push(value(env::OTEL_TRACES_SAMPLER, "parentbased_traceidratio"));
    vars.push(value(
        env::OTEL_TRACES_SAMPLER_ARG,
        store.telemetry.trace_sample_ratio.to_string(),
    ));
    vars
}

/// SQLite on the volume, or the URL from the user's Secret.
fn database_url(store: &ResolvedStore) -> EnvVar {
    match &store.database {
        Database::Postgres(secret) => EnvVar {
            name: env::DATABASE_URL.into(),
            value: None,
            value_from: Some(EnvVarSource {
                secret_key_ref: Some(SecretKeySelector {
                    name: secret.name.clone(),
                    key: secret.key.clone(),
                    optional: Some(false),
                }),
                ..EnvVarSource::default()
            }),
        },
        Database::Embedded { .. } => {
            value(env::DATABASE_URL, format!("sqlite://{DATA_DIR}/store.db"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Store;
    use crate::config::OperatorConfig;
    use crate::reconcile::resolve::resolve;

    fn env_of(store: &Store, config: &OperatorConfig) -> Vec<(String, String)> {
        environment(&resolve(store, config).unwrap())
            .into_iter()
            .map(|v| {
                let shown = v
                    .value
                    .unwrap_or_else(|| format!("{:?}", v.value_from.unwrap()));
                (v.name, shown)
            })
            .collect()
    }

    fn get(vars: &[(String, String)], name: &str) -> Option<String> {
        vars.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone())
    }

    #[test]
    fn the_store_service_gets_its_id_telemetry_and_files() {
        let store = Store::test()
            .with_store_id("alpha_store")
            .with_image("reg:5000/s/store:1.2.3");
        let vars = env_of(&store, &OperatorConfig::default());
        let v = |n| get(&vars, n);
        assert_eq!(v("STORE_ID").as_deref(), Some("alpha_store"));
        assert_eq!(v("OTEL_SERVICE_NAME").as_deref(), Some("store-service"));
        assert_eq!(
            v("OTEL_RESOURCE_ATTRIBUTES").as_deref(),
            Some(
                "store.id=alpha_store,service.version=1.2.3,service.instance.id=$(POD_NAME),\
                 k8s.namespace.name=$(POD_NAMESPACE),k8s.pod.name=$(POD_NAME)"
            )
        );
        assert_eq!(v("OTEL_EXPORTER_OTLP_ENDPOINT"), None);
        assert_eq!(v("OTEL_EXPORTER_OTLP_PROTOCOL").as_deref(), Some("grpc"));
        assert_eq!(
            v("OTEL_TRACES_SAMPLER").as_deref(),
            Some("parentbased_traceidratio")
        );
        assert_eq!(v("OTEL_TRACES_SAMPLER_ARG").as_deref(), Some("1"));
        assert_eq!(v("LOG_LEVEL").as_deref(), Some("info"));
        assert_eq!(v("CURRENCY").as_deref(), Some("USD"));
        assert_eq!(v("PORT").as_deref(), Some("8080"));
        assert_eq!(
            v("DATABASE_URL").as_deref(),
            Some("sqlite:///data/store.db")
        );
        assert_eq!(v("CATALOG_FILE"), None);
        assert_eq!(
            v("ADMIN_TOKEN_FILE").as_deref(),
            Some("/etc/store-admin/token")
        );
    }

    #[test]
    fn pod_name_and_namespace_come_before_their_references() {
        let names: Vec<String> = env_of(&Store::test(), &OperatorConfig::default())
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        let at = |n: &str| names.iter().position(|x| x == n).unwrap();
        assert!(at(POD_NAME) < at("OTEL_RESOURCE_ATTRIBUTES"));
        assert!(at(POD_NAMESPACE) < at("OTEL_RESOURCE_ATTRIBUTES"));
        let pod_name = &environment(&Store::test().resolved())[0];
        let field = pod_name
            .value_from
            .as_ref()
            .unwrap()
            .field_ref
            .as_ref()
            .unwrap();
        assert_eq!(field.field_path, "metadata.name");
    }

    #[test]
    fn the_store_endpoint_overrides_the_operator_default() {
        let config = OperatorConfig {
            default_otlp_endpoint: Some("http://collector:4317".into()),
            ..OperatorConfig::default()
        };
        let endpoint = |s: &Store| get(&env_of(s, &config), "OTEL_EXPORTER_OTLP_ENDPOINT");
        assert_eq!(
            endpoint(&Store::test()).as_deref(),
            Some("http://collector:4317")
        );
        let own = Store::test().with_otlp_endpoint("http://mine:4317");
        assert_eq!(endpoint(&own).as_deref(), Some("http://mine:4317"));
    }

    #[test]
    fn postgres_url_comes_from_the_secret_and_catalogs_from_their_key() {
        let store = Store::test().with_postgres().with_catalog_ref();
        let vars = environment(&store.resolved());
        let db = vars.iter().find(|v| v.name == "DATABASE_URL").unwrap();
        let key = db
            .value_from
            .as_ref()
            .unwrap()
            .secret_key_ref
            .as_ref()
            .unwrap();
        assert_eq!(
            (key.name.as_str(), key.key.as_str()),
            testenv::fixtures::POSTGRES_SECRET
        );
        assert_eq!(db.value, None);
        let vars = env_of(&store, &OperatorConfig::default());
        assert_eq!(
            get(&vars, "CATALOG_FILE").as_deref(),
            Some("/etc/store/products.yaml")
        );
        let inline = env_of(
            &Store::test().with_inline_catalog(),
            &OperatorConfig::default(),
        );
        assert_eq!(
            get(&inline, "CATALOG_FILE").as_deref(),
            Some("/etc/store/catalog.json")
        );
    }

    #[test]
    fn the_version_is_the_image_tag() {
        assert_eq!(image_version("storeops/store-service:0.1.0"), "0.1.0");
        assert_eq!(image_version("localhost:5000/store-service"), "latest");
        assert_eq!(image_version("store-service:1.0@sha256:abc"), "1.0");
        assert_eq!(image_version("store-service"), "latest");
    }
}
