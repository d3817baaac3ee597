//! store-service: the instrumented product service of one store.
//!
//! ```text
//! cli ──> config, loadgen (one way: main parses, each part runs)
//! config ──> telemetry (stdout JSON, OTLP traces+logs, Prometheus registry)
//!        └─> db (SQLite WAL | PostgreSQL) <── service (use cases, spans, metrics) <── http (axum)
//! loadgen: weighted scenarios against a running service
//! ```
//! The names it emits come from `storeops-contract`, shared with the operator.
#![forbid(unsafe_code)]

pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod http;
pub mod loadgen;
pub mod serve;
pub mod service;
pub mod telemetry;
