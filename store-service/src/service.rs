//! The product service: the store's use cases, with their spans, span events,
//! logs and business metrics. HTTP-agnostic.

use opentelemetry::KeyValue;
use storeops_contract::spans;
use tracing::{Instrument, field::Empty};
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::db::{Database, DbError, WriteError};
use crate::domain::{self, DomainError, Product, Purchase};
use crate::telemetry::metrics::AppMetrics;

/// A refusal or a failure of a use case.
pub type ServiceError = WriteError;

#[derive(Clone)]
pub struct ProductService {
    db: Database,
    metrics: AppMetrics,
}

impl ProductService {
    pub fn new(db: Database, metrics: AppMetrics) -> Self {
        ProductService { db, metrics }
    }

    /// Seeds the catalog on the database's first start, then loads the stock gauges.
    pub async fn start(&self, catalog: &[Product]) -> Result<usize, DbError> {
        let seeded = self.db.seed_once(catalog).await?;
        let products = self.db.list_products(None).await?;
        self.metrics.initial_load(&products);
        tracing::info!(seeded, products = products.len(), "catalog loaded");
        Ok(products.len())
    }

    pub async fn list(&self, category: Option<&str>) -> Result<Vec<Product>, ServiceError> {
        if let Some(c) = category {
            domain::validate_name(c)?;
        }
        Ok(self.db.list_products(category).await?)
    }

    pub async fn get(&self, name: &str) -> Result<Product, ServiceError> {
        domain::validate_name(name)?;
        match self.db.get_product(name).await? {
            Some(p) => Ok(p),
            None => Err(self.not_found(name).into()),
        }
    }

    /// One purchase, all or nothing.
    pub async fn buy(&self, name: &str, quantity: i64) -> Result<Purchase, ServiceError> {
        let span = tracing::info_span!(
            "productService.BuyProduct",
            otel.name = spans::BUY_PRODUCT,
            product.name = name,
            product.quantity = quantity,
            { spans::ATTR_APP_ERROR_CODE } = Empty,
            otel.status_code = Empty,
        );
        let result = self.buy_in(name, quantity).instrument(span.clone()).await;
        if let Err(e) = &result {
            span.record(spans::ATTR_APP_ERROR_CODE, error_code(e));
            if matches!(e, WriteError::Db(_)) {
                span.record("otel.status_code", "ERROR");
            }
        }
        result
    }

    async fn buy_in(&self, name: &str, quantity: i64) -> Result<Purchase, ServiceError> {
        domain::validate_name(name)?;
        domain::validate_quantity(quantity)?;
        let span = tracing::Span::current();
        span.add_event(
            spans::EVENT_STOCK_CHECK_START,
            vec![KeyValue::new("product.quantity", quantity)],
        );
        match self.db.buy(name, quantity).await {
            Ok(purchase) => {
                span.add_event(
                    spans::EVENT_STOCK_CHECK_END,
                    vec![KeyValue::new("stock.sufficient", true)],
                );
                span.add_event(
                    spans::EVENT_INVENTORY_UPDATE_END,
                    vec![KeyValue::new("stock.remaining", purchase.product.stock)],
                );
                self.metrics
                    .sale(&purchase.product, quantity, purchase.total);
                tracing::info!(
                    product = %purchase.product.name,
                    quantity,
                    total = purchase.total.as_decimal(),
                    stock_remaining = purchase.product.stock,
                    "purchase completed"
                );
                Ok(purchase)
            }
            Err(WriteError::Domain(DomainError::InsufficientStock {
                available,
                requested,
            })) => {
                span.add_event(
                    spans::EVENT_STOCK_CHECK_END,
                    vec![
                        KeyValue::new("stock.sufficient", false),
                        KeyValue::new("stock.available", available),
                    ],
                );
                let category = self
                    .db
                    .get_product(name)
                    .await?
                    .map(|p| p.category)
                    .unwrap_or_default();
                self.metrics.insufficient_stock(name, &category);
                tracing::warn!(
                    product = name,
                    available,
                    requested,
                    "purchase refused: insufficient stock"
                );
                Err(DomainError::InsufficientStock {
                    available,
                    requested,
                }
                .into())
            }
            Err(WriteError::Domain(DomainError::ProductNotFound)) => {
                Err(self.not_found(name).into())
            }
            Err(e) => Err(e),
        }
    }

    /// Sets a product's stock (administrators).
    pub async fn set_stock(&self, name: &str, stock: i64) -> Result<Product, ServiceError> {
        domain::validate_name(name)?;
        domain::validate_stock(stock)?;
        match self.db.set_stock(name, stock).await {
            Ok((product, previous)) => {
                self.metrics.restock(&product);
                tracing::info!(product = name, previous, stock, "stock set");
                Ok(product)
            }
            Err(WriteError::Domain(DomainError::ProductNotFound)) => {
                Err(self.not_found(name).into())
            }
            Err(e) => Err(e),
        }
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<(), DbError> {
        self.db.ping().await
    }

    fn not_found(&self, name: &str) -> DomainError {
        self.metrics.product_not_found();
        // The searched name is user input: spans and logs only, never a metric label.
        let searched: String = name.chars().take(domain::MAX_NAME_LEN).collect();
        tracing::Span::current().set_attribute("product.searched_name", searched.clone());
        tracing::info!(searched_name = %searched, "product not found");
        DomainError::ProductNotFound
    }
}

/// The stable code of an error.
pub fn error_code(e: &ServiceError) -> &'static str {
    match e {
        WriteError::Domain(d) => d.code(),
        WriteError::Db(_) => "database_error",
    }
}
