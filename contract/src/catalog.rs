//! One definition of a valid catalog product.
//!
//! The store-service seeds its database from a catalog; the operator writes
//! inline catalogs into a ConfigMap and checks referenced ones; the CRD's
//! schema refuses bad products at admission. All three read their limits and
//! rules from here, so a product the Store admits is a product the service
//! starts with (a tab in a name once passed the CRD and crash-looped the pod).
//! [`CASES`] is the shared table each side is tested against.

use serde::{Deserialize, Serialize};

/// Longest product name or category, in characters (Unicode scalar values),
/// as the API server counts `maxLength`; not bytes.
pub const MAX_NAME_CHARS: usize = 128;
/// Largest stock of one product, in units.
pub const MAX_STOCK: i64 = 1_000_000_000;
/// Largest unit price, in currency units.
pub const MAX_PRICE: f64 = 1_000_000_000.0;
/// Regular expression (RE2 and Rust `regex` alike) of a name without control
/// characters (Unicode general category Cc, what `char::is_control` tests).
pub const NAME_PATTERN: &str = r"^\P{Cc}*$";

/// A product as written in a catalog: a JSON or YAML list of these.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Product {
    /// Unique in the catalog; 1 to [`MAX_NAME_CHARS`] characters, no control characters.
    pub name: String,
    /// Same rules as the name.
    pub category: String,
    /// Unit price in currency units: 0 to [`MAX_PRICE`], at most two decimals.
    pub price: f64,
    /// Units in stock when the database is first seeded: 0 to [`MAX_STOCK`].
    pub stock: i64,
}

/// The field of a product that breaks a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// `name`
    Name,
    /// `category`
    Category,
    /// `price`
    Price,
    /// `stock`
    Stock,
}

impl Field {
    /// The field's name as written in catalogs and in the Store's schema.
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Name => "name",
            Field::Category => "category",
            Field::Price => "price",
            Field::Stock => "stock",
        }
    }
}

/// Why a name or category is refused.
pub const MSG_NAME: &str = "must be 1 to 128 characters without control characters";
/// Why a price is refused.
pub const MSG_PRICE: &str = "must be from 0 to 1000000000 with at most two decimals";
/// Why a stock is refused.
pub const MSG_STOCK: &str = "must be an integer from 0 to 1000000000";

/// One broken rule of one product.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    /// The field.
    pub field: Field,
    /// What is wrong, e.g. [`MSG_PRICE`].
    pub message: &'static str,
}

/// Checks a name or category.
pub fn name_is_valid(name: &str) -> bool {
    let chars = name.chars().count();
    (1..=MAX_NAME_CHARS).contains(&chars) && !name.chars().any(char::is_control)
}

/// The price in cents, or `None` when it is negative, above [`MAX_PRICE`],
/// not finite, or has more than two decimals. The test is the CRD's CEL rule
/// ([`PRICE_RULE`]) written in Rust: cents are `trunc(price * 100 + 0.5)`, and
/// the price is exact when that is within 1e-6 of `price * 100` (so 19.99,
/// whose binary value is 1998.9999999999998 cents, is two decimals).
pub fn price_cents(price: f64) -> Option<i64> {
    if !price.is_finite() || !(0.0..=MAX_PRICE).contains(&price) {
        return None;
    }
    let hundredfold = price * 100.0;
    let cents = (hundredfold + 0.5).trunc();
    ((cents - hundredfold).abs() <= 1e-6).then_some(cents as i64)
}

/// CEL on the price field: at most two decimals (see [`price_cents`]; the
/// range is the schema's `minimum`/`maximum`, checked first so `int()` cannot
/// overflow).
pub const PRICE_RULE: &str = "double(int(self * 100.0 + 0.5)) - self * 100.0 <= 0.000001 && self * 100.0 - double(int(self * 100.0 + 0.5)) <= 0.000001";

/// Every broken rule of one product (empty when it is valid).
pub fn check(product: &Product) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut refuse = |field, message| errors.push(FieldError { field, message });
    if !name_is_valid(&product.name) {
        refuse(Field::Name, MSG_NAME);
    }
    if !name_is_valid(&product.category) {
        refuse(Field::Category, MSG_NAME);
    }
    if price_cents(product.price).is_none() {
        refuse(Field::Price, MSG_PRICE);
    }
    if !(0..=MAX_STOCK).contains(&product.stock) {
        refuse(Field::Stock, MSG_STOCK);
    }
    errors
}

/// A catalog that cannot seed a store, naming the product and field.
#[derive(Debug, Clone, PartialEq)]
pub enum CatalogError {
    /// Not a JSON or YAML list of products (unknown or missing fields included).
    Syntax(String),
    /// A product breaks a rule.
    Product {
        /// Position in the list, from 0.
        index: usize,
        /// The product's name as written.
        name: String,
        /// The field.
        field: Field,
        /// What is wrong.
        message: &'static str,
    },
    /// A name appears twice.
    Duplicate {
        /// Position of the second occurrence, from 0.
        index: usize,
        /// The name.
        name: String,
    },
}

impl std::fmt::Display for CatalogError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CatalogError::Syntax(e) => write!(f, "not a list of products: {e}"),
            CatalogError::Product {
                index,
                name,
                field,
                message,
            } => write!(
                f,
                "product [{index}] {name:?}: {} {message}",
                field.as_str()
            ),
            CatalogError::Duplicate { index, name } => {
                write!(f, "product [{index}] {name:?}: name is listed twice")
            }
        }
    }
}

impl std::error::Error for CatalogError {}

/// Parses a catalog (a JSON list, or YAML) and checks every product. The
/// first broken rule is the error. JSON is read by a JSON parser first: YAML
/// is almost a superset, but refuses characters JSON strings may hold raw
/// (U+FFFE, U+FFFF), which would refuse a catalog the CRD admitted; a YAML
/// flow list (`[{name: a, ...}]`) falls back to the YAML parser.
pub fn parse(text: &str) -> Result<Vec<Product>, CatalogError> {
    let json = text
        .trim_start()
        .starts_with('[')
        .then(|| serde_json::from_str(text).ok())
        .flatten();
    let products: Vec<Product> = match json {
        Some(products) => products,
        None => serde_yaml_ng::from_str(text).map_err(|e| CatalogError::Syntax(e.to_string()))?,
    };
    validate(&products)?;
    Ok(products)
}

/// Checks a parsed list: every product's rules and unique names.
pub fn validate(products: &[Product]) -> Result<(), CatalogError> {
    let mut seen = std::collections::HashSet::new();
    for (index, p) in products.iter().enumerate() {
        if let Some(e) = check(p).into_iter().next() {
            return Err(CatalogError::Product {
                index,
                name: p.name.clone(),
                field: e.field,
                message: e.message,
            });
        }
        if !seen.insert(p.name.as_str()) {
            return Err(CatalogError::Duplicate {
                index,
                name: p.name.clone(),
            });
        }
    }
    Ok(())
}

/// One product of the shared table and the field it breaks (`None`: valid).
pub type Case = (&'static str, Product, Option<Field>);

fn product(name: &str, category: &str, price: f64, stock: i64) -> Product {
    Product {
        name: name.into(),
        category: category.into(),
        price,
        stock,
    }
}

/// The table every side is tested against: the CRD on a real API server, the
/// operator's Rust mirror of it, the referenced-catalog check and the
/// store-service's start-up. Each must accept exactly the valid products.
pub fn cases() -> Vec<Case> {
    let e65 = "é".repeat(65);
    let e128 = "é".repeat(128);
    let e129 = "é".repeat(129);
    vec![
        ("plain", product("apple", "fruit", 0.5, 10), None),
        ("two decimals", product("tea", "drink", 19.99, 1), None),
        ("whole price", product("tea", "drink", 20.0, 0), None),
        ("free", product("tea", "drink", 0.0, 0), None),
        ("largest price", product("tea", "drink", MAX_PRICE, 1), None),
        (
            "largest stock",
            product("tea", "drink", 1.0, MAX_STOCK),
            None,
        ),
        ("65 é (130 bytes)", product(&e65, "drink", 1.0, 1), None),
        ("128 é", product(&e128, &e128, 1.0, 1), None),
        (
            "spaces and unicode",
            product("grüner Tee 緑茶", "drink", 1.0, 1),
            None,
        ),
        (
            "noncharacter",
            product("tea\u{ffff}", "drink", 1.0, 1),
            None,
        ),
        ("129 é", product(&e129, "drink", 1.0, 1), Some(Field::Name)),
        (
            "tab in name",
            product("green\ttea", "drink", 1.0, 1),
            Some(Field::Name),
        ),
        (
            "newline in category",
            product("tea", "dr\nink", 1.0, 1),
            Some(Field::Category),
        ),
        (
            "DEL in name",
            product("tea\u{7f}", "drink", 1.0, 1),
            Some(Field::Name),
        ),
        (
            "C1 control in name",
            product("tea\u{85}", "drink", 1.0, 1),
            Some(Field::Name),
        ),
        (
            "empty name",
            product("", "drink", 1.0, 1),
            Some(Field::Name),
        ),
        (
            "empty category",
            product("tea", "", 1.0, 1),
            Some(Field::Category),
        ),
        (
            "three decimals",
            product("tea", "drink", 1.999, 1),
            Some(Field::Price),
        ),
        (
            "a tenth of a cent",
            product("tea", "drink", 0.001, 1),
            Some(Field::Price),
        ),
        (
            "negative price",
            product("tea", "drink", -1.0, 1),
            Some(Field::Price),
        ),
        (
            "price above the largest",
            product("tea", "drink", MAX_PRICE + 0.01, 1),
            Some(Field::Price),
        ),
        (
            "negative stock",
            product("tea", "drink", 1.0, -1),
            Some(Field::Stock),
        ),
        (
            "stock above the largest",
            product("tea", "drink", 1.0, MAX_STOCK + 1),
            Some(Field::Stock),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_what_check_says() {
        for (what, p, field) in cases() {
            let got = check(&p).first().map(|e| e.field);
            assert_eq!(got, field, "{what}");
        }
    }

    #[test]
    fn prices_become_exact_cents() {
        assert_eq!(price_cents(19.99), Some(1999));
        assert_eq!(price_cents(0.1 + 0.2), Some(30));
        assert_eq!(price_cents(1.005), None);
        assert_eq!(price_cents(f64::NAN), None);
        assert_eq!(price_cents(f64::INFINITY), None);
        assert_eq!(price_cents(MAX_PRICE), Some(100_000_000_000));
    }

    #[test]
    fn a_parse_error_names_the_product_and_field() {
        let text = "- {name: apple, category: fruit, price: 1, stock: 1}\n- {name: \"green\\ttea\", category: drink, price: 1, stock: 1}";
        let e = parse(text).unwrap_err();
        assert_eq!(
            e.to_string(),
            "product [1] \"green\\ttea\": name must be 1 to 128 characters without control characters"
        );
        let dup = "- {name: a, category: c, price: 1, stock: 1}\n- {name: a, category: c, price: 2, stock: 1}";
        assert_eq!(
            parse(dup).unwrap_err(),
            CatalogError::Duplicate {
                index: 1,
                name: "a".into()
            }
        );
        let unknown = "- {name: a, category: c, price: 1, stock: 1, colour: red}";
        assert!(matches!(parse(unknown), Err(CatalogError::Syntax(m)) if m.contains("colour")));
    }

    #[test]
    fn a_yaml_flow_list_is_yaml() {
        let flow = "[{name: a, category: c, price: 1, stock: 1}]";
        assert_eq!(parse(flow).unwrap()[0].name, "a");
    }

    #[test]
    fn json_and_yaml_read_the_same() {
        let json = r#"[{"name":"apple","category":"fruit","price":0.5,"stock":10}]"#;
        let yaml = "- name: apple\n  category: fruit\n  price: 0.5\n  stock: 10\n";
        assert_eq!(parse(json).unwrap(), parse(yaml).unwrap());
    }

    #[test]
    fn messages_state_the_limits() {
        assert!(MSG_NAME.contains(&MAX_NAME_CHARS.to_string()));
        assert!(MSG_PRICE.contains(&(MAX_PRICE as i64).to_string()));
        assert!(MSG_STOCK.contains(&MAX_STOCK.to_string()));
    }

    #[test]
    fn the_name_pattern_is_the_control_character_rule() {
        // The pattern is what the CRD carries; the Rust check must match it.
        assert!(NAME_PATTERN.contains(r"\P{Cc}"));
        for c in ['\t', '\n', '\u{0}', '\u{7f}', '\u{85}', '\u{9f}'] {
            assert!(c.is_control(), "{c:?}");
        }
        for c in ['a', 'é', ' ', '\u{a0}', '\u{200b}'] {
            assert!(!c.is_control(), "{c:?}");
        }
    }
}
