//! The store domain: products, money, purchases and their rules.
//! No HTTP and no SQL here.

use serde::{Deserialize, Serialize};

/// Largest quantity one purchase may ask for; more is a typo or an attack.
pub const MAX_PURCHASE_QUANTITY: i64 = 1_000;
/// Largest stock a restock may set.
pub const MAX_STOCK: i64 = 1_000_000_000;
/// Longest product name, category or search term accepted.
pub const MAX_NAME_LEN: usize = 128;

/// An amount of money in minor units (cents), so sums are exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Money(pub i64);

impl Money {
    /// Parses a decimal price such as `19.99`; at most two decimals.
    pub fn from_decimal(value: f64) -> Result<Self, DomainError> {
        let cents = (value * 100.0).round();
        if !value.is_finite() || value < 0.0 || (cents - value * 100.0).abs() > 1e-6 {
            return Err(DomainError::InvalidPrice(value));
        }
        if cents > i64::MAX as f64 / 2.0 {
            return Err(DomainError::InvalidPrice(value));
        }
        Ok(Money(cents as i64))
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

/// A product as written in a catalog file (price in currency units).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CatalogEntry {
    pub name: String,
    pub category: String,
    pub price: f64,
    pub stock: i64,
}

impl CatalogEntry {
    /// Validates the entry and turns it into a product.
    pub fn into_product(self) -> Result<Product, DomainError> {
        validate_name(&self.name)?;
        validate_name(&self.category)?;
        Ok(Product {
            price: Money::from_decimal(self.price)?,
            stock: validate_stock(self.stock)?,
            version: 0,
            name: self.name,
            category: self.category,
        })
    }
}

/// Parses a catalog: a JSON or YAML list of products with unique names.
pub fn parse_catalog(text: &str) -> Result<Vec<Product>, DomainError> {
    // YAML is a superset of JSON, so one parser reads both.
    let entries: Vec<CatalogEntry> =
        serde_yaml_ng::from_str(text).map_err(|e| DomainError::InvalidCatalog(e.to_string()))?;
    let mut seen = std::collections::HashSet::new();
    entries
        .into_iter()
        .map(|entry| {
            if !seen.insert(entry.name.clone()) {
                return Err(DomainError::InvalidCatalog(format!(
                    "product {:?} is listed twice",
                    entry.name
                )));
            }
            entry.into_product()
        })
        .collect()
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
    if name.is_empty() || name.len() > MAX_NAME_LEN || name.chars().any(char::is_control) {
        return Err(DomainError::InvalidName);
    }
    Ok(())
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

    #[test]
    fn catalog_with_duplicates_or_bad_values_is_refused() {
        let dup = "- {name: a, category: c, price: 1, stock: 1}\n- {name: a, category: c, price: 1, stock: 1}";
        assert!(matches!(
            parse_catalog(dup),
            Err(DomainError::InvalidCatalog(m)) if m.contains("twice")
        ));
        let negative = "- {name: a, category: c, price: 1, stock: -1}";
        assert_eq!(parse_catalog(negative), Err(DomainError::InvalidStock(-1)));
        let unknown = "- {name: a, category: c, price: 1, stock: 1, colour: red}";
        assert!(parse_catalog(unknown).is_err());
    }
}
