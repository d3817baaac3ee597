//! The operator's output against real programs, one claim per test: its
//! alerts through promtool and a real Prometheus fed by a real store-service
//! (`promtool`, `backends`), its dashboards against Grafana's schema and
//! query grammars (`grafana_schema`, `queries`), its CRD and `render`
//! (`crd`, `render`), and the operator itself against a real control plane
//! (`cluster`).

mod admission;
mod backends;
mod cluster;
mod crd;
mod grafana_schema;
mod promtool;
mod queries;
mod render;
