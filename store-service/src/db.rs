//! Storage: SQLite (WAL) or PostgreSQL behind one code path (sqlx `Any`).
//!
//! Every statement is portable SQL; a purchase is one transaction whose
//! conditional `UPDATE ... WHERE stock >= quantity` makes overselling impossible
//! whatever the number of concurrent buyers or replicas.

use std::future::Future;
use std::time::{Duration, Instant};

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};
use storeops_contract::spans;
use tracing::Instrument;

use crate::domain::{DomainError, Money, Product, Purchase};
use crate::telemetry::metrics::DbMetrics;

const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS products (
        name TEXT PRIMARY KEY,
        category TEXT NOT NULL,
        price_cents BIGINT NOT NULL CHECK (price_cents >= 0),
        stock BIGINT NOT NULL CHECK (stock >= 0),
        version BIGINT NOT NULL DEFAULT 0)",
    "CREATE TABLE IF NOT EXISTS purchases (
        id TEXT PRIMARY KEY,
        product_name TEXT NOT NULL REFERENCES products(name),
        quantity BIGINT NOT NULL CHECK (quantity > 0),
        amount_cents BIGINT NOT NULL,
        created_at_ms BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS storeops_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
];

/// The operations timed in `app_db_operation_duration_seconds`.
pub const OPERATIONS: &[&str] = &[
    "migrate",
    "seed",
    "list_products",
    "get_product",
    "buy",
    "set_stock",
    "ping",
];

/// The database engine behind a URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbSystem {
    Sqlite,
    Postgres,
}

impl DbSystem {
    /// Recognises `sqlite:` and `postgres:`/`postgresql:` URLs.
    pub fn from_url(url: &str) -> Option<Self> {
        let scheme = url.split_once(':')?.0;
        match scheme {
            "sqlite" => Some(DbSystem::Sqlite),
            "postgres" | "postgresql" => Some(DbSystem::Postgres),
            _ => None,
        }
    }

    /// The OpenTelemetry `db.system.name` value.
    pub fn otel_name(self) -> &'static str {
        match self {
            DbSystem::Sqlite => "sqlite",
            DbSystem::Postgres => "postgresql",
        }
    }
}

/// A storage failure (as opposed to a domain refusal).
#[derive(Debug, thiserror::Error)]
#[error("database {operation} failed: {source}")]
pub struct DbError {
    pub operation: &'static str,
    #[source]
    pub source: sqlx::Error,
}

/// Why a purchase or restock did not happen.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// The store's database.
#[derive(Clone)]
pub struct Database {
    pool: AnyPool,
    system: DbSystem,
    metrics: DbMetrics,
}

impl Database {
    /// Connects, enables WAL for SQLite and creates the schema.
    pub async fn connect(url: &str, metrics: DbMetrics) -> Result<Self, DbError> {
        sqlx::any::install_default_drivers();
        metrics.known_operations(OPERATIONS);
        let system = DbSystem::from_url(url).ok_or_else(|| DbError {
            operation: "connect",
            source: sqlx::Error::Configuration("unsupported database URL scheme".into()),
        })?;
        let url = match system {
            // Create the file on first start.
            DbSystem::Sqlite if !url.contains("mode=") => {
                format!("{url}{}mode=rwc", if url.contains('?') { '&' } else { '?' })
            }
            _ => url.to_string(),
        };
        let pool = AnyPoolOptions::new()
            .max_connections(if system == DbSystem::Sqlite { 4 } else { 10 })
            .acquire_timeout(Duration::from_secs(3))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if system == DbSystem::Sqlite {
                        // FULL: a committed sale survives a power cut, not only a crash.
                        sqlx::raw_sql("PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON")
                            .execute(conn)
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await
            .map_err(|source| DbError {
                operation: "connect",
                source,
            })?;
        let db = Database {
            pool,
            system,
            metrics,
        };
        db.timed("migrate", db.migrate()).await?;
        Ok(db)
    }

    /// The engine, for span attributes.
    pub fn system(&self) -> DbSystem {
        self.system
    }

    async fn migrate(&self) -> Result<(), DbError> {
        if self.system == DbSystem::Sqlite {
            // WAL is persistent in the file: readers never block the writer.
            self.run(
                "migrate",
                "PRAGMA",
                sqlx::raw_sql("PRAGMA journal_mode = WAL").execute(&self.pool),
            )
            .await?;
        }
        for statement in SCHEMA {
            self.run(
                "migrate",
                "CREATE",
                sqlx::raw_sql(*statement).execute(&self.pool),
            )
            .await?;
        }
        Ok(())
    }

    /// Seeds the catalog once in the database's life; later starts keep the stock.
    /// Returns the number of products inserted.
    pub async fn seed_once(&self, products: &[Product]) -> Result<u64, DbError> {
        self.timed("seed", self.seed_tx(products)).await
    }

    async fn seed_tx(&self, products: &[Product]) -> Result<u64, DbError> {
        let op = "seed";
        let mut tx = self.run(op, "BEGIN", self.pool.begin()).await?;
        let claimed = self
            .run(
                op,
                "INSERT storeops_meta",
                sqlx::query("INSERT INTO storeops_meta (key, value) VALUES ('catalog_seeded', $1) ON CONFLICT (key) DO NOTHING")
                    .bind(now_ms().to_string())
                    .execute(&mut *tx),
            )
            .await?
            .rows_affected();
        let mut inserted = 0;
        if claimed == 1 {
            for p in products {
                inserted += self
                    .run(
                        op,
                        "INSERT products",
                        sqlx::query("INSERT INTO products (name, category, price_cents, stock) VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING")
                            .bind(&p.name)
                            .bind(&p.category)
                            .bind(p.price.0)
                            .bind(p.stock)
                            .execute(&mut *tx),
                    )
                    .await?
                    .rows_affected();
            }
        }
        self.run(op, "COMMIT", tx.commit()).await?;
        Ok(inserted)
    }

    /// Every product, optionally of one category, ordered by name.
    pub async fn list_products(&self, category: Option<&str>) -> Result<Vec<Product>, DbError> {
        self.timed("list_products", self.list_q(category)).await
    }

    async fn list_q(&self, category: Option<&str>) -> Result<Vec<Product>, DbError> {
        let rows = match category {
            Some(c) => {
                let q = sqlx::query("SELECT name, category, price_cents, stock, version FROM products WHERE category = $1 ORDER BY name").bind(c);
                self.run("list_products", "SELECT products", q.fetch_all(&self.pool))
                    .await?
            }
            None => {
                let q = sqlx::query(
                    "SELECT name, category, price_cents, stock, version FROM products ORDER BY name",
                );
                self.run("list_products", "SELECT products", q.fetch_all(&self.pool))
                    .await?
            }
        };
        rows.iter().map(product_from_row).collect()
    }

    /// One product by name.
    pub async fn get_product(&self, name: &str) -> Result<Option<Product>, DbError> {
        self.timed("get_product", self.get_q(name)).await
    }

    async fn get_q(&self, name: &str) -> Result<Option<Product>, DbError> {
        let q = sqlx::query(
            "SELECT name, category, price_cents, stock, version FROM products WHERE name = $1",
        )
        .bind(name);
        let row = self
            .run(
                "get_product",
                "SELECT products",
                q.fetch_optional(&self.pool),
            )
            .await?;
        row.as_ref().map(product_from_row).transpose()
    }

    /// Buys `quantity` units in one transaction: all of it or nothing.
    pub async fn buy(&self, name: &str, quantity: i64) -> Result<Purchase, WriteError> {
        self.timed("buy", self.buy_tx(name, quantity)).await
    }

    async fn buy_tx(&self, name: &str, quantity: i64) -> Result<Purchase, WriteError> {
        let op = "buy";
        let mut tx = self.run(op, "BEGIN", self.pool.begin()).await?;
        let updated = self
            .run(
                op,
                "UPDATE products",
                sqlx::query("UPDATE products SET stock = stock - $1, version = version + 1 WHERE name = $2 AND stock >= $3 RETURNING name, category, price_cents, stock, version")
                    .bind(quantity)
                    .bind(name)
                    .bind(quantity)
                    .fetch_optional(&mut *tx),
            )
            .await?;
        let Some(row) = updated else {
            let current = self
                .run(
                    op,
                    "SELECT products",
                    sqlx::query("SELECT stock FROM products WHERE name = $1")
                        .bind(name)
                        .fetch_optional(&mut *tx),
                )
                .await?;
            self.run(op, "ROLLBACK", tx.rollback()).await?;
            return Err(match current {
                None => DomainError::ProductNotFound.into(),
                Some(row) => DomainError::InsufficientStock {
                    available: row.try_get("stock").map_err(|source| DbError {
                        operation: op,
                        source,
                    })?,
                    requested: quantity,
                }
                .into(),
            });
        };
        let product = product_from_row(&row)?;
        let total = product.price.times(quantity)?;
        let id = purchase_id();
        self.run(
            op,
            "INSERT purchases",
            sqlx::query("INSERT INTO purchases (id, product_name, quantity, amount_cents, created_at_ms) VALUES ($1, $2, $3, $4, $5)")
                .bind(&id)
                .bind(name)
                .bind(quantity)
                .bind(total.0)
                .bind(now_ms())
                .execute(&mut *tx),
        )
        .await?;
        self.run(op, "COMMIT", tx.commit()).await?;
        Ok(Purchase {
            id,
            product,
            quantity,
            total,
        })
    }

    /// Sets the stock of a product; returns the product and its previous stock.
    pub async fn set_stock(&self, name: &str, stock: i64) -> Result<(Product, i64), WriteError> {
        self.timed("set_stock", self.set_stock_tx(name, stock))
            .await
    }

    async fn set_stock_tx(&self, name: &str, stock: i64) -> Result<(Product, i64), WriteError> {
        let op = "set_stock";
        let mut tx = self.run(op, "BEGIN", self.pool.begin()).await?;
        // The first statement writes, so the transaction takes the row lock
        // (PostgreSQL) or the write lock (SQLite) before it reads: a read
        // first would leave SQLite a snapshot it cannot upgrade while buyers
        // write ("database is locked", not retried by busy_timeout).
        let previous = self
            .run(
                op,
                "UPDATE products",
                sqlx::query(
                    "UPDATE products SET version = version + 1 WHERE name = $1 RETURNING stock",
                )
                .bind(name)
                .fetch_optional(&mut *tx),
            )
            .await?
            .ok_or(DomainError::ProductNotFound)?
            .try_get::<i64, _>("stock")
            .map_err(|source| DbError {
                operation: op,
                source,
            })?;
        let row = self
            .run(
                op,
                "UPDATE products",
                sqlx::query("UPDATE products SET stock = $1 WHERE name = $2 RETURNING name, category, price_cents, stock, version")
                    .bind(stock)
                    .bind(name)
                    .fetch_one(&mut *tx),
            )
            .await?;
        self.run(op, "COMMIT", tx.commit()).await?;
        Ok((product_from_row(&row)?, previous))
    }

    /// Answers when the database does.
    pub async fn ping(&self) -> Result<(), DbError> {
        let ping = self.run(
            "ping",
            "SELECT",
            sqlx::query("SELECT 1").execute(&self.pool),
        );
        self.timed("ping", ping).await.map(|_| ())
    }

    /// Closes the pool, waiting for connections in use.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Times one whole operation (a transaction, not its statements) and counts
    /// it as failed only when the database failed, not when the domain refused.
    async fn timed<T, E: DbFailure>(
        &self,
        operation: &'static str,
        fut: impl Future<Output = Result<T, E>>,
    ) -> Result<T, E> {
        let started = Instant::now();
        let result = fut.await;
        let failed = result.as_ref().err().is_some_and(DbFailure::is_db_failure);
        self.metrics.observe(operation, started.elapsed(), !failed);
        result
    }

    /// Runs one statement in a client span; failures name `operation`.
    ///
    /// `statement` is the statement's verb, then its table when it has one
    /// (`"UPDATE products"`): the span is named after it and carries them as
    /// `db.operation.name` and `db.collection.name`.
    async fn run<T>(
        &self,
        operation: &'static str,
        statement: &'static str,
        fut: impl Future<Output = Result<T, sqlx::Error>>,
    ) -> Result<T, DbError> {
        // Transaction control is timed with its operation, not traced: spans
        // for BEGIN and COMMIT would cost more than they tell.
        if matches!(statement, "BEGIN" | "COMMIT" | "ROLLBACK") {
            return fut.await.map_err(|source| DbError { operation, source });
        }
        let (verb, collection) = split_statement(statement);
        let span = tracing::info_span!(
            "db",
            otel.name = statement,
            otel.kind = "client",
            { spans::ATTR_DB_SYSTEM_NAME } = self.system.otel_name(),
            { spans::ATTR_DB_OPERATION_NAME } = verb,
            { spans::ATTR_DB_COLLECTION_NAME } = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
        );
        if let Some(collection) = collection {
            span.record(spans::ATTR_DB_COLLECTION_NAME, collection);
        }
        let result = fut.instrument(span.clone()).await;
        result.map_err(|source| {
            span.record("otel.status_code", "ERROR");
            tracing::warn!(parent: &span, operation, error = %source, "database operation failed");
            DbError { operation, source }
        })
    }
}

/// Splits `"UPDATE products"` into the operation and the table, if any.
fn split_statement(statement: &'static str) -> (&'static str, Option<&'static str>) {
    match statement.split_once(' ') {
        Some((verb, table)) => (verb, Some(table)),
        None => (statement, None),
    }
}

/// Whether an error is the database's fault (for `app_db_errors_total`).
trait DbFailure {
    fn is_db_failure(&self) -> bool;
}

impl DbFailure for DbError {
    fn is_db_failure(&self) -> bool {
        true
    }
}

impl DbFailure for WriteError {
    fn is_db_failure(&self) -> bool {
        matches!(self, WriteError::Db(_))
    }
}

fn product_from_row(row: &AnyRow) -> Result<Product, DbError> {
    let read = || -> Result<Product, sqlx::Error> {
        Ok(Product {
            name: row.try_get("name")?,
            category: row.try_get("category")?,
            price: Money(row.try_get("price_cents")?),
            stock: row.try_get("stock")?,
            version: row.try_get("version")?,
        })
    };
    read().map_err(|source| DbError {
        operation: "decode",
        source,
    })
}

fn purchase_id() -> String {
    format!("{:032x}", rand::random::<u128>())
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}
