//! Integration tests of the store-service: the real binary on loopback with
//! real backends (SQLite, PostgreSQL, promtool, Prometheus, OTel Collector).

mod api;
mod concurrency;
mod harness;
mod lifecycle;
mod loadgen;
mod rejections;
mod telemetry;
mod tls;
mod trace_context;
