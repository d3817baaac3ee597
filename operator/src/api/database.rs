//! `spec.database`: embedded SQLite on a volume, or an external PostgreSQL.

use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use kube::KubeSchema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// CEL: one database, never two.
pub const RULE_DATABASE_EXACTLY_ONE: &str = "has(self.embedded) != has(self.postgres)";
/// Message of [`RULE_DATABASE_EXACTLY_ONE`].
pub const MSG_DATABASE_EXACTLY_ONE: &str =
    "spec.database must set exactly one of embedded or postgres";
/// CEL: a volume size is a positive quantity.
pub const RULE_SIZE_QUANTITY: &str =
    "isQuantity(string(self)) && quantity(string(self)).isGreaterThan(quantity('0'))";
/// Message of [`RULE_SIZE_QUANTITY`].
pub const MSG_SIZE_QUANTITY: &str =
    "spec.database.embedded.size must be a positive quantity such as 1Gi";

/// Where the store keeps products and sales. Exactly one of embedded or
/// postgres.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[x_kube(validation = Rule::new(RULE_DATABASE_EXACTLY_ONE).message(MSG_DATABASE_EXACTLY_ONE))]
#[serde(rename_all = "camelCase")]
pub struct Database {
    /// SQLite in write-ahead-log mode on a PersistentVolumeClaim owned by the
    /// Store. Allows one replica only; pods are replaced with the Recreate
    /// strategy so two never open the file at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embedded: Option<EmbeddedDatabase>,

    /// An external PostgreSQL database, shared by all replicas.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postgres: Option<PostgresDatabase>,
}

impl Default for Database {
    fn default() -> Self {
        Database {
            embedded: Some(EmbeddedDatabase::default()),
            postgres: None,
        }
    }
}

/// The embedded SQLite database's volume.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EmbeddedDatabase {
    /// Size of the PersistentVolumeClaim, e.g. 1Gi.
    #[serde(default = "default_size")]
    #[schemars(extend("nullable" = false))]
    #[x_kube(validation = Rule::new(RULE_SIZE_QUANTITY).message(MSG_SIZE_QUANTITY))]
    pub size: Quantity,

    /// StorageClass of the PersistentVolumeClaim. Unset: the cluster's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    pub storage_class_name: Option<String>,
}

impl Default for EmbeddedDatabase {
    fn default() -> Self {
        EmbeddedDatabase {
            size: default_size(),
            storage_class_name: None,
        }
    }
}

fn default_size() -> Quantity {
    Quantity("1Gi".to_string())
}

/// An external PostgreSQL database.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PostgresDatabase {
    /// The Secret key holding the connection URL
    /// (postgres://USER:PASSWORD@HOST:PORT/DATABASE).
    pub secret_ref: SecretKeyRef,
}

/// A key of a Secret in the Store's namespace.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SecretKeyRef {
    /// Name of the Secret.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Key of the Secret holding the URL.
    #[serde(default = "default_secret_key")]
    #[schemars(regex(pattern = r"^[-._a-zA-Z0-9]+$"), length(max = 253))]
    pub key: String,
}

fn default_secret_key() -> String {
    "url".to_string()
}
