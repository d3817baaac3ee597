//! The store domain: products, money, purchases and their rules.
//! No HTTP and no SQL here.

use storeops_contract::catalog;

/// Largest quantity one purchase may ask for; more is a typo or an attack.
pub const MAX_PURCHASE_QUANTITY: i64 = 1_000;
/// Largest stock a restock may set (the catalog's limit).
pub const MAX_STOCK: i64 = catalog::MAX_STOCK;
/// Longest product name, category or search term accepted, in characters.
pub const MAX_NAME_LEN: usize = catalog::MAX_NAME_CHARS;

/// An amount of money in minor units (cents), so sums are exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Money(pub i64);

impl Money {
    /// Parses a decimal price such as `19.99`: 0 to the catalog's largest
    /// price, at most two decimals (the rule the Store's CRD applies).
    pub fn from_decimal(value: f64) -> Result<Self, DomainError> {
        catalog::price_cents(value)
            .map(Money)
            .ok_or(DomainError::InvalidPrice(value))
    }

    /// The amount in currency units, for JSON and metrics.
    pub fn as_decimal(self) -> f64 {
        self.0 as f64 / 100.0
    }

    /// `self * quantity`, or an error when it would overflow.
    pub fn times(self, quantity: i64) -> Result<Self, DomainError> {
        self.0
            .checked_mul(quantity)
            .map(Money)
            .ok_or(DomainError::InvalidQuantity(quantity))
    }
}

/// A product of the store's catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub name: String,
    pub category: String,
    pub price: Money,
    pub stock: i64,
    /// Rises with every stock change: orders concurrent updates of the gauge.
    pub version: i64,
}

/// Parses a catalog: a JSON or YAML list of products with unique names,
/// under the same rules the Store's CRD and the operator apply
/// ([`storeops_contract::catalog`]). The error names the product and field.
pub fn parse_catalog(text: &str) -> Result<Vec<Product>, DomainError> {
    let entries = catalog::parse(text).map_err(|e| DomainError::InvalidCatalog(e.to_string()))?;
    Ok(entries.into_iter().map(product_of).collect())
}

/// A checked catalog entry as a product (its price already known exact).
fn product_of(entry: catalog::Product) -> Product {
    Product {
        price: Money(catalog::price_cents(entry.price).unwrap_or_default()),
        stock: entry.stock,
        version: 0,
        name: entry.name,
        category: entry.category,
    }
}

/// The outcome of a successful purchase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Purchase {
    pub id: String,
    pub product: Product,
    pub quantity: i64,
    pub total: Money,
}

/// Checks a purchase quantity.
pub fn validate_quantity(quantity: i64) -> Result<i64, DomainError> {
    if (1..=MAX_PURCHASE_QUANTITY).contains(&quantity) {
        Ok(quantity)
    } else {
        Err(DomainError::InvalidQuantity(quantity))
    }
}

/// Checks a stock level.
pub fn validate_stock(stock: i64) -> Result<i64, DomainError> {
    if (0..=MAX_STOCK).contains(&stock) {
        Ok(stock)
    } else {
        Err(DomainError::InvalidStock(stock))
    }
}

/// Checks a product name or category.
pub fn validate_name(name: &str) -> Result<(), DomainError> {
    if catalog::name_is_valid(name) {
        Ok(())
    } else {
        Err(DomainError::InvalidName)
    }
}

/// What can go wrong in the domain, each with a stable code.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum DomainError {
    #[error("quantity must be an integer from 1 to {MAX_PURCHASE_QUANTITY}, got {0}")]
    InvalidQuantity(i64),
    #[error("stock must be an integer from 0 to {MAX_STOCK}, got {0}")]
    InvalidStock(i64),
    #[error("price must be a non-negative amount with at most two decimals, got {0}")]
    InvalidPrice(f64),
    #[error("names must be 1 to {MAX_NAME_LEN} characters without control characters")]
    InvalidName,
    #[error("catalog is invalid: {0}")]
    InvalidCatalog(String),
    #[error("product not found")]
    ProductNotFound,
    #[error("insufficient stock: {available} available, {requested} requested")]
    InsufficientStock { available: i64, requested: i64 },
}

impl DomainError {
    /// The stable code clients and metrics see.
    pub fn code(&self) -> &'static str {
        match self {
            DomainError::InvalidQuantity(_) => "invalid_quantity",
            DomainError::InvalidStock(_) => "invalid_stock",
            DomainError::InvalidPrice(_) => "invalid_price",
            DomainError::InvalidName => "invalid_name",
            DomainError::InvalidCatalog(_) => "invalid_catalog",
            DomainError::ProductNotFound => "product_not_found",
            DomainError::InsufficientStock { .. } => "insufficient_stock",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_become_exact_cents() {
        assert_eq!(Money::from_decimal(19.99), Ok(Money(1999)));
        assert_eq!(Money::from_decimal(0.0), Ok(Money(0)));
        assert_eq!(Money(1999).times(3), Ok(Money(5997)));
        assert_eq!(Money(5997).as_decimal(), 59.97);
    }

    #[test]
    fn prices_with_three_decimals_or_negative_are_refused() {
        assert!(Money::from_decimal(1.999).is_err());
        assert!(Money::from_decimal(-1.0).is_err());
        assert!(Money::from_decimal(f64::NAN).is_err());
    }

    #[test]
    fn quantities_outside_one_to_max_are_refused() {
        assert_eq!(validate_quantity(1), Ok(1));
        assert_eq!(validate_quantity(MAX_PURCHASE_QUANTITY), Ok(1000));
        assert!(validate_quantity(0).is_err());
        assert!(validate_quantity(-3).is_err());
        assert!(validate_quantity(MAX_PURCHASE_QUANTITY + 1).is_err());
    }

    #[test]
    fn catalog_reads_json_and_yaml() {
        let json = r#"[{"name":"apple","category":"fruit","price":0.5,"stock":10}]"#;
        let yaml = "- name: apple\n  category: fruit\n  price: 0.5\n  stock: 10\n";
        let expected = vec![Product {
            name: "apple".into(),
            category: "fruit".into(),
            price: Money(50),
            stock: 10,
            version: 0,
        }];
        assert_eq!(parse_catalog(json).unwrap(), expected);
        assert_eq!(parse_catalog(yaml).unwrap(), expected);
    }

    /// The shared table: the service starts with exactly the products the
    /// Store's CRD admits.
    #[test]
    fn the_shared_catalog_table_is_what_the_service_accepts() {
        for (what, product, refused) in catalog::cases() {
            let text = serde_json::to_string(&[&product]).unwrap();
            let got = parse_catalog(&text);
            assert_eq!(got.is_ok(), refused.is_none(), "{what}: {got:?}");
            if let (Err(e), Some(field)) = (got, refused) {
                assert!(e.to_string().contains(field.as_str()), "{what}: {e}");
            }
        }
    }

    #[test]
    fn catalog_with_duplicates_or_bad_values_is_refused() {
        let dup = "- {name: a, category: c, price: 1, stock: 1}\n- {name: a, category: c, price: 1, stock: 1}";
        assert!(matches!(
            parse_catalog(dup),
            Err(DomainError::InvalidCatalog(m)) if m.contains("twice")
        ));
        let negative = "- {name: a, category: c, price: 1, stock: -1}";
        assert!(matches!(
            parse_catalog(negative),
            Err(DomainError::InvalidCatalog(m)) if m.contains("stock")
        ));
        let unknown = "- {name: a, category: c, price: 1, stock: 1, colour: red}";
        assert!(parse_catalog(unknown).is_err());
    }
}
