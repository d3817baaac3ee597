//! `spec.catalog`: the products that seed a store's database.

use kube::KubeSchema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use storeops_contract::catalog;

/// CEL: a catalog is inline or referenced, never both.
pub const RULE_CATALOG_EXACTLY_ONE: &str = "has(self.products) != has(self.configMapRef)";
/// Message of [`RULE_CATALOG_EXACTLY_ONE`].
pub const MSG_CATALOG_EXACTLY_ONE: &str =
    "spec.catalog must set exactly one of products or configMapRef";
/// Most products an inline catalog may list: 100 products with the longest
/// names still fit `kubectl apply`'s 262,144-byte last-applied annotation
/// (a test applies that edge). Larger catalogs go in a ConfigMap.
pub const MAX_PRODUCTS: usize = 100;
/// CEL: [`MAX_PRODUCTS`], with a message that points to `configMapRef`
/// (`maxItems` alone would only say "too many").
pub const RULE_MAX_PRODUCTS: &str = "size(self) <= 100";
/// `maxItems` of the inline list: a bound for the API server's CEL cost
/// estimate only, well above [`MAX_PRODUCTS`] (a list that breaks `maxItems`
/// is refused before CEL runs, without [`MSG_MAX_PRODUCTS`]).
pub const MAX_ITEMS: usize = 1000;
/// Message of [`RULE_MAX_PRODUCTS`].
pub const MSG_MAX_PRODUCTS: &str = "spec.catalog.products lists at most 100 products inline; put a larger catalog in a ConfigMap and set spec.catalog.configMapRef (apply a large ConfigMap with kubectl apply --server-side)";
/// Longest product name or category, in characters (the store-service's limit).
pub const MAX_PRODUCT_NAME_LEN: usize = catalog::MAX_NAME_CHARS;
/// Largest stock of one product (the store-service's limit).
pub const MAX_STOCK: i64 = catalog::MAX_STOCK;
/// Largest unit price (the store-service's limit).
pub const MAX_PRICE: f64 = catalog::MAX_PRICE;
/// Message of [`catalog::PRICE_RULE`].
pub const MSG_PRICE_DECIMALS: &str = "spec.catalog.products[].price must have at most two decimals";

/// The store's products: listed inline, or read from a key of a ConfigMap in
/// the Store's namespace. Exactly one of products or configMapRef.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[x_kube(validation = Rule::new(RULE_CATALOG_EXACTLY_ONE).message(MSG_CATALOG_EXACTLY_ONE))]
#[serde(rename_all = "camelCase")]
pub struct Catalog {
    /// Products listed inline; names are unique.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = MAX_ITEMS))]
    #[x_kube(
        merge_strategy = ListMerge::Map(vec!["name".into()]),
        validation = Rule::new(RULE_MAX_PRODUCTS).message(MSG_MAX_PRODUCTS)
    )]
    pub products: Option<Vec<Product>>,

    /// A ConfigMap key holding a JSON or YAML list of products, in the same
    /// shape as products.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map_ref: Option<ConfigMapKeyRef>,
}

/// A product of the catalog: the rules are the store-service's
/// ([`storeops_contract::catalog`]), so an admitted product always seeds.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Product {
    /// Product name, unique in the store, e.g. "espresso-beans": 1 to 128
    /// characters, no control characters.
    #[schemars(length(min = 1, max = MAX_PRODUCT_NAME_LEN), regex(pattern = catalog::NAME_PATTERN))]
    pub name: String,
    /// Product category, e.g. "grocery"; the same rules as the name.
    #[schemars(length(min = 1, max = MAX_PRODUCT_NAME_LEN), regex(pattern = catalog::NAME_PATTERN))]
    pub category: String,
    /// Unit price in the store's currency: 0 to 1000000000, at most two decimals.
    #[schemars(range(min = 0.0, max = MAX_PRICE))]
    #[x_kube(validation = Rule::new(catalog::PRICE_RULE).message(MSG_PRICE_DECIMALS))]
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
