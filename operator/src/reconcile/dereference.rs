//! The dereference step: read what the Store points at. Missing pieces are
//! problems (conditions), not errors: the Store is applied anyway and the
//! pods start once the piece appears.

use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::{Api, Client};

use storeops_contract::catalog;

use super::Error;
use super::build::network_policy::{Endpoint, POSTGRES_PORT};
use super::build::{Dereferenced, secret};
use super::identity::Identity;
use super::status::{Problem, Reason};
use crate::api::Store;

/// Reason of a referenced catalog the store-service would refuse
/// ([`storeops_contract::catalog::parse`]): the Deployment is held back.
pub const REASON_CATALOG_INVALID: Reason = Reason::CatalogInvalid;

/// What the cluster holds for a Store.
#[derive(Debug, Default)]
pub struct Found {
    /// What the build step needs from the cluster.
    pub dereferenced: Dereferenced,
    /// Missing references, reported as conditions.
    pub problems: Vec<Problem>,
    /// monitoring.coreos.com/v1 serves ServiceMonitors (the process's
    /// poller's last answer, [`crate::discovery::MonitoringCrds`]).
    pub monitoring_crds: bool,
}

impl Found {
    /// Whether the pods' template must not change: the catalog they would
    /// read is one the store-service refuses at start (a crash loop).
    pub fn holds_deployment(&self) -> bool {
        self.problems
            .iter()
            .any(|p| p.reason == REASON_CATALOG_INVALID)
    }
}

/// Reads the admin Secret, the catalog ConfigMap and the database Secret the
/// Store refers to (`monitoring_crds` is left for the caller to fill in).
pub async fn dereference(client: &Client, store: &Store, namespace: &str) -> Result<Found, Error> {
    let secrets: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
    let mut found = Found::default();

    let admin = Identity::of(store).admin_secret_name;
    found.dereferenced.admin_token = get(&secrets, &admin)
        .await?
        .as_ref()
        .and_then(secret::token_of);

    if let Some(r) = store
        .spec
        .catalog
        .as_ref()
        .and_then(|c| c.config_map_ref.as_ref())
    {
        match get(&config_maps, &r.name).await? {
            None => found.problems.push(Problem {
                reason: Reason::CatalogConfigMapMissing,
                message: format!("catalog ConfigMap {namespace}/{} not found", r.name),
            }),
            Some(cm) => match cm.data.as_ref().and_then(|d| d.get(&r.key)) {
                Some(text) => match catalog::parse(text) {
                    Ok(_) => found.dereferenced.catalog = Some(text.clone()),
                    Err(e) => found.problems.push(Problem {
                        reason: REASON_CATALOG_INVALID,
                        message: format!(
                            "catalog ConfigMap {namespace}/{} key {:?}: {e}; the store-service would refuse it, so the pods keep their current template until it is fixed",
                            r.name, r.key
                        ),
                    }),
                },
                None => found.problems.push(Problem {
                    reason: Reason::CatalogKeyMissing,
                    message: format!(
                        "catalog ConfigMap {namespace}/{} has no key {:?}",
                        r.name, r.key
                    ),
                }),
            },
        }
    }
    if let Some(pg) = &store.spec.database.postgres {
        let r = &pg.secret_ref;
        match get(&secrets, &r.name).await? {
            None => found.problems.push(Problem {
                reason: Reason::DatabaseSecretMissing,
                message: format!("database Secret {namespace}/{} not found", r.name),
            }),
            Some(s) => match s.data.as_ref().and_then(|d| d.get(&r.key)) {
                None => found.problems.push(Problem {
                    reason: Reason::DatabaseSecretKeyMissing,
                    message: format!(
                        "database Secret {namespace}/{} has no key {:?}",
                        r.name, r.key
                    ),
                }),
                // Only host and port are kept; the URL holds a password.
                Some(url) => {
                    found.dereferenced.database_endpoint = std::str::from_utf8(&url.0)
                        .ok()
                        .and_then(|url| Endpoint::from_url(url.trim(), POSTGRES_PORT));
                }
            },
        }
    }

    Ok(found)
}

async fn get<K>(api: &Api<K>, name: &str) -> Result<Option<K>, Error>
where
    K: kube::Resource<DynamicType = ()> + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    api.get_opt(name)
        .await
        .map_err(|source| Error::Dereference {
            what: format!("{} {name}", K::kind(&())),
            source,
        })
}
