//! `spec.catalog`: the products that seed a store's database.

use kube::KubeSchema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// CEL: a catalog is inline or referenced, never both.
pub const RULE_CATALOG_EXACTLY_ONE: &str = "has(self.products) != has(self.configMapRef)";
/// Message of [`RULE_CATALOG_EXACTLY_ONE`].
pub const MSG_CATALOG_EXACTLY_ONE: &str =
    "spec.catalog must set exactly one of products or configMapRef";
/// Most products an inline catalog may list.
pub const MAX_PRODUCTS: usize = 1000;
/// Longest product name or category (the store-service's limit).
pub const MAX_PRODUCT_NAME_LEN: usize = 128;
/// Largest stock of one product (the store-service's limit).
pub const MAX_STOCK: i64 = 1_000_000_000;

/// The store's products: listed inline, or read from a key of a ConfigMap in
/// the Store's namespace. Exactly one of products or configMapRef.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[x_kube(validation = Rule::new(RULE_CATALOG_EXACTLY_ONE).message(MSG_CATALOG_EXACTLY_ONE))]
#[serde(rename_all = "camelCase")]
pub struct Catalog {
    /// Products listed inline; names are unique.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = MAX_PRODUCTS))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["name".into()]))]
    pub products: Option<Vec<Product>>,

    /// A ConfigMap key holding a JSON or YAML list of products, in the same
    /// shape as products.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map_ref: Option<ConfigMapKeyRef>,
}

/// A product of the catalog.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Product {
    /// Product name, unique in the store, e.g. "espresso-beans".
    #[schemars(length(min = 1, max = MAX_PRODUCT_NAME_LEN))]
    pub name: String,
    /// Product category, e.g. "grocery".
    #[schemars(length(min = 1, max = MAX_PRODUCT_NAME_LEN))]
    pub category: String,
    /// Unit price in the store's currency, at most two decimals.
    #[schemars(range(min = 0.0))]
    pub price: f64,
    /// Units in stock when the database is first seeded.
    #[schemars(range(min = 0, max = MAX_STOCK))]
    pub stock: i64,
}

/// A key of a ConfigMap in the Store's namespace.
#[derive(JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ConfigMapKeyRef {
    /// Name of the ConfigMap.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Key of the ConfigMap holding the product list.
    #[serde(default = "default_catalog_key")]
    #[schemars(regex(pattern = r"^[-._a-zA-Z0-9]+$"), length(max = 253))]
    pub key: String,
}

fn default_catalog_key() -> String {
    "catalog.yaml".to_string()
}
